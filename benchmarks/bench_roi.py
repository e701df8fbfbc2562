"""Benchmark: one ROI recomputation (what the tab does per lever change) on ~4,300 and 200,000 customers.

Targets (issue 6): under 100 ms on the Online Retail customer count and under 300 ms with 200k customers.

    .venv/bin/python benchmarks/bench_roi.py                 # synthetic tables of 4,338 and 200,000 customers
    .venv/bin/python benchmarks/bench_roi.py --online-retail # also the real Online Retail customers

Synthetic tables have the pipeline's column names and realistic shapes (p_no_purchase from a Beta, spend from
a Gamma). With --online-retail the customer table comes from analytics.pipeline.run on
../shared/data/online_retail.csv.xz; columns the pipeline does not produce yet (p_no_purchase,
expected_spend, churn_probability, clv) are filled with simple proxies: timings do not depend on the values.
Prints median and worst time per stage over repeated runs, and the peak Python memory of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.roi import AudienceFilter, Scenario, evaluate, select_audience  # noqa: E402
from analytics.roi.economics import prepare  # noqa: E402
from analytics.roi.targeting import profit_curve, ranked_customers, value_warnings  # noqa: E402
from analytics.roi.uncertainty import monte_carlo, scenario_table, tornado  # noqa: E402

ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail.csv.xz"
SEGMENTS = [
    "Champions",
    "Loyal Customers",
    "Potential Loyalist",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
]
CLV_HORIZON_MONTHS = 12


def synthetic_customers(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "segment": rng.choice(SEGMENTS, n),
            "cluster_name": rng.choice(["big spenders", "lapsing", "one-off", "regulars"], n),
            "churn_probability": rng.beta(2, 2, n),
            "clv": rng.gamma(1.5, 400, n),
            "country": rng.choice(
                ["United Kingdom", "Germany", "France", "EIRE"], n, p=[0.9, 0.04, 0.04, 0.02]
            ),
            "p_no_purchase": rng.beta(2, 1.5, n),
            "expected_spend": rng.gamma(2.0, 200, n),
        },
        index=pd.Index([str(10_000 + i) for i in range(n)], name="customer_id", dtype="string"),
    )


def online_retail_customers() -> pd.DataFrame:
    from analytics import pipeline
    from analytics.loading import read_transactions

    customers = pipeline.run(read_transactions(ONLINE_RETAIL)).customers.copy()
    months = np.maximum(customers["tenure_days"].to_numpy(float), 30.0) / 30.4375
    rate = customers["frequency"].to_numpy(float) / months
    proxies = {
        "p_no_purchase": np.exp(-rate * CLV_HORIZON_MONTHS),
        "expected_spend": customers["avg_order_value"].to_numpy(float),
        "churn_probability": 1 - np.exp(-customers["recency_days"].to_numpy(float) / 90),
        "clv": customers["monetary"].to_numpy(float),
    }
    for column, values in proxies.items():
        if column not in customers:
            customers[column] = values
    return customers


def timed(fn, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per call (CPU time is steadier on a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def bench(label: str, table: pd.DataFrame, repeats: int, target_ms: float, audience: AudienceFilter) -> None:
    scenario = Scenario(
        discount_pct=15,
        redemption_pct=80,
        redemption_sd_pp=10,
        uplift_pp=5,
        uplift_sd_pp=2,
        gross_margin_pct=40,
        contact_cost=0.5,
        fixed_cost=1000,
        horizon_months=3,
        audience=audience,
    )
    levers = scenario.levers()

    def select():
        return select_audience(table, scenario.audience)

    selection = select()

    def economics():
        audience = prepare(selection.customers, 3, p0_horizon_months=CLV_HORIZON_MONTHS)
        return audience, audience.totals(levers)

    audience, totals = economics()

    def targeting():
        curve = profit_curve(audience, levers)
        ranked_customers(audience, levers, curve)
        return value_warnings(totals, curve, audience, levers)

    stages = {
        "select audience": select,
        "economics (prepare + totals)": economics,
        "targeting (curve + ranking)": targeting,
        "tornado + 3 scenarios": lambda: (tornado(audience, levers), scenario_table(audience, levers)),
        "Monte Carlo (2,000 sims)": lambda: monte_carlo(audience, levers, n_sims=2000, seed=0),
        "evaluate() end to end": lambda: evaluate(table, scenario, p0_horizon_months=CLV_HORIZON_MONTHS),
    }
    print(f"\n{label}: {len(table):,} customers, {selection.n:,} selected, {repeats} runs")
    for name, fn in stages.items():
        fn()  # warm-up
        wall, cpu = timed(fn, repeats)
        print(
            f"  {name:<30} wall median {statistics.median(wall):6.1f} ms  worst {max(wall):6.1f} ms"
            f"   CPU median {statistics.median(cpu):6.1f} ms"
        )
    tracemalloc.start()
    evaluate(table, scenario, p0_horizon_months=CLV_HORIZON_MONTHS)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    median = statistics.median(wall)
    verdict = "OK" if median < target_ms else "OVER TARGET"
    print(
        f"  end to end wall median {median:.1f} ms vs target {target_ms:.0f} ms: {verdict}; "
        f"peak Python memory {peak:.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--online-retail", action="store_true", help="also time the real Online Retail customers"
    )
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with load)")
    if args.online_retail:
        if not ONLINE_RETAIL.exists():
            sys.exit(f"{ONLINE_RETAIL} not found")
        start = time.perf_counter()
        customers = online_retail_customers()
        print(
            f"Online Retail pipeline run: {time.perf_counter() - start:.1f} s (not part of a recomputation)"
        )
        bench("Online Retail, everyone", customers, args.repeats, 100, AudienceFilter())
    small, large = synthetic_customers(4_338), synthetic_customers(200_000)
    at_risk = AudienceFilter(segments=SEGMENTS[3:])
    bench("Synthetic, Online Retail size, everyone", small, args.repeats, 100, AudienceFilter())
    bench("Synthetic, Online Retail size, 4 of 7 segments", small, args.repeats, 100, at_risk)
    bench("Synthetic, large, everyone", large, max(5, args.repeats // 2), 300, AudienceFilter())
    bench("Synthetic, large, 4 of 7 segments", large, max(5, args.repeats // 2), 300, at_risk)


if __name__ == "__main__":
    main()
