"""Shared nothing but Redis: two web instances with their own local cache directories, one Celery worker with a
third, one Redis. A browser session whose every request lands on the other instance (a round-robin load
balancer) uploads a file, has it analysed and browses the results: each step reads what another process
wrote, through Redis only."""

from __future__ import annotations

import base64
import itertools
import re

import pytest
import redis
import requests

from analytics.datasets import load_dataset
from analytics.shared_store import RedisResultsCache
from scripts.dash_http import DashClient


class RoundRobin(requests.Session):
    """A session sending each request to the next instance in turn, as a load balancer without stickiness."""

    def __init__(self, bases: list[str]) -> None:
        super().__init__()
        self._next = itertools.cycle(bases)
        self.hits: dict[str, int] = dict.fromkeys(bases, 0)

    def request(self, method, url, *args, **kwargs):
        base = next(self._next)
        self.hits[base] += 1
        return super().request(method, base + url, *args, **kwargs)


@pytest.fixture(scope="module")
def services(stack_factory):
    stack = stack_factory()
    stack.redis_url = stack.start_redis()
    stack.start_worker()
    stack.web = [stack.start_web(name, stack.redis_url) for name in ("web-a", "web-b")]
    return stack


def test_upload_analysed_through_one_instance_is_browsable_through_the_other(services, tmp_path):
    # a real file: the first 1,500 customers of the CDNOW sample, as a user's CSV
    frame = load_dataset("cdnow_sample")
    frame = frame[frame["customer_id"].isin(frame["customer_id"].drop_duplicates().head(1500))]
    payload = frame.to_csv(index=False).encode()
    session = RoundRobin(services.web)
    page = DashClient(session, timeout_s=300).open()
    default_key = page.get("results-key", "data")

    page.change("upload", "filename", "my shop.csv")
    page.change("upload", "contents", "data:text/csv;base64," + base64.b64encode(payload).decode())

    assert page.get("upload-error", "children") is None
    key = page.get("results-key", "data")
    assert key and key != default_key, f"no results for the upload: {page.get('run-error', 'children')}"
    summary = str(page.get("dataset-summary", "children"))
    assert summary.startswith("my shop.csv · ") and re.search(r"1,\d{3} customers", summary)

    page.change("tabs", "active_tab", "explorer")
    modelled = len(RedisResultsCache(services.redis_url).get(key).customers)
    assert f"of {modelled:,} customers" in str(page.get("explorer-count", "children"))
    page.change("explorer-segments", "value", ["Champions"])
    champions = str(page.get("explorer-count", "children"))
    assert re.match(r"[\d,]+ of", champions) and not champions.startswith(f"{modelled:,} of")
    page.change("tabs", "active_tab", "tower")
    assert page.get("tower-kpis", "children")

    assert all(hits > 5 for hits in session.hits.values()), session.hits  # both instances served the session
    upload_id = page.get("upload-store", "data")["upload_id"]
    assert redis.Redis.from_url(services.redis_url).get(f"rct:upload:{upload_id}") == payload
    for name in ("web-a", "web-b", "worker"):  # nobody keeps results or uploads on a local disk
        assert not (services.root / f"{name}-cache" / "results").exists()
        assert not (services.root / f"{name}-cache" / "uploads").exists()
