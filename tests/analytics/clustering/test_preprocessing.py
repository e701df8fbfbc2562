import numpy as np
import pandas as pd
import pytest

from analytics.clustering.preprocessing import MONETARY_FLOOR, fit_transform, rfm_zscores
from analytics.errors import DataError


def small_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "recency_days": [1.0, 10.0, 100.0, 400.0, 30.0],
            "frequency": [12, 5, 2, 1, 1],
            "monetary": [2500.0, 800.0, 90.0, 15.0, 0.0],
            "peak_share": [0.1, 0.5, 0.0, 1.0, 0.25],
            "mean_days_between": [20.0, 40.0, 90.0, np.nan, np.nan],
            "country": ["UK", "UK", "FR", "DE", "UK"],
        },
        index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"),
    )


def test_standard_scaling_of_log_rfm_matches_hand_computation():
    table = small_table()
    X, transform = fit_transform(table)
    logged = np.column_stack(
        [
            np.log1p(table["recency_days"]),
            np.log1p(table["frequency"]),
            np.log1p(table["monetary"].clip(lower=MONETARY_FLOOR)),
        ]
    )
    expected = (logged - logged.mean(axis=0)) / logged.std(axis=0)
    np.testing.assert_allclose(X, expected)
    assert transform.features == ("recency_days", "frequency", "monetary")
    assert transform.log == (True, True, True)


def test_robust_scaler_centres_on_the_median():
    X, _ = fit_transform(small_table(), scaler="robust")
    np.testing.assert_allclose(np.median(X, axis=0), 0.0, atol=1e-12)


def test_zero_and_negative_monetary_are_clipped_not_nan():
    table = small_table()
    table.loc["d", "monetary"] = -5.0
    X, _ = fit_transform(table)
    assert np.isfinite(X).all()
    assert X[3, 2] == pytest.approx(X[4, 2])  # both at the floor


def test_optional_features_gaps_filled_with_median_and_shares_not_logged():
    table = small_table()
    features = ("recency_days", "frequency", "monetary", "peak_share", "mean_days_between")
    X, transform = fit_transform(table, features=features)
    assert transform.log == (True, True, True, False, True)
    assert transform.fill[4] == pytest.approx(40.0)
    assert np.isfinite(X).all()
    # one-time buyers (gap filled with the median 40) land where a customer with 40 days between would
    assert X[3, 4] == pytest.approx(X[1, 4])


def test_inverse_transform_returns_original_units():
    table = small_table().drop(index="e")
    features = ("recency_days", "frequency", "monetary", "peak_share")
    X, transform = fit_transform(table, features=features)
    np.testing.assert_allclose(transform.inverse_transform(X), table[list(features)].to_numpy(dtype=float))


def test_transform_of_new_rows_uses_training_scale():
    table = small_table()
    X, transform = fit_transform(table)
    np.testing.assert_allclose(transform.transform(table.iloc[[2]]), X[[2]])


def test_missing_recency_is_a_data_error_naming_the_customer():
    table = small_table()
    table.loc["c", "recency_days"] = np.nan
    with pytest.raises(DataError, match=r"recency_days.*c=nan"):
        fit_transform(table)


def test_negative_frequency_is_a_data_error():
    table = small_table()
    table.loc["b", "frequency"] = -1
    with pytest.raises(DataError, match="frequency"):
        fit_transform(table)


def test_missing_column_is_named():
    with pytest.raises(DataError, match="monetary"):
        fit_transform(small_table().drop(columns="monetary"))


def test_non_numeric_feature_is_rejected():
    with pytest.raises(DataError, match="country.*not numeric"):
        fit_transform(small_table(), features=("recency_days", "country"))


def test_unknown_scaler_and_empty_table():
    with pytest.raises(DataError, match="scaler"):
        fit_transform(small_table(), scaler="minmax")
    with pytest.raises(DataError, match="empty"):
        fit_transform(small_table().iloc[:0])


def test_rfm_zscores_are_standardised_and_recency_not_reversed():
    z = rfm_zscores(small_table())
    np.testing.assert_allclose(z.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(ddof=0), 1.0)
    assert z.loc["a", "recency_days"] < 0 < z.loc["d", "recency_days"]  # a bought most recently
