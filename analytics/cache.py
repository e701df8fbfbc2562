"""Results cache on disk, shared by processes: keyed results, source aliases, a per-key fitting lock and
the slots that bound how many analyses run at once.

Locks and slots are tied to the process holding them: the holder is recorded (pid and the process's start
time, read with psutil so a reused pid is not mistaken for it), and a waiter that finds the holder gone
(killed, cancelled, crashed, or a zombie not yet reaped) takes the lock over at once. So a cancelled or dead
run never strands the next one. The expiry stays only as a backstop for a holder on another machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa

from analytics.values import codes_of

T = TypeVar("T")

# Backstop for a holder whose liveness cannot be checked (another host): the lock expires after this long.
LOCK_EXPIRE_S = 600
_POLL_S = 0.1


def new_owner() -> dict:
    """Who holds a lock: this process (pid + start time), on this host, this thread's unique token."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": psutil.Process().create_time(),
            "token": uuid.uuid4().hex, "thread": threading.get_ident()}


def holder_alive(owner: dict) -> bool:
    """False when the recorded holder process is gone (or a zombie); True when it lives or is elsewhere."""
    if owner.get("host") != socket.gethostname():
        return True  # cannot see another host's processes: the expiry decides
    try:
        process = psutil.Process(owner["pid"])
        return process.create_time() == owner["started"] and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, KeyError):
        return False


class KeyRecorder:
    """A results cache seen through a recorder of every key written through it: what one run derived from
    its data, so deleting a dataset can delete all of it."""

    def __init__(self, cache) -> None:
        self._cache = cache
        self.written: set[str] = set()

    def __getattr__(self, name: str):
        return getattr(self._cache, name)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def set(self, key: str, value: Any) -> None:
        self.written.add(key)
        self._cache.set(key, value)

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        self.written.add(key)
        return self._cache.get_or_compute(key, compute)


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """Hash of a DataFrame's values, index and column names, hex: equal for equal values however they are
    held (a categorical's category order, a string column's storage), so it is what compares the data two
    readers make. For a cache key, ``fingerprint_data`` is four times faster."""
    digest = hashlib.sha256()
    digest.update("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def fingerprint_data(frame: pd.DataFrame) -> str:
    """Hash of a DataFrame as held in memory (column names, dtypes, index, and each column's bytes: numbers,
    a categorical's codes and categories, a string column's characters), hex: any change of a value changes
    it; the same values held another way (categories in another order) give another key, which costs a cache
    miss only. SHA-256 straight over the arrays (hashlib releases the GIL, so it runs beside other work): the
    10M cleaned lines in 0.3 s against 1.2 s for ``fingerprint_frame``'s per-row hashes."""
    digest = hashlib.sha256()
    digest.update(repr((list(map(str, frame.columns)), list(map(str, frame.dtypes)), len(frame))).encode())
    if isinstance(frame.index, pd.RangeIndex):
        digest.update(repr(frame.index).encode())
    else:
        _hash_values(digest, frame.index.to_series())
    for position in range(frame.shape[1]):
        _hash_values(digest, frame.iloc[:, position])
    return digest.hexdigest()


_NUMPY_ARRAYS = (pd.arrays.NumpyExtensionArray, pd.arrays.DatetimeArray, pd.arrays.TimedeltaArray)


def _hash_values(digest, values: pd.Series) -> None:
    if isinstance(values.dtype, pd.CategoricalDtype):
        _hash_values(digest, values.cat.categories.to_series())
        digest.update(np.ascontiguousarray(codes_of(values)))
    elif isinstance(values.array, pd.arrays.ArrowStringArray):
        strings = pa.array(values.array)
        if isinstance(strings, pa.ChunkedArray):
            strings = strings.combine_chunks()
        strings = strings.cast(pa.large_string())
        ends = np.frombuffer(strings.buffers()[1], dtype=np.int64)
        ends = ends[strings.offset:strings.offset + len(strings) + 1]
        digest.update(ends if ends[0] == 0 else ends - ends[0])  # where each value ends (a slice's from 0)
        digest.update(memoryview(strings.buffers()[2])[ends[0]:ends[-1]] if len(strings) else b"")
        digest.update(np.ascontiguousarray(strings.is_null().to_numpy(zero_copy_only=False)))
    elif isinstance(values.array, _NUMPY_ARRAYS) and values.dtype.kind in "biufcmM":
        digest.update(np.ascontiguousarray(values.to_numpy()))
    else:  # anything else (objects, nullable numbers...) by pandas' hashes of its values
        digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy())


