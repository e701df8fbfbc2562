"""Faults: break the running service the ways production does and print what the user sees, whether the next
run succeeds, and that nothing half-written is ever served.

    .venv/bin/python benchmarks/faults.py            # every fault, on services it starts on free ports

Stacks (started by scripts.distributed, as ``make serve`` and ``make serve-distributed`` run them):
- distributed: redis-server (append-only file), one Celery worker (2 processes), gunicorn (2 workers x 4
  threads) with ``REDIS_URL``;
- local: gunicorn (2 workers x 4 threads) with the diskcache manager, its cache directory on a 48 MB tmpfs
  (mounting it needs root; without root that case is reported as not run).

Faults, each in the middle of an analysis the simulated user started (scripts.dash_http drives the real
callbacks): kill -9 a web worker; kill -9 the analysis process; fill the store (the tmpfs cache directory;
Redis at its ``maxmemory``); stop Redis (then start it again). After each: a fresh page runs the same analysis
again, and every entry in the results store is read back (a half-written entry would fail to unpickle).
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import distributed, tmpfs  # noqa: E402
from scripts.dash_http import DashClient  # noqa: E402

RUN_TIMEOUT_S = 300
NO_SIGN_IN = {"RCT_AUTH": "0"}  # sign-in (on under gunicorn) is not what these faults are about


def visible_text(node) -> str:
    """The words a person reads in a component tree (alerts, notes), without the JSON around them."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, list):
        return " ".join(filter(None, (visible_text(child) for child in node)))
    if isinstance(node, dict):
        return visible_text(node.get("props", {}).get("children"))
    return ""


@dataclass
class Outcome:
    fault: str
    user_sees: str
    next_run: str
    store: str


class Stack:
    """The services for one set of faults, all on free ports under one temporary directory."""

    def __init__(self, root: Path, redis_backed: bool, cache_dir: Path | None = None) -> None:
        self.root = root
        self.redis = distributed.Redis(root / "redis", persistent=True).start() if redis_backed else None
        self.cache_dir = cache_dir or root / "web-cache"
        self.worker = None
        if self.redis:
            self.worker = distributed.start_worker(self.redis.url, root / "worker-cache", root / "worker.log",
                                                   extra_env=NO_SIGN_IN)
            distributed.wait_for_worker(self.redis.url)
        self.port = distributed.free_port()
        self.web = distributed.start_web(self.port, self.redis and self.redis.url, self.cache_dir,
                                         root / "web.log", workers=2, threads=4, extra_env=NO_SIGN_IN)
        self.url = f"http://127.0.0.1:{self.port}"

    def page(self) -> DashClient:
        return DashClient(requests.Session(), self.url, timeout_s=RUN_TIMEOUT_S).open()

    def analysis_pids(self) -> list[int]:
        return distributed.analysis_pids(self.web, self.redis and self.redis.url)

    def store_check(self) -> str:
        """Read back every stored result: a half-written one would not unpickle."""
        good = bad = 0
        if self.redis:
            client = redis.Redis.from_url(self.redis.url)
            for name in client.scan_iter("rct:results:*"):
                try:
                    pickle.loads(client.get(name))
                    good += 1
                except Exception:  # noqa: BLE001 - any failure to read back is what we count
                    bad += 1
        else:
            from analytics.cache import ResultsCache

            cache = ResultsCache(self.cache_dir / "results")
            for key in list(cache._cache.iterkeys()):  # every entry, as a reader would get it
                try:
                    cache.get(key)
                    good += 1
                except Exception:  # noqa: BLE001
                    bad += 1
            cache.close()
        return f"{good} entries read back, {bad} unreadable"

    def stop(self) -> None:
        distributed.stop(self.web)
        distributed.stop(self.worker)
        if self.redis:
            self.redis.stop()


class Run:
    """The user presses Run analysis in a thread, with an as-of date no run has used yet, so every stage is
    computed afresh (a run of several seconds, long enough to break in the middle)."""

    def __init__(self, page: DashClient, as_of: str) -> None:
        self.page, self.error, self.seconds = page, None, None
        self.before = page.get("results-key", "data")
        page.change("param-as-of", "value", as_of)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        start = time.perf_counter()
        try:
            self.page.change("run-button", "n_clicks", (self.page.get("run-button", "n_clicks") or 0) + 1)
        except Exception as exc:  # noqa: BLE001 - what the browser would get, reported as such
            self.error = exc
        self.seconds = time.perf_counter() - start

    def wait_started(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.page.progress and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.1)
        time.sleep(1.0)  # well inside the run

    def seen(self, timeout_s: float = RUN_TIMEOUT_S) -> str:
        self.thread.join(timeout_s)
        if self.thread.is_alive():
            return f"no answer after {timeout_s} s (spinner)"
        parts = []
        if self.error:
            parts.append(f"request failed: {str(self.error)[:160]}")
        for component in ("run-error", "server-alert"):
            text = visible_text(self.page.get(component, "children"))
            if text:
                parts.append(f"{component}: {text[:200]}")
        key = self.page.get("results-key", "data")
        parts.append("new results shown" if key and key != self.before else "previous results still shown")
        return "; ".join(parts)


