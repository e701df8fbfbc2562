"""Segment explorer callbacks: filter options from the results, the filtered views, and the exports."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html

from analytics import selection
from analytics.audience import AudienceFilter, clv_ceiling, filter_options, select_audience
from analytics.errors import DataError, ModelFailure
from analytics.export import to_safe_csv
from analytics.results import Results
from analytics.segments import SEGMENT_ORDER
from callbacks import common, uplift
from components import explorer_tab, ids
from components.figures import explorer as figures
from components.tables import group_summary_table
from components.theme import empty_figure

FILTERS = {
    "segments": (ids.EXPLORER_SEGMENTS, "value"), "clusters": (ids.EXPLORER_CLUSTERS, "value"),
    "countries": (ids.EXPLORER_COUNTRY, "value"), "churn": (ids.EXPLORER_CHURN, "value"),
    "clv": (ids.EXPLORER_CLV, "value"),
}


def explorer_audience(customers: pd.DataFrame, segments=None, clusters=None, countries=None, churn=None,
                      clv=None) -> AudienceFilter:
    """The explorer's controls as the app's one audience filter (:class:`analytics.audience.AudienceFilter`);
    a slider left at its full range is no restriction."""
    churn_min, churn_max = common.open_range(churn, 0.0, 1.0)
    clv_min, clv_max = common.open_range(clv, 0.0, clv_ceiling(customers))
    return AudienceFilter(segments=segments or (), clusters=clusters or (), countries=countries or (),
                          churn_min=churn_min, churn_max=churn_max, clv_min=clv_min, clv_max=clv_max)


def chosen_customers(customers: pd.DataFrame, **filters: Any) -> pd.DataFrame:
    """The customers the explorer's filters select; DataError names a filter these results cannot serve."""
    return select_audience(customers, explorer_audience(customers, **filters)).customers


def profiles(results: Results) -> dict[str, Any]:
    """Filter options, radar, segment summary and cluster diagnostics of one analysis."""
    customers = results.customers
    choices = filter_options(customers)
    clv_max = choices.clv_max or 1.0
    clustering = results.clustering
    diagnostics = (
        html.P(f"No clusters in these results: {clustering.message}", className="small-muted")
        if isinstance(clustering, ModelFailure)
        else [html.P(clustering.k_reason, className="small"),
              dcc.Graph(figure=figures.selection_diagnostics(clustering.selection, clustering.k),
                        config={"displayModeBar": False}),
              html.H6("Cluster profiles", className="fw-semibold mt-2"),
              group_summary_table(selection.group_summary(customers, by="cluster_name"))]
    )
    return {
        "segments": common.options(choices.segments),
        "clusters": common.options(choices.clusters),
        "countries": common.options(choices.countries),
        "clv_min": 0.0, "clv_max": clv_max, "clv_value": [0.0, clv_max],
        "radar": figures.radar(selection.radar_profile(customers).reindex(list(choices.segments))),
        "summary": group_summary_table(selection.group_summary(customers)),
        "diagnostics": diagnostics,
    }


def filtered_views(results: Results, color_by: str, **filters: Any) -> dict[str, Any]:
    """Scatter, its sampling note, the count and the grid rows for the filtered customers."""
    customers = results.customers
    try:
        chosen = chosen_customers(customers, **filters)
    except DataError as error:
        return {"scatter": empty_figure("No selection"), "note": "", "count": common.error_alert(error, "These filters cannot be used"),
                "rows": []}
    if color_by not in chosen:
        color_by = "segment"
    shown = selection.display_sample(chosen, explorer_tab.MAX_SCATTER_POINTS)
    note = (f"Showing a random {len(shown):,} of {len(chosen):,} customers so the 3-D view stays smooth; "
            "exports hold them all." if len(shown) < len(chosen) else "")
    rows, shown_rows = explorer_tab.grid_rows(chosen)
    if shown_rows < len(chosen):
        note += f" The table lists the {shown_rows:,} highest-value customers of the selection."
    order = SEGMENT_ORDER if color_by == "segment" else None
    return {"scatter": figures.rfm_scatter(shown, color_by, order=order), "note": note,
            "count": f"{len(chosen):,} of {len(customers):,} customers selected", "rows": rows}


def at_risk_definition(results: Results, threshold: float | None) -> str:
    customers = results.customers
    if "clv" not in customers or "churn_probability" not in customers:
        return "Needs the CLV and churn models, which these results do not hold."
    return selection.high_value_at_risk(customers, *([] if threshold is None else [threshold]))[1]


