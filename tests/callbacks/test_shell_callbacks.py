"""The shell: the results key goes to the tab being shown, and only when it has not seen it; a tab's body is
drawn on its first visit and kept, and a tab switch sends nothing heavy back to the server."""

from __future__ import annotations

import dash

from callbacks.shell import draw_tabs, route_key
from components import ids
from components.layout import LAZY_BODIES, LAZY_TABS
from settings import Settings


def test_only_the_active_tab_gets_a_new_key(cdnow_stored):
    key = cdnow_stored.key
    seen = dict.fromkeys(LAZY_TABS)
    routed = route_key(key, "explorer", seen)
    assert routed["explorer"] == key
    assert all(v is dash.no_update for tab, v in routed.items() if tab != "explorer")
    seen["explorer"] = key
    assert all(v is dash.no_update for v in route_key(key, "explorer", seen).values())  # seen: nothing to redo
    assert all(v is dash.no_update for v in route_key(None, "tower", seen).values())  # no results yet
    assert route_key(key, "data", seen) == dict.fromkeys(LAZY_TABS, dash.no_update)  # the Data tab is not lazy


def test_no_callback_sends_a_drawn_tab_body_back(tmp_path):
    from app import create_app

    app = create_app(Settings(cache_dir=tmp_path))
    heavy = {(ids.tab_body(tab), "children") for tab in LAZY_TABS}
    for key, entry in app.callback_map.items():
        sent = {(item["id"], item["property"]) for item in entry["inputs"] + entry["state"]}
        assert not sent & heavy, key


def test_a_tab_is_drawn_on_its_first_visit_only():
    drawn = draw_tabs("explorer", dict.fromkeys(LAZY_BODIES, False))
    bodies, flags = drawn["bodies"], drawn["drawn"]
    assert bodies["explorer"] is not None and bodies["explorer"] is not dash.no_update and flags["explorer"] is True
    assert all(bodies[tab] is dash.no_update and flags[tab] is dash.no_update for tab in LAZY_BODIES
               if tab != "explorer")
    nothing = {"bodies": dict.fromkeys(LAZY_BODIES, dash.no_update), "drawn": dict.fromkeys(LAZY_BODIES, dash.no_update)}
    assert draw_tabs("explorer", {tab: tab == "explorer" for tab in LAZY_BODIES}) == nothing  # drawn once, kept
    assert draw_tabs("data", dict.fromkeys(LAZY_BODIES, False)) == nothing  # the Data tab is not lazy
