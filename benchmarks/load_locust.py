"""Load: simulated users replay a real session's callbacks against ``make serve`` and the table is printed.

    .venv/bin/python benchmarks/load_locust.py                      # starts `make serve`'s gunicorn itself
    .venv/bin/python benchmarks/load_locust.py --host http://127.0.0.1:8050 --users 50 200 --seconds 60

Each simulated user opens the page as a browser does (page, callback graph, layout, the initial callbacks
that bring the default dataset's results key), then, with 1-3 s of think time between actions, walks a
session: the explorer tab, segment and churn filters, the ROI tab and a discount change, the tower, the
journeys and evidence tabs. The callback payloads are built from the app's own ``/_dash-dependencies`` and
the values the server returned (scripts.dash_http), so the requests are those the renderer sends.

Figures are locust's, per callback (named by its first output) and per user action (the change and every
callback it cascades into). Interactive targets (issue 11): explorer filter, ROI update and tab switch
p95 <= 300 ms with 50 users; 200 users degrade without errors. The load generator runs on the same machine
as the server and takes CPU from it; on a shared machine the figures are noisy.
"""

from __future__ import annotations

# locust patches the standard library with gevent: it must be imported before anything opens sockets
import locust  # noqa: I001
from locust import HttpUser, between, events, task
from locust.env import Environment

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import distributed  # noqa: E402
from scripts.dash_http import DashClient  # noqa: E402

# the user actions whose p95 the issue sets a target for, and the callbacks that make them
INTERACTIVE_ACTIONS = ("action: explorer filter", "action: ROI update", "action: tab switch")
INTERACTIVE_CALLBACKS = ("explorer-scatter.figure", "roi-note.children", "results-key-tower.data")
TABS = ["explorer", "roi", "tower", "journeys", "methodology"]


class SessionUser(HttpUser):
    wait_time = between(1, 3)

    page: DashClient | None = None

    def on_start(self) -> None:
        self.open_page()

    def open_page(self) -> None:
        page = DashClient(self.client, named_requests=True, timeout_s=120)
        if self.action("page open", page.open):
            self.page, self.tab = page, "tower"

    def action(self, name: str, fn, *args) -> bool:
        """Time one user action end to end (all the callbacks it cascades into) as its own locust entry."""
        start = time.perf_counter()
        error = None
        try:
            fn(*args)
        except Exception as exc:  # counted as a failure of the action; the callback itself is counted too
            error = exc
        events.request.fire(request_type="ACTION", name=f"action: {name}", context={}, exception=error,
                            response_time=(time.perf_counter() - start) * 1000, response_length=0)
        return error is None

    def switch(self, tab: str) -> None:
        self.tab = tab
        self.action("tab switch", self.page.change, "tabs", "active_tab", tab)

    @task(4)
    def explorer_filter(self) -> None:
        if self.page is None:  # the page did not open (an error, counted): a person reloads it
            return self.open_page()
        if self.tab != "explorer":
            self.switch("explorer")
            return
        options = self.page.get("explorer-segments", "options") or []
        names = [o["value"] if isinstance(o, dict) else o for o in options]
        if random.random() < 0.6 and names:
            self.action("explorer filter", self.page.change, "explorer-segments", "value",
                        random.sample(names, k=random.randint(1, min(3, len(names)))))
        else:
            low = random.choice([0, 0.2, 0.4, 0.6])
            self.action("explorer filter", self.page.change, "explorer-churn", "value", [low, 1])

    @task(3)
    def roi_update(self) -> None:
        if self.page is None:  # the page did not open (an error, counted): a person reloads it
            return self.open_page()
        if self.tab != "roi":
            self.switch("roi")
            return
        self.action("ROI update", self.page.change, "roi-discount", "value", random.choice([5, 10, 15, 20, 25]))

    @task(2)
    def other_tab(self) -> None:
        if self.page is None:  # the page did not open (an error, counted): a person reloads it
            return self.open_page()
        self.switch(random.choice([t for t in TABS if t != self.tab]))


