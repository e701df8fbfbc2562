"""Churn: a label that cannot leak, a validated model for the coming window, and its explanations.

Typical use::

    model = ChurnModel(window_days=90).fit(cleaned.lines, cleaned.as_of)
    model.metrics_      # held-out ROC AUC, PR AUC, Brier vs the baselines, same customers
    model.scores_       # churn_probability and churn_drivers per current customer
    model.heuristic_    # True (with model.reason_) when there was too little data to fit
"""

from analytics.churn.evaluation import binary_metrics, calibration_bins, evaluate, recency_baseline
from analytics.churn.explain import odds_ratio_table, top_drivers
from analytics.churn.labels import (
    bgnbd_baseline,
    churn_labels,
    churn_training_frame,
    label_cutoff,
)
from analytics.churn.models import MODELS, ChurnModel, heuristic_probability

__all__ = [
    "MODELS",
    "ChurnModel",
    "bgnbd_baseline",
    "binary_metrics",
    "calibration_bins",
    "churn_labels",
    "churn_training_frame",
    "evaluate",
    "heuristic_probability",
    "label_cutoff",
    "odds_ratio_table",
    "recency_baseline",
    "top_drivers",
]
