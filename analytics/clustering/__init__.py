"""Customer clustering: KMeans, Gaussian mixture, Ward and DBSCAN on log-scaled, standardised RFM.

>>> model = CustomerClustering(method="kmeans").fit(features)   # features indexed by customer_id
>>> model.labels_, model.names_, model.k_, model.k_reason_, model.selection_, model.profile_
>>> model.record()   # the frozen ClusteringRecord the pipeline keeps in the results

Fitted attributes are plain data (pandas, numpy, dicts): the estimator pickles without scikit-learn
objects, so it can go into the results cache and still ``predict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from threadpoolctl import threadpool_limits

from analytics.clustering.methods import (
    METHODS,
    NOISE,
    WARD_MAX_SAMPLE,
    Fit,
    assign,
    cluster_means,
    extend_to_all,
    fit_dbscan,
    kdistance_knee,
    relabel,
)
from analytics.clustering.naming import NOISE_NAME, cluster_zscores, name_clusters
from analytics.clustering.preprocessing import (
    RFM_FEATURES,
    SCALERS,
    FeatureTransform,
    fit_transform,
    rfm_zscores,
)
from analytics.clustering.profile import cluster_profile
from analytics.clustering.selection import choose_k, dbscan_reason, dbscan_table, sample_indices, score_range
from analytics.errors import DataError

__all__ = [
    "ClusteringRecord",
    "CustomerClustering",
    "cluster_profile",
    "name_clusters",
    "METHODS",
    "SCALERS",
    "RFM_FEATURES",
    "NOISE",
    "NOISE_NAME",
    "FeatureTransform",
]


@dataclass(frozen=True, eq=False)
class ClusteringRecord:
    """What a clustering run leaves in the results: the method, the k chosen and why, the selection
    diagnostics (one row per k tried, ``k`` a column; see CustomerClustering.selection_) and each
    cluster's name."""

    method: str
    k: int
    k_reason: str
    selection: pd.DataFrame
    names: Mapping[int, str]

    def summary(self) -> dict[str, Any]:
        return {"method": self.method, "k": self.k, "k_reason": self.k_reason,
                "selection": self.selection, "names": dict(self.names)}


