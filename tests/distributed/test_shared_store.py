"""The Redis store on a real redis-server: results round-trip, expire, and a fitting lock held by a process
that dies (kill -9) is taken over at once while a live holder keeps it past the lock timeout."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest
import redis

from analytics import shared_store
from analytics.errors import DataError
from analytics.shared_store import RedisResultsCache, RedisUploadStore, held_lock


@pytest.fixture(scope="module")
def redis_url(stack_factory):
    return stack_factory().start_redis()


def test_results_round_trip_with_an_expiry(redis_url, cdnow_run):
    results = cdnow_run.results
    cache = RedisResultsCache(redis_url, ttl_s=3600)
    cache.set(results.key, results)
    assert results.key in cache
    again = cache.get(results.key)
    assert again.key == results.key and again.customers.equals(results.customers)
    ttl = redis.Redis.from_url(redis_url).ttl(f"rct:results:{results.key}")
    assert 3500 < ttl <= 3600  # evictable under volatile-lru, gone after the retention period


def test_get_or_compute_computes_once(redis_url):
    cache = RedisResultsCache(redis_url)
    calls = []
    assert cache.get_or_compute("once", lambda: calls.append(1) or "value") == "value"
    assert cache.get_or_compute("once", lambda: calls.append(1) or "other") == "value"
    assert calls == [1]


def _hold_forever(url: str, name: str, ready) -> None:
    with held_lock(shared_store.connect(url), name):
        ready.set()
        time.sleep(3600)


def test_a_dead_holders_lock_is_taken_over_at_once_a_live_one_is_kept(redis_url, monkeypatch):
    monkeypatch.setattr(shared_store, "LOCK_TIMEOUT_S", 3)  # short, to show the heartbeat outlives it
    monkeypatch.setattr(shared_store, "LOCK_HEARTBEAT_S", 1)
    monkeypatch.setattr(shared_store, "LOCK_WAIT_S", 30)
    ready = multiprocessing.get_context("fork").Event()
    holder = multiprocessing.get_context("fork").Process(target=_hold_forever, args=(redis_url, "rct:lock:t", ready))
    holder.start()
    assert ready.wait(30)
    time.sleep(5)  # past the timeout: the live holder's heartbeat keeps the lock
    client = shared_store.connect(redis_url)
    assert client.lock("rct:lock:t", timeout=1, blocking=False).acquire() is False
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    start = time.monotonic()
    with held_lock(client, "rct:lock:t"):
        waited = time.monotonic() - start
    assert waited < 1.0  # its process is gone: taken over at once, not after the timeout


def test_uploads_are_shared_checked_and_deleted(redis_url):
    data = b"customer_id,invoice_id\n1,2\n"
    upload_id = RedisUploadStore(redis_url, ttl_s=600).put(data)
    other_process = RedisUploadStore(redis_url)
    assert other_process.read(upload_id) == data
    assert 0 < redis.Redis.from_url(redis_url).ttl(f"rct:upload:{upload_id}") <= 600
    with pytest.raises(DataError, match="not valid"):
        other_process.read("../../etc/passwd")
    assert other_process.delete(upload_id)
    with pytest.raises(DataError, match="no longer on the server"):
        other_process.read(upload_id)


def test_failed_sign_ins_are_counted_in_redis_by_every_process(redis_url, tmp_path):
    """Two web processes (two apps here) on one Redis: failures through either count against the same limit."""
    import auth
    from app import create_app
    from settings import Settings

    users = tmp_path / "users.json"
    auth.save_user(users, "vic", "correct horse battery", "viewer")
    clients = [create_app(Settings(cache_dir=tmp_path / name, redis_url=redis_url, auth_required=True,
                                   users_file=users, sign_in_limit_per_name="3 per 15 minutes")).server.test_client()
               for name in ("a", "b")]
    attempt = {"username": "vic", "password": "wrong guess"}
    assert [clients[i % 2].post("/login", data=attempt).status_code for i in range(3)] == [401, 401, 401]
    assert clients[1].post("/login", data={**attempt, "password": "correct horse battery"}).status_code == 429
    assert b"LIMITS:LIMITER/rct/vic/login:sign-in-name/3/15/minute" in set(redis.Redis.from_url(redis_url).scan_iter())
