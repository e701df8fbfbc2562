"""Pareto/NBD's analytic gradient, which its fits and bootstrap refits use."""

import numpy as np
from scipy.optimize import approx_fprime

from analytics.clv.pareto_nbd import negative_log_likelihood_and_gradient
from analytics.clv.patterns import patterns


def test_pareto_nbd_gradient_equals_finite_differences(hardie_summary):
    """Against central differences of the value, at parameters near the CDNOW optimum and far from it (time
    scaled as the fit scales it)."""
    found = patterns(hardie_summary.rename(columns={"x": "frequency", "t_x": "recency"}))
    x, t_x, age = (found.table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    scale = 1 / age.max()
    args = (x, t_x * scale, age * scale, found.weights.astype(float), 0.01)
    for log_params in ([np.log(0.55), np.log(10.6 * scale), np.log(0.61), np.log(11.7 * scale)],
                       [0.0, 0.0, 0.0, 0.0], [2.0, -3.0, -1.0, 4.0]):
        _, gradient = negative_log_likelihood_and_gradient(np.array(log_params), *args)
        numeric = approx_fprime(np.array(log_params), lambda p: negative_log_likelihood_and_gradient(p, *args)[0],
                                1e-7)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)
