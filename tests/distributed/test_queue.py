"""A run waiting in the Celery queue says so: with no worker running, the page shows it queued (not a bar at
nought with nothing said), and the run goes ahead when a worker starts."""

from __future__ import annotations

import threading
import time

import requests

from callbacks.common import QUEUED
from scripts.dash_http import DashClient

TEXT = "run-progress-text.children"


def test_a_queued_run_says_so_and_starts_when_a_worker_does(stack_factory):
    stack = stack_factory()
    redis_url = stack.start_redis()
    url = stack.start_web("web", redis_url)  # no worker yet
    page = DashClient(requests.Session(), url, timeout_s=300)
    opened = threading.Thread(target=page.open)  # the default dataset's first run: queued
    opened.start()
    deadline = time.monotonic() + 60
    while not page.progress and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page.progress and page.progress[0][TEXT] == QUEUED
    time.sleep(2)  # still nothing runs it
    assert {p[TEXT] for p in page.progress} == {QUEUED} and opened.is_alive()

    stack.start_worker()
    opened.join(timeout=240)
    assert not opened.is_alive()
    assert page.get("results-key", "data")
    said = [p[TEXT] for p in page.progress]
    assert said[0] == QUEUED and QUEUED not in said[1:] and len(said) > 2  # then the run's own stages
