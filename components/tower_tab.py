"""Executive tower: KPI cards, the automated narrative, the monthly trend, segments and cohort retention."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids

# an executive view: keep "download as PNG" and "reset axes", drop the analyst's zoom/pan/select tools
_GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                            "autoScale2d"]}


def graph(graph_id: str, height: int = 360) -> dcc.Graph:
    """A chart slot with a fixed starting height so the page does not jump while results arrive."""
    return dcc.Graph(id=graph_id, config=_GRAPH_CONFIG, style={"minHeight": f"{height}px"})


def narrative_list(sentences: Sequence[str]) -> html.Ul:
    """The narrative as a short bulleted list."""
    return html.Ul([html.Li(s) for s in sentences], className="narrative mb-0 ps-3")


def layout() -> html.Div:
    """Static skeleton; callbacks.tower fills every element from the current results."""
    loading = dict(type="dot", color="#0f766e", delay_show=300)
    return html.Div(
        [
            dcc.Loading(html.Div(id=ids.TOWER_KPIS), **loading),
            dbc.Row(
                [
                    dbc.Col(
                        html.Div(
                            [
                                html.H5([html.I(className="bi bi-chat-square-text me-2"),
                                         "What the data says"]),
                                dcc.Loading(html.Div(id=ids.TOWER_NARRATIVE), **loading),
                                html.Div("Generated from these results; hover a KPI for its definition.",
                                         className="small-muted mt-2"),
                            ],
                            className="panel h-100 mb-0",
                        ),
                        lg=4,
                    ),
                    dbc.Col(html.Div(graph(ids.TOWER_TREND), className="panel h-100 mb-0"), lg=8),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(html.Div(graph(ids.TOWER_SEGMENTS, 420), className="panel h-100 mb-0"), lg=5),
                    dbc.Col(html.Div(graph(ids.TOWER_COHORTS, 420), className="panel h-100 mb-0"), lg=7),
                ],
                className="g-3 mb-3",
            ),
        ],
        className="pt-1",
    )
