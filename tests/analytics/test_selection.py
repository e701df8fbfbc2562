import numpy as np
import pandas as pd
import pytest

from analytics.selection import display_sample, group_summary, high_value_at_risk, radar_profile


@pytest.fixture
def customers():
    return pd.DataFrame(
        {
            "segment": ["Champions", "Champions", "Lost", "At Risk", "At Risk"],
            "cluster_name": ["A", "A", "B", "B", "A"],
            "country": ["UK", "France", "UK", "UK", None],
            "recency_days": [5.0, 10.0, 300.0, 120.0, 150.0],
            "frequency": [10, 8, 1, 4, 3],
            "monetary": [1000.0, 800.0, 20.0, 400.0, 300.0],
            "clv": [900.0, 700.0, 5.0, 350.0, 100.0],
            "churn_probability": [0.1, 0.2, 0.95, 0.7, 0.6],
            "action": ["Reward", "Reward", "Let go", "Win back", "Win back"],
        },
        index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer_id"),
    )


def test_high_value_at_risk_uses_top_quartile_and_threshold(customers):
    rows, definition = high_value_at_risk(customers, churn_threshold=0.5)
    cutoff = customers["clv"].quantile(0.75)  # 700
    expected = customers[(customers["clv"] >= cutoff) & (customers["churn_probability"] >= 0.5)]
    assert list(rows.index) == list(expected.index)
    rows, _ = high_value_at_risk(customers, churn_threshold=0.15, clv_quantile=0.5)
    assert list(rows.index) == ["c2", "c4"]  # CLV >= median 350 and churn > 15 %, sorted by CLV
    assert "15%" in high_value_at_risk(customers, 0.15)[1]


def test_group_summary_shares_and_means(customers):
    summary = group_summary(customers)
    assert summary["customers"].sum() == 5
    assert summary.loc["Champions", "revenue_share"] == pytest.approx(1800 / 2520)
    assert summary.loc["At Risk", "mean_recency_days"] == pytest.approx(135)
    assert summary.loc["Lost", "action"] == "Let go"
    assert summary["revenue_share"].sum() == pytest.approx(1.0)


def test_radar_is_on_one_scale_and_recency_is_reversed(customers):
    profile = radar_profile(customers)
    assert ((profile >= 0) & (profile <= 1)).all().all()
    assert profile.loc["Champions", "Recency"] > profile.loc["Lost", "Recency"]
    assert profile.loc["Champions", "Monetary"] > profile.loc["Lost", "Monetary"]
    assert profile.loc["Champions", "Retention"] > profile.loc["Lost", "Retention"]


def test_display_sample_is_bounded_and_stable():
    frame = pd.DataFrame({"x": np.arange(1000)})
    first, second = display_sample(frame, 100), display_sample(frame, 100)
    assert len(first) == 100 and first.index.equals(second.index)
    assert display_sample(frame, 5000) is frame
