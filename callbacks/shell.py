"""The shell: hands the current results key to the tab being shown, and only to it."""

from __future__ import annotations

import dash
from dash import Input, Output, State

from components import ids
from components.layout import LAZY_BODIES, LAZY_TABS


def route_key(key: str | None, active_tab: str, *seen: str | None) -> list:
    """New value of each tab's key Store: the active tab gets the key when it has not seen it yet."""
    return [key if tab == active_tab and key and key != old else dash.no_update for tab, old in zip(LAZY_TABS, seen)]


def register(app: dash.Dash) -> None:
    app.callback(
        [Output(ids.tab_key(tab), "data") for tab in LAZY_TABS],
        Input(ids.RESULTS_KEY, "data"),
        Input(ids.TABS, "active_tab"),
        *[State(ids.tab_key(tab), "data") for tab in LAZY_TABS],
    )(route_key)

    for tab_id, build in LAZY_BODIES.items():
        app.callback(
            Output(ids.tab_body(tab_id), "children"),
            Output(ids.tab_drawn(tab_id), "data"),
            Input(ids.TABS, "active_tab"),
            State(ids.tab_drawn(tab_id), "data"),  # a flag, not the drawn body: a tab switch sends bytes, not MB
        )(_drawer(tab_id, build))


def _drawer(tab_id: str, build):
    """Callback drawing a tab's body on its first visit and never again (its filters keep their state)."""

    def draw(active_tab: str, drawn: bool):
        if active_tab != tab_id or drawn:
            return dash.no_update, dash.no_update
        return build(), True

    return draw
