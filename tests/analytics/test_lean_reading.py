"""Reading and cleaning on compact types (dictionary-encoded text, codes) give exactly what they gave before.

The digests below were computed by the product as it was before the lean path (commit 66ad60d: every text
column a full string column, the Parquet file read whole): a hash of the cleaned lines (values, dtypes and the
order of every categorical's categories), of their invoice table and of the whole quality report. The same
data read from Parquet, from CSV and from a DataFrame must all still give them.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics import schema
from analytics.cache import fingerprint_frame
from analytics.cleaning import CleanResult, clean
from analytics.invoices import invoice_table
from analytics.loading import read_transactions, to_canonical
from analytics.synthetic import generate_retail

BEFORE = {"online_retail": "32ebcee83c67bb35", "synthetic_200k_seed3": "01487fa8b1900cbf"}
# The customer and invoice identifiers row by row, as the product read them when they were a string per row
# (commit d86425a), the same from every source below.
IDS_BEFORE = {"online_retail": "9f78e481c5331fff", "synthetic_200k_seed3": "cc263a645142c112"}


def _digest(cleaned: CleanResult) -> str:
    lines = cleaned.lines
    digest = hashlib.sha256(fingerprint_frame(lines).encode())
    for column in lines.columns:
        dtype = lines[column].dtype
        digest.update(f"{column}:{dtype.name}".encode())
        if isinstance(dtype, pd.CategoricalDtype):
            digest.update("\x1f".join(map(str, dtype.categories)).encode())
    digest.update(fingerprint_frame(invoice_table(lines)).encode())
    digest.update(json.dumps(cleaned.report.to_dict(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return generate_retail(200_000, seed=3)


@pytest.mark.slow
def test_online_retail_cleans_as_before(online_retail_path):
    assert _digest(clean(read_transactions(online_retail_path))) == BEFORE["online_retail"]


@pytest.mark.parametrize("kind", ["parquet", "parquet in row groups", "csv", "frame"])
def test_synthetic_log_cleans_as_before_from_every_source(synthetic, tmp_path, kind):
    if kind == "frame":
        frame = to_canonical(synthetic)
    else:
        path = tmp_path / ("log.csv" if kind == "csv" else "log.parquet")
        if kind == "csv":
            synthetic.to_csv(path, index=False)
        else:  # row groups: each with dictionaries of its own, unified when read
            synthetic.to_parquet(path, row_group_size=30_000 if kind.endswith("groups") else None)
        frame = read_transactions(path)
    assert _digest(clean(frame)) == BEFORE["synthetic_200k_seed3"]


def _ids_digest(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for column in (schema.CUSTOMER_ID, schema.INVOICE_ID):
        values = frame[column]
        # a categorical over distinct, sorted, normalised strings, -1 for missing
        assert isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.dtype == "string"
        categories = values.cat.categories
        assert categories.is_monotonic_increasing and categories.is_unique
        assert (categories.str.strip() == categories).all() and not (categories == "").any()
        assert (values.cat.codes.to_numpy() >= 0).tolist() == values.notna().tolist()
        digest.update(json.dumps([None if pd.isna(v) else v for v in values.astype(object)]).encode())
    return digest.hexdigest()[:16]


def _id_sources(raw: pd.DataFrame, tmp_path) -> dict:
    """The log as CSV, as Parquet with numeric customer IDs (as written from pandas) and with text ones
    (``17850.0``, a float column exported as text) in row groups of their own dictionaries."""
    raw.to_csv(tmp_path / "log.csv", index=False)
    raw.to_parquet(tmp_path / "numeric.parquet")
    raw.assign(CustomerID=raw["CustomerID"].astype("string")).to_parquet(tmp_path / "text.parquet",
                                                                         row_group_size=50_000)
    return {"csv": tmp_path / "log.csv", "parquet, numeric ids": tmp_path / "numeric.parquet",
            "parquet, text ids": tmp_path / "text.parquet"}


def test_synthetic_identifiers_are_categoricals_of_the_same_values(synthetic, tmp_path):
    assert synthetic["CustomerID"].dtype == "float64" and synthetic["InvoiceNo"].dtype == "str"
    for kind, path in _id_sources(synthetic, tmp_path).items():
        assert _ids_digest(read_transactions(path)) == IDS_BEFORE["synthetic_200k_seed3"], kind
    assert _ids_digest(to_canonical(synthetic)) == IDS_BEFORE["synthetic_200k_seed3"]


@pytest.mark.slow
def test_online_retail_identifiers_are_categoricals_of_the_same_values(online_retail_path, tmp_path):
    assert _ids_digest(read_transactions(online_retail_path)) == IDS_BEFORE["online_retail"]
    raw = pd.read_csv(online_retail_path, dtype={"InvoiceNo": str, "StockCode": str})
    for kind, path in _id_sources(raw, tmp_path).items():
        assert _ids_digest(read_transactions(path)) == IDS_BEFORE["online_retail"], kind


def test_parquet_written_by_other_tools(tmp_path):
    """Types pandas does not write: a NaN (not null) customer ID, an aware timestamp in microseconds, 32-bit
    numbers, several row groups. Read as before: NaN a missing customer, the date in UTC."""
    pq.write_table(pa.table({
        "InvoiceNo": pa.array(["536365", "536365", "536366", "C536379"], pa.large_string()),
        "CustomerID": pa.array([17850.0, np.nan, 17850.0, None], pa.float64(), from_pandas=False),
        "InvoiceDate": pa.array(pd.to_datetime(["2010-12-01 08:26"] * 3 + ["2010-12-13 09:41"]).tz_localize(
            "Europe/Paris"), pa.timestamp("us", tz="Europe/Paris")),
        "Quantity": pa.array([6, 6, 6, -1], pa.int32()),
        "UnitPrice": pa.array([2.5, 3.5, 1.75, 27.5], pa.float32()),
    }), tmp_path / "log.parquet", row_group_size=2)
    frame = read_transactions(tmp_path / "log.parquet")
    assert frame[schema.CUSTOMER_ID].tolist() == ["17850", pd.NA, "17850", pd.NA]
    assert frame[schema.INVOICE_ID].tolist() == ["536365", "536365", "536366", "C536379"]
    assert frame[schema.INVOICE_DATE].tolist() == [pd.Timestamp("2010-12-01 07:26")] * 3 + [
        pd.Timestamp("2010-12-13 08:41")]
    assert frame[schema.QUANTITY].dtype == frame[schema.UNIT_PRICE].dtype == "float64"
    assert frame[schema.QUANTITY].tolist() == [6, 6, 6, -1]
    assert frame[schema.UNIT_PRICE].tolist() == [2.5, 3.5, 1.75, 27.5]


def test_repeated_text_is_held_once_per_distinct_value(tmp_path):
    raw = pd.DataFrame({
        "InvoiceNo": ["1", "1", "2", "3"], "CustomerID": [7.0, 7.0, np.nan, 8.0],
        "InvoiceDate": pd.to_datetime(["2011-01-02"] * 4), "Quantity": [1, 2, 3, 4],
        "UnitPrice": [1.0, 2.0, 3.0, 4.0],
        "StockCode": ["85123A", " 85123A ", "", "22"], "Description": ["A", " A", "A", None],
        "Country": ["UK", "UK", "UK", "France"], "Unused": ["x" * 1000] * 4,
    })
    raw.to_parquet(tmp_path / "log.parquet")
    frame = read_transactions(tmp_path / "log.parquet")
    assert "Unused" not in frame.columns
    stock, description = frame[schema.STOCK_CODE], frame[schema.DESCRIPTION]
    # identifiers equal once stripped are one category; empty is missing
    assert isinstance(stock.dtype, pd.CategoricalDtype) and list(stock.cat.categories) == ["85123A", "22"]
    assert stock.isna().tolist() == [False, False, True, False]
    # free text keeps its spacing
    assert list(description.cat.categories) == ["A", " A"] and description.isna().tolist()[3]
    assert frame[schema.CUSTOMER_ID].tolist()[:2] == ["7", "7"]
    assert list(frame[schema.CUSTOMER_ID].cat.categories) == ["7", "8"]
    assert list(frame[schema.INVOICE_ID].cat.categories) == ["1", "2", "3"]
