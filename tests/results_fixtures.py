"""Results for UI tests: the real pipeline on the CDNOW sample, plus hand-made model columns and entries.

The model modules are integrated into the pipeline separately; these entries follow the Results contract
(analytics/results.py, CONTRACTS.md) so the tower and evidence views can be tested with and without them.
"""

from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
import pandas as pd

from analytics import cleaning, pipeline
from analytics.datasets import load_dataset
from analytics.results import Results


@lru_cache(maxsize=1)
def _base() -> tuple[Results, pd.DataFrame]:
    transactions = load_dataset("cdnow_sample")
    return pipeline.run(transactions), cleaning.clean(transactions).lines


MODEL_COLUMNS = ("cluster", "cluster_name", "expected_purchases", "p_alive", "p_no_purchase", "expected_spend",
                 "clv", "churn_probability", "churn_drivers")


def pipeline_cdnow() -> tuple[Results, pd.DataFrame]:
    """(Results as the pipeline makes them today, cleaned lines) for the CDNOW 1/10 sample; a fresh copy."""
    results, lines = _base()
    return copy.deepcopy(results), lines


def cdnow_results() -> tuple[Results, pd.DataFrame]:
    """(Results with every model output removed, cleaned lines) for the CDNOW 1/10 sample; a fresh copy."""
    results, lines = pipeline_cdnow()
    customers = results.customers
    results.customers = customers.drop(columns=[c for c in MODEL_COLUMNS if c in customers.columns])
    results.models = {}
    return results, lines


def with_models(results: Results) -> Results:
    """Add hand-made CLV and churn columns and contract-shaped model entries (values are made up)."""
    customers = results.customers.copy()
    recency = customers["recency_days"].to_numpy()
    customers["churn_probability"] = np.clip(recency / 600, 0.01, 0.99)
    customers["p_alive"] = 1 - customers["churn_probability"]
    customers["clv"] = customers["monetary"] * 0.3 * customers["p_alive"]
    customers["churn_drivers"] = "long since last purchase; few orders; low spend"
    rng = np.random.default_rng(0)
    weeks = np.arange(1, 79)
    actual = np.cumsum(rng.poisson(30, len(weeks))).astype(float)
    actual_holdout = rng.poisson(1.0, 500).astype(float)
    fpr = np.linspace(0, 1, 21)
    results.customers = customers
    results.models = {
        "clv": {
            "unit": "W", "horizon_months": 12, "margin": 0.3,
            "purchase_model": {"params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                      "log_likelihood": -9582.4, "converged": True, "penalizer": 0.0},
            "gamma_gamma": {"params": {"p": 6.25, "q": 3.74, "v": 15.44}, "n_repeat": 946,
                            "frequency_spend_corr": 0.11},
            "validation": {
                "metrics": pd.DataFrame({"model": ["BG/NBD", "baseline"], "mae": [0.6, 0.9],
                                         "rmse": [1.1, 1.6],
                                         "correlation": [0.62, 0.48], "aggregate_pct_error": [-2.0, 35.0]}),
                "tracking": pd.DataFrame({"week": weeks, "actual_cumulative": actual,
                                          "predicted_cumulative": actual * 1.03}),
                "per_customer": pd.DataFrame({"actual": actual_holdout,
                                              "predicted": actual_holdout * 0.8 + 0.2,
                                              "baseline": actual_holdout * 0.5 + 0.6}),
                "calibration_end": 39, "observation_end": 78,
            },
        },
        "churn": {
            "heuristic": False, "reason": "", "window_days": 90,
            "metrics": pd.DataFrame({"model": ["logistic regression", "recency rule", "1 - P(alive)"],
                                     "roc_auc": [0.81, 0.74, 0.70], "pr_auc": [0.9, 0.85, 0.8],
                                     "brier": [0.12, 0.15, 0.2], "n": [600, 600, 600]}),
            "curves": {
                "roc": pd.concat([pd.DataFrame({"model": m, "fpr": fpr, "tpr": fpr ** e})
                                  for m, e in (("logistic regression", 0.4), ("recency rule", 0.55),
                                               ("1 - P(alive)", 0.7))], ignore_index=True),
                "calibration": pd.concat([pd.DataFrame({"model": m, "predicted": np.linspace(0.05, 0.95, 10),
                                                        "observed": np.linspace(0.05, 0.95, 10) ** s,
                                                        "count": np.arange(10, 110, 10)})
                                          for m, s in (("logistic regression", 1.0), ("recency rule", 1.3))],
                                         ignore_index=True),
            },
            "odds_ratios": pd.DataFrame({"feature": ["recency_days", "frequency"], "odds_ratio": [2.1, 0.6]}),
        },
        "clustering": {
            "method": "kmeans", "k": 4, "k_reason": "highest silhouette over k = 2..8",
            "selection": pd.DataFrame({"k": range(2, 9), "inertia": np.linspace(9000, 3000, 7),
                                       "silhouette": [0.31, 0.35, 0.41, 0.38, 0.33, 0.30, 0.29],
                                       "davies_bouldin": np.linspace(1.2, 0.9, 7),
                                       "calinski_harabasz": np.linspace(1500, 1100, 7), "bic": np.nan}),
            "profile": pd.DataFrame({"cluster": range(4), "size": [500, 700, 600, 549]}),
        },
    }
    return results
