"""Uplift evaluation: Qini curve, Qini coefficient, AUUC, uplift@k and uplift by decile, with bootstrap
intervals.

The curves and scores come from scikit-uplift (``sklift.metrics``), a maintained implementation of
Radcliffe's Qini (2007) and the uplift curve of Devriendt et al.; writing them again would only add
places to get the tie handling and the normalisation wrong. scikit-uplift 0.5 calls a scikit-learn
helper that is deprecated in 1.8 (removed in 1.10, hence the pin in requirements.txt); its warning is
silenced here and nowhere else.

Qini curve at k targeted customers: ``Q(k) = R_t(k) - R_c(k) * N_t(k) / N_c(k)`` - responders among the
treated in the top k minus the control responders scaled to the treated count: incremental responders.
The Qini coefficient is the area between the curve and random targeting divided by that of the perfect
ranking (``qini_auc_score``); 0 is random, 1 perfect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.quiet import quietly

N_BOOTSTRAP = 200
CONFIDENCE = 0.95


def _quiet():
    return quietly(".*stable_cumsum.*", ".*inplace keyword in DataFrame.set_index.*")


def qini_curve(responded: np.ndarray, score: np.ndarray, treated: np.ndarray, points: int = 101) -> pd.DataFrame:
    """``targeted_fraction`` and ``incremental_responders`` (Qini curve) at ``points`` evenly spaced
    fractions of the customers, interpolated between sklift's thresholds."""
    from sklift.metrics import qini_curve as curve

    with _quiet():
        x, y = curve(np.asarray(responded, int), np.asarray(score, float), np.asarray(treated, int))
    fractions = np.linspace(0, 1, points)
    return pd.DataFrame({"targeted_fraction": fractions,
                         "incremental_responders": np.interp(fractions * len(score), x, y)})


def qini_coefficient(responded, score, treated) -> float:
    from sklift.metrics import qini_auc_score

    with _quiet():
        return float(qini_auc_score(np.asarray(responded, int), np.asarray(score, float), np.asarray(treated, int)))


def auuc(responded, score, treated) -> float:
    """Area under the uplift curve, normalised like the Qini coefficient (random 0, perfect 1)."""
    from sklift.metrics import uplift_auc_score

    with _quiet():
        return float(uplift_auc_score(np.asarray(responded, int), np.asarray(score, float), np.asarray(treated, int)))


def uplift_at(responded, score, treated, fraction: float) -> float:
    """Response rate of the treated minus the control in the top ``fraction`` by score."""
    from sklift.metrics import uplift_at_k

    with _quiet():
        return float(uplift_at_k(np.asarray(responded, int), np.asarray(score, float), np.asarray(treated, int),
                                 strategy="overall", k=fraction))


def uplift_by_decile(responded, score, treated, bins: int = 10) -> pd.DataFrame:
    """Per decile of the score (1 = highest): customers per arm, response rates, uplift and its standard
    error."""
    from sklift.metrics import uplift_by_percentile

    with _quiet():
        table = uplift_by_percentile(np.asarray(responded, int), np.asarray(score, float),
                                     np.asarray(treated, int), strategy="overall", bins=bins, std=True)
    table = table.reset_index(drop=True)
    return pd.DataFrame({
        "decile": np.arange(1, len(table) + 1),
        "n_treatment": table["n_treatment"].to_numpy(), "n_control": table["n_control"].to_numpy(),
        "rate_treatment": table["response_rate_treatment"].to_numpy(),
        "rate_control": table["response_rate_control"].to_numpy(),
        "uplift": table["uplift"].to_numpy(), "uplift_se": table["std_uplift"].to_numpy(),
    })


@dataclass(frozen=True)
class Interval:
    estimate: float
    ci_low: float
    ci_high: float

    @property
    def excludes_zero(self) -> bool:
        return bool(self.ci_low > 0 or self.ci_high < 0)

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high}


def bootstrap(statistic: Callable[[np.ndarray], float], treated: np.ndarray, n: int = N_BOOTSTRAP,
              seed: int = 0) -> tuple[np.ndarray, float]:
    """``statistic(rows)`` on ``n`` resamples drawn within each arm (the arms keep their sizes), and on
    all rows. Returns (draws, estimate)."""
    rng = np.random.default_rng(seed)
    arms = [np.flatnonzero(treated), np.flatnonzero(~np.asarray(treated, bool))]
    draws = np.array([statistic(np.concatenate([rng.choice(a, len(a)) for a in arms])) for _ in range(n)])
    return draws, statistic(np.arange(len(treated)))


def percentile_interval(draws: np.ndarray, estimate: float) -> Interval:
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.nanquantile(draws, [alpha, 1 - alpha])
    return Interval(float(estimate), float(low), float(high))
