"""The tournament on screen: real pipeline runs on the synthetic data, the evidence panels and the tower's
equity interval, the Data tab's model override (and a forged one)."""

from __future__ import annotations

import pytest

from analytics import insights, pipeline
from analytics.clv.tournament import BTYD, CANDIDATES
from analytics.datasets import load_dataset
from analytics.errors import DataError
from analytics.params import AnalysisParams
from callbacks.methodology import evidence_outputs
from callbacks.run import params_from_inputs
from components.data_tab import AUTO_CLV_MODEL
from tests.callbacks.test_tower_callbacks import text

INPUTS = (None, 12, 30, 1, 90, "kmeans", None, [2, 8])


@pytest.fixture(scope="module")
def transactions():
    return load_dataset("synthetic")


@pytest.fixture(scope="module")
def automatic(transactions):
    return pipeline.run(transactions, params_from_inputs(*INPUTS, AUTO_CLV_MODEL))


def test_the_winner_feeds_clv_with_intervals(automatic):
    clv = automatic.clv
    tournament = clv.tournament
    assert clv.chosen_by == "tournament" and clv.model == tournament.winner in BTYD
    customers = automatic.customers
    # the shortest 80 % of a skewed distribution can leave out its mean, but mostly holds it
    inside = (customers["clv_low"] <= customers["clv"]) & (customers["clv"] <= customers["clv_high"])
    assert inside.mean() > 0.75 and (customers["clv_low"] <= customers["clv_high"]).all()
    assert (customers["expected_purchases_low"] <= customers["expected_purchases_high"]).all()
    forecast = clv.forecast
    assert forecast.equity_low < customers["clv"].sum() < forecast.equity_high
    kpi = next(k for k in insights.kpis(automatic) if k["key"] == "clv")
    assert kpi["caption"].startswith("80 % interval ") and "joint simulations" in kpi["definition"]


def test_evidence_tab_shows_the_table_and_why_the_winner_won(automatic):
    outputs = evidence_outputs(automatic)
    figure, panel = outputs["tournament_tracking"], text(outputs["tournament"])
    tournament = automatic.clv.tournament
    for label in CANDIDATES.values():
        assert label in panel
    assert f"{tournament.winner_label} has the best mean rank" in panel
    assert "the tournament's winner" in panel and "Coverage of the 80 % interval" in panel
    drawn = {trace.name for trace in figure.data}
    assert "Actual" in drawn and f"{tournament.winner_label} (used)" in drawn and len(drawn) == 6


def test_the_user_can_override_the_winner(transactions, automatic):
    results = pipeline.run(transactions, params_from_inputs(*INPUTS, "naive"))
    clv = results.clv
    assert clv.model == "naive" and clv.chosen_by == "user"
    assert results.customers["p_alive"].isna().all()  # no P(alive) without a BTYD model
    assert results.customers["clv"].sum() != pytest.approx(automatic.customers["clv"].sum())
    panel = text(evidence_outputs(results)["tournament"])
    assert "Naive rate, chosen on the Data tab (overriding the tournament's" in panel


def test_boosting_chosen_by_hand_warns_that_its_horizon_is_extrapolated(transactions, automatic):
    results = pipeline.run(transactions, params_from_inputs(*INPUTS, "supervised"))
    forecast = results.clv.forecast
    assert forecast.model == "supervised" and results.clv.chosen_by == "user"
    # a 124-day window carried over 12 months, compared with the tournament's best ranked BTYD model
    reference = CANDIDATES[automatic.clv.tournament.best_btyd]
    assert "124-day window" in forecast.horizon_note and f"{reference}, which extends" in forecast.horizon_note
    assert f"{results.customers['clv'].sum():,.0f}" in forecast.horizon_note
    panel = text(evidence_outputs(results)["tournament"])
    assert "The CLV horizon is an extrapolation" in panel and forecast.horizon_note in panel
    kpi = next(k for k in insights.kpis(results) if k["key"] == "clv")
    assert "extrapolated from a short window" in kpi["caption"] and forecast.horizon_note in kpi["definition"]
    # the tournament's own choice (a BTYD model) carries no such warning
    assert automatic.clv.forecast.horizon_note == ""
    assert "extrapolation" not in text(evidence_outputs(automatic)["tournament"])


def test_a_forged_model_choice_is_refused_with_its_name():
    with pytest.raises(DataError, match="CLV model 'lstm' is not one of"):
        params_from_inputs(*INPUTS, "lstm")
    with pytest.raises(DataError, match="CLV model"):
        params_from_inputs(*INPUTS, {"model": "bgnbd"})
    assert params_from_inputs(*INPUTS, None) == AnalysisParams(gross_margin_fraction=0.3, clv_horizon_months=12,
                                                               monthly_discount_rate=0.01, k_min=2, k_max=8)
