"""Invoice-level table: the cleaned lines summed per invoice, for every reader that needs no product detail.

Journeys, the monthly and cohort trends, the CLV purchase summaries and the retention KPI read only who
bought, on which invoice, when, whether it was a return, and for how much. Summing the lines of each
(customer, invoice, time, return flag) keeps all of that exactly (frequency counts distinct invoices, money is
summed, dates are kept to the second) in about a tenth of the rows (Online Retail: 397k lines, 22k invoices;
the synthetic 10M-line log: about 1.2M invoices). It is what the results cache keeps next to the results:
line-level data is never pickled there.

pandas' grouped sum on integer codes is used: on this machine DuckDB's GROUP BY over the same in-memory
frame was no faster (0.97 s against 0.86 s for 786k lines), and it would add a copy through Arrow. The codes
are the categoricals' own, grouped and sorted as plain integers (the category order is the sort order): a
groupby on the categoricals themselves recodes them first, 3.2 against 1.05 CPU s at 10M lines.
"""

from __future__ import annotations

import pandas as pd

from analytics import schema as S

KEYS = (S.CUSTOMER_ID, S.INVOICE_ID, S.INVOICE_DATE, S.IS_RETURN)
COLUMNS = (*KEYS, S.REVENUE)


def invoice_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per (customer_id, invoice_id, invoice_date, is_return) with revenue summed (currency), sorted by
    date then customer and invoice, so that a prefix of the rows is everything before a date."""
    ids = (S.CUSTOMER_ID, S.INVOICE_ID)
    # (cleaned lines hold the identifiers as categoricals; code -1 = missing)
    frame = pd.DataFrame({c: lines[c].cat.codes.to_numpy() if c in ids else lines[c].to_numpy() for c in COLUMNS},
                         copy=False)
    missing = (frame[S.CUSTOMER_ID] < 0) | (frame[S.INVOICE_ID] < 0)
    if missing.any():  # as a groupby drops a missing key
        frame = frame[~missing.to_numpy()]
    table = frame.groupby(list(KEYS), sort=False)[S.REVENUE].sum().reset_index()
    table = table.sort_values([S.INVOICE_DATE, S.CUSTOMER_ID, S.INVOICE_ID], kind="stable", ignore_index=True)
    for col in ids:
        categories = pd.Index(lines[col].cat.categories, dtype="string")
        table[col] = pd.Series(categories.array.take(table[col].to_numpy()), dtype="string")
    return table

