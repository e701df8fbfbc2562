"""Shared fixtures: real pipeline runs on embedded data (run once per session), and the real Online Retail
file from ../shared when present.

Tests of what the app shows compare it with these runs' Results, so they test what the pipeline really
produces: no hand-made model values. Results are immutable; tests must not change the tables they hold.
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from analytics import cleaning, pipeline
from analytics.datasets import load_dataset
from analytics.errors import ModelFailure
from analytics.results import Results

ONLINE_RETAIL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "online_retail.csv.xz"
SYNTHETIC_ROWS = 20_000


@dataclass(frozen=True)
class PipelineRun:
    """One pipeline run: its Results and the cleaned lines behind them (journeys and retention read them)."""

    results: Results
    lines: pd.DataFrame


def pipeline_run(transactions: pd.DataFrame, source_name: str) -> PipelineRun:
    return PipelineRun(pipeline.run(transactions, source_name=source_name), cleaning.clean(transactions).lines)


@pytest.fixture(scope="session")
def cdnow_run() -> PipelineRun:
    """The CDNOW 1/10 sample (2,357 real customers, no countries or products): every model fits."""
    return pipeline_run(load_dataset("cdnow_sample"), "cdnow_sample")


@pytest.fixture(scope="session")
def synthetic_run() -> PipelineRun:
    """A small synthetic retailer (countries, products, returns): every model fits."""
    return pipeline_run(load_dataset("synthetic", n_rows=SYNTHETIC_ROWS), "synthetic")


@pytest.fixture(scope="session")
def unfittable_run() -> PipelineRun:
    """Two CDNOW customers with one purchase each: too few for clustering (the Results say why) and for the
    BG/NBD holdout check; CLV falls back to the naive rate and churn to its flagged heuristic."""
    transactions = load_dataset("cdnow_sample")
    first_two = transactions[transactions["customer_id"].isin(transactions["customer_id"].unique()[:2])]
    return pipeline_run(first_two.drop_duplicates("customer_id"), "two CDNOW customers")


# the columns the CLV stage adds to the customer table
CLV_COLUMNS = ("expected_purchases", "expected_purchases_low", "expected_purchases_high", "p_alive", "p_no_purchase",
               "expected_spend", "clv", "clv_low", "clv_high")


@pytest.fixture(scope="session")
def clv_failed_run(cdnow_run) -> PipelineRun:
    """The CDNOW run as the pipeline leaves it when its CLV stage fails (every candidate, BG/NBD and the naive
    rate could not forecast): no CLV columns, a ModelFailure in the CLV record's place. The pipeline falls back
    to the naive rate on any real data, so this state is made from a real run rather than found."""
    results = cdnow_run.results
    failed = replace(results, clv=ModelFailure("no CLV model could forecast these data"),
                     customers=results.customers.drop(columns=[c for c in CLV_COLUMNS if c in results.customers]))
    return PipelineRun(failed, cdnow_run.lines)


@pytest.fixture(scope="session")
def online_retail_path() -> Path:
    """Path to the UCI Online Retail file; skipped with a reason when absent (a user's clone), failing in CI."""
    if not ONLINE_RETAIL.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI expects the shared Online Retail data at {ONLINE_RETAIL}")
        pytest.skip(f"real Online Retail data not found at {ONLINE_RETAIL} (it lives in ../shared, not in the repo)")
    return ONLINE_RETAIL


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (initdb/pg_ctl, see tests/postgres_server.py) on a free port, stopped at the end.

    Skipped with a reason when PostgreSQL is not installed (``make test`` installs it), failing in CI."""
    from tests import postgres_server

    bin_dir = postgres_server.binaries()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("CI expects PostgreSQL's initdb/pg_ctl (Debian package postgresql)")
        pytest.skip("PostgreSQL is not installed (make test installs Debian's postgresql package)")
    server, stop = postgres_server.start(bin_dir)
    yield server
    stop()


@pytest.fixture(scope="session")
def retail_slice_csv(tmp_path_factory) -> Path:
    """A CSV of real Online Retail lines (every tenth customer's, plus some lines without a customer), or of
    the synthetic retailer in the same columns when the real file is absent, so database tests still run."""
    import pandas as pd

    path = tmp_path_factory.mktemp("retail") / "retail_slice.csv"
    if ONLINE_RETAIL.exists():
        raw = pd.read_csv(ONLINE_RETAIL, dtype=str, keep_default_na=False)
        customer = pd.to_numeric(raw["CustomerID"], errors="coerce")
        anonymous = raw.index[customer.isna()][:300]
        raw = raw[(customer % 10 == 0) | raw.index.isin(anonymous)]
    else:
        from analytics.synthetic import generate_retail

        raw = generate_retail(20_000, seed=3)
    raw.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def postgres_orders(postgres, retail_slice_csv) -> str:
    """The retail slice in PostgreSQL as table ``orders`` with warehouse column names; returns the table."""
    from tests.postgres_server import load_orders

    load_orders(postgres, retail_slice_csv, "orders")
    return "orders"
