"""The results cache's disk (``analytics.cache_disk``): values are pickled into their file, not into memory."""

import tracemalloc

import diskcache
import numpy as np
import pandas as pd
import pytest

from analytics.cache import SQLITE_SETTINGS, ResultsCache


def peak_bytes_storing(cache: ResultsCache, value) -> int:
    tracemalloc.start()
    try:
        cache.set("value", value)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_value_is_written_without_a_whole_copy_in_memory(tmp_path):
    frame = pd.DataFrame({"spend": np.arange(4_000_000, dtype=np.float64),
                          "customer": pd.Categorical(np.arange(4_000_000) % 1000)})  # 40 MB
    cache = ResultsCache(tmp_path)
    assert peak_bytes_storing(cache, frame) < 4 * 2**20
    pd.testing.assert_frame_equal(cache.get("value"), frame)
    # diskcache's own disk holds the whole pickle: the measurement above could fail
    plain = diskcache.Cache(str(tmp_path / "plain"), **SQLITE_SETTINGS)
    tracemalloc.start()
    plain.set("value", frame)
    assert tracemalloc.get_traced_memory()[1] > 40 * 2**20
    tracemalloc.stop()


@pytest.mark.parametrize(("value", "in_a_file"), [
    ({"a": 1}, False), (["x"] * 100_000, True), (pd.DataFrame({"x": range(5)}), False), ("text", False), (3, False),
    (b"raw", False)])  # the list pickles past diskcache's min_file_size (32 KB)
def test_small_and_large_values_read_back_and_small_ones_stay_in_the_database(tmp_path, value, in_a_file):
    cache = ResultsCache(tmp_path)
    cache.set("value", value)
    stored = cache.get("value")
    if isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(stored, value)
    else:
        assert stored == value
    assert bool(list(tmp_path.rglob("*.val"))) == in_a_file


def test_a_value_that_cannot_be_pickled_leaves_no_file_and_no_entry(tmp_path):
    cache = ResultsCache(tmp_path)
    with pytest.raises(Exception):
        cache.set("value", [np.zeros(100_000), lambda: None])  # the array spills to a file first
    assert "value" not in cache
    assert not list(tmp_path.rglob("*.val"))
