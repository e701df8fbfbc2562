"""Benchmark: segment journeys on the Online Retail data (~400k cleaned lines, ~4,300 customers).

Target (issue 5): quarterly journeys (5 snapshots) computed in under 5 s, then served from the cache.

    .venv/bin/python benchmarks/bench_journeys.py            # ../shared/data/online_retail.csv.xz
    .venv/bin/python benchmarks/bench_journeys.py --repeat 5

Prints, for the history (quarterly, monthly, fixed scoring) the median and worst time over repeated runs;
for what a tab callback does on a cached history (transitions, matrix, flow list, headlines, chain, journey
per customer) the median time; the round trip through the results cache and the tab's cached recomputation
for a non-default setting (first visit, then served from the cache); and the peak Python memory
(tracemalloc) of one quarterly history. Loading and cleaning are timed once, apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import journeys as J  # noqa: E402
from analytics.cache import ResultsCache  # noqa: E402
from analytics.cleaning import clean  # noqa: E402
from analytics.loading import read_transactions  # noqa: E402
from analytics.invoices import invoice_table  # noqa: E402
from analytics.pipeline import invoices_key  # noqa: E402
from analytics.journeys.stored import cached_history  # noqa: E402

ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.xz"


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median and worst wall time (s) of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--path", type=Path, default=ONLINE_RETAIL)
    args = parser.parse_args()
    if not args.path.exists():
        sys.exit(f"Online Retail data not found at {args.path}")

    start = time.perf_counter()
    lines = clean(read_transactions(args.path)).lines
    print(f"load + clean: {time.perf_counter() - start:.2f} s -> {len(lines):,} lines, "
          f"{lines['customer_id'].nunique():,} customers")

    print("\nhistory (median / worst of", args.repeat, "runs)")
    runs = {
        "quarterly, per-snapshot scores": lambda: J.journey_history(lines, period="Q"),
        "monthly, per-snapshot scores": lambda: J.journey_history(lines, period="M"),
        "quarterly, fixed scores": lambda: J.journey_history(lines, period="Q", scoring="fixed"),
    }
    history = None
    for name, fn in runs.items():
        median, worst, result = timed(fn, args.repeat)
        snaps = result["snapshot"].nunique()
        print(f"  {name:32s} {median:6.2f} s / {worst:5.2f} s  ({snaps} snapshots, {len(result):,} rows)")
        history = history if history is not None else result

    dates = J.snapshots(history)["snapshot"].tolist()
    a, b = dates[-2], dates[-1]
    print("\non a cached quarterly history (median of", args.repeat, "runs)")
    calls = {
        "transitions": lambda: J.transitions(history, a, b),
        "transition_matrix": lambda: J.transition_matrix(history, a, b),
        "flow_customers": lambda: J.flow_customers(history, a, b, "Champions", "At Risk"),
        "headlines": lambda: J.headlines(history, a, b),
        "chain (all snapshots)": lambda: J.chain(history),
        "customer_journey": lambda: J.customer_journey(history),
    }
    for name, fn in calls.items():
        median, _, _ = timed(fn, args.repeat)
        print(f"  {name:32s} {median * 1000:7.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        cache = ResultsCache(tmp)
        start = time.perf_counter()
        cache.set("journeys", history)
        stored = time.perf_counter() - start
        median, _, back = timed(lambda: cache.get("journeys"), args.repeat)
        assert back.equals(history)
        print(f"\nresults cache: store {stored * 1000:.1f} ms, read {median * 1000:.1f} ms")

        # the Journeys tab for a non-default setting: computed from the stored invoice table once, then read back
        cache.set(invoices_key("bench"), invoice_table(lines))
        first, _, _ = timed(lambda: cached_history(cache, "bench", None, "M", 90), 1)
        again, _, _ = timed(lambda: cached_history(ResultsCache(tmp), "bench", None, "M", 90), args.repeat)
        print(f"tab, monthly / 90 days: first visit {first:.2f} s (computed and stored), "
              f"next visits {again * 1000:.1f} ms (served from the cache, another worker's handle)")

    tracemalloc.start()
    J.journey_history(lines, period="Q")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python memory of one quarterly history: {peak / 2**20:.0f} MiB")

    print("\nheadlines, last two quarters:")
    for sentence in J.headlines(history):
        print("  -", sentence)


if __name__ == "__main__":
    main()
