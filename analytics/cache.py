"""Results cache on disk, shared by processes: keyed results, source aliases, and a per-key fitting lock."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import diskcache
import pandas as pd

T = TypeVar("T")

# A stuck fit must not block the key forever: the lock expires after this many seconds.
LOCK_EXPIRE_S = 600


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """Content hash of a DataFrame (values, index and column names), hex."""
    digest = hashlib.sha256()
    digest.update("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def fingerprint(*parts: Any) -> str:
    """Hash of JSON-serialisable parts (parameters, versions, other fingerprints), hex."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ResultsCache:
    """A ``diskcache.Cache`` holding pickled results (tables and parameters, never fitted model objects)."""

    def __init__(self, directory: str | Path, size_limit_bytes: int = 4 * 2**30) -> None:
        self.directory = Path(directory)
        self._cache = diskcache.Cache(str(self.directory), size_limit=size_limit_bytes)

    def get(self, key: str) -> Any | None:
        return self._cache.get(key)

    def set(self, key: str, value: Any) -> None:
        self._cache.set(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """Cached value for ``key``, computing it under a lock so two processes never fit the same key."""
        value = self._cache.get(key)
        if value is not None:
            return value
        with diskcache.Lock(self._cache, f"lock:{key}", expire=LOCK_EXPIRE_S):
            value = self._cache.get(key)  # another process may have finished while we waited
            if value is None:
                value = compute()
                self._cache.set(key, value)
        return value

    def close(self) -> None:
        self._cache.close()
