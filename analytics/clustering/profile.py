"""Profile table: what each cluster is, how big it is and how much revenue it carries."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from analytics.clustering.methods import NOISE
from analytics.errors import DataError

PROFILE_COLUMNS: tuple[str, ...] = (
    "name",
    "customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "mean_recency_days",
    "mean_frequency",
    "mean_monetary",
    "mean_clv",
    "mean_churn_probability",
)


def cluster_profile(features_df: pd.DataFrame, labels: pd.Series, names: Mapping[int, str]) -> pd.DataFrame:
    """One row per cluster (index ``cluster``), largest revenue first, noise last.

    customers: count; customer_share, revenue_share: fractions 0-1 of all customers / all net revenue
    (monetary); revenue: summed monetary (currency); mean_recency_days (days), mean_frequency (invoices),
    mean_monetary (currency); mean_clv (currency) and mean_churn_probability (0-1) when those columns are
    present, NaN otherwise.
    """
    missing = [c for c in ("recency_days", "frequency", "monetary") if c not in features_df.columns]
    if missing:
        raise DataError(f"customer table has no column(s) {', '.join(missing)} for the cluster profile")
    aligned = labels.reindex(features_df.index)
    if aligned.isna().any():
        absent = features_df.index[aligned.isna().to_numpy()][:5]
        raise DataError(
            f"{int(aligned.isna().sum())} customer(s) have no cluster label "
            f"(first: {', '.join(map(str, absent))})"
        )
    frame = pd.DataFrame(
        {
            "cluster": aligned.astype(int).to_numpy(),
            "recency_days": features_df["recency_days"].to_numpy(dtype=float),
            "frequency": features_df["frequency"].to_numpy(dtype=float),
            "monetary": features_df["monetary"].to_numpy(dtype=float),
            "clv": _optional(features_df, "clv"),
            "churn_probability": _optional(features_df, "churn_probability"),
        }
    )
    grouped = frame.groupby("cluster")
    total_revenue = frame["monetary"].sum()
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped["monetary"].sum(),
            "mean_recency_days": grouped["recency_days"].mean(),
            "mean_frequency": grouped["frequency"].mean(),
            "mean_monetary": grouped["monetary"].mean(),
            "mean_clv": grouped["clv"].mean(),
            "mean_churn_probability": grouped["churn_probability"].mean(),
        }
    )
    table["customer_share"] = table["customers"] / len(frame)
    table["revenue_share"] = table["revenue"] / total_revenue if total_revenue != 0 else np.nan
    table["name"] = [names.get(label, f"Cluster {label}") for label in table.index]
    table = table.sort_values("revenue", ascending=False, kind="stable")
    table = pd.concat([table[table.index != NOISE], table[table.index == NOISE]])
    table.index.name = "cluster"
    return table[list(PROFILE_COLUMNS)]


def _optional(features_df: pd.DataFrame, column: str) -> np.ndarray:
    if column not in features_df.columns:
        return np.full(len(features_df), np.nan)
    return pd.to_numeric(features_df[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
