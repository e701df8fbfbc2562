"""Intervals simulated once per purchase pattern agree with a simulation of every customer on the synthetic log."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from analytics.cleaning import clean
from analytics.clv import BetaGeoModel, intervals
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.patterns import patterns
from analytics.clv.summary import rfm_summary
from analytics.datasets import load_dataset
from analytics.invoices import invoice_table

HORIZON_DAYS = 365.0
SEEDS = range(5)


@pytest.fixture(scope="module")
def fitted():
    cleaned = clean(load_dataset("synthetic"))
    summary = rfm_summary(invoice_table(cleaned.lines), cleaned.as_of, unit="D")
    model = BetaGeoModel().fit(summary)
    fits = intervals.bootstrap_fits(model, summary, n_fits=4)
    per_unit = np.random.default_rng(5).uniform(0.2, 0.4, len(summary))  # a margin-and-discount per customer
    return summary, fits, GammaGammaModel().fit(summary), per_unit


def every_customer(summary, fits, gg, per_unit, seed):
    """Equity draws and clv_high from every customer's own draws (the simulation before patterns)."""
    rng = np.random.default_rng(seed)
    scale, frequency = intervals.spend_scale(gg, summary)
    counts = np.hstack([intervals.simulate_counts(f, summary, HORIZON_DAYS, intervals.DRAWS_PER_FIT, rng)
                        for f in fits])
    value = intervals.simulate_unit_value(gg, frequency, counts, rng) * (scale * per_unit)[:, None]
    return value.sum(axis=0), intervals.shortest_interval(value)[1]


def test_customers_of_one_pattern_share_its_intervals_scaled_by_their_spend(fitted):
    summary, fits, gg, per_unit = fitted
    simulated = intervals.simulate_intervals(fits, summary, HORIZON_DAYS, gg=gg, value_per_unit=per_unit)
    table = simulated.table.join(summary)
    scale, _ = intervals.spend_scale(gg, summary)
    table["unit_high"] = table["clv_high"] / (scale * per_unit)
    shared = table.groupby(["frequency", "recency", "T"]).filter(lambda group: len(group) > 1)
    assert len(shared) > len(table) / 3  # many customers share a pattern on a day grid
    spread = shared.groupby(["frequency", "recency", "T"])[["purchases_low", "purchases_high", "unit_high"]].nunique()
    assert (spread["purchases_low"] == 1).all() and (spread["purchases_high"] == 1).all()
    assert np.allclose(shared.groupby(["frequency", "recency", "T", "monetary_value"])["unit_high"].std().fillna(0), 0)


def test_equity_and_intervals_match_a_simulation_of_every_customer(fitted):
    base, fits, gg, base_per_unit = fitted
    # every pattern shared by ten customers (of different spend), and the parameters held at one fit, so that
    # the total's spread is the customers' own randomness only: what standing for many with one draw affects
    fits = [fits[0]] * len(fits)
    summary = pd.concat([base] * 10, ignore_index=True)
    per_unit = np.random.default_rng(6).permutation(np.tile(base_per_unit, 10))
    by_pattern = [intervals.simulate_intervals(fits, summary, HORIZON_DAYS, gg=gg, value_per_unit=per_unit,
                                               seed=seed) for seed in SEEDS]
    by_customer = [every_customer(summary, fits, gg, per_unit, seed) for seed in SEEDS]
    pattern_draws = np.concatenate([s.equity_draws for s in by_pattern])
    customer_draws = np.concatenate([draws for draws, _ in by_customer])
    # the same total and the same spread: a pattern's shared draw stands for independent customers
    assert pattern_draws.mean() == pytest.approx(customer_draws.mean(), rel=0.01)
    assert pattern_draws.std() / customer_draws.std() == pytest.approx(1, abs=0.15)
    assert by_pattern[0].table["clv_high"].mean() == pytest.approx(by_customer[0][1].mean(), rel=0.02)


def test_bootstrap_refits_are_the_maxima_of_their_resamples(fitted):
    """Each refit maximises its resample's likelihood as tightly as L-BFGS-B run to its precision does
    (the resamples drawn as ``bootstrap_fits`` draws them: seed 0, multinomial weights on the patterns)."""
    summary, fits, _, _ = fitted
    found = patterns(summary)
    x, t_x, age = (found.table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    scale = 1 / age.max()
    resamples = np.random.default_rng(0).multinomial(found.weights.sum(), found.weights / found.weights.sum(),
                                                     len(fits) - 1)
    nll = intervals._likelihood(fits[0])
    for fit, w in zip(fits[1:], resamples):
        keep = w > 0
        args = (x[keep], t_x[keep] * scale, age[keep] * scale, w[keep].astype(float), 0.0)
        found_at = np.log([fit.params_[k] * (scale if k == "alpha" else 1) for k in ("r", "alpha", "a", "b")])
        tight = minimize(nll, found_at + 0.05, args=args, jac=True, method="L-BFGS-B",
                         options={"ftol": 1e-14, "gtol": 1e-10})
        np.testing.assert_allclose(found_at, tight.x, atol=1e-5)
        assert nll(found_at, *args)[0] <= tight.fun + 1e-12
