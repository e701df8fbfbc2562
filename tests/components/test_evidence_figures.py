"""Model evidence figures draw exactly the tables the pipeline's records hold (real runs, no made-up values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.figures import evidence
from components.theme import TEAL


def is_empty(fig) -> bool:
    return not fig.data and len(fig.layout.annotations) == 1


@pytest.fixture(params=["cdnow_run", "synthetic_run"])
def results(request):
    return request.getfixturevalue(request.param).results


def test_tracking_actual_vs_expected_with_the_calibration_line(results):
    validation = results.clv.validation
    fig = evidence.tracking_figure(validation)
    actual, expected = fig.data
    assert list(actual.y) == validation.tracking["actual_cumulative"].tolist()
    assert list(expected.y) == pytest.approx(validation.tracking["predicted_cumulative"].tolist())
    assert expected.line.dash == "dash"
    assert [pd.Timestamp(s.x0) for s in fig.layout.shapes] == [validation.calibration_end]


def test_holdout_means_by_calibration_frequency(results):
    table = results.clv.validation.by_frequency
    fig = evidence.holdout_figure(results.clv.validation)
    traces = {t.name: t for t in fig.data}
    assert list(traces["Actual"].x) == list(table.index) and list(table.index)[-1] == "7+"
    for name, column in (("Actual", "actual"), ("BG/NBD", "predicted"), ("Naive baseline", "baseline")):
        assert list(traces[name].y) == pytest.approx(table[column].tolist())
    assert [c[0] for c in traces["Actual"].customdata] == table["n_customers"].tolist()


def test_roc_legend_carries_auc_and_baselines_are_dashed(results):
    churn = results.churn
    fig = evidence.roc_figure(churn)
    chance, lead, *others = fig.data
    assert list(chance.x) == [0, 1] and list(chance.y) == [0, 1]
    assert lead.name == f"{churn.model} · AUC {churn.metrics.loc[churn.model, 'roc_auc']:.3f}"
    assert lead.line.color == TEAL and lead.line.dash is None
    dashed = {t.name.split(" · ")[0] for t in others if t.line.dash == "dash"}
    assert dashed == set(churn.baselines) and dashed
    roc = churn.curves["roc"]
    assert list(lead.x) == roc.loc[roc["model"] == churn.model, "fpr"].tolist()


def test_calibration_points_leave_out_empty_bins(results):
    churn = results.churn
    table = churn.curves["calibration"]
    fig = evidence.calibration_figure(churn)
    diagonal, *models = fig.data
    assert list(diagonal.x) == [0, 1]
    assert [t.name for t in models] == list(dict.fromkeys(table["model"]))
    lead = table[(table["model"] == churn.model) & (table["count"] > 0)]
    assert list(models[0].x) == pytest.approx(lead["mean_predicted"].tolist())
    assert list(models[0].y) == pytest.approx(lead["observed_rate"].tolist())
    sizes = np.asarray(models[0].marker.size)
    assert (np.argsort(sizes, kind="stable") == np.argsort(lead["count"].to_numpy(), kind="stable")).all()


def test_models_that_could_not_be_fitted_give_a_message(unfittable_run):
    results = unfittable_run.results
    validation = results.clv.validation
    assert is_empty(evidence.tracking_figure(validation))
    assert is_empty(evidence.holdout_figure(validation))
    assert evidence.NO_HOLDOUT in evidence.holdout_figure(validation).layout.annotations[0].text
