"""Journeys: how customers move between segments from one snapshot to the next, and who is in each flow.

Controls on the left (period, inactivity window, the two snapshots, whole chain, weight); on the right the
headline movements, the Sankey and, below, the transition matrix and the customers of the chosen flow.
callbacks.journeys fills everything from the journey history of the current results.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics import methodology
from analytics.journeys import DEFAULT_INACTIVE_DAYS
from components import ids
from components.grid import customer_grid
from components.tower_tab import graph

MAX_FLOW_ROWS = 200
MAX_INACTIVE_DAYS = 3650
PERIOD_OPTIONS = [{"label": "Quarter", "value": "Q"}, {"label": "Month", "value": "M"}]
# Sankey weights: customers, or net revenue in the period ending at the first snapshot / between the two
WEIGHTS = {
    "customers": "Customers",
    "from": "Revenue at stake",
    "to": "Revenue since",
}
FLOW_COLUMNS = [
    ("customer_id", "Customer", None),
    ("source", "From", None),
    ("target", "To", None),
    ("revenue_from", "Revenue at stake", "d3.format(',.0f')(params.value)"),
    ("revenue_to", "Revenue since", "d3.format(',.0f')(params.value)"),
    ("recency_days", "Recency (days)", "d3.format(',.0f')(params.value)"),
    ("frequency", "Orders", None),
    ("monetary", "Net spend", "d3.format(',.0f')(params.value)"),
    ("clv", "CLV now", "d3.format(',.0f')(params.value)"),
    ("churn_probability", "Churn prob. now", "d3.format('.0%')(params.value)"),
]
_LOADING = dict(type="dot", color="#0f766e", delay_show=300)


def _control(label: str, control, hint: str | None = None) -> html.Div:
    parts = [dbc.Label(label, className="small fw-semibold mb-1"), control]
    if hint:
        parts.append(html.Div(hint, className="small-muted"))
    return html.Div(parts, className="mb-3")


def controls_panel() -> html.Div:
    return html.Div(
        [
            html.H5("Snapshots"),
            _control("Period", dbc.RadioItems(id=ids.JOURNEYS_PERIOD, options=PERIOD_OPTIONS, value="Q",
                                              inline=True)),
            _control("Inactive after (days without a purchase)",
                     dbc.Input(id=ids.JOURNEYS_INACTIVE, type="number", min=1, max=MAX_INACTIVE_DAYS, step=1,
                               value=DEFAULT_INACTIVE_DAYS, debounce=True, size="sm")),
            _control("From snapshot", dcc.Dropdown(id=ids.JOURNEYS_FROM, clearable=False)),
            _control("To snapshot", dcc.Dropdown(id=ids.JOURNEYS_TO, clearable=False),
                     "The transition matrix, the headlines and the customer list compare these two."),
            _control("Sankey", dbc.Switch(id=ids.JOURNEYS_CHAIN, label="Whole chain (every snapshot)",
                                          value=False)),
            _control("Weight flows by", dbc.RadioItems(
                id=ids.JOURNEYS_WEIGHT, value="customers",
                options=[{"label": label, "value": value} for value, label in WEIGHTS.items()])),
            html.Div("Revenue at stake: a flow's net revenue in the period ending at the first snapshot. "
                     "Revenue since: between the two snapshots.", className="small-muted mb-2"),
            dcc.Loading(html.Div(id=ids.JOURNEYS_STATUS, className="small-muted"), **_LOADING),
        ],
        className="panel",
    )


def headlines_list(sentences: Sequence[str]) -> html.Ul | html.Div:
    """The headline movements as a bulleted list (a note when there are none)."""
    if not sentences:
        return html.Div("No movement worth a headline between these snapshots.", className="small-muted")
    return html.Ul([html.Li(s) for s in sentences], className="narrative mb-0 ps-3")


def flow_grid() -> dag.AgGrid:
    return customer_grid(ids.JOURNEYS_FLOW_GRID, FLOW_COLUMNS, height_px=480)


def flow_panel() -> html.Div:
    return html.Div(
        [
            html.H5("Customers in a flow"),
            html.Div("Click a flow (or a box) in the Sankey, or pick the states here.",
                     className="small-muted mb-2"),
            dbc.Row(
                [
                    dbc.Col(_control("From state", dcc.Dropdown(id=ids.JOURNEYS_FLOW_SOURCE,
                                                                placeholder="Any state")), md=6),
                    dbc.Col(_control("To state", dcc.Dropdown(id=ids.JOURNEYS_FLOW_TARGET,
                                                              placeholder="Any state")), md=6),
                ],
                className="g-2",
            ),
            html.Div(
                [
                    dcc.Loading(html.Div(id=ids.JOURNEYS_FLOW_COUNT, className="fw-semibold"), **_LOADING),
                    dbc.Button([html.I(className="bi bi-download me-1"), "Export flow (CSV)"],
                               id=ids.JOURNEYS_EXPORT, color="primary", outline=True, size="sm",
                               disabled=True, className="ms-auto text-nowrap"),
                    dcc.Download(id=ids.JOURNEYS_DOWNLOAD),
                ],
                className="d-flex align-items-center gap-2 mb-2",
            ),
            flow_grid(),
        ],
        className="panel h-100 mb-0",
    )


def layout() -> html.Div:
    """Static skeleton; callbacks.journeys fills it from the current results."""
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(controls_panel(), lg=4, xl=3),
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.H5([html.I(className="bi bi-signpost-split me-2"), "What moved"]),
                                    dcc.Loading(html.Div(id=ids.JOURNEYS_HEADLINES), **_LOADING),
                                ],
                                className="panel",
                            ),
                            html.Div(graph(ids.JOURNEYS_SANKEY, 560), className="panel"),
                        ],
                        lg=8, xl=9,
                    ),
                ],
            ),
            dbc.Row(
                [
                    dbc.Col(html.Div(graph(ids.JOURNEYS_MATRIX, 520), className="panel h-100 mb-0"), xl=5),
                    dbc.Col(flow_panel(), xl=7),
                ],
                className="g-3 mb-3",
            ),
            html.Div(dbc.Accordion(dbc.AccordionItem(dcc.Markdown(methodology.JOURNEYS, className="small"),
                                                     title="How journeys are computed"),
                                   start_collapsed=True), className="panel"),
        ],
        className="pt-1",
    )
