"""Cleaning a frame handed over (``release_input=True``: its columns freed as cleaning goes) gives exactly
what cleaning a frame the caller keeps gives, whatever form the reader gives the text columns in; the kept
frame is left as it was.

The expected digest is the one ``test_lean_reading`` pins for Online Retail (computed before the lean path).
"""

from __future__ import annotations

import pandas as pd
import pytest

from analytics import schema
from analytics.cleaning import clean
from analytics.loading import read_transactions
from tests.analytics.test_lean_reading import BEFORE, _digest

IDENTIFIERS = [schema.CUSTOMER_ID, schema.INVOICE_ID]
REPEATED_TEXT = [schema.STOCK_CODE, schema.DESCRIPTION, schema.COUNTRY]


@pytest.fixture(scope="module")
def online_retail(online_retail_path) -> pd.DataFrame:
    return read_transactions(online_retail_path)


def _as_read(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    frame = frame.copy()
    if text == "categorical identifiers":  # codes and distinct values, as a reader may give them
        frame[IDENTIFIERS] = frame[IDENTIFIERS].astype("category")
    elif text == "categories out of order":  # not in order of appearance, one never used
        for column in REPEATED_TEXT:
            categories = frame[column].cat.categories
            reordered = frame[column].cat.reorder_categories(categories[::-1])
            frame[column] = reordered.cat.add_categories(["unused"])
    return frame


@pytest.mark.slow
@pytest.mark.parametrize("text", ["as read", "categorical identifiers", "categories out of order"])
def test_a_handed_over_frame_cleans_as_a_kept_one_and_is_emptied(online_retail, text):
    kept, handed = _as_read(online_retail, text), _as_read(online_retail, text)
    assert _digest(clean(kept)) == BEFORE["online_retail"]
    pd.testing.assert_frame_equal(kept, handed)
    assert _digest(clean(handed, release_input=True)) == BEFORE["online_retail"]
    assert handed.columns.empty and len(handed) == len(online_retail)


def test_a_handed_over_frame_with_time_zones_cleans_as_a_kept_one():
    frame = pd.DataFrame({
        schema.CUSTOMER_ID: ["1", "1", "2"], schema.INVOICE_ID: ["10", "10", "11"],
        schema.INVOICE_DATE: pd.to_datetime(["2011-01-02 10:00", "2011-01-02 10:00", "2011-01-03 11:00"]
                                            ).tz_localize("Europe/London"),
        schema.QUANTITY: [2.0, 2.0, 1.0], schema.UNIT_PRICE: [1.5, 1.5, 4.0],
    })
    kept = clean(frame)
    handed = clean(frame.copy(), release_input=True)
    assert frame[schema.INVOICE_DATE].dt.tz is not None
    pd.testing.assert_frame_equal(handed.lines, kept.lines)
    assert handed.report.to_dict() == kept.report.to_dict()
    assert kept.report.rows_out == 2 and kept.lines[schema.INVOICE_DATE].dt.tz is None
