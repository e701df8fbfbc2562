"""CLV model tournament: every purchase model judged on the same held-out window; the winner feeds the CLV.

Candidates: BG/NBD and MBG/NBD (``BetaGeoModel``), Pareto/NBD (``ParetoNBDModel``, fitted on weighted
patterns), gradient boosting on a rolling temporal backtest (``supervised_forecast``) and the naive rate
baseline (each customer's calibration repeat rate carried over the holdout). All are fitted on the lines
before the calibration end and predict each calibration customer's repeat purchases and revenue in the
holdout; nothing fitted sees the holdout.

Judged on four criteria: per-customer MAE and RMSE of purchases, the absolute aggregate error of total
purchases, and the per-customer MAE of holdout revenue (purchases times the candidate's spend forecast:
Gamma-Gamma for the BTYD models, the boosted revenue model, each customer's mean purchase value for the
naive rate). The winner has the best mean rank over the four (ties: lower MAE), except that another BTYD
model must beat BG/NBD beyond noise to be kept over it, and the supervised model, which forecasts one
window's level, must beat the BTYD model beyond noise (see ``_choose``). Each candidate's 80 % intervals of holdout purchases and revenue, built as its
forecast builds them, are checked on the holdout too (see ``analytics.clv.intervals``).

On a large base the tournament is run on a seeded random sample of the customers (``MAX_CUSTOMERS``
calibration customers, see ``sample_customers``), every figure of it, the revenue total and its interval
included, being the sample's: the tournament chooses a model, and the chosen model is then fitted on every
customer for the CLV. Its cost grows with customers (three bootstrap-simulated BTYD candidates and a boosted
backtest): on the 10M-line synthetic log (186k calibration customers) it took 52 CPU seconds on all of them,
7.5 on a sample of 25,000 and 3.3 on 10,000 (1M-line log, 20k calibration customers: 5.3 on all, 3.6 on
10,000). At 10,000 customers the standard error of a candidate's per-customer MAE there is 0.011 purchases
(sd of the absolute errors 1.13), against gaps of 0.06 between the best BTYD model and the boosting and 0.47
to the naive rate, the same order as on 25,000 (0.971 / 1.032 / 1.447 on 10,000; 0.984 / 1.038 / 1.457 on
25,000). The BTYD models among themselves are within 0.003, a tie that more customers would not make
meaningful: which of them wins there (BG/NBD on 25,000, Pareto/NBD on 10,000) is noise either way.
Those costs were measured before the bootstrap refits started from the full fit's curvature (see
``intervals.bootstrap_fits``), which about halved the tournament's CPU time on the 1M-line log; the cap has not
been chosen again since. Session 8 took the tournament on that log from 2.4-2.8 to 2.0-2.2 CPU s and the CLV
forecast from 1.4-1.5 to 1.0-1.05 (Online Retail: 1.55-1.8 to 1.5-1.67 and 0.56-0.62 to 0.43-0.46; three
interleaved pairs on a busy machine). These left every figure the same: drawing the sample on integer codes
(0.15 -> 0.02 s), grouping its purchase days once, the tracking's weeks once for the three curves
(``validation.tracking_weeks``), ``patterns`` by one integer key (2x) and Pareto/NBD's P(no purchase)
quantiles once per shape. 10 simulated draws per bootstrap fit instead of 20 (see ``intervals.DRAWS_PER_FIT``)
moved the interval checks by a few tenths of a point and left the errors and the winner as they were. A
smaller sample was tried and left: at 7,500 and 5,000 customers (seeds 0-2) the winner stayed BG/NBD and the
tournament took 0.2 and 0.4 s less, but the boosting's interval coverage fell from 77.7-78.3 % to 75.7-76.8
and 74.2-75.3 %, its backtest having fewer customers to learn from. Settings of the boosting were tried and
left: with early stopping on Online Retail (5,401 training rows, under scikit-learn's 10,000 for
``early_stopping="auto"``; 73 trees instead of 200) its fits took 0.29 CPU s instead of 0.60 but its holdout
MAE rose from 1.116 to 1.128, RMSE from 1.726 to 1.758 and revenue MAE from 780 to 849; with a learning rate
of 0.1 and 100 trees, 0.33 s, MAE 1.127, RMSE 1.760 (1M-line log: unchanged, where early stopping already ran,
or MAE 1.006 against 1.008 and RMSE 1.532 against 1.516). Worse on the data where it ties for first rank;
fewer histogram bins (63 or 31) saved nothing (0.50 s).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ttest_rel
from threadpoolctl import threadpool_limits

from analytics import schema
from analytics.clv import intervals
from analytics.clv.bgnbd import BetaGeoModel
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.pareto_nbd import ParetoNBDModel
from analytics.clv.summary import calibration_holdout, days_shared, purchase_days
from analytics.clv.supervised import supervised_forecast
from analytics.clv.validation import _tracking, tracking_weeks
from analytics.errors import DataError

CANDIDATES: dict[str, str] = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pnbd": "Pareto/NBD",
    "supervised": "Gradient boosting (backtest)",
    "naive": "Naive rate",
}
BTYD = ("bgnbd", "mbgnbd", "pnbd")
CRITERIA = {"mae": "purchases MAE", "rmse": "purchases RMSE", "abs_aggregate_error_pct": "aggregate error",
            "revenue_mae": "revenue MAE"}
CHECKS = ("coverage_fraction", "in_interval_fraction", "interval_mass_fraction", "revenue_coverage_fraction",
          "revenue_total_low", "revenue_total_high")
"""Interval checks on the holdout per candidate (see ``analytics.clv.intervals.coverage_summary``): the
revenue total's 80 % interval comes from joint draws for the BTYD models, from independent draws per
customer for the rate models (customer-level variation only, so too narrow)."""
MAX_CUSTOMERS = 10_000
"""Calibration customers the tournament is run on at most (a seeded random sample beyond)."""
DROPOUT_COLLAPSED = 1e-3
"""Below this mean drop-out probability per purchase (BG/NBD a / (a + b)) or expected lifetime rate (Pareto
s / beta per day) the drop-out process has collapsed: the model is an NBD and P(alive) carries no signal."""


def fit_purchase_model(name: str) -> Callable[[pd.DataFrame], Any]:
    """The fitting function of a BTYD candidate (summary -> fitted model)."""
    if name == "pnbd":
        return lambda summary: ParetoNBDModel().fit(summary)
    return lambda summary: BetaGeoModel(model=name).fit(summary)


def dropout_collapsed(model, unit_days: float = 1.0) -> bool:
    """True when the fitted drop-out process is negligible (see DROPOUT_COLLAPSED)."""
    p = model.params_
    if model.model == "pnbd":
        return p["s"] / p["beta"] * unit_days < DROPOUT_COLLAPSED * 1e-1
    return p["a"] / (p["a"] + p["b"]) < DROPOUT_COLLAPSED


@dataclass(frozen=True)
class Tournament:
    """Result of ``run_tournament``.

    table: one row per candidate (index ``candidate``): label, mae, rmse, aggregate_error_pct,
      revenue_mae, revenue_error_pct, the interval checks ``CHECKS`` (coverage_fraction: the coverage of
      the 80 % purchase interval, 80 % if calibrated; in_interval_fraction: share of customers whose holdout
      purchases fall in their whole-number interval; interval_mass_fraction: the share the model expects
      there; revenue_coverage_fraction: the coverage of the 80 % holdout revenue interval;
      revenue_total_low/high: 80 % interval of the base's holdout revenue; revenue_total_covered: the
      actual total inside it), mean_rank, dropout_collapsed
      (BTYD only), error (why a candidate could not run).
    tracking: week_end, period, actual_cumulative and one ``<candidate>`` column of expected cumulative
      repeat purchases per candidate (BTYD: the unconditional curve over calibration and holdout; the
      others: their holdout forecast spread evenly over the holdout weeks).
    holdout_revenue: the calibration customers' actual revenue in the holdout (currency).
    n_customers: the calibration customers it was run on; base_customers: how many the base has (more when
      the tournament ran on a sample, see ``sample_customers``).
    diagnosis: why the in-sample tracking departs from the actual (see ``tracking_diagnosis``).
    best_btyd: the BTYD model kept (see ``_choose``): the winner unless the boosting or the naive rate won, and
      the reference a boosted CLV is compared with.
    """

    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    duration_holdout_days: float
    n_customers: int
    holdout_revenue: float
    table: pd.DataFrame
    tracking: pd.DataFrame
    winner: str
    reason: str
    beats_naive: bool
    diagnosis: dict[str, Any] = field(default_factory=dict)
    base_customers: int = 0
    best_btyd: str = "bgnbd"

    @property
    def sampled(self) -> bool:
        """True when the tournament ran on a sample of the calibration customers."""
        return self.base_customers > self.n_customers

    @property
    def winner_label(self) -> str:
        return CANDIDATES[self.winner]


def _errors(actual: np.ndarray, predicted: np.ndarray, actual_revenue: np.ndarray,
            predicted_revenue: np.ndarray) -> dict[str, float]:
    total = actual.sum()
    revenue_total = actual_revenue.sum()
    return {
        "mae": float(np.abs(predicted - actual).mean()),
        "rmse": float(np.sqrt(((predicted - actual) ** 2).mean())),
        "aggregate_error_pct": float(100 * (predicted.sum() - total) / total) if total > 0 else float("nan"),
        "revenue_mae": float(np.abs(predicted_revenue - actual_revenue).mean()),
        "revenue_error_pct": (float(100 * (predicted_revenue.sum() - revenue_total) / revenue_total)
                              if revenue_total > 0 else float("nan")),
    }


def _spread(total: float, tracking: pd.DataFrame, calibration_end: pd.Timestamp) -> np.ndarray:
    """A holdout forecast as a cumulative curve: the actual at calibration end plus the forecast spread
    evenly over the holdout (NaN over calibration, where such models make no in-sample curve)."""
    weeks = tracking["week_end"]
    holdout = (weeks > calibration_end).to_numpy()
    if not holdout.any():
        return np.full(len(weeks), np.nan)
    start = tracking.loc[~holdout, "actual_cumulative"].iloc[-1] if (~holdout).any() else 0.0
    span = (weeks.iloc[-1] - calibration_end) / pd.Timedelta(days=1)
    elapsed = ((weeks - calibration_end) / pd.Timedelta(days=1)).clip(lower=0) / span
    return np.where(holdout, start + total * elapsed, np.nan)


def tracking_diagnosis(days: pd.DataFrame, model, calibration_end: pd.Timestamp,
                       observation_end: pd.Timestamp) -> dict[str, Any]:
    """Where the in-sample tracking gap comes from: the customers first seen in the data's first month
    (on a log that starts mid-life these are existing customers, and the frequent buyers among them are the
    likeliest to show up early) against later cohorts, and the repeat-purchase rate per week in the holdout
    against the calibration (the season)."""
    first = days.groupby("customer_id", observed=True)["day"].transform("min")
    start = days["day"].min()
    early = first < start + pd.Timedelta(days=31)
    out: dict[str, Any] = {}
    for name, mask in (("first_month", early), ("later", ~early & (first < calibration_end))):
        if not mask.any():
            continue
        table = _tracking(days[mask], model, calibration_end, observation_end, "D")
        inside = table[table["week_end"] <= calibration_end]
        if inside.empty:
            continue
        row = inside.iloc[-1]
        out[f"{name}_customers"] = int(days.loc[mask, "customer_id"].nunique())
        out[f"{name}_actual"] = float(row["actual_cumulative"])
        out[f"{name}_expected"] = float(row["predicted_cumulative"])
    cohort = days[first < calibration_end]
    repeats = cohort[cohort["day"] > first[first < calibration_end]]
    cal_weeks = (calibration_end - start) / pd.Timedelta(days=7)
    hold_weeks = (observation_end - calibration_end) / pd.Timedelta(days=7)
    # the calibration rate is over its second half, when most of the cohort had already arrived
    middle = start + (calibration_end - start) / 2
    late_cal = repeats[(repeats["day"] >= middle) & (repeats["day"] < calibration_end)]
    out["calibration_weekly_repeats"] = float(len(late_cal) / (cal_weeks / 2)) if cal_weeks > 0 else float("nan")
    out["holdout_weekly_repeats"] = (float((repeats["day"] >= calibration_end).sum() / hold_weeks)
                                     if hold_weeks > 0 else float("nan"))
    out["sentence"] = _diagnosis_sentence(out)
    return out


def _diagnosis_sentence(d: dict[str, Any]) -> str:
    parts = []
    if d.get("first_month_expected") and d.get("later_expected"):
        early = 100 * (d["first_month_actual"] / d["first_month_expected"] - 1)
        late = 100 * (d["later_actual"] / d["later_expected"] - 1)
        parts.append(
            f"By the end of calibration the {d['first_month_customers']:,} customers first seen in the data's "
            f"first month made {early:+.0f} % repeat purchases against the model's curve for new customers, "
            f"later cohorts ({d['later_customers']:,}) {late:+.0f} %. "
            + ("The in-sample gap is the first-month cohort: when a log starts in the middle of a business's "
               "life, its first customers are existing ones, and the frequent buyers among them are the "
               "likeliest to appear early (length bias). The tracking curve treats them as new, so it runs "
               "low; this is a limit of the unconditional tracking curve, not a bookkeeping error, and the "
               "per-customer forecasts, which condition on each customer's own history, are not affected."
               if early > 10 and early > late + 10 else
               "No cohort stands out, so the tracking curve is not distorted by when customers were first seen.")
        )
    cal, hold = d.get("calibration_weekly_repeats"), d.get("holdout_weekly_repeats")
    if cal and hold and np.isfinite(cal) and np.isfinite(hold):
        change = 100 * (hold / cal - 1)
        parts.append(
            f"Repeat purchases ran at {cal:,.0f} a week late in calibration and {hold:,.0f} a week in the holdout "
            f"({change:+.0f} %)"
            + ("; a seasonal peak in the holdout that a stationary model cannot foresee. No seasonal adjustment "
               "is offered: estimating one needs the same season in an earlier year of the calibration data."
               if change > 15 else ".")
        )
    return " ".join(parts)


def _rank(table: pd.DataFrame) -> pd.Series:
    scored = table[table["error"].isna()].copy()
    scored["abs_aggregate_error_pct"] = scored["aggregate_error_pct"].abs()
    ranks = scored[list(CRITERIA)].rank(method="min")
    return ranks.mean(axis=1)


def _beyond_noise(abs_errors: dict[str, np.ndarray], name: str, rival: str) -> tuple[bool, str]:
    """Whether ``name``'s per-customer MAE beats ``rival``'s beyond noise (the 95 % confidence interval of the
    paired mean difference of absolute errors, over the same customers, entirely below zero), and the
    figures in words."""
    ci = ttest_rel(abs_errors[name], abs_errors[rival]).confidence_interval(0.95)
    difference = float(np.mean(abs_errors[name] - abs_errors[rival]))
    return bool(ci.high < 0), (f"difference {difference:+.3f} purchases, 95 % CI {ci.low:+.3f} to "
                               f"{ci.high:+.3f}")


def _choose(ranked: pd.DataFrame, abs_errors: dict[str, np.ndarray]) -> tuple[str, str, str]:
    """The winner, the BTYD model kept (``Tournament.best_btyd``) and, when the first ranked is not kept, why.

    The supervised model forecasts a window as long as the holdout, at the level of the windows it was
    trained on; its CLV carries that window's rate over the whole horizon, so a season in the window is
    carried for a year (on Online Retail the windows end in the Q4 peak). A BTYD model extends to any horizon
    through its purchase and drop-out process. So the supervised model is kept only when it beats the BTYD
    model on per-customer MAE beyond noise (``_beyond_noise``).

    Among the BTYD models, BG/NBD is kept unless the best ranked one beats it beyond noise. The three tell
    the same story (purchases at a Poisson rate until a drop-out) and on most data fit alike (Fader, Hardie &
    Lee 2005 introduced BG/NBD as Pareto/NBD's easier twin); their order within noise is chance, and it
    flipped with the sample: on the 10M-line synthetic log BG/NBD ranked first on 25,000 customers and
    Pareto/NBD on 10,000, within 0.002 purchases of each other. The choice should not, because Pareto/NBD
    costs far more at scale (324k customers, one run on a busy machine: fit 8.0 and bootstrap refits 11.4
    CPU s, against 1.7 and 1.0)."""
    first = str(ranked.index[0])
    btyd = [name for name in ranked.index if name in BTYD]
    if not btyd:
        return first, "bgnbd", ""
    kept, preface = btyd[0], ""
    if kept != "bgnbd" and "bgnbd" in btyd:
        beats, figures = _beyond_noise(abs_errors, kept, "bgnbd")
        if not beats:
            preface = (f"{CANDIDATES[kept]} is the best ranked BTYD model ({ranked.loc[kept, 'mean_rank']:.2f}), "
                       f"but its per-customer MAE is within noise of BG/NBD's ({figures}); BG/NBD is kept unless "
                       f"another BTYD model beats it beyond noise, so that models which fit alike do not swap "
                       f"with the sample. ")
            kept = "bgnbd"
    if first != "supervised":
        return (kept if first in BTYD else first), kept, preface
    beats, figures = _beyond_noise(abs_errors, first, kept)
    if beats:
        return first, kept, ""
    return kept, kept, (f"{CANDIDATES[first]} ranked first ({ranked.loc[first, 'mean_rank']:.2f}), but its "
                        f"per-customer MAE is within noise of {CANDIDATES[kept]}'s ({figures}). It forecasts only "
                        f"a window as long as the holdout, and its CLV would carry that window's purchase rate "
                        f"over the whole horizon; {CANDIDATES[kept]} extends through its purchase and drop-out "
                        f"process, so it is kept unless the boosting wins beyond noise. " + preface)


def _reason(table: pd.DataFrame, winner: str, preface: str = "") -> tuple[str, bool]:
    row = table.loc[winner]
    naive = table.loc["naive"] if "naive" in table.index else None
    figures = (f"MAE {row['mae']:.3f} purchases, aggregate error {row['aggregate_error_pct']:+.1f} %, "
               f"revenue MAE {row['revenue_mae']:,.1f}")
    if preface:
        reason = preface + f"{CANDIDATES[winner]} (mean rank {row['mean_rank']:.2f}): {figures}."
    else:
        reason = (f"{CANDIDATES[winner]} has the best mean rank ({row['mean_rank']:.2f}) over per-customer MAE, "
                  f"RMSE, aggregate error and revenue MAE on the holdout: {figures}.")
    beats = naive is None or winner == "naive" or row["mae"] < naive["mae"]
    if naive is not None and winner != "naive":
        if row["mae"] < naive["mae"]:
            reason += f" It beats the naive rate's per-customer MAE ({naive['mae']:.3f})."
        else:
            reason += (f" No model beats the naive rate per customer on MAE ({naive['mae']:.3f}): the winner "
                       f"earns its place on the other criteria.")
    if winner == "naive":
        reason += " No model beats the naive rate: its forecasts are used."
        beats = False
    return reason, beats


def run_tournament(lines: pd.DataFrame, calibration_end: pd.Timestamp, observation_end: pd.Timestamp,
                   *, seed: int = 0, max_customers: int = MAX_CUSTOMERS) -> Tournament:
    """Fit every candidate before ``calibration_end``, score all on the holdout, pick the winner.

    BLAS and OpenMP run one thread each: the fits are many small optimisations (L-BFGS-B calls BLAS on
    four-vectors), and on a busy machine thread pools spent several times the work contending for cores."""
    with threadpool_limits(limits=1):
        return _run_tournament(lines, calibration_end, observation_end, seed=seed, max_customers=max_customers)


def sample_customers(lines: pd.DataFrame, calibration_end: pd.Timestamp, *, seed: int = 0,
                     max_customers: int = MAX_CUSTOMERS) -> tuple[pd.DataFrame, int]:
    """The lines of a seeded random sample of the customers holding about ``max_customers`` calibration
    customers (first purchase before ``calibration_end``), and how many calibration customers there are in all.
    Every customer is kept with the same probability, later ones too, so that the in-sample tracking of
    repeat purchases stays the base's in miniature. All lines when the base is no larger."""
    # on integer codes in the customers' sorted order (a groupby's): the same customers drawn as grouping by
    # the IDs and matching them back with ``isin``, which took 0.15 CPU s on the 1M-line log against 0.02
    codes, _ = pd.factorize(lines[schema.CUSTOMER_ID], sort=True)
    known = codes >= 0
    first = lines[schema.INVOICE_DATE][known].groupby(codes[known]).min()
    in_calibration = int((first < calibration_end).sum())
    if in_calibration <= max_customers:
        return lines, in_calibration
    keep = np.random.default_rng(seed).random(len(first)) < max_customers / in_calibration
    return lines[known & keep[codes]], in_calibration


def _run_tournament(lines: pd.DataFrame, calibration_end: pd.Timestamp, observation_end: pd.Timestamp,
                    *, seed: int, max_customers: int) -> Tournament:
    lines, base_customers = sample_customers(lines, calibration_end, seed=seed, max_customers=max_customers)
    # the calibration summary, the holdout, the tracking and the boosting's windows read the sample's purchase
    # days: grouped once (a pipeline's shared days serve only the whole invoice table)
    sampled: Future[pd.DataFrame] = Future()
    sampled.set_result(lines)
    with days_shared(sampled):
        return _compete(lines, base_customers, calibration_end, observation_end, seed)


def _compete(lines: pd.DataFrame, base_customers: int, calibration_end: pd.Timestamp,
             observation_end: pd.Timestamp, seed: int) -> Tournament:
    split = calibration_holdout(lines, calibration_end, observation_end, unit="D")
    duration = float(split["duration_holdout"].iloc[0])
    actual = split["frequency_holdout"].to_numpy(dtype=float)
    actual_revenue = actual * split["monetary_value_holdout"].to_numpy(dtype=float)
    days = purchase_days(lines, before=observation_end)
    tracking, expected_cumulative = tracking_weeks(days, calibration_end, observation_end, "D")
    try:
        gg = GammaGammaModel().fit(split)
        spend = gg.expected_spend(split).to_numpy()
    except DataError:
        gg = spend = None
    rows: dict[str, dict[str, Any]] = {}
    abs_errors: dict[str, np.ndarray] = {}  # per customer, for the noise check of ``_choose``
    diagnosis: dict[str, Any] = {}
    for name in BTYD:
        try:
            model = fit_purchase_model(name)(split)
        except DataError as error:
            rows[name] = {"error": str(error)}
            continue
        predicted = model.expected_purchases(duration, split).to_numpy()
        abs_errors[name] = np.abs(predicted - actual)
        revenue = predicted * spend if spend is not None else np.full(len(split), np.nan)
        fits = intervals.bootstrap_fits(model, split, seed=seed)
        # holdout revenue is the value simulated with one currency unit per unit of spend
        simulated = intervals.simulate_intervals(
            fits, split, duration, gg=gg, value_per_unit=None if gg is None else np.ones(len(split)),
            actual=actual, actual_value=actual_revenue, seed=seed)
        rows[name] = {**_errors(actual, predicted, actual_revenue, revenue), **simulated.coverage(),
                      **_total_interval(simulated.equity_draws),
                      "dropout_collapsed": dropout_collapsed(model), "params": model.params_}
        tracking[name] = expected_cumulative(model)
        if name == "bgnbd":
            diagnosis = tracking_diagnosis(days, model, calibration_end, observation_end)
    duration_days = int(round(duration))
    try:
        forecast = supervised_forecast(lines, calibration_end, duration_days, split.index, seed=seed)
        purchases, revenue = forecast.purchases.to_numpy(), forecast.revenue.to_numpy()
        abs_errors["supervised"] = np.abs(purchases - actual)
        per_purchase_boosted = np.divide(revenue, purchases, out=np.zeros(len(purchases)), where=purchases > 1e-9)
        rows["supervised"] = {**_errors(actual, purchases, actual_revenue, revenue),
                              **_rate_checks(forecast.backtest_predicted, forecast.backtest_actual, purchases,
                                             per_purchase_boosted, actual, actual_revenue, seed)}
        tracking["supervised"] = _spread(forecast.purchases.sum(), tracking, calibration_end)
        back = forecast.backtest_features
        naive_back = naive_rate(back["purchase_days"] - 1, back["days_since_first"], duration)
    except DataError as error:
        rows["supervised"] = {"error": str(error)}
        naive_back = None
    naive = naive_rate(split["frequency"], split["T"], duration)
    per_purchase = purchase_value(days, calibration_end, split.index)
    rows["naive"] = _errors(actual, naive, actual_revenue, naive * per_purchase)
    if naive_back is not None:
        rows["naive"].update(_rate_checks(naive_back, forecast.backtest_actual, naive, per_purchase, actual,
                                          actual_revenue, seed))
    tracking["naive"] = _spread(naive.sum(), tracking, calibration_end)
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(list(CANDIDATES))
    for column in ("error", *CHECKS, "dropout_collapsed", "params"):
        if column not in table:
            table[column] = np.nan
    total = float(actual_revenue.sum())
    checked = table["revenue_total_low"].notna()
    table["revenue_total_covered"] = ((table["revenue_total_low"] <= total) & (total <= table["revenue_total_high"])
                                      ).astype(object).where(checked, None)
    table.insert(0, "label", [CANDIDATES[n] for n in table.index])
    table.index.name = "candidate"
    table["error"] = table["error"].where(table["error"].notna(), None)
    table["mean_rank"] = _rank(table)
    ranked = table.dropna(subset=["mean_rank"]).sort_values(["mean_rank", "mae"])
    winner, best_btyd, preface = _choose(ranked, abs_errors)
    reason, beats = _reason(table, winner, preface)
    return Tournament(calibration_end=calibration_end, observation_end=observation_end,
                      duration_holdout_days=duration, n_customers=len(split),
                      holdout_revenue=total, table=table, tracking=tracking,
                      winner=winner, reason=reason, beats_naive=beats, diagnosis=diagnosis,
                      base_customers=base_customers, best_btyd=best_btyd)


def _total_interval(draws: np.ndarray) -> dict[str, float]:
    """80 % interval of the base's total holdout revenue from draws of it (10th to 90th percentile)."""
    if not len(draws):
        return {}
    low, high = np.quantile(draws, [intervals.LOW_Q, intervals.HIGH_Q])
    return {"revenue_total_low": float(low), "revenue_total_high": float(high)}


def _rate_checks(predicted_train: np.ndarray, actual_train: np.ndarray, predicted: np.ndarray,
                 per_purchase: np.ndarray, actual: np.ndarray, actual_revenue: np.ndarray, seed: int) -> dict:
    """Interval checks of a rate model, built as its forecast builds them (``intervals.empirical_draws``,
    each draw of purchases valued at the customer's forecast spend per purchase)."""
    draws = intervals.empirical_draws(predicted_train, actual_train, predicted, np.random.default_rng(seed))
    value = draws * per_purchase[:, None]
    table = intervals.interval_table(draws, value, actual, actual_revenue)
    return {**intervals.coverage_summary(table), **_total_interval(value.sum(axis=0))}


def naive_rate(frequency, age, duration: float) -> np.ndarray:
    """Each customer's repeat rate so far (frequency / T) carried over ``duration`` (0 when T = 0)."""
    frequency, age = np.asarray(frequency, dtype=float), np.asarray(age, dtype=float)
    return np.divide(frequency, age, out=np.zeros(len(age)), where=age > 0) * duration


def purchase_value(days: pd.DataFrame, before: pd.Timestamp, customers: pd.Index) -> np.ndarray:
    """Each customer's mean value per purchase day before ``before`` (the naive spend forecast)."""
    value = days[days["day"] < before].groupby("customer_id", observed=True)["value"].mean()
    return value.reindex(customers).fillna(0.0).to_numpy()
