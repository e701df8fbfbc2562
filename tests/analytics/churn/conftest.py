"""Hand-made canonical invoice lines for the churn tests (no other project module needed to build them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

AS_OF = pd.Timestamp("2024-01-01")
START = pd.Timestamp("2022-07-01")
WINDOW = 90


def lines_frame(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    """Canonical lines from (customer, invoice, date, quantity, unit_price); negative quantity = return."""
    df = pd.DataFrame(rows, columns=["customer_id", "invoice_id", "invoice_date", "quantity", "unit_price"])
    df["invoice_date"] = pd.to_datetime(df["invoice_date"], format="mixed")
    return _complete(df)


def _complete(df: pd.DataFrame) -> pd.DataFrame:
    """Add what cleaning would: string IDs, a stock code, revenue and the return flag."""
    df["customer_id"] = df["customer_id"].astype("string")
    df["invoice_id"] = df["invoice_id"].astype("string")
    df["stock_code"] = pd.Series([f"P{i % 7}" for i in range(len(df))], dtype="string", index=df.index)
    df["revenue"] = df["quantity"] * df["unit_price"]
    df["is_return"] = df["quantity"] < 0
    return df


def simulate(
    n_customers: int, seed: int = 0, predictable: bool = True, as_of: pd.Timestamp = AS_OF
) -> pd.DataFrame:
    """A retailer's invoice lines up to ``as_of``.

    predictable: each customer buys as a Poisson process (own rate) until an exponential lifetime ends, so
    history (recency, frequency) predicts a purchase in the last ``WINDOW`` days.
    not predictable: history as above but only up to the cutoff; whether a customer buys in the window is a
    fair coin, independent of everything before.
    """
    rng = np.random.default_rng(seed)
    cutoff_day = float((as_of - pd.Timedelta(days=WINDOW) - START).days)
    join = rng.uniform(0, cutoff_day - 5, n_customers)
    rate = rng.gamma(1.5, 1 / 45, n_customers)  # purchases per day, mean gap ~30 days
    if predictable:
        end = np.minimum(join + rng.exponential(250, n_customers), float((as_of - START).days))
    else:
        end = np.full(n_customers, cutoff_day)
    # a Poisson process on [join, end) after the first purchase at join: a Poisson count of uniform times
    extra = rng.poisson(rate * np.maximum(end - join, 0))
    owner = np.concatenate([np.arange(n_customers), np.repeat(np.arange(n_customers), extra)])
    day = np.concatenate([join, rng.uniform(np.repeat(join, extra), np.repeat(end, extra))])
    if not predictable:
        coin = np.flatnonzero(rng.random(n_customers) < 0.5)
        owner = np.concatenate([owner, coin])
        day = np.concatenate([day, cutoff_day + rng.uniform(0, WINDOW - 1, len(coin))])
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    invoice = np.arange(len(owner))
    n_lines = rng.integers(1, 4, len(owner))
    owner, day, invoice = (np.repeat(a, n_lines) for a in (owner, day, invoice))
    df = pd.DataFrame(
        {
            "customer_id": pd.Series(owner).map("C{:05d}".format).astype("string"),
            "invoice_id": pd.Series(invoice).map("I{:07d}".format).astype("string"),
            "invoice_date": START + pd.to_timedelta(np.round(day * 86400), unit="s"),
            "quantity": rng.integers(1, 10, len(owner)).astype(float),
            "unit_price": rng.choice([1.25, 2.5, 4.95, 9.9], len(owner)),
        }
    )
    return _complete(df)


@pytest.fixture(scope="session")
def predictable_lines() -> pd.DataFrame:
    return simulate(2500, seed=1, predictable=True)


@pytest.fixture(scope="session")
def noise_lines() -> pd.DataFrame:
    return simulate(2500, seed=2, predictable=False)
