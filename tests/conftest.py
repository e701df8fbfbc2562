"""Shared fixtures: the real Online Retail file from ../shared, when present."""

import os
from pathlib import Path

import pytest

ONLINE_RETAIL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail.csv.xz"


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    """Path to the UCI Online Retail file; skipped with a reason when absent (a user's clone), failing in CI."""
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI expects the shared Online Retail data at {ONLINE_RETAIL}")
        pytest.skip(f"real Online Retail data not found at {ONLINE_RETAIL} (it lives in ../shared, not in the repo)")
    return ONLINE_RETAIL
