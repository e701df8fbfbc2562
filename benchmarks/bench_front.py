"""The serial part of a run, before the model lanes start: reading, cleaning, the cache key's fingerprint and
the invoice table, each timed on its own (wall and CPU seconds, all threads) in one fresh process, then the
fingerprint and the invoice table at once as ``analytics.pipeline.run_cached`` runs them (the invoice table is
then left to finish beside the customer features; the serial part ends with the fingerprint).

Usage: ``python benchmarks/bench_front.py [path]`` (default: the 10M-line synthetic log ``bench_scale.py``
writes to /tmp/rct-bench).
"""

from __future__ import annotations

import resource
import sys
import time
from functools import partial

from _harness import peak_rss_mb


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/rct-bench/synthetic_10000000.parquet"
    rows: list[tuple[str, float, float, float]] = []

    def step(name: str, compute):
        wall, cpu = time.perf_counter(), cpu_s()
        out = compute()
        rows.append((name, time.perf_counter() - wall, cpu_s() - cpu, peak_rss_mb()))
        return out

    step("imports", lambda: __import__("analytics.pipeline"))
    from analytics import cleaning, pipeline
    from analytics.cache import fingerprint_data
    from analytics.invoices import invoice_table
    from analytics.loading import read_transactions

    transactions = step("reading", lambda: read_transactions(path))
    cleaned = step("cleaning", partial(cleaning.clean, transactions))
    del transactions
    step("fingerprint", lambda: fingerprint_data(cleaned.lines))
    step("invoice table", lambda: invoice_table(cleaned.lines))

    def together() -> None:
        invoices = pipeline.invoice_table_begun(cleaned.lines)
        fingerprint_data(cleaned.lines)
        invoices.result()

    step("fingerprint + invoice table at once", together)
    for name, wall, cpu, peak in rows:
        print(f"{name:<38s} wall {wall:6.2f} s   cpu {cpu:6.2f} s   peak {peak:6.0f} MB")
    serial = sum(wall for name, wall, _, _ in rows if name in ("reading", "cleaning", "fingerprint"))
    print(f"serial part as run_cached runs it (reading + cleaning + fingerprint): wall {serial:.2f} s")


if __name__ == "__main__":
    main()
