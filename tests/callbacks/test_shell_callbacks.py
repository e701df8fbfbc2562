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
    seen = [None] * len(LAZY_TABS)
    routed = route_key(key, "explorer", *seen)
    assert routed[LAZY_TABS.index("explorer")] == key
    assert all(v is dash.no_update for tab, v in zip(LAZY_TABS, routed) if tab != "explorer")
    seen[LAZY_TABS.index("explorer")] = key
    assert all(v is dash.no_update for v in route_key(key, "explorer", *seen))  # already seen: nothing to redo
    assert all(v is dash.no_update for v in route_key(None, "tower", *seen))  # no results yet
    assert route_key(key, "data", *seen) == [dash.no_update] * len(LAZY_TABS)  # the Data tab is not lazy


def test_no_callback_sends_a_drawn_tab_body_back(tmp_path):
    from app import create_app

    app = create_app(Settings(cache_dir=tmp_path))
    heavy = {(ids.tab_body(tab), "children") for tab in LAZY_TABS}
    for key, entry in app.callback_map.items():
        sent = {(item["id"], item["property"]) for item in entry["inputs"] + entry["state"]}
        assert not sent & heavy, key


def test_a_tab_is_drawn_on_its_first_visit_only():
    tabs = list(LAZY_BODIES)
    explorer = tabs.index("explorer")
    drawn = draw_tabs("explorer", *[False] * len(tabs))
    bodies, flags = drawn[:len(tabs)], drawn[len(tabs):]
    assert bodies[explorer] is not None and bodies[explorer] is not dash.no_update and flags[explorer] is True
    assert all(b is dash.no_update and f is dash.no_update
               for i, (b, f) in enumerate(zip(bodies, flags)) if i != explorer)
    nothing = [dash.no_update] * 2 * len(tabs)
    assert draw_tabs("explorer", *[i == explorer for i in range(len(tabs))]) == nothing  # drawn once, kept
    assert draw_tabs("data", *[False] * len(tabs)) == nothing  # the Data tab is not lazy
