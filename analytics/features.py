"""One row per customer: RFM and behaviour features from cleaned invoice lines.

Input is ``CleanResult.lines`` (canonical columns + ``revenue`` + ``is_return``). Only lines strictly before
``as_of`` are used, so a call with an earlier cutoff never sees later data. A customer appears when they
have at least one purchase line before ``as_of``; at an earlier cutoff their net value may be <= 0.
Money is in the log's currency, durations in days (floats, from exact timestamps).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics import schema as S
from analytics.categories import DEFAULT_CATEGORIES, OTHER, categorise, category_column, validate_categories
from analytics.errors import DataError

DAY = pd.Timedelta(days=1)

FEATURE_DESCRIPTIONS: dict[str, str] = {
    "recency_days": "days from the last purchase to the as-of date",
    "frequency": "distinct purchase invoices (returns never count)",
    "monetary": "net revenue: purchases minus returns (currency)",
    "first_purchase": "time of the first purchase",
    "last_purchase": "time of the last purchase",
    "tenure_days": "days from the first purchase to the as-of date",
    "avg_order_value": "purchase revenue per purchase invoice (currency)",
    "unique_products": "distinct products bought (stock codes, else descriptions)",
    "mean_days_between": "mean days between distinct purchase days (empty for a single day)",
    "peak_share": "share of purchase revenue in the peak months",
    "country": "most frequent country on the customer's purchase lines",
}


def customer_features(
    lines: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    categories: pd.DataFrame | None = None,
    peak_months: Iterable[int] = (10, 11, 12),
) -> pd.DataFrame:
    """Features per customer, indexed by ``customer_id`` (string), sorted by it.

    Columns (see :data:`FEATURE_DESCRIPTIONS`): recency_days, frequency, monetary, first_purchase,
    last_purchase, tenure_days, avg_order_value, unique_products (NaN when the log has neither stock codes
    nor descriptions), mean_days_between, peak_share, country (when present) and ``cat_<category>`` spend
    shares of purchase revenue (when descriptions are present; ``categories`` defaults to
    :data:`~analytics.categories.DEFAULT_CATEGORIES`, an empty table turns them off).
    Raises :class:`DataError` when there is no purchase before ``as_of``.
    """
    as_of = pd.Timestamp(as_of)
    months = sorted({int(m) for m in peak_months})
    if any(m < 1 or m > 12 for m in months):
        raise DataError(f"peak months must be between 1 and 12, got {months}")
    lines = lines[(lines[S.INVOICE_DATE] < as_of).to_numpy(dtype=bool, na_value=False)]
    is_return = lines[S.IS_RETURN].to_numpy(dtype=bool)
    buys = lines[~is_return]
    if buys.empty:
        raise DataError(f"no purchases before the as-of date {as_of:%Y-%m-%d}, so there are no customers to describe")

    by = buys.groupby(S.CUSTOMER_ID, sort=True)
    dates = buys[S.INVOICE_DATE]
    revenue = buys[S.REVENUE]
    first = by[S.INVOICE_DATE].min()
    last = by[S.INVOICE_DATE].max()
    gross = by[S.REVENUE].sum()
    frequency = by[S.INVOICE_ID].nunique()
    returned = lines.loc[is_return, S.REVENUE].groupby(lines.loc[is_return, S.CUSTOMER_ID]).sum()

    days = buys[[S.CUSTOMER_ID]].assign(day=dates.dt.normalize()).drop_duplicates()
    n_days = days.groupby(S.CUSTOMER_ID, sort=True).size()
    span = (last.dt.normalize() - first.dt.normalize()) / DAY
    peak = revenue.where(dates.dt.month.isin(months), 0.0).groupby(buys[S.CUSTOMER_ID], sort=True).sum()

    out = pd.DataFrame(
        {
            "recency_days": (as_of - last) / DAY,
            "frequency": frequency.astype("int64"),
            "monetary": gross.add(returned, fill_value=0.0).reindex(gross.index),
            "first_purchase": first,
            "last_purchase": last,
            "tenure_days": (as_of - first) / DAY,
            "avg_order_value": gross / frequency,
            "unique_products": _unique_products(buys, by),
            "mean_days_between": (span / (n_days - 1)).where(n_days > 1),
            "peak_share": peak / gross,
        }
    )
    if S.COUNTRY in buys.columns:
        out[S.COUNTRY] = _mode(buys, S.COUNTRY).reindex(out.index)
    if S.DESCRIPTION in buys.columns:
        table = DEFAULT_CATEGORIES if categories is None else validate_categories(categories)
        if len(table):
            out = out.join(_category_shares(buys, table, gross))
    out.index = out.index.astype("string")
    out.index.name = S.CUSTOMER_ID
    return out


def _unique_products(buys: pd.DataFrame, by) -> pd.Series:
    for col in (S.STOCK_CODE, S.DESCRIPTION):
        if col in buys.columns:
            return by[col].nunique().astype("int64")
    return pd.Series(np.nan, index=by.size().index)


def _mode(buys: pd.DataFrame, col: str) -> pd.Series:
    """Most frequent value per customer; ties go to the alphabetically first value."""
    counts = buys.groupby([S.CUSTOMER_ID, col], sort=False, observed=True).size().rename("n").reset_index()
    counts = counts.sort_values(["n", col], ascending=[False, True], kind="stable")
    return counts.drop_duplicates(S.CUSTOMER_ID).set_index(S.CUSTOMER_ID)[col].astype("string")


def _category_shares(buys: pd.DataFrame, table: pd.DataFrame, gross: pd.Series) -> pd.DataFrame:
    """Share of each customer's purchase revenue per category; columns in table order, ``cat_other`` last."""
    names = list(table["category"]) + [OTHER]
    category = pd.Categorical(categorise(buys[S.DESCRIPTION], table), categories=names)
    spend = buys[S.REVENUE].groupby([buys[S.CUSTOMER_ID], category], sort=True, observed=False).sum().unstack()
    shares = spend.reindex(columns=names, fill_value=0.0).div(gross, axis=0).reindex(gross.index)
    shares.columns = [category_column(c) for c in names]
    return shares.astype("float64")
