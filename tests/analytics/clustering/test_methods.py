import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from analytics.clustering.methods import (
    NOISE,
    assign,
    cluster_means,
    cut_ward,
    extend_to_all,
    fit_dbscan,
    fit_gmm,
    fit_kmeans,
    gmm_bic,
    kdistance_knee,
    nearest,
    relabel,
    ward_tree,
)

CENTRES = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 3.0]])


def blobs(n_per: int = 200, seed: int = 0, scale: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.vstack([c + rng.normal(0.0, scale, (n_per, 3)) for c in CENTRES])
    truth = np.repeat(np.arange(len(CENTRES)), n_per)
    return X, truth


def test_kmeans_recovers_blobs_and_centres():
    X, truth = blobs()
    fit = fit_kmeans(X, 3, random_state=0)
    assert adjusted_rand_score(truth, fit.labels) == 1.0
    np.testing.assert_allclose(np.sort(fit.params["centers"], axis=0), np.sort(CENTRES, axis=0), atol=0.1)


def test_gmm_assignment_matches_sklearn_predict():
    X, _ = blobs(seed=1)
    fit = fit_gmm(X, 3, random_state=0)
    model = GaussianMixture(3, covariance_type="full", random_state=0).fit(X)
    model.weights_, model.means_ = fit.params["weights"], fit.params["means"]
    model.covariances_ = fit.params["covariances"]
    model.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(fit.params["covariances"]))
    probe = np.random.default_rng(2).normal(2.0, 3.0, (500, 3))
    np.testing.assert_array_equal(assign("gmm", fit.params, probe), model.predict(probe))
    assert gmm_bic(X, fit.params) == pytest.approx(model.bic(X), rel=1e-9)


def test_ward_cut_matches_sklearn_agglomerative():
    X, _ = blobs(n_per=80, scale=1.2, seed=3)  # overlapping, so the tree shape matters
    tree = ward_tree(X)
    for k in (2, 4, 6):
        ours = cut_ward(X, tree, k).labels
        theirs = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
        assert adjusted_rand_score(ours, theirs) == 1.0


def test_knee_eps_separates_within_blob_distances_from_outliers():
    X, _ = blobs(scale=0.3)
    outliers = np.array([[20.0, 20.0, 20.0], [-15.0, 10.0, 0.0], [10.0, -12.0, 8.0]])
    X = np.vstack([X, outliers])
    eps = kdistance_knee(X, min_samples=6)
    assert 0.1 < eps < 3.0  # bigger than typical neighbour gaps, far below blob separation (6)
    fit = fit_dbscan(X, eps, 6)
    assert (fit.labels[-3:] == NOISE).all()
    assert len(np.unique(fit.labels[:-3])) == 3
    assert (fit.labels[:-3] != NOISE).mean() > 0.97


def test_dbscan_assignment_uses_core_points_within_eps():
    X, _ = blobs(scale=0.3)
    fit = fit_dbscan(X, 0.6, 6)
    far = np.array([[3.0, 3.0, 30.0]])
    assert assign("dbscan", fit.params, far)[0] == NOISE
    near_centres = assign("dbscan", fit.params, CENTRES)
    assert (near_centres != NOISE).all() and len(set(near_centres)) == 3


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative", "dbscan"])
def test_fit_on_sample_then_extend_matches_full_fit(method):
    X, truth = blobs(n_per=400, scale=0.3, seed=4)
    sample = np.sort(np.random.default_rng(0).choice(len(X), 200, replace=False))
    if method == "kmeans":
        sample_fit = fit_kmeans(X[sample], 3, 0)
    elif method == "gmm":
        sample_fit = fit_gmm(X[sample], 3, 0)
    elif method == "agglomerative":
        sample_fit = cut_ward(X[sample], ward_tree(X[sample]), 3)
    else:
        sample_fit = fit_dbscan(X[sample], kdistance_knee(X[sample], 6), 6)
    full = extend_to_all(method, X, sample, sample_fit, 0)
    if method in ("agglomerative", "dbscan"):
        np.testing.assert_array_equal(full.labels[sample], sample_fit.labels)
    if method != "dbscan":
        assert adjusted_rand_score(truth, full.labels) == 1.0
        return
    # DBSCAN leaves Gaussian fringes as noise; compare with DBSCAN on all rows where both cluster a point
    reference = fit_dbscan(X, kdistance_knee(X, 6), 6).labels
    both = (full.labels != NOISE) & (reference != NOISE)
    assert both.mean() > 0.9
    assert adjusted_rand_score(reference[both], full.labels[both]) == 1.0
    assert adjusted_rand_score(truth[both], full.labels[both]) == 1.0


@pytest.mark.parametrize("method", ["kmeans", "gmm", "dbscan"])
def test_relabel_keeps_params_consistent_with_labels(method):
    X, _ = blobs(seed=5, scale=0.3)
    fit = {"kmeans": lambda: fit_kmeans(X, 3, 0), "gmm": lambda: fit_gmm(X, 3, 0),
           "dbscan": lambda: fit_dbscan(X, 0.6, 6)}[method]()
    order = np.array([2, 0, 1])
    moved = relabel(method, fit, order)
    for new, old in enumerate(order):
        np.testing.assert_array_equal(moved.labels == new, fit.labels == old)
    np.testing.assert_array_equal(assign(method, moved.params, X), moved.labels)


def test_nearest_and_cluster_means():
    rng = np.random.default_rng(6)
    X, centers = rng.normal(size=(1000, 3)), rng.normal(size=(5, 3))
    brute = np.argmin(((X[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)
    np.testing.assert_array_equal(nearest(X, centers, chunk=97), brute)
    labels = np.array([0, 0, 1, NOISE])
    values = np.array([[1.0], [3.0], [5.0], [100.0]])
    np.testing.assert_allclose(cluster_means(values, labels), [[2.0], [5.0]])
