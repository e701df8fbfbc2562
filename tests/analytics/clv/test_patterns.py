"""Distinct purchase patterns: the grouping by one integer key gives exactly what ``np.unique`` along rows gives."""

import numpy as np
import pytest

from analytics.clv import rfm_summary
from analytics.clv.patterns import PURCHASE_COLUMNS, SPEND_COLUMNS, patterns
from analytics.loading import to_canonical
from analytics.synthetic import generate_retail


@pytest.fixture(scope="module", params=["cdnow", "synthetic"])
def summary(request, cdnow_lines):
    if request.param == "cdnow":
        lines = cdnow_lines
        return rfm_summary(lines, lines["invoice_date"].max().normalize() + np.timedelta64(1, "D"), unit="W")
    from analytics import cleaning

    cleaned = cleaning.clean(to_canonical(generate_retail(n_rows=20_000, seed=3)))
    return rfm_summary(cleaned.lines, cleaned.as_of, unit="D")


@pytest.mark.parametrize("columns", [PURCHASE_COLUMNS, SPEND_COLUMNS])
def test_patterns_equal_numpy_unique_rows(summary, columns):
    values = np.column_stack([summary[c].to_numpy(dtype=float) for c in columns])
    distinct, inverse, counts = np.unique(values, axis=0, return_inverse=True, return_counts=True)
    found = patterns(summary, columns)
    assert len(found.table) < len(summary)  # real sharing, so the grouping is exercised
    np.testing.assert_array_equal(found.table.to_numpy(), distinct)
    np.testing.assert_array_equal(found.weights, counts)
    np.testing.assert_array_equal(found.inverse, np.ravel(inverse))
    np.testing.assert_array_equal(found.table.to_numpy()[found.inverse], values)


def test_a_key_that_would_overflow_is_numbered_again_and_still_equals_numpy_unique():
    # the simulation's keyed columns (frequency, recency, T, value frequency) on a base where every column has
    # ~60k distinct values: their product passes 2**62, so the key is renumbered densely on the way
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 60_000
    frame = pd.DataFrame({c: rng.integers(0, 10 * n, n).astype(float) for c in ("a", "b", "c", "d")})
    frame = pd.concat([frame, frame.iloc[: n // 3]], ignore_index=True)  # shared rows, so weights above 1
    columns = tuple(frame.columns)
    assert np.prod([float(frame[c].nunique()) for c in columns]) > 2.0**62
    values = frame.to_numpy()
    distinct, inverse, counts = np.unique(values, axis=0, return_inverse=True, return_counts=True)
    found = patterns(frame, columns)
    np.testing.assert_array_equal(found.table.to_numpy(), distinct)
    np.testing.assert_array_equal(found.weights, counts)
    np.testing.assert_array_equal(found.inverse, np.ravel(inverse))
