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

The draws are made once per purchase pattern (``simulate_intervals``): customers with the same frequency,
recency and age have the same predictive distribution of purchases, and of value up to a factor of their own.
At 324k customers (the 10M-line synthetic log) that is 128k patterns, and the simulation took 2.9 CPU s
instead of 7.2 for the same draws per customer (then 10 draws per fit at that size; 4.2 s with 15 draws per fit,
as a budget counted in patterns would give).

Memory: a chunk's draws are held once (each fit's written into one array, rows sorted in place once used,
the equity sum made in place, the values drawn a block of rows at a time in the same order): at most about
two arrays of the chunk's draws at once instead of five. On the 1M-line log (20 draws per fit) the CLV
forecast's peak fell from 171 to 106 MB; at 10M lines (10 draws) the whole step's from 260 to 201 MB, the
rest being the per-customer tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from analytics.clv.bgnbd import hessian_by_differences
from analytics.clv.bgnbd import negative_log_likelihood_and_gradient as bgnbd_nll_and_gradient
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.pareto_nbd import negative_log_likelihood_and_gradient as pareto_nll_and_gradient
from analytics.clv.patterns import patterns
from analytics.clv.summary import check_summary
from analytics.quiet import quietly

LEVEL = 0.8
LOW_Q, HIGH_Q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
N_BOOTSTRAP = 12
DRAWS_PER_FIT = 10
"""Draws of each customer's future per bootstrap fit (120 in all), at any size of base. The simulation is most of
the CLV tournament's and forecast's time, and it used to make 20 (down to 10 beyond 100,000 customers).
Measured on the 10M-line synthetic log's holdout (25k and 100k customers, BG/NBD and Pareto/NBD, each customer
simulated), 10 draws per fit instead of 20 moved the coverage of the 80 % purchase interval by 0.0-0.2 points
and of the revenue interval by 0.1-0.4 points (80.0 -> 79.8 %, 77.3 -> 77.2 %); 5 moved them by up to 0.8
points. Again in the tournament's checks (seeds 0-2, paired): on Online Retail (3,187 calibration customers)
the three BTYD models' purchase coverage moved by -0.07 to -0.18 points on average (75.7-76.1 % before) and
their revenue coverage by -0.03 to +0.01 (70.0 %); on the 1M-line log (10,000 customers) by -0.10 to -0.16
(78.5-80.3 %) and -0.15 to -0.38 (77.8-80.5 %). That is a systematic shift, as fewer draws make a slightly
narrower shortest interval (the forecast's CLV intervals, summed, were 1.4-1.5 % narrower on Online Retail and
changed by -1.1 to +0.2 % on the 1M-line log; the equity interval moved within its seed-to-seed spread), but a
small one against the coverage figures' own sampling error (0.4 points at 10,000 customers, 0.7 at 3,187); the
point forecasts and so the tournament's errors and winner do not depend on the draws. It saved 0.45 CPU s of
the tournament and 0.4 of the CLV forecast on the 1M-line log (2.6 and 1.7 s before), 0.2 and 0.1 on Online
Retail (2.0 and 0.65 s)."""
EMPIRICAL_DRAWS = 240
"""Draws per customer of the rate models' empirical intervals (``empirical_draws``), which kept 240 when the BTYD
simulation went to 120: with 120 the boosting's coverage fell by 0.4-1.5 points in the same paired runs (74.0
-> 73.0 % on Online Retail, mean of the seeds), its draws coming from a few distinct counts per bin; they take
a tenth of the simulation's time."""
_CHUNK = 20_000  # customers simulated at once (bounds memory on large bases)
_CELLS = 1_000_000  # draws valued at once (see simulate_unit_value)


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
    (on log-parameters, time scaled so the oldest customer's T is 1, as lifetimes does): by BFGS from
    the full data's Hessian (``_quasi_newton_refit``), else by L-BFGS-B. A refit that fails is skipped; the
    full-data fit is the first.
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
    with quietly(), np.errstate(all="ignore"):
        full = (x, t_x * scale, age * scale, table["weight"].to_numpy(dtype=float), 0.0)
        inverse = _inverse_hessian(nll, start, full)
    fits = [model]
    for w in weights:
        keep = w > 0
        args = (x[keep], t_x[keep] * scale, age[keep] * scale, w[keep].astype(float), 0.0)
        with quietly(), np.errstate(all="ignore"):
            refit, converged = (start, False) if inverse is None else \
                _quasi_newton_refit(nll, start, args, inverse)
            if not converged:
                refit = minimize(nll, refit, args=args, jac=True, method="L-BFGS-B",
                                 bounds=[(-30.0, 30.0)] * len(names)).x
        if not np.isfinite(refit).all():
            continue
        params = {k: float(np.exp(v)) / (scale if k in _TIME_PARAMS else 1.0) for k, v in zip(names, refit)}
        fits.append(type(model).from_params(params) if model.model == "pnbd"
                    else type(model).from_params(params, model=model.model))
    return fits


_REFIT_STEPS = 15
_REFIT_TOLERANCE = 1e-6  # largest change of a log-parameter at which a refit has converged
_FLAT_RATIO = 1e-6  # smallest to largest eigenvalue of the Hessian below which the maximum is on a ridge


def _inverse_hessian(nll: Callable, at: np.ndarray, args: tuple) -> np.ndarray | None:
    """Inverse of the Hessian of ``nll`` at the full-data estimate ``at`` (central differences of the
    gradient), or None where the maximum sits on a flat ridge or at the edge of the parameter space
    (the drop-out collapsing, as on Online Retail), where quasi-Newton steps from it would wander."""
    hessian = hessian_by_differences(nll, at, args)
    if not np.isfinite(hessian).all() or np.any(np.abs(at) > 25):
        return None
    eigenvalues = np.linalg.eigvalsh(hessian)
    if eigenvalues[0] <= _FLAT_RATIO * eigenvalues[-1]:
        return None
    return np.linalg.inv(hessian)


def _quasi_newton_refit(nll: Callable, start: np.ndarray, args: tuple,
                        inverse: np.ndarray) -> tuple[np.ndarray, bool]:
    """The maximum of a resample's likelihood by BFGS from the full-data estimate with the full data's
    inverse Hessian as the first (steps halved until the likelihood rises), and whether it converged: if
    not, the best point found within the bounds, for L-BFGS-B to go on from (on Pareto/NBD the maximum of
    some resamples runs along a ridge to s, beta -> infinity, where no step is small).

    A resample's Hessian differs from the full data's by sampling noise, so the first step lands close and
    BFGS corrects the curvature from there. On 10,000 customers of the 1M-line synthetic log a BG/NBD refit
    took 4-6 likelihoods and a Pareto/NBD one 8-13 where L-BFGS-B, which starts from a unit Hessian, took
    10-35, and stopped short of the maximum along Pareto/NBD's s/beta ridge (log s 1.88 against 2.25).
    Not scipy's BFGS with ``hess_inv0``, which reaches the same maxima: its Wolfe line search spends more
    likelihoods, and on that sample its twelve refits took 0.17 / 0.21 / 0.78 CPU s (BG/NBD / MBG/NBD /
    Pareto/NBD) against 0.08 / 0.08 / 0.55 here, and 0.10 / 0.11 / 0.73 with its tolerance loosened to 1e-6."""
    at = start
    value, gradient = nll(at, *args)
    for _ in range(_REFIT_STEPS):
        step = -inverse @ gradient
        if np.abs(step).max() < _REFIT_TOLERANCE:
            return at + step, True
        for _ in range(10):
            new_value, new_gradient = nll(at + step, *args)
            # the tolerance: near the maximum the rise is below the rounding of a mean over thousands of terms
            if np.isfinite(new_value) and new_value <= value + 1e-4 * gradient @ step + 1e-13 * abs(value):
                break
            step = step / 2
        else:
            return at, False
        change = new_gradient - gradient
        curvature = change @ step
        if curvature > 0:  # BFGS update of the inverse Hessian
            rho = 1.0 / curvature
            left = np.eye(len(at)) - rho * np.outer(step, change)
            inverse = left @ inverse @ left.T + rho * np.outer(step, step)
        if np.abs(at + step).max() > 30:
            return at, False
        at, value, gradient = at + step, new_value, new_gradient
    return at, False


def _likelihood(model) -> Callable:
    """The weighted mean negative log-likelihood of ``model``'s kind and its analytic gradient,
    f(log_params, x, t_x, T, w, pen) -> (value, gradient); a finite-difference gradient costs four more
    likelihoods per optimiser step and made the refits most of a large base's CLV time."""
    if model.model == "pnbd":
        return pareto_nll_and_gradient
    return partial(bgnbd_nll_and_gradient, model=model.model)


def simulate_counts(model, summary: pd.DataFrame, t: float, n_draws: int, rng: np.random.Generator,
                    alive: np.ndarray | None = None) -> np.ndarray:
    """Future purchase counts in (T, T + t], shape (customers, n_draws), from the model's generative story.
    Rates are drawn only for the draws in which the customer is still alive at T (a dead one buys nothing).
    ``alive``: ``model.p_alive(summary)`` when the caller has it."""
    x = summary["frequency"].to_numpy(dtype=float)
    age = summary["T"].to_numpy(dtype=float)
    n = len(x)
    alive = model.p_alive(summary).to_numpy() if alive is None else alive
    cells = np.flatnonzero(rng.random((n, n_draws)) < alive[:, None])  # (row-major, as np.nonzero's rows)
    who = cells // n_draws
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
    counts.ravel()[cells] = alive_counts
    return counts


def simulate_unit_value(gg: GammaGammaModel, frequency: np.ndarray, counts: np.ndarray,
                        rng: np.random.Generator) -> np.ndarray:
    """Value of ``counts`` purchases per draw for customers of ``frequency`` repeat purchases, per unit of
    the customer's spend scale ``spend_scale``: with the spend rate nu from its Gamma-Gamma posterior
    Gamma(q + p x, v + x m) and the purchases' total ~ Gamma(p * count, nu), the total is
    (v + x m) * Gamma(p * count) / Gamma(q + p x), and only the last factor depends on the draws. Drawn only
    where there are purchases to value; ``frequency`` 0 for customers whose spend is uninformative."""
    p, q = gg.params_["p"], gg.params_["q"]
    value = np.zeros(counts.shape)
    # drawn a block of rows at a time, every numerator first, then every denominator, each in row-major order
    # (np.nonzero's): the same draws in the same order as one call for all the drawn cells, without arrays of
    # every such cell (this was the simulation's largest step)
    rows = max(1, _CELLS // max(counts.shape[1], 1))
    for factor in ("numerator", "denominator"):
        for start in range(0, len(counts), rows):
            cells = np.flatnonzero(counts[start:start + rows] > 0)
            flat = value[start:start + rows].ravel()  # (a view: the rows are contiguous)
            if factor == "numerator":
                flat[cells] = rng.gamma(p * counts[start:start + rows].ravel()[cells])
            else:
                flat[cells] /= rng.gamma(q + p * frequency[start + cells // counts.shape[1]])
    return value


def spend_scale(gg: GammaGammaModel, summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per customer, (v + x m) of ``simulate_unit_value`` and the frequency the posterior uses: a customer
    with no repeat purchase or no positive spend has the prior's (v, 0)."""
    check_summary(summary, ("frequency", "monetary_value"))
    x = summary["frequency"].to_numpy(dtype=float)
    m = summary["monetary_value"].to_numpy(dtype=float)
    informative = (x > 0) & (m > 0)
    x, m = np.where(informative, x, 0.0), np.where(informative, m, 0.0)
    return gg.params_["v"] + x * m, x


def simulate_intervals(fits: list, summary: pd.DataFrame, t: float, *, gg: GammaGammaModel | None = None,
                       value_per_unit: np.ndarray | None = None, actual: np.ndarray | None = None,
                       actual_value: np.ndarray | None = None, draws_per_fit: int = DRAWS_PER_FIT,
                       seed: int = 0) -> SimulatedIntervals:
    """80 % intervals of purchases in (T, T + t] for every customer of ``summary``, from ``fits`` (bootstrap
    refits of one model). With ``gg`` and ``value_per_unit`` (per customer, non-negative: the CLV per
    currency unit of spend in the horizon, margin times the discounting, or 1 for plain revenue), value
    intervals and equity draws as well. With the ``actual`` counts (and ``actual_value``), each customer's
    checks. ``draws_per_fit``: DRAWS_PER_FIT unless given.

    Simulated once per pattern, not per customer: customers with the same (frequency, recency, T) have the
    same distribution of purchases, and their values differ only by the factor ``spend_scale`` times
    ``value_per_unit`` (see ``simulate_unit_value``), which carries a shortest interval along. At 324k
    customers (10M-line log) there are 128k patterns. Each customer's intervals are its pattern's, scaled.
    The equity total of a joint draw sums each pattern's draw weighted by its customers' summed factors; for
    a pattern of several customers, whose own draws would be independent, the deviation from the pattern's
    mean under that fit is weighted by the root of their summed squared factors instead, so that the total
    has the mean and variance of independent customers (exactly their draws for a pattern of one)."""
    has_value = gg is not None and value_per_unit is not None
    keyed = summary[["frequency", "recency", "T"]]
    if has_value:
        scale, value_frequency = spend_scale(gg, summary)
        factor = scale * np.asarray(value_per_unit, dtype=float)
        keyed = keyed.assign(value_frequency=value_frequency)
    found = patterns(keyed, tuple(keyed.columns))
    rows = found.table
    n_draws = len(fits) * draws_per_fit
    rng = np.random.default_rng(seed)
    bounds = np.zeros((len(rows), 4))
    equity = np.zeros(n_draws)
    counts_of, unit_of = [], []  # per chunk of patterns, kept only for the checks against actuals
    if has_value:
        weight = np.bincount(found.inverse, weights=factor, minlength=len(rows))
        weight_sq = np.bincount(found.inverse, weights=factor ** 2, minlength=len(rows))
    for start in range(0, len(rows), _CHUNK):
        chunk = rows.iloc[start:start + _CHUNK]
        part = slice(start, start + _CHUNK)
        # P(alive) once per fit: the draws and the shared patterns' means both need it
        alive = [f.p_alive(chunk).to_numpy() for f in fits]
        # each fit's draws written into one array (a list of them and its stacked copy held the draws twice)
        counts = np.empty((len(chunk), n_draws), dtype=np.int64)
        for i, (f, a) in enumerate(zip(fits, alive)):
            counts[:, i * draws_per_fit:(i + 1) * draws_per_fit] = simulate_counts(f, chunk, t, draws_per_fit,
                                                                                   rng, a)
        unit = simulate_unit_value(gg, chunk["value_frequency"].to_numpy(), counts, rng) if has_value else None
        # each row sorted in place once its draws have been used in order (no sorted copy; the checks'
        # shares do not depend on the order within a row)
        counts.sort(axis=1)
        bounds[part, 0], bounds[part, 1] = _shortest_of_sorted(counts)
        if actual is not None:
            counts_of.append(counts)
            unit_of.append(unit)
        del counts
        if has_value:
            by_fit = unit.reshape(len(chunk), len(fits), draws_per_fit)
            mean = _shared_means(fits, alive, chunk, t, gg, found.weights[part] > 1, by_fit)[:, :, None]
            # weight * mean + root * (draw - mean), summed over patterns, in one array made in place
            spread = by_fit - mean
            spread *= np.sqrt(weight_sq[part])[:, None, None]
            spread += weight[part, None, None] * mean
            equity += spread.sum(axis=0).ravel()
            del by_fit, spread
            unit.sort(axis=1)
            bounds[part, 2], bounds[part, 3] = _shortest_of_sorted(unit)
            del unit
    table = pd.DataFrame({"purchases_low": bounds[found.inverse, 0], "purchases_high": bounds[found.inverse, 1]},
                         index=summary.index)
    if has_value:
        table["clv_low"] = bounds[found.inverse, 2] * factor
        table["clv_high"] = bounds[found.inverse, 3] * factor
    if actual is not None:
        table = _checked(table, found.inverse, bounds, counts_of, unit_of, factor if has_value else None, actual,
                         actual_value)
    return SimulatedIntervals(table=table, equity_draws=equity if has_value else np.array([]))


def _shared_means(fits: list, alive: list, rows: pd.DataFrame, t: float, gg: GammaGammaModel,
                  shared: np.ndarray, by_fit: np.ndarray) -> np.ndarray:
    """Mean unit value (patterns, fits) of ``simulate_unit_value`` under each fit (``alive``: each fit's
    P(alive) of ``rows``), for the ``shared`` patterns
    (several customers; 0 for the others, where it cancels out of the equity): expected purchases times
    p / (q + p x - 1), exact, because a mean of the draws would shift every draw of a fit at once by its own
    noise, weighted by all the pattern's customers. Where that mean is infinite (q + p x <= 1), the draws'."""
    out = np.zeros(by_fit.shape[:2])
    if not shared.any():
        return out
    p, q = gg.params_["p"], gg.params_["q"]
    rows = rows[shared]
    shape = q + p * rows["value_frequency"].to_numpy() - 1
    per_purchase = np.divide(p, shape, out=np.full(len(rows), np.nan), where=shape > 0)
    for i, (fit, fit_alive) in enumerate(zip(fits, alive)):
        exact = fit.expected_purchases(t, rows, alive=fit_alive[shared]).to_numpy() * per_purchase
        out[shared, i] = np.where(np.isfinite(exact), exact, by_fit[shared, i].mean(axis=1))
    return out


def _checked(table: pd.DataFrame, inverse: np.ndarray, bounds: np.ndarray, counts_of: list, unit_of: list,
             factor: np.ndarray | None, actual: np.ndarray, actual_value: np.ndarray | None) -> pd.DataFrame:
    """``table`` with the ``interval_checks`` columns of each customer (value ones prefixed ``value_``).
    The shares of draws inside and on the ends of an interval are its pattern's (``bounds``: the patterns'
    purchase and unit value intervals), for value too: a customer's draws and interval are its pattern's
    scaled by its factor (a factor of 0 puts every draw on both ends, at 0). Only the actual is the
    customer's own, so the draws are compared once per pattern, not per customer."""
    strictly, on_ends = _interval_mass(np.vstack(counts_of), bounds[:, 0], bounds[:, 1])
    checks = _checks_of(strictly[inverse], on_ends[inverse], table["purchases_low"].to_numpy(),
                        table["purchases_high"].to_numpy(), np.asarray(actual, dtype=float))
    if factor is not None and actual_value is not None:
        strictly, on_ends = _interval_mass(np.vstack(unit_of), bounds[:, 2], bounds[:, 3])
        zero = factor == 0
        value = _checks_of(np.where(zero, 0.0, strictly[inverse]), np.where(zero, 1.0, on_ends[inverse]),
                           table["clv_low"].to_numpy(), table["clv_high"].to_numpy(),
                           np.asarray(actual_value, dtype=float))
        checks = checks.join(value.add_prefix("value_"))
    return table.join(checks.set_axis(table.index))


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
    return _shortest_of_sorted(np.sort(draws, axis=1), level)


def _shortest_of_sorted(ordered: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """``shortest_interval`` of draws whose rows are sorted."""
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
    return _checks_of(*_interval_mass(draws, low, high), low, high, actual, level)


def _interval_mass(draws: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``draws``, the share strictly inside (low, high) and the share on its ends (each once)."""
    lo, hi = low[:, None], high[:, None]
    strictly = ((draws > lo) & (draws < hi)).mean(axis=1)
    on_ends = (draws == lo).mean(axis=1) + np.where(high > low, (draws == hi).mean(axis=1), 0.0)
    return strictly, on_ends


def _checks_of(strictly: np.ndarray, on_ends: np.ndarray, low: np.ndarray, high: np.ndarray,
               actual: np.ndarray, level: float = LEVEL) -> pd.DataFrame:
    """``interval_checks`` from the shares of ``_interval_mass``."""
    include = np.clip((level - strictly) / np.where(on_ends > 0, on_ends, 1.0), 0.0, 1.0)
    inside = (actual > low) & (actual < high)
    on_end = (actual == low) | (actual == high)
    return pd.DataFrame({"covered": (actual >= low) & (actual <= high), "interval_mass": strictly + on_ends,
                         "coverage": np.where(inside, 1.0, np.where(on_end, include, 0.0))})


def empirical_draws(predicted_train: np.ndarray, actual_train: np.ndarray, predicted: np.ndarray,
                    rng: np.random.Generator, n_draws: int = EMPIRICAL_DRAWS,
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
