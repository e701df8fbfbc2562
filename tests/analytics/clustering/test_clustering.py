"""The public estimator, end to end on simulated customers with known groups."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from analytics.clustering import NOISE, NOISE_NAME, CustomerClustering
from analytics.clustering.selection import SELECTION_COLUMNS
from analytics.errors import DataError

from .conftest import GROUPS


def majority(labels: pd.Series, truth: pd.Series, group: str) -> int:
    return int(labels[truth == group].mode().iloc[0])


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative"])
def test_auto_k_finds_the_three_groups(three_groups, method):
    customers, truth = three_groups
    model = CustomerClustering(method=method).fit(customers)
    assert model.k_ == 3
    assert adjusted_rand_score(truth, model.labels_) == 1.0
    assert model.labels_.index.equals(customers.index)
    assert "k=3 has the highest silhouette" in model.k_reason_
    assert list(model.selection_.index) == list(range(2, 11))
    assert set(SELECTION_COLUMNS) <= set(model.selection_.columns)
    assert model.selection_["silhouette"].between(-1, 1).all()
    assert model.selection_["bic"].notna().all() == (method == "gmm")


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative", "dbscan"])
def test_names_centres_and_order_follow_the_groups(three_groups, method):
    customers, truth = three_groups
    model = CustomerClustering(method=method).fit(customers)
    champions, lapsed = majority(model.labels_, truth, "champions"), majority(model.labels_, truth, "lapsed")
    assert champions == 0  # clusters are numbered by descending spend
    assert "high-value" in model.names_[champions].lower()
    assert "lapsed" in model.names_[lapsed].lower() and "one-time" in model.names_[lapsed].lower()
    assert len(set(model.names_.values())) == len(model.names_)
    recency, frequency, monetary = GROUPS["champions"]
    centre = model.centers_.loc[champions]
    assert centre["monetary"] == pytest.approx(monetary, rel=0.1)
    assert centre["recency_days"] == pytest.approx(recency, rel=0.1)
    assert centre["frequency"] == pytest.approx(frequency, rel=0.1)
    assert list(model.centers_.columns) == ["recency_days", "frequency", "monetary"]


OUTLIERS = pd.DataFrame(
    {
        "recency_days": [0.0, 700.0, 150.0, 3.0, 500.0],
        "frequency": [300, 1, 60, 2, 40],
        "monetary": [900_000.0, 0.5, 2.0, 20_000.0, 10.0],
    },
    index=pd.Index([f"X{i}" for i in range(5)], name="customer_id"),
)


def test_dbscan_finds_groups_and_flags_injected_outliers(three_groups):
    customers, truth = three_groups
    model = CustomerClustering(method="dbscan").fit(pd.concat([customers, OUTLIERS]))
    assert model.k_ == 3
    assert (model.labels_[OUTLIERS.index] == NOISE).all()
    assert model.names_[NOISE] == NOISE_NAME
    clustered = model.labels_[customers.index]
    kept = clustered != NOISE
    assert kept.mean() > 0.95
    assert adjusted_rand_score(truth[kept], clustered[kept]) == 1.0
    assert "DBSCAN found 3 dense groups" in model.k_reason_ and "k-distance knee" in model.k_reason_
    assert model.selection_.iloc[0]["noise_share"] == pytest.approx((model.labels_ == NOISE).mean())
    assert model.profile_.index[-1] == NOISE


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative"])
def test_sample_and_assign_equals_full_fit(customers_factory, method):
    customers, _ = customers_factory({"champions": 400, "middle": 700, "lapsed": 900}, seed=3)
    full = CustomerClustering(method=method, sample_size=10_000).fit(customers)
    sampled = CustomerClustering(method=method, sample_size=300).fit(customers)
    assert sampled.n_sample_ == 300 and full.n_sample_ == len(customers)
    assert "sample of 300 of 2,000 customers" in sampled.k_reason_
    assert sampled.k_ == full.k_ == 3
    # same groups, and the same numbers too, because clusters are numbered by spend
    assert (sampled.labels_ == full.labels_).all()


@pytest.mark.parametrize("seed", [3, 4])
def test_dbscan_sample_and_assign_equals_full_fit(customers_factory, seed):
    customers, _ = customers_factory({"champions": 400, "middle": 700, "lapsed": 900}, seed=seed)
    customers = pd.concat([customers, OUTLIERS])
    full = CustomerClustering(method="dbscan").fit(customers)
    sampled = CustomerClustering(method="dbscan", sample_size=300).fit(customers)
    assert full.k_ == sampled.k_ == 3
    assert (sampled.labels_[OUTLIERS.index] == NOISE).all()
    both = (full.labels_ != NOISE) & (sampled.labels_ != NOISE)
    assert both.mean() > 0.97
    assert (full.labels_[both] == sampled.labels_[both]).all()
    assert "random sample of 300 of 2,005 customers" in sampled.k_reason_


def test_dbscan_without_outliers_in_larger_data_is_fragile_and_says_so(customers_factory):
    # No noise means no real knee: eps lands inside the sparsest group, which then splits along its
    # whole-number frequencies. Documented behaviour, not a goal; the reason must still be truthful.
    customers, _ = customers_factory({"champions": 1000, "middle": 1500, "lapsed": 2000}, seed=4)
    model = CustomerClustering(method="dbscan").fit(customers)
    assert f"DBSCAN found {model.k_} dense groups" in model.k_reason_
    assert len(set(model.names_.values())) == len(model.names_)


def test_predict_reproduces_labels_after_pickling(three_groups):
    customers, _ = three_groups
    model = CustomerClustering(method="gmm").fit(customers)
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_series_equal(restored.predict(customers), model.labels_)
    new = customers.iloc[:5].copy()
    new.index = [f"new{i}" for i in range(5)]
    assert restored.predict(new).tolist() == model.labels_.iloc[:5].tolist()


def test_fitted_state_is_plain_data(three_groups):
    customers, _ = three_groups
    for method in ("kmeans", "gmm", "agglomerative", "dbscan"):
        model = CustomerClustering(method=method).fit(customers)
        for value in model.params_.values():
            assert isinstance(value, (np.ndarray, int, float)), (method, type(value))
        assert not any("sklearn" in type(v).__module__ for v in vars(model).values())


def test_user_k_and_robust_scaler(three_groups):
    customers, truth = three_groups
    model = CustomerClustering(k=4, scaler="robust").fit(customers)
    assert model.k_ == 4 and model.labels_.nunique() == 4
    assert "set by hand" in model.k_reason_ and "the automatic rule would choose k=3" in model.k_reason_
    assert len(set(model.names_.values())) == 4
    robust = CustomerClustering(scaler="robust").fit(customers)
    assert robust.k_ == 3 and adjusted_rand_score(truth, robust.labels_) == 1.0


def test_behaviour_features_can_be_added(three_groups):
    customers, _ = three_groups
    rng = np.random.default_rng(0)
    customers = customers.assign(peak_share=rng.uniform(0.0, 1.0, len(customers)))
    features = ("recency_days", "frequency", "monetary", "peak_share")
    model = CustomerClustering(features=features, k_range=(2, 6)).fit(customers)
    assert list(model.centers_.columns) == list(features)
    assert model.labels_.nunique() == model.k_


def test_profile_table_uses_clv_and_churn_when_present(three_groups):
    customers, truth = three_groups
    customers = customers.assign(clv=np.where(truth == "champions", 1000.0, 10.0), churn_probability=0.5)
    model = CustomerClustering().fit(customers)
    assert model.profile_.loc[0, "mean_clv"] == pytest.approx(1000.0)
    assert model.profile_["mean_churn_probability"].eq(0.5).all()
    assert model.profile_["customers"].sum() == len(customers)
    assert set(model.profile_["name"]) == set(model.names_.values())


def test_bad_input_and_parameters_raise_data_error(three_groups):
    customers, _ = three_groups
    with pytest.raises(DataError, match="method"):
        CustomerClustering(method="spectral").fit(customers)
    with pytest.raises(DataError, match="k range"):
        CustomerClustering(k_range=(5, 3)).fit(customers)
    with pytest.raises(DataError, match="distinct"):
        CustomerClustering().fit(pd.concat([customers.iloc[:1]] * 5))
    with pytest.raises(DataError, match="cannot form 50 clusters"):
        CustomerClustering(k=50).fit(customers.iloc[:20])
    with pytest.raises(DataError, match="at least 3 customers"):
        CustomerClustering(method="dbscan").fit(customers.iloc[:2])
    with pytest.raises(DataError, match="not fitted"):
        CustomerClustering().predict(customers)


def test_small_table_caps_k_range(customers_factory):
    customers, _ = customers_factory({"champions": 3, "lapsed": 3}, seed=1)
    model = CustomerClustering().fit(customers)
    assert model.selection_.index.max() <= len(customers) - 1
    # two real groups, but the rule asks for at least three segments and says what that costs
    assert model.k_ == 3 and "too few segments to act on" in model.k_reason_
    assert CustomerClustering(k_range=(2, 2)).fit(customers).k_ == 2


def test_dbscan_with_tiny_eps_calls_everyone_unusual(three_groups):
    customers, _ = three_groups
    model = CustomerClustering(method="dbscan", eps=1e-9).fit(customers)
    assert model.k_ == 0 and (model.labels_ == NOISE).all()
    assert model.names_ == {NOISE: NOISE_NAME}
    assert model.centers_.empty and model.profile_["customers"].tolist() == [len(customers)]
    assert "found 0 dense groups" in model.k_reason_ and "set by hand" in model.k_reason_
    assert (model.predict(customers) == NOISE).all()


def test_names_are_plain_ints_for_the_cache(three_groups):
    customers, _ = three_groups
    model = CustomerClustering().fit(customers)
    assert all(type(label) is int for label in model.names_)
    assert model.labels_.map(model.names_).notna().all()
