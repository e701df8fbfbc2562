"""Map a file's column names to the canonical names of ``analytics.schema`` by aliases.

Names are compared after lower-casing and dropping everything that is not a letter or digit, so
``CustomerID``, ``Customer ID``, ``customer_id`` and ``CUSTOMER-ID`` are the same name. Aliases cover UCI
Online Retail (``InvoiceNo``, ``UnitPrice``, ``CustomerID``), Online Retail II (``Invoice``, ``Price``,
``Customer ID``), snake_case and common shop-export variants, and amount-only logs (``amount``,
``dollar_value``, ``sales``, ``revenue``, ``total`` ...) mapped to ``schema.AMOUNT``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from analytics import schema
from analytics.errors import DataError

# Earlier aliases win when several columns match the same canonical name.
ALIASES: dict[str, tuple[str, ...]] = {
    schema.CUSTOMER_ID: (
        "customerid", "customer", "customerno", "customernumber", "customercode", "custid", "clientid",
        "client", "clientno", "userid", "user", "memberid", "accountid", "buyerid", "shopperid",
    ),
    schema.INVOICE_ID: (
        "invoiceno", "invoice", "invoiceid", "invoicenumber", "orderid", "orderno", "ordernumber", "order",
        "transactionid", "transaction", "transactionno", "txnid", "receiptid", "receiptno", "receipt",
        "billno", "basketid",
    ),
    schema.INVOICE_DATE: (
        "invoicedate", "orderdate", "transactiondate", "purchasedate", "saledate", "txndate", "date",
        "datetime", "timestamp", "invoicedatetime", "orderdatetime", "createdat", "time",
    ),
    schema.QUANTITY: (
        "quantity", "qty", "units", "quantityordered", "unitssold", "numberofunits", "quantitysold",
    ),
    schema.UNIT_PRICE: (
        "unitprice", "price", "priceeach", "priceperunit", "itemprice", "unitcost", "saleprice", "rate",
    ),
    schema.AMOUNT: (
        "amount", "dollarvalue", "sales", "revenue", "total", "totalamount", "salesamount", "linetotal",
        "totalprice", "value", "spend", "amountspent", "ordervalue", "netamount", "totalsales",
    ),
    schema.STOCK_CODE: (
        "stockcode", "sku", "productid", "productcode", "itemid", "itemcode", "productno", "article",
    ),
    schema.DESCRIPTION: (
        "description", "productdescription", "itemdescription", "productname", "itemname", "product", "item",
    ),
    schema.COUNTRY: ("country", "countryname", "countrycode", "nation"),
}

MAPPABLE: tuple[str, ...] = tuple(ALIASES)


def normalise_name(name: object) -> str:
    """Lower-case letters and digits only: the key aliases are compared on."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def detect_mapping(columns: Iterable[object]) -> dict[str, str]:
    """``{canonical: source_column}`` for every canonical name (and ``amount``) found among ``columns``.

    Each source column is used at most once; when several columns match one canonical name, the one
    matching the earliest alias wins (``InvoiceDate`` over ``Date``).
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(normalise_name(column), str(column))
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for canonical, aliases in ALIASES.items():
        candidates = [canonical.replace("_", ""), *aliases]
        for alias in candidates:
            source = by_key.get(alias)
            if source is not None and source not in used:
                mapping[canonical] = source
                used.add(source)
                break
    return mapping


def resolve_mapping(
    columns: Iterable[object], override: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """Detected mapping updated by the caller's ``override`` (``None`` as a value drops that column).

    Raises DataError naming any unknown canonical name or a source column that does not exist, with the
    columns that were found.
    """
    names = [str(c) for c in columns]
    override = dict(override or {})
    unknown = [k for k in override if k not in ALIASES]
    if unknown:
        raise DataError(
            f"unknown target column(s) in the mapping: {', '.join(map(repr, unknown))}; "
            f"mappable names are {', '.join(MAPPABLE)}"
        )
    missing = [f"{k}={v!r}" for k, v in override.items() if v is not None and str(v) not in names]
    if missing:
        raise DataError(
            f"the mapping names column(s) not in the file: {', '.join(missing)}; "
            f"columns found: {', '.join(map(repr, names))}"
        )
    chosen = {k: str(v) for k, v in override.items() if v is not None}
    taken = set(chosen.values())
    mapping = {k: v for k, v in detect_mapping(names).items() if k not in override and v not in taken}
    mapping.update(chosen)
    return mapping
