"""Executive tower: KPI cards, narrative and the three charts from the current results."""

from __future__ import annotations

import dash
from dash import Input, Output

from analytics import insights
from analytics.results import Results
from analytics.segments import SEGMENT_ORDER
from callbacks import common
from components import ids
from components.figures import tower
from components.kpis import kpi_row
from components.tower_tab import narrative_list


OUTPUTS = {
    "kpis": Output(ids.TOWER_KPIS, "children"),
    "narrative": Output(ids.TOWER_NARRATIVE, "children"),
    "trend": Output(ids.TOWER_TREND, "figure"),
    "segments": Output(ids.TOWER_SEGMENTS, "figure"),
    "cohorts": Output(ids.TOWER_COHORTS, "figure"),
}


def tower_outputs(results: Results) -> dict:
    """Everything the tower shows, keyed as OUTPUTS (a plain function tests can call)."""
    monthly = results.monthly
    sizes = monthly.set_index("month")["new_customers"] if "new_customers" in monthly else None
    return {
        "kpis": kpi_row(insights.kpis(results)),
        "narrative": narrative_list(insights.narrative(results)),
        "trend": tower.trend_figure(results.monthly, results.as_of),
        "segments": tower.segment_figure(results.customers, SEGMENT_ORDER),
        "cohorts": tower.cohort_figure(results.cohorts, sizes),
    }


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(output=OUTPUTS, inputs={"key": Input(ids.tab_key("tower"), "data")})
    def show_tower(key):
        return common.drawn(settings, key, tower_outputs)
