"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987), fitted on patterns by SciPy's L-BFGS-B.

The fit runs on the distinct (frequency, recency, T) patterns with their counts as weights (the same
likelihood, a fraction of the terms), by L-BFGS-B with the analytic gradient. The likelihood's integral term
is computed by quadrature rather than lifetimes' 2F1 closed form, which overflows (NaN) for some customers
when s or beta is large, as on the synthetic data and Online Retail; so this model never fitted with
``lifetimes``' ``ParetoNBDFitter`` (Nelder-Mead on that closed form). Its unconditional expectation came from
``lifetimes`` until session 8 and is now the project's own (``expected_purchases_new``), so that a run does
not import ``lifetimes`` and ``autograd`` (see ``analytics.clv.bgnbd``). Predictions mirror ``BetaGeoModel``
(expected purchases, P(alive), P(no purchase), the unconditional curve for the tracking plot), so the CLV and
validation code take either. Parameters are kept as a plain dict, as for the other models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaincinv, gammaln

from analytics.clv.bgnbd import (
    FALLBACK_PENALIZERS,
    ConvergenceError,
    PurchaseModelFit,
    _arrays,
    positive_params,
    set_fit,
)
from analytics.clv.patterns import patterns
from analytics.errors import DataError
from analytics.quiet import quietly

PARAMS = ("r", "alpha", "s", "beta")
_GRID = (np.arange(24) + 0.5) / 24
"""Quantile levels at which the posterior rates are evaluated for P(no purchase) (midpoint rule)."""
_LEGENDRE = np.polynomial.legendre.leggauss(20)


def _log_dead_to_alive(params: dict[str, float], x, t_x, age, gradient: bool = False):
    """log of P(died in (t_x, T], data) / P(alive at T, data):
    s int_{t_x}^{T} (alpha + y)^-(r + x) (beta + y)^-(s + 1) dy / ((alpha + T)^-(r + x) (beta + T)^-s), the
    integral by Gauss-Legendre in log space (-inf when t_x = T). lifetimes' closed form goes through a 2F1
    that overflows for large s or beta (NaN for some customers of the synthetic data and Online Retail).
    With ``gradient``, also its derivatives by r, alpha, s, beta (4 x customers): the derivative of a
    log-sum-exp is the nodes' softmax-weighted mean of the integrand's derivatives.

    The nodes are placed in z = log(c + y), c = min(alpha, beta), where the integrand is an exponential
    (the power of c + y) times a power of the other factor, smooth. In y the singularity at -c lies close to
    the interval when c is small against T - t_x: on patterns of the 1M-line synthetic log (days), with
    alpha = 0.001, 48 nodes in y were off by 2.6 in this log, with beta = 0.5 by 9e-4, where 20 in z are
    within 1e-14 of adaptive quadrature. On the fitted parameters of CDNOW, the synthetic log and Online
    Retail both are within 1e-12. This runs at every optimiser step of every fit and bootstrap refit, and
    its cost is the nodes'."""
    nodes, weights = _LEGENDRE
    shape = params["r"] + x
    alpha, s, beta = params["alpha"], params["s"], params["beta"]
    c = min(alpha, beta)
    start = np.log(c + t_x)
    half = (np.log(c + age) - start) / 2
    z = start[None, :] + half[None, :] * (nodes[:, None] + 1)
    # alpha + y and beta + y from e^z = c + y, without subtracting c back out (cancellation when c >> y);
    # each log over the (nodes x customers) grid taken once: this runs on every pattern at every optimiser
    # step, and was most of a 325k-customer tournament's time
    grown = np.exp(z)
    alpha_y, beta_y = grown + (alpha - c), grown + (beta - c)
    log_ay, log_by = np.log(alpha_y), np.log(beta_y)
    log_aT, log_bT = np.log(alpha + age), np.log(beta + age)
    # + z: dy = (c + y) dz
    log_f = -shape * log_ay - (s + 1) * log_by + z + (shape * log_aT + s * log_bT)[None, :]
    peak = log_f.max(axis=0)
    terms = weights[:, None] * np.exp(log_f - peak[None, :])
    total = terms.sum(axis=0)
    with np.errstate(divide="ignore"):
        dead = np.log(s) + np.log(half) + peak + np.log(total)  # log-sum-exp with the (positive) node weights
    if not gradient:
        return dead
    share = terms / total[None, :]
    derivatives = np.stack([
        log_aT - (share * log_ay).sum(axis=0),
        shape / (alpha + age) - shape * (share / alpha_y).sum(axis=0),
        1 / s + log_bT - (share * log_by).sum(axis=0),
        s / (beta + age) - (s + 1) * (share / beta_y).sum(axis=0),
    ])
    return dead, derivatives


