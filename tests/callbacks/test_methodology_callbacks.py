"""Methodology & evidence callbacks on a real run: the evidence panels, the KPI definitions written for these
results, and the published CDNOW estimates next to this code's refit."""

from __future__ import annotations

import plotly.graph_objects as go

from analytics import insights
from analytics.insights import FHL_2005
from callbacks.methodology import evidence_outputs, reference_output
from tests.callbacks.conftest import text_of


def test_evidence_panels_draw_the_run_and_define_its_kpis(cdnow_stored):
    results = cdnow_stored.results
    shown = evidence_outputs(results)
    figures = [shown[name] for name in ("tracking", "holdout", "roc", "calibration")]
    clv, churn, clustering, definitions = shown["clv"], shown["churn"], shown["clustering"], shown["kpi_definitions"]
    tournament_tracking, tournament = shown["tournament_tracking"], shown["tournament"]
    assert len(figures) == 4 and all(isinstance(f, go.Figure) and f.data for f in figures)
    assert tournament_tracking.data and "has the best mean rank" in text_of(tournament)
    # the KPI definitions are the tower's own, written for these results
    written = text_of(definitions)
    for kpi in insights.kpis(results):
        assert kpi["name"] in written and kpi["definition"] in written
    assert "churn probability of at least 50 %" in written
    assert "logistic" in text_of(churn).lower() and text_of(clv) and text_of(clustering)


def test_the_reference_refit_reproduces_the_published_cdnow_estimates():
    table = insights.cdnow_reference()
    shown = text_of(reference_output())
    for model, params in FHL_2005.items():
        for name, published in params.items():
            assert f"{published:.4g}" in shown
            reproduced = table.loc[(table["model"] == model) & (table["parameter"] == name), "reproduced"].item()
            assert abs(reproduced - published) / published < 0.05, (model, name, reproduced)
    assert f"{table.attrs['n_customers']:,} customers" in shown