class CustomerClustering:
    """Cluster customers and name the clusters.

    method: "kmeans", "gmm" (full-covariance Gaussian mixture), "agglomerative" (Ward) or "dbscan".
    k: number of clusters; None = chosen over ``k_range`` (inclusive) by silhouette (see ``choose_k``: the
        largest k >= 3 within a tolerance of the best). Ignored by DBSCAN.
    scaler: "standard" (mean/sd) or "robust" (median/IQR), applied after log1p of RFM.
    features: customer-table columns to cluster on; RFM are always log1p-transformed.
    sample_size: rows used to scan k, compute silhouettes and fit Ward / DBSCAN when there are more
        customers (Ward: at most WARD_MAX_SAMPLE, its memory is quadratic); the rest are then assigned
        (Ward: nearest cluster mean, DBSCAN: nearest core point within eps).
    eps, min_samples: DBSCAN only; None = eps at the k-distance knee, min_samples = 2 x number of features.

    Fitted: labels_ (Series per customer, NOISE = -1 for DBSCAN noise), names_ {label: name}, k_,
    k_reason_, selection_ (index k; inertia, silhouette, davies_bouldin, calinski_harabasz, bic - NaN
    unless gmm; DBSCAN: one row for the clusters found, scored without noise, plus eps, min_samples,
    noise_share),
    centers_ (per cluster, original units: the back-transformed centre in log-scaled space, i.e. a
    "typical" customer rather than the arithmetic mean), profile_ (see cluster_profile), params_
    (the model as arrays), transform_, n_sample_ (rows used for selection).
    Clusters are numbered by descending mean monetary value (0 = the highest-spending cluster).
    """

    def __init__(
        self,
        method: str = "kmeans",
        k: int | None = None,
        k_range: tuple[int, int] = (2, 10),
        scaler: str = "standard",
        features: Sequence[str] = RFM_FEATURES,
        sample_size: int = 10_000,
        random_state: int = 0,
        eps: float | None = None,
        min_samples: int | None = None,
    ) -> None:
        self.method = method
        self.k = k
        self.k_range = k_range
        self.scaler = scaler
        self.features = features
        self.sample_size = sample_size
        self.random_state = random_state
        self.eps = eps
        self.min_samples = min_samples

    def fit(self, features_df: pd.DataFrame) -> "CustomerClustering":
        """Fit on a customer feature table indexed by customer_id (recency_days, frequency, monetary, ...)."""
        self._check_params()
        # One thread each for BLAS and OpenMP: the fits on a 10k sample are too small to gain from threads,
        # and on a busy machine (web + worker processes) spinning OpenMP threads made KMeans 30x slower.
        with threadpool_limits(limits=1):
            return self._fit(features_df)

    def _fit(self, features_df: pd.DataFrame) -> "CustomerClustering":
        X, self.transform_ = fit_transform(features_df, self.features, self.scaler)
        n = len(X)
        if n < 3:
            raise DataError(f"clustering needs at least 3 customers; the customer table has {n}")
        size = min(self.sample_size, WARD_MAX_SAMPLE) if self.method == "agglomerative" else self.sample_size
        sample = sample_indices(n, size, self.random_state)
        self.n_sample_ = len(sample)
        if self.method == "dbscan":
            sample_fit = self._fit_dbscan_sample(X[sample], n)
        else:
            sample_fit = self._scan_k(X[sample], n)
        fit = extend_to_all(self.method, X, sample, sample_fit, self.random_state)
        fit = self._order_by_value(fit, features_df)
        self.params_ = fit.params
        self.labels_ = pd.Series(fit.labels, index=features_df.index, name="cluster")
        found = np.unique(fit.labels[fit.labels != NOISE])
        self.k_ = len(found)
        self.centers_ = pd.DataFrame(
            self.transform_.inverse_transform(self._scaled_centers(X, fit)[found]),
            index=pd.Index(found, name="cluster"),
            columns=list(self.transform_.features),
        )
        median_frequency = features_df["frequency"].groupby(fit.labels).median()
        names = name_clusters(cluster_zscores(rfm_zscores(features_df), self.labels_), median_frequency)
        self.names_ = {int(label): name for label, name in names.items()}
        self.profile_ = cluster_profile(features_df, self.labels_, self.names_)
        return self

    def record(self) -> ClusteringRecord:
        """The fitted model as the results keep it."""
        return ClusteringRecord(method=self.method, k=int(self.k_), k_reason=self.k_reason_,
                                selection=self.selection_.reset_index(), names=dict(self.names_))

    def predict(self, features_df: pd.DataFrame) -> pd.Series:
        """Cluster of each customer in a feature table with the same columns (DBSCAN: NOISE when far)."""
        if not hasattr(self, "params_"):
            raise DataError("the clustering model is not fitted yet; call fit first")
        labels = assign(self.method, self.params_, self.transform_.transform(features_df))
        return pd.Series(labels, index=features_df.index, name="cluster")

    def _check_params(self) -> None:
        problems = []
        if self.method not in METHODS:
            problems.append(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if self.scaler not in SCALERS:
            problems.append(f"scaler {self.scaler!r} is not one of {', '.join(SCALERS)}")
        lo, hi = self.k_range
        if not 2 <= lo <= hi:
            problems.append(f"k range {lo}-{hi} must satisfy 2 <= min <= max")
        if self.k is not None and self.k < 2:
            problems.append(f"number of clusters {self.k} must be at least 2")
        if self.sample_size < 10:
            problems.append(f"sample size {self.sample_size} is too small (at least 10)")
        if self.eps is not None and self.eps <= 0:
            problems.append(f"eps {self.eps} must be positive")
        if self.min_samples is not None and self.min_samples < 2:
            problems.append(f"min_samples {self.min_samples} must be at least 2")
        if problems:
            raise DataError("invalid clustering parameters: " + "; ".join(problems))

    def _scan_k(self, X_sample: np.ndarray, n_total: int) -> Fit:
        distinct = len(np.unique(X_sample, axis=0))
        k_max = min(self.k_range[1], distinct, len(X_sample) - 1)
        if k_max < 2:
            raise DataError(
                f"only {distinct} distinct customer profile(s) among {len(X_sample)} customers; "
                "clustering needs at least 3 customers with at least 2 different profiles"
            )
        if self.k is not None and self.k > k_max:
            raise DataError(
                f"cannot form {self.k} clusters from {len(X_sample)} customers "
                f"with {distinct} distinct profiles"
            )
        ks = set(range(min(self.k_range[0], k_max), k_max + 1))
        if self.k is not None:
            ks.add(self.k)
        self.selection_, fits = score_range(X_sample, self.method, ks, self.random_state)
        chosen, self.k_reason_ = choose_k(self.selection_, self.method, self.k, len(X_sample), n_total)
        return fits[chosen]

    def _fit_dbscan_sample(self, X_sample: np.ndarray, n_total: int) -> Fit:
        min_samples = self.min_samples or 2 * X_sample.shape[1]
        eps = self.eps if self.eps is not None else kdistance_knee(X_sample, min_samples)
        fit = fit_dbscan(X_sample, eps, min_samples)
        self.selection_ = dbscan_table(X_sample, fit.labels, eps, min_samples)
        self.k_reason_ = dbscan_reason(self.selection_, self.eps is None, len(X_sample), n_total)
        return fit

    def _scaled_centers(self, X: np.ndarray, fit: Fit) -> np.ndarray:
        if self.method == "gmm":
            return fit.params["means"]
        if self.method == "dbscan":
            return cluster_means(X, fit.labels)
        return fit.params["centers"]

    def _order_by_value(self, fit: Fit, features_df: pd.DataFrame) -> Fit:
        """Renumber clusters by descending mean monetary so labels are stable across runs and methods."""
        clustered = fit.labels != NOISE
        if not clustered.any():
            return fit
        monetary = features_df["monetary"].to_numpy(dtype=float)
        k = int(fit.labels[clustered].max()) + 1
        sums = np.bincount(fit.labels[clustered], weights=monetary[clustered], minlength=k)
        counts = np.bincount(fit.labels[clustered], minlength=k)
        means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
        return relabel(self.method, fit, np.argsort(-means, kind="stable"))
