"""Model evidence figures: right traces and values for both the contract's and the modules' column names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.figures import evidence
from components.theme import TEAL


def is_empty(fig) -> bool:
    return not fig.data and len(fig.layout.annotations) == 1


def test_tracking_actual_vs_expected_with_the_calibration_line():
    tracking = pd.DataFrame({"week": [1, 2, 3, 4], "actual_cumulative": [1.0, 3.0, 6.0, 8.0],
                             "predicted_cumulative": [1.5, 3.0, 5.0, 8.5]})
    fig = evidence.tracking_figure(tracking, calibration_end=2)
    actual, expected = fig.data
    assert list(actual.y) == [1.0, 3.0, 6.0, 8.0] and list(expected.y) == [1.5, 3.0, 5.0, 8.5]
    assert expected.line.dash == "dash"
    assert [s.x0 for s in fig.layout.shapes] == [2]


def test_tracking_takes_the_calibration_end_from_the_period_column():
    weeks = pd.date_range("2020-01-08", periods=4, freq="7D")
    tracking = pd.DataFrame({"week_end": weeks, "period": ["calibration"] * 2 + ["holdout"] * 2,
                             "actual_cumulative": [1.0, 2.0, 3.0, 4.0],
                             "predicted_cumulative": [1.0, 2.0, 3.0, 4.0]})
    fig = evidence.tracking_figure(tracking)
    assert pd.Timestamp(fig.layout.shapes[0].x0) == weeks[1]


def test_holdout_means_by_calibration_frequency_with_pooling():
    per_customer = pd.DataFrame({
        "frequency": [0, 0, 1, 8, 9],
        "actual": [0.0, 1.0, 2.0, 5.0, 7.0],
        "predicted": [0.2, 0.4, 1.5, 6.0, 6.0],
        "baseline": [0.0, 0.0, 1.0, 4.0, 4.0],
    })
    fig = evidence.holdout_figure(per_customer, cap=7)
    traces = {t.name: t for t in fig.data}
    assert list(traces["Actual"].x) == ["0", "1", "7+"]
    assert list(traces["Actual"].y) == pytest.approx([0.5, 2.0, 6.0])
    assert list(traces["BG/NBD"].y) == pytest.approx([0.3, 1.5, 6.0])
    assert list(traces["Naive baseline"].y) == pytest.approx([0.0, 1.0, 4.0])
    assert [c[0] for c in traces["Actual"].customdata] == [2, 1, 2]
    assert "calibration" in fig.layout.xaxis.title.text


def test_holdout_without_frequency_bins_by_actual_purchases():
    per_customer = pd.DataFrame({"actual": [0, 0, 2], "predicted": [0.1, 0.3, 1.6]})
    fig = evidence.holdout_figure(per_customer)
    model = next(t for t in fig.data if t.name == "BG/NBD")
    assert list(model.x) == ["0", "2"] and list(model.y) == pytest.approx([0.2, 1.6])
    assert "holdout" in fig.layout.xaxis.title.text


def roc_table():
    fpr = np.linspace(0, 1, 5)
    return pd.concat([pd.DataFrame({"model": m, "fpr": fpr, "tpr": fpr ** e})
                      for m, e in (("logistic", 0.5), ("recency rule", 0.8))], ignore_index=True)


@pytest.mark.parametrize("indexed", [False, True])
def test_roc_legend_carries_auc_and_baselines_are_dashed(indexed):
    metrics = pd.DataFrame({"model": ["logistic", "recency rule"], "roc_auc": [0.812, 0.701]})
    if indexed:
        metrics = metrics.set_index("model")
    fig = evidence.roc_figure(roc_table(), metrics, baselines={"recency rule"})
    chance, model, baseline = fig.data
    assert list(chance.x) == [0, 1] and list(chance.y) == [0, 1]
    assert model.name == "logistic · AUC 0.812" and model.line.color == TEAL and model.line.dash is None
    assert baseline.name == "recency rule · AUC 0.701" and baseline.line.dash == "dash"
    assert list(model.y) == pytest.approx(np.linspace(0, 1, 5) ** 0.5)


def test_roc_without_metrics_or_baselines_treats_later_curves_as_baselines():
    fig = evidence.roc_figure(roc_table())
    assert [t.name for t in fig.data[1:]] == ["logistic", "recency rule"]
    assert fig.data[2].line.dash == "dash"


@pytest.mark.parametrize("names", [("predicted", "observed", "count"),
                                   ("mean_predicted", "observed_rate", "count")])
def test_calibration_points_and_diagonal(names):
    predicted, observed, count = names
    table = pd.DataFrame({"model": ["logistic"] * 3, predicted: [0.1, 0.5, np.nan],
                          observed: [0.15, 0.45, np.nan], count: [30, 10, 0]})
    fig = evidence.calibration_figure(table)
    diagonal, model = fig.data
    assert list(diagonal.x) == [0, 1]
    assert list(model.x) == [0.1, 0.5] and list(model.y) == [0.15, 0.45]  # the empty bin is left out
    assert model.marker.size[0] > model.marker.size[1]  # bigger bins, bigger markers


def test_missing_tables_give_a_message():
    assert is_empty(evidence.tracking_figure(None))
    assert is_empty(evidence.holdout_figure(None))
    assert is_empty(evidence.roc_figure(None))
    assert is_empty(evidence.calibration_figure(None))
    assert is_empty(evidence.calibration_figure(pd.DataFrame({"model": ["x"], "foo": [1]})))


def test_holdout_accepts_a_table_already_grouped_by_frequency():
    grouped = pd.DataFrame({"n_customers": [1400, 300, 60], "actual": [0.2, 0.9, 3.1],
                            "predicted": [0.25, 0.8, 3.0], "baseline": [0.0, 1.2, 4.0]},
                           index=pd.Index(["0", "1", "7+"], name="frequency"))
    fig = evidence.holdout_figure(grouped)
    actual = fig.data[0]
    assert list(actual.x) == ["0", "1", "7+"] and list(actual.y) == [0.2, 0.9, 3.1]
    assert [c[0] for c in actual.customdata] == [1400, 300, 60]
