"""Shared benchmark plumbing: run a case in a fresh process and print wall time and peak memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONLINE_RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.xz"
sys.path.insert(0, str(ROOT))


class Clock:
    """Wall and CPU seconds per named stage (CPU time is the better guide on a busy machine)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def __call__(self, name: str, fn, *args, **kw):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args, **kw)
        self.rows.append((name, time.perf_counter() - wall, time.process_time() - cpu))
        return out

    def report(self) -> str:
        return "\n".join(f"  {name:<30s} wall {w:6.2f} s   cpu {c:6.2f} s" for name, w, c in self.rows)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def in_subprocess(script: Path, case: str, *args: str) -> dict:
    """Run ``script --case CASE`` in a new interpreter (so peak memory is the case's own) and parse its JSON."""
    done = subprocess.run([sys.executable, str(script), "--case", case, *args], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"benchmark case {case} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(f"{r.get(c, '')}") for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(f"{row.get(c, '')}".ljust(widths[c]) for c in columns))


def load_log(synthetic_rows: int | None, path: str | Path, clock: Clock):
    """Canonical transactions: a synthetic log of that many rows, or the file at ``path`` (timed by ``clock``)."""
    from analytics.loading import read_transactions, to_canonical

    if synthetic_rows:
        from analytics.synthetic import generate_retail

        raw = clock(f"generate {synthetic_rows:,} rows", generate_retail, synthetic_rows, seed=0)
        return clock("to canonical", to_canonical, raw)
    if not Path(path).exists():
        raise SystemExit(f"Online Retail data not found at {path} (it lives in ../shared, not in the repo)")
    return clock("read file", read_transactions, Path(path))
