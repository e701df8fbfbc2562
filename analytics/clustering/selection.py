"""Choosing the number of clusters: fit each k on a sample, score it, recommend one k with a reason.

Scores per k: inertia (within-cluster sum of squares, for the elbow), silhouette (higher is better,
-1..1), Davies-Bouldin (lower is better), Calinski-Harabasz (higher is better) and, for the Gaussian
mixture, BIC (lower is better). All are computed on the same fixed-size random sample, so a scan over
2-10 on 200k customers costs about as much as on 10k.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

from analytics.clustering.methods import NOISE, Fit, cut_ward, fit_gmm, fit_kmeans, gmm_bic, ward_tree

SELECTION_COLUMNS: tuple[str, ...] = ("inertia", "silhouette", "davies_bouldin", "calinski_harabasz", "bic")


def sample_indices(n: int, size: int, random_state: int) -> np.ndarray:
    """Sorted positions of a uniform random sample of min(n, size) rows (all rows when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def silhouette_scores(X: np.ndarray, label_sets: Sequence[np.ndarray], chunk: int = 512) -> np.ndarray:
    """Mean silhouette (Euclidean) of each labelling of the same rows, in one pass over the distances.

    Equal to sklearn's silhouette_score for each labelling (to float32 precision), but the n x n
    distances are computed once (in row chunks, so memory is chunk x n) and summed per cluster for
    every labelling by one matrix product. Singletons score 0, as in sklearn; a labelling with fewer
    than 2 clusters gives NaN.
    """
    n = len(X)
    indicators, offsets = [], [0]
    for labels in label_sets:
        k = int(labels.max()) + 1
        one_hot = np.zeros((n, k))
        one_hot[np.arange(n), labels] = 1.0
        indicators.append(one_hot)
        offsets.append(offsets[-1] + k)
    # float32 halves the time of the dominant n x n work; the mean silhouette moves by ~1e-6
    stacked = np.hstack(indicators).astype(np.float32)
    sums = np.empty((n, stacked.shape[1]))
    X = (X - X.mean(axis=0)).astype(np.float32)  # centring keeps |x|^2 + |y|^2 - 2xy accurate in float32
    squared = (X**2).sum(axis=1)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        distances = squared[start:stop, None] + squared[None, :] - 2.0 * X[start:stop] @ X.T
        np.sqrt(np.maximum(distances, 0.0, out=distances), out=distances)
        sums[start:stop] = distances @ stacked
    scores = np.full(len(label_sets), np.nan)
    rows = np.arange(n)
    for i, labels in enumerate(label_sets):
        per_cluster = sums[:, offsets[i] : offsets[i + 1]]
        counts = np.bincount(labels).astype(float)
        if (counts > 0).sum() < 2:
            continue
        own = per_cluster[rows, labels] / np.maximum(counts[labels] - 1.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            other = per_cluster / counts
        other[rows, labels] = np.inf
        other[:, counts == 0] = np.inf
        nearest_other = other.min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            silhouette = (nearest_other - own) / np.maximum(own, nearest_other)
        silhouette[(counts[labels] <= 1) | ~np.isfinite(silhouette)] = 0.0
        scores[i] = silhouette.mean()
    return scores


def inertia(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squared distances to the cluster means (noise rows ignored)."""
    total = 0.0
    for label in np.unique(labels[labels != NOISE]):
        members = X[labels == label]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def score_range(
    X: np.ndarray, method: str, ks: Iterable[int], random_state: int
) -> tuple[pd.DataFrame, dict[int, Fit]]:
    """Fit ``method`` ("kmeans", "gmm" or "agglomerative") for each k on X and score it.

    Returns the selection table (index k, SELECTION_COLUMNS; bic only for gmm, NaN otherwise) and the
    fits by k, so the chosen one can be extended to all customers without refitting from scratch.
    """
    if method not in ("kmeans", "gmm", "agglomerative"):
        raise ValueError(f"k is not scanned for method {method!r}")
    ks = sorted(set(int(k) for k in ks))
    # single-threaded: fits on a sample are too small to gain from threads, and spinning OpenMP threads
    # on a busy machine made them many times slower
    with threadpool_limits(limits=1):
        tree = ward_tree(X) if method == "agglomerative" else None
        fits: dict[int, Fit] = {}
        for k in ks:
            if method == "kmeans":
                fits[k] = fit_kmeans(X, k, random_state)
            elif method == "gmm":
                fits[k] = fit_gmm(X, k, random_state)
            else:
                fits[k] = cut_ward(X, tree, k)
        silhouettes = silhouette_scores(X, [fits[k].labels for k in ks])
    rows = []
    for k, silhouette in zip(ks, silhouettes):
        labels = fits[k].labels
        several = len(np.unique(labels)) >= 2
        rows.append(
            {
                "k": k,
                "inertia": inertia(X, labels),
                "silhouette": silhouette,
                "davies_bouldin": davies_bouldin_score(X, labels) if several else np.nan,
                "calinski_harabasz": calinski_harabasz_score(X, labels) if several else np.nan,
                "bic": gmm_bic(X, fits[k].params) if method == "gmm" else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("k"), fits


SILHOUETTE_TOLERANCE = 0.05
"""Silhouettes within this (absolute) of the best count as equally well separated; among those the largest
k is chosen, because more segments give marketing more to act on at no real cost in separation."""
MIN_USEFUL_K = 3
"""Smallest k chosen automatically when the range allows it: two segments ("valuable" / "lapsed") are too
coarse to run campaigns on."""


def choose_k(
    table: pd.DataFrame,
    method: str,
    k: int | None = None,
    n_scored: int | None = None,
    n_total: int | None = None,
    tolerance: float = SILHOUETTE_TOLERANCE,
    min_k: int = MIN_USEFUL_K,
) -> tuple[int, str]:
    """The largest k >= ``min_k`` whose silhouette is within ``tolerance`` of the best, or the user's ``k``,
    and a sentence why.

    When no k >= ``min_k`` is within the tolerance, the best-separated k >= ``min_k`` is taken and the
    sentence says how much separation that costs; when the range has no k >= ``min_k``, the best k in it.
    The sentence also says whether Davies-Bouldin, Calinski-Harabasz (and BIC for gmm) agree, how strong the
    structure is (Kaufman & Rousseeuw's silhouette bands) and whether scores come from a sample.
    """
    scored = table["silhouette"].dropna()
    lo, hi = int(table.index.min()), int(table.index.max())
    if scored.empty:
        best = lo if k is None else k
        return best, f"k={best}: no k in {lo}-{hi} could be scored (too few distinct customers)"
    best = int(scored.idxmax())
    useful = scored[scored.index >= min_k]
    if useful.empty:
        useful = scored
    close = useful[useful >= scored[best] - tolerance]
    preferred = int(close.index.max()) if not close.empty else int(useful.idxmax())
    if k is None:
        chosen = preferred
        if chosen == best:
            reason = f"k={best} has the highest silhouette ({scored[best]:.2f}) among {lo}-{hi}"
        elif not close.empty:
            reason = (f"k={chosen} is the largest k >= {min_k} whose silhouette ({scored[chosen]:.2f}) is within "
                      f"{tolerance:.2f} of the best (k={best}, {scored[best]:.2f}) among {lo}-{hi}: as well "
                      f"separated, and more segments to act on")
        else:
            reason = (f"k={chosen} has the highest silhouette among k >= {min_k} ({scored[chosen]:.2f}); k={best} "
                      f"separates better ({scored[best]:.2f}) but gives too few segments to act on")
    else:
        chosen = int(k)
        reason = f"k={chosen} was set by hand (silhouette {table.loc[chosen, 'silhouette']:.2f})"
        if preferred != chosen:
            reason += f"; the automatic rule would choose k={preferred} ({scored[preferred]:.2f})"
    opinions = [
        ("Davies-Bouldin", table["davies_bouldin"], "min"),
        ("Calinski-Harabasz", table["calinski_harabasz"], "max"),
    ]
    if method == "gmm":
        opinions.append(("BIC", table["bic"], "min"))
    agree, disagree = [], []
    for label, column, direction in opinions:
        column = column.dropna()
        if column.empty:
            continue
        preferred = int(column.idxmin() if direction == "min" else column.idxmax())
        if preferred == chosen:
            agree.append(label)
        else:
            disagree.append(f"{label} prefers k={preferred}")
    if agree:
        reason += f"; {_join(agree)} {'agrees' if len(agree) == 1 else 'agree'}"
    if disagree:
        reason += f"; {_join(disagree)}"
    reason += f". {_structure(float(table.loc[chosen, 'silhouette']))}"
    if n_scored is not None and n_total is not None and n_scored < n_total:
        reason += f" Scores use a random sample of {n_scored:,} of {n_total:,} customers."
    return chosen, reason


def dbscan_table(X: np.ndarray, labels: np.ndarray, eps: float, min_samples: int) -> pd.DataFrame:
    """One-row table (index = clusters found) scoring a DBSCAN labelling; silhouette etc. exclude noise."""
    clustered = labels != NOISE
    found = len(np.unique(labels[clustered]))
    row = {
        "k": found,
        "inertia": inertia(X, labels),
        "silhouette": np.nan,
        "davies_bouldin": np.nan,
        "calinski_harabasz": np.nan,
        "bic": np.nan,
        "eps": eps,
        "min_samples": min_samples,
        "noise_share": float((~clustered).mean()),
    }
    if found >= 2 and clustered.sum() > found:
        X_in, labels_in = X[clustered], np.unique(labels[clustered], return_inverse=True)[1]
        row["silhouette"] = float(silhouette_scores(X_in, [labels_in])[0])
        row["davies_bouldin"] = davies_bouldin_score(X_in, labels_in)
        row["calinski_harabasz"] = calinski_harabasz_score(X_in, labels_in)
    return pd.DataFrame([row]).set_index("k")


def dbscan_reason(table: pd.DataFrame, eps_from_knee: bool, n_scored: int, n_total: int) -> str:
    """A sentence on what DBSCAN found and where eps came from."""
    row = table.iloc[0]
    found = int(table.index[0])
    source = "the k-distance knee" if eps_from_knee else "set by hand"
    reason = (
        f"DBSCAN found {found} dense group{'s' if found != 1 else ''} with eps={row['eps']:.2f} ({source}, "
        f"min_samples={int(row['min_samples'])}); {row['noise_share']:.1%} of customers are unusual (noise)"
    )
    if np.isfinite(row["silhouette"]):
        structure = _structure(row["silhouette"]).lower()
        reason += f". Silhouette without noise {row['silhouette']:.2f}: {structure}"
    else:
        reason += "."
    if n_scored < n_total:
        reason += f" Fitted on a random sample of {n_scored:,} of {n_total:,} customers, the rest assigned."
    return reason


def _structure(silhouette: float) -> str:
    # Kaufman & Rousseeuw (1990) bands for the average silhouette width.
    if silhouette > 0.7:
        return "Strong cluster structure."
    if silhouette > 0.5:
        return "Reasonable cluster structure."
    if silhouette > 0.25:
        return "Weak cluster structure: read the groups as a useful partition rather than natural types."
    return "No substantial cluster structure: the groups are a convenient partition of a continuum."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
