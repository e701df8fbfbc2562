"""Methodology & evidence: model evidence figures and tables, KPI definitions, the CDNOW reference refit."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dash
from dash import Input, Output

from analytics import insights
from analytics.clv.tournament import CANDIDATES
from analytics.errors import DataError
from analytics.results import Results
from callbacks import common
from components import ids
from components import methodology_tab as tab
from components.figures import evidence


def _baselines(churn: dict[str, Any]) -> set[str] | None:
    """Names of the churn baselines: the ``baselines`` entry (names or name -> description), else the metrics'
    ``role`` column; None when neither says (the figures then treat every curve after the first as one)."""
    named = churn.get("baselines")
    if isinstance(named, (dict, list, tuple, set)):
        return set(named)
    metrics = tab.as_frame(churn.get("metrics"))
    if metrics is not None:
        metrics = metrics.reset_index() if metrics.index.name is not None else metrics
        if {"model", "role"} <= set(metrics.columns):
            return set(metrics.loc[metrics["role"] == "baseline", "model"].astype(str))
    return None


def evidence_outputs(results: Results) -> tuple:
    """Everything the evidence panels show, in the callback's output order (a plain function for tests)."""
    clv = results.models.get("clv") or {}
    churn = results.models.get("churn") or {}
    validation = clv.get("validation") or {}
    curves = churn.get("curves") or {}
    baselines = _baselines(churn)
    tournament = clv.get("tournament")
    return (
        evidence.tracking_figure(tab.as_frame(validation.get("tracking")), validation.get("calibration_end")),
        evidence.holdout_figure(tab.as_frame(validation.get("per_customer", validation.get("by_frequency")))),
        evidence.roc_figure(tab.as_frame(curves.get("roc")), tab.as_frame(churn.get("metrics")), baselines),
        evidence.calibration_figure(tab.as_frame(curves.get("calibration")), baselines),
        tab.clv_evidence(clv),
        [note for note in (tab.dropout_note(clv),) if note is not None] + tab.churn_evidence(churn),
        tab.clustering_evidence(results.models.get("clustering")),
        tab.kpi_definitions(insights.kpis(results)),
        evidence.tournament_tracking_figure(
            tournament.tracking if tournament else None, CANDIDATES,
            tournament.calibration_end if tournament else None, clv.get("model")),
        tab.tournament_evidence(clv),
    )


@lru_cache(maxsize=1)
def _reference():
    return insights.cdnow_reference()


def reference_output():
    """The published-vs-refitted CDNOW table (fitted once per process), or why it could not be made."""
    try:
        return tab.reference_table(_reference())
    except DataError as error:
        return tab.unavailable(f"CDNOW reference refit ({error})")


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        Output(ids.EVIDENCE_TRACKING, "figure"),
        Output(ids.EVIDENCE_SCATTER, "figure"),
        Output(ids.EVIDENCE_ROC, "figure"),
        Output(ids.EVIDENCE_CALIBRATION, "figure"),
        Output(ids.EVIDENCE_PARAMS, "children"),
        Output(ids.EVIDENCE_METRICS, "children"),
        Output(ids.EVIDENCE_CLUSTERING, "children"),
        Output(ids.EVIDENCE_KPI_DEFINITIONS, "children"),
        Output(ids.EVIDENCE_TOURNAMENT_TRACKING, "figure"),
        Output(ids.EVIDENCE_TOURNAMENT, "children"),
        Input(ids.tab_key("methodology"), "data"),
    )
    def show_evidence(key):
        return evidence_outputs(common.load_results(settings, key))

    @app.callback(Output(ids.EVIDENCE_REFERENCE, "children"), Input(ids.TABS, "active_tab"))
    def show_reference(active_tab):
        if active_tab != "methodology":
            raise dash.exceptions.PreventUpdate
        return reference_output()
