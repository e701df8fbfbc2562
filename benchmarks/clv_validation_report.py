"""CLV validation report: the model tournament with interval coverage on Online Retail, CDNOW and the
synthetic data, then the BG/NBD holdout check in detail on the shared Online Retail file.

    .venv/bin/python benchmarks/clv_validation_report.py                  # Online Retail, pipeline's split
    .venv/bin/python benchmarks/clv_validation_report.py --tournament-only
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
from analytics.clv.tournament import run_tournament  # noqa: E402
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


def tournament_report(name: str, lines: pd.DataFrame, calibration_end, observation_end) -> str:
    """The tournament table on one dataset (every candidate on the same held-out window) and its verdict."""
    clock = Clock()
    result = clock("tournament", run_tournament, lines, pd.Timestamp(calibration_end), pd.Timestamp(observation_end))
    table = result.table.drop(columns=["label", "params"]).copy()
    table["error"] = [e[:40] if isinstance(e, str) else "" for e in table["error"]]
    for column in ("coverage_fraction", "in_interval_fraction", "interval_mass_fraction",
                   "revenue_coverage_fraction"):
        table[column] = (100 * table[column].astype(float)).round(1)
    actual_revenue = result.holdout_revenue
    table["rev_total_in"] = [
        "" if inside is None else f"{'yes' if inside else 'no'} {low / 1e3:,.0f}k-{high / 1e3:,.0f}k"
        for low, high, inside in zip(table.pop("revenue_total_low"), table.pop("revenue_total_high"),
                                     table.pop("revenue_total_covered"))]
    table = table.rename(columns={"aggregate_error_pct": "aggr_err_%", "revenue_error_pct": "rev_err_%",
                                  "coverage_fraction": "cov80_%", "in_interval_fraction": "in_int_%",
                                  "interval_mass_fraction": "model_exp_%", "revenue_coverage_fraction": "rev_cov80_%",
                                  "dropout_collapsed": "dropout_0"})
    return "\n".join([
        f"Tournament - {name}: calibration before {result.calibration_end:%Y-%m-%d}, holdout to "
        f"{result.observation_end:%Y-%m-%d} ({result.duration_holdout_days:.0f} days), {result.n_customers:,} "
        f"calibration customers",
        table.round(3).to_string(),
        f"  cov80_%: coverage of the 80 % interval of holdout purchases (an actual on an interval end counts "
        f"for the chance that end is included to hold exactly 80 %); in_int_%: actual inside the whole-number "
        f"interval; model_exp_%: the model's probability of that interval; rev_cov80_%: coverage of the 80 % "
        f"holdout revenue interval; rev_total_in: the holdout revenue total ({actual_revenue / 1e3:,.0f}k) in "
        f"its 80 % interval?",
        f"  winner: {result.winner_label}. {result.reason}",
        f"  tracking diagnosis: {result.diagnosis.get('sentence', '')}",
        clock.report(),
    ])


def describe_fit(model) -> str:
    errors = getattr(model, "standard_errors_", {})
    params = ", ".join(f"{k} = {v:.4g} (se {errors.get(k, float('nan')):.2g})"
                       for k, v in model.params_.items())
    tries = "; ".join(f"penalizer {a['penalizer']:g} {a.get('method', 'BFGS')}: "
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
    parser.add_argument("--tournament-only", action="store_true", help="print the three tournaments and stop")
    args = parser.parse_args()

    print(cdnow_reference())
    print()
    cdnow = clean(load_dataset("cdnow_sample")).lines
    print(tournament_report("CDNOW 1/10 sample (FHL 2005 split)", cdnow, "1997-10-01", "1998-07-01"))
    print()
    synthetic = clean(load_dataset("synthetic"))
    print(tournament_report("synthetic (true model BG/NBD)", synthetic.lines,
                            holdout_window(synthetic.lines, synthetic.as_of), synthetic.as_of))
    print()
    if not args.synthetic and Path(args.path).exists():
        real = clean(load_log(0, args.path, Clock()))
        print(tournament_report(Path(args.path).name, real.lines, holdout_window(real.lines, real.as_of),
                                real.as_of))
        print()
    if args.tournament_only:
        return

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
    print("  calibration fit: " + ", ".join(f"{k} = {v:.4g}" for k, v in model.params.items())
          + f"; penalizer used {model.penalizer_used:g}; attempts "
          + "; ".join(f"{a['method']} {'ok' if a['converged'] else 'failed'}" for a in model.fit_attempts))
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