def log_likelihood(params: dict[str, float], x, t_x, age, gradient: bool = False):
    """Each customer's Pareto/NBD log-likelihood (Fader & Hardie 2005 note, eq. 18, via _log_dead_to_alive);
    with ``gradient``, also its derivatives by r, alpha, s, beta (4 x customers)."""
    r, alpha, s, beta = (params[k] for k in PARAMS)
    alive = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
             - (r + x) * np.log(alpha + age) - s * np.log(beta + age))
    if not gradient:
        return alive + np.logaddexp(0.0, _log_dead_to_alive(params, x, t_x, age))
    dead, d_dead = _log_dead_to_alive(params, x, t_x, age, gradient=True)
    d_alive = np.stack([digamma(r + x) - digamma(r) + np.log(alpha) - np.log(alpha + age),
                        r / alpha - (r + x) / (alpha + age),
                        np.log(beta) - np.log(beta + age),
                        s / beta - s / (beta + age)])
    return alive + np.logaddexp(0.0, dead), d_alive + expit(dead)[None, :] * d_dead


def negative_log_likelihood_and_gradient(log_params, x, t_x, age, weight, penalizer: float):
    """Weighted mean negative log-likelihood on log-parameters, plus lifetimes' penalty on the parameters, and
    its gradient by the log-parameters (analytic, for L-BFGS-B: a finite-difference gradient cost four more
    likelihoods per step)."""
    values = np.exp(log_params)
    ll, d_ll = log_likelihood(dict(zip(PARAMS, values)), x, t_x, age, gradient=True)
    total = weight.sum()
    value = float(-(weight * ll).sum() / total + penalizer * (values ** 2).sum())
    gradient = -(d_ll @ weight) / total * values + 2 * penalizer * values ** 2
    return value, gradient


def _fit_scaled(x, t_x, age, weight, penalizer: float) -> dict[str, float]:
    """The weighted likelihood maximised by L-BFGS-B on log-parameters in [-30, 30], time scaled to the
    oldest customer's T = 1 (the bounds let a collapsing drop-out, s -> 0, stop at the edge)."""
    with quietly(), np.errstate(all="ignore"):
        result = minimize(negative_log_likelihood_and_gradient, np.zeros(4), args=(x, t_x, age, weight, penalizer),
                          jac=True, method="L-BFGS-B", bounds=[(-30.0, 30.0)] * 4)
    if not result.success and not np.isfinite(result.fun):
        raise ConvergenceError(f"L-BFGS-B did not converge: {result.message}")
    return dict(zip(PARAMS, (float(v) for v in np.exp(result.x))))


def _expected(t, alive, shape_l, rate_l, s, rate_m) -> np.ndarray:
    """Expected purchases in the next t of a customer alive now with probability ``alive``, purchase rate
    ~ Gamma(shape_l, rate_l) and drop-out rate ~ Gamma(s, rate_m) while alive: ``alive`` times
    shape_l / rate_l * rate_m / (s - 1) [1 - (rate_m / (rate_m + t))^(s - 1)], with its limit
    shape_l / rate_l * rate_m * log(1 + t / rate_m) at s = 1. Arrays broadcast together."""
    ratio = np.log1p(t / rate_m)
    with np.errstate(all="ignore"):
        near_one = np.abs(s - 1) < 1e-6
        spread = np.where(near_one, ratio, -np.expm1(-(s - 1) * ratio) / np.where(near_one, 1.0, s - 1))
    return alive * shape_l / rate_l * rate_m * spread


