"""BG/NBD and MBG/NBD: the published CDNOW fit, predictions against closed forms and simulation, recovery,
the fallback chain and rebuilding from parameters."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter
from autograd import value_and_grad
from scipy import integrate
from scipy.special import beta as beta_function

from analytics.clv import BetaGeoModel, rfm_summary
from analytics.clv import bgnbd as bgnbd_module
from analytics.clv.bgnbd import ConvergenceError
from analytics.clv.patterns import patterns
from analytics.errors import DataError
from tests.analytics.clv.simulation import simulate

FHL_2005 = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PARAMS = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_split):
    return BetaGeoModel().fit(cdnow_split)


def test_reproduces_fader_hardie_lee_2005(cdnow_fit):
    """CDNOW 1/10 sample, weeks, calibration 1997-01-01..1997-09-30, 2,357 customers (FHL 2005, section 5)."""
    assert cdnow_fit.n_customers_ == 2357
    for name, published in FHL_2005.items():
        assert cdnow_fit.params_[name] == pytest.approx(published, rel=0.01), name
    assert cdnow_fit.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert cdnow_fit.converged_ and cdnow_fit.penalizer_used_ == 0.0
    assert all(np.isfinite(v) and v > 0 for v in cdnow_fit.standard_errors_.values())


def _quad_expected(t, x, T, params, extra_survival=0):
    """E[(1 - exp(-lambda p t)) / p] by adaptive quadrature against the Beta(a, b + x) density."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    shape, scale, b_post = r + x, alpha + T, b + x + extra_survival

    def g(p):
        return -np.expm1(-shape * np.log1p(p * t / scale)) / p if p > 0 else shape * t / scale

    value, _ = integrate.quad(g, 0, 1, weight="alg", wvar=(a - 1, b_post - 1), limit=200)
    return value / beta_function(a, b_post)


@pytest.mark.parametrize("model, fitter", [("bgnbd", BetaGeoFitter), ("mbgnbd", ModifiedBetaGeoFitter)])
def test_expected_purchases_match_the_closed_form(cdnow_split, model, fitter):
    """Where lifetimes' hypergeometric closed form is well behaved, the numerical integral agrees with it."""
    ours = BetaGeoModel.from_params(CDNOW_PARAMS, model=model)
    theirs = fitter()
    theirs.params_ = pd.Series(CDNOW_PARAMS)
    x, t_x, T = (cdnow_split[c].to_numpy() for c in ("frequency", "recency", "T"))
    for t in (0.5, 39.0, 200.0):
        expected = theirs.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(ours.expected_purchases(t, cdnow_split), expected, rtol=1e-7)
    times = np.array([0.0, 1.0, 39.0, 78.0])
    unconditional = theirs.expected_number_of_purchases_up_to_time(times)
    np.testing.assert_allclose(ours.expected_purchases_new(times), unconditional, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(
    "a, b",
    [(0.5, 0.5), (0.3, 0.7000001), (1e-6, 1e-4), (1e-4, 800.0)],  # a + b = 1 and a + b -> 0 break 2F1 poles
)
def test_expected_purchases_are_right_where_the_closed_form_breaks(a, b):
    params = {"r": 0.7, "alpha": 60.0, "a": a, "b": b}
    summary = pd.DataFrame({"frequency": [0, 1, 3, 40], "recency": [0.0, 20.0, 100.0, 300.0],
                            "T": [10.0, 150.0, 200.0, 310.0]})
    model = BetaGeoModel.from_params(params)
    ours = model.expected_purchases(90.0, summary).to_numpy()
    alive = model.p_alive(summary).to_numpy()
    reference = [alive[i] * _quad_expected(90.0, row.frequency, row.T, params)
                 for i, row in enumerate(summary.itertuples())]
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, reference, rtol=1e-6)


SIM_PARAMS = {"r": 0.6, "alpha": 8.0, "a": 0.7, "b": 2.0}


