"""Run the shared-nothing stack locally: one redis-server, web processes and a Celery worker that share only Redis.

``make serve-distributed`` runs ``python scripts/distributed.py``: redis-server on ``REDIS_PORT`` (a free port
when unset) with its data in a temporary directory, two gunicorn web processes on ``PORT`` and ``PORT+1``
(8050 and 8051 by default), each with its own local cache directory, and one Celery worker. Ctrl-C stops all.

The same helpers start the services for the tests (tests/distributed) and the fault benchmark, so what is
tested is what is run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 120) -> None:
    """Wait until something listens on ``port``; fail early if ``process`` has exited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on port {port} after {timeout_s} s")


def stop(process: subprocess.Popen | None, timeout_s: float = 20) -> None:
    """Terminate a process we started (its own process group, so gunicorn's and Celery's children go too)."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout_s)


def _spawn(argv: list[str], env: dict, log: Path | None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


@dataclass
class Redis:
    """A redis-server on a port of ours with its data in ``directory``; ``persistent`` keeps an append-only
    file there, so a restarted Redis still has the results (tests run without, to stay light). When full it
    evicts expiring keys (results, uploads), never the queue's (see analytics.shared_store)."""

    directory: Path
    port: int = field(default_factory=free_port)
    persistent: bool = False
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = _spawn([server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                               "--save", "", "--appendonly", "yes" if self.persistent else "no",
                               "--protected-mode", "yes", "--maxmemory-policy", "volatile-lru"],
                              dict(os.environ), self.directory / "redis.log")
        wait_for_port(self.port, self.process, timeout_s=30)
        return self

    def stop(self) -> None:
        stop(self.process)


def app_env(redis_url: str | None, cache_dir: Path, **extra: str) -> dict:
    env = dict(os.environ, RCT_CACHE_DIR=str(cache_dir), **extra)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def start_worker(redis_url: str, cache_dir: Path, log: Path | None = None, concurrency: int = 2,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """A Celery worker (prefork, ``concurrency`` processes) that builds the app and runs its background callbacks."""
    env = app_env(redis_url, cache_dir, RCT_WORKER_CONCURRENCY=str(concurrency), **(extra_env or {}))
    return _spawn([str(BIN / "celery"), "-A", "worker", "worker", "--loglevel", "INFO", "--without-gossip",
                   "--without-mingle", "--hostname", f"rct-{os.getpid()}-{free_port()}@%h"], env, log)


def wait_for_worker(redis_url: str, timeout_s: float = 120) -> None:
    """Wait until a worker answers a ping through the broker."""
    from celery import Celery

    probe = Celery(broker=redis_url, backend=redis_url)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if probe.control.ping(timeout=1.0):
                return
            time.sleep(0.5)
    finally:
        probe.close()
    raise TimeoutError(f"no Celery worker answered within {timeout_s} s")


def analysis_pids(web: subprocess.Popen, redis_url: str | None) -> list[int]:
    """Processes running an analysis now: the Celery tasks' pool processes (asked through the broker), or
    without Redis the diskcache manager's job processes (children of the gunicorn workers)."""
    if redis_url:
        from celery import Celery

        probe = Celery(broker=redis_url, backend=redis_url)
        try:
            active = probe.control.inspect(timeout=2).active() or {}
        finally:
            probe.close()
        return [task["worker_pid"] for tasks in active.values() for task in tasks]
    import psutil

    return [child.pid for worker in psutil.Process(web.pid).children() for child in worker.children()]


def start_web(port: int, redis_url: str | None, cache_dir: Path, log: Path | None = None,
              workers: int = 2, threads: int = 4, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn serving ``app:server`` as the Procfile does."""
    env = app_env(redis_url, cache_dir, **(extra_env or {}))
    process = _spawn([str(BIN / "gunicorn"), "app:server", "--workers", str(workers), "--threads", str(threads),
                      "--timeout", "180", "--bind", f"127.0.0.1:{port}"], env, log)
    wait_for_port(port, process)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8050)),
                        help="first web process's port; the second uses port+1")
    parser.add_argument("--redis-port", type=int, default=int(os.environ.get("REDIS_PORT") or 0) or None,
                        help="redis-server port (default: a free one)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="rct-distributed-"))
    redis = Redis(base / "redis", persistent=True, **({"port": args.redis_port} if args.redis_port else {})).start()
    processes = []
    try:
        processes.append(start_worker(redis.url, base / "worker-cache", base / "worker.log"))
        for offset in (0, 1):
            port = args.port + offset
            processes.append(start_web(port, redis.url, base / f"web{offset}-cache", base / f"web{offset}.log",
                                       workers=1))
            print(f"web process {offset + 1}: http://127.0.0.1:{port}/", flush=True)
        wait_for_worker(redis.url)
        print(f"redis: {redis.url}   logs and local scratch: {base}\nCtrl-C stops everything.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            stop(process)
        redis.stop()


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the children too, like Ctrl-C
    main()
