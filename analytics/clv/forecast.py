"""Each customer's expected purchases, spend and CLV with 80 % intervals, from the chosen tournament candidate.

The chosen model is refitted on all the data up to the as-of date and forecasts the CLV horizon:

- BTYD models (BG/NBD, MBG/NBD, Pareto/NBD): expected purchases month by month (``customer_lifetime_value``),
  Gamma-Gamma spend, intervals and the equity interval by bootstrap + simulation (``analytics.clv.intervals``).
- gradient boosting and the naive rate forecast a window as long as the holdout; the rate per day is carried
  over the horizon (these models have no view of purchases further ahead than their training windows) and
  discounted month by month like the others. P(alive) is not defined for them (NaN) and P(no purchase) is
  the Poisson probability exp(-expected purchases). Their intervals (the shortest 80 % of the draws, as
  for the BTYD models) come from the empirical spread of actual counts around the prediction in the most
  recent backtest window, scaled to the horizon; the equity interval sums independent draws from those
  spreads, so it carries customer-level variation only (said on screen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.clv import intervals
from analytics.clv.bgnbd import PurchaseModelFit
from analytics.clv.gamma_gamma import GammaGammaModel, SpendModelFit
from analytics.clv.summary import purchase_days, rfm_summary
from analytics.clv.supervised import supervised_forecast
from analytics.clv.tournament import BTYD, CANDIDATES, dropout_collapsed, fit_purchase_model, naive_rate, purchase_value
from analytics.clv.value import DAYS_PER_MONTH, customer_lifetime_value
from analytics.errors import DataError


@dataclass(frozen=True)
class ValueForecast:
    """What the chosen model forecasts for the whole base.

    model: candidate key; purchase_model: the BTYD model's fit (None for the rate models); gamma_gamma: the spend
    model's fit (None when it could not be fitted);
    equity_low, equity_high: 80 % interval of the total CLV (currency); equity_note: what the interval carries; dropout_collapsed: the BTYD drop-out went to ~0, so P(alive) is ~1 for all and means nothing;
    horizon_note: for the supervised model when the horizon is longer than its window, how its CLV extends
    that window and what a BTYD model puts the total at ("" otherwise).
    """

    model: str
    purchase_model: PurchaseModelFit | None
    gamma_gamma: SpendModelFit | None
    equity_low: float
    equity_high: float
    equity_note: str
    dropout_collapsed: bool
    horizon_note: str = ""

    @property
    def label(self) -> str:
        return CANDIDATES[self.model]


def _discount(horizon_months: int, monthly_discount_rate: float) -> np.ndarray:
    return (1.0 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1)


def forecast_value(model: str, lines: pd.DataFrame, as_of: pd.Timestamp, *, horizon_months: int,
                   gross_margin_fraction: float, monthly_discount_rate: float, window_days: int,
                   reference: str = "bgnbd",
                   seed: int = 0) -> tuple[pd.DataFrame, ValueForecast]:
    """Per-customer columns expected_purchases, expected_purchases_low/high, p_alive, p_no_purchase,
    expected_spend, clv, clv_low/high (80 %) and the base's ``ValueForecast``. ``reference`` is the BTYD
    model a supervised forecast's horizon total is compared with (the tournament's best ranked one)."""
    if model not in CANDIDATES:
        raise DataError(f"CLV model {model!r} is not one of {', '.join(CANDIDATES)}")
    # one BLAS/OpenMP thread, for the reason given in ``run_tournament``
    with threadpool_limits(limits=1):
        return _forecast(model, lines, as_of, horizon_months, gross_margin_fraction, monthly_discount_rate,
                         window_days, reference, seed)


def _forecast(model, lines, as_of, horizon_months, margin_fraction, monthly_discount_rate, window_days, reference,
              seed):
    summary = rfm_summary(lines, as_of, unit="D")
    try:
        gg = GammaGammaModel().fit(summary)
    except DataError:
        gg = None
    horizon_days = horizon_months * DAYS_PER_MONTH
    if model in BTYD:
        return _btyd(model, summary, gg, horizon_months, horizon_days, margin_fraction, monthly_discount_rate,
                     seed)
    table, forecast = _rate_model(model, lines, as_of, summary, gg, horizon_months, margin_fraction,
                                  monthly_discount_rate, window_days, seed)
    if model == "supervised" and horizon_days > window_days:
        note = _horizon_note(reference, summary, gg, table["clv"].sum(), horizon_months, margin_fraction,
                             monthly_discount_rate, window_days)
        forecast = replace(forecast, horizon_note=note)
    return table, forecast


def _horizon_note(reference: str, summary: pd.DataFrame, gg: GammaGammaModel | None, total: float,
                  horizon_months: int, margin_fraction: float, rate: float, window_days: int) -> str:
    """Why the supervised model's horizon CLV is an extrapolation, with a BTYD model's total beside it."""
    note = (f"{CANDIDATES['supervised']} forecasts a {window_days}-day window at the level of the windows it "
            f"was trained on (the latest ending at the as-of date); its {horizon_months}-month CLV carries that "
            f"window's purchase rate into every month, so a season in those windows (such as a Q4 peak) is "
            f"carried for the whole horizon.")
    if gg is None:
        return note
    try:
        fitted = fit_purchase_model(reference)(summary)
    except DataError:
        return note
    other = customer_lifetime_value(fitted, gg, summary, horizon_months=horizon_months,
                                    gross_margin_fraction=margin_fraction,
                                    monthly_discount_rate=rate, unit="D")["clv"].sum()
    return note + (f" {CANDIDATES[reference]}, which extends through its purchase and drop-out process, puts the "
                   f"base's {horizon_months}-month CLV at {other:,.0f} against {total:,.0f} "
                   f"({100 * (total / other - 1):+.0f} %)." if other > 0 else "")


def _btyd(model, summary, gg, horizon_months, horizon_days, margin_fraction, rate, seed):
    if gg is None:
        raise DataError("the spend model (Gamma-Gamma) could not be fitted, so CLV cannot be computed")
    fitted = fit_purchase_model(model)(summary)
    table = customer_lifetime_value(fitted, gg, summary, horizon_months=horizon_months,
                                    gross_margin_fraction=margin_fraction,
                                    monthly_discount_rate=rate, unit="D")
    per_unit = _value_per_unit(table, margin_fraction, rate, horizon_months)
    simulated = intervals.simulate_intervals(intervals.bootstrap_fits(fitted, summary, seed=seed), summary,
                                             horizon_days, gg=gg, value_per_unit=per_unit, seed=seed)
    table = _with_intervals(table, simulated.table)
    low, high = np.quantile(simulated.equity_draws, [intervals.LOW_Q, intervals.HIGH_Q])
    collapsed = dropout_collapsed(fitted)
    return table, ValueForecast(
        model=model, purchase_model=fitted.record(), gamma_gamma=gg.record(), equity_low=float(low),
        equity_high=float(high), dropout_collapsed=collapsed,
        equity_note=(f"80 % interval from {len(simulated.equity_draws)} joint simulations: parameter uncertainty "
                     f"(customer bootstrap) and each customer's purchases and spend"))


def _value_per_unit(table: pd.DataFrame, margin_fraction: float, rate: float, horizon_months: int) -> np.ndarray:
    """CLV per currency unit of undiscounted spend in the horizon: margin times the purchase-weighted
    discount (the mid-horizon discount for customers expected to buy nothing)."""
    spend = table["expected_purchases"].to_numpy() * table["expected_spend"].to_numpy()
    fallback = margin_fraction * (1 + rate) ** -(horizon_months / 2)
    with np.errstate(all="ignore"):
        return np.where(spend > 0, table["clv"].to_numpy() / np.where(spend > 0, spend, 1.0), fallback)


def _with_intervals(table: pd.DataFrame, simulated: pd.DataFrame) -> pd.DataFrame:
    return table.assign(expected_purchases_low=simulated["purchases_low"].to_numpy(),
                        expected_purchases_high=simulated["purchases_high"].to_numpy(),
                        clv_low=simulated["clv_low"].to_numpy(), clv_high=simulated["clv_high"].to_numpy())


def _rate_model(model, lines, as_of, summary, gg, horizon_months, margin_fraction, rate, window_days, seed):
    days = purchase_days(lines, before=as_of)
    try:
        forecast = supervised_forecast(lines, as_of, window_days, summary.index, seed=seed)
    except DataError:
        if model == "supervised":
            raise
        forecast = None
    if model == "supervised":
        window = forecast.purchases.to_numpy()
        spend = np.divide(forecast.revenue.to_numpy(), window, out=np.zeros(len(window)), where=window > 1e-9)
        back_predicted = forecast.backtest_predicted
    else:
        window = naive_rate(summary["frequency"], summary["T"], window_days)
        spend = purchase_value(days, as_of, summary.index)
        back = forecast.backtest_features if forecast is not None else None
        back_predicted = (naive_rate(back["purchase_days"] - 1, back["days_since_first"], window_days)
                          if back is not None else None)
    if gg is not None:
        spend = np.where(spend > 0, spend, gg.expected_spend(summary).to_numpy())
    per_month = window / window_days * DAYS_PER_MONTH
    discount = _discount(horizon_months, rate)
    expected = per_month * horizon_months
    clv = per_month * discount.sum() * spend * margin_fraction
    table = pd.DataFrame({"expected_purchases": expected, "p_alive": np.nan, "p_no_purchase": np.exp(-expected),
                          "expected_spend": spend, "clv": clv}, index=summary.index)
    scale = horizon_months * DAYS_PER_MONTH / window_days
    if back_predicted is None:
        nan = np.full(len(table), np.nan)
        return table.assign(expected_purchases_low=nan, expected_purchases_high=nan, clv_low=nan,
                            clv_high=nan), _rate_forecast(model, gg, nan, "")
    draws = intervals.empirical_draws(back_predicted, forecast.backtest_actual, window,
                                      np.random.default_rng(seed)) * scale
    value = draws * (spend * margin_fraction * discount.mean())[:, None]
    table = _with_intervals(table, intervals.interval_table(draws, value))
    return table, _rate_forecast(model, gg, value.sum(axis=0),
                                 "80 % interval from independent draws of each customer's backtest spread: "
                                 "customer-level variation only, no model uncertainty, so it is too narrow")


def _rate_forecast(model: str, gg: GammaGammaModel | None, equity_draws: np.ndarray, note: str) -> ValueForecast:
    finite = equity_draws[np.isfinite(equity_draws)]
    low, high = (np.quantile(finite, [intervals.LOW_Q, intervals.HIGH_Q]) if len(finite) else (np.nan, np.nan))
    return ValueForecast(model=model, purchase_model=None, gamma_gamma=gg.record() if gg is not None else None,
                         equity_low=float(low),
                         equity_high=float(high), equity_note=note or "no interval: no backtest window",
                         dropout_collapsed=False)
