"""Gamma-Gamma model of spend per purchase (Fader & Hardie 2013), fitted by SciPy's BFGS on the project's own
likelihood with its analytic gradient.

Fitted on repeat buyers only (frequency > 0): ``monetary_value`` in the summary is the mean value of the
repeat purchases, currency units. The model assumes spend per purchase is independent of purchase frequency;
the Pearson correlation between the two among the repeat buyers is reported so that the assumption can be
judged. Parameters are kept as a plain dict (``from_params`` rebuilds the model).

The fit is ``lifetimes``' ``GammaGammaFitter`` minus ``autograd`` (see ``analytics.clv.bgnbd`` for why:
``lifetimes`` is archived, and ``autograd``'s traced gradients cost several times the arithmetic; on Online
Retail a fit took 0.05 CPU s with it and 0.02 without): the same
objective (weighted mean negative log-likelihood of Fader & Hardie's note 025 plus the penalty, on
log-parameters), the same BFGS, start and tolerance, with the analytic gradient; standard errors from the
Hessian by central differences of that gradient where ``lifetimes`` used ``autograd``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from analytics.clv.bgnbd import (
    FALLBACK_PENALIZERS,
    ConvergenceError,
    ModelFit,
    delta_standard_errors,
    fit_bfgs,
    json_number,
    positive_params,
    set_fit,
)
from analytics.clv.patterns import SPEND_COLUMNS, patterns
from analytics.clv.summary import check_summary
from analytics.errors import DataError

PARAMS = ("p", "q", "v")
MIN_REPEAT_BUYERS = 2


def negative_log_likelihood_and_gradient(log_params, x, m, weights, penalizer: float):
    """lifetimes' weighted mean negative log-likelihood of the repeat buyers' mean spend ``m`` over ``x``
    repeat purchases (Fader & Hardie's note 025, eq. 1a) on log-parameters with its penalty, and its gradient
    by the log-parameters, analytic."""
    p, q, v = params = np.exp(log_params)
    px, log_total = p * x, np.log(x * m + v)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m) + px * np.log(x)
          - (px + q) * log_total)
    shared = digamma(px + q)
    derivatives = np.stack([x * (shared - digamma(px) + np.log(m) + np.log(x) - log_total),
                            shared - digamma(q) + np.log(v) - log_total,
                            q / v - (px + q) / (x * m + v)])
    total = weights.sum()
    value = float(-(weights * ll).sum() / total + penalizer * (params ** 2).sum())
    return value, -(derivatives @ weights) / total * params + 2 * penalizer * params ** 2


def _log_likelihood(params: dict[str, float], frequency: np.ndarray, monetary: np.ndarray,
                    weights: np.ndarray) -> float:
    """Unpenalised log-likelihood of the repeat buyers' mean spend (``weights`` customers per row)."""
    log_params = np.log([params[name] for name in PARAMS])
    weights = np.asarray(weights, dtype=float)
    with np.errstate(all="ignore"):
        mean_nll, _ = negative_log_likelihood_and_gradient(log_params, frequency, monetary, weights, 0.0)
    return float(-mean_nll * weights.sum())


@dataclass(frozen=True)
class SpendModelFit(ModelFit):
    """The Gamma-Gamma fit (params p, q, v; v in currency), made by ``GammaGammaModel.record``: beyond the fit,
    the repeat buyers left out for spend <= 0, the frequency/spend correlation among those fitted (the
    model assumes none; None when undefined) and the population's mean spend per purchase (currency)."""

    n_excluded: int
    frequency_spend_correlation: float | None
    population_mean: float

    @classmethod
    def of(cls, fitted: "GammaGammaModel") -> "SpendModelFit":
        return cls(**ModelFit.fields_of(fitted), n_excluded=int(fitted.n_excluded_),
                   frequency_spend_correlation=json_number(fitted.frequency_spend_correlation_),
                   population_mean=float(fitted.population_mean_))

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "n_excluded": self.n_excluded,
                "frequency_spend_correlation": self.frequency_spend_correlation,
                "population_mean": self.population_mean}


