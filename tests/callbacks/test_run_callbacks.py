"""Run callbacks as functions: the Data tab's parameters, and a cached dataset's results without a job."""

from __future__ import annotations

import dash
import pytest

from analytics.errors import DataError
from analytics.params import AnalysisParams
from callbacks.run import analysis_outputs, dataset_results, editor_mapping, params_from_inputs
from components.database_source import DATABASE
from settings import Settings
from tests.callbacks.conftest import text_of

DEFAULT_INPUTS = ["", 12, 30, 1, 90, "kmeans", None, [2, 8]]  # as the Data tab starts: percentages in the UI


def test_the_data_tabs_defaults_are_the_analysis_defaults():
    assert params_from_inputs(*DEFAULT_INPUTS) == AnalysisParams()


def test_percentages_become_fractions_and_bad_fields_are_named():
    params = params_from_inputs("2011-06-01", 6, 45, 2, 60, "gmm", 4, [2, 6])
    assert (params.as_of, params.clv_horizon_months, params.gross_margin_fraction, params.monthly_discount_rate) == \
        ("2011-06-01", 6, 0.45, 0.02)
    assert (params.churn_window_days, params.cluster_method, params.cluster_k, params.k_max) == (60, "gmm", 4, 6)
    with pytest.raises(DataError, match="gross margin is empty"):
        params_from_inputs("", 12, None, 1, 90, "kmeans", None, [2, 8])
    with pytest.raises(DataError, match="churn window 3 days is outside 7-730"):
        params_from_inputs("", 12, 30, 1, 3, "kmeans", None, [2, 8])
    with pytest.raises(DataError, match="not a date"):
        params_from_inputs("yesterday", 12, 30, 1, 90, "kmeans", None, [2, 8])


def test_a_cached_dataset_opens_without_a_job_and_another_asks_for_one(cdnow_stored, tmp_path):
    shown = dataset_results(cdnow_stored.settings, "cdnow_sample", DEFAULT_INPUTS)
    assert shown == {"key": cdnow_stored.key, "autorun": dash.no_update, "alert": dash.no_update}
    other = dataset_results(cdnow_stored.settings, "cdnow_sample", ["", 6, 30, 1, 90, "kmeans", None, [2, 8]])
    assert other == {"key": dash.no_update, "autorun": "cdnow_sample", "alert": dash.no_update}  # other parameters: not computed yet
    empty = dataset_results(Settings(cache_dir=tmp_path), "synthetic", DEFAULT_INPUTS)
    assert empty["autorun"] == "synthetic"
    bad = dataset_results(cdnow_stored.settings, "cdnow_sample", ["", 12, None, 1, 90, "kmeans", None, [2, 8]])
    assert bad["autorun"] == "cdnow_sample"  # the background run names the empty field
    for source in ("upload", DATABASE):  # an upload starts its own run; a database needs a table first
        with pytest.raises(dash.exceptions.PreventUpdate):
            dataset_results(cdnow_stored.settings, source, DEFAULT_INPUTS)


def test_a_run_returns_the_results_key_or_names_what_is_wrong(cdnow_stored):
    steps = []
    no_db = (None, None, None, None)
    shown = analysis_outputs(cdnow_stored.settings, False, None, "cdnow_sample", ([], []), no_db, DEFAULT_INPUTS,
                             lambda fraction, message: steps.append(message))
    assert shown == {"key": cdnow_stored.key, "error": None, "mapping": dash.no_update}  # the cached run
    bad = analysis_outputs(cdnow_stored.settings, False, None, "cdnow_sample", ([], []), no_db,
                           ["", 12, None, 1, 90, "kmeans", None, [2, 8]], lambda *_: None)
    assert bad["key"] is dash.no_update and "gross margin is empty" in text_of(bad["error"])
    forged = analysis_outputs(cdnow_stored.settings, False, {"upload_id": "../x", "filename": "a.csv"}, "upload",
                              ([], []), no_db, DEFAULT_INPUTS, lambda *_: None)
    assert forged["key"] is dash.no_update and text_of(forged["error"])
    assert analysis_outputs(cdnow_stored.settings, True, None, "upload", ([], []), no_db, DEFAULT_INPUTS,
                            lambda *_: None) == {k: dash.no_update for k in ("key", "error", "mapping")}


def test_the_mapping_editor_is_the_whole_mapping():
    editor_ids = [{"type": "mapping", "canonical": "customer_id"}, {"type": "mapping", "canonical": "country"}]
    assert editor_mapping(["Client", None], editor_ids) == {"customer_id": "Client", "country": None}


def test_the_results_cache_has_the_configured_size_limit(tmp_path, monkeypatch):
    from callbacks import common

    monkeypatch.setenv("RCT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RCT_CACHE_LIMIT_MB", "300")
    cache = common.results_cache(Settings.from_env())
    assert cache.size_limit_bytes == cache._cache.size_limit == 300 * 2**20
    assert common.results_cache(Settings(cache_dir=tmp_path)).size_limit_bytes == 4096 * 2**20
    monkeypatch.setenv("RCT_CACHE_LIMIT_MB", "100")
    with pytest.raises(SystemExit, match="RCT_CACHE_LIMIT_MB=100 must be at least 256"):
        Settings.from_env()
