import pandas as pd
import pytest

from analytics.trends import cohort_retention, monthly_activity


def _lines(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "invoice_id", "invoice_date", "revenue"])
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    frame["is_return"] = frame["revenue"] < 0
    return frame


@pytest.fixture
def lines():
    return _lines(
        [
            ("a", "1", "2021-01-05", 100.0),
            ("a", "2", "2021-02-10", 50.0),
            ("a", "C2", "2021-02-11", -20.0),
            ("b", "3", "2021-01-20", 30.0),
            ("b", "4", "2021-03-02", 10.0),
            ("c", "5", "2021-02-01", 40.0),
        ]
    )


def test_monthly_activity_counts_by_hand(lines):
    table = monthly_activity(lines).set_index("month")
    feb = table.loc[pd.Timestamp("2021-02-01")]
    assert feb["net_revenue"] == pytest.approx(70.0)
    assert feb["purchase_revenue"] == pytest.approx(90.0)
    assert feb["returns"] == pytest.approx(20.0)
    assert feb["active_customers"] == 2  # a and c; the return is not a purchase
    assert feb["new_customers"] == 1  # c
    assert table["new_customers"].sum() == 3


def test_cohort_retention_by_hand(lines):
    shares = cohort_retention(lines)
    jan = shares.loc[pd.Timestamp("2021-01-01")]
    assert jan[0] == 1.0
    assert jan[1] == pytest.approx(0.5)  # a bought in Feb, b did not
    assert jan[2] == pytest.approx(0.5)  # b bought in March
    feb = shares.loc[pd.Timestamp("2021-02-01")]
    assert feb[1] == 0.0  # c did not buy in March, which the data covers
    assert pd.isna(feb[2])  # April is after the data ends: unknown, not zero
