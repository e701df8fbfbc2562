"""Shared-nothing state in Redis: the results cache, upload blobs and fitting locks that every web process and
Celery worker reaches over the network, so no two of them need a common local disk.

Why Redis: it is already the Celery broker and result backend (one service to run, not two); a ``SET`` is
atomic, so a reader sees either nothing or the whole pickled value, never half of one; and redis-py's ``Lock``
is a token in a key with a timeout: a live holder keeps it by extending it from a heartbeat thread, a holder
that dies (``kill -9``, a cancelled Celery task) is taken over at once by a waiter on its host that sees
the process gone, and one on a lost machine expires within ``LOCK_TIMEOUT_S``.
Only this application's own processes write to this Redis; values are pickles of ``Results`` and frames, the
same trust as the on-disk ``diskcache`` they replace (Redis must not be reachable by anyone else).

Every cached result and upload carries an expiry (``ttl_s``) and Redis should run with
``maxmemory-policy volatile-lru`` (``make serve-distributed`` starts it so): when memory is full, Redis drops
the least recently used results, which are recomputed on demand, and never the Celery queue's keys, which
have no expiry. Without that, a full Redis refuses the broker's own writes and the Celery worker exits.

``RedisResultsCache`` has the interface of ``analytics.cache.ResultsCache`` and ``RedisUploadStore`` that of
``analytics.uploads.UploadStore``; the settings pick them (callbacks.common, callbacks.uploads).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import redis

from analytics.cache import holder_alive, new_owner
from analytics.errors import DataError
from analytics.uploads import valid_upload_id

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


# A Celery worker sets this every WORKER_BEAT_S while it runs (worker.MarksItselfAlive); it lapses
# WORKER_ALIVE_S after the last, so a page can tell a run that waits for a busy worker from one that waits for
# none.
WORKER_ALIVE = f"{PREFIX}:worker-alive"
WORKER_BEAT_S = 10
WORKER_ALIVE_S = 30


def mark_worker_alive(client: redis.Redis) -> None:
    client.set(WORKER_ALIVE, "1", ex=WORKER_ALIVE_S)


def any_worker_alive(client: redis.Redis) -> bool:
    return bool(client.exists(WORKER_ALIVE))


def connect(url: str) -> redis.Redis:
    """A client for ``url`` whose pool reconnects after a fork and after Redis restarts."""
    return redis.Redis.from_url(url, health_check_interval=30, socket_connect_timeout=5, retry_on_timeout=True)


# Release the lock only if it still holds our token, together with its owner record.
_RELEASE_IF_HOLDER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1], KEYS[2]) end return 0"


@contextmanager
def held_lock(client: redis.Redis, name: str) -> Iterator[None]:
    """Hold a Redis lock, extended by a heartbeat thread while the body runs; released at the end.

    The holder's process is recorded next to the lock (``analytics.cache.new_owner``): a waiter on the same
    host that finds it dead (kill -9, a cancelled Celery task) takes the lock over at once; a holder on
    another host is waited out by the timeout, which its heartbeat keeps renewing while it lives.
    """
    lock = client.lock(name, timeout=LOCK_TIMEOUT_S, blocking_timeout=0.2, thread_local=False)
    deadline = time.monotonic() + LOCK_WAIT_S
    while not lock.acquire():
        record = client.get(f"{name}:owner")
        holder = json.loads(record) if record else None
        if holder and not holder_alive(holder):
            client.eval(_RELEASE_IF_HOLDER, 2, name, f"{name}:owner", holder["lock_token"])
        elif time.monotonic() > deadline:
            raise TimeoutError(f"another process has held {name!r} for over {LOCK_WAIT_S} s")
    owner = {**new_owner(), "lock_token": lock.local.token.decode()}
    client.set(f"{name}:owner", json.dumps(owner), ex=LOCK_TIMEOUT_S)
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(LOCK_HEARTBEAT_S):
            lock.extend(LOCK_TIMEOUT_S, replace_ttl=True)
            client.expire(f"{name}:owner", LOCK_TIMEOUT_S)

    beat = threading.Thread(target=heartbeat, name=f"lock-heartbeat:{name}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        done.set()
        beat.join()
        client.eval(_RELEASE_IF_HOLDER, 2, name, f"{name}:owner", owner["lock_token"])


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

    def delete(self, key: str) -> bool:
        return bool(self._redis.delete(self._name(key)))

    def lock(self, name: str) -> Iterator[None]:
        """Hold ``name`` for a block: released at its end, taken over as soon as its holder dies."""
        return held_lock(self._redis, f"{PREFIX}:lock:{name}")

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """Cached value for ``key``, computing it under a lock so two processes never fit the same key."""
        value = self.get(key)
        if value is not None:
            return value
        with self.lock(key):
            value = self.get(key)  # another process may have finished while we waited
            if value is None:
                value = compute()
                self.set(key, value)
        return value

    def close(self) -> None:
        self._redis.close()


class RedisUploadStore:
    """Uploaded bytes in Redis under their sha256: the interface of ``analytics.uploads.UploadStore``
    (``put`` / ``read`` / ``delete`` / ``expire``), so every web process and worker reads the same upload."""

    def __init__(self, url: str, client: redis.Redis | None = None, ttl_s: int = DEFAULT_TTL_S) -> None:
        self._redis = client or connect(url)
        self.ttl_s = ttl_s

    @staticmethod
    def _name(upload_id: object) -> str:
        return f"{PREFIX}:upload:{valid_upload_id(upload_id)}"

    def put(self, data: bytes) -> str:
        upload_id = hashlib.sha256(data).hexdigest()
        self._redis.set(self._name(upload_id), data, ex=self.ttl_s)
        return upload_id

    def read(self, upload_id: object) -> bytes:
        data = self._redis.get(self._name(upload_id))
        if data is None:
            raise DataError("the uploaded file is no longer on the server (it expired or was deleted): "
                            "upload it again")
        return data

    def delete(self, upload_id: object) -> bool:
        return bool(self._redis.delete(self._name(upload_id)))

    def expire(self, max_age_days: float) -> list[str]:
        """Nothing to sweep: every upload was written with its expiry and Redis drops it by itself."""
        return []
