"""Gamma-Gamma spend model: the published CDNOW fit, repeat buyers only, shrinkage, recovery, rebuilding."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from analytics.clv import GammaGammaModel, rfm_summary
from analytics.errors import DataError

FH_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow_gg(cdnow_split):
    return GammaGammaModel().fit(cdnow_split)


def test_reproduces_fader_hardie_gamma_gamma(cdnow_gg, cdnow_lines):
    """Fader & Hardie, "The Gamma-Gamma Model of Monetary Value" (2013): p = 6.25, q = 3.74, v = 15.44.

    Which data? Their 946 customers are the repeat buyers of the 39-week calibration period (1997-01-01 to
    1997-09-30), with mean spend over the calibration repeat purchases: fitting exactly that reproduces the
    published values, while the whole 78 weeks (1,139 repeat buyers) give p = 4.7, q = 4.2, v = 24.4.
    """
    assert cdnow_gg.n_customers_ == 946 and cdnow_gg.n_excluded_ == 0
    for name, published in FH_GG.items():
        assert cdnow_gg.params_[name] == pytest.approx(published, rel=0.01), name
    whole = GammaGammaModel().fit(rfm_summary(cdnow_lines, "1998-07-01", unit="W"))
    assert whole.n_customers_ == 1139
    assert whole.params_["p"] == pytest.approx(4.68, rel=0.01)


def test_log_likelihood_is_the_gamma_gamma_density(cdnow_gg, cdnow_split):
    """Sum over repeat buyers of log f(mean spend | x) with f the Gamma-Gamma marginal, written out here."""
    p, q, v = (cdnow_gg.params_[k] for k in "pqv")
    repeat = cdnow_split[cdnow_split["frequency"] > 0]
    x, m = repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy()
    # mean of x Gamma(p, nu) spends is Gamma(p x, nu x); nu ~ Gamma(q, v) integrated out
    log_f = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + p * x * np.log(x)
             + (p * x - 1) * np.log(m) - (p * x + q) * np.log(v + x * m))
    assert cdnow_gg.log_likelihood_ == pytest.approx(log_f.sum(), abs=1e-6)


def test_correlation_is_reported_among_repeat_buyers(cdnow_gg, cdnow_split):
    repeat = cdnow_split[cdnow_split["frequency"] > 0]
    expected = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    assert cdnow_gg.frequency_spend_correlation_ == pytest.approx(expected)
    assert abs(expected) < 0.3  # CDNOW: independence is plausible (r = 0.11)


def test_one_time_buyers_do_not_change_the_fit(cdnow_gg, cdnow_split):
    repeaters_only = GammaGammaModel().fit(cdnow_split[cdnow_split["frequency"] > 0])
    assert repeaters_only.params_ == pytest.approx(cdnow_gg.params_)


def test_expected_spend_shrinks_towards_the_population_mean(cdnow_gg):
    p, q, v = (cdnow_gg.params_[k] for k in "pqv")
    population = v * p / (q - 1)
    assert cdnow_gg.population_mean_ == pytest.approx(population)
    summary = pd.DataFrame({"frequency": [0, 1, 10, 3], "monetary_value": [0.0, 100.0, 100.0, 0.0]},
                           index=["new", "once", "often", "zero"])
    spend = cdnow_gg.expected_spend(summary)
    weight_once = p / (p + q - 1)
    assert spend["new"] == pytest.approx(population)
    assert spend["zero"] == pytest.approx(population)  # no usable spend history
    assert spend["once"] == pytest.approx(weight_once * 100 + (1 - weight_once) * population)
    assert population < spend["once"] < spend["often"] < 100  # more purchases, more weight on own mean


def test_non_positive_mean_spend_is_left_out_and_counted(cdnow_split):
    broken = cdnow_split.copy()
    repeaters = broken.index[broken["frequency"] > 0][:3]
    broken.loc[repeaters, "monetary_value"] = 0.0
    fit = GammaGammaModel().fit(broken)
    assert fit.n_customers_ == 943 and fit.n_excluded_ == 3


def test_recovers_simulated_parameters():
    """5,000 repeat buyers with spends drawn from known p, q, v: estimates within 3 standard errors."""
    truth = {"p": 6.0, "q": 4.0, "v": 150.0}
    rng = np.random.default_rng(11)
    x = rng.integers(1, 12, 5000)
    nu = rng.gamma(truth["q"], 1 / truth["v"], 5000)
    mean_spend = rng.gamma(truth["p"] * x, 1 / (nu * x))  # the mean of x Gamma(p, nu) spends
    fit = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": mean_spend}))
    for name, value in truth.items():
        assert abs(fit.params_[name] - value) < 3 * fit.standard_errors_[name], (name, fit.params_)


def test_recovers_the_synthetic_retailer():
    """Spend per purchase of the synthetic retailer, cleaned and summarised like any upload: within 3 SE."""
    from analytics import cleaning
    from analytics.datasets import load_dataset
    from analytics.synthetic import SYNTHETIC_TRUTH

    cleaned = cleaning.clean(load_dataset("synthetic", n_rows=100_000, seed=1))
    fit = GammaGammaModel().fit(rfm_summary(cleaned.lines, cleaned.as_of))
    for name, truth in SYNTHETIC_TRUTH["gamma_gamma"].items():
        assert abs(fit.params_[name] - truth) < 3 * fit.standard_errors_[name], (name, fit.params_)
    assert fit.population_mean_ == pytest.approx(SYNTHETIC_TRUTH["mean_spend_per_purchase"], rel=0.1)


def test_round_trip_through_params_and_the_fit_record(cdnow_gg, cdnow_split):
    record = cdnow_gg.record()
    restored = GammaGammaModel.from_record(record)
    rebuilt = GammaGammaModel.from_params(cdnow_gg.params_)
    for other in (restored, rebuilt):
        pd.testing.assert_series_equal(other.expected_spend(cdnow_split),
                                       cdnow_gg.expected_spend(cdnow_split))
    assert restored.record() == record
    assert record.n_customers == int((cdnow_split["frequency"] > 0).sum()) - record.n_excluded
    assert record.population_mean == pytest.approx(cdnow_gg.population_mean_)
    summary = json.loads(json.dumps(record.summary(), allow_nan=False))
    assert summary["frequency_spend_correlation"] == pytest.approx(cdnow_gg.frequency_spend_correlation_)


def test_bad_input_raises_data_error(cdnow_split):
    with pytest.raises(DataError, match="at least 2 repeat buyers"):
        GammaGammaModel().fit(pd.DataFrame({"frequency": [0, 1], "monetary_value": [0.0, 5.0]}))
    with pytest.raises(DataError, match="monetary_value"):
        GammaGammaModel().fit(cdnow_split.drop(columns=["monetary_value"]))
    with pytest.raises(DataError, match="q > 1"):
        GammaGammaModel.from_params({"p": 1.0, "q": 0.5, "v": 1.0})
    with pytest.raises(DataError, match="not fitted"):
        GammaGammaModel().expected_spend(cdnow_split)


def test_fit_on_weighted_patterns_equals_the_fit_on_every_repeat_buyer(cdnow_split):
    """Two copies of every customer: the fit runs on the 946 distinct (frequency, mean spend) pairs with
    weight 2 and must equal lifetimes' fit on all 1,892 rows."""
    from lifetimes import GammaGammaFitter

    twice = pd.concat([cdnow_split, cdnow_split.set_axis(cdnow_split.index + "-copy")])
    ours = GammaGammaModel().fit(twice)
    assert ours.n_customers_ == 2 * 946 and ours.n_patterns_ <= 946
    repeat = twice[twice["frequency"] > 0]
    every = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    for name in ("p", "q", "v"):
        assert ours.params_[name] == pytest.approx(every.params_[name], rel=1e-6), name
        assert ours.standard_errors_[name] == pytest.approx(every.standard_errors_[name], rel=1e-4), name
