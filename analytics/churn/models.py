"""The churn estimator: fit on the leak-free frame, evaluate on held-out customers, score the coming window.

``ChurnModel.fit(lines, as_of)``:

1. labels and features as of ``cutoff = as_of - window`` (:mod:`analytics.churn.labels`), features for
   the customers of the samples below only;
2. a stratified split (fixed seed): fit on the training customers, evaluate on the held-out ones next to
   the baselines on the *same* customers (recency rule; 1 - P(alive) and P(no purchase in the window) from
   a BG/NBD fitted on the pre-cutoff data of the customers compared) and, for comparison, the other model
   types; on a large base the split is drawn from a stratified, seeded sample of at most ``max_compared``
   labelled customers (:data:`MAX_COMPARED`);
3. refit on the labelled customers (a stratified, seeded sample of at most ``max_refit``,
   :data:`MAX_REFIT`, on a large base) and score every current customer with features as of ``as_of``:
   the probability of no purchase in the coming ``window_days``, with the top drivers in words.

With too little data (fewer than ``min_class`` customers in a class) it falls back to a heuristic, flagged
by ``heuristic_`` and explained by ``reason_``; it never raises on small data.

Memory, measured on the 10M-line synthetic log (324k customers, the step alone, RSS): the step's peak above
the lines fell from 534 to 276 MB when the pre-cutoff history kept only the columns the features read, the
current feature table was no longer copied, and the drivers were phrased a block of customers at a time
(``DRIVER_ROWS``: the phrasing held eight customers x features arrays at once, 210 MB at 324k customers).

CPU, the step alone as the pipeline runs it (one BLAS and one OpenMP thread; least of four runs, on a host
busy with other work): 1M-line log 2.94 to 2.99 -> 2.63 to 2.74 CPU s, Online Retail 0.79 to 0.84 -> 0.77 to
0.80, every output identical to the bit. The permutation importance asks again only the trees that split on
the shuffled feature (:class:`TreeSums`), the model choice weighs its bootstrap resamples in blocks
(:func:`_weighted_aucs`), the evaluation reads its AUCs off the curves it draws, and the drivers find their
distinct phrase combinations by one number per customer. What is left is mostly gradient-boosting fits (60 %
of the step on the 1M-line log: the comparison's three fold models and full model, the forest, the refit),
whose settings were tried and left: the forest stopping after 10 iterations without improvement instead of
20 (as calibrated boosting does) gave equal or better held-out figures on both logs over four splits, but on
the 1M-line log's own split the forest then edged calibrated boosting (ROC AUC 0.74224 against 0.74216) and
became the scoring model, for no CPU saved (2.62 against 2.63 s); 63 bins instead of 255 cost Online
Retail's held-out ROC AUC 0.003 (forest) and 0.001 (boosting) over six splits for 0.03 to 0.04 CPU s a fit,
and on the 1M-line log took more iterations than it saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import threadpool_limits

from analytics import schema as S
from analytics.churn import evaluation, explain
from analytics.churn.labels import (
    FeatureFn,
    bgnbd_scores,
    canonical_lines,
    churn_labels,
    churn_training_frame,
    default_feature_fn,
    history_before,
    label_cutoff,
    lines_of,
)
from analytics.errors import DataError
from analytics.features import LINE_COLUMNS

MODELS: dict[str, str] = {
    "logistic": "logistic regression",
    "forest": "tree ensemble (histogram gradient boosting)",
    "boosting": "calibrated gradient boosting (isotonic, 3-fold)",
}
AUC_BOOTSTRAP = 300
"""Paired bootstrap resamples of the held-out customers for the CI of an AUC difference."""
BOOTSTRAP_BLOCK = 25
"""Resamples weighed at once (bounds the memory: 25 x 12,000 held-out customers x 8 bytes, a few copies)."""
RECENCY = "recency rule"
DEAD = "1 - P(alive)"
NO_PURCHASE = "BG/NBD P(no purchase)"
HEURISTIC = "heuristic"
BASELINE_LABELS: dict[str, str] = {
    RECENCY: "churn rate by days since last purchase (monotone fit on training customers)",
    DEAD: "BG/NBD probability the customer is no longer active, fitted on pre-cutoff data",
    NO_PURCHASE: "BG/NBD probability of no purchase in the window, fitted on pre-cutoff data",
}

# Skewed counts, durations, money and ratios enter the models as sign(x) * log(1 + |x|).
LOG_FEATURES = frozenset(
    {"recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "unique_products",
     "mean_days_between", "overdue_ratio"}
)
ONE_TIMER = "is_one_timer"
OVERDUE = "overdue_ratio"
MAIN_COUNTRY = "main_country"
# The logistic model must give readable coefficients, so it leaves out features that are (nearly) functions
# of others on the log scale: monetary ~ frequency x order value, and the mean gap ~ (tenure - recency) /
# (purchase days - 1). It uses recency / own mean gap (``overdue_ratio``) instead. With them the held-out AUC
# on Online Retail moved by under 0.003 while coefficients flipped sign ("short gaps raise churn").
# The tree ensemble explains nothing and gets every feature.
LOGISTIC_EXCLUDED = frozenset({"monetary", "tenure_days", "mean_days_between"})
DRIVER_COUNT = 3
PERMUTATION_REPEATS = 5
"""Most shuffles of each feature (see PERMUTATION_SHUFFLED_ROWS for fewer, never under 2)."""
PERMUTATION_MAX_ROWS = 4_000
"""Held-out customers the permutation importance shuffles (a seeded sample when more). Importance is read
as a ranking, and 3,000 kept it: on the 10M-line synthetic log (12,000 held out) the top four features
came out in the same order as with 10,000 rows under two seeds, and the 5th and 6th swapped places between
those seeds at 10,000 rows too; the step fell from 6.3 to 1.9 CPU s. Online Retail holds out ~1,000, so
its importances are unchanged."""
PERMUTATION_SHUFFLED_ROWS = 8_000
"""Most rows each feature's shuffles predict, so that more held-out customers get fewer repeats: the ranking
varies with which customers are shuffled far more than with how often, so 4,000 customers shuffled twice
rank as well as 3,000 shuffled five times, for 55 % of the predictions. Spearman correlation with a precise
ranking (every held-out customer, 10 shuffles, two seeds), mean (lowest) over 8 seeds, 3,000 x 5 against
4,000 x 2: 10M-line log (forest, 12,000 held out) 0.857 (0.762) against 0.894 (0.821), 0.63 -> 0.35 CPU s;
1M-line log (calibrated boosting, 6,488 held out) 0.888 (0.703) against 0.872 (0.817), 0.58 -> 0.32 CPU s.
Online Retail's ~1,000 held-out customers still get 5 shuffles, so its importances are unchanged.
``importance_std`` is the spread over the shuffles only."""
MAX_COMPARED = 40_000
"""Most labelled customers the training / held-out split is drawn from (a stratified, seeded sample beyond
it; see :func:`stratified_sample`). 28,000 training and 12,000 held-out customers decide the model choice
as clearly as 149,000 and 64,000: on the 10M-line synthetic log (212,505 labelled) calibrated boosting
beat logistic regression by +0.014 ROC AUC either way (95 % bootstrap interval +0.010 to +0.017 against
+0.012 to +0.015 on every customer), the three models' held-out AUCs moved by under 0.003 (the
baselines' by under 0.005), and the churn step fell from 32.0 to 21.3 CPU s with this and MAX_REFIT.
Online Retail (3,362 labelled) and the 1M-line log (21,626) are not sampled.

