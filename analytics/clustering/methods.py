"""The four clustering methods on a scaled feature matrix, with fitted models kept as plain arrays.

Every fit returns a ``Fit``: integer labels (DBSCAN noise = ``NOISE``) and a ``params`` dict of numpy
arrays and numbers from which ``assign`` labels new rows. No scikit-learn object outlives a call, so
fitted results can be cached and pickled.

Large data: a model is fitted on a sample and ``extend_to_all`` brings it to every row (KMeans and the
Gaussian mixture are refined on all rows from the sample solution; Ward and DBSCAN assign the rest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.cluster import DBSCAN, KMeans
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

METHODS: tuple[str, ...] = ("kmeans", "gmm", "agglomerative", "dbscan")
NOISE = -1

# Restarts while scanning k on the sample; the final fit starts from the winning sample solution.
SELECTION_N_INIT = 3
# Ward needs all n(n-1)/2 distances: 5,000 rows = 100 MB and ~1 s; 10,000 would be 400 MB and ~4 s.
WARD_MAX_SAMPLE = 5_000


@dataclass
class Fit:
    """Labels per row (0..k-1, NOISE for DBSCAN noise) and the model as plain data.

    params by method: kmeans / agglomerative ``centers`` (k x d, scaled space); gmm ``weights`` (k),
    ``means`` (k x d), ``covariances`` (k x d x d); dbscan ``eps``, ``min_samples``, ``core_points``
    (scaled rows of the fitted sample), ``core_labels``.
    """

    labels: np.ndarray
    params: dict = field(default_factory=dict)


def fit_kmeans(X: np.ndarray, k: int, random_state: int, init: np.ndarray | None = None) -> Fit:
    """KMeans (Lloyd) with SELECTION_N_INIT k-means++ restarts, or one run from ``init`` centres."""
    model = KMeans(
        n_clusters=k,
        init="k-means++" if init is None else init,
        n_init=SELECTION_N_INIT if init is None else 1,
        random_state=random_state,
    ).fit(X)
    return Fit(model.labels_.astype(int), {"centers": model.cluster_centers_.copy()})


def fit_gmm(X: np.ndarray, k: int, random_state: int, init: dict | None = None) -> Fit:
    """Full-covariance Gaussian mixture; ``init`` (a previous gmm Fit's params) warm-starts EM."""
    if init is None:
        model = GaussianMixture(n_components=k, covariance_type="full", random_state=random_state)
    else:
        model = GaussianMixture(
            n_components=k,
            covariance_type="full",
            random_state=random_state,
            weights_init=init["weights"],
            means_init=init["means"],
            precisions_init=np.linalg.inv(init["covariances"]),
        )
    model.fit(X)
    params = {
        "weights": model.weights_.copy(),
        "means": model.means_.copy(),
        "covariances": model.covariances_.copy(),
    }
    return Fit(assign("gmm", params, X), params)


def gmm_bic(X: np.ndarray, params: dict) -> float:
    """Bayesian information criterion of a full-covariance mixture on X (lower is better)."""
    k, d = params["means"].shape
    n_params = (k - 1) + k * d + k * d * (d + 1) / 2
    log_likelihood = _logsumexp(_gmm_weighted_log_density(X, params)).sum()
    return float(-2.0 * log_likelihood + n_params * np.log(len(X)))


def ward_tree(X: np.ndarray) -> np.ndarray:
    """Ward linkage matrix; O(n^2) memory, so only ever called on a sample."""
    # imported here: SciPy's hierarchy module costs every run 20 ms of imports and only Ward uses it
    from scipy.cluster.hierarchy import linkage

    return linkage(X, method="ward")


def cut_ward(X: np.ndarray, tree: np.ndarray, k: int) -> Fit:
    """Cut a Ward tree into (at most, when heights tie) k clusters; centres are cluster means."""
    from scipy.cluster.hierarchy import fcluster

    raw = fcluster(tree, t=k, criterion="maxclust")
    _, labels = np.unique(raw, return_inverse=True)
    return Fit(labels.astype(int), {"centers": cluster_means(X, labels)})


def kdistance_knee(X: np.ndarray, min_samples: int) -> float:
    """DBSCAN eps at the knee of the sorted k-distance curve (k = min_samples, the point itself included).

    The knee is the point of the ascending curve farthest below the chord from its first to its last
    point, both axes scaled to [0, 1].
    """
    n_neighbors = min(min_samples, len(X))
    distances, _ = NearestNeighbors(n_neighbors=n_neighbors).fit(X).kneighbors(X)
    curve = np.sort(distances[:, -1])
    span = curve[-1] - curve[0]
    if span <= 0:
        return float(curve[-1]) if curve[-1] > 0 else 1e-6
    x = np.linspace(0.0, 1.0, len(curve))
    y = (curve - curve[0]) / span
    return float(curve[int(np.argmax(x - y))])


def fit_dbscan(X: np.ndarray, eps: float, min_samples: int) -> Fit:
    """DBSCAN; noise points get NOISE. Core points are kept to label new rows."""
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    labels = model.labels_.astype(int)
    core = model.core_sample_indices_
    params = {
        "eps": float(eps),
        "min_samples": int(min_samples),
        "core_points": X[core].copy(),
        "core_labels": labels[core].copy(),
    }
    return Fit(labels, params)


def extend_to_all(method: str, X: np.ndarray, sample: np.ndarray, sample_fit: Fit, random_state: int) -> Fit:
    """Bring a model fitted on ``X[sample]`` to every row of X.

    KMeans and the mixture are refitted on all rows starting from the sample solution (cheap, and exact
    when the sample is all rows). Ward and DBSCAN keep the sample's labels and assign the other rows to
    the nearest cluster mean / nearest core point within eps.
    """
    if method == "kmeans":
        k = len(sample_fit.params["centers"])
        return fit_kmeans(X, k, random_state, init=sample_fit.params["centers"])
    if method == "gmm":
        k = len(sample_fit.params["weights"])
        return fit_gmm(X, k, random_state, init=sample_fit.params)
    labels = assign(method, sample_fit.params, X)
    labels[sample] = sample_fit.labels
    return Fit(labels, sample_fit.params)


def assign(method: str, params: dict, X: np.ndarray) -> np.ndarray:
    """Labels for the rows of a scaled matrix under a fitted model's params."""
    if method in ("kmeans", "agglomerative"):
        return nearest(X, params["centers"])
    if method == "gmm":
        return np.argmax(_gmm_weighted_log_density(X, params), axis=1).astype(int)
    if method == "dbscan":
        labels = np.full(len(X), NOISE, dtype=int)
        if len(params["core_points"]) == 0:
            return labels
        distance, index = NearestNeighbors(n_neighbors=1).fit(params["core_points"]).kneighbors(X)
        within = distance[:, 0] <= params["eps"]
        labels[within] = params["core_labels"][index[within, 0]]
        return labels
    raise ValueError(f"unknown clustering method {method!r}")


def nearest(X: np.ndarray, centers: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """Index of the nearest centre (Euclidean) for each row, in chunks to bound memory."""
    labels = np.empty(len(X), dtype=int)
    centers_sq = (centers**2).sum(axis=1)
    for start in range(0, len(X), chunk):
        block = X[start : start + chunk]
        labels[start : start + chunk] = np.argmin(centers_sq[None, :] - 2.0 * block @ centers.T, axis=1)
    return labels


def cluster_means(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean row per label 0..max(label); noise (negative labels) ignored."""
    keep = labels >= 0
    k = int(labels[keep].max()) + 1 if keep.any() else 0
    counts = np.bincount(labels[keep], minlength=k).astype(float)
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels[keep], X[keep])
    return sums / np.maximum(counts, 1.0)[:, None]


def relabel(method: str, fit: Fit, order: np.ndarray) -> Fit:
    """Renumber clusters so that old label ``order[i]`` becomes i; NOISE stays NOISE."""
    mapping = np.empty(len(order), dtype=int)
    mapping[order] = np.arange(len(order))
    labels = np.where(fit.labels >= 0, mapping[np.maximum(fit.labels, 0)], NOISE)
    params = dict(fit.params)
    if method in ("kmeans", "agglomerative"):
        params["centers"] = params["centers"][order]
    elif method == "gmm":
        for key in ("weights", "means", "covariances"):
            params[key] = params[key][order]
    elif method == "dbscan":
        params["core_labels"] = mapping[params["core_labels"]]
    return Fit(labels.astype(int), params)


def _gmm_weighted_log_density(X: np.ndarray, params: dict) -> np.ndarray:
    """log(weight_j) + log N(x | mean_j, cov_j), shape (n, k)."""
    n, d = X.shape
    out = np.empty((n, len(params["weights"])))
    for j, (weight, mean, cov) in enumerate(zip(params["weights"], params["means"], params["covariances"])):
        chol = np.linalg.cholesky(cov)
        standardized = solve_triangular(chol, (X - mean).T, lower=True)
        log_det = 2.0 * np.log(np.diag(chol)).sum()
        out[:, j] = np.log(weight) - 0.5 * ((standardized**2).sum(axis=0) + log_det + d * np.log(2.0 * np.pi))
    return out


def _logsumexp(values: np.ndarray) -> np.ndarray:
    top = values.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(values - top).sum(axis=1, keepdims=True)))[:, 0]
