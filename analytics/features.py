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
from analytics.categories import DEFAULT_CATEGORIES, category_codes, category_column, validate_categories
from analytics.errors import DataError

DAY = pd.Timedelta(days=1)

LINE_COLUMNS = (S.CUSTOMER_ID, S.INVOICE_ID, S.INVOICE_DATE, S.REVENUE, S.IS_RETURN, S.STOCK_CODE, S.DESCRIPTION,
                S.COUNTRY)
"""The line columns :func:`customer_features` reads."""

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
    dates = lines[S.INVOICE_DATE].to_numpy(dtype="datetime64[ns]")
    before = dates < as_of.to_datetime64()  # NaT compares False
    is_return = lines[S.IS_RETURN].to_numpy(dtype=bool)
    buy = before & ~is_return
    if not buy.any():
        raise DataError(
            f"no purchases before the as-of date {as_of:%Y-%m-%d}, so there are no customers to describe"
        )

    # Everything below works on integer customer numbers 0..n-1 (sorted IDs), so IDs are hashed once. Per-line
    # arrays are made one step at a time and dropped after it, so that only ``buy`` and ``cust`` are held
    # throughout (the module notes say what that saves).
    back = before & is_return
    del before
    cust, ids, rcust = _customer_numbers(lines[S.CUSTOMER_ID], buy, back)
    if (cust < 0).any():
        raise DataError("lines without a customer_id: pass the cleaned lines (CleanResult.lines)")
    n = len(ids)
    revenue = lines[S.REVENUE].to_numpy(dtype="float64")
    known = rcust >= 0  # returns by customers with no purchase before as_of are not described
    returned = np.bincount(rcust[known], weights=revenue[back][known], minlength=n)
    del back, rcust, known

    # (ufunc.at on the integer times: a quarter of the time of a groupby min/max)
    stamp = dates[buy].view(np.int64)
    first, last = np.full(n, np.iinfo(np.int64).max), np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, cust, stamp)
    np.maximum.at(last, cust, stamp)
    first, last = first.view("datetime64[ns]"), last.view("datetime64[ns]")
    in_peak = pd.DatetimeIndex(stamp.view("datetime64[ns]")).month.isin(months)
    # the day of each purchase, in place of its time (floored, as a cast to datetime64[D] floors)
    day = np.floor_divide(stamp, DAY.value, out=stamp)
    day -= day.min()
    n_days = _distinct_per_customer(cust, day, n)
    del stamp, day
    first_day = first.astype("datetime64[D]").astype(np.int64)
    last_day = last.astype("datetime64[D]").astype(np.int64)

    spend = revenue[buy]
    gross = np.bincount(cust, weights=spend, minlength=n)
    peak = np.bincount(cust, weights=np.where(in_peak, spend, 0.0), minlength=n)
    del in_peak
    by_category = _category_spend(lines, buy, cust, spend, n, categories)
    del spend

    frequency = _distinct_per_customer(cust, _factorize(lines[S.INVOICE_ID], buy)[0], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "recency_days": (as_of.to_datetime64() - last) / DAY,
                "frequency": frequency,
                "monetary": gross + returned,
                "first_purchase": first,
                "last_purchase": last,
                "tenure_days": (as_of.to_datetime64() - first) / DAY,
                "avg_order_value": gross / frequency,
                "unique_products": _unique_products(lines, buy, cust, n),
                "mean_days_between": np.where(n_days > 1, (last_day - first_day) / (n_days - 1), np.nan),
                "peak_share": peak / gross,
            },
            index=pd.Index(ids, dtype="string", name=S.CUSTOMER_ID),
        )
    if S.COUNTRY in lines.columns:
        out[S.COUNTRY] = _mode(cust, *_factorize(lines[S.COUNTRY], buy, sort=True), n)
    if by_category is not None:
        names, by_cat = by_category
        for j, name in enumerate(names):
            out[category_column(name)] = by_cat[:, j] / gross
    return out


def _category_spend(lines: pd.DataFrame, buy: np.ndarray, cust: np.ndarray, spend: np.ndarray, n: int,
                    categories: pd.DataFrame | None) -> tuple[list[str], np.ndarray] | None:
    """The category names and each customer's purchase spend per category (customers x categories), None
    without descriptions or categories."""
    if S.DESCRIPTION not in lines.columns:
        return None
    table = DEFAULT_CATEGORIES if categories is None else validate_categories(categories)
    if not len(table):
        return None
    descriptions = lines[S.DESCRIPTION]
    if isinstance(descriptions.dtype, pd.CategoricalDtype):
        # the categories matched once, then looked up for the purchase lines only: matching the lines'
        # categorical gave every line an int64 category number first (8 bytes a line)
        per_category, names = category_codes(pd.Series(descriptions.cat.categories), table)
        lookup = np.append(per_category, len(names) - 1)  # code -1 (no description): the last, OTHER
        category = lookup.astype(np.min_scalar_type(len(names)))[descriptions.cat.codes.to_numpy()[buy]]
    else:
        category, names = category_codes(descriptions, table)
        category = category[buy]
    k = len(names)
    keys = cust * k
    keys += category
    return names, np.bincount(keys, weights=spend, minlength=n * k).reshape(n, k)


