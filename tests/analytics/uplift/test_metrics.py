"""Qini from scikit-uplift, checked by hand on a small worked example (Radcliffe 2007's definition)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.uplift import metrics


def test_qini_curve_by_hand():
    # ranked by score: T1 T0 C0 T1 C1 C0 T0 C1
    score = np.array([8, 7, 6, 5, 4, 3, 2, 1], float)
    treated = np.array([1, 1, 0, 1, 0, 0, 1, 0])
    responded = np.array([1, 0, 0, 1, 1, 0, 0, 1])
    # Q(k) = R_t(k) - R_c(k) N_t(k) / N_c(k)
    expected = [0, 1, 1, 1, 2, 2 - 1 * 3 / 2, 2 - 1 * 3 / 3, 2 - 1 * 4 / 3, 2 - 2 * 4 / 4]
    curve = metrics.qini_curve(responded, score, treated, points=9)
    np.testing.assert_allclose(curve["incremental_responders"], expected)


def test_qini_coefficient_ranks_perfect_above_random_above_reversed():
    rng = np.random.default_rng(0)
    n = 4_000
    effect = rng.random(n)
    treated = rng.random(n) < 0.5
    responded = rng.random(n) < 0.1 + 0.3 * effect * treated
    good = metrics.qini_coefficient(responded, effect, treated)
    noise = metrics.qini_coefficient(responded, rng.random(n), treated)
    bad = metrics.qini_coefficient(responded, -effect, treated)
    # normalised by the perfect ranking, which also sorts out the noise in who responds: far below 1
    assert good > 0.1 and abs(noise) < 0.05 and bad < -0.1
    assert metrics.uplift_at(responded, effect, treated, 0.3) == pytest.approx(0.3 * 0.85, abs=0.05)
    deciles = metrics.uplift_by_decile(responded, effect, treated)
    assert len(deciles) == 10 and deciles["uplift"].iloc[0] > deciles["uplift"].iloc[-1]
