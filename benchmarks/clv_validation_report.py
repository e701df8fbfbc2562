"""CLV validation report: the BG/NBD holdout check against a naive baseline, on the shared Online Retail file.

    .venv/bin/python benchmarks/clv_validation_report.py                  # Online Retail, pipeline's split
    .venv/bin/python benchmarks/clv_validation_report.py --calibration-end 2011-09-10 --model mbgnbd
    .venv/bin/python benchmarks/clv_validation_report.py --synthetic 1000000     # timing on a synthetic log

Runs the real pieces (loading, cleaning, analytics.clv). First the published CDNOW numbers next to ours, then
the fit on all the data up to the as-of date (parameters, standard errors, log-likelihood, how the fit
converged, the Gamma-Gamma frequency/spend correlation, the CLV distribution), then the holdout check: the
purchase model is fitted on the calibration period only (default: the pipeline's rule, the last third of
the history capped at 182 days) and predicts each customer's repeat purchases (distinct purchase days) in
the holdout. The naive baseline carries each customer's calibration repeat rate (frequency / T) over the
holdout. Numbers are printed whatever they are; wall and CPU times per stage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.cleaning import clean  # noqa: E402
from analytics.clv import (  # noqa: E402
    BetaGeoModel,
    GammaGammaModel,
    calibration_holdout,
    customer_lifetime_value,
    holdout_validation,
    rfm_summary,
)
from analytics.datasets import load_dataset  # noqa: E402
from analytics.pipeline import holdout_window  # noqa: E402

from _harness import ONLINE_RETAIL, Clock, load_log  # noqa: E402
FHL_2005 = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log-likelihood": -9582.4}
FH_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def cdnow_reference() -> str:
    """Published CDNOW estimates (Fader, Hardie & Lee 2005; Fader & Hardie 2013) next to our refit."""
    split = calibration_holdout(load_dataset("cdnow_sample"), "1997-10-01", "1998-07-01", unit="W")
    bg, gg = BetaGeoModel().fit(split), GammaGammaModel().fit(split)
    ours = {**bg.params_, "log-likelihood": bg.log_likelihood_, **gg.params_}
    lines = [f"CDNOW 1/10 sample, weeks, calibration 1997-01-01..1997-09-30: {len(split):,} customers, "
             f"{gg.n_customers_} repeat buyers"]
    for name, published in {**FHL_2005, **FH_GAMMA_GAMMA}.items():
        lines.append(f"  {name:<15s} published {published:>9.3f}   reproduced {ours[name]:>11.4f}")
    return "\n".join(lines)


def describe_fit(model) -> str:
    errors = getattr(model, "standard_errors_", {})
    params = ", ".join(f"{k} = {v:.4g} (se {errors.get(k, float('nan')):.2g})"
                       for k, v in model.params_.items())
    tries = "; ".join(f"penalizer {a['penalizer']:g} {a.get('method', 'lifetimes')}: "
                      f"{'converged' if a['converged'] else 'failed'}" for a in model.fit_attempts_)
    return (f"{params}\n    log-likelihood {model.log_likelihood_:,.1f}, converged {model.converged_}, "
            f"penalizer used {model.penalizer_used_:g}\n    attempts: {tries}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(ONLINE_RETAIL),
                        help="transaction file (default: Online Retail)")
    parser.add_argument("--synthetic", type=int, default=0,
                        help="use a synthetic log of this many rows instead")
    parser.add_argument("--calibration-end", default=None,
                        help="exclusive end of the calibration period, YYYY-MM-DD (default: pipeline's rule)")
    parser.add_argument("--model", default="bgnbd", choices=["bgnbd", "mbgnbd"])
    parser.add_argument("--horizon", type=int, default=12, help="CLV horizon, months")
    args = parser.parse_args()

    print(cdnow_reference())
    print()

    clock = Clock()
    transactions = load_log(args.synthetic, args.path, clock)
    cleaned = clock("clean", clean, transactions)
    lines, as_of = cleaned.lines, cleaned.as_of
    summary = clock("rfm_summary (days)", rfm_summary, lines, as_of, unit="D")
    purchases = clock(f"fit {args.model}", BetaGeoModel(model=args.model).fit, summary)
    spend = clock("fit Gamma-Gamma", GammaGammaModel().fit, summary)
    table = clock(f"CLV, {args.horizon} months", customer_lifetime_value, purchases, spend, summary,
                  horizon_months=args.horizon, unit="D")
    calibration_end = (pd.Timestamp(args.calibration_end) if args.calibration_end
                       else holdout_window(lines, as_of))
    validation = clock("holdout validation", holdout_validation, lines, calibration_end, as_of, unit="D",
                       model=args.model)

    source = f"synthetic log, {args.synthetic:,} rows" if args.synthetic else str(args.path)
    repeat = int((summary["frequency"] > 0).sum())
    print(f"CLV validation - {source}")
    print(f"  {len(lines):,} clean lines, {len(summary):,} customers ({repeat:,} repeat buyers), "
          f"as of {as_of:%Y-%m-%d}, time in days")
    print(f"  {args.model} on all data: {describe_fit(purchases)}")
    print(f"  Gamma-Gamma on {spend.n_customers_:,} repeat buyers "
          f"({spend.n_excluded_} left out, spend <= 0): "
          f"{describe_fit(spend)}")
    print(f"    frequency/spend correlation among repeat buyers: "
          f"r = {spend.frequency_spend_correlation_:.3f} "
          f"(the model assumes independence); population mean spend {spend.population_mean_:,.2f}")
    quantiles = table["clv"].quantile([0.1, 0.5, 0.9, 0.99])
    print(f"  CLV over {args.horizon} months (margin 0.3, 1 %/month): total {table['clv'].sum():,.0f}, "
          + ", ".join(f"p{int(q * 100)} {v:,.1f}" for q, v in quantiles.items()))
    print(f"    expected purchases: total {table['expected_purchases'].sum():,.0f}; mean P(alive) "
          f"{table['p_alive'].mean():.3f}; "
          f"mean P(no purchase in horizon) {table['p_no_purchase'].mean():.3f}")
    print()
    model = validation.model
    print(f"Holdout: calibration before {validation.calibration_end:%Y-%m-%d}, holdout "
          f"{validation.calibration_end:%Y-%m-%d} to {validation.observation_end:%Y-%m-%d} "
          f"({validation.duration_holdout:.0f} days), {len(validation.customers):,} calibration customers")
    print("  calibration fit: " + ", ".join(f"{k} = {v:.4g}" for k, v in model["params"].items())
          + f"; penalizer used {model['penalizer_used']:g}; attempts "
          + "; ".join(f"{a['method']} {'ok' if a['converged'] else 'failed'}" for a in model["fit_attempts"]))
    print(validation.metrics.round(3).to_string())
    print()
    print("  Mean holdout repeat purchases by calibration frequency:")
    print(validation.by_frequency.round(3).to_string())
    print()
    print("  Cumulative repeat purchases of the calibration customers (every 4th week):")
    tracking = validation.tracking
    step = tracking.iloc[list(range(3, len(tracking), 4)) + [len(tracking) - 1]].drop_duplicates("week_end")
    print(step.assign(week_end=step["week_end"].dt.strftime("%Y-%m-%d")).round(1).to_string(index=False))
    print()
    print("Timings:")
    print(clock.report())


if __name__ == "__main__":
    main()
