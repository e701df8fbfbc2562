"""Holdout validation: structure and bookkeeping on CDNOW, small errors on data that follow the model."""

import json

import numpy as np
import pandas as pd
import pytest

from analytics.clv import BetaGeoModel, HoldoutValidation, holdout_validation
from analytics.errors import DataError
from tests.analytics.clv.conftest import CALIBRATION_END, OBSERVATION_END
from tests.analytics.clv.simulation import simulate, to_lines


@pytest.fixture(scope="module")
def cdnow_validation(cdnow_lines) -> HoldoutValidation:
    return holdout_validation(cdnow_lines, CALIBRATION_END, OBSERVATION_END, unit="W")


def test_fits_on_the_calibration_period_only(cdnow_validation, cdnow_split):
    assert cdnow_validation.model.params == pytest.approx(BetaGeoModel().fit(cdnow_split).params_)
    assert cdnow_validation.model.params["r"] == pytest.approx(0.243, rel=0.01)  # FHL 2005
    assert cdnow_validation.duration_holdout == 39.0


def test_per_customer_and_metrics_bookkeeping(cdnow_validation, cdnow_split):
    customers, metrics = cdnow_validation.customers, cdnow_validation.metrics
    assert len(customers) == 2357
    np.testing.assert_array_equal(customers["actual"], cdnow_split["frequency_holdout"])
    refit = BetaGeoModel().fit(cdnow_split)
    np.testing.assert_allclose(customers["predicted"], refit.expected_purchases(39.0, cdnow_split), rtol=1e-6)
    # the naive baseline: the customer's own calibration repeat rate carried over the 39 holdout weeks
    np.testing.assert_allclose(customers["baseline"], cdnow_split["frequency"] / cdnow_split["T"] * 39.0)
    assert list(metrics.index) == ["model", "baseline"]
    for method in ("predicted", "baseline"):
        row = metrics.loc["model" if method == "predicted" else "baseline"]
        error = customers[method] - customers["actual"]
        assert row["mae"] == pytest.approx(error.abs().mean())
        assert row["rmse"] == pytest.approx(np.sqrt((error**2).mean()))
        assert row["correlation"] == pytest.approx(np.corrcoef(customers[method], customers["actual"])[0, 1])
        assert row["actual_total"] == cdnow_split["frequency_holdout"].sum() == 1882
        assert row["aggregate_error_pct"] == pytest.approx(100 * error.sum() / 1882)


def test_by_frequency_table(cdnow_validation):
    table = cdnow_validation.by_frequency
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["n_customers"].sum() == 2357
    assert table.loc["0", "n_customers"] == 2357 - 946
    assert (table.loc["0", "baseline"] == 0)  # no repeat purchase, no past rate
    assert table["predicted"].is_monotonic_increasing  # conditional expectations rise with frequency


def test_weekly_tracking(cdnow_validation, cdnow_split):
    """Fader, Hardie & Lee's tracking plot: 78 weeks of cumulative repeat purchases, actual and expected."""
    tracking = cdnow_validation.tracking
    assert len(tracking) == 78
    assert tracking["week_end"].iloc[0] == pd.Timestamp("1997-01-08")
    assert tracking["week_end"].iloc[-1] == pd.Timestamp(OBSERVATION_END)
    assert (tracking["period"] == "calibration").sum() == 39
    for column in ("actual_cumulative", "predicted_cumulative"):
        assert tracking[column].is_monotonic_increasing
    at_calibration_end = tracking.loc[tracking["week_end"] == pd.Timestamp(CALIBRATION_END)].iloc[0]
    assert at_calibration_end["actual_cumulative"] == cdnow_split["frequency"].sum()
    assert tracking["actual_cumulative"].iloc[-1] == cdnow_split["frequency"].sum() + 1882
    # the model follows the calibration data closely: in-sample fit at week 39 within 3 %
    in_sample = at_calibration_end["predicted_cumulative"] / at_calibration_end["actual_cumulative"]
    assert in_sample == pytest.approx(1.0, abs=0.03)


def test_summary_is_json_safe(cdnow_validation):
    record = json.loads(json.dumps(cdnow_validation.summary(), allow_nan=False))
    assert record["n_customers"] == 2357 and record["calibration_end"] == CALIBRATION_END
    assert [row["method"] for row in record["metrics"]] == ["model", "baseline"]
    assert len(record["tracking"]) == 78 and record["tracking"][0]["week_end"] == "1997-01-08"


def test_data_that_follow_the_model_are_predicted_well():
    """8,000 simulated BG/NBD customers arriving over 12 weeks, observed for 78: the model fitted on the first
    39 weeks predicts the next 39 within a few per cent, in total, by frequency and week by week."""
    births = np.random.default_rng(21).uniform(0, 12, 8000)
    population = simulate({"r": 0.6, "alpha": 8.0, "a": 0.7, "b": 2.0}, 78 - births, horizon=0.0, seed=22,
                          keep_times=True)
    start = pd.Timestamp("2000-01-03")
    lines = to_lines(population, str(start.date()), unit_days=7.0, births=births)
    calibration_end, observation_end = start + pd.Timedelta(weeks=39), start + pd.Timedelta(weeks=78)
    result = holdout_validation(lines, calibration_end, observation_end, unit="W")
    assert abs(result.metrics.loc["model", "aggregate_error_pct"]) < 6
    busy = result.by_frequency[result.by_frequency["n_customers"] >= 300]
    np.testing.assert_allclose(busy["predicted"], busy["actual"], rtol=0.1)
    later = result.tracking.iloc[10:]
    np.testing.assert_allclose(later["predicted_cumulative"], later["actual_cumulative"], rtol=0.05)


def test_bad_dates_raise_data_error(cdnow_lines):
    with pytest.raises(DataError, match="after"):
        holdout_validation(cdnow_lines, OBSERVATION_END, CALIBRATION_END, unit="W")
    with pytest.raises(DataError, match="no purchases before"):
        holdout_validation(cdnow_lines, "1990-01-01", OBSERVATION_END, unit="W")
