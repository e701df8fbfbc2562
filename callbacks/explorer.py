"""Segment explorer callbacks: filter options from the results, the filtered views, and the exports."""

from __future__ import annotations

import dash
import numpy as np
from dash import Input, Output, State, ctx, dcc, html

from analytics import selection
from analytics.segments import SEGMENT_ORDER
from analytics.export import to_safe_csv
from callbacks import common
from components import explorer_tab, ids
from components.figures import explorer as figures
from components.tables import group_summary_table


def _options(values) -> list[dict]:
    return [{"label": str(v), "value": str(v)} for v in values]


def current_filter(segments, clusters, countries, churn, clv) -> selection.CustomerFilter:
    return selection.CustomerFilter(
        segments=tuple(segments or ()), clusters=tuple(clusters or ()), countries=tuple(countries or ()),
        churn_range=tuple(churn) if churn else None, clv_range=tuple(clv) if clv else None,
    )


FILTER_STATES = [
    (ids.EXPLORER_SEGMENTS, "value"), (ids.EXPLORER_CLUSTERS, "value"), (ids.EXPLORER_COUNTRY, "value"),
    (ids.EXPLORER_CHURN, "value"), (ids.EXPLORER_CLV, "value"),
]


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        Output(ids.EXPLORER_SEGMENTS, "options"),
        Output(ids.EXPLORER_CLUSTERS, "options"),
        Output(ids.EXPLORER_COUNTRY, "options"),
        Output(ids.EXPLORER_CLV, "min"),
        Output(ids.EXPLORER_CLV, "max"),
        Output(ids.EXPLORER_CLV, "value"),
        Output(ids.EXPLORER_RADAR, "figure"),
        Output(ids.EXPLORER_SUMMARY, "children"),
        Output(ids.EXPLORER_DIAGNOSTICS, "children"),
        Input(ids.tab_key("explorer"), "data"),
    )
    def show_profiles(key):
        results = common.load_results(settings, key)
        customers = results.customers
        present = set(customers["segment"])
        clusters = customers["cluster_name"].dropna().unique() if "cluster_name" in customers else []
        countries = customers["country"].dropna().value_counts().index if "country" in customers else []
        clv_max = float(np.ceil(customers["clv"].max())) if "clv" in customers else 1.0
        clustering = results.models.get("clustering")
        diagnostics = (
            [html.P(clustering.get("k_reason", ""), className="small"),
             dcc.Graph(figure=figures.selection_diagnostics(clustering.get("selection"), clustering.get("k")),
                       config={"displayModeBar": False}),
             html.H6("Cluster profiles", className="fw-semibold mt-2"),
             group_summary_table(selection.group_summary(customers, by="cluster_name"))]
            if "cluster_name" in customers
            else html.P(f"No clusters in these results: {(clustering or {}).get('error', 'not computed')}",
                        className="small-muted")
        )
        return (
            _options([s for s in SEGMENT_ORDER if s in present]),
            _options(sorted(clusters)),
            _options(countries),
            0.0, clv_max, [0.0, clv_max],
            figures.radar(selection.radar_profile(customers).reindex([s for s in SEGMENT_ORDER if s in present])),
            group_summary_table(selection.group_summary(customers)),
            diagnostics,
        )

    @app.callback(
        Output(ids.EXPLORER_SCATTER, "figure"),
        Output(ids.EXPLORER_SAMPLE_NOTE, "children"),
        Output(ids.EXPLORER_COUNT, "children"),
        Output(ids.EXPLORER_GRID, "rowData"),
        Input(ids.tab_key("explorer"), "data"),
        Input(ids.EXPLORER_COLOR_BY, "value"),
        *[Input(i, p) for i, p in FILTER_STATES],
    )
    def filter_customers(key, color_by, *filters):
        customers = common.load_results(settings, key).customers
        chosen = current_filter(*filters).apply(customers)
        if color_by not in chosen:
            color_by = "segment"
        shown = selection.display_sample(chosen, explorer_tab.MAX_SCATTER_POINTS)
        note = (f"Showing a random {len(shown):,} of {len(chosen):,} customers so the 3-D view stays smooth; "
                "exports hold them all." if len(shown) < len(chosen) else "")
        rows, shown_rows = explorer_tab.grid_rows(chosen)
        if shown_rows < len(chosen):
            note += f" The table lists the {shown_rows:,} highest-value customers of the selection."
        count = f"{len(chosen):,} of {len(customers):,} customers selected"
        order = SEGMENT_ORDER if color_by == "segment" else None
        return figures.rfm_scatter(shown, color_by, order=order), note, count, rows

    @app.callback(
        Output(ids.AT_RISK_DEFINITION, "children"),
        Input(ids.tab_key("explorer"), "data"),
        Input(ids.AT_RISK_THRESHOLD, "value"),
    )
    def at_risk_definition(key, threshold):
        customers = common.load_results(settings, key).customers
        if "clv" not in customers or "churn_probability" not in customers:
            return "Needs the CLV and churn models, which these results do not hold."
        return selection.high_value_at_risk(customers, threshold)[1]

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.EXPORT_SELECTION, "n_clicks"),
        Input(ids.EXPORT_SUMMARY, "n_clicks"),
        Input(ids.EXPORT_AT_RISK, "n_clicks"),
        State(ids.RESULTS_KEY, "data"),
        State(ids.AT_RISK_THRESHOLD, "value"),
        *[State(i, p) for i, p in FILTER_STATES],
        prevent_initial_call=True,
    )
    def export(_sel, _sum, _risk, key, threshold, *filters):
        customers = common.load_results(settings, key).customers
        if ctx.triggered_id == ids.EXPORT_SUMMARY:
            return dcc.send_string(to_safe_csv(selection.group_summary(customers)), "segment_summary.csv")
        if ctx.triggered_id == ids.EXPORT_AT_RISK:
            rows, _ = selection.high_value_at_risk(customers, threshold)
            return dcc.send_string(to_safe_csv(rows), "high_value_at_risk.csv")
        return dcc.send_string(to_safe_csv(current_filter(*filters).apply(customers)), "customer_selection.csv")