def _pair_keys(cust: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, int]:
    """Each (customer number, non-negative value) as one integer, customer-major, and the values' width."""
    ok = values >= 0
    width = int(values.max(initial=0)) + 1
    every = ok.all()
    keys = cust.astype(np.int64) if every else cust[ok].astype(np.int64, copy=False)
    keys *= width
    keys += values if every else values[ok]
    return keys, width


def _fresh(keys: np.ndarray) -> np.ndarray:
    """Where a key differs from the one before it (always at the first)."""
    fresh = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
    return fresh


def _distinct_per_customer(cust: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Number of distinct non-negative ``values`` per customer number (int64 array of length n)."""
    keys, width = _pair_keys(cust, values)
    # distinct pairs are where a sorted pair differs from the one before: numpy's vectorised sort beat
    # pandas' hash table eightfold on the 10M-line log's 6.6M distinct (customer, product) pairs. A line
    # repeating the pair of the line before (the same invoice or day) is dropped first: a smaller sort.
    keys = keys[_fresh(keys)]
    keys.sort()  # in place: a sorted copy would hold the keys twice
    keys = keys[_fresh(keys)]
    return np.diff(np.searchsorted(keys, np.arange(n + 1, dtype=np.int64) * width)).astype(np.int64)


def _unique_products(lines: pd.DataFrame, buy: np.ndarray, cust: np.ndarray, n: int) -> np.ndarray:
    for col in (S.STOCK_CODE, S.DESCRIPTION):
        if col in lines.columns:
            return _distinct_per_customer(cust, _factorize(lines[col], buy)[0], n)
    return np.full(n, np.nan)


def _factorize(values: pd.Series, mask: np.ndarray, *, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values[mask], sort=sort)``: a number per value (-1: missing) and the distinct values.
    The cleaned lines' text columns are categoricals, whose own codes are used (nothing is hashed again;
    sorted, they keep the categories' order, as pandas sorts a categorical)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return pd.factorize(values[mask], sort=sort)
    codes, categories = values.cat.codes.to_numpy()[mask], values.cat.categories
    if not sort:
        return codes, categories
    number = _used_numbers(codes, len(categories)).astype(codes.dtype)  # (numbers fit the codes' dtype)
    return number[codes], categories[number[:-1] >= 0]


def _customer_numbers(ids: pd.Series, buy: np.ndarray, back: np.ndarray
                      ) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """:func:`_factorize` (sorted) of the purchase lines' customer IDs, and the number of each return line's
    customer among them (-1: a customer with no purchase)."""
    if not isinstance(ids.dtype, pd.CategoricalDtype):
        cust, distinct = pd.factorize(ids[buy], sort=True)
        return cust, distinct, distinct.get_indexer(ids[back])
    codes, categories = ids.cat.codes.to_numpy(), ids.cat.categories
    bought = codes[buy]
    number = _used_numbers(bought, len(categories))
    return number[bought], categories[number[:-1] >= 0], number[codes[back]]


def _used_numbers(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Number (0, 1, ... in category order) of each category code found in ``codes``, -1 for the others; the
    last entry, for code -1 (missing), is -1."""
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=n_categories))
    number = np.full(n_categories + 1, -1)
    number[used] = np.arange(len(used))
    return number


def _mode(cust: np.ndarray, codes: np.ndarray, uniques: pd.Index, n: int) -> pd.api.extensions.ExtensionArray:
    """Most frequent value per customer number (``codes``, ``uniques`` from :func:`_factorize` sorted); ties go
    to the first in ``uniques``; <NA> when none."""
    keys, width = _pair_keys(cust, codes)
    if n * width <= len(keys):  # a customers x values table no larger than the lines (a few countries)
        counts = np.bincount(keys, minlength=n * width).reshape(n, width)
        out = np.where(counts.any(axis=1), counts.argmax(axis=1), -1)  # argmax: the first of the ties
    else:
        keys = np.sort(keys)
        starts = np.flatnonzero(_fresh(keys))
        who, what, times = keys[starts] // width, keys[starts] % width, np.diff(np.append(starts, len(keys)))
        order = np.lexsort((what, -times, who))
        who, what = who[order], what[order]
        head = np.ones(len(who), dtype=bool)
        head[1:] = who[1:] != who[:-1]
        out = np.full(n, -1, dtype=np.int64)
        out[who[head]] = what[head]
    return pd.array(np.asarray(uniques, dtype=object), dtype="string").take(out, allow_fill=True)
