"""Benchmark analytics.clustering on synthetic customers: fit time and peak memory per method.

    .venv/bin/python benchmarks/bench_clustering.py                 # 200k customers, all four methods
    .venv/bin/python benchmarks/bench_clustering.py --methods kmeans --customers 50000

Each method runs in a fresh process so its peak resident memory is its own. Printed per method: wall
time and CPU time of fit (auto k over 2-10 for kmeans / gmm / agglomerative; CPU time is the better
guide on a busy machine, the fit is single-threaded), time to predict all customers again,
peak traced numpy/Python allocations during a second, untimed fit (tracemalloc), peak process RSS
and its growth over the RSS before fitting, the chosen k and the reason.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.clustering import METHODS, CustomerClustering  # noqa: E402


def synthetic_customers(n: int, seed: int = 0) -> pd.DataFrame:
    """RFM table shaped like a retailer's: many one-time buyers, a long spend tail, recency vs frequency.

    Five latent types with log-normal spend, negative-binomial purchase counts and recency drawn so that
    frequent buyers tend to be recent. Not meant to be clusterable in any clean way, just realistic.
    """
    rng = np.random.default_rng(seed)
    # (share, mean purchases, mean recency days, median order value)
    types = np.array(
        [
            (0.35, 1.0, 300.0, 25.0),
            (0.25, 2.5, 150.0, 40.0),
            (0.20, 5.0, 60.0, 60.0),
            (0.15, 12.0, 20.0, 80.0),
            (0.05, 40.0, 7.0, 250.0),
        ]
    )
    kind = rng.choice(len(types), size=n, p=types[:, 0])
    mean_purchases, mean_recency, order_value = types[kind, 1], types[kind, 2], types[kind, 3]
    frequency = 1 + rng.negative_binomial(2, 2.0 / (2.0 + np.maximum(mean_purchases - 1.0, 0.01)))
    recency = np.minimum(rng.exponential(mean_recency), 730.0).round()
    monetary = frequency * order_value * np.exp(rng.normal(0.0, 0.6, n))
    return pd.DataFrame(
        {"recency_days": recency, "frequency": frequency, "monetary": monetary.round(2)},
        index=pd.Index([f"C{i:07d}" for i in range(n)], name="customer_id"),
    )


def run_one(method: str, n: int, sample_size: int, queue: mp.Queue) -> None:
    customers = synthetic_customers(n)
    rss_before = psutil.Process().memory_info().rss
    start, cpu_start = time.perf_counter(), time.process_time()
    model = CustomerClustering(method=method, sample_size=sample_size).fit(customers)
    fit_seconds, fit_cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    # a second, traced fit for memory: tracing slows allocation-heavy code, so it is not timed
    tracemalloc.start()
    CustomerClustering(method=method, sample_size=sample_size).fit(customers)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    start = time.perf_counter()
    model.predict(customers)
    predict_seconds = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    queue.put(
        {
            "method": method,
            "customers": n,
            "sample": model.n_sample_,
            "k": model.k_,
            "fit_s": fit_seconds,
            "fit_cpu_s": fit_cpu_seconds,
            "predict_s": predict_seconds,
            "traced_peak_mb": traced_peak / 2**20,
            "peak_rss_mb": peak_rss / 2**20,
            "rss_growth_mb": max(0, peak_rss - rss_before) / 2**20,
            "reason": model.k_reason_,
            "names": model.names_,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--sample-size", type=int, default=10_000)
    args = parser.parse_args()

    print(f"clustering benchmark: {args.customers:,} synthetic customers, {psutil.cpu_count()} CPU(s), "
          f"load average {', '.join(f'{x:.1f}' for x in psutil.getloadavg())}")
    context = mp.get_context("spawn")
    rows = []
    for method in args.methods:
        queue = context.Queue()
        worker = context.Process(target=run_one, args=(method, args.customers, args.sample_size, queue))
        worker.start()
        result = queue.get()
        worker.join()
        rows.append(result)
        print(f"\n[{method}] {result['reason']}")
        print("  names: " + "; ".join(f"{label}: {name}" for label, name in sorted(result["names"].items())))
    table = pd.DataFrame(rows).drop(columns=["reason", "names"]).set_index("method")
    print()
    print(table.to_string(float_format=lambda x: f"{x:,.2f}"))


if __name__ == "__main__":
    main()