def export(results: Results, which: str, threshold: float | None, control_pct: Any = uplift.DEFAULT_CONTROL_PCT,
           seed: Any = 0, **filters: Any) -> dict:
    """The CSV download for ``which`` export button; a filter these results cannot serve gets no file. The
    campaign lists carry a ``group`` column with a control group of ``control_pct`` % per segment (seeded):
    the next test's assignment file. A bad share or seed is a DataError."""
    customers = results.customers
    if which == ids.EXPORT_SUMMARY:
        return dcc.send_string(to_safe_csv(selection.group_summary(customers)), "segment_summary.csv")
    if which == ids.EXPORT_AT_RISK:
        if "clv" not in customers or "churn_probability" not in customers:
            raise dash.exceptions.PreventUpdate
        rows, _ = selection.high_value_at_risk(customers, *([] if threshold is None else [threshold]))
        return uplift.campaign_file(rows, customers["segment"], control_pct, seed, "high_value_at_risk.csv")
    try:
        chosen = chosen_customers(customers, **filters)
    except DataError:
        raise dash.exceptions.PreventUpdate from None  # the count already shows why
    return uplift.campaign_file(chosen, customers["segment"], control_pct, seed, "customer_selection.csv")


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        output={
            "segments": Output(ids.EXPLORER_SEGMENTS, "options"),
            "clusters": Output(ids.EXPLORER_CLUSTERS, "options"),
            "countries": Output(ids.EXPLORER_COUNTRY, "options"),
            "clv_min": Output(ids.EXPLORER_CLV, "min"),
            "clv_max": Output(ids.EXPLORER_CLV, "max"),
            "clv_value": Output(ids.EXPLORER_CLV, "value"),
            "radar": Output(ids.EXPLORER_RADAR, "figure"),
            "summary": Output(ids.EXPLORER_SUMMARY, "children"),
            "diagnostics": Output(ids.EXPLORER_DIAGNOSTICS, "children"),
        },
        inputs={"key": Input(ids.tab_key("explorer"), "data")},
    )
    def show_profiles(key):
        return common.drawn(settings, key, profiles)

    @app.callback(
        output={
            "scatter": Output(ids.EXPLORER_SCATTER, "figure"),
            "note": Output(ids.EXPLORER_SAMPLE_NOTE, "children"),
            "count": Output(ids.EXPLORER_COUNT, "children"),
            "rows": Output(ids.EXPLORER_GRID, "rowData"),
        },
        inputs={"key": Input(ids.tab_key("explorer"), "data"), "color_by": Input(ids.EXPLORER_COLOR_BY, "value"),
                **{name: Input(*control) for name, control in FILTERS.items()}},
    )
    def filter_customers(key, color_by, **filters):
        return filtered_views(common.load_results(settings, key), color_by, **filters)

    @app.callback(
        Output(ids.AT_RISK_DEFINITION, "children"),
        Input(ids.tab_key("explorer"), "data"),
        Input(ids.AT_RISK_THRESHOLD, "value"),
    )
    def show_at_risk_definition(key, threshold):
        return common.drawn(settings, key, at_risk_definition, threshold)

    @app.callback(
        output={"file": Output(ids.DOWNLOAD, "data"), "error": Output(ids.EXPORT_ERROR, "children")},
        inputs={"clicks": (Input(ids.EXPORT_SELECTION, "n_clicks"), Input(ids.EXPORT_SUMMARY, "n_clicks"),
                           Input(ids.EXPORT_AT_RISK, "n_clicks")),
                "key": State(ids.RESULTS_KEY, "data"), "threshold": State(ids.AT_RISK_THRESHOLD, "value"),
                "control_pct": State(ids.EXPORT_CONTROL_SHARE, "value"),
                "seed": State(ids.EXPORT_CONTROL_SEED, "value"),
                **{name: State(*control) for name, control in FILTERS.items()}},
        prevent_initial_call=True,
    )
    def download(clicks, key, threshold, control_pct, seed, **filters):
        try:
            return {"file": export(common.load_results(settings, key), ctx.triggered_id, threshold, control_pct,
                                   seed, **filters), "error": None}
        except DataError as error:
            return {"file": dash.no_update, "error": common.error_alert(error, title="This list cannot be exported")}