@pytest.fixture(scope="module", params=["bgnbd", "mbgnbd"])
def simulated(request):
    """40,000 simulated customers observed for 20-50 weeks, then followed for 26 more."""
    T = np.random.default_rng(1).uniform(20, 50, 40_000)
    return request.param, simulate(SIM_PARAMS, T, horizon=26.0, seed=2, model=request.param)


def _groups(frequency):
    return pd.cut(frequency, [-1, 0, 1, 3, 7, np.inf], labels=["0", "1", "2-3", "4-7", "8+"])


def test_predictions_match_monte_carlo(simulated):
    """With the true parameters, P(alive), P(no purchase in the next 26 weeks) and expected purchases agree
    with what the simulated customers did, overall and by calibration frequency (4.5 standard errors)."""
    model_name, pop = simulated
    summary = pop.summary()
    model = BetaGeoModel.from_params(SIM_PARAMS, model=model_name)
    frame = pd.DataFrame({
        "group": _groups(pop.frequency),
        "p_alive": model.p_alive(summary).to_numpy(), "alive": pop.alive.astype(float),
        "p_none": model.p_no_purchase(26.0, summary).to_numpy(), "none": (pop.future == 0).astype(float),
        "expected": model.expected_purchases(26.0, summary).to_numpy(), "future": pop.future.astype(float),
    })
    for _, g in [("all", frame)] + list(frame.groupby("group", observed=True)):
        n = len(g)
        for predicted, actual in (("p_alive", "alive"), ("p_none", "none"), ("expected", "future")):
            se = max(g[actual].std(ddof=1), 0.05) / np.sqrt(n)
            assert abs(g[predicted].mean() - g[actual].mean()) < 4.5 * se, (model_name, predicted, n)


def test_p_no_purchase_limits(cdnow_split):
    model = BetaGeoModel.from_params(CDNOW_PARAMS)
    assert (model.p_no_purchase(0.0, cdnow_split) == 1.0).all()
    # the living buy eventually, though slowly: the purchase rates' Gamma(r = 0.24) has much mass near 0
    far = model.p_no_purchase(1e40, cdnow_split)
    np.testing.assert_allclose(far, 1 - model.p_alive(cdnow_split), atol=1e-3)
    shorter, longer = model.p_no_purchase(4.0, cdnow_split), model.p_no_purchase(52.0, cdnow_split)
    assert (longer <= shorter).all()


@pytest.mark.parametrize("model_name", ["bgnbd", "mbgnbd"])
def test_recovers_simulated_parameters(model_name):
    """20,000 customers from known parameters: each estimate within 3 standard errors of the truth."""
    T = np.random.default_rng(5).uniform(30, 80, 20_000)
    pop = simulate(SIM_PARAMS, T, horizon=0.0, seed=6, model=model_name)
    fit = BetaGeoModel(model=model_name).fit(pop.summary())
    for name, truth in SIM_PARAMS.items():
        assert abs(fit.params_[name] - truth) < 3 * fit.standard_errors_[name], (name, fit.params_)
        assert fit.params_[name] == pytest.approx(truth, rel=0.2), name


def test_recovers_the_synthetic_retailer():
    """The synthetic retailer (analytics.synthetic), loaded, cleaned and summarised in days like any upload:
    r, alpha, a, b within 3 standard errors of SYNTHETIC_TRUTH."""
    from analytics import cleaning
    from analytics.datasets import load_dataset
    from analytics.synthetic import SYNTHETIC_TRUTH

    cleaned = cleaning.clean(load_dataset("synthetic", n_rows=100_000, seed=1))
    fit = BetaGeoModel().fit(rfm_summary(cleaned.lines, cleaned.as_of, unit="D"))
    for name, truth in SYNTHETIC_TRUTH["bgnbd"].items():
        assert abs(fit.params_[name] - truth) < 3 * fit.standard_errors_[name], (name, fit.params_)


