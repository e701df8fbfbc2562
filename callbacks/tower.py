"""Executive tower: KPI cards, narrative and the three charts from the current results."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output

from analytics import insights, pipeline
from analytics.results import Results
from analytics.segments import SEGMENT_ORDER
from callbacks import common
from components import ids
from components.figures import tower
from components.kpis import kpi_row
from components.tower_tab import narrative_list


def tower_outputs(results: Results, lines: pd.DataFrame | None) -> tuple:
    """Everything the tower shows, in the callback's output order (a plain function tests can call)."""
    monthly = results.monthly
    sizes = monthly.set_index("month")["new_customers"] if "new_customers" in monthly else None
    return (
        kpi_row(insights.kpis(results, lines)),
        narrative_list(insights.narrative(results, lines)),
        tower.trend_figure(results.monthly, results.as_of),
        tower.segment_figure(results.customers, SEGMENT_ORDER),
        tower.cohort_figure(results.cohorts, sizes),
    )


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        Output(ids.TOWER_KPIS, "children"),
        Output(ids.TOWER_NARRATIVE, "children"),
        Output(ids.TOWER_TREND, "figure"),
        Output(ids.TOWER_SEGMENTS, "figure"),
        Output(ids.TOWER_COHORTS, "figure"),
        Input(ids.tab_key("tower"), "data"),
    )
    def show_tower(key):
        results = common.load_results(settings, key)
        # the retention rate needs the invoice table stored next to the results (None if evicted)
        invoices = common.results_cache(settings).get(pipeline.invoices_key(key))
        return tower_outputs(results, invoices)
