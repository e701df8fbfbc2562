"""Held-out metrics, calibration bins, curve points and the recency baseline."""

import numpy as np
import pandas as pd
import pytest

from analytics.churn.evaluation import (
    MAX_CURVE_POINTS,
    binary_metrics,
    calibration_bins,
    curve_points,
    evaluate,
    recency_baseline,
    recency_rule,
)


def test_calibration_bins_count_every_customer_including_the_edges():
    rng = np.random.default_rng(0)
    p = np.concatenate([[0.0, 1.0, 0.1, 0.9999], rng.random(500)])
    y = (rng.random(len(p)) < p).astype(int)
    bins = calibration_bins(y, p, n_bins=10)
    assert len(bins) == 10
    assert bins["count"].sum() == len(p)
    assert bins.loc[9, "count"] >= 2  # 1.0 and 0.9999 land in the last bin
    # observed rate in a bin is the label mean of its members, worked out independently
    members = (p >= 0.5) & (p < 0.6)
    assert bins.loc[5, "observed_rate"] == pytest.approx(y[members].mean())
    assert bins.loc[5, "mean_predicted"] == pytest.approx(p[members].mean())


def test_metrics_of_perfect_constant_and_single_class_scores():
    y = np.array([0, 0, 1, 1, 1])
    perfect = binary_metrics(y, np.array([0.1, 0.2, 0.8, 0.9, 0.7]))
    assert perfect["roc_auc"] == 1.0 and perfect["pr_auc"] == 1.0
    assert perfect["n"] == 5 and perfect["n_churned"] == 3
    constant = binary_metrics(y, np.full(5, 0.6))
    assert constant["brier"] == pytest.approx(0.6 * 0.4)
    assert constant["brier_skill"] == pytest.approx(0.0)
    assert constant["roc_auc"] == 0.5
    one_class = binary_metrics(np.ones(4, dtype=int), np.array([0.2, 0.4, 0.6, 0.8]))
    assert np.isnan(one_class["roc_auc"]) and np.isnan(one_class["pr_auc"])
    assert one_class["brier"] == pytest.approx(np.mean((1 - np.array([0.2, 0.4, 0.6, 0.8])) ** 2))


def test_evaluate_puts_every_scorer_on_the_same_customers():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    scores = {"good": np.clip(y * 0.5 + rng.random(300) * 0.5, 0, 1), "noise": rng.random(300)}
    metrics, curves = evaluate(pd.Series(y), scores, n_bins=5)
    assert list(metrics.index) == ["good", "noise"]
    assert (metrics["n"] == 300).all()
    assert metrics.loc["good", "roc_auc"] > metrics.loc["noise", "roc_auc"]
    for name in scores:
        assert curves["calibration"].query("model == @name")["count"].sum() == 300
        roc = curves["roc"].query("model == @name")
        assert roc["fpr"].iloc[0] == 0 and roc["tpr"].iloc[-1] == 1
    with pytest.raises(ValueError, match="3 scores for 300"):
        evaluate(y, {"short": np.ones(3)})


def test_curves_are_thinned_for_plotting_and_empty_for_one_class():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 20_000)
    points = curve_points(y, rng.random(20_000))
    assert len(points["pr"]) <= MAX_CURVE_POINTS and len(points["roc"]) <= MAX_CURVE_POINTS
    assert points["pr"]["recall"].iloc[0] == 1.0  # ends kept
    single = curve_points(np.zeros(10, dtype=int), rng.random(10))
    assert single["roc"].empty and single["calibration"]["count"].sum() == 10


def test_recency_baseline_is_monotone_in_days_since_last_purchase():
    rng = np.random.default_rng(3)
    recency = rng.uniform(0, 400, 2000)
    y = (rng.random(2000) < recency / 400).astype(int)
    grid = np.linspace(0, 500, 101)
    p = recency_baseline(recency, y, grid)
    assert (np.diff(p) >= 0).all()
    assert 0 <= p.min() and p.max() <= 1
    assert p[-1] > p[0] + 0.5
    assert recency_rule(np.array([10, 90, 91]), 90).tolist() == [0.0, 0.0, 1.0]


def test_aucs_read_off_the_curves_are_scikit_learns_to_the_bit(predictable_lines):
    from sklearn.metrics import average_precision_score, roc_auc_score

    from analytics.churn import churn_training_frame, heuristic_probability
    from tests.analytics.churn.conftest import AS_OF, WINDOW

    X, y = churn_training_frame(predictable_lines, AS_OF, WINDOW)
    labels = y.to_numpy()
    exact = heuristic_probability(X, WINDOW).to_numpy()
    for p in (exact, np.round(exact, 2)):  # rounded: many tied customers
        metrics = binary_metrics(labels, p)
        assert metrics["roc_auc"] == roc_auc_score(labels, p)
        assert metrics["pr_auc"] == average_precision_score(labels, p)