def test_round_trip_through_params_and_the_fit_record(cdnow_fit, cdnow_split):
    rebuilt = BetaGeoModel.from_params(cdnow_fit.params_)
    record = cdnow_fit.record()
    restored = BetaGeoModel.from_record(record)
    for other in (rebuilt, restored):
        for method in ("p_alive", "p_no_purchase", "expected_purchases"):
            args = () if method == "p_alive" else (13.0,)
            pd.testing.assert_series_equal(getattr(other, method)(*args, cdnow_split),
                                           getattr(cdnow_fit, method)(*args, cdnow_split))
    assert restored.record() == record
    assert record.model == "bgnbd" and record.converged and record.n_customers == len(cdnow_split)
    summary = json.loads(json.dumps(record.summary(), allow_nan=False))
    assert summary["params"] == pytest.approx(cdnow_fit.params_) and summary["n_customers"] == len(cdnow_split)
    with pytest.raises(DataError, match="only a fitted model has a fit record"):
        rebuilt.record()


def test_missing_standard_errors_survive_strict_json(cdnow_fit):
    """Edge-of-space fits have no standard errors (NaN): None in the record and its summary, NaN back."""
    record = replace(cdnow_fit.record(), standard_errors=dict.fromkeys(CDNOW_PARAMS))
    assert json.loads(json.dumps(record.summary(), allow_nan=False))["standard_errors"]["a"] is None
    assert np.isnan(BetaGeoModel.from_record(record).standard_errors_["a"])


def test_fallback_tries_the_bounded_optimiser_then_larger_penalizers(monkeypatch, cdnow_split):
    real = dict(bgnbd_module._OPTIMISERS)

    def failing(model, penalizer, *args):
        raise ConvergenceError("forced failure")

    def succeed_when_penalised(model, penalizer, *args):
        if penalizer < 0.01:
            raise ConvergenceError("forced failure")
        return real["BFGS"](model, penalizer, *args)

    monkeypatch.setitem(bgnbd_module._OPTIMISERS, "BFGS", succeed_when_penalised)
    monkeypatch.setitem(bgnbd_module._OPTIMISERS, "bounded L-BFGS-B", failing)
    fit = BetaGeoModel().fit(cdnow_split)
    assert fit.penalizer_used_ == 0.01 and fit.converged_
    assert [(a["penalizer"], a["converged"]) for a in fit.fit_attempts_] == [
        (0.0, False), (0.0, False), (0.001, False), (0.001, False), (0.01, True)]
    # the penalised likelihood is lower than the unpenalised maximum, and reported unpenalised
    assert fit.log_likelihood_ < -9582.4

    monkeypatch.setitem(bgnbd_module._OPTIMISERS, "BFGS", failing)
    with pytest.raises(DataError, match="did not converge"):
        BetaGeoModel().fit(cdnow_split)