def server_cpu_s(server) -> float:
    """CPU seconds used so far by the gunicorn we started (master and workers); 0 for a server we did not."""
    if server is None:
        return 0.0
    import psutil

    master = psutil.Process(server.pid)
    total = 0.0
    for process in [master, *master.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def run(host: str, users: int, seconds: int, server) -> tuple[Environment, dict]:
    """Run ``users`` for ``seconds``; the machine's 1-minute load average before and after and the server's
    CPU use (a figure that does not depend on how busy the rest of the machine is)."""
    load_before, cpu_before, own_before = os.getloadavg()[0], server_cpu_s(server), time.process_time()
    env = Environment(user_classes=[SessionUser], host=host, events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(5, users / 10))
    time.sleep(seconds)
    runner.quit()
    cpu_s = server_cpu_s(server) - cpu_before
    return env, {"load": (load_before, os.getloadavg()[0]), "server_cpu_s": cpu_s,
                 "generator_cpu_s": time.process_time() - own_before}


def table(env: Environment, users: int, seconds: int, machine: dict) -> str:
    rows = sorted(env.stats.entries.values(), key=lambda e: (e.method != "ACTION", e.name))
    head = f"{'':2}{'name':<44}{'reqs':>7}{'fails':>6}{'median':>8}{'p95':>7}{'p99':>7}{'max':>7}   (ms)"
    lines = [f"== {users} users, {seconds} s: {env.stats.total.num_requests:,} requests, "
             f"{env.stats.total.num_failures} failures, {env.stats.total.total_rps:.1f} req/s; machine load "
             f"average {machine['load'][0]:.1f} before, {machine['load'][1]:.1f} after ({os.cpu_count()} cores)"]
    if machine["server_cpu_s"]:
        requests_n = max(1, env.stats.total.num_requests)
        lines.append(f"   server CPU: {machine['server_cpu_s']:.0f} s in {seconds} s = "
                     f"{machine['server_cpu_s'] / seconds:.2f} cores busy, "
                     f"{machine['server_cpu_s'] * 1000 / requests_n:.1f} ms per request; the load generator "
                     f"itself: {machine['generator_cpu_s'] / seconds:.2f} cores")
    lines.append(head)
    for entry in rows:
        if entry.num_requests == 0:
            continue
        mark = "* " if entry.name in INTERACTIVE_ACTIONS + INTERACTIVE_CALLBACKS else "  "
        lines.append(f"{mark}{entry.name[:44]:<44}{entry.num_requests:>7}{entry.num_failures:>6}"
                     f"{entry.median_response_time:>8.0f}{entry.get_response_time_percentile(0.95):>7.0f}"
                     f"{entry.get_response_time_percentile(0.99):>7.0f}{entry.max_response_time:>7.0f}")
    for error in env.stats.errors.values():
        lines.append(f"  error x{error.occurrences}: {error.name}: {str(error.error)[:150]}")
    verdict = ["  * interactive; target p95 <= 300 ms at 50 users:"]
    for name in INTERACTIVE_ACTIONS + INTERACTIVE_CALLBACKS:
        entry = env.stats.entries.get((name, "ACTION" if name.startswith("action") else "POST"))
        if entry and entry.num_requests:
            p95 = entry.get_response_time_percentile(0.95)
            verdict.append(f"    {name:<40} p95 {p95:5.0f} ms  {'ok' if p95 <= 300 else 'MISSED'}")
    return "\n".join(lines + verdict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="a running server (default: start `make serve`'s gunicorn on a free port)")
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    server = None
    host = args.host
    if not host:
        port = distributed.free_port()
        cache = Path(tempfile.mkdtemp(prefix="rct-load-"))
        # sign-in off: a session's one sign-in request is not what this measures
        server = distributed.start_web(port, None, cache, cache / "gunicorn.log", workers=2, threads=4,
                                       extra_env={"RCT_AUTH": "0"})
        host = f"http://127.0.0.1:{port}"
    try:
        import requests

        warm = time.perf_counter()
        DashClient(requests.Session(), host, timeout_s=600).open()  # the default results, computed once
        print(f"server {host} ready; default results in {time.perf_counter() - warm:.1f} s", flush=True)
        for users in args.users:
            env, machine = run(host, users, args.seconds, server)
            print(table(env, users, args.seconds, machine), flush=True)
            time.sleep(5)  # let the last responses drain before the next stage
    finally:
        distributed.stop(server)


if __name__ == "__main__":
    main()
