"""Embedded datasets: CDNOW (real, from the lifetimes package files) and the registry."""

import pandas as pd
import pytest

from analytics import schema
from analytics.datasets import DATASETS, DEFAULT_DATASET, load_dataset
from analytics.errors import DataError


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_dataset("cdnow")


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    return load_dataset("cdnow_sample")


def _assert_canonical(frame: pd.DataFrame) -> None:
    assert list(frame.columns[:5]) == list(schema.REQUIRED_COLUMNS)
    assert frame[schema.CUSTOMER_ID].cat.categories.dtype == "string"
    assert frame[schema.INVOICE_ID].cat.categories.dtype == "string"
    assert frame[schema.INVOICE_DATE].dtype == "datetime64[ns]"
    assert frame[schema.QUANTITY].dtype == "float64"
    assert frame[schema.UNIT_PRICE].dtype == "float64"


def test_cdnow_published_counts(cdnow):
    _assert_canonical(cdnow)
    assert len(cdnow) == 69_659
    assert cdnow[schema.CUSTOMER_ID].nunique() == 23_570
    assert cdnow[schema.INVOICE_DATE].min() == pd.Timestamp("1997-01-01")
    assert cdnow[schema.INVOICE_DATE].max() == pd.Timestamp("1998-06-30")


def test_cdnow_one_invoice_per_row_amount_as_price(cdnow):
    assert cdnow[schema.INVOICE_ID].is_unique
    assert set(cdnow[schema.QUANTITY].unique()) == {1.0}
    # customer 2 bought twice on 1997-01-12 (12.00 and 77.00): two invoices on the same day
    two = cdnow[cdnow[schema.CUSTOMER_ID] == "2"]
    assert sorted(two[schema.UNIT_PRICE].head(2)) == [12.0, 77.0]
    assert two[schema.INVOICE_ID].head(2).nunique() == 2


def test_cdnow_sample_counts_use_sample_ids(cdnow_sample):
    _assert_canonical(cdnow_sample)
    assert len(cdnow_sample) == 6_919
    ids = cdnow_sample[schema.CUSTOMER_ID]
    assert ids.nunique() == 2_357
    assert set(ids.astype(int)) == set(range(1, 2_358))
    assert cdnow_sample[schema.INVOICE_ID].is_unique
    # first customer of the sample (00004 in the master file): four purchases in 1997
    first = cdnow_sample[ids == "1"]
    assert first[schema.UNIT_PRICE].round(2).tolist() == [29.33, 29.73, 14.96, 26.48]


def test_registry_describes_every_dataset():
    assert DEFAULT_DATASET in DATASETS
    assert {"cdnow", "cdnow_sample", "synthetic"} <= set(DATASETS)
    for name, dataset in DATASETS.items():
        assert dataset.name == name
        assert len(dataset.description) > 20


def test_unknown_dataset_is_a_data_error():
    with pytest.raises(DataError, match="unknown dataset 'nope'.*cdnow"):
        load_dataset("nope")


def test_synthetic_goes_through_the_loader():
    frame = load_dataset("synthetic", n_rows=5_000, seed=1)
    _assert_canonical(frame)
    assert abs(len(frame) - 5_000) < 250
    assert frame.attrs["loading"]["mapping"][schema.CUSTOMER_ID] == "CustomerID"
    assert frame.attrs["truth"]["bgnbd"]["r"] > 0
    assert frame[schema.CUSTOMER_ID].dropna().str.fullmatch(r"\d{5}").all()  # 12346.0 -> "12346"
    assert {schema.STOCK_CODE, schema.DESCRIPTION, schema.COUNTRY} <= set(frame.columns)
    assert frame[schema.INVOICE_ID].str.startswith("C").any()


def test_default_dataset_is_the_synthetic_retailer():
    assert DEFAULT_DATASET == "synthetic"


def test_unknown_options_are_a_data_error():
    with pytest.raises(DataError, match="'cdnow' does not take the option.*n_rows"):
        load_dataset("cdnow", n_rows=10)
