"""Journey histories of an analysis at other settings: computed once by the pipeline layer, then read back."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import journeys as J
from analytics import pipeline
from analytics.cache import ResultsCache
from analytics.errors import DataError
from analytics.invoices import invoice_table
from analytics.journeys import stored
from analytics.journeys.stored import cached_history, history_for, history_key


@pytest.fixture(scope="module")
def cdnow(cdnow_run):
    return cdnow_run.results, cdnow_run.lines


def test_history_is_computed_once_then_read_from_the_cache(cdnow, tmp_path, monkeypatch):
    results, lines = cdnow
    expected = J.journey_history(lines, results.as_of, period="M", inactive_days=90)
    cache = ResultsCache(tmp_path)
    cache.set(pipeline.invoices_key("k"), invoice_table(lines))
    calls = []
    compute = J.journey_history
    monkeypatch.setattr(stored, "journey_history", lambda *a, **kw: calls.append(1) or compute(*a, **kw))

    first = cached_history(cache, "k", results.as_of, "M", 90)
    second = cached_history(cache, "k", results.as_of, "M", 90)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, expected)
    pd.testing.assert_frame_equal(second, expected)
    # another process (a second gunicorn worker) reads the same entry
    pd.testing.assert_frame_equal(ResultsCache(tmp_path).get(history_key("k", "M", 90)), expected)
    cached_history(cache, "k", results.as_of, "M", 91)
    assert len(calls) == 2


def test_history_keys_differ_by_results_period_and_window():
    keys = {history_key("a", "Q", 180), history_key("b", "Q", 180), history_key("a", "M", 180),
            history_key("a", "Q", 90)}
    assert len(keys) == 4


def test_history_without_the_cleaned_lines_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="no longer in the cache; run the analysis again"):
        cached_history(ResultsCache(tmp_path), "gone", "2011-12-10", "Q", 180)


def test_the_pipeline_history_serves_its_own_settings_and_a_bad_period_is_named(cdnow, tmp_path):
    results, _ = cdnow
    cache = ResultsCache(tmp_path)
    shown = history_for(cache, results, "Q", J.DEFAULT_INACTIVE_DAYS)
    assert shown is results.journeys.history
    assert history_key(results.key, "Q", J.DEFAULT_INACTIVE_DAYS) not in cache
    with pytest.raises(DataError, match="snapshot period 'W' is not one of Q, M"):
        history_for(cache, results, "W", 90)
