"""The explorer's views of a selection: the high-value at-risk list, per-group summaries on one scale, and a
display sample. Selecting customers is :mod:`analytics.audience`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.audience import AT_RISK_CHURN_PROBABILITY, is_at_risk

AT_RISK_CLV_QUANTILE = 0.75


def high_value_at_risk(customers: pd.DataFrame, churn_threshold: float = AT_RISK_CHURN_PROBABILITY,
                       clv_quantile: float = AT_RISK_CLV_QUANTILE) -> tuple[pd.DataFrame, str]:
    """Customers in the top CLV quartile (by default) who are at risk (:func:`analytics.audience.is_at_risk`:
    churn probability at least the threshold).

    Returns the rows, sorted by CLV descending, and the definition in words with the CLV cut-off used.
    """
    cutoff = float(customers["clv"].quantile(clv_quantile))
    chosen = customers.loc[(customers["clv"] >= cutoff) & is_at_risk(customers["churn_probability"], churn_threshold)]
    definition = (
        f"CLV in the top {100 - clv_quantile * 100:.0f} % (CLV ≥ {cutoff:,.0f}) and churn probability at least "
        f"{churn_threshold:.0%}: {len(chosen):,} customers"
    )
    return chosen.sort_values("clv", ascending=False), definition


def group_summary(customers: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Per group: customers, share of customers, revenue share, mean recency (days), frequency (orders),
    monetary (currency), CLV and churn probability where present, and the recommended action for segments."""
    grouped = customers.groupby(by, observed=True, sort=False)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "mean_recency_days": grouped["recency_days"].mean(),
            "mean_frequency": grouped["frequency"].mean(),
            "mean_monetary": grouped["monetary"].mean(),
            "revenue": grouped["monetary"].sum(),
        }
    )
    for column in ("clv", "churn_probability"):
        if column in customers:
            table[f"mean_{column}"] = grouped[column].mean()
    table["customer_share"] = table["customers"] / table["customers"].sum()
    table["revenue_share"] = table["revenue"] / customers["monetary"].sum()
    if by == "segment" and "action" in customers:
        table["action"] = grouped["action"].first()
    return table.sort_values("revenue", ascending=False)


def radar_profile(customers: pd.DataFrame, by: str = "segment") -> pd.DataFrame:
    """Group means on one 0-1 scale: each axis is the percentile of the group's mean among all customers.

    Recency is reversed (1 = most recent), so "further out" is better on every axis.
    """
    axes = {"Recency": "recency_days", "Frequency": "frequency", "Monetary": "monetary"}
    axes.update({label: col for label, col in (("CLV", "clv"), ("Retention", "churn_probability"))
                 if col in customers})
    means = customers.groupby(by, observed=True)[list(axes.values())].mean()
    profile = pd.DataFrame(index=means.index)
    for label, column in axes.items():
        population = np.sort(customers[column].to_numpy(dtype=float))
        position = np.searchsorted(population, means[column].to_numpy(), side="right") / len(population)
        profile[label] = 1 - position if column in ("recency_days", "churn_probability") else position
    return profile


def display_sample(customers: pd.DataFrame, max_points: int, seed: int = 0) -> pd.DataFrame:
    """At most ``max_points`` rows drawn at random (fixed seed, so the picture is stable across updates)."""
    if len(customers) <= max_points:
        return customers
    return customers.sample(n=max_points, random_state=seed)
