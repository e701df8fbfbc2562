"""Base-level time series for the executive view: monthly revenue and activity, cohort retention."""

from __future__ import annotations

import pandas as pd

from analytics import schema


def _purchases(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.loc[~lines[schema.IS_RETURN]]


def monthly_activity(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar month: net revenue (purchases minus returns, currency), gross purchase revenue,
    returns, active customers (at least one purchase), new customers (first purchase that month), orders."""
    month = lines[schema.INVOICE_DATE].dt.to_period("M")
    revenue = lines.groupby(month)[schema.REVENUE].sum().rename("net_revenue")
    purchases = _purchases(lines)
    p_month = purchases[schema.INVOICE_DATE].dt.to_period("M")
    grouped = purchases.groupby(p_month)
    first = purchases.groupby(schema.CUSTOMER_ID)[schema.INVOICE_DATE].min().dt.to_period("M")
    table = pd.DataFrame(
        {
            "net_revenue": revenue,
            "purchase_revenue": grouped[schema.REVENUE].sum(),
            "active_customers": grouped[schema.CUSTOMER_ID].nunique(),
            "new_customers": first.value_counts(),
            "orders": grouped[schema.INVOICE_ID].nunique(),
        }
    ).fillna(0)
    table["returns"] = table["purchase_revenue"] - table["net_revenue"]
    table.index = table.index.rename("month")
    return table.reset_index().assign(month=lambda t: t["month"].dt.to_timestamp())


def cohort_retention(lines: pd.DataFrame, max_months: int = 24) -> pd.DataFrame:
    """Share of each first-purchase-month cohort purchasing again k months later (k = 0..max_months).

    Rows: cohort month (Timestamp); columns: months since first purchase (int); values: fraction 0-1.
    Column 0 is 1 by definition. Cells the data cannot reach yet are NaN.
    """
    purchases = _purchases(lines)
    dates = purchases[schema.INVOICE_DATE]
    # months as consecutive integers so "months since" is a subtraction
    month = (dates.dt.year * 12 + dates.dt.month - 1).to_numpy()
    active = pd.DataFrame({"customer": purchases[schema.CUSTOMER_ID].to_numpy(), "month": month})
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
    cohort_month = shares.index.to_numpy()
    shares.index = pd.to_datetime(pd.DataFrame({"year": cohort_month // 12, "month": cohort_month % 12 + 1, "day": 1}))
    shares.index.name = "cohort"
    return shares