class GammaGammaModel:
    """Expected spend per purchase, shrinking each repeat buyer's mean spend towards the population mean.

    Fitted attributes: ``params_`` (dict p, q, v; v in currency units), ``standard_errors_``,
    ``log_likelihood_`` (unpenalised), ``converged_``, ``penalizer_used_``, ``fit_attempts_``,
    ``n_customers_`` (repeat buyers used), ``n_patterns_`` (distinct (frequency, monetary_value) pairs
    the fit ran on, see ``analytics.clv.patterns``), ``n_excluded_`` (repeat buyers left out because their mean
    spend is not positive), ``frequency_spend_correlation_`` (Pearson r of frequency and monetary_value
    among the repeat buyers used) and ``population_mean_`` (expected spend of a customer with no repeat
    purchase, v p / (q - 1)).
    """

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> "GammaGammaModel":
        """Fit on the repeat buyers of a summary with frequency and monetary_value; returns self."""
        check_summary(summary, ("frequency", "monetary_value"))
        if not (isinstance(self.penalizer, (int, float)) and self.penalizer >= 0):
            raise DataError(f"penalizer must be a number >= 0, got {self.penalizer!r}")
        repeat = summary[summary["frequency"] > 0]
        usable = repeat[repeat["monetary_value"] > 0]
        if len(usable) < MIN_REPEAT_BUYERS:
            raise DataError(
                f"Gamma-Gamma needs at least {MIN_REPEAT_BUYERS} repeat buyers with positive spend; found "
                f"{len(usable)} of {len(summary)} customers"
            )
        x = usable["frequency"].to_numpy(dtype=float)
        m = usable["monetary_value"].to_numpy(dtype=float)
        # fitted on distinct (frequency, mean spend) pairs with weights: the same likelihood, fewer rows
        distinct = patterns(usable, SPEND_COLUMNS)
        px, pm = (distinct.table[c].to_numpy() for c in SPEND_COLUMNS)
        weights = distinct.weights.astype(float)
        attempts: list[dict[str, Any]] = []
        for penalizer in [float(self.penalizer)] + [p for p in FALLBACK_PENALIZERS if p > self.penalizer]:
            try:
                log_params, hessian = fit_bfgs(negative_log_likelihood_and_gradient, 3,
                                               (px, pm, weights, penalizer))
                values = np.exp(log_params)
                params = dict(zip(PARAMS, (float(v) for v in values)))
                errors = dict(zip(PARAMS, (float(v) for v in delta_standard_errors(values, hessian,
                                                                                   weights.sum()))))
                ll = _log_likelihood(params, px, pm, weights)
                if not (np.isfinite(list(params.values())).all() and np.isfinite(ll)):
                    raise ConvergenceError("non-finite parameters or log-likelihood")
                if params["q"] <= 1:
                    # the population mean spend v p / (q - 1) would be infinite
                    raise ConvergenceError(f"q = {params['q']:.3g} <= 1: mean spend is not finite")
            except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
                attempts.append({"penalizer": penalizer, "converged": False, "message": str(exc).strip()})
                continue
            attempts.append({"penalizer": penalizer, "converged": True, "message": ""})
            self._set_params(params)
            set_fit(self, standard_errors=errors,
                    log_likelihood=ll, converged=True, penalizer_used=penalizer, fit_attempts=attempts,
                    n_customers=len(usable), n_patterns=len(distinct.weights))
            self.n_excluded_ = len(repeat) - len(usable)
            self.frequency_spend_correlation_ = (
                float(np.corrcoef(x, m)[0, 1]) if x.std() > 0 and m.std() > 0 else float("nan")
            )
            return self
        raise DataError(
            f"Gamma-Gamma did not converge on {len(usable)} repeat buyers with any penalizer in "
            f"{[a['penalizer'] for a in attempts]}: last error {attempts[-1]['message']!r}"
        )

    @classmethod
    def from_params(cls, params: dict[str, float]) -> "GammaGammaModel":
        """A model that predicts from ``params`` alone (p, q, v)."""
        values = positive_params(params, PARAMS, "Gamma-Gamma")
        if values["q"] <= 1:
            raise DataError(f"Gamma-Gamma parameters need q > 1 (a finite mean spend), got {values}")
        self = cls()
        self._set_params(values)
        return self

    def _set_params(self, params: dict[str, float]) -> None:
        self.params_ = params
        p, q, v = (params[k] for k in PARAMS)
        self.population_mean_ = v * p / (q - 1)

    def record(self) -> SpendModelFit:
        """The typed record of the fit, enough for ``from_record``."""
        return SpendModelFit.of(self)

    @classmethod
    def from_record(cls, record: SpendModelFit) -> "GammaGammaModel":
        """The model of a record made by ``record``."""
        self = record.restore(cls.from_params(record.params))
        self.n_excluded_ = record.n_excluded
        correlation = record.frequency_spend_correlation
        self.frequency_spend_correlation_ = float("nan") if correlation is None else correlation
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise DataError("the spend model is not fitted yet: call fit(summary) or from_params(params)")

    def expected_spend(self, summary: pd.DataFrame) -> pd.Series:
        """Expected spend per purchase of each customer (currency units, before margin).

        Repeat buyers: p x / (p x + q - 1) * their mean spend + the rest * population mean (Fader & Hardie's
        eq. 5). Customers with no repeat purchase, or a non-positive mean spend, get the population mean.
        """
        self._check_fitted()
        check_summary(summary, ("frequency", "monetary_value"))
        p, q, _ = (self.params_[k] for k in PARAMS)
        x = summary["frequency"].to_numpy(dtype=float)
        m = summary["monetary_value"].to_numpy(dtype=float)
        informative = (x > 0) & (m > 0)
        weight = np.where(informative, p * x / (p * x + q - 1), 0.0)
        values = (1 - weight) * self.population_mean_ + weight * np.where(informative, m, 0.0)
        return pd.Series(values, index=summary.index, name="expected_spend")