def test_bounded_optimiser_finds_the_same_maximum(cdnow_split):
    x, t_x, T = (cdnow_split[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    params, _ = bgnbd_module._fit_bounded("bgnbd", 0.0, x, t_x, T, np.ones_like(x))
    for name, value in CDNOW_PARAMS.items():
        assert params[name] == pytest.approx(value, rel=1e-3), name


def test_bounded_first_fits_once_with_the_bounded_optimiser_and_agrees(cdnow_fit, cdnow_split):
    bounded = BetaGeoModel(bounded_first=True).fit(cdnow_split)
    assert [(a["method"], a["converged"]) for a in bounded.fit_attempts_] == [("bounded L-BFGS-B", True)]
    for name, value in cdnow_fit.params_.items():
        assert bounded.params_[name] == pytest.approx(value, rel=1e-3), name


@pytest.mark.parametrize("model, fitter", [("bgnbd", BetaGeoFitter), ("mbgnbd", ModifiedBetaGeoFitter)])
def test_fit_on_weighted_patterns_equals_the_fit_on_every_customer(cdnow_split, model, fitter):
    """The fit runs on distinct (frequency, recency, T) rows with weights; lifetimes on all 2,357 rows
    must land on the same maximum, with the same standard errors and log-likelihood."""
    ours = BetaGeoModel(model=model).fit(cdnow_split)
    assert ours.n_customers_ == 2357 and ours.n_patterns_ < 2357 / 2
    x, t_x, T = (cdnow_split[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    every = fitter().fit(x, t_x, T)
    for name in ("r", "alpha", "a", "b"):
        assert ours.params_[name] == pytest.approx(every.params_[name], rel=1e-6), name
        assert ours.standard_errors_[name] == pytest.approx(every.standard_errors_[name], rel=1e-4), name
    assert ours.log_likelihood_ == pytest.approx(bgnbd_module.log_likelihood(model, ours.params_, x, t_x, T),
                                                 rel=1e-12)


def test_no_dropout_data_still_fit_and_predict():
    """Customers who never drop out push the MLE to the edge (a -> 0 or b -> infinity); the fit must
    still end, converged, with finite predictions."""
    T = np.random.default_rng(7).uniform(30, 300, 3000)
    pop = simulate({"r": 0.8, "alpha": 60.0, "a": 1e-3, "b": 1e4}, T, horizon=0.0, seed=8)
    summary = pop.summary()
    fit = BetaGeoModel().fit(summary)
    assert fit.converged_
    assert fit.params_["a"] / (fit.params_["a"] + fit.params_["b"]) < 0.01  # mean dropout probability
    for values in (fit.expected_purchases(365.0, summary), fit.p_alive(summary),
                   fit.p_no_purchase(365.0, summary)):
        assert np.isfinite(values).all()


@pytest.mark.parametrize(
    "summary, message",
    [
        (pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [5.0, 6.0]}), "repeat purchase"),
        (pd.DataFrame({"frequency": [1, 0], "recency": [7.0, 0.0], "T": [5.0, 6.0]}), "greater than T"),
        (pd.DataFrame({"frequency": [1, 0], "recency": [2.0, 0.0]}), "lacks column"),
        (pd.DataFrame({"frequency": [1.5, 0], "recency": [2.0, 0.0], "T": [5.0, 6.0]}), "whole number"),
        (pd.DataFrame({"frequency": [1, 0], "recency": [np.nan, 0.0], "T": [5.0, 6.0]}), "not finite"),
    ],
)
def test_bad_summaries_raise_data_error(summary, message):
    with pytest.raises(DataError, match=message):
        BetaGeoModel().fit(summary)


def test_bad_settings_raise_data_error(cdnow_split):
    with pytest.raises(DataError, match="not supported"):
        BetaGeoModel(model="pareto").fit(cdnow_split)
    with pytest.raises(DataError, match="penalizer"):
        BetaGeoModel(penalizer=-1).fit(cdnow_split)
    with pytest.raises(DataError, match="not fitted"):
        BetaGeoModel().p_alive(cdnow_split)
    with pytest.raises(DataError, match="lack"):
        BetaGeoModel.from_params({"r": 1.0, "alpha": 2.0})


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
def test_analytic_gradient_equals_autograd_of_the_lifetimes_likelihood(cdnow_split, model):
    """The bounded fits and bootstrap refits use the analytic likelihood and gradient: against lifetimes' own
    likelihood differentiated by autograd, on the CDNOW patterns (time scaled as the fits scale it), at the
    optimum, at the origin and at the edge where the drop-out collapses (a -> 0, b large, as on Online
    Retail), with and without a penalty."""
    found = patterns(cdnow_split)
    x, t_x, age = (found.table[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    scale = 1 / age.max()
    fitter = {"bgnbd": BetaGeoFitter, "mbgnbd": ModifiedBetaGeoFitter}[model]
    reference = value_and_grad(fitter._negative_log_likelihood)
    for log_params in ([np.log(0.243), np.log(4.414 * scale), np.log(0.793), np.log(2.426)], [0.0] * 4,
                       [-0.3, -1.3, -8.6, 5.8]):
        for penalizer in (0.0, 0.01):
            args = (np.array(log_params), x, t_x * scale, age * scale, found.weights.astype(float), penalizer)
            value, gradient = bgnbd_module.negative_log_likelihood_and_gradient(*args, model=model)
            expected_value, expected_gradient = reference(*args)
            assert value == pytest.approx(expected_value, rel=1e-10)
            np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-7, atol=1e-12)
