"""What a pipeline run produces: plain tables and parameters that pickle into the cache."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Results:
    """One analysis of one dataset with one set of parameters.

    key: cache key (fingerprint of the cleaned data, the parameters and the analytics version).
    customers: one row per modelled customer (features, RFM scores, segment, cluster, CLV, churn columns).
    quality: the cleaning report as a JSON-safe dict.
    monthly: monthly activity (see analytics.trends.monthly_activity).
    cohorts: cohort retention shares (see analytics.trends.cohort_retention).
    models: per model family ("clustering", "clv", "churn"), its parameters, diagnostics and metrics
        (DataFrames and plain values only, never fitted estimator objects).
    meta: source name, as-of date, parameters, versions, timings.
    """

    key: str
    customers: pd.DataFrame
    quality: dict[str, Any]
    monthly: pd.DataFrame
    cohorts: pd.DataFrame
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["as_of"])


def json_safe(value: Any) -> Any:
    """Nested dicts/lists of DataFrames, records (dataclasses), numpy scalars and Timestamps as plain JSON
    types (NaN -> None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return json_safe(value.reset_index().to_dict("records") if value.index.name else value.to_dict("records"))
    if isinstance(value, pd.Series):
        return json_safe(value.to_dict())
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# What each model's summary keeps: parameters, fit diagnostics and metrics, not per-customer or plot tables.
_SUMMARY_KEYS = {
    "clustering": ("method", "k", "k_reason", "selection", "names", "error"),
    "clv": ("unit", "horizon_months", "margin", "monthly_discount_rate", "model", "model_label", "chosen_by",
            "purchase_model", "gamma_gamma", "validation", "validation_error", "tournament", "tournament_error",
            "error"),
    "churn": ("model", "model_label", "choice_reason", "heuristic", "reason", "window_days", "cutoff", "n_labelled", "n_churned",
              "metrics", "odds_ratios", "notes", "error"),
    "journeys": ("period", "inactive_days", "error"),
}
_VALIDATION_KEYS = ("calibration_end", "observation_end", "metrics", "by_frequency")


def model_metrics(models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The part of ``Results.models`` worth writing to a summary file."""
    out = {}
    for name, record in models.items():
        kept = {k: v for k, v in record.items() if k in _SUMMARY_KEYS.get(name, ())}
        if isinstance(kept.get("validation"), dict):
            kept["validation"] = {k: v for k, v in kept["validation"].items() if k in _VALIDATION_KEYS}
        out[name] = kept
    return out