def fingerprint(*parts: Any) -> str:
    """Hash of JSON-serialisable parts (parameters, versions, other fingerprints), hex."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


# Rollback journal, not diskcache's default WAL: every background run is a fork of a web process that has the
# results database open, and WAL's per-process shared-memory index does not survive a fork (SQLite: connections
# must not cross fork). Under WAL a run's writes stayed invisible to the web process until the run's process
# exited, so the page got the results key before it could read the results. The journal mode is stored in the
# database file: anything else opening it (tests, scripts) must use these settings too, or it turns WAL back on.
SQLITE_SETTINGS = {"sqlite_journal_mode": "delete"}


class ResultsCache:
    """A ``diskcache.Cache`` holding pickled results (tables and parameters, never fitted model objects)."""

    def __init__(self, directory: str | Path, size_limit_bytes: int = 4 * 2**30, ttl_s: int | None = None) -> None:
        """``ttl_s``: stored values expire this many seconds after they were written (None: never)."""
        self.directory = Path(directory)
        self.ttl_s = ttl_s
        self.size_limit_bytes = size_limit_bytes
        # imported here: diskcache (and SQLite) cost the command line, which caches nothing, 9 ms of imports
        import diskcache

        from analytics.cache_disk import StreamingDisk

        self._cache = diskcache.Cache(str(self.directory), size_limit=size_limit_bytes, disk=StreamingDisk,
                                      **SQLITE_SETTINGS)

    def get(self, key: str) -> Any | None:
        return self._cache.get(key)

    def set(self, key: str, value: Any) -> None:
        self._cache.set(key, value, expire=self.ttl_s, retry=True)

    def delete(self, key: str) -> bool:
        return self._cache.delete(key, retry=True)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """Cached value for ``key``, computing it under a lock so two processes never fit the same key."""
        value = self._cache.get(key)
        if value is not None:
            return value
        with self.lock(f"lock:{key}"):
            value = self._cache.get(key)  # another process may have finished while we waited
            if value is None:
                value = compute()
                self._cache.set(key, value, expire=self.ttl_s, retry=True)
        return value

    def _try_acquire(self, name: str, owner: dict) -> bool:
        """Take the lock ``name`` if it is free or its holder is dead."""
        if self._cache.add(name, owner, expire=LOCK_EXPIRE_S, retry=True):
            return True
        with self._cache.transact(retry=True):
            holder = self._cache.get(name)
            if holder is None or not holder_alive(holder):
                self._cache.set(name, owner, expire=LOCK_EXPIRE_S, retry=True)
                return True
        return False

    def _release(self, name: str, owner: dict) -> None:
        with self._cache.transact(retry=True):
            if self._cache.get(name) == owner:
                self._cache.delete(name, retry=True)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold ``name`` for the block; released at its end, or taken over as soon as this process dies."""
        owner = new_owner()
        while not self._try_acquire(name, owner):
            time.sleep(_POLL_S)
        try:
            yield
        finally:
            self._release(name, owner)

    @contextlib.contextmanager
    def run_slot(self, slots: int, waiting: Callable[[int], None] = lambda place: None) -> Iterator[None]:
        """One of ``slots`` places to run an analysis; while all are taken, wait in line (first come, first
        served), calling ``waiting(place)`` with this run's place in the line (1 = next) whenever it changes.
        A waiter or holder that dies drops out of the line at once (its process is checked).
        """
        owner = new_owner()
        ticket = self._cache.incr("run-slot:tickets", retry=True)
        self._update_line(lambda line: line.__setitem__(ticket, owner))
        taken = None
        last_place = None
        try:
            while taken is None:
                line = self._cache.get("run-slot:line") or {}
                place = 1 + sum(1 for t, holder in line.items() if t < ticket and holder_alive(holder))
                if place == 1:
                    taken = next((f"run-slot:{i}" for i in range(slots)
                                  if self._try_acquire(f"run-slot:{i}", owner)), None)
                if taken is None:
                    if place != last_place:
                        waiting(place)
                        last_place = place
                    time.sleep(_POLL_S * 3)
            self._update_line(lambda line: line.pop(ticket, None))
            yield
        finally:
            self._update_line(lambda line: line.pop(ticket, None))
            if taken is not None:
                self._release(taken, owner)

    def _update_line(self, change: Callable[[dict], Any]) -> None:
        """Change the waiting line in one transaction, dropping waiters whose process has gone."""
        with self._cache.transact(retry=True):
            line = {t: h for t, h in (self._cache.get("run-slot:line") or {}).items() if holder_alive(h)}
            change(line)
            self._cache.set("run-slot:line", line, retry=True)

    def close(self) -> None:
        self._cache.close()
