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

Each interval is the **shortest** range holding 80 % of the customer's draws (the highest-density interval
of the predictive distribution). Not the 10th to 90th percentile: most customers are likely to buy nothing
in a few months, so their distribution has an atom at zero holding more than 10 %; the lower percentile
then falls in the atom, cannot exclude anything, and [0, 90th percentile] holds at least 90 %. Measured on
the synthetic data (true model BG/NBD, 124-day holdout), that equal-tailed interval held 91 % of the
customers' holdout purchases and 88 % of their holdout revenue, with the true parameters and no bootstrap
alike: a 90 % interval labelled 80 %. The shortest interval is [0, 80th percentile] for those customers and
holds 80 % of a continuous quantity (value). Being the likeliest 80 %, it can leave out a skewed
distribution's mean (a customer worth 120 on average with 80 % of the chance between 0 and 100).

Purchases are whole numbers, so an interval of counts holds at least 80 % ([0, 1] may hold 87 %). Checked on
a holdout, ``interval_checks`` reports the share of customers whose actual lies inside (ends included) and
the share the model expects there (the mean mass of the intervals), and the **coverage of the 80 %
interval**: a customer whose actual equals an end of the interval counts for the probability with which
that end would be included to make the interval hold exactly 80 % (a randomised prediction set, the
counterpart for intervals of the randomised PIT of Czado, Gneiting & Held 2009); a calibrated model puts it
at 80 %. The customer equity interval sums each joint draw over customers, so it carries the shared
parameter uncertainty instead of adding up per-customer intervals; a total has no atom, so its interval is
the 10th to 90th percentile of the totals.
The Gamma-Gamma parameters are held at their estimates (with thousands of repeat buyers their own
uncertainty is small next to that of a customer's mean spend, which is simulated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from autograd import value_and_grad
from scipy.optimize import minimize

from analytics.clv.bgnbd import _FITTERS
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.pareto_nbd import negative_log_likelihood_and_gradient as pareto_nll_and_gradient
from analytics.clv.patterns import patterns
from analytics.clv.summary import check_summary
from analytics.quiet import quietly

LEVEL = 0.8
LOW_Q, HIGH_Q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
N_BOOTSTRAP = 12
DRAWS_PER_FIT = 20
DRAWS_BUDGET = 2_000_000
"""Customer draws per bootstrap fit beyond which a large base gets fewer draws each (``draws_for``), down to
MIN_DRAWS_PER_FIT: the simulation is most of a large base's CLV time (324k customers x 240 draws: 14 of 17
CPU s). Measured on the 10M-line synthetic log's holdout (25k and 100k customers, BG/NBD and Pareto/NBD), 10
draws per fit instead of 20 moved the coverage of the 80 % purchase interval by 0.0-0.2 points and of the
revenue interval by 0.1-0.4 points (80.0 -> 79.8 %, 77.3 -> 77.2 %); 5 moved them by up to 0.8 points."""
MIN_DRAWS_PER_FIT = 10
_CHUNK = 20_000  # customers simulated at once (bounds memory on large bases)


@dataclass(frozen=True)
class SimulatedIntervals:
    """Per-customer 80 % intervals (DataFrame columns purchases_low, purchases_high and, when spend was
    simulated, clv_low, clv_high; with actuals, the columns of ``interval_table``) and the equity draws
    (one total per joint draw, currency; empty without spend)."""

    table: pd.DataFrame
    equity_draws: np.ndarray

    def coverage(self) -> dict[str, float]:
        """Holdout coverage when actuals were given to ``simulate_intervals`` (see ``coverage_summary``)."""
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
        with quietly(), np.errstate(all="ignore"):
            result = minimize(nll, start, args=args, jac=True, method="L-BFGS-B",
                              bounds=[(-30.0, 30.0)] * len(names))
        if not np.isfinite(result.x).all():
            continue
        params = {k: float(np.exp(v)) / (scale if k in _TIME_PARAMS else 1.0) for k, v in zip(names, result.x)}
        fits.append(type(model).from_params(params) if model.model == "pnbd"
                    else type(model).from_params(params, model=model.model))
    return fits


def _likelihood(model) -> Callable:
    """The weighted mean negative log-likelihood of ``model``'s kind and its gradient,
    f(log_params, x, t_x, T, w, pen) -> (value, gradient): Pareto/NBD's analytic one, lifetimes' BG/NBD
    family differentiated by autograd (as their own fits are); a finite-difference gradient costs four more
    likelihoods per optimiser step and made the refits most of a large base's CLV time."""
    return pareto_nll_and_gradient if model.model == "pnbd" else \
        value_and_grad(_FITTERS[model.model]._negative_log_likelihood)


def simulate_counts(model, summary: pd.DataFrame, t: float, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Future purchase counts in (T, T + t], shape (customers, n_draws), from the model's generative story.
    Rates are drawn only for the draws in which the customer is still alive at T (a dead one buys nothing)."""
    x = summary["frequency"].to_numpy(dtype=float)
    age = summary["T"].to_numpy(dtype=float)
    n = len(x)
    rows = np.nonzero(rng.random((n, n_draws)) < model.p_alive(summary).to_numpy()[:, None])
    who = rows[0]
    p = model.params_
    if model.model == "pnbd":
        shape_l, rate_l, shape_m, rate_m = model.posterior(summary)
        lam = rng.gamma(shape_l[who]) / rate_l[who]
        mu = rng.gamma(shape_m[who]) / rate_m[who]
        with np.errstate(divide="ignore", over="ignore"):  # mu ~ 0: the customer never dies (inf)
            lifetime = np.where(mu > 0, rng.exponential(1.0, len(who)) / mu, np.inf)
        alive_counts = rng.poisson(lam * np.minimum(lifetime, t))
    else:
        # BG/NBD: an active customer buys at rate lambda and drops out right after each purchase with
        # probability p, so the purchases left are min(Poisson(lambda t), Geometric(p))
        # (the drop-out is drawn only where the Poisson count is not already 0)
        extra = 1.0 if model.model == "mbgnbd" else 0.0
        lam = rng.gamma(p["r"] + x[who]) / (p["alpha"] + age[who])
        alive_counts = rng.poisson(lam * t)
        buys = np.nonzero(alive_counts)[0]
        drop = np.clip(rng.beta(p["a"], p["b"] + x[who[buys]] + extra), 1e-9, 1)
        alive_counts[buys] = np.minimum(alive_counts[buys], rng.geometric(drop))
    counts = np.zeros((n, n_draws), dtype=np.int64)
    counts[rows] = alive_counts
    return counts


def simulate_spend(gg: GammaGammaModel, summary: pd.DataFrame, counts: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Total value of ``counts`` purchases per draw: each customer's spend rate nu from its Gamma-Gamma
    posterior Gamma(q + p x, v + x m), then the sum of the purchases ~ Gamma(p * count, nu); drawn only
    where there are purchases to value."""
    check_summary(summary, ("frequency", "monetary_value"))
    p, q, v = (gg.params_[k] for k in ("p", "q", "v"))
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    informative = (x > 0) & (m > 0)
    x, m = np.where(informative, x, 0.0), np.where(informative, m, 0.0)
    rows = np.nonzero(counts > 0)
    who = rows[0]
    nu = rng.gamma(q + p * x[who]) / (v + x[who] * m[who])
    value = np.zeros(counts.shape)
    value[rows] = rng.gamma(p * counts[rows]) / nu
    return value


def simulate_intervals(fits: list, summary: pd.DataFrame, t: float, *, gg: GammaGammaModel | None = None,
                       value_per_unit: np.ndarray | None = None, actual: np.ndarray | None = None,
                       actual_value: np.ndarray | None = None, draws_per_fit: int | None = None,
                       seed: int = 0) -> SimulatedIntervals:
    """80 % intervals of purchases in (T, T + t] for every customer of ``summary``, from ``fits`` (bootstrap
    refits of one model). With ``gg`` and ``value_per_unit`` (per customer, the CLV per currency unit of
    spend in the horizon: margin times the discounting, or 1 for plain revenue), value intervals and equity
    draws as well. With the ``actual`` counts (and ``actual_value``), each customer's checks. Draws per fit
    by ``draws_for`` unless given."""
    draws_per_fit = draws_per_fit or draws_for(len(summary))
    rng = np.random.default_rng(seed)
    has_value = gg is not None and value_per_unit is not None
    parts, equity = [], np.zeros(len(fits) * draws_per_fit)
    for start in range(0, len(summary), _CHUNK):
        chunk = summary.iloc[start:start + _CHUNK]
        part = slice(start, start + _CHUNK)
        counts = np.hstack([simulate_counts(f, chunk, t, draws_per_fit, rng) for f in fits])
        value = simulate_spend(gg, chunk, counts, rng) * value_per_unit[part, None] if has_value else None
        parts.append(interval_table(counts, value, None if actual is None else np.asarray(actual)[part],
                                    None if actual_value is None else np.asarray(actual_value)[part],
                                    index=chunk.index))
        if has_value:
            equity += value.sum(axis=0)
    return SimulatedIntervals(table=pd.concat(parts), equity_draws=equity if has_value else np.array([]))


def draws_for(n_customers: int) -> int:
    """Draws per bootstrap fit for a base of ``n_customers``: DRAWS_PER_FIT, fewer beyond DRAWS_BUDGET."""
    return int(np.clip(DRAWS_BUDGET // max(n_customers, 1), MIN_DRAWS_PER_FIT, DRAWS_PER_FIT))


def interval_table(counts: np.ndarray, value: np.ndarray | None = None, actual: np.ndarray | None = None,
                   actual_value: np.ndarray | None = None, index: pd.Index | None = None) -> pd.DataFrame:
    """From draws (customers, draws) of purchases and optionally of value: purchases_low, purchases_high
    (clv_low, clv_high) by ``shortest_interval``; with the actuals, the ``interval_checks`` columns (value
    ones prefixed ``value_``)."""
    out = pd.DataFrame(index=index if index is not None else np.arange(len(counts)))
    out["purchases_low"], out["purchases_high"] = shortest_interval(counts)
    if actual is not None:
        checks = interval_checks(counts, out["purchases_low"].to_numpy(), out["purchases_high"].to_numpy(),
                                 np.asarray(actual, dtype=float))
        out[list(checks)] = checks.to_numpy()
    if value is not None:
        out["clv_low"], out["clv_high"] = shortest_interval(value)
        if actual_value is not None:
            checks = interval_checks(value, out["clv_low"].to_numpy(), out["clv_high"].to_numpy(),
                                     np.asarray(actual_value, dtype=float))
            out[[f"value_{c}" for c in checks]] = checks.to_numpy()
    return out


def shortest_interval(draws: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``draws`` (customers, draws), the shortest range holding ``level`` of the draws; of
    equally short ones the lowest (for counts, the one from zero). A sort and a sliding window, vectorised
    over customers (arviz's ``hdi`` does the same one variable at a time, too slow for 100,000 customers)."""
    ordered = np.sort(draws, axis=1)
    n = ordered.shape[1]
    inside = int(np.ceil(level * n))
    start = (ordered[:, inside - 1:] - ordered[:, :n - inside + 1]).argmin(axis=1)
    rows = np.arange(len(ordered))
    return ordered[rows, start], ordered[rows, start + inside - 1]


def interval_checks(draws: np.ndarray, low: np.ndarray, high: np.ndarray, actual: np.ndarray,
                    level: float = LEVEL) -> pd.DataFrame:
    """Each customer's check of an interval against the actual: covered (inside, ends included),
    interval_mass (the probability of the interval under the draws) and coverage (inside counts 1; on an
    end, the probability with which the ends would be included to make the interval hold exactly ``level``,
    as the module notes explain; 0 outside)."""
    lo, hi = low[:, None], high[:, None]
    strictly = ((draws > lo) & (draws < hi)).mean(axis=1)
    on_ends = (draws == lo).mean(axis=1) + np.where(high > low, (draws == hi).mean(axis=1), 0.0)
    include = np.clip((level - strictly) / np.where(on_ends > 0, on_ends, 1.0), 0.0, 1.0)
    inside = (actual > low) & (actual < high)
    on_end = (actual == low) | (actual == high)
    return pd.DataFrame({"covered": (actual >= low) & (actual <= high), "interval_mass": strictly + on_ends,
                         "coverage": np.where(inside, 1.0, np.where(on_end, include, 0.0))})


def empirical_draws(predicted_train: np.ndarray, actual_train: np.ndarray, predicted: np.ndarray,
                    rng: np.random.Generator, n_draws: int = N_BOOTSTRAP * DRAWS_PER_FIT,
                    n_bins: int = 10) -> np.ndarray:
    """Draws (customers, n_draws) for a model with no generative story (the supervised and naive
    candidates): customers of a backtest window are binned by their prediction (deciles), and each new
    customer draws from the actual counts of its bin, scaled so that its draws average its own prediction
    (the bin gives the shape of the spread, the model the level)."""
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
    """Means of the check columns: coverage_fraction (the coverage of the 80 % interval; 0.8 if calibrated),
    in_interval_fraction (actual inside the interval, ends included), interval_mass_fraction (what the
    model expects inside) and, when value was checked, revenue_coverage_fraction."""
    out = {"coverage_fraction": float(table["coverage"].mean()),
           "in_interval_fraction": float(table["covered"].mean()),
           "interval_mass_fraction": float(table["interval_mass"].mean())}
    if "value_coverage" in table:
        out["revenue_coverage_fraction"] = float(table["value_coverage"].mean())
    return out
