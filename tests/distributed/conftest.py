"""Real services for the scale-out tests: redis-server, Celery workers and gunicorn web processes, each on a
free port in a temporary directory, started by the same helpers as ``make serve-distributed`` and stopped
afterwards (their logs are printed when a test fails)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts import distributed

# Small real data, so each analysis takes seconds: the CDNOW 1/10 sample.
FAST_DATASET = "cdnow_sample"
# sign-in (issue 10) is on under gunicorn by default; these tests are about the queue and the store
FAST = {"RCT_DEFAULT_DATASET": FAST_DATASET, "RCT_AUTH": "0"}


class Stack:
    """Services started for a test module; ``stop`` ends them in reverse order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes = []
        self.redis: distributed.Redis | None = None

    def start_redis(self) -> str:
        if shutil.which("redis-server") is None and not Path("/usr/bin/redis-server").exists():
            pytest.fail("redis-server is not installed (Debian package redis-server; `make test` installs it)")
        self.redis = distributed.Redis(self.root / "redis").start()
        return self.redis.url

    def start_worker(self, name: str = "worker", env: dict[str, str] | None = None) -> Path:
        cache = self.root / f"{name}-cache"
        self.processes.append(distributed.start_worker(self.redis.url, cache, self.root / f"{name}.log",
                                                       concurrency=2, extra_env={**FAST, **(env or {})}))
        distributed.wait_for_worker(self.redis.url)
        return cache

    def start_web(self, name: str, redis_url: str | None, env: dict[str, str] | None = None) -> str:
        port = distributed.free_port()
        self.web_process = distributed.start_web(port, redis_url, self.root / f"{name}-cache",
                                                 self.root / f"{name}.log", workers=1,
                                                 extra_env={**FAST, **(env or {})})
        self.processes.append(self.web_process)
        return f"http://127.0.0.1:{port}"

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-20000:]}"
                         for log in sorted(self.root.glob("*.log")) + sorted(self.root.glob("redis/*.log")))

    def stop(self) -> None:
        for process in reversed(self.processes):
            distributed.stop(process)
        if self.redis:
            self.redis.stop()


@pytest.fixture(scope="module")
def stack_factory(tmp_path_factory):
    stacks = []

    def make() -> Stack:
        stacks.append(Stack(tmp_path_factory.mktemp("stack")))
        return stacks[-1]

    yield make
    for stack in stacks:
        stack.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the services' logs to the report (a worker's traceback is where the cause is)."""
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, "funcargs", {}).get("services")
    if report.failed and stack is not None:
        report.sections.append(("service logs", stack.logs()))
