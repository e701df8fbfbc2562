"""Shared-nothing state in Redis: the results cache, upload blobs and fitting locks that every web process and
Celery worker reaches over the network, so no two of them need a common local disk.

Why Redis: it is already the Celery broker and result backend (one service to run, not two); a ``SET`` is
atomic, so a reader sees either nothing or the whole pickled value, never half of one; and redis-py's ``Lock``
is a token in a key with a timeout, so a lock held by a process that dies (``kill -9``, a cancelled Celery
task, a lost machine) expires on its own within ``LOCK_TIMEOUT_S``. A live holder keeps it by extending it
from a heartbeat thread, so a long fit never loses its lock and a dead one never strands the next run.
Only this application's own processes write to this Redis; values are pickles of ``Results`` and frames, the
same trust as the on-disk ``diskcache`` they replace (Redis must not be reachable by anyone else).

Every cached result and upload carries an expiry (``ttl_s``) and Redis should run with
``maxmemory-policy volatile-lru`` (``make serve-distributed`` starts it so): when memory is full, Redis drops
the least recently used results, which are recomputed on demand, and never the Celery queue's keys, which
have no expiry. Without that, a full Redis refuses the broker's own writes and the Celery worker exits.

``RedisResultsCache`` has the interface of ``analytics.cache.ResultsCache``; ``UploadBlobs`` keeps an
upload's bytes under its content hash and gives each process a local file for the readers that want a path
(a private copy on that process's own disk, written atomically, rebuilt from Redis whenever it is missing).
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import redis

from analytics.errors import DataError

T = TypeVar("T")

# A lock whose holder stops extending it (the process died or was cancelled) is free after this long.
LOCK_TIMEOUT_S = 30
# The holder extends its lock this often, well inside the timeout.
LOCK_HEARTBEAT_S = 10
# A waiter gives up after this long and reports it, instead of a spinner that never ends.
LOCK_WAIT_S = 900

PREFIX = "rct"
# Results and uploads expire this long after they were written unless the settings say otherwise.
DEFAULT_TTL_S = 30 * 86400
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def connect(url: str) -> redis.Redis:
    """A client for ``url`` whose pool reconnects after a fork and after Redis restarts."""
    return redis.Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5, retry_on_timeout=True)


@contextmanager
def held_lock(client: redis.Redis, name: str) -> Iterator[None]:
    """Hold a Redis lock, extended by a heartbeat thread while the body runs; released at the end."""
    lock = client.lock(name, timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_WAIT_S, thread_local=False)
    if not lock.acquire():
        raise TimeoutError(f"another process has held {name!r} for over {LOCK_WAIT_S} s")
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(LOCK_HEARTBEAT_S):
            lock.extend(LOCK_TIMEOUT_S, replace_ttl=True)

    beat = threading.Thread(target=heartbeat, name=f"lock-heartbeat:{name}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        done.set()
        beat.join()
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass  # it expired (the heartbeat could not reach Redis); nobody else's lock is touched


class RedisResultsCache:
    """Pickled results in Redis under ``rct:results:<key>``: the interface of ``analytics.cache.ResultsCache``."""

    def __init__(self, url: str, client: redis.Redis | None = None, ttl_s: int = DEFAULT_TTL_S) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self._redis = client or connect(url)

    def _name(self, key: str) -> str:
        return f"{PREFIX}:results:{key}"

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._name(key))
        return None if raw is None else pickle.loads(raw)

    def set(self, key: str, value: Any) -> None:
        self._redis.set(self._name(key), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), ex=self.ttl_s)

    def __contains__(self, key: str) -> bool:
        return bool(self._redis.exists(self._name(key)))

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """Cached value for ``key``, computing it under a lock so two processes never fit the same key."""
        value = self.get(key)
        if value is not None:
            return value
        with held_lock(self._redis, f"{PREFIX}:lock:{key}"):
            value = self.get(key)  # another process may have finished while we waited
            if value is None:
                value = compute()
                self.set(key, value)
        return value

    def close(self) -> None:
        self._redis.close()


class UploadBlobs:
    """Upload bytes in Redis under their sha256; each process reads them through a local file of its own."""

    def __init__(self, url: str, local_dir: Path, client: redis.Redis | None = None,
                 ttl_s: int = DEFAULT_TTL_S) -> None:
        self._redis = client or connect(url)
        self.local_dir = Path(local_dir)
        self.ttl_s = ttl_s

    @staticmethod
    def _checked(sha256: str) -> str:
        if not isinstance(sha256, str) or not _HEX_DIGEST.fullmatch(sha256):
            raise DataError("that upload id is not valid (expected a sha256 hex digest): upload the file again")
        return sha256

    def put(self, sha256: str, data: bytes) -> None:
        self._redis.set(f"{PREFIX}:upload:{self._checked(sha256)}", data, ex=self.ttl_s)

    def delete(self, sha256: str) -> None:
        """Remove the upload from Redis and this process's copy (a rejected or expired upload)."""
        self._redis.delete(f"{PREFIX}:upload:{self._checked(sha256)}")
        shutil.rmtree(self.local_dir / sha256, ignore_errors=True)

    def local_path(self, sha256: str, filename: str) -> Path | None:
        """This process's copy of the upload, fetched from Redis when missing; None when Redis has no such upload."""
        path = self.local_dir / self._checked(sha256) / Path(filename).name
        if path.exists():
            return path
        data = self._redis.get(f"{PREFIX}:upload:{sha256}")
        if data is None:
            return None
        write_atomically(path, data)
        return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so no reader ever sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
