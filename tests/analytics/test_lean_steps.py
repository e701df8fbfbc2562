"""Customer features, journeys and trends on integer codes give exactly what they gave before.

The digests below were computed by the product as it was before these steps were rewritten on integer codes
(commit 3e25c8c: pandas groupby per snapshot, a pivot for each customer's journey): a hash of each output's
values, index, column names and dtypes (with every categorical's categories in order), so any changed float
bit, row order or type fails. The inputs are what the pipeline hands these steps: the cleaned lines (features)
and their invoice table (journeys, trends); journeys also run on the lines, whose IDs are categoricals.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest

from analytics import journeys as J
from analytics import trends
from analytics.cache import fingerprint_frame
from analytics.cleaning import clean
from analytics.errors import DataError
from analytics.features import customer_features
from analytics.invoices import invoice_table
from analytics.loading import read_transactions, to_canonical
from analytics.synthetic import generate_retail
from tests.analytics.test_results_compact import OLD_HISTORY_TYPES

BEFORE = {
    "online_retail": {
        "features": "5bfaabf648f771da", "features_at_cutoff": "bd4364d82e8d9308",
        "features_of_invoices": "4f1bd191a9403ded", "journeys": "5389e2d655598635",
        "journeys_monthly_fixed": "401aec1ada1c3580", "journeys_last_3_no_inactive": "1f69307d28351d2c",
        "journeys_of_lines": "2b7828daad1534e6", "customer_journey": "e6ff20d492908fa6",
        "snapshots": "00d7e11719f8d26f", "monthly": "6b19ef9279af0c51",
        "cohorts": "5789ef292b243786", "retention": "a82b50b9520527a4",
    },
    "synthetic_200k_seed3": {
        "features": "e6579110e010908b", "features_at_cutoff": "5d3b682d5a7dc6d4",
        "features_of_invoices": "1b5d69ae83aebe5a", "journeys": "7651cb6f68aab8c7",
        "journeys_monthly_fixed": "07fdb50678c60d53", "journeys_last_3_no_inactive": "16d6a60587b9870f",
        "journeys_of_lines": "d170fe0c348fa593", "customer_journey": "9664de152cc63482",
        "snapshots": "067d51c077e4dcf5", "monthly": "b6b4b7bd83e62911",
        "cohorts": "c3f943e4ce5918f6", "retention": "85bf3853763070e4",
    },
}


def _frame_digest(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256(fingerprint_frame(frame).encode())
    for name, dtype in [("index", frame.index.dtype), *frame.dtypes.items()]:
        digest.update(f"{name}:{dtype!r}".encode())
        if isinstance(dtype, pd.CategoricalDtype):
            digest.update(f"{dtype.ordered}:{dtype.categories.dtype}:".encode())
            digest.update("\x1f".join(map(str, dtype.categories)).encode())
    digest.update(f"{frame.index.name}|{frame.columns.name}".encode())
    return digest.hexdigest()[:16]


def _in_old_types(history: pd.DataFrame) -> pd.DataFrame:
    """A history in the types the digests were taken in: it holds IDs, labels and segments as categoricals and
    the scores as Int8 since (tests/analytics/test_results_compact.py), the values unchanged."""
    return history.astype(OLD_HISTORY_TYPES)


def outputs(lines: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, str]:
    """Digest of every output pinned here, for one cleaned log."""
    invoices = invoice_table(lines)
    cutoff = as_of - pd.Timedelta(days=90)
    features = customer_features(lines, as_of)
    quarterly = J.journey_history(invoices, as_of, period="Q")
    frames = {
        "features": features,
        "features_at_cutoff": customer_features(lines.loc[lines["invoice_date"] < cutoff], cutoff),
        "features_of_invoices": customer_features(invoices, as_of),
        "journeys": quarterly,
        "journeys_monthly_fixed": J.journey_history(invoices, as_of, period="M", scoring="fixed"),
        "journeys_last_3_no_inactive": J.journey_history(invoices, as_of, inactive_days=None, last=3),
        "journeys_of_lines": J.journey_history(lines, as_of, inactive_days=90),
        "customer_journey": J.customer_journey(quarterly),
        "snapshots": J.snapshots(quarterly),
        "monthly": trends.monthly_activity(invoices),
        "cohorts": trends.cohort_retention(invoices),
    }
    out = {name: _frame_digest(_in_old_types(frame) if name.startswith("journeys") else frame)
           for name, frame in frames.items()}
    retention = trends.window_retention(invoices, as_of, 90, features.index).summary()
    out["retention"] = hashlib.sha256(json.dumps(retention, sort_keys=True).encode()).hexdigest()[:16]
    return out


@pytest.mark.slow
def test_online_retail_steps_as_before(online_retail_path):
    cleaned = clean(read_transactions(online_retail_path))
    assert outputs(cleaned.lines, cleaned.as_of) == BEFORE["online_retail"]


def test_synthetic_log_steps_as_before():
    cleaned = clean(to_canonical(generate_retail(200_000, seed=3)))
    assert outputs(cleaned.lines, cleaned.as_of) == BEFORE["synthetic_200k_seed3"]


def test_customer_journey_needs_every_customer_at_every_snapshot():
    cleaned = clean(to_canonical(generate_retail(5_000, seed=3)))
    history = J.journey_history(invoice_table(cleaned.lines), cleaned.as_of)
    with pytest.raises(DataError, match="one row per customer and snapshot"):
        J.customer_journey(history.iloc[1:])
