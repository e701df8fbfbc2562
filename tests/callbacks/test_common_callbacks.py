"""What every tab's callbacks share: reading results by key, dropdown options, slider ranges, error alerts."""

from __future__ import annotations

import dash
import pytest

from callbacks import common
from settings import Settings
from tests.callbacks.conftest import text_of


def test_results_are_read_by_key_and_a_miss_is_not_remembered(cdnow_stored, tmp_path):
    assert common.load_results(cdnow_stored.settings, cdnow_stored.key) is cdnow_stored.results  # memoised
    for key in (None, ""):
        with pytest.raises(dash.exceptions.PreventUpdate):
            common.load_results(cdnow_stored.settings, key)
    settings = Settings(cache_dir=tmp_path)
    with pytest.raises(dash.exceptions.PreventUpdate):  # not there yet: another worker may be writing it
        common.load_results(settings, cdnow_stored.key)
    common.results_cache(settings).set(cdnow_stored.key, cdnow_stored.results)
    loaded = common.load_results(settings, cdnow_stored.key)
    assert len(loaded.customers) == len(cdnow_stored.results.customers)


def test_what_a_tab_draws_from_results_is_drawn_once_per_key_and_arguments(cdnow_stored):
    calls = []

    def draw(results, threshold=None):
        calls.append(threshold)
        return len(results.customers), threshold

    settings, key = cdnow_stored.settings, cdnow_stored.key
    size = len(cdnow_stored.results.customers)
    assert common.drawn(settings, key, draw) == common.drawn(settings, key, draw) == (size, None)
    assert common.drawn(settings, key, draw, 0.7) == (size, 0.7)
    assert calls == [None, 0.7]  # the second opening came from the memo
    assert common.drawn(settings, key, draw, [0.7]) == (size, [0.7])  # a forged list: drawn, not memoised
    common.forget_loaded_results()  # a deleted dataset: nothing drawn from it survives
    common.drawn(settings, key, draw)
    assert calls == [None, 0.7, [0.7], None]
    with pytest.raises(dash.exceptions.PreventUpdate):
        common.drawn(settings, None, draw)


def test_options_keep_a_chosen_value_these_results_lack():
    assert common.options(["A", "B"]) == [{"label": "A", "value": "A"}, {"label": "B", "value": "B"}]
    assert [o["value"] for o in common.options(["A"], ["From a link", "A"])] == ["A", "From a link"]


def test_a_slider_end_at_its_limit_is_open():
    assert common.open_range([0, 1], 0.0, 1.0) == (None, None)
    assert common.open_range([0.2, 1], 0.0, 1.0) == (0.2, None)
    assert common.open_range([0, 500], 0.0, 1200.0) == (None, 500.0)
    assert common.open_range(None, 0.0, 1.0) == (None, None)
    # no known top (e.g. no CLV in these results): the slider's end means nothing, so it is open
    assert common.open_range([10, 20], 0.0, None) == (10.0, None)


def test_an_error_is_one_alert_with_a_bounded_message():
    alert = common.error_alert("the churn window is empty", "Cannot run")
    assert text_of(alert) == "Cannot run:  the churn window is empty" and alert.color == "danger"
    long = text_of(common.error_alert("x" * 5000))
    assert len(long) < 800 and "more characters not shown" in long


def test_every_background_callback_has_a_queued_progress_of_its_own_shape(tmp_path):
    from app import create_app

    app = create_app(Settings(cache_dir=tmp_path))
    background = {key: spec["background"] for key, spec in app.callback_map.items() if spec.get("background")}
    assert len(background) == 2
    for outputs, spec in background.items():
        ids_ = [part.rsplit(".", 1)[0] for part in outputs.strip(".").split("...")]
        for running, text in [(True, common.QUEUED), (False, common.QUEUED_NO_WORKER)]:
            queued = common.queued_progress(ids_, running)
            assert queued is not None and len(queued) == len(spec["progress"]) and queued[-1] == text
    assert common.queued_progress(["explorer-table"], True) is None  # a callback with no queued progress
