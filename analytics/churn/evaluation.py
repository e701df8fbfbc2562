"""Held-out evaluation of churn probabilities: metrics, curve points for plots, and the recency baseline.

Every scorer is evaluated on the same customers with the same labels (1 = churned). Metrics that need both
classes (ROC AUC, PR AUC) are NaN when the customers hold only one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import (
    auc,
    brier_score_loss,
    precision_recall_curve,
    roc_curve,
)

METRIC_COLUMNS = (
    "n", "n_churned", "churn_rate", "mean_predicted", "roc_auc", "pr_auc", "brier", "brier_skill",
)
MAX_CURVE_POINTS = 400


def binary_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """n, churned count and rate, mean prediction, ROC AUC, PR AUC (average precision), Brier score, and
    Brier skill = 1 - Brier / Brier of always predicting the observed rate (> 0 beats that constant)."""
    return _scored(y, p)[0]


def calibration_bins(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table on equal-width probability bins: bin edges, count, mean predicted, observed rate.

    Empty bins are kept with count 0 (and NaN means), so the counts always add up to ``len(y)``.
    """
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, weights=p, minlength=n_bins) / count
        observed = np.bincount(which, weights=y, minlength=n_bins) / count
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "count": count.astype(int),
            "mean_predicted": mean_p,
            "observed_rate": observed,
        }
    )


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    """At most MAX_CURVE_POINTS rows, evenly spaced, first and last kept (enough for a plot)."""
    if len(frame) <= MAX_CURVE_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, MAX_CURVE_POINTS).round().astype(int))
    return frame.iloc[keep]


def curve_points(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> dict[str, pd.DataFrame]:
    """ROC (fpr, tpr, threshold), PR (recall, precision, threshold) and calibration points for one scorer."""
    return _scored(y, p, n_bins)[1]


def _scored(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> tuple[dict[str, float], dict[str, pd.DataFrame]]:
    """binary_metrics and curve_points of one scorer, the AUCs read off the curves as ``roc_auc_score`` and
    ``average_precision_score`` read them off the same curves (the same values, without sorting the scores
    twice more and checking the inputs twice more: those calls were half of the held-out evaluation's time)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    n = len(y)
    rate = float(y.mean()) if n else np.nan
    both = n > 0 and 0 < y.sum() < n
    brier = float(brier_score_loss(y, p)) if n else np.nan
    reference = rate * (1 - rate) if n else np.nan
    curves = {"calibration": calibration_bins(y, p, n_bins)}
    roc_auc = pr_auc = np.nan
    if both:
        fpr, tpr, roc_thr = roc_curve(y, p)
        precision, recall, pr_thr = precision_recall_curve(y, p)
        roc_auc = float(auc(fpr, tpr))
        # the step integral of average precision (the last precision is 1; a -0.0 of rounding is clipped)
        pr_auc = float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
        curves["roc"] = _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(roc_thr, 1.0)}))
        curves["pr"] = _thin(pd.DataFrame({"recall": recall, "precision": precision,
                                           "threshold": np.append(pr_thr, np.nan)}))
    else:
        curves["roc"] = pd.DataFrame(columns=["fpr", "tpr", "threshold"], dtype=float)
        curves["pr"] = pd.DataFrame(columns=["recall", "precision", "threshold"], dtype=float)
    metrics = {
        "n": n,
        "n_churned": int(y.sum()),
        "churn_rate": rate,
        "mean_predicted": float(p.mean()) if n else np.nan,
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "brier": brier,
        "brier_skill": 1 - brier / reference if both else np.nan,
    }
    return metrics, {kind: curves[kind] for kind in ("roc", "pr", "calibration")}


def evaluate(
    y: pd.Series | np.ndarray, scores: Mapping[str, np.ndarray], n_bins: int = 10
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Metrics (one row per scorer, index ``model``) and long-format curves (a ``model`` column each).

    ``scores`` maps a scorer's name to churn probabilities aligned with ``y``.
    """
    y = np.asarray(y, dtype=int)
    rows, curves = [], {"roc": [], "pr": [], "calibration": []}
    for name, p in scores.items():
        p = np.asarray(p, dtype=float)
        if len(p) != len(y):
            raise ValueError(f"scorer {name!r} gave {len(p)} scores for {len(y)} customers")
        metrics, points = _scored(y, p, n_bins)
        rows.append({"model": name, **metrics})
        for kind, frame in points.items():
            curves[kind].append(frame.assign(model=name))
    metrics = pd.DataFrame(rows, columns=["model", *METRIC_COLUMNS]).set_index("model")
    joined = {
        kind: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model"])
        for kind, parts in curves.items()
    }
    return metrics, joined


def recency_baseline(train_recency: np.ndarray, train_y: np.ndarray, recency: np.ndarray) -> np.ndarray:
    """The recency rule "the longer since the last purchase, the likelier churn", with probabilities.

    A monotone (isotonic) map from days since the last purchase to the churn rate observed on the
    training customers, so its Brier score is as honest as a fitted model's.
    """
    iso = IsotonicRegression(increasing=True, out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(np.asarray(train_recency, dtype=float), np.asarray(train_y, dtype=float))
    return iso.predict(np.asarray(recency, dtype=float))


def recency_rule(recency: np.ndarray, window_days: int) -> np.ndarray:
    """The bare rule with no data to learn from: churned (1) when no purchase for more than the window."""
    return (np.asarray(recency, dtype=float) > window_days).astype(float)
