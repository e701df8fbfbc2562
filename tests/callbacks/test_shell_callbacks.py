"""The shell: the results key goes to the tab being shown, and only when it has not seen it; a tab's body is
drawn on its first visit and kept."""

from __future__ import annotations

import dash

from callbacks.shell import _drawer, route_key
from components.layout import LAZY_BODIES, LAZY_TABS


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


def test_a_tab_body_is_drawn_once():
    draw = _drawer("roi", LAZY_BODIES["roi"])
    assert draw("tower", None) is dash.no_update
    body = draw("roi", None)
    assert body is not dash.no_update and "roi-segments" in str(body.to_plotly_json())
    assert draw("roi", [body]) is dash.no_update  # kept, with the person's settings
