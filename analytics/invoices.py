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

The four keys are folded into one integer before the groupby: a groupby on four keys hashes each of them into
an array of per-line group numbers (8 bytes a line each) and then their combination, where folding holds two
per-line integers at a time. The sums are pandas' grouped sum still (compensated: numpy's would differ in the
last bits), over the lines in the same order, so the table is the same bit for bit. At 10M lines (7.86M cleaned)
the table's peak above the lines fell from 494 to 236 MB (RSS, the step alone), its CPU time from 1.2 to 1.1 s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics import schema as S
from analytics.values import codes_of

KEYS = (S.CUSTOMER_ID, S.INVOICE_ID, S.INVOICE_DATE, S.IS_RETURN)
COLUMNS = (*KEYS, S.REVENUE)


def invoice_table(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per (customer_id, invoice_id, invoice_date, is_return) with revenue summed (currency), sorted by
    date then customer and invoice, so that a prefix of the rows is everything before a date."""
    # (cleaned lines hold the identifiers as categoricals; code -1 = missing)
    customer, invoice = (codes_of(lines[c]) for c in (S.CUSTOMER_ID, S.INVOICE_ID))
    dates = lines[S.INVOICE_DATE].to_numpy()
    is_return, revenue = lines[S.IS_RETURN].to_numpy(dtype=bool), lines[S.REVENUE].to_numpy()
    kept = (customer >= 0) & (invoice >= 0) & ~np.isnat(dates)
    if not kept.all():  # as a groupby drops a missing key
        customer, invoice, dates, is_return, revenue = (a[kept] for a in (customer, invoice, dates, is_return,
                                                                          revenue))
    del kept
    # (invoice, customer, return flag) as one integer, numbered in order of appearance, then with the time
    n_customers = len(lines[S.CUSTOMER_ID].cat.categories)
    key = invoice.astype(np.int64)
    key *= n_customers
    key += customer
    key *= 2
    key += is_return
    pair, pairs = pd.factorize(key)
    del key
    time, times = pd.factorize(dates)
    pair *= len(times)
    pair += time
    del time
    # by order of appearance, as the groupby on the four keys gave them (the sort below keeps that order among
    # an invoice's purchase and return rows at one time)
    summed = pd.Series(revenue, copy=False).groupby(pair, sort=False).sum()
    del pair
    group = summed.index.to_numpy()
    pair_key = pairs[group // len(times)]
    customer_invoice, returned = np.divmod(pair_key, 2)
    invoice_code, customer_code = np.divmod(customer_invoice, n_customers)
    table = pd.DataFrame({S.CUSTOMER_ID: customer_code, S.INVOICE_ID: invoice_code,
                          S.INVOICE_DATE: times[group % len(times)], S.IS_RETURN: returned.astype(bool),
                          S.REVENUE: summed.to_numpy()})
    table = table.sort_values([S.INVOICE_DATE, S.CUSTOMER_ID, S.INVOICE_ID], kind="stable", ignore_index=True)
    for col in (S.CUSTOMER_ID, S.INVOICE_ID):
        categories = pd.Index(lines[col].cat.categories, dtype="string")
        table[col] = pd.Series(categories.array.take(table[col].to_numpy()), dtype="string")
    return table
