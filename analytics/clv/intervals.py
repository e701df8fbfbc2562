"""80 % prediction intervals for each customer's purchases and CLV, and for the customer equity.

Two sources of uncertainty are simulated together:

- parameter uncertainty, by a customer bootstrap: the purchase model is refitted on customers drawn with
  replacement (as weights on the distinct purchase patterns, see ``bootstrap_fits``), ``N_BOOTSTRAP``
  times: enough for the spread of an 80 % interval, few because each is a refit. The Hessian is no help
  here: on data such as Online Retail the drop-out parameter sits at the edge of the parameter space
  (a -> 0), where the Hessian is singular;
- the predictive distribution given the parameters: for each bootstrap fit, each customer's future purchases
  are drawn from the model's own story (alive or not at T, the posterior purchase rate, the drop-out process),
  and each purchase's value from the Gamma-Gamma posterior of the customer's mean spend.

The interval is the 10th to 90th percentile of the draws (counts by the inverted CDF, so a count interval
holds at least 80 % of its distribution: with many customers likely to buy nothing, an interval such as
[0, 1] may hold 90 %). Checked on a holdout, three numbers are reported: the share of customers whose
actual count lies in their interval (ends included); the share the model itself expects there (the mean
probability mass of the intervals); and the PIT coverage, the share whose actual count falls between the
model's 10th and 90th percentiles once the discreteness of counts is accounted for (the non-randomised PIT
of Czado, Gneiting & Held 2009: a count k covers the part of [F(k - 1), F(k)] inside [0.1, 0.9]), which
a calibrated model puts at 80 %. The customer equity interval sums each joint draw over customers,
so it carries the shared parameter uncertainty instead of adding up per-customer intervals.
The Gamma-Gamma parameters are held at their estimates (with thousands of repeat buyers their own
uncertainty is small next to that of a customer's mean spend, which is simulated).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scipy.optimize import minimize

from analytics.clv.bgnbd import _FITTERS
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.pareto_nbd import negative_log_likelihood as pareto_nll
from analytics.clv.patterns import patterns
from analytics.clv.summary import check_summary

LEVEL = 0.8
LOW_Q, HIGH_Q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
N_BOOTSTRAP = 12
DRAWS_PER_FIT = 20
_CHUNK = 20_000  # customers simulated at once (bounds memory on large bases)


@dataclass(frozen=True)
class SimulatedIntervals:
    """Per-customer 80 % intervals (DataFrame columns purchases_low, purchases_high and, when spend was
    simulated, clv_low, clv_high) and the equity draws (one total per joint draw, currency; empty without
    spend)."""

    table: pd.DataFrame
    equity_draws: np.ndarray

    def coverage(self) -> dict[str, float]:
        """Holdout coverage when ``actual`` was given to ``simulate_intervals`` (see the module notes)."""
        return coverage_summary(self.table)


_TIME_PARAMS = {"alpha", "beta"}  # parameters in the time unit, rescaled for the optimiser


def bootstrap_fits(model, summary: pd.DataFrame, n_fits: int = N_BOOTSTRAP, seed: int = 0) -> list:
    """``model`` refitted on ``n_fits`` customer resamples, as models of the same kind.

    A resample of customers is a multinomial re-weighting of the distinct (frequency, recency, T) patterns,
    so each refit maximises the weighted likelihood over the patterns, starting from the full-data estimate
    (L-BFGS-B on log-parameters, time scaled so the oldest customer's T is 1, as lifetimes does): a few
    iterations instead of a fit from scratch. A refit that fails is skipped; the full-data fit is the first.
    """
    found = patterns(summary)
    table = found.table.assign(weight=found.weights)
    x, t_x, age = (table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    scale = 1.0 / float(age.max()) if age.max() > 0 else 1.0
    names = list(model.params_)
    start = np.log([model.params_[k] * (scale if k in _TIME_PARAMS else 1.0) for k in names])
    nll = _likelihood(model)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(int(table["weight"].sum()), table["weight"] / table["weight"].sum(), n_fits - 1)
    fits = [model]
    for w in weights:
        keep = w > 0
        args = (x[keep], t_x[keep] * scale, age[keep] * scale, w[keep].astype(float), 0.0)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = minimize(nll, start, args=args, method="L-BFGS-B", bounds=[(-30.0, 30.0)] * len(names))
        if not np.isfinite(result.x).all():
            continue
        params = {k: float(np.exp(v)) / (scale if k in _TIME_PARAMS else 1.0) for k, v in zip(names, result.x)}
        fits.append(type(model).from_params(params) if model.model == "pnbd"
                    else type(model).from_params(params, model=model.model))
    return fits


def _likelihood(model) -> Callable:
    """lifetimes' weighted mean negative log-likelihood of ``model``'s kind, f(log_params, x, t_x, T, w, pen)."""
    return pareto_nll if model.model == "pnbd" else \
        _FITTERS[model.model]._negative_log_likelihood


def simulate_counts(model, summary: pd.DataFrame, t: float, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Future purchase counts in (T, T + t], shape (customers, n_draws), from the model's generative story."""
    x = summary["frequency"].to_numpy(dtype=float)
    age = summary["T"].to_numpy(dtype=float)
    n = len(x)
    alive = rng.random((n, n_draws)) < model.p_alive(summary).to_numpy()[:, None]
    p = model.params_
    if model.model == "pnbd":
        shape_l, rate_l, shape_m, rate_m = model.posterior(summary)
        lam = rng.gamma(shape_l[:, None], 1.0, (n, n_draws)) / rate_l[:, None]
        mu = rng.gamma(shape_m[:, None], 1.0, (n, n_draws)) / rate_m[:, None]
        with np.errstate(divide="ignore", over="ignore"):  # mu ~ 0: the customer never dies (inf)
            lifetime = np.where(mu > 0, rng.exponential(1.0, (n, n_draws)) / mu, np.inf)
        counts = rng.poisson(lam * np.minimum(lifetime, t))
    else:
        # BG/NBD: an active customer buys at rate lambda and drops out right after each purchase with
        # probability p, so the purchases left are min(Poisson(lambda t), Geometric(p))
        extra = 1.0 if model.model == "mbgnbd" else 0.0
        lam = rng.gamma((p["r"] + x)[:, None], 1.0, (n, n_draws)) / (p["alpha"] + age)[:, None]
        drop = np.clip(rng.beta(p["a"], np.broadcast_to((p["b"] + x + extra)[:, None], (n, n_draws))), 1e-9, 1)
        counts = np.minimum(rng.poisson(lam * t), rng.geometric(drop))
    return np.where(alive, counts, 0)


def simulate_spend(gg: GammaGammaModel, summary: pd.DataFrame, counts: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Total value of ``counts`` purchases per draw: each customer's spend rate nu from its Gamma-Gamma
    posterior Gamma(q + p x, v + x m), then the sum of the purchases ~ Gamma(p * count, nu)."""
    check_summary(summary, ("frequency", "monetary_value"))
    p, q, v = (gg.params_[k] for k in ("p", "q", "v"))
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    informative = (x > 0) & (m > 0)
    x, m = np.where(informative, x, 0.0), np.where(informative, m, 0.0)
    nu = rng.gamma((q + p * x)[:, None], 1.0, counts.shape) / (v + x * m)[:, None]
    shape = p * counts
    return np.where(counts > 0, rng.gamma(np.maximum(shape, 1e-12), 1.0) / nu, 0.0)


def simulate_intervals(fits: list, summary: pd.DataFrame, t: float, *, gg: GammaGammaModel | None = None,
                       value_per_unit: np.ndarray | None = None, actual: np.ndarray | None = None,
                       draws_per_fit: int = DRAWS_PER_FIT, seed: int = 0) -> SimulatedIntervals:
    """80 % intervals of purchases in (T, T + t] for every customer of ``summary``, from ``fits`` (bootstrap
    refits of one model). With ``gg`` and ``value_per_unit`` (per customer, the CLV per currency unit of
    spend in the horizon: margin times the discounting), CLV intervals and equity draws as well. With the
    ``actual`` counts, each customer's coverage columns (covered, interval_mass, pit_covered)."""
    rng = np.random.default_rng(seed)
    parts, equity = [], np.zeros(len(fits) * draws_per_fit)
    for start in range(0, len(summary), _CHUNK):
        chunk = summary.iloc[start:start + _CHUNK]
        counts = np.hstack([simulate_counts(f, chunk, t, draws_per_fit, rng) for f in fits])
        out = pd.DataFrame(index=chunk.index)
        out["purchases_low"] = np.quantile(counts, LOW_Q, axis=1, method="inverted_cdf")
        out["purchases_high"] = np.quantile(counts, HIGH_Q, axis=1, method="inverted_cdf")
        if actual is not None:
            a = np.asarray(actual, dtype=float)[start:start + _CHUNK, None]
            low, high = out["purchases_low"].to_numpy()[:, None], out["purchases_high"].to_numpy()[:, None]
            out["covered"] = ((a >= low) & (a <= high)).ravel()
            out["interval_mass"] = ((counts >= low) & (counts <= high)).mean(axis=1)
            out["pit_covered"] = pit_covered((counts < a).mean(axis=1), (counts <= a).mean(axis=1))
        if gg is not None and value_per_unit is not None:
            value = simulate_spend(gg, chunk, counts, rng) * value_per_unit[start:start + _CHUNK, None]
            out["clv_low"] = np.quantile(value, LOW_Q, axis=1)
            out["clv_high"] = np.quantile(value, HIGH_Q, axis=1)
            equity += value.sum(axis=0)
        parts.append(out)
    has_value = gg is not None and value_per_unit is not None
    return SimulatedIntervals(table=pd.concat(parts), equity_draws=equity if has_value else np.array([]))


def pit_covered(below: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Part of each customer's PIT range [F(k - 1), F(k)] that lies in [LOW_Q, HIGH_Q], as a share of it
    (1 or 0 when the model gave the actual count no mass: inside or outside)."""
    width = at - below
    overlap = np.clip(np.minimum(at, HIGH_Q) - np.maximum(below, LOW_Q), 0, None)
    point = ((below >= LOW_Q) & (below <= HIGH_Q)).astype(float)
    with np.errstate(all="ignore"):
        return np.where(width > 0, overlap / np.where(width > 0, width, 1.0), point)


def empirical_intervals(predicted_train: np.ndarray, actual_train: np.ndarray, predicted: np.ndarray,
                        actual: np.ndarray | None = None, n_bins: int = 10) -> pd.DataFrame:
    """80 % intervals for a model with no generative story (the supervised and naive candidates): customers
    of a backtest window are binned by their prediction, and each bin's 10th and 90th percentiles of the
    actual counts become the interval of new customers whose prediction falls in that bin (columns
    purchases_low, purchases_high; with ``actual``, the coverage columns of ``simulate_intervals``)."""
    edges = np.unique(np.quantile(predicted_train, np.linspace(0, 1, n_bins + 1)[1:-1]))
    train_bin, new_bin = np.searchsorted(edges, predicted_train), np.searchsorted(edges, predicted)
    out = pd.DataFrame({"purchases_low": 0.0, "purchases_high": 0.0}, index=np.arange(len(predicted)))
    if actual is not None:
        actual = np.asarray(actual, dtype=float)
        out = out.assign(covered=False, interval_mass=0.0, pit_covered=0.0)
    for b in range(len(edges) + 1):
        inside = np.sort(actual_train[train_bin == b])
        new = new_bin == b
        if not len(inside) or not new.any():
            continue
        low = np.quantile(inside, LOW_Q, method="inverted_cdf")
        high = np.quantile(inside, HIGH_Q, method="inverted_cdf")
        out.loc[new, ["purchases_low", "purchases_high"]] = low, high
        if actual is not None:
            a = actual[new]
            out.loc[new, "covered"] = (a >= low) & (a <= high)
            out.loc[new, "interval_mass"] = ((inside >= low) & (inside <= high)).mean()
            below = np.searchsorted(inside, a, side="left") / len(inside)
            at = np.searchsorted(inside, a, side="right") / len(inside)
            out.loc[new, "pit_covered"] = pit_covered(below, at)
    return out


def empirical_draws(predicted_train: np.ndarray, actual_train: np.ndarray, predicted: np.ndarray,
                    rng: np.random.Generator, n_draws: int = N_BOOTSTRAP * DRAWS_PER_FIT,
                    n_bins: int = 10) -> np.ndarray:
    """Draws (customers, n_draws) from the backtest's actual counts of the customers binned with each new
    customer's prediction (the bins of ``empirical_intervals``), scaled so that each customer's draws
    average its own prediction (the bin gives the shape of the spread, the model the level)."""
    edges = np.unique(np.quantile(predicted_train, np.linspace(0, 1, n_bins + 1)[1:-1]))
    train_bin, new_bin = np.searchsorted(edges, predicted_train), np.searchsorted(edges, predicted)
    out = np.zeros((len(predicted), n_draws))
    for b in range(len(edges) + 1):
        inside, new = actual_train[train_bin == b], new_bin == b
        if len(inside) and new.any() and inside.mean() > 0:
            level = predicted[new] / inside.mean()
            out[new] = rng.choice(inside, size=(int(new.sum()), n_draws)) * level[:, None]
    return out


def coverage_summary(table: pd.DataFrame) -> dict[str, float]:
    """Mean of the coverage columns: coverage_fraction (actual inside, ends included), interval_mass_fraction
    (what the model expects inside), pit_coverage_fraction (discreteness accounted for; 0.8 if calibrated)."""
    return {"coverage_fraction": float(table["covered"].mean()),
            "interval_mass_fraction": float(table["interval_mass"].mean()),
            "pit_coverage_fraction": float(table["pit_covered"].mean())}
