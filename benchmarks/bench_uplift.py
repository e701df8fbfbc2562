"""Benchmark: a campaign test end to end, and one ROI recomputation with learned uplift.

    .venv/bin/python benchmarks/bench_uplift.py            # the synthetic retailer (100k lines, ~2,300 in the test)
    .venv/bin/python benchmarks/bench_uplift.py --rows 1000000   # a 1M-line log (~23,000 customers in the test)

Prints wall and CPU seconds per stage (measure; pre-send features; cross-fitted model and bootstrap intervals;
scoring today's customers with the bootstrap refits; one ROI evaluation with learned uplift) and peak memory.
"""

from __future__ import annotations

import argparse

from _harness import Clock, peak_rss_mb

from analytics import cleaning, pipeline
from analytics.invoices import invoice_table
from analytics.params import AnalysisParams
from analytics.roi import Scenario, evaluate
from analytics.synthetic import DEFAULT_CAMPAIGN, simulate_retail
from analytics.loading import to_canonical
from analytics.uplift import analyse_campaign, measure_campaign, score_customers
from analytics.uplift.features import features_as_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    clock = Clock()
    simulated = clock("simulate log + campaign", simulate_retail, rows, 0, campaign=DEFAULT_CAMPAIGN)
    test = simulated.campaign
    cleaned = clock("clean", cleaning.clean, to_canonical(simulated.transactions))
    invoices = clock("invoice table", invoice_table, cleaned.lines)
    results = clock("pipeline (for today's customers)", pipeline.analyse, cleaned, AnalysisParams(), "bench")
    clock("measure only", measure_campaign, invoices, test.assignment, test.sent_on, test.window_days, cleaned.as_of)
    clock("features as of the send date", features_as_of, invoices, test.sent_on, AnalysisParams())
    analysis = clock("analyse (all of the above + model)", analyse_campaign, invoices, test.assignment,
                     test.sent_on, test.window_days, cleaned.as_of)
    scored = clock("score today's customers (20 refits)", score_customers, analysis, results.customers)
    scenario = Scenario(uplift_source="learned", audience_size="optimal")
    clock("one ROI evaluation, learned uplift", evaluate, results.customers, scenario,
          learned=(scored.uplift, scored.draws))
    print(f"{rows:,} lines, {len(analysis.customers):,} customers in the test, "
          f"{len(results.customers):,} scored today")
    print(clock.report())
    print(f"  peak memory {peak_rss_mb():,.0f} MB")
    if analysis.evidence:
        q = analysis.evidence.qini
        print(f"  held-out Qini coefficient {q.estimate:.3f} (95 % CI {q.ci_low:.3f} to {q.ci_high:.3f}); "
              f"churn ranking {analysis.evidence.qini_churn.estimate:.3f}")


if __name__ == "__main__":
    main()
