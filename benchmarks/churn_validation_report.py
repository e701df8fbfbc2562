"""Churn validation report: held-out ROC AUC, PR AUC and Brier of the churn models against the baselines.

    .venv/bin/python benchmarks/churn_validation_report.py                    # the shared Online Retail file
    .venv/bin/python benchmarks/churn_validation_report.py --synthetic 1000000 # timing on a synthetic log

Runs the real pipeline pieces (loading, cleaning, features, BG/NBD, churn). The label window is the 90 days
before the as-of date; features come from the data before it; every scorer is evaluated on the same
held-out customers (30 %, stratified, seed 0). Prints the numbers whatever they are, with wall and CPU
times per stage (CPU time is the better guide on a busy machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.churn import ChurnModel  # noqa: E402
from analytics.cleaning import clean  # noqa: E402
from analytics.features import customer_features  # noqa: E402

from _harness import ONLINE_RETAIL, Clock, load_log  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ONLINE_RETAIL),
                        help="transaction file (default: the shared Online Retail file)")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="use a synthetic log of this many rows instead")
    parser.add_argument("--window", type=int, default=90, help="churn window, days")
    parser.add_argument("--model", default="logistic", choices=["logistic", "forest"])
    args = parser.parse_args()

    clock = Clock()
    transactions = load_log(args.synthetic, args.path, clock)
    cleaned = clock("clean", clean, transactions)
    lines, as_of = cleaned.lines, cleaned.as_of
    current = clock("features as of as-of", customer_features, lines, as_of)
    model = ChurnModel(model=args.model, window_days=args.window)
    clock("churn fit + evaluation", model.fit, lines, as_of, current_features=current)

    source = f"synthetic log, {args.synthetic:,} rows" if args.synthetic else str(args.path)
    print(f"Churn validation - {source}")
    print(f"  {len(lines):,} clean lines, {len(current):,} customers, as of {as_of:%Y-%m-%d}")
    print(f"  label window {model.window_days} days: cutoff {model.cutoff_:%Y-%m-%d}; "
          f"{model.n_labelled_:,} customers bought before it, {model.n_churned_:,} of them "
          f"({model.n_churned_ / max(model.n_labelled_, 1):.1%}) did not buy again in the window")
    if model.heuristic_:
        print(f"  HEURISTIC: {model.reason_}")
    else:
        print(f"  trained on {model.n_train_:,}, evaluated on {model.n_test_:,} held-out customers")
    print()
    display = ("display.width", 160, "display.max_columns", 20, "display.float_format", "{:.3f}".format)
    with pd.option_context(*display):
        print(model.metrics_.to_string())
    for name, note in model.notes_.items():
        print(f"  note ({name}): {note}")
    if not model.heuristic_:
        print("\nOdds ratios (logistic, per +1 sd of the model-scale feature), largest effects:")
        print(model.odds_ratios_.head(8)[["feature", "scale", "odds_ratio", "effect"]].to_string(index=False))
        print("\nPermutation importance (drop in held-out ROC AUC), top 5:")
        print(model.feature_importance_.head(5).to_string(index=False, float_format="{:.4f}".format))
    print("\nHighest-risk customers:")
    top = model.scores_.sort_values("churn_probability", ascending=False).head(5)
    for cid, row in top.iterrows():
        print(f"  {cid}: {row.churn_probability:.2f}  {row.churn_drivers}")
    print("\nTimings:")
    print(clock.report())


if __name__ == "__main__":
    main()
