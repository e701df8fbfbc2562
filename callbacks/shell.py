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

    # one callback for every tab body, not one per tab: a tab click is one request, not five (under load
    # the drawers were half of all requests)
    app.callback(
        [Output(ids.tab_body(tab_id), "children") for tab_id in LAZY_BODIES]
        + [Output(ids.tab_drawn(tab_id), "data") for tab_id in LAZY_BODIES],
        Input(ids.TABS, "active_tab"),
        # flags, not the drawn bodies: a tab switch sends bytes, not MB
        *[State(ids.tab_drawn(tab_id), "data") for tab_id in LAZY_BODIES],
    )(draw_tabs)


def draw_tabs(active_tab: str, *drawn: bool) -> list:
    """Every lazy tab's body, then its drawn flag: the active tab's body on its first visit, never again
    (its filters keep their state); no_update everywhere else."""
    bodies = [build() if tab_id == active_tab and not done else dash.no_update
              for (tab_id, build), done in zip(LAZY_BODIES.items(), drawn)]
    return bodies + [True if body is not dash.no_update else dash.no_update for body in bodies]
