"""Synthetic retailer: generation, mapping into the canonical frame, and reading it back from a CSV.

    .venv/bin/python benchmarks/bench_synthetic.py                  # 100k and 1M rows
    .venv/bin/python benchmarks/bench_synthetic.py --rows 2000000

Target (issue 2): 1M rows generated in well under a minute. Each size runs in its own process so its peak
memory is its own. Printed per size: rows, customers, generation wall and CPU seconds, ``to_canonical`` on
the generated frame, writing a CSV (untimed for the target) and ``read_transactions`` of that CSV, and peak
RSS. CPU time is the better guide on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _harness import in_subprocess, peak_rss_mb, report


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2), value


def run_case(rows: int) -> dict:
    from analytics.loading import read_transactions, to_canonical
    from analytics.synthetic import simulate_retail

    generate_s, generate_cpu, simulated = _timed(lambda: simulate_retail(rows, seed=0))
    raw = simulated.transactions
    canonical_s, _, _ = _timed(lambda: to_canonical(raw))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic.csv"
        raw.to_csv(path, index=False)
        read_s, read_cpu, _ = _timed(lambda: read_transactions(path))
    return {
        "rows": len(raw),
        "customers": simulated.truth["n_customers"],
        "generate_s": generate_s,
        "generate_cpu_s": generate_cpu,
        "to_canonical_s": canonical_s,
        "read_csv_s": read_s,
        "read_csv_cpu_s": read_cpu,
        "peak_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(int(args.case))))
        return
    results = [{"target": n, **in_subprocess(Path(__file__), str(n))} for n in args.rows]
    report(results, ["target", "rows", "customers", "generate_s", "generate_cpu_s", "to_canonical_s",
                     "read_csv_s", "read_csv_cpu_s", "peak_mb"])


if __name__ == "__main__":
    main()
