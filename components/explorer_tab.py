"""Segment explorer: filters, the 3-D RFM scatter, segment profiles, the customer table and exports."""

from __future__ import annotations

import json

import dash_ag_grid as dag
import pandas as pd
import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics.audience import AT_RISK_CHURN_PROBABILITY
from components import formatting as fmt
from components import ids, uplift_panel
from components.grid import customer_grid

MAX_SCATTER_POINTS = 5_000
MAX_GRID_ROWS = 2_000

GRID_COLUMNS = [
    ("customer_id", "Customer", None),
    ("segment", "Segment", None),
    ("cluster_name", "Cluster", None),
    ("country", "Country", None),
    ("recency_days", "Recency (days)", "d3.format(',.0f')(params.value)"),
    ("frequency", "Orders", None),
    ("monetary", "Net spend", "d3.format(',.0f')(params.value)"),
    ("clv", "CLV", "d3.format(',.0f')(params.value)"),
    ("clv_low", "CLV 80 % low", "d3.format(',.0f')(params.value)"),
    ("clv_high", "CLV 80 % high", "d3.format(',.0f')(params.value)"),
    ("churn_probability", "Churn prob.", "d3.format('.0%')(params.value)"),
    ("churn_drivers", "Why (churn drivers)", None),
]

CLV_INTERVAL_TIP = ("80 % interval: the shortest range holding 80 % of this customer's simulated CLV (model and "
                    "parameter uncertainty). A skewed value can lie above it: a customer most likely to buy "
                    "little, with a small chance of large orders, has a mean above most of the range.")


def grid_rows(customers: pd.DataFrame) -> tuple[list[dict], int]:
    """The grid's rows (the most valuable first, at most MAX_GRID_ROWS) as JSON-ready records, and their count.

    Going through ``to_json`` is about twice as fast as ``to_dict`` on pyarrow-backed strings, and the grid
    is what makes a filter change slow on large selections.
    """
    value = "clv" if "clv" in customers else "monetary"
    top = customers.nlargest(MAX_GRID_ROWS, value) if len(customers) > MAX_GRID_ROWS else customers
    table = top.reset_index()
    columns = [c for c, _, _ in GRID_COLUMNS if c in table.columns]
    return json.loads(table[columns].to_json(orient="records", date_format="iso")), len(top)


def _filter(label: str, control) -> html.Div:
    return html.Div([dbc.Label(label, className="small fw-semibold mb-1"), control], className="mb-2")


def filters_panel() -> html.Div:
    return html.Div(
        [
            html.H5("Filters"),
            _filter("Colour by", dbc.RadioItems(id=ids.EXPLORER_COLOR_BY, inline=True, value="segment",
                                                options=[{"label": "RFM segment", "value": "segment"},
                                                         {"label": "Cluster", "value": "cluster_name"}])),
            _filter("Segments", dcc.Dropdown(id=ids.EXPLORER_SEGMENTS, multi=True, placeholder="All segments")),
            _filter("Clusters", dcc.Dropdown(id=ids.EXPLORER_CLUSTERS, multi=True, placeholder="All clusters")),
            _filter("Countries", dcc.Dropdown(id=ids.EXPLORER_COUNTRY, multi=True, placeholder="All countries")),
            _filter("Churn probability", dcc.RangeSlider(id=ids.EXPLORER_CHURN, min=0, max=1, step=0.05,
                                                         value=[0, 1], marks=fmt.CHURN_MARKS,
                                                         tooltip={"placement": "bottom"})),
            _filter("CLV", dcc.RangeSlider(id=ids.EXPLORER_CLV, min=0, max=1, value=[0, 1], step=1, marks=None,
                                           tooltip={"placement": "bottom"})),
            html.Div(id=ids.EXPLORER_COUNT, className="fw-semibold mt-2"),
        ],
        className="panel",
    )


def exports_panel() -> html.Div:
    return html.Div(
        [
            html.H5("Export"),
            uplift_panel.control_group_controls(ids.EXPORT_CONTROL_SHARE, ids.EXPORT_CONTROL_SEED),
            dbc.Button([html.I(className="bi bi-download me-1"), "Current selection"], id=ids.EXPORT_SELECTION,
                       color="primary", outline=True, size="sm", className="me-2 mb-2"),
            dbc.Button([html.I(className="bi bi-download me-1"), "Segment summary"], id=ids.EXPORT_SUMMARY,
                       color="primary", outline=True, size="sm", className="mb-2"),
            html.Hr(className="my-2"),
            _filter("High-value at-risk: churn probability at least",
                    dcc.Slider(id=ids.AT_RISK_THRESHOLD, min=0.1, max=0.9, step=0.05, value=AT_RISK_CHURN_PROBABILITY,
                               marks={0.1: "10%", 0.5: "50%", 0.9: "90%"}, tooltip={"placement": "bottom"})),
            html.Div(id=ids.AT_RISK_DEFINITION, className="small-muted mb-2"),
            dbc.Button([html.I(className="bi bi-exclamation-triangle me-1"), "High-value at-risk list"],
                       id=ids.EXPORT_AT_RISK, color="danger", size="sm"),
            html.Div(id=ids.EXPORT_ERROR, className="mt-2"),
            dcc.Download(id=ids.DOWNLOAD),
        ],
        className="panel",
    )


def grid() -> dag.AgGrid:
    return customer_grid(ids.EXPLORER_GRID, GRID_COLUMNS, wide=("churn_drivers",),
                         tooltips={"clv_low": CLV_INTERVAL_TIP, "clv_high": CLV_INTERVAL_TIP})


def layout() -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col([filters_panel(), exports_panel()], lg=3),
            dbc.Col(
                [
                    html.Div(
                        [
                            html.H5("Customers in recency × frequency × monetary space"),
                            dcc.Graph(id=ids.EXPLORER_SCATTER, config={"displaylogo": False}),
                            html.Div(id=ids.EXPLORER_SAMPLE_NOTE, className="small-muted"),
                        ],
                        className="panel",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(html.Div([html.H5("Segment profiles"),
                                              html.Div("Each axis: percentile of the segment's mean among all "
                                                       "customers (recency and churn reversed: out = better).",
                                                       className="small-muted"),
                                              dcc.Graph(id=ids.EXPLORER_RADAR, config={"displayModeBar": False})],
                                             className="panel"), xl=6),
                            dbc.Col(html.Div([html.H5("Clusters: how k was chosen"),
                                              html.Div(id=ids.EXPLORER_DIAGNOSTICS)], className="panel"), xl=6),
                        ]
                    ),
                    html.Div([html.H5("Segment summary"), html.Div(id=ids.EXPLORER_SUMMARY)], className="panel"),
                    html.Div([html.H5("Customers in the selection"), grid()], className="panel"),
                ],
                lg=9,
            ),
        ]
    )
