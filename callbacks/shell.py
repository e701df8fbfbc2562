"""The shell: hands the current results key to the tab being shown, and only to it."""

from __future__ import annotations

import dash
from dash import Input, Output, State

from components import ids
from components.layout import LAZY_BODIES, LAZY_TABS


def route_key(key: str | None, active_tab: str, seen: dict[str, str | None]) -> dict:
    """New value of each tab's key Store, by tab: the active tab gets the key when it has not seen it yet."""
    return {tab: key if tab == active_tab and key and key != seen[tab] else dash.no_update for tab in LAZY_TABS}


def register(app: dash.Dash) -> None:
    app.callback(
        output={tab: Output(ids.tab_key(tab), "data") for tab in LAZY_TABS},
        inputs={"key": Input(ids.RESULTS_KEY, "data"), "active_tab": Input(ids.TABS, "active_tab"),
                "seen": {tab: State(ids.tab_key(tab), "data") for tab in LAZY_TABS}},
    )(route_key)

    # one callback for every tab body, not one per tab: a tab click is one request, not five (under load
    # the drawers were half of all requests)
    app.callback(
        output={"bodies": {tab_id: Output(ids.tab_body(tab_id), "children") for tab_id in LAZY_BODIES},
                "drawn": {tab_id: Output(ids.tab_drawn(tab_id), "data") for tab_id in LAZY_BODIES}},
        # flags, not the drawn bodies: a tab switch sends bytes, not MB
        inputs={"active_tab": Input(ids.TABS, "active_tab"),
                "drawn": {tab_id: State(ids.tab_drawn(tab_id), "data") for tab_id in LAZY_BODIES}},
    )(draw_tabs)


def draw_tabs(active_tab: str, drawn: dict[str, bool]) -> dict:
    """Every lazy tab's body and its drawn flag, by tab: the active tab's body on its first visit, never again
    (its filters keep their state); no_update everywhere else."""
    bodies = {tab_id: build() if tab_id == active_tab and not drawn[tab_id] else dash.no_update
              for tab_id, build in LAZY_BODIES.items()}
    return {"bodies": bodies,
            "drawn": {tab_id: True if body is not dash.no_update else dash.no_update for tab_id, body in bodies.items()}}
