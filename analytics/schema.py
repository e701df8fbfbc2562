"""Canonical column names shared by every layer.

A loaded transaction log is a DataFrame with one row per invoice line:

- ``customer_id`` (string, ``<NA>`` when missing; float-looking IDs such as ``17850.0`` become ``"17850"``)
- ``invoice_id`` (string)
- ``invoice_date`` (``datetime64[ns]``, naive)
- ``quantity`` (float; negative for returns)
- ``unit_price`` (float, currency units)
- optional ``stock_code``, ``description``, ``country``: categoricals over strings (categories in order of
  first appearance), as these repeat on many lines: each distinct value is held once

Amount-only logs (CDNOW-style) are loaded with ``quantity`` = sign of the amount (1 or -1) and
``unit_price`` = absolute amount, so ``quantity * unit_price`` is always the line revenue.
"""

CUSTOMER_ID = "customer_id"
INVOICE_ID = "invoice_id"
INVOICE_DATE = "invoice_date"
QUANTITY = "quantity"
UNIT_PRICE = "unit_price"
STOCK_CODE = "stock_code"
DESCRIPTION = "description"
COUNTRY = "country"
AMOUNT = "amount"

REQUIRED_COLUMNS: tuple[str, ...] = (CUSTOMER_ID, INVOICE_ID, INVOICE_DATE, QUANTITY, UNIT_PRICE)
OPTIONAL_COLUMNS: tuple[str, ...] = (STOCK_CODE, DESCRIPTION, COUNTRY)
CANONICAL_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Added by analytics.cleaning to the cleaned lines.
REVENUE = "revenue"  # quantity * unit_price, negative for returns
IS_RETURN = "is_return"  # bool: cancellation line (invoice prefix C or negative quantity)
