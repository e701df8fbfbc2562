"""Selecting customers for the explorer and for campaign lists; per-group summaries on one scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

AT_RISK_CLV_QUANTILE = 0.75


@dataclass(frozen=True)
class CustomerFilter:
    """Explorer filters. None or empty = no restriction. Ranges are inclusive (churn probability 0-1,
    CLV in currency units)."""

    segments: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    churn_range: tuple[float, float] | None = None
    clv_range: tuple[float, float] | None = None

    def apply(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``customers`` passing every filter; a filter on an absent column keeps everyone."""
        keep = np.ones(len(customers), dtype=bool)
        for column, wanted in (("segment", self.segments), ("cluster_name", self.clusters),
                               ("country", self.countries)):
            if wanted and column in customers:
                keep &= customers[column].isin(wanted).to_numpy(dtype=bool, na_value=False)
        for column, bounds in (("churn_probability", self.churn_range), ("clv", self.clv_range)):
            if bounds is not None and column in customers:
                values = customers[column].to_numpy(dtype=float)
                keep &= (values >= bounds[0]) & (values <= bounds[1])
        return customers.loc[keep]


def high_value_at_risk(customers: pd.DataFrame, churn_threshold: float = 0.5,
                       clv_quantile: float = AT_RISK_CLV_QUANTILE) -> tuple[pd.DataFrame, str]:
    """Customers in the top CLV quartile (by default) whose churn probability exceeds the threshold.

    Returns the rows, sorted by CLV descending, and the definition in words with the CLV cut-off used.
    """
    cutoff = float(customers["clv"].quantile(clv_quantile))
    chosen = customers.loc[(customers["clv"] >= cutoff) & (customers["churn_probability"] > churn_threshold)]
    definition = (
        f"CLV in the top {100 - clv_quantile * 100:.0f} % (CLV ≥ {cutoff:,.0f}) and churn probability above "
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
