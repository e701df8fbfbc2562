"""The background-callback scenarios under both managers, as plotly/dash's tests/background_callback do:
diskcache (one gunicorn, a local cache directory) and Celery (gunicorn + a Celery worker, sharing only Redis).

Each scenario drives the real app over HTTP exactly as the browser's renderer does (scripts.dash_http): the
first run with its progress, a bad parameter, cancel and the next run.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

from analytics.cache import ResultsCache
from analytics.shared_store import RedisResultsCache
from scripts import distributed
from scripts.dash_http import DashClient

@pytest.fixture(scope="module", params=["diskcache", "celery"])
def services(request, stack_factory):
    stack = stack_factory()
    stack.manager = request.param
    if request.param == "celery":
        redis_url = stack.start_redis()
        stack.start_worker()
        stack.url = stack.start_web("web", redis_url)
        stack.store = RedisResultsCache(redis_url)
    else:
        stack.url = stack.start_web("web", None)
        stack.store = ResultsCache(stack.root / "web-cache" / "results")
    return stack


def client(services, timeout_s: float = 300) -> DashClient:
    return DashClient(requests.Session(), services.url, timeout_s=timeout_s).open()


def start_long_run(page: DashClient, dataset: str) -> threading.Thread:
    """Choose another embedded dataset (a cold run of several seconds) and wait until it reports progress."""
    started = threading.Thread(target=page.change, args=("dataset-choice", "value", dataset))
    started.start()
    deadline = time.monotonic() + 120
    while not page.progress and time.monotonic() < deadline:
        time.sleep(0.05)
    assert page.progress, "the run reported no progress"
    return started


def test_first_run_reports_progress_and_stores_results(services):
    page = client(services)
    key = page.get("results-key", "data")
    assert key, "the first run delivered no results key"
    assert key in services.store
    assert services.store.get(key).key == key
    steps = [p["run-progress.value"] for p in page.progress]
    assert steps and steps == sorted(steps) and steps[-1] == 100
    assert str(page.get("dataset-summary", "children")).startswith("cdnow_sample · 2,349 customers")


def test_bad_parameter_is_named_and_results_stay(services):
    page = client(services)
    key = page.get("results-key", "data")
    page.change("param-horizon", "value", None)
    page.change("run-button", "n_clicks", 1)
    assert "CLV horizon is empty" in str(page.get("run-error", "children"))
    assert page.get("results-key", "data") == key


def test_cancel_stops_the_run_and_the_next_run_starts_at_once(services):
    page = client(services)
    first_key = page.get("results-key", "data")
    started = start_long_run(page, "synthetic")
    page.change("cancel-button", "n_clicks", 1)
    started.join(timeout=30)
    assert not started.is_alive(), "the cancelled run still answers"
    assert page.get("results-key", "data") == first_key  # nothing from the cancelled run

    page.timeout_s = 90  # a stranded lock would hold the next run for its whole expiry
    page.progress.clear()
    page.change("run-button", "n_clicks", 2)
    new_key = page.get("results-key", "data")
    assert new_key != first_key and new_key in services.store
    assert not page.get("server-alert", "children")  # a cancel is not an error


def test_a_killed_analysis_process_is_reported_and_the_next_run_starts_at_once(services):
    page = client(services)
    first_key = page.get("results-key", "data")
    started = start_long_run(page, "cdnow")
    pids = distributed.analysis_pids(services.web_process, services.redis and services.redis.url)
    assert pids, "no analysis process found"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    started.join(timeout=60)
    assert not started.is_alive(), "the killed run still shows a spinner"
    assert "stopped before finishing" in str(page.get("server-alert", "children"))
    assert page.get("results-key", "data") == first_key

    page.timeout_s = 90  # a stranded lock would hold the next run for its whole expiry
    page.change("run-button", "n_clicks", 2)
    assert page.get("results-key", "data") not in (None, first_key)


def test_redis_down_is_said_at_once_and_runs_resume_when_it_returns(services):
    if services.manager != "celery":
        pytest.skip("only the Celery stack has a Redis to lose")
    page = client(services)
    first_key = page.get("results-key", "data")
    services.redis.stop()
    try:
        start = time.monotonic()
        page.change("run-button", "n_clicks", 1)
        assert time.monotonic() - start < 15  # an answer, not a long spinner
        assert "could not be queued" in str(page.get("server-alert", "children"))
        assert page.get("results-key", "data") == first_key
    finally:
        services.redis.start()  # the same port: web processes and the worker reconnect by themselves
    page = client(services)
    page.change("param-horizon", "value", 5)
    page.change("run-button", "n_clicks", 2)
    assert page.get("results-key", "data") not in (None, first_key)
