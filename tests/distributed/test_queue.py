"""A run waiting in the Celery queue says so: with no worker running, the page says that no worker runs (not
a bar at nought with nothing said), and the run goes ahead when a worker starts, which marks itself alive."""

from __future__ import annotations

import threading
import time

import redis
import requests

from analytics.shared_store import any_worker_alive
from callbacks.common import QUEUED_NO_WORKER
from scripts.dash_http import DashClient

TEXT = "run-progress-text.children"


def test_a_queued_run_says_no_worker_runs_and_starts_when_one_does(stack_factory):
    stack = stack_factory()
    redis_url = stack.start_redis()
    client = redis.Redis.from_url(redis_url)
    url = stack.start_web("web", redis_url)  # no worker yet
    page = DashClient(requests.Session(), url, timeout_s=300)
    opened = threading.Thread(target=page.open)  # the default dataset's first run: queued
    opened.start()
    deadline = time.monotonic() + 60
    while not page.progress and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page.progress and page.progress[0][TEXT] == QUEUED_NO_WORKER
    time.sleep(2)  # still nothing runs it
    assert {p[TEXT] for p in page.progress} == {QUEUED_NO_WORKER} and opened.is_alive()
    assert not any_worker_alive(client)

    stack.start_worker()
    assert any_worker_alive(client)
    opened.join(timeout=240)
    assert not opened.is_alive()
    assert page.get("results-key", "data")
    said = [p[TEXT] for p in page.progress]
    # then the run's own stages
    assert said[0] == QUEUED_NO_WORKER and QUEUED_NO_WORKER not in said[1:] and len(said) > 2
    client.close()
