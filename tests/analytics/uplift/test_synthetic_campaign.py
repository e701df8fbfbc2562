"""The synthetic retailer's campaign test: deterministic, on top of the unchanged base log, known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.synthetic import DEFAULT_CAMPAIGN, CampaignParams, simulate_retail


@pytest.fixture(scope="module")
def pair():
    return simulate_retail(100_000, seed=0), simulate_retail(100_000, seed=0, campaign=DEFAULT_CAMPAIGN)


def _lines(frame: pd.DataFrame) -> pd.DataFrame:
    """Lines without their invoice numbers (the campaign renumbers invoices in time order)."""
    return frame.drop(columns="InvoiceNo").sort_values(list(frame.columns.drop("InvoiceNo"))).reset_index(drop=True)


def test_base_log_is_untouched_outside_the_treated_customers_window(pair):
    base, with_test = pair
    c = with_test.campaign
    treated = set(c.assignment.loc[c.assignment["group"] == "treatment", "customer_id"].astype(float))
    start, end = c.sent_on, c.sent_on + pd.Timedelta(days=c.window_days)

    def untouched(frame):
        moved = frame["CustomerID"].isin(treated) & (frame["InvoiceDate"] >= start)
        return _lines(frame[~moved])

    pd.testing.assert_frame_equal(untouched(base.transactions), untouched(with_test.transactions))
    added = len(with_test.transactions) - len(base.transactions)
    assert added > 0
    extra = with_test.transactions.merge(base.transactions.drop(columns="InvoiceNo"), how="left", indicator=True)
    new = extra[extra["_merge"] == "left_only"]
    assert new["CustomerID"].isin(treated).all()
    assert new["InvoiceDate"].between(start, end).all()


def test_invoice_numbers_still_follow_time(pair):
    raw = pair[1].transactions
    first = raw.groupby("InvoiceNo", sort=False)["InvoiceDate"].first()
    order = first.index.str.lstrip("C").astype(int)
    assert first.iloc[np.argsort(order)].is_monotonic_increasing


def test_truth_is_heterogeneous_as_designed(pair):
    c = pair[1].campaign
    truth = c.customers.groupby("truth_class")["true_uplift"]
    assert truth.max()["lost cause"] == 0 and truth.min()["lost cause"] == 0
    assert truth.max()["sure thing"] == 0
    assert truth.min()["persuadable"] > 0
    assert truth.max()["sleeping dog"] < 0 and truth.size()["sleeping dog"] < 0.05 * len(c.customers)
    assert set(c.assignment["group"]) == {"treatment", "control"}
    assert pair[1].truth["campaign"]["true_average_uplift"] == pytest.approx(c.true_average_uplift)


def test_deterministic_and_checked():
    a = simulate_retail(20_000, seed=3, campaign=DEFAULT_CAMPAIGN)
    b = simulate_retail(20_000, seed=3, campaign=DEFAULT_CAMPAIGN)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.campaign.customers, b.campaign.customers)
    from analytics.errors import DataError

    with pytest.raises(DataError, match="must lie inside the log"):
        simulate_retail(2_000, seed=3, campaign=CampaignParams(sent_on="2011-12-01", window_days=30))