class ParetoNBDModel:
    """Pareto/NBD: purchases at rate lambda ~ Gamma(r, alpha) while alive, lifetime ~ Exp(mu),
    mu ~ Gamma(s, beta). Same fitted attributes as ``BetaGeoModel`` (params_, log_likelihood_, ...)."""

    model = "pnbd"

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> "ParetoNBDModel":
        """Fit on a summary with frequency, recency, T; returns self."""
        found = patterns(summary)
        table = found.table.assign(weight=found.weights)
        if not (table["frequency"] > 0).any():
            raise DataError("cannot fit Pareto/NBD: no customer has a repeat purchase to learn from")
        x, t_x, age, weight = (table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "weight"))
        scale = 1.0 / float(age.max())
        attempts: list[dict[str, Any]] = []
        for penalizer in [float(self.penalizer)] + [p for p in FALLBACK_PENALIZERS if p > self.penalizer]:
            try:
                params = _fit_scaled(x, t_x * scale, age * scale, weight, penalizer)
                params["alpha"] /= scale
                params["beta"] /= scale
                if not np.isfinite(list(params.values())).all() or min(params.values()) <= 0:
                    raise ConvergenceError("non-finite or non-positive parameters")
            except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                attempts.append({"penalizer": penalizer, "method": "L-BFGS-B", "converged": False,
                                 "message": " ".join(str(exc).split())})
                continue
            attempts.append({"penalizer": penalizer, "method": "L-BFGS-B", "converged": True, "message": ""})
            self.params_ = params
            # no standard errors (L-BFGS-B keeps only a low-rank inverse Hessian): parameter uncertainty comes
            # from the customer bootstrap instead
            set_fit(self, standard_errors=dict.fromkeys(PARAMS), converged=True, penalizer_used=penalizer,
                    log_likelihood=float((weight * log_likelihood(params, x, t_x, age)).sum()),
                    fit_attempts=attempts, n_customers=int(table["weight"].sum()), n_patterns=len(table))
            return self
        raise DataError(f"Pareto/NBD did not converge with any penalizer: last error {attempts[-1]['message']!r}")

    @classmethod
    def from_params(cls, params: dict[str, float]) -> "ParetoNBDModel":
        self = cls()
        self.params_ = positive_params(params, PARAMS, "Pareto/NBD")
        return self

    def record(self) -> PurchaseModelFit:
        return PurchaseModelFit.of(self)

    @classmethod
    def from_record(cls, record: PurchaseModelFit) -> "ParetoNBDModel":
        return record.restore(cls.from_params(record.params))

    def expected_purchases(self, t: float, summary: pd.DataFrame, alive: np.ndarray | None = None) -> pd.Series:
        """Expected repeat purchases of each customer in (T, T + t]; ``t`` in the summary's unit.

        P(alive) times (r + x)(beta + T) / ((alpha + T)(s - 1)) [1 - ((beta + T) / (beta + T + t))^(s - 1)]
        (Schmittlein et al. 1987), with its limit (r + x)(beta + T) / (alpha + T) log(1 + t / (beta + T))
        at s = 1. ``alive``: ``p_alive(summary)`` when the caller has it (its quadrature is most of the cost)."""
        shape_l, rate_l, s, rate_m = self.posterior(summary)
        alive = self.p_alive(summary).to_numpy() if alive is None else alive
        values = _expected(float(t), alive, shape_l, rate_l, s, rate_m)
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """Expected repeat purchases in (0, t] of a new customer (unconditional): the expectation of an active
        customer with no history, r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s - 1)] (Fader & Hardie's
        note 009, eq. 27, lifetimes' ``expected_number_of_purchases_up_to_time``), with its limit at s = 1."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        p = self.params_
        return _expected(t, 1.0, p["r"], p["alpha"], p["s"], p["beta"])

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at T (see ``_log_dead_to_alive``)."""
        x, t_x, age = _arrays(summary)
        values = np.where(age > t_x, expit(-_log_dead_to_alive(self.params_, x, t_x, age)), 1.0)
        return pd.Series(values, index=summary.index, name="p_alive")

    def posterior(self, summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Shape and rate of the Gamma posteriors of lambda and mu of a customer alive at T:
        (r + x, alpha + T) and (s, beta + T)."""
        x, _, age = _arrays(summary)
        p = self.params_
        return p["r"] + x, p["alpha"] + age, np.full_like(x, p["s"]), p["beta"] + age

    def p_no_purchase(self, t: float, summary: pd.DataFrame) -> pd.Series:
        """Probability of no purchase in (T, T + t]: dead, or alive and neither buying before dying nor in t.

        Given lambda and mu, P(none | alive) = mu / (lambda + mu) (1 - e^{-(lambda + mu) t}) + e^{-(lambda + mu)
        t}; it is averaged over the two Gamma posteriors at fixed quantile levels (a deterministic grid).
        """
        shape_l, rate_l, _, rate_m = self.posterior(summary)
        # the Gamma quantiles (gammaincinv, what scipy.stats' gamma.ppf returns for these) depend on the shapes
        # only: once per distinct r + x, and once for s, not per customer (the whole took 0.71 CPU s on the
        # 18,893 patterns of the 1M-line log, now 0.39; Online Retail's 3,030: 0.10, now 0.05)
        shapes, which = np.unique(shape_l, return_inverse=True)
        # (in C order, as the per-customer quantiles were: the mean over the grid below sums in memory order)
        lam = np.ascontiguousarray(gammaincinv(shapes[None, :], _GRID[:, None])[:, which]) / rate_l[None, :]
        mu = gammaincinv(self.params_["s"], _GRID)[:, None] / rate_m[None, :]
        total = lam[:, None, :] + mu[None, :, :]
        decay = np.exp(-total * float(t))
        with np.errstate(all="ignore"):
            share = np.where(total > 0, mu[None, :, :] / total, 0.0)
        none_if_alive = (share * (1 - decay) + decay).mean(axis=(0, 1))
        alive = self.p_alive(summary).to_numpy()
        values = np.clip(1 - alive + alive * none_if_alive, 0, 1)
        return pd.Series(values, index=summary.index, name="p_no_purchase")
