"""CDNOW 1/10 sample fixtures (Fader, Hardie & Lee 2005): the raw log and Hardie's own calibration summary."""

import importlib.resources

import pandas as pd
import pytest

from analytics.clv import calibration_holdout

CALIBRATION_END = "1997-10-01"  # exclusive: the calibration period is 1997-01-01 .. 1997-09-30
OBSERVATION_END = "1998-07-01"  # exclusive: the holdout is 1997-10-01 .. 1998-06-30 (39 weeks)


@pytest.fixture(scope="session")
def cdnow_lines() -> pd.DataFrame:
    """The sample as canonical invoice lines (one row per purchase record, amount = unit_price)."""
    from analytics.datasets import load_dataset

    return load_dataset("cdnow_sample")


@pytest.fixture(scope="session")
def cdnow_split(cdnow_lines) -> pd.DataFrame:
    """Calibration summary in weeks plus the holdout columns."""
    return calibration_holdout(cdnow_lines, CALIBRATION_END, OBSERVATION_END, unit="W")


@pytest.fixture(scope="session")
def hardie_summary() -> pd.DataFrame:
    """Hardie's calibration summary of the sample, shipped with lifetimes: ID, x, t_x, T (weeks), zbar."""
    datasets = importlib.resources.files("lifetimes") / "datasets"
    path = datasets / "cdnow_customers_summary_with_transactions.csv"
    with path.open("rb") as handle:
        frame = pd.read_csv(handle)
    return frame.set_index(frame["ID"].astype(str).rename("customer_id"))
