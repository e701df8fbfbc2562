"""Methodology & evidence: model evidence figures and tables, KPI definitions, the CDNOW reference refit."""

from __future__ import annotations

from functools import lru_cache

import dash
from dash import Input, Output

from analytics import insights
from analytics.clv.record import ClvRecord
from analytics.clv.tournament import CANDIDATES, Tournament
from analytics.errors import DataError
from analytics.results import Results
from callbacks import common
from components import ids
from components import methodology_tab as tab
from components.figures import evidence


OUTPUTS = {
    "tracking": Output(ids.EVIDENCE_TRACKING, "figure"),
    "holdout": Output(ids.EVIDENCE_SCATTER, "figure"),
    "roc": Output(ids.EVIDENCE_ROC, "figure"),
    "calibration": Output(ids.EVIDENCE_CALIBRATION, "figure"),
    "clv": Output(ids.EVIDENCE_PARAMS, "children"),
    "churn": Output(ids.EVIDENCE_METRICS, "children"),
    "clustering": Output(ids.EVIDENCE_CLUSTERING, "children"),
    "kpi_definitions": Output(ids.EVIDENCE_KPI_DEFINITIONS, "children"),
    "tournament_tracking": Output(ids.EVIDENCE_TOURNAMENT_TRACKING, "figure"),
    "tournament": Output(ids.EVIDENCE_TOURNAMENT, "children"),
}


def evidence_outputs(results: Results) -> dict:
    """Everything the evidence panels show, keyed as OUTPUTS (a plain function for tests)."""
    clv = results.clv
    validation = clv.validation if isinstance(clv, ClvRecord) else clv
    tournament = clv.tournament if isinstance(clv, ClvRecord) else clv
    ran = isinstance(tournament, Tournament)
    return {
        "tracking": evidence.tracking_figure(validation),
        "holdout": evidence.holdout_figure(validation),
        "roc": evidence.roc_figure(results.churn),
        "calibration": evidence.calibration_figure(results.churn),
        "clv": tab.clv_evidence(clv, results.params),
        "churn": [note for note in (tab.dropout_note(clv),) if note is not None] + tab.churn_evidence(results.churn),
        "clustering": tab.clustering_evidence(results.clustering),
        "kpi_definitions": tab.kpi_definitions(insights.kpis(results)),
        "tournament_tracking": evidence.tournament_tracking_figure(
            tournament.tracking if ran else None, CANDIDATES, tournament.calibration_end if ran else None,
            clv.model if isinstance(clv, ClvRecord) else None),
        "tournament": tab.tournament_evidence(clv),
    }


@lru_cache(maxsize=1)
def _reference():
    return insights.cdnow_reference()


def reference_output():
    """The published-vs-refitted CDNOW table (fitted once per process), or why it could not be made."""
    try:
        return tab.reference_table(_reference())
    except DataError as error:
        return tab.unavailable("CDNOW reference refit", str(error))


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(output=OUTPUTS, inputs={"key": Input(ids.tab_key("methodology"), "data")})
    def show_evidence(key):
        return common.drawn(settings, key, evidence_outputs)

    @app.callback(Output(ids.EVIDENCE_REFERENCE, "children"), Input(ids.TABS, "active_tab"))
    def show_reference(active_tab):
        if active_tab != "methodology":
            raise dash.exceptions.PreventUpdate
        return reference_output()
