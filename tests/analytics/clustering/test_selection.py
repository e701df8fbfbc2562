import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score

from analytics.clustering.methods import NOISE
from analytics.clustering.selection import (
    SELECTION_COLUMNS,
    choose_k,
    dbscan_table,
    inertia,
    sample_indices,
    score_range,
    silhouette_scores,
)

CENTRES = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [0.0, 5.0, 2.0]])


def blobs(n_per: int = 150, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.vstack([c + rng.normal(0.0, 0.4, (n_per, 3)) for c in CENTRES])


def test_silhouette_scores_match_sklearn_including_singletons():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3)) * [1.0, 50.0, 2000.0] + [0.0, 1e3, 1e5]  # offsets test float32 accuracy
    labellings = [rng.integers(0, k, 300) for k in (2, 3, 7)]
    singleton = np.zeros(300, dtype=int)
    singleton[:150], singleton[5] = 1, 2
    labellings.append(singleton)
    ours = silhouette_scores(X, labellings, chunk=64)
    theirs = [silhouette_score(X, labels) for labels in labellings]
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_single_cluster_labelling_scores_nan():
    X = blobs()
    assert np.isnan(silhouette_scores(X, [np.zeros(len(X), dtype=int)])[0])


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative"])
def test_score_range_on_three_blobs(method):
    X = blobs()
    table, fits = score_range(X, method, range(2, 8), random_state=0)
    assert list(table.columns) == list(SELECTION_COLUMNS)
    assert list(table.index) == list(range(2, 8)) and set(fits) == set(range(2, 8))
    assert table["silhouette"].between(-1, 1).all()
    assert table["silhouette"].idxmax() == 3
    assert table["davies_bouldin"].idxmin() == 3
    assert table["calinski_harabasz"].idxmax() == 3
    assert table.loc[3, "inertia"] < 0.2 * table.loc[2, "inertia"]  # the elbow
    if method == "gmm":
        assert table["bic"].notna().all()
    else:
        assert table["bic"].isna().all()
    for k, fit in fits.items():
        assert inertia(X, fit.labels) == pytest.approx(table.loc[k, "inertia"])


def table_of(silhouette, davies_bouldin, calinski_harabasz, bic=None) -> pd.DataFrame:
    ks = range(2, 2 + len(silhouette))
    return pd.DataFrame(
        {
            "inertia": np.linspace(100, 10, len(silhouette)),
            "silhouette": silhouette,
            "davies_bouldin": davies_bouldin,
            "calinski_harabasz": calinski_harabasz,
            "bic": bic if bic is not None else [np.nan] * len(silhouette),
        },
        index=pd.Index(ks, name="k"),
    )


def test_choose_k_highest_silhouette_and_agreement_in_words():
    table = table_of([0.30, 0.41, 0.35, 0.20], [0.9, 0.6, 0.7, 1.1], [100, 300, 250, 200])
    k, reason = choose_k(table, "kmeans")
    assert k == 3
    assert "k=3 has the highest silhouette (0.41) among 2-5" in reason
    assert "Davies-Bouldin and Calinski-Harabasz agree" in reason
    assert "Weak cluster structure" in reason


def test_choose_k_floor_of_three_reports_disagreement_and_bic_for_gmm():
    # k=2 separates best, but no k >= 3 comes within the tolerance: the best k >= 3 is taken and the cost said
    table = table_of([0.55, 0.41, 0.35], [0.9, 0.6, 0.7], [100, 300, 250], bic=[50.0, 40.0, 30.0])
    k, reason = choose_k(table, "gmm", n_scored=10_000, n_total=200_000)
    assert k == 3
    assert "k=2 separates better (0.55) but gives too few segments" in reason
    assert "BIC prefers k=4" in reason and "Davies-Bouldin and Calinski-Harabasz agree" in reason
    assert "sample of 10,000 of 200,000 customers" in reason


def test_choose_k_largest_within_tolerance_and_user_k_is_explained():
    table = table_of([0.5, 0.6, 0.57, 0.50], [0.9, 0.6, 0.7, 0.8], [100, 300, 250, 200])
    k, reason = choose_k(table, "kmeans")
    assert k == 4 and "largest k >= 3 whose silhouette (0.57) is within 0.05 of the best (k=3, 0.60)" in reason
    assert choose_k(table, "kmeans", tolerance=0.01)[0] == 3
    assert choose_k(table, "kmeans", min_k=2, tolerance=0.2)[0] == 5
    k, reason = choose_k(table, "kmeans", k=2)
    assert k == 2 and "set by hand" in reason and "the automatic rule would choose k=4" in reason


def test_choose_k_when_the_range_stops_below_three():
    table = table_of([0.5], [0.9], [100])
    assert choose_k(table, "kmeans")[0] == 2


def test_sample_indices():
    np.testing.assert_array_equal(sample_indices(50, 100, 0), np.arange(50))
    picked = sample_indices(10_000, 500, 7)
    assert len(picked) == len(np.unique(picked)) == 500
    assert (np.diff(picked) > 0).all()
    np.testing.assert_array_equal(picked, sample_indices(10_000, 500, 7))
    assert not np.array_equal(picked, sample_indices(10_000, 500, 8))


def test_dbscan_table_scores_without_noise():
    X = np.vstack([blobs(), [[30.0, 30.0, 30.0], [-30.0, 0.0, 5.0]]])
    labels = np.concatenate([np.repeat([0, 1, 2], 150), [NOISE, NOISE]])
    table = dbscan_table(X, labels, eps=0.5, min_samples=6)
    assert list(table.index) == [3]
    row = table.iloc[0]
    assert row["noise_share"] == pytest.approx(2 / len(X))
    assert row["silhouette"] == pytest.approx(silhouette_score(X[:-2], labels[:-2]), abs=1e-5)
    assert row["eps"] == 0.5 and row["min_samples"] == 6
