"""Base-level time series for the executive view: monthly revenue and activity, cohort retention, and the
retention between the two latest churn windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import schema


def _purchases(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.loc[~lines[schema.IS_RETURN]]


def _month_number(dates: pd.Series) -> np.ndarray:
    """Months as consecutive integers (year * 12 + month - 1), so "months since" is a subtraction."""
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()


def _month_start(numbers: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(pd.DataFrame({"year": numbers // 12, "month": numbers % 12 + 1,
                                                         "day": 1})))


def monthly_activity(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar month: net revenue (purchases minus returns, currency), gross purchase revenue,
    returns, active customers (at least one purchase), new customers (first purchase that month), orders."""
    net = pd.Series(lines[schema.REVENUE].to_numpy()).groupby(_month_number(lines[schema.INVOICE_DATE])).sum()
    purchases = _purchases(lines)
    # integer codes: grouping and counting distinct values is far faster on ints than on strings
    frame = pd.DataFrame({
        "month": _month_number(purchases[schema.INVOICE_DATE]),
        "customer": pd.factorize(purchases[schema.CUSTOMER_ID])[0],
        "invoice": pd.factorize(purchases[schema.INVOICE_ID])[0],
        "revenue": purchases[schema.REVENUE].to_numpy(),
    })
    grouped = frame.groupby("month")
    first = frame.groupby("customer")["month"].min()
    table = pd.DataFrame(
        {
            "net_revenue": net,
            "purchase_revenue": grouped["revenue"].sum(),
            "active_customers": grouped["customer"].nunique(),
            "new_customers": first.value_counts(),
            "orders": grouped["invoice"].nunique(),
        }
    ).fillna(0).sort_index()
    table["returns"] = table["purchase_revenue"] - table["net_revenue"]
    table.insert(0, "month", _month_start(table.index.to_numpy()))
    return table.reset_index(drop=True)


def cohort_retention(lines: pd.DataFrame, max_months: int = 24) -> pd.DataFrame:
    """Share of each first-purchase-month cohort purchasing again k months later (k = 0..max_months).

    Rows: cohort month (Timestamp); columns: months since first purchase (int); values: fraction 0-1.
    Column 0 is 1 by definition. Cells the data cannot reach yet are NaN.
    """
    purchases = _purchases(lines)
    month = _month_number(purchases[schema.INVOICE_DATE])
    active = pd.DataFrame({"customer": pd.factorize(purchases[schema.CUSTOMER_ID])[0], "month": month})
    active = active.drop_duplicates()
    active["cohort"] = active.groupby("customer")["month"].transform("min")
    active["since"] = active["month"] - active["cohort"]
    active = active.loc[active["since"] <= max_months]
    counts = active.pivot_table(index="cohort", columns="since", values="customer", aggfunc="count")
    shares = counts.div(counts[0], axis=0)
    reachable = month.max() - shares.index.to_numpy()[:, None]
    since = shares.columns.to_numpy()[None, :]
    # months after the data ends are unknown (NaN); reachable months with no purchase are 0
    shares = shares.fillna(0.0).where(since <= reachable)
    shares.index = _month_start(shares.index.to_numpy())
    shares.index.name = "cohort"
    return shares


@dataclass(frozen=True)
class WindowRetention:
    """Of the customers who purchased in the previous window, the share who purchased again in the latest one.

    window_days: length of each window (the churn window); previous_start, latest_start: first day of each
    window (the latest ends at the as-of date, exclusive); n_previous: customers who purchased in the previous
    window; n_retained: of them, those who purchased in the latest; rate_fraction: n_retained / n_previous,
    None when nobody purchased in the previous window.
    """

    window_days: int
    previous_start: pd.Timestamp
    latest_start: pd.Timestamp
    n_previous: int
    n_retained: int
    rate_fraction: float | None

    def summary(self) -> dict:
        return {"window_days": self.window_days, "previous_start": self.previous_start.date().isoformat(),
                "latest_start": self.latest_start.date().isoformat(), "n_previous": self.n_previous,
                "n_retained": self.n_retained, "rate_fraction": self.rate_fraction}


def window_retention(lines: pd.DataFrame, as_of: pd.Timestamp, window_days: int,
                     customers: pd.Index | None = None) -> WindowRetention:
    """Retention from ``[as_of - 2w, as_of - w)`` to ``[as_of - w, as_of)``, ``w = window_days``: purchases
    only (returns never count); ``customers`` restricts the population (the modelled customers)."""
    latest_start = as_of - pd.Timedelta(days=window_days)
    previous_start = latest_start - pd.Timedelta(days=window_days)
    # boolean masks on the whole log, then set operations on the few window buyers only (fast on 500k lines)
    dates = lines[schema.INVOICE_DATE]
    buys = ~lines[schema.IS_RETURN].to_numpy(dtype=bool)
    ids = lines[schema.CUSTOMER_ID]

    def buyers(start: pd.Timestamp, end: pd.Timestamp) -> pd.Index:
        return pd.Index(ids[buys & ((dates >= start) & (dates < end)).to_numpy()].dropna().unique())

    previous, latest = buyers(previous_start, latest_start), buyers(latest_start, as_of)
    if customers is not None:
        previous = previous.intersection(customers)
    retained = len(previous.intersection(latest))
    return WindowRetention(window_days=window_days, previous_start=previous_start, latest_start=latest_start,
                           n_previous=len(previous), n_retained=retained,
                           rate_fraction=retained / len(previous) if len(previous) else None)
