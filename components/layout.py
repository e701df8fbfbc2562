"""The page shell: navbar and tabs. Every tab's body is in the page from the start (filters keep their state
across tab switches); callbacks fill them from the results in the cache."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import data_tab, explorer_tab, ids, journeys_tab, methodology_tab, roi_tab, tower_tab

TAB_LABELS = {
    "data": "Data",
    "tower": "Executive tower",
    "explorer": "Segment explorer",
    "journeys": "Journeys",
    "roi": "ROI simulator",
    "methodology": "Methodology & evidence",
}


def navbar() -> html.Header:
    return html.Header(
        dbc.Container(
            [
                html.Div(
                    [
                        html.I(className="bi bi-broadcast-pin me-2"),
                        html.Span("Retention Control Tower", className="navbar-brand mb-0 h1"),
                    ],
                    className="d-flex align-items-center",
                ),
                html.Div(id=ids.DATASET_SUMMARY, className="rct-subtitle"),
            ],
            fluid=True,
            className="d-flex justify-content-between align-items-center py-2",
        ),
        className="rct-navbar mb-3",
    )


def tab_bodies(settings) -> dict:
    """Each tab's static body; callbacks fill them from the results in the cache."""
    from analytics.datasets import DATASETS

    return {
        "data": data_tab.layout({name: d.description for name, d in DATASETS.items()}, settings.default_dataset,
                                settings.upload_limit_mb),
        "tower": tower_tab.layout(),
        "explorer": explorer_tab.layout(),
        "journeys": journeys_tab.layout(),
        "roi": roi_tab.layout(),
        "methodology": methodology_tab.layout(),
    }


def build_layout(settings) -> html.Div:
    """The whole page. Only the results key lives in the browser; tables stay in the server's cache."""
    return html.Div(
        [
            navbar(),
            dbc.Container(
                [
                    dcc.Store(id=ids.RESULTS_KEY, storage_type="memory"),
                    dbc.Tabs(
                        [
                            dbc.Tab(body, label=TAB_LABELS[tab_id], tab_id=tab_id)
                            for tab_id, body in tab_bodies(settings).items()
                        ],
                        id=ids.TABS,
                        active_tab="tower",
                        className="mb-3",
                    ),
                ],
                fluid=True,
            ),
        ]
    )
