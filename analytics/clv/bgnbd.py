"""Purchase-count models on a customer summary: BG/NBD (default) and MBG/NBD, fitted by SciPy's optimisers on
the project's own likelihood with its analytic gradient.

Times (``t``, recency, T) are in the unit of the summary the model was fitted on (days or weeks, see
``analytics.clv.summary``); ``alpha`` is in that unit too. The model keeps its parameters as a plain dict
(``from_params``; ``record`` / ``from_record`` with the typed ``PurchaseModelFit``, which the results carry).

Why not ``lifetimes``' fitters, which this module called until session 8: ``lifetimes`` is archived (no
release since 2020), and its fitters differentiate the likelihood with ``autograd``, tracing every call, at
several times the cost of the arithmetic. ``_fit_bfgs`` is ``lifetimes``' fit minus ``autograd``: the same
objective (weighted mean negative log-likelihood plus the penalty, on log-parameters, time scaled so that
the oldest T is 1), the same start, method and tolerance, with the analytic gradient, and the Hessian for
the standard errors by central differences of it instead of ``autograd``'s. It lands where ``lifetimes``
lands (parameters within 1e-12 to 2e-9, see tests/analytics/clv/test_lifetimes_oracle.py), and fails where
it fails (Online Retail's BG/NBD, whose maximum is at the edge, a -> 0), where the bounded fallback answers
as before. The predictions are the project's own formulas (P(alive) is ``lifetimes``' formula, ported).
``lifetimes`` stays as the tests' oracle and for the CDNOW files it installs, which ``analytics.datasets``
reads without importing it.

Measured on this host (2 cores, shared; CPU seconds, before -> after). The eight model fits of an Online
Retail run, each the first in its process: 1.86-1.95 -> 1.12-1.33 s (its failing BG/NBD BFGS 0.14-0.16 ->
0.02-0.04 s); of a 1M-line run: 1.57-1.60 -> 0.99-1.17 s (the Pareto/NBD fits, which never used
``lifetimes``, are 0.8 and 0.5 s of these). Steps, thread CPU, min (median) of six runs: Online Retail's
tournament 1.87 (1.95) -> 1.50 (1.66), CLV forecast 0.60 (0.62) -> 0.49 (0.59), CLV validation 0.21
(0.23) -> 0.09 (0.10); the 1M-line log's tournament 2.89 (3.25) -> 2.91 (3.08), within noise, CLV forecast
1.57 (1.74) -> 1.44 (1.56), CLV validation 0.24 (0.27) -> 0.16 (0.18). Imports: ``python -X importtime``
credits ``lifetimes`` with about 0.75 s, but that is SciPy's ``stats``, ``integrate`` and ``signal``, which it
happened to import first and which the project imports anyway (scikit-learn's isotonic regression, SciPy's
optimisers); its own modules and ``autograd``'s and ``dill``'s (56 modules) are 2 % of the import's
instructions (callgrind: 7.30 -> 7.15 billion), about 0.03 s. The CLI's import CPU nevertheless rose,
1.45-1.58 -> 1.60-1.68 s: ``scipy.stats`` is now first imported at another depth of the call stack, where its
docstring processing makes CPython 3.11 allocate and free a 16 kB frame-stack chunk (mmap/munmap) on every
call that crosses the chunk's edge (24,000 against 7,000 munmaps, 69,000 against 39,000 page faults). That
cost depends on the depth alone (importing the same modules 0 to 20 frames deeper took 1.43 to 1.99 s);
``analytics.startup`` is where a fix would go.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betainc, digamma, expit, gammaln

from analytics.clv.patterns import PURCHASE_COLUMNS, patterns
from analytics.clv.summary import check_summary
from analytics.errors import DataError
from analytics.quiet import quietly

MODELS: dict[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
}
"""Supported models and their parameter names."""

FALLBACK_PENALIZERS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)
"""Penalizers tried in turn when the requested fit fails or does not converge."""

BFGS_START = 0.1
"""Every log-parameter's starting value for BFGS (lifetimes' default)."""
BFGS_TOLERANCE = 1e-7
"""BFGS's tolerance on the gradient's largest component (lifetimes' default ``tol``)."""
HESSIAN_STEP = 1e-4
"""Step in the log-parameters of the central differences of the gradient that make the Hessian. Their error
is the truncation, about step^2 / 6 times the third derivative (measured 2e-9 of the largest entry), plus the
gradient's rounding over the step (about 1e-11), which matters in the entries of a nearly collapsed drop-out
(1e-5 on Online Retail); inverting multiplies both by the condition number. Measured against lifetimes'
exact Hessian (``autograd``): standard errors within 7e-8 relative on CDNOW and the synthetic retailer,
6e-7 on Online Retail's BG/NBD (condition number 1e5). A five-point rule would gain two digits there for
twice the gradients; a standard error is itself uncertain by about 1 / sqrt(2 n), percents."""


class ConvergenceError(RuntimeError):
    """An optimiser ended without a maximum; the fits record it and try the next optimiser or penalizer."""


def hessian_by_differences(nll_and_gradient: Callable, at: np.ndarray, args: tuple,
                           step: float = HESSIAN_STEP) -> np.ndarray:
    """Hessian of ``nll_and_gradient`` (f(x, *args) -> (value, gradient)) at ``at``: central differences of
    the analytic gradient, symmetrised."""
    def gradient(point: np.ndarray) -> np.ndarray:
        return nll_and_gradient(point, *args)[1]

    hessian = np.array([(gradient(at + step * e) - gradient(at - step * e)) / (2 * step)
                        for e in np.eye(len(at))])
    return (hessian + hessian.T) / 2


def fit_bfgs(nll_and_gradient: Callable, n_params: int, args: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The log-parameters minimising ``nll_and_gradient`` (a weighted mean negative log-likelihood on
    log-parameters, with its gradient) and the Hessian there: lifetimes' ``BaseFitter._fit`` with the
    analytic gradient in place of ``autograd``'s, i.e. unbounded BFGS from BFGS_START with BFGS_TOLERANCE.
    Raises ConvergenceError when BFGS reports failure (typically a maximum at the edge of the space, where
    the line search runs out of precision)."""
    # quietly: where it fails, SciPy's line search warns (LineSearchWarning) before BFGS gives up
    with quietly(), np.errstate(all="ignore"):
        result = minimize(nll_and_gradient, np.full(n_params, BFGS_START), args=args, jac=True, method="BFGS",
                          tol=BFGS_TOLERANCE)
    if not result.success:
        raise ConvergenceError(f"BFGS did not converge: {result.message}")
    with np.errstate(all="ignore"):
        return result.x, hessian_by_differences(nll_and_gradient, result.x, args)


def delta_standard_errors(params: np.ndarray, hessian: np.ndarray, total_weight: float) -> np.ndarray:
    """Standard errors of the parameters from the Hessian of the mean negative log-likelihood on their logs
    (delta method, as lifetimes' ``_compute_variance_matrix``); raises LinAlgError when it is singular."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(params ** 2 * np.diag(np.linalg.inv(hessian)) / total_weight)


def _tanh_sinh(step: float = 0.1, reach: float = 3.5) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of tanh-sinh quadrature on (0, 1), which copes with endpoint singularities."""
    s = np.arange(-reach, reach + step / 2, step)
    z = np.pi * np.sinh(s)
    return expit(z), step * np.pi * np.cosh(s) * expit(z) * expit(-z)


_TANH_SINH = _tanh_sinh()


def _dphi(y: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Derivative of phi(y) = (1 - (1 + y)^-k) / y, by its series where k y is small (cancellation)."""
    log1p_y = np.log1p(y)
    survival = np.exp(-k * log1p_y)
    with np.errstate(all="ignore"):
        out = (k * y * survival / (1 + y) + np.expm1(-k * log1p_y)) / (y * y)
    small = k * y < 1e-3
    if small.any():
        ys, ks = (np.broadcast_to(v, y.shape)[small] for v in (y, k))
        out[small] = -ks * (ks + 1) / 2 + ks * (ks + 1) * (ks + 2) / 3 * ys \
            - ks * (ks + 1) * (ks + 2) * (ks + 3) / 8 * ys**2
    return out


def _expected_if_alive(t, a: float, beta_b, shape, scale) -> np.ndarray:
    """E[(1 - exp(-lambda p t)) / p], lambda ~ Gamma(shape, scale), p ~ Beta(a, beta_b): expected purchases in
    the next t of an active BG/NBD customer (FHL 2005 eq. 7 integrated over the posterior).

    The closed form of the paper has a 2F1 whose third argument a + b + x - 1 hits poles (a + b near 0 or
    1), so the p-integral is done numerically, by parts against the Beta CDF:
    E[G] = G(1) - int_0^1 G'(p) F(p) dp with G(p) = (t / scale) phi(p t / scale), which is smooth for any
    a, b. Array arguments broadcast together.
    """
    arrays = np.broadcast_arrays(t, beta_b, shape, scale)
    t, beta_b, shape, scale = (np.ravel(v).astype(float) for v in arrays)
    nodes, weights = _TANH_SINH
    ratio = np.maximum(t, 0.0) / scale
    g_one = -np.expm1(-shape * np.log1p(ratio))
    y = nodes[:, None] * ratio[None, :]
    slope = ratio[None, :] ** 2 * _dphi(y, shape[None, :])
    # the Beta CDF depends on the customer only through b + x, which takes few distinct values
    distinct, which = np.unique(beta_b, return_inverse=True)
    cdf = betainc(a, distinct[None, :], nodes[:, None])[:, which]
    return g_one - (weights[:, None] * slope * cdf).sum(axis=0)


def json_number(value: float | None) -> float | None:
    """A float for JSON: None for missing, NaN or infinite values (strict JSON has no NaN)."""
    return float(value) if value is not None and math.isfinite(value) else None


def positive_params(params: Mapping[str, float], names: Sequence[str], what: str) -> dict[str, float]:
    """The named parameters as floats, or a DataError naming those missing or not positive (every model of
    this package is parameterised by positive numbers)."""
    missing = [n for n in names if n not in params]
    if missing:
        raise DataError(f"{what} parameters lack {', '.join(missing)}; expected {', '.join(names)}")
    values = {n: float(params[n]) for n in names}
    if not all(math.isfinite(v) and v > 0 for v in values.values()):
        raise DataError(f"{what} parameters must be positive numbers, got {values}")
    return values


def set_fit(model: Any, *, standard_errors: Mapping[str, float | None], log_likelihood: float | None,
            converged: bool, penalizer_used: float, fit_attempts: Sequence[Mapping[str, Any]], n_customers: int,
            n_patterns: int) -> None:
    """Set the fitted diagnostics every estimator here carries (after a fit, or from its ``ModelFit``)."""
    model.standard_errors_ = {k: float("nan") if v is None else float(v) for k, v in standard_errors.items()}
    model.log_likelihood_ = log_likelihood
    model.converged_ = converged
    model.penalizer_used_ = penalizer_used
    model.fit_attempts_ = [dict(a) for a in fit_attempts]
    model.n_customers_ = n_customers
    model.n_patterns_ = n_patterns


@dataclass(frozen=True)
class ModelFit:
    """How a fit went, as every estimator of this package records it: the parameters (in the model's time
    unit, or currency for spend), their standard errors (None where there are none), the unpenalised
    log-likelihood, the penalizer asked for and the one that converged, each try's penalizer, optimiser and
    outcome, and the customers and distinct patterns fitted on."""

    params: Mapping[str, float]
    standard_errors: Mapping[str, float | None]
    log_likelihood: float | None
    converged: bool
    penalizer_requested: float
    penalizer_used: float
    fit_attempts: tuple[Mapping[str, Any], ...]
    n_customers: int
    n_patterns: int

    @staticmethod
    def fields_of(model: Any) -> dict[str, Any]:
        """This record's fields read off a fitted estimator."""
        if not hasattr(model, "converged_"):
            raise DataError("only a fitted model has a fit record: call fit(summary) first")
        return {"params": dict(model.params_),
                "standard_errors": {k: json_number(v) for k, v in model.standard_errors_.items()},
                "log_likelihood": json_number(model.log_likelihood_), "converged": bool(model.converged_),
                "penalizer_requested": float(model.penalizer), "penalizer_used": float(model.penalizer_used_),
                "fit_attempts": tuple(dict(a) for a in model.fit_attempts_),
                "n_customers": int(model.n_customers_), "n_patterns": int(model.n_patterns_)}

    def restore(self, model: Any) -> Any:
        """``model`` (rebuilt from ``params``) with this fit's diagnostics set back on it."""
        model.penalizer = self.penalizer_requested
        set_fit(model, standard_errors=self.standard_errors, log_likelihood=self.log_likelihood,
                converged=self.converged, penalizer_used=self.penalizer_used, fit_attempts=self.fit_attempts,
                n_customers=self.n_customers, n_patterns=self.n_patterns)
        return model

    def summary(self) -> dict[str, Any]:
        """JSON-safe: parameters, standard errors, log-likelihood, convergence, penalizer, customers."""
        return {"params": dict(self.params), "standard_errors": dict(self.standard_errors),
                "log_likelihood": self.log_likelihood, "converged": self.converged,
                "penalizer_used": self.penalizer_used, "n_customers": self.n_customers}


@dataclass(frozen=True)
class PurchaseModelFit(ModelFit):
    """The fit of a purchase model (``model``: "bgnbd", "mbgnbd" or "pnbd"), made by ``record()``."""

    model: str

    @classmethod
    def of(cls, fitted: Any) -> "PurchaseModelFit":
        return cls(**ModelFit.fields_of(fitted), model=fitted.model)

    def summary(self) -> dict[str, Any]:
        return {"model": self.model, **super().summary()}


def _check_model(model: str) -> str:
    if model not in MODELS:
        raise DataError(f"purchase model {model!r} is not supported; expected one of {', '.join(MODELS)}")
    return model


def _arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_summary(summary, ("frequency", "recency", "T"))
    return (
        summary["frequency"].to_numpy(dtype=float),
        summary["recency"].to_numpy(dtype=float),
        summary["T"].to_numpy(dtype=float),
    )


def log_likelihood(model: str, params: dict[str, float], frequency, recency, T, weights=None) -> float:
    """Unpenalised log-likelihood of the data in its own time unit (comparable with published values).

    ``weights`` counts the customers behind each row when the rows are distinct patterns (default 1 each).
    """
    values = np.array([params[name] for name in MODELS[_check_model(model)]], dtype=float)
    x, t_x, age = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    mean_nll, _ = negative_log_likelihood_and_gradient(np.log(values), x, t_x, age, weights, 0.0, model)
    return float(-mean_nll * weights.sum())


def negative_log_likelihood_and_gradient(log_params, x, t_x, age, weights, penalizer: float, model: str = "bgnbd"):
    """lifetimes' weighted mean negative log-likelihood of ``model`` (FHL 2005 section 7; MBG/NBD: Batislam
    et al. 2007) on log-parameters with its penalty, and its gradient by the log-parameters, analytic:
    autograd's tracing cost several times the arithmetic on a few thousand patterns, at every step of every
    bounded fit and bootstrap refit."""
    r, alpha, a, b = params = np.exp(log_params)
    log_age, log_recency = np.log(alpha + age), np.log(alpha + t_x)
    if model == "mbgnbd":  # a drop-out chance at every purchase, the first included
        extra, chances, repeat = 1.0, b + x, np.ones(len(x), dtype=bool)
    else:
        extra, chances, repeat = 0.0, b + np.maximum(x, 1) - 1, x > 0
    late = a + b + x + extra
    alive = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * log_age
             + gammaln(a + b) + gammaln(b + x + extra) - gammaln(b) - gammaln(late))
    # log of P(dropped out after the last purchase) / P(alive at T), for the customers who can have
    dropped = np.log(a) - np.log(chances) + (r + x) * (log_age - log_recency)
    ll = alive + np.where(repeat, np.logaddexp(dropped, 0.0), 0.0)
    share = np.where(repeat, expit(dropped), 0.0)
    derivatives = np.stack([
        digamma(r + x) - digamma(r) + np.log(alpha) - log_age + share * (log_age - log_recency),
        r / alpha - (r + x) / (alpha + age) + share * (r + x) * (1 / (alpha + age) - 1 / (alpha + t_x)),
        digamma(a + b) - digamma(late) + share / a,
        digamma(a + b) + digamma(b + x + extra) - digamma(b) - digamma(late) - share / chances,
    ])
    total = weights.sum()
    value = float(-(weights * ll).sum() / total + penalizer * (params ** 2).sum())
    return value, -(derivatives @ weights) / total * params + 2 * penalizer * params ** 2


def _fit_bfgs(model: str, penalizer: float, x, t_x, age,
              weights) -> tuple[dict[str, float], dict[str, float]]:
    """lifetimes' fit without ``autograd`` (see ``fit_bfgs``), with the standard errors it reports (delta
    method); raises ConvergenceError when BFGS fails."""
    scale = 1.0 / float(age.max())
    weights = np.asarray(weights, dtype=float)
    log_params, hessian = fit_bfgs(negative_log_likelihood_and_gradient, 4,
                                   (x, t_x * scale, age * scale, weights, penalizer, model))
    values = np.exp(log_params)
    values[1] /= scale  # alpha back in the summary's time unit
    errors = delta_standard_errors(values, hessian, weights.sum())
    names = MODELS[model]
    return dict(zip(names, (float(v) for v in values))), dict(zip(names, (float(v) for v in errors)))


def _fit_bounded(model: str, penalizer: float, x, t_x, age,
                 weights) -> tuple[dict[str, float], dict[str, float]]:
    """Same likelihood, minimised by L-BFGS-B with log-parameters in [-30, 30].

    BFGS fails when the maximum is at the edge of the parameter space (typically a -> 0 or
    b -> infinity: almost nobody drops out, the model tends to the NBD); bounds let the search stop there.
    Standard errors are not reported for such fits (NaN): the Hessian is singular at the edge.
    """
    scale = 1.0 / float(age.max())
    args = (x, t_x * scale, age * scale, np.asarray(weights, dtype=float), penalizer)
    with quietly(), np.errstate(all="ignore"):
        result = minimize(negative_log_likelihood_and_gradient, np.full(4, 0.1), args=(*args, model), jac=True,
                          method="L-BFGS-B", bounds=[(-30.0, 30.0)] * 4)
    if not result.success:
        raise ConvergenceError(f"bounded L-BFGS-B did not converge: {result.message}")
    params = dict(zip(MODELS[model], (float(v) for v in np.exp(result.x))))
    params["alpha"] /= scale
    return params, {name: float("nan") for name in MODELS[model]}


_OPTIMISERS = {"BFGS": _fit_bfgs, "bounded L-BFGS-B": _fit_bounded}


class BetaGeoModel:
    """Repeat-purchase model per customer: BG/NBD by default, or ``model="mbgnbd"`` (Batislam et al. 2007).

    Fitted attributes: ``params_`` (dict r, alpha, a, b; alpha in the summary's time unit),
    ``standard_errors_`` (dict, delta method from the Hessian, see ``_fit_bfgs``), ``log_likelihood_``
    (unpenalised), ``converged_``, ``penalizer_used_`` (the requested penalizer, or the fallback that first
    converged), ``fit_attempts_`` (penalizer, optimiser and outcome of each try), ``n_customers_`` and
    ``n_patterns_`` (distinct (frequency, recency, T) rows the fit ran on, see ``analytics.clv.patterns``).
    Each penalizer is tried first with lifetimes' optimiser (BFGS, ``_fit_bfgs``), then with bounded L-BFGS-B
    on the same likelihood (see ``_fit_bounded``), before moving to the next larger penalizer;
    ``bounded_first`` the other way round, for a caller that needs no standard errors and fits data whose
    maximum may lie at the edge, where BFGS fails only after its full run.
    The penalizer adds ``penalizer * sum(params**2)`` to the mean negative log-likelihood, with time scaled
    so the oldest customer's T is 1 (lifetimes' convention).
    """

    def __init__(self, penalizer: float = 0.0, model: str = "bgnbd", bounded_first: bool = False) -> None:
        self.penalizer = penalizer
        self.model = model
        self.bounded_first = bounded_first

    def fit(self, summary: pd.DataFrame) -> "BetaGeoModel":
        """Fit on a summary with frequency, recency, T (see ``rfm_summary``); returns self."""
        _check_model(self.model)
        if not (isinstance(self.penalizer, (int, float)) and self.penalizer >= 0):
            raise DataError(f"penalizer must be a number >= 0, got {self.penalizer!r}")
        x, _, age = _arrays(summary)
        repeaters = int((x > 0).sum())
        if repeaters == 0 or age.max() <= 0:
            raise DataError(
                f"cannot fit {self.model}: {len(x)} customer(s) but {repeaters} with a repeat purchase and "
                f"longest observed age {age.max():g}; the model needs repeat purchases to learn from"
            )
        distinct = patterns(summary)
        px, pt_x, page = (distinct.table[c].to_numpy() for c in PURCHASE_COLUMNS)
        attempts: list[dict[str, Any]] = []
        penalizers = [float(self.penalizer)] + [p for p in FALLBACK_PENALIZERS if p > self.penalizer]
        optimisers = list(_OPTIMISERS.items())[::-1 if self.bounded_first else 1]
        for penalizer, (method, fit) in itertools.product(penalizers, optimisers):
            try:
                params, errors = fit(self.model, penalizer, px, pt_x, page, distinct.weights)
                ll = log_likelihood(self.model, params, px, pt_x, page, distinct.weights)
                if not (np.isfinite(list(params.values())).all() and np.isfinite(ll)):
                    raise ConvergenceError("non-finite parameters or log-likelihood")
            except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                attempts.append({"penalizer": penalizer, "method": method, "converged": False,
                                 "message": " ".join(str(exc).split())})
                continue
            attempts.append({"penalizer": penalizer, "method": method, "converged": True, "message": ""})
            self.params_ = params
            set_fit(self, standard_errors=errors, log_likelihood=ll, converged=True, penalizer_used=penalizer,
                    fit_attempts=attempts, n_customers=len(x), n_patterns=len(distinct.weights))
            return self
        raise DataError(
            f"{self.model} did not converge on {len(x)} customers ({repeaters} repeat buyers) with any "
            f"penalizer in {[a['penalizer'] for a in attempts]}: last error {attempts[-1]['message']!r}"
        )

    # -- rebuilding ------------------------------------------------------------------------------------------

    @classmethod
    def from_params(cls, params: dict[str, float], model: str = "bgnbd") -> "BetaGeoModel":
        """A model that predicts from ``params`` alone (e.g. read back from the results cache)."""
        self = cls(model=model)
        self.params_ = positive_params(params, MODELS[_check_model(model)], model)
        return self

    def record(self) -> PurchaseModelFit:
        """The typed record of the fit (parameters, diagnostics), enough for ``from_record``."""
        return PurchaseModelFit.of(self)

    @classmethod
    def from_record(cls, record: PurchaseModelFit) -> "BetaGeoModel":
        """The model of a record made by ``record``."""
        return record.restore(cls.from_params(record.params, model=record.model))

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise DataError("the purchase model is not fitted yet: call fit(summary) or from_params(params)")

    # -- predictions -----------------------------------------------------------------------------------------

    def expected_purchases(self, t: float, summary: pd.DataFrame, alive: np.ndarray | None = None) -> pd.Series:
        """Expected repeat purchases of each customer in (T, T + t]; ``t`` in the summary's unit.

        P(alive) times the expectation for an active customer, integrated numerically over the dropout
        probability (``_expected_if_alive``) because the paper's closed form breaks down for some parameters.
        ``alive``: ``p_alive(summary)`` when the caller has it (a horizon month by month needs it once).
        """
        x, _, age = _arrays(summary)
        p = self.params_
        # the integral depends on (x, T) only, which repeat far more than customers: once per distinct pair
        pairs = patterns(pd.DataFrame({"x": x, "age": age}), ("x", "age"))
        px, page, inverse = pairs.table["x"].to_numpy(), pairs.table["age"].to_numpy(), pairs.inverse
        # given activity at T, p ~ Beta(a, b + x) in BG/NBD; MBG/NBD also survived the first purchase
        beta_b = p["b"] + px + (1.0 if self.model == "mbgnbd" else 0.0)
        if_alive = _expected_if_alive(float(t), p["a"], beta_b, p["r"] + px, p["alpha"] + page)
        alive = self.p_alive(summary).to_numpy() if alive is None else alive
        values = alive * if_alive[np.ravel(inverse)]
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def expected_purchases_new(self, t) -> np.ndarray:
        """Expected repeat purchases in (0, t] of a new customer, first purchase at 0 (unconditional)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        p = self.params_
        if self.model == "mbgnbd":
            # MBG/NBD customers may drop out right at their first purchase (probability a / (a + b))
            alive, beta_b = p["b"] / (p["a"] + p["b"]), p["b"] + 1.0
        else:
            alive, beta_b = 1.0, p["b"]
        return alive * _expected_if_alive(t, p["a"], beta_b, p["r"], p["alpha"])

    def p_alive(self, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at T: lifetimes' ``conditional_probability_alive``
        of each model, ported (FHL's note 021 for BG/NBD, where a customer with no repeat purchase is alive;
        Batislam et al. 2007, appendix A eq. 5, for MBG/NBD, whose customers may drop out at the first)."""
        self._check_fitted()
        x, t_x, age = _arrays(summary)
        r, alpha, a, b = (self.params_[k] for k in MODELS[self.model])
        with np.errstate(all="ignore"):
            if self.model == "mbgnbd":
                values = 1.0 / (1 + (a / (b + x)) * ((alpha + age) / (alpha + t_x)) ** (r + x))
            else:
                chances = b + np.maximum(x, 1) - 1
                odds = (r + x) * np.log((alpha + age) / (alpha + t_x)) + np.log(a / chances)
                values = np.where(x == 0, 1.0, expit(-odds))
        return pd.Series(values, index=summary.index, name="p_alive")

    def p_no_purchase(self, t: float, summary: pd.DataFrame) -> pd.Series:
        """Probability that each customer makes no purchase in (T, T + t]; ``t`` in the summary's unit.

        A dead customer never buys. An active one buys at rate lambda, and given activity at T,
        lambda ~ Gamma(r + x, alpha + T). Dropout happens only right after a purchase, so
        P(none | active) = E[exp(-lambda t)] = ((alpha + T) / (alpha + T + t))^(r + x).
        """
        x, _, age = _arrays(summary)
        alive = self.p_alive(summary).to_numpy()
        p = self.params_
        scale = p["alpha"] + age
        none_if_alive = (scale / (scale + float(t))) ** (p["r"] + x)
        values = np.clip(1.0 - alive + alive * none_if_alive, 0.0, 1.0)
        return pd.Series(values, index=summary.index, name="p_no_purchase")