The sample is drawn from the MAX_REFIT one, so that pre-cutoff features are computed for that sample's
customers only (10M-line log: 100,000 of 212,505, 1.0 instead of 2.1 CPU s), and the BG/NBD baselines are
fitted on the compared customers' pre-cutoff history: on the same 12,000 held-out customers, P(no purchase)
had ROC AUC 0.7430 and Brier 0.1903 whether fitted on these 40,000 or on all 212,505, 1 - P(alive) 0.5811 /
0.3970 against 0.5813 / 0.3966, for 0.29 instead of 1.49 CPU s. The nested sample holds other customers than
the independent one did, which moved the held-out figures as another seed would (forest, the model used:
ROC AUC 0.7436 -> 0.7428, Brier 0.1903 -> 0.1904; logistic 0.7302 -> 0.7304, 0.1951 -> 0.1944); the churn
step fell from 10.2 to 7.0 CPU s."""
ENSEMBLE_MAX_CUSTOMERS = 20_000
"""Calibrated boosting fitted on at most this many customers scores with the average of its three fold
models; on more, with one model refitted on all of them, calibrated on the three folds' out-of-fold scores
(a third of the prediction cost, which on the 10M-line log was the churn step's largest part). Averaging
pays on small data only. Held-out ROC AUC / Brier / mean |predicted - observed| over the calibration
bins, averaged against single: Online Retail (2,353 training customers) 0.754 / 0.198 / 0.015 against
0.749 / 0.199 / 0.022 (0.759 / 0.197 / 0.051 against 0.755 / 0.200 / 0.040 before the fold models
stopped early); 1M-line log (15,138) 0.742 / 0.189 / 0.016 against 0.742 / 0.189 / 0.013;
10M-line log (28,000) 0.740 / 0.191 / 0.010 against 0.740 / 0.191 / 0.009.

The refit's size decides, in the comparison too, so that the held-out figures describe the kind of model that
scores. The 1M-line log's comparison (15,138 training customers) used to average while its scoring model
(21,626) was single; judged as single, on the same 6,488 held-out customers: ROC AUC 0.7418 -> 0.7422, Brier
0.1890 -> 0.1887, mean |predicted - observed| 0.016 -> 0.013, and PR AUC 0.834 -> 0.826 (one model's
isotonic steps give 64 distinct probabilities instead of 1,189, and average precision counts tied customers
against it). Its permutation importance predicts through one model instead of three: churn step 4.1 -> 3.2
CPU s. The single model's refit on the compared customers is calibrated on the comparison's out-of-sample
scores (see :class:`CalibratedBoosting`)."""
FAST_MIN_CUSTOMERS = 50_000
"""Beyond this many refitted customers, the tree ensembles (comparison and refit alike, as for
ENSEMBLE_MAX_CUSTOMERS) learn at rate 0.1 with at most half the trees instead of 0.05: on the 10M-line log the
gradient-boosting fits and predictions fell from 5.3 to 3.5 CPU s (a busy machine; the churn step 10.7 ->
8.6 CPU s), for held-out ROC AUC 0.7428 -> 0.7422 (forest, the model used; PR AUC 0.8306 -> 0.8294, Brier
0.1904 -> 0.1905; boosting 0.7427 -> 0.7418). The refit on 100,000 customers, judged on the 112,505
labelled customers outside it (two seeds): ROC AUC 0.7442 -> 0.7440, Brier 0.1897 either way, mean
|predicted - observed| over ten equal-count bins 0.0050 -> 0.0040. On 15,138 training customers the
faster rate cost 0.0006 to 0.0008 of ROC AUC, so smaller bases keep 0.05."""
DRIVER_ROWS = 20_000
"""Customers whose drivers are phrased at once (bounds the memory of :meth:`ChurnModel._drivers`)."""
MIN_CAP = 100  # smaller samples could not be split into training, held-out and early-stopping parts
MAX_REFIT = 100_000
"""Most labelled customers the scoring model is refitted on (a stratified, seeded sample beyond it). On the
10M-line synthetic log, calibrated boosting judged on the same 63,752 held-out customers had ROC AUC
0.7428 / 0.7447 / 0.7457 / 0.7459 and Brier 0.1903 / 0.1896 / 0.1892 / 0.1891 when fitted on 28,000 /
56,000 / 100,000 / 148,753 customers (fits of 0.7 / 1.3 / 2.3 / 3.3 CPU s): past 100,000 more customers
buy nothing measurable, while the fit costs in proportion to them."""


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _signed_exp(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.expm1(np.abs(x))


def raw_inputs(features: pd.DataFrame, main_country: str | None = None) -> pd.DataFrame:
    """Candidate model inputs in natural units: the numeric/bool feature columns, ``is_one_timer`` (a single
    purchase day), ``overdue_ratio`` (days since the last purchase / own mean gap; NaN for one-timers) and
    ``main_country`` (1 when the customer's country is ``main_country``)."""
    numeric = [
        c for c in features.columns
        if (pd.api.types.is_numeric_dtype(features[c]) or pd.api.types.is_bool_dtype(features[c]))
        and not pd.api.types.is_datetime64_any_dtype(features[c])
    ]
    raw = features[numeric].astype("float64")
    if "mean_days_between" in raw.columns:
        raw[ONE_TIMER] = raw["mean_days_between"].isna().astype(float)
        if "recency_days" in raw.columns:
            raw[OVERDUE] = raw["recency_days"] / raw["mean_days_between"].where(raw["mean_days_between"] > 0)
    elif "frequency" in raw.columns:
        raw[ONE_TIMER] = (raw["frequency"] <= 1).astype(float)
    if main_country is not None and S.COUNTRY in features.columns:
        raw[MAIN_COUNTRY] = (features[S.COUNTRY] == main_country).to_numpy(dtype=float, na_value=0.0)
    return raw


def model_columns(model: str, raw: pd.DataFrame) -> list[str]:
    """The inputs ``model`` uses: informative columns (some value, not constant), minus the collinear ones
    for the logistic model."""
    excluded = LOGISTIC_EXCLUDED if model == "logistic" else frozenset()
    # two distinct values, NaN aside, found in the float array (pandas' nunique, per column and model, took
    # 0.07 CPU s at 21,626 customers)
    values = raw.to_numpy(dtype="float64")
    return [c for j, c in enumerate(raw.columns) if c not in excluded and _varies(values[:, j])]


def _varies(column: np.ndarray) -> bool:
    known = column[~np.isnan(column)]
    return bool(len(known)) and bool((known != known[0]).any())


def model_scale(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` with the skewed columns log-transformed (a fixed per-row map: nothing is learnt here)."""
    # in one float array, not column by column in the frame: at 324k customers pandas' column assignments
    # took most of the time
    values = raw.to_numpy(dtype="float64", copy=True)
    for j, c in enumerate(raw.columns):
        if c in LOG_FEATURES:
            values[:, j] = _signed_log(values[:, j])
    return pd.DataFrame(values, index=raw.index, columns=raw.columns)


def make_estimator(model: str, random_state: int = 0, n_customers: int = 0) -> ClassifierMixin:
    """Unfitted classifier on model-scale inputs (NaN allowed) for a scoring model fitted on ``n_customers``
    rows (the comparison fits the same kind on its training customers).

    Logistic regression: median imputation, standard scaling, L2-penalised fit with no class weighting, so
    its probabilities stay calibrated. Tree ensemble: histogram gradient boosting (handles NaN itself).
    Calibrated boosting: isotonic on three folds, averaged up to ENSEMBLE_MAX_CUSTOMERS, else one model.
    Both ensembles learn faster beyond FAST_MIN_CUSTOMERS.
    """
    if model == "logistic":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=1.0, max_iter=2000)),
            ]
        )
    fast = n_customers > FAST_MIN_CUSTOMERS
    if model == "forest":
        return HistGradientBoostingClassifier(
            learning_rate=0.1 if fast else 0.05, max_iter=150 if fast else 300, max_leaf_nodes=15,
            min_samples_leaf=40, l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
            n_iter_no_change=20, random_state=random_state,
        )
    if model == "boosting":
        # isotonic calibration on cross-fitted folds: boosting ranks well, but its raw probabilities drift.
        # Early stopping at every size, not only above scikit-learn's 10,000 rows: on Online Retail (2,353
        # training customers, six splits) held-out ROC AUC 0.741 -> 0.747, Brier 0.202 -> 0.200, 42 to 61
        # trees instead of 200 (0.72 -> 0.27 CPU s); 2,353 customers of the 10M-line log judged on the
        # 210,152 others, ROC AUC 0.717 -> 0.727, Brier 0.198 -> 0.195 (four samples)
        boosted = HistGradientBoostingClassifier(
            learning_rate=0.1 if fast else 0.05, max_iter=100 if fast else 200, max_leaf_nodes=15,
            min_samples_leaf=40, l2_regularization=1.0, early_stopping=True, random_state=random_state,
        )
        if n_customers <= ENSEMBLE_MAX_CUSTOMERS:
            return CalibratedClassifierCV(boosted, method="isotonic", cv=3, ensemble=True)
        return CalibratedBoosting(boosted)
    raise DataError(f"churn model {model!r} is not supported; expected one of {', '.join(MODELS)}")


class CalibratedBoosting(ClassifierMixin, BaseEstimator):
    """One boosted model fitted on every customer, its scores mapped to probabilities by isotonic regression
    on out-of-sample scores of the same customers: ``CalibratedClassifierCV(cv=3, ensemble=False)``, with the
    same probabilities when ``fit`` computes those scores itself (3 stratified folds).

    ``fit(X, y, scores)`` takes them from the caller instead, who must have scored each customer with a model
    that did not learn from it. The scoring model's refit on the compared customers is calibrated on the
    comparison's out-of-fold scores of its training customers and its full model's scores of the held-out
    ones, which saves the refit's three fold models: on the 1M-line log (21,626 labelled) the churn step fell
    from 3.4 to 2.8 CPU s. Judged on the 190,879 labelled customers of the 10M-line log outside such a refit
    (21,626 customers, 15,138 training; six seeds), the two calibrations were about as good: ROC AUC
    -0.0001 to +0.0008, Brier within 0.0002, and mean |predicted - observed| over ten equal-count bins
    0.0100 on average (0.0070 to 0.0126) against 0.0090 (0.0060 to 0.0110) with its own folds, a gap
    within the seeds' spread. A refit on a larger sample than the compared customers (the 10M-line log:
    100,000 against 28,000 training customers) keeps its own folds: calibrated on scores of models fitted on
    a fifth to a quarter of its customers, its bins were off by 0.0053 and 0.0099 instead of 0.0042 and
    0.0053 (two seeds). ``scores_`` keeps the scores calibrated on."""

    def __init__(self, estimator: HistGradientBoostingClassifier) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray, scores: np.ndarray | None = None) -> CalibratedBoosting:
        if scores is None:
            scores = cross_val_predict(clone(self.estimator), X, y, cv=StratifiedKFold(3),
                                       method="decision_function")
        self.scores_ = np.asarray(scores, dtype=float)
        self.classes_ = np.unique(y)
        self.model_ = clone(self.estimator).fit(X, y)
        self.isotonic_ = IsotonicRegression(out_of_bounds="clip").fit(self.scores_, y)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.model_.decision_function(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        churn = self.isotonic_.predict(self.decision_function(X))
        return np.column_stack([1 - churn, churn])

    def out_of_sample_scores(self, X: np.ndarray, fitted_on: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` of ``X`` from models that did not learn from them, this one fitted on rows
        ``fitted_on`` (in their order): the out-of-fold score for those, the full model's for the others."""
        where = pd.Index(fitted_on).get_indexer(rows)
        seen = where >= 0
        scores = np.empty(len(rows))
        scores[seen] = self.scores_[where[seen]]
        if (~seen).any():
            scores[~seen] = self.decision_function(X[rows[~seen]])
        return scores


class TreeSums:
    """Churn probabilities of a fitted tree ensemble (the forest, or calibrated boosting with one model) for
    ``repeats`` copies of rows ``X`` in which one column was shuffled, as the permutation importance asks.

    Each tree's values for ``X`` are computed once; for the copies only the trees that split on the shuffled
    column predict again, since every other tree gives a copied row its original row's value. The values are
    summed tree by tree from the baseline, as scikit-learn sums them, so the probabilities equal
    ``predict_proba``'s to the bit. On the 1M-line log (calibrated boosting, 73 trees, 16 features) a tree
    splits on a given feature half the time: the permutation importance fell from 0.41 to 0.27 CPU s."""

    def __init__(self, estimator: ClassifierMixin, X: np.ndarray, repeats: int) -> None:
        self.estimator, self.repeats = estimator, repeats
        self.booster = _booster(estimator)
        self.X = self.booster._preprocess_X(X, reset=False)  # the validation predict_proba does
        self.trees = [predictor for (predictor,) in self.booster._predictors]
        self.splits = [set(t.nodes["feature_idx"][t.nodes["is_leaf"] == 0].tolist()) for t in self.trees]
        self.values = [self._predict(t, self.X) for t in self.trees]

    @staticmethod
    def handles(estimator: ClassifierMixin) -> bool:
        booster = _booster(estimator)
        return isinstance(booster, HistGradientBoostingClassifier) and booster.n_trees_per_iteration_ == 1

    @classmethod
    def checked(cls, estimator: ClassifierMixin, X: np.ndarray, repeats: int) -> TreeSums | None:
        """``TreeSums`` for ``estimator``, or None where it cannot serve: a model it does not handle, or a
        scikit-learn whose private internals (read here, as scikit-learn's own ``predict`` reads them) differ
        from those this was written against, so that it fails or its probabilities for ``X`` are not
        ``predict_proba``'s to the bit. The caller then predicts every shuffled copy in full."""
        if not cls.handles(estimator):
            return None
        try:
            sums = cls(estimator, X, repeats)
            same = np.array_equal(sums.base(), estimator.predict_proba(X)[:, 1])
        except (AttributeError, TypeError, ValueError, IndexError, KeyError):
            return None
        return sums if same else None

    def base(self) -> np.ndarray:
        """Churn probabilities of the rows themselves."""
        return self._probability(self.values, len(self.X))

    def shuffled(self, stacked: np.ndarray, column: int) -> np.ndarray:
        """Churn probabilities of ``stacked`` (``repeats`` copies of the rows, ``column`` shuffled)."""
        stacked = self.booster._preprocess_X(stacked, reset=False)
        values = [self._predict(t, stacked) if column in used else np.tile(v, self.repeats)
                  for t, used, v in zip(self.trees, self.splits, self.values)]
        return self._probability(values, len(stacked))

    def _predict(self, tree, X: np.ndarray) -> np.ndarray:
        known, f_idx_map = self.booster._bin_mapper.make_known_categories_bitsets()
        return tree.predict(X, known, f_idx_map, _openmp_effective_n_threads())

    def _probability(self, values: list[np.ndarray], n: int) -> np.ndarray:
        raw = np.zeros(n, dtype=self.booster._baseline_prediction.dtype)
        raw += self.booster._baseline_prediction.ravel()
        for v in values:
            raw += v
        if isinstance(self.estimator, CalibratedBoosting):
            return self.estimator.isotonic_.predict(raw)
        return self.booster._loss.predict_proba(raw)[:, 1]


def _booster(estimator: ClassifierMixin) -> ClassifierMixin:
    return estimator.model_ if isinstance(estimator, CalibratedBoosting) else estimator


def stratified_sample(labels: np.ndarray, cap: int, min_class: int, random_state: int = 0) -> np.ndarray:
    """Sorted row positions of at most ``cap`` customers: every row when there are no more than ``cap``, else
    a random sample (seeded by ``random_state``) that keeps the churn rate (stratified on ``labels``). Every
    row too when such a sample would hold fewer than ``min_class`` of a class, which no model could learn
    from."""
    index = np.arange(len(labels))
    if len(index) <= cap or min(np.bincount(labels, minlength=2)) * cap < min_class * len(index):
        return index
    kept, _ = train_test_split(index, train_size=cap, stratify=labels, random_state=random_state)
    return np.sort(kept)


def choose_model(labels: np.ndarray, scores: dict[str, np.ndarray], default: str, candidates: list[str],
                 random_state: int = 0) -> tuple[str, str, dict[str, float]]:
    """Keep ``default`` unless the candidate with the best held-out ROC AUC beats it beyond noise: the 95 %
    paired-bootstrap interval of the AUC difference (same resampled customers for both) lies above 0.
    Returns (model used, the reason in words, {difference, ci_low, ci_high})."""
    aucs = {k: roc_auc_score(labels, scores[k]) for k in candidates if len(np.unique(labels)) == 2}
    if not aucs:
        return default, f"{MODELS[default]} is used (the held-out customers hold one class only)", {}
    best = max(aucs, key=aucs.get)
    if best == default:
        return default, (f"{MODELS[default]} is used: it has the best held-out ROC AUC "
                         f"({aucs[default]:.3f})"), {}
    rng = np.random.default_rng(random_state)
    positive = np.asarray(labels).astype(bool)
    # each model's scores ranked once; a resample is then a weighting of the customers (see _weighted_aucs)
    by_score = {k: _by_score(positive, scores[k]) for k in (best, default)}
    n = len(labels)
    differences = []
    for start in range(0, AUC_BOOTSTRAP, BOOTSTRAP_BLOCK):
        times = np.array([np.bincount(rng.integers(0, n, n), minlength=n)
                          for _ in range(min(BOOTSTRAP_BLOCK, AUC_BOOTSTRAP - start))], dtype=float)
        churned_drawn = times @ positive  # (whole counts: exact)
        times = times[(churned_drawn > 0) & (churned_drawn < n)]  # both classes drawn
        differences.append(_weighted_aucs(by_score[best], times) - _weighted_aucs(by_score[default], times))
    differences = np.concatenate(differences)
    low, high = np.quantile(differences, [0.025, 0.975])
    stats = {"difference": aucs[best] - aucs[default], "ci_low": float(low), "ci_high": float(high)}
    gap = (f"ROC AUC {aucs[best]:.3f} against {aucs[default]:.3f}, difference {stats['difference']:+.3f} "
           f"(95 % bootstrap interval {low:+.3f} to {high:+.3f})")
    if low > 0:
        return best, f"{MODELS[best]} is used: it beats {MODELS[default]} beyond noise, {gap}", stats
    return default, (f"{MODELS[default]} is used for its explanations: the best, {MODELS[best]}, is within "
                     f"noise of it, {gap}"), stats


def _by_score(positive: np.ndarray, scores: np.ndarray) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Which churned and which other customers hold each distinct score: two (distinct scores x customers)
    indicator matrices, for :func:`_weighted_aucs`."""
    distinct, rank = np.unique(scores, return_inverse=True)
    rank = rank.ravel()

    def indicator(members: np.ndarray) -> sparse.csr_matrix:
        who = np.flatnonzero(members)
        return sparse.csr_matrix((np.ones(len(who)), (rank[who], who)), shape=(len(distinct), len(rank)))

    return indicator(positive), indicator(~positive)


def _weighted_aucs(by_score: tuple[sparse.csr_matrix, sparse.csr_matrix], times: np.ndarray) -> np.ndarray:
    """ROC AUC of scores (``by_score``: see :func:`_by_score`) when customer i is counted ``times[r, i]``
    times, for each row r: the AUC ``roc_auc_score`` gives on a bootstrap resample, by the Mann-Whitney count
    (ties count a half) in one pass over the distinct scores instead of a sort per resample (at 100k held-out
    customers, 600 sorted resamples were a sixth of the churn stage). The resamples go through at once, each
    class's counts per distinct score a sparse product: one at a time, with a bincount each, the model choice
    took 0.14 CPU s on the 1M-line log, this 0.06. Every sum is of whole (or half) counts, exact in any order,
    so the AUCs do not depend on how they are grouped."""
    pos, neg = (indicator @ times.T for indicator in by_score)
    below = np.cumsum(neg, axis=0) - neg
    return (pos * (below + 0.5 * neg)).sum(axis=0) / (pos.sum(axis=0) * neg.sum(axis=0))


def heuristic_probability(features: pd.DataFrame, window_days: int) -> pd.Series:
    """Rule-of-thumb P(no purchase in the next window) from recency against the customer's own rhythm.

    Purchases are treated as a Poisson process with the customer's mean gap ``g`` (days; for one-time
    buyers the median gap of repeat buyers, else the window). The customer is taken as still active with
    probability exp(-max(0, recency - g) / g) - overdue by one more gap, e^-1 as likely - and an active
    customer buys within the window with probability 1 - exp(-window / g).
    """
    if "recency_days" not in features.columns:
        found = ", ".join(map(str, features.columns))
        raise DataError(f"the churn heuristic needs a recency_days feature; got {found}")
    recency = features["recency_days"].to_numpy(dtype=float)
    gap = _gaps(features, window_days)
    alive = np.exp(-np.maximum(0.0, recency - gap) / gap)
    buys = 1 - np.exp(-window_days / gap)
    return pd.Series(1 - alive * buys, index=features.index, name="churn_probability")


def _gaps(features: pd.DataFrame, window_days: int) -> np.ndarray:
    if "mean_days_between" in features.columns:
        gap = features["mean_days_between"].to_numpy(dtype=float)
    else:
        gap = np.full(len(features), np.nan)
    known = gap[np.isfinite(gap) & (gap > 0)]
    fill = float(np.median(known)) if known.size else float(window_days)
    return np.where(np.isfinite(gap) & (gap > 0), gap, fill)


def heuristic_drivers(features: pd.DataFrame, window_days: int) -> np.ndarray:
    """Phrases for the heuristic: days without a purchase (against the usual gap) and one-time buying."""
    recency = features["recency_days"].to_numpy(dtype=float)
    has_gap = "mean_days_between" in features.columns
    gap = features["mean_days_between"].to_numpy(dtype=float) if has_gap else np.full(len(features), np.nan)
    known = ~np.isnan(gap)
    gap_days = np.full(len(gap), "", dtype=object)
    gap_days[known] = _phrased(gap[known], explain.days)
    usual = np.where(known, " (usually every " + gap_days + ")", "")
    first = "no purchase for " + _phrased(recency, explain.days) + usual
    long_gaps = known & (gap > window_days)
    second = np.where(long_gaps, "long gaps between purchases (every " + gap_days + ")",
                      np.where(~known & has_gap, "one-time buyer", ""))
    return np.where(second != "", first + "; " + second, first)


def _phrased(values: np.ndarray, phrase: Callable[[float], str]) -> np.ndarray:
    """``phrase`` of each value as an object array, each distinct value phrased once (days repeat a lot)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return np.array([phrase(u) for u in unique.tolist()], dtype=object)[inverse]


def _positions(index: pd.Index, ids: pd.Index) -> np.ndarray:
    """Positions of ``ids`` in ``index``, leaving out those it lacks."""
    found = index.get_indexer(ids)
    return found[found >= 0]


def _auc_by_row(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` against binary ``labels`` (both classes present), by the rank-sum
    (Mann-Whitney) identity with average ranks for ties: the value ``roc_auc_score`` gives, for all rows at
    once and without its per-call input checks (which dominated the permutation importance's time)."""
    positive = np.asarray(labels).astype(bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    ranks = rankdata(scores, axis=1)
    return (ranks[:, positive].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@dataclass(frozen=True, eq=False)
class ChurnRecord:
    """What a churn fit leaves in the results.

    model / model_label: the scorer used (HEURISTIC when there was too little data, with ``reason``), and
    choice_reason: why that model type (see choose_model);
    cutoff: label cutoff (as-of date minus ``window_days``); n_labelled / n_churned: customers with a purchase
    before the cutoff and how many of them made none after it; n_train / n_held_out: the split (every
    labelled customer is held out for the heuristic, which fits nothing; on a large base the split covers a
    sample of MAX_COMPARED of them); n_refit: the labelled customers the scoring model was refitted on (all,
    or a sample of MAX_REFIT on a large base; 0 for the heuristic); metrics: index ``model``, one row
    per scorer on the same held-out customers (see ChurnModel.metrics_); baselines: baseline name ->
    what it is; curves: roc / pr / calibration long tables; odds_ratios and feature_importance: see
    ChurnModel; notes: baselines that could not be computed, and why.
    """

    model: str
    model_label: str
    choice_reason: str
    heuristic: bool
    reason: str
    window_days: int
    cutoff: pd.Timestamp
    n_labelled: int
    n_churned: int
    n_train: int
    n_held_out: int
    n_refit: int
    metrics: pd.DataFrame
    baselines: Mapping[str, str]
    curves: Mapping[str, pd.DataFrame]
    odds_ratios: pd.DataFrame
    feature_importance: pd.DataFrame
    notes: Mapping[str, str]

    def summary(self) -> dict[str, Any]:
        """The JSON-worthy part: everything but the curves."""
        return {"model": self.model, "model_label": self.model_label, "choice_reason": self.choice_reason,
                "heuristic": self.heuristic,
                "reason": self.reason, "window_days": self.window_days, "cutoff": self.cutoff,
                "n_labelled": self.n_labelled, "n_churned": self.n_churned, "n_train": self.n_train,
                "n_held_out": self.n_held_out, "n_refit": self.n_refit, "metrics": self.metrics.reset_index(),
                "baselines": dict(self.baselines), "odds_ratios": self.odds_ratios,
                "feature_importance": self.feature_importance, "notes": dict(self.notes)}


class ChurnModel:
    """Churn probability for the coming window, validated on held-out customers against baselines.

    Parameters: ``model`` "logistic" (default, explainable) or "forest" (tree ensemble); ``window_days``
    churn window (days); ``test_size`` held-out share; ``random_state`` split and model seed; ``min_class``
    fewest customers per class to fit a model (else the heuristic); ``compare`` also evaluate the other
    model types on the same split, and score with the best of them only when it beats ``model`` beyond noise
    (``choose_model``; ``used_`` and ``choice_reason_`` say which and why); ``bgnbd`` compute the BG/NBD
    baselines; ``feature_fn`` (lines, as_of) -> features per customer, default
    :func:`analytics.features.customer_features`; ``n_bins`` calibration bins; ``max_compared`` most
    labelled customers the split for training and held-out evaluation is drawn from, ``max_refit`` most the
    scoring model is refitted on (larger bases are sampled, stratified and seeded: see
    :func:`stratified_sample`; ``n_train_``, ``n_test_`` and ``n_refit_`` say how many were used).

    Fitted attributes: ``heuristic_`` (bool), ``reason_`` (why the heuristic, else ""), ``cutoff_``,
    ``metrics_`` (index ``model``; role, n, n_churned, churn_rate, mean_predicted, roc_auc, pr_auc, brier,
    brier_skill; every row on the same held-out customers), ``curves_`` (dict roc / pr / calibration of
    long DataFrames with a ``model`` column), ``coefficients_`` and ``odds_ratios_`` (logistic, per standard
    deviation of the model-scale feature), ``feature_importance_`` (permutation, drop in held-out ROC AUC),
    ``scores_`` (per current customer: churn_probability, churn_drivers), ``features_`` (the model's
    inputs), ``explain_features_`` (the logistic model's, behind odds ratios and drivers),
    ``notes_`` (baselines that could not be computed, and why); ``record()`` is what the results keep.
    """

    def __init__(
        self,
        model: str = "logistic",
        window_days: int = 90,
        test_size: float = 0.3,
        random_state: int = 0,
        min_class: int = 30,
        compare: bool = True,
        bgnbd: bool = True,
        feature_fn: FeatureFn | None = None,
        n_bins: int = 10,
        max_compared: int = MAX_COMPARED,
        max_refit: int = MAX_REFIT,
    ) -> None:
        self.model = model
        self.window_days = window_days
        self.test_size = test_size
        self.random_state = random_state
        self.min_class = min_class
        self.compare = compare
        self.bgnbd = bgnbd
        self.feature_fn = feature_fn
        self.n_bins = n_bins
        self.max_compared = max_compared
        self.max_refit = max_refit

    # -- fitting ---------------------------------------------------------------------------------------------

    def fit(self, lines: pd.DataFrame, as_of, current_features: pd.DataFrame | None = None) -> ChurnModel:
        """Fit, evaluate and score. ``lines``: cleaned invoice lines; ``as_of``: exclusive end of the data;
        ``current_features``: the feature table as of ``as_of`` when the caller already has it."""
        if self.model not in MODELS:
            raise DataError(
                f"churn model {self.model!r} is not supported; expected one of {', '.join(MODELS)}"
            )
        if not 0 < self.test_size < 1:
            raise DataError(f"test_size must be a fraction in (0, 1), got {self.test_size!r}")
        # fewer than 10 per class cannot be split into training, held-out and early-stopping parts
        if not (isinstance(self.min_class, (int, np.integer)) and self.min_class >= 10):
            raise DataError(f"min_class must be a whole number >= 10, got {self.min_class!r}")
        for name in ("max_compared", "max_refit"):
            cap = getattr(self, name)
            if not (isinstance(cap, (int, np.integer)) and cap >= MIN_CAP):
                raise DataError(f"{name} must be a whole number of customers >= {MIN_CAP}, got {cap!r}")
        as_of = pd.Timestamp(as_of)
        lines = canonical_lines(lines)
        seen = (lines[S.INVOICE_DATE] < as_of).to_numpy(dtype=bool, na_value=False)
        if not seen.all():  # cleaned lines end before the as-of date: no copy of millions of lines then
            lines = lines.loc[seen]
        feature_fn = self.feature_fn or default_feature_fn()
        self.cutoff_ = label_cutoff(as_of, self.window_days)
        self.as_of_ = as_of
        self.notes_: dict[str, str] = {}
        labelled = churn_labels(lines, as_of, self.window_days)
        self.n_labelled_ = len(labelled)
        self.n_churned_ = int(labelled.sum())
        self.reason_ = self._fallback_reason(labelled)
        self.heuristic_ = bool(self.reason_)
        # the heuristic is judged on every labelled customer; a model is compared on a sample of a large base
        # and refitted on another, so only their customers' features and BG/NBD scores are computed
        everyone = np.arange(len(labelled))
        compared, refit = (everyone, everyone) if self.heuristic_ else self._samples(labelled.to_numpy())
        described = np.union1d(compared, refit)
        sampled = len(described) < len(labelled)
        # the pre-cutoff lines of the customers described, copied once for their features and BG/NBD (of the
        # columns these read only, with the project's feature function: a third of the copy is quantity and
        # unit price, which only revenue was made from)
        history = history_before(lines, self.cutoff_, labelled.index[described] if sampled else None,
                                 None if self.feature_fn else LINE_COLUMNS)
        X, y = churn_training_frame(lines, as_of, self.window_days, feature_fn, history=history,
                                    labels=labelled.iloc[described])
        current = current_features if current_features is not None else feature_fn(lines, as_of)
        # (a new frame that shares the columns: a deep copy held every feature of every customer twice)
        current = current.set_axis(current.index.astype("string"))
        if len(compared) < len(described):
            history = history.loc[lines_of(history, labelled.index[compared])]
        bg_cut = self._try_bgnbd(partial(bgnbd_scores, history, self.cutoff_, self.window_days),
                                 "at the cutoff")
        del history  # not held while the models fit

        # one OpenMP thread: the app runs several workers at once, and oversubscribed OpenMP made the
        # tree ensemble ten times slower on a busy machine; one thread fits these sizes in under a second
        with threadpool_limits(limits=1, user_api="openmp"):
            if self.heuristic_:
                self._fit_heuristic(X, y, current, bg_cut, lines)
            else:
                # positions in X and y (customers the feature function leaves out drop out of the samples)
                where = partial(_positions, y.index)
                self._fit_model(X, y, current, bg_cut, where(labelled.index[compared]),
                                where(labelled.index[refit]))
        return self

    def _samples(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the customers compared (split into training and held-out) and of those the scoring
        model is refitted on: stratified, seeded samples of at most ``max_compared`` and ``max_refit``, the
        smaller drawn from the larger, so that features are computed for the larger sample only."""
        small, large = sorted((self.max_compared, self.max_refit))
        larger = stratified_sample(labels, large, self.min_class, self.random_state)
        smaller = larger[stratified_sample(labels[larger], small, self.min_class, self.random_state)]
        return (smaller, larger) if self.max_compared <= self.max_refit else (larger, smaller)

    def _fallback_reason(self, y: pd.Series) -> str:
        w = self.window_days
        if y.empty:
            return (f"no customer bought before the cutoff {self.cutoff_:%Y-%m-%d} ({w} days before the "
                    f"as-of date), so there is no history to learn churn from")
        churned, active = int(y.sum()), int(len(y) - y.sum())
        if min(churned, active) < self.min_class:
            return (f"too little data to fit a model: of {len(y):,} customers with a purchase before "
                    f"{self.cutoff_:%Y-%m-%d}, {churned:,} churned and {active:,} bought again in the next "
                    f"{w} days; at least {self.min_class} of each are needed")
        return ""

    def _try_bgnbd(self, compute: Callable[[], pd.DataFrame], when: str) -> pd.DataFrame | None:
        if not self.bgnbd:
            return None
        try:
            return compute()
        except (DataError, ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            # a baseline that cannot be fitted is reported, never fatal
            self.notes_[f"BG/NBD {when}"] = str(exc)
            return None

    def _fit_model(self, X: pd.DataFrame, y: pd.Series, current: pd.DataFrame, bg_cut: pd.DataFrame | None,
                   compared: np.ndarray, refit: np.ndarray):
        main_country = None
        if S.COUNTRY in X.columns and X[S.COUNTRY].notna().any():
            main_country = str(X[S.COUNTRY].mode().iloc[0])
        self.main_country_ = main_country
        raw = raw_inputs(X, main_country)
        labels = y.to_numpy()
        train, test = train_test_split(compared, test_size=self.test_size, stratify=labels[compared],
                                       random_state=self.random_state)
        self.n_train_, self.n_test_ = len(train), len(test)
        kinds = [self.model] + ([m for m in MODELS if m != self.model] if self.compare else [])
        columns = {m: model_columns(m, raw) for m in set(kinds) | {"logistic"}}
        inputs = {m: model_scale(raw[cols]).to_numpy() for m, cols in columns.items()}

        scores, roles, fitted = {}, {}, {}
        for kind in kinds:
            Z = inputs[kind]
            # the kind of estimator that will score (averaged or single, by the refit's size): the held-out
            # figures describe the scoring model
            fitted[kind] = make_estimator(kind, self.random_state, len(refit)).fit(Z[train], labels[train])
            scores[kind] = fitted[kind].predict_proba(Z[test])[:, 1]
        self.used_, self.choice_reason_, self.choice_ = choose_model(labels[test], scores, self.model, kinds,
                                                                     self.random_state)
        for kind in kinds:
            roles[kind] = "model" if kind == self.used_ else "comparison"
        self.features_ = columns[self.used_]
        if "recency_days" in raw.columns:
            rec = raw["recency_days"].to_numpy()
            scores[RECENCY] = evaluation.recency_baseline(rec[train], labels[train], rec[test])
            roles[RECENCY] = "baseline"
        self._add_bgnbd(scores, roles, bg_cut, y.index[test])
        self._evaluate(labels[test], scores, roles)
        self.feature_importance_ = self._importance(
            fitted[self.used_], inputs[self.used_][test], labels[test])

        # refit on the labelled customers (a sample on a large base); the logistic model explains even when
        # the ensemble scores
        self.n_refit_ = len(refit)
        final = make_estimator(self.used_, self.random_state, len(refit))
        Z = inputs[self.used_]
        if isinstance(final, CalibratedBoosting) and np.isin(refit, compared).all():
            final.fit(Z[refit], labels[refit], fitted[self.used_].out_of_sample_scores(Z, train, refit))
        else:
            final.fit(Z[refit], labels[refit])
        explainer = final if self.used_ == "logistic" else make_estimator("logistic", self.random_state).fit(
            inputs["logistic"][refit], labels[refit])
        self._explain_coefficients(explainer, columns["logistic"])
        # every current customer's inputs made only now, to score them (not held while the models fit)
        raw_now = raw_inputs(current, main_country)
        now = model_scale(raw_now.reindex(columns=self.features_)).to_numpy()
        probability = final.predict_proba(now)[:, 1] if len(now) else np.array([])
        del now
        drivers = self._drivers(explainer, raw_now.reindex(columns=columns["logistic"]))
        self.scores_ = pd.DataFrame(
            {"churn_probability": probability, "churn_drivers": drivers}, index=current.index)

    def _fit_heuristic(self, X, y, current, bg_cut, lines):
        self.n_train_, self.n_test_, self.n_refit_ = 0, len(y), 0
        self.features_ = []
        self.explain_features_ = []
        self.main_country_ = None
        self.coefficients_ = pd.Series(dtype=float, name="coefficient")
        self.odds_ratios_ = explain.odds_ratio_table([], np.array([]), {})
        self.feature_importance_ = pd.DataFrame(columns=["feature", "importance", "importance_std"])
        bg_now = self._try_bgnbd(
            lambda: bgnbd_scores(lines, self.as_of_, self.window_days), "at the as-of date")
        self.heuristic_source_ = "BG/NBD P(no purchase)" if bg_now is not None else "recency vs usual gap"
        # nothing is fitted to labels here, so every labelled customer is a fair test case
        scores, roles = {}, {}
        labels = y.to_numpy()
        if len(y) and "recency_days" in X.columns:
            if bg_now is not None and bg_cut is not None:
                scores[HEURISTIC] = bg_cut["p_no_purchase"].reindex(y.index).to_numpy()
            else:
                scores[HEURISTIC] = heuristic_probability(X, self.window_days).to_numpy()
            roles[HEURISTIC] = "model"
            scores[RECENCY] = evaluation.recency_rule(X["recency_days"].to_numpy(), self.window_days)
            roles[RECENCY] = "baseline"
            self._add_bgnbd(scores, roles, bg_cut, y.index)
        scores = {k: v for k, v in scores.items() if not np.isnan(v).any()}
        self._evaluate(labels, scores, roles)

        probability = heuristic_probability(current, self.window_days)
        if bg_now is not None:
            probability = bg_now["p_no_purchase"].reindex(current.index).fillna(probability)
        self.scores_ = pd.DataFrame(
            {
                "churn_probability": probability.to_numpy(),
                "churn_drivers": heuristic_drivers(current, self.window_days),
            },
            index=current.index,
        )

    def _add_bgnbd(self, scores: dict, roles: dict, bg: pd.DataFrame | None, ids: pd.Index) -> None:
        if bg is None:
            return
        aligned = bg.reindex(ids)
        if aligned.isna().any().any():
            missing = int(aligned.isna().any(axis=1).sum())
            self.notes_["BG/NBD baseline"] = f"{missing} held-out customers lack a BG/NBD score"
            return
        scores[DEAD] = 1 - aligned["p_alive"].to_numpy()
        scores[NO_PURCHASE] = aligned["p_no_purchase"].to_numpy()
        if scores[DEAD].max() < 1e-3:
            self.notes_[DEAD] = (
                "degenerate: the BG/NBD fit puts P(alive) above 0.999 for every held-out customer (its "
                "dropout probability shrank to 0 on this history), so this baseline's ranking is noise"
            )
        roles[DEAD] = roles[NO_PURCHASE] = "baseline"

    def _evaluate(self, labels: np.ndarray, scores: dict, roles: dict) -> None:
        metrics, curves = evaluation.evaluate(labels, scores, self.n_bins)
        metrics.insert(0, "role", pd.Series(roles).reindex(metrics.index).astype(object))
        self.metrics_ = metrics
        self.curves_ = curves

    def _importance(self, estimator, Z: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
        """Permutation importance on held-out customers: mean (and sd) drop in ROC AUC over 2 to
        PERMUTATION_REPEATS shuffles of one feature (PERMUTATION_SHUFFLED_ROWS); all shuffles of a feature go
        through one prediction."""
        if len(np.unique(labels)) < 2:
            return pd.DataFrame(columns=["feature", "importance", "importance_std"])
        rng = np.random.default_rng(self.random_state)
        if len(labels) > PERMUTATION_MAX_ROWS:
            rows = rng.choice(len(labels), PERMUTATION_MAX_ROWS, replace=False)
            Z, labels = Z[rows], labels[rows]
        n = len(labels)
        repeats = min(PERMUTATION_REPEATS, max(2, PERMUTATION_SHUFFLED_ROWS // n))
        if (sums := TreeSums.checked(estimator, Z, repeats)) is not None:
            unshuffled, shuffled = sums.base(), sums.shuffled
        else:
            unshuffled = estimator.predict_proba(Z)[:, 1]
            shuffled = lambda stacked, j: estimator.predict_proba(stacked)[:, 1]
        base = roc_auc_score(labels, unshuffled)
        means, sds = [], []
        for j in range(Z.shape[1]):
            stacked = np.tile(Z, (repeats, 1))
            stacked[:, j] = np.concatenate([rng.permutation(Z[:, j]) for _ in range(repeats)])
            p = shuffled(stacked, j).reshape(repeats, n)
            drops = base - _auc_by_row(labels, p)
            means.append(drops.mean())
            sds.append(drops.std())
        table = pd.DataFrame({"feature": self.features_, "importance": means, "importance_std": sds})
        return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)

    def _explain_coefficients(self, pipeline: Pipeline, features: list[str]) -> None:
        coef = pipeline.named_steps["model"].coef_[0]
        self.explain_features_ = features
        self.coefficients_ = pd.Series(coef, index=features, name="coefficient")
        transforms = {f: ("log1p" if f in LOG_FEATURES else "as is") for f in features}
        self.odds_ratios_ = explain.odds_ratio_table(features, coef, transforms)
        mean = pipeline.named_steps["scale"].mean_
        typical = np.array([_signed_exp(m) if f in LOG_FEATURES else m for f, m in zip(features, mean)])
        self.typical_ = pd.Series(typical, index=features, name="typical")

    def _drivers(self, pipeline: Pipeline, raw: pd.DataFrame) -> np.ndarray:
        if raw.empty:
            return np.array([], dtype=object)
        context = {"main_country": self.main_country_} if self.main_country_ else None
        out = []
        # a block of customers at a time (each row's drivers are its own): the scaled inputs, contributions
        # and their working copies were eight customers x features arrays at once, at 324k customers 210 MB
        for start in range(0, len(raw), DRIVER_ROWS):
            block = raw.iloc[start:start + DRIVER_ROWS]
            contributions = pipeline[:-1].transform(model_scale(block).to_numpy())
            contributions *= self.coefficients_.to_numpy()
            out.append(explain.top_drivers(contributions, block.to_numpy(dtype=float), self.explain_features_,
                                           self.typical_.to_numpy(), DRIVER_COUNT, context))
        return np.concatenate(out)

    # -- reporting -------------------------------------------------------------------------------------------

    def record(self) -> ChurnRecord:
        """The fitted model as the results keep it."""
        return ChurnRecord(
            model=HEURISTIC if self.heuristic_ else self.used_,
            model_label=f"heuristic ({self.heuristic_source_})" if self.heuristic_ else MODELS[self.used_],
            choice_reason="" if self.heuristic_ else self.choice_reason_,
            heuristic=self.heuristic_,
            reason=self.reason_,
            window_days=int(self.window_days),
            cutoff=self.cutoff_,
            n_labelled=int(self.n_labelled_),
            n_churned=int(self.n_churned_),
            n_train=int(self.n_train_),
            n_held_out=int(self.n_test_),
            n_refit=int(self.n_refit_),
            metrics=self.metrics_,
            baselines={k: v for k, v in BASELINE_LABELS.items() if k in self.metrics_.index},
            curves=dict(self.curves_),
            odds_ratios=self.odds_ratios_,
            feature_importance=self.feature_importance_,
            notes=dict(self.notes_),
        )
