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


# Tabs whose charts are drawn only once shown (the Data tab is cheap and holds the run controls).
LAZY_TABS = ("tower", "explorer", "journeys", "roi", "methodology")


def account(user: str | None, sign_in_on: bool):
    """Who is signed in and a sign-out link; or, with sign-in off, a plain statement that it is off."""
    if not sign_in_on:
        return html.Span("Sign-in is off (local mode): anyone who can open this address sees every tab.",
                         id=ids.ACCOUNT, className="small text-warning-emphasis")
    return html.Span([html.I(className="bi bi-person-circle me-1"), user or "", " · ",
                      html.A("Sign out", href="/logout", id=ids.SIGN_OUT)], id=ids.ACCOUNT, className="small")


def navbar(user: str | None = None, sign_in_on: bool = False) -> html.Header:
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
                account(user, sign_in_on),
            ],
            fluid=True,
            className="d-flex justify-content-between align-items-center py-2",
        ),
        className="rct-navbar mb-3",
    )


FIRST_TAB = "tower"
# Builders of the tabs drawn on their first visit; the page opens with only the Data tab (its run controls
# must exist from the start) and the first tab, so the browser has little to render before the results.
LAZY_BODIES = {
    "tower": tower_tab.layout,
    "explorer": explorer_tab.layout,
    "journeys": journeys_tab.layout,
    "roi": roi_tab.layout,
    "methodology": methodology_tab.layout,
}


def tab_bodies(settings) -> dict:
    """Each tab's body at page load: built for the Data and first tab, an empty container for the others."""
    from analytics.datasets import DATASETS

    bodies = {"data": data_tab.layout({name: d.description for name, d in DATASETS.items()},
                                      settings.default_dataset, settings.upload_limit_mb,
                                      list(settings.db_connections))}
    for tab_id, build in LAZY_BODIES.items():
        bodies[tab_id] = html.Div(build() if tab_id == FIRST_TAB else None, id=ids.tab_body(tab_id))
    return {tab_id: bodies[tab_id] for tab_id in TAB_LABELS}


def build_layout(settings, hidden_tabs: frozenset = frozenset(), user: str | None = None,
                 sign_in_on: bool = False) -> html.Div:
    """The whole page. Only the results key lives in the browser; tables stay in the server's cache."""
    return html.Div(
        [
            navbar(user, sign_in_on),
            dbc.Container(
                [
                    html.Div(id=ids.SERVER_ALERT, className="mb-2"),
                    dcc.Store(id=ids.RESULTS_KEY, storage_type="memory"),
                    dcc.Store(id=ids.AUTORUN),
                    dcc.Store(id=ids.UPLIFT_FILE),  # the campaign test, read by the evidence and ROI tabs
                    dcc.Store(id=ids.UPLIFT_KEY),
                    dcc.Location(id=ids.LOCATION, refresh=False),
                    *[dcc.Store(id=ids.tab_key(tab_id)) for tab_id in LAZY_TABS],
                    *[dcc.Store(id=ids.tab_drawn(tab_id), data=tab_id == FIRST_TAB) for tab_id in LAZY_TABS],
                    dbc.Tabs(
                        [
                            # a hidden tab stays in the page (its controls feed shared callbacks) but is not
                            # shown; the server refuses its callbacks to this role anyway
                            dbc.Tab(body, label=TAB_LABELS[tab_id], tab_id=tab_id,
                                    tab_style={"display": "none"} if tab_id in hidden_tabs else None)
                            for tab_id, body in tab_bodies(settings).items()
                        ],
                        id=ids.TABS,
                        active_tab=FIRST_TAB,
                        className="mb-3",
                    ),
                ],
                fluid=True,
            ),
        ]
    )
