"""Simulated customer tables with clearly separated groups, so cluster assignments can be checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

# (recency_days, frequency, monetary) geometric centres of three customer types
GROUPS = {
    "champions": (5.0, 20.0, 5000.0),
    "middle": (60.0, 4.0, 300.0),
    "lapsed": (300.0, 1.0, 30.0),
}


def make_customers(
    sizes: dict[str, int], seed: int = 0, spread: float = 0.15
) -> tuple[pd.DataFrame, pd.Series]:
    """Customer table (index customer_id) and the true group of each customer.

    Log-normal scatter of ``spread`` around each centre; frequency is a whole number of invoices (the
    middle and lapsed groups buy exactly 4 and 1 times, so the groups are dense in every direction).
    """
    rng = np.random.default_rng(seed)
    frames, truth = [], []
    for group, n in sizes.items():
        recency, frequency, monetary = GROUPS[group]
        frequency_spread = spread if frequency >= 10 else 0.0
        frames.append(
            pd.DataFrame(
                {
                    "recency_days": np.exp(rng.normal(np.log(recency), spread, n)),
                    "frequency": np.maximum(
                        1, np.round(np.exp(rng.normal(np.log(frequency), frequency_spread, n)))
                    ),
                    "monetary": np.exp(rng.normal(np.log(monetary), spread, n)),
                }
            )
        )
        truth += [group] * n
    customers = pd.concat(frames, ignore_index=True)
    customers["frequency"] = customers["frequency"].astype(int)
    customers.index = pd.Index([f"C{i:05d}" for i in range(len(customers))], name="customer_id")
    order = rng.permutation(len(customers))  # interleave groups so no method can lean on row order
    customers = customers.iloc[order]
    return customers, pd.Series(np.asarray(truth)[order], index=customers.index, name="group")


@pytest.fixture
def three_groups() -> tuple[pd.DataFrame, pd.Series]:
    return make_customers({"champions": 150, "middle": 250, "lapsed": 300})


@pytest.fixture
def customers_factory():
    """make_customers, for tests that need other sizes or seeds."""
    return make_customers
