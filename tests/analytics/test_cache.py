import threading
import time

import pandas as pd

from analytics.cache import ResultsCache, fingerprint, fingerprint_frame


def test_fingerprint_frame_changes_with_any_value():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    changed = frame.copy()
    changed.loc[1, "b"] = "z"
    assert fingerprint_frame(frame) == fingerprint_frame(frame.copy())
    assert fingerprint_frame(frame) != fingerprint_frame(changed)
    assert fingerprint({"k": 1}) != fingerprint({"k": 2})


def test_lock_lets_only_one_thread_compute_a_key(tmp_path):
    cache = ResultsCache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.3)
        return {"value": 42}

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(ResultsCache(tmp_path).get_or_compute("k", compute)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [{"value": 42}] * 3
    assert cache.get("k") == {"value": 42}
