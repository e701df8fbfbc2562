import numpy as np
import pandas as pd
import pytest

from analytics.clustering.methods import NOISE
from analytics.clustering.profile import PROFILE_COLUMNS, cluster_profile
from analytics.errors import DataError


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "recency_days": [2.0, 4.0, 300.0, 200.0, 100.0, 50.0],
            "frequency": [10, 20, 1, 1, 2, 30],
            "monetary": [1000.0, 3000.0, 20.0, 40.0, 140.0, 800.0],
        },
        index=pd.Index(list("abcdef"), name="customer_id"),
    )


LABELS = pd.Series([0, 0, 1, 1, 1, NOISE], index=list("abcdef"))
NAMES = {0: "High-value loyal", 1: "Lapsed one-timers", NOISE: "Unusual customers"}


def test_sizes_shares_and_means():
    table = cluster_profile(customers(), LABELS, NAMES)
    assert list(table.columns) == list(PROFILE_COLUMNS)
    assert list(table.index) == [0, 1, NOISE]  # by revenue, noise last
    assert table.loc[0, "name"] == "High-value loyal"
    assert table["customers"].tolist() == [2, 3, 1]
    assert table["customer_share"].sum() == pytest.approx(1.0)
    assert table["revenue_share"].sum() == pytest.approx(1.0)
    assert table.loc[0, "revenue_share"] == pytest.approx(4000 / 5000)
    assert table.loc[1, "mean_recency_days"] == pytest.approx(200.0)
    assert table.loc[1, "mean_frequency"] == pytest.approx(4 / 3)
    assert table.loc[0, "mean_monetary"] == pytest.approx(2000.0)
    assert table["mean_clv"].isna().all() and table["mean_churn_probability"].isna().all()


def test_clv_and_churn_are_averaged_when_present():
    table = customers().assign(
        clv=[100.0, 300.0, 1.0, 2.0, 3.0, 50.0], churn_probability=[0.1, 0.3, 0.9, 0.8, np.nan, 0.5]
    )
    profile = cluster_profile(table, LABELS, NAMES)
    assert profile.loc[0, "mean_clv"] == pytest.approx(200.0)
    assert profile.loc[1, "mean_churn_probability"] == pytest.approx(0.85)  # NaN skipped


def test_revenue_order_not_label_order():
    labels = pd.Series([1, 1, 0, 0, 0, 0], index=list("abcdef"))
    table = cluster_profile(customers(), labels, {0: "x", 1: "y"})
    assert list(table.index) == [1, 0]


def test_customer_without_label_is_a_data_error():
    with pytest.raises(DataError, match="no cluster label.*f"):
        cluster_profile(customers(), LABELS.drop("f"), NAMES)