def next_run(stack: Stack, as_of: str) -> str:
    """A fresh page runs the same analysis again."""
    try:
        page = stack.page()
        run = Run(page, as_of)
        seen = run.seen()
        ok = page.get("results-key", "data") != run.before
        return f"{'succeeds' if ok else 'FAILS'} in {run.seconds:.1f} s ({seen})"
    except Exception as exc:  # noqa: BLE001
        return f"FAILS: {str(exc)[:200]}"


def kill_web_worker(stack: Stack, as_of: str) -> Outcome:
    run = Run(stack.page(), as_of)
    run.wait_started()
    victim = psutil.Process(stack.web.pid).children()[0]
    victim.send_signal(signal.SIGKILL)
    return Outcome("kill -9 a web worker mid-run", run.seen(), next_run(stack, as_of), stack.store_check())


def kill_analysis(stack: Stack, as_of: str) -> Outcome:
    run = Run(stack.page(), as_of)
    run.wait_started()
    pids = stack.analysis_pids()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    seen = run.seen() if pids else "(no analysis process found to kill)"
    return Outcome("kill -9 the analysis process mid-run", seen, next_run(stack, as_of), stack.store_check())


def fill_redis(stack: Stack, as_of: str) -> Outcome:
    client = redis.Redis.from_url(stack.redis.url)
    page = stack.page()
    used = client.info("memory")["used_memory"]
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", used + 256 * 1024)  # full: nothing bigger than a small message fits
    run = Run(page, as_of)
    seen = run.seen()
    client.config_set("maxmemory", 0)
    return Outcome("Redis full (maxmemory reached)", seen, next_run(stack, as_of), stack.store_check())


def stop_redis(stack: Stack, as_of: str) -> Outcome:
    page = stack.page()
    stack.redis.stop()
    run = Run(page, as_of)
    seen = run.seen(timeout_s=90)
    try:
        page.change("tabs", "active_tab", "explorer")
        seen += f"; explorer tab: {visible_text(page.get('explorer-count', 'children')) or 'nothing shown'}"
    except Exception as exc:  # noqa: BLE001
        seen += f"; explorer tab: request failed: {str(exc)[:120]}"
    stack.redis = distributed.Redis(stack.redis.directory, port=stack.redis.port, persistent=True).start()
    return Outcome("Redis stopped (then restarted)", seen, next_run(stack, as_of), stack.store_check())


def fill_disk(stack: Stack, as_of: str) -> Outcome:
    page = stack.page()
    filler = tmpfs.fill(stack.cache_dir)
    run = Run(page, as_of)
    seen = run.seen()
    filler.unlink()
    return Outcome("cache directory full (tmpfs)", seen, next_run(stack, as_of), stack.store_check())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="rct-faults-"))
    outcomes: list[Outcome] = []

    stack = Stack(root / "distributed", redis_backed=True)
    try:
        stack.page()  # the default results, computed once
        for fault, as_of in ((kill_web_worker, "2011-11-01"), (kill_analysis, "2011-10-01"),
                             (fill_redis, "2011-09-01"), (stop_redis, "2011-08-01")):
            outcomes.append(fault(stack, as_of))
            print(f"done: {outcomes[-1].fault}", flush=True)
    finally:
        stack.stop()

    small_disk = root / "local" / "cache"
    refused = tmpfs.mount(small_disk, 48)
    if refused is None:
        local = Stack(root / "local", redis_backed=False, cache_dir=small_disk)
        try:
            local.page()
            for fault, as_of in ((kill_analysis, "2011-10-01"), (fill_disk, "2011-09-01")):
                outcome = fault(local, as_of)
                outcome.fault += " [diskcache]"
                outcomes.append(outcome)
                print(f"done: {outcome.fault}", flush=True)
        finally:
            local.stop()
            tmpfs.unmount(small_disk)
    else:
        outcomes.append(Outcome("cache directory full [diskcache]", f"not run: cannot mount a tmpfs ({refused})",
                                "", ""))

    print(f"\nFaults (logs under {root}); each after a run had started:\n")
    for outcome in outcomes:
        print(f"* {outcome.fault}\n    user sees: {outcome.user_sees}\n    next run:  {outcome.next_run}\n"
              f"    store:     {outcome.store}")


if __name__ == "__main__":
    main()
