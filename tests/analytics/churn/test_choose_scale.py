"""Churn model choice at scale: the paired AUC bootstrap by weighted counts gives what ``roc_auc_score`` gives
on each resample, on real churn labels and features of the synthetic log."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from analytics.churn import churn_labels
from analytics.churn.models import AUC_BOOTSTRAP, _by_score, _weighted_aucs, choose_model
from analytics.cleaning import clean
from analytics.datasets import load_dataset
from analytics.features import customer_features


@pytest.fixture(scope="module")
def labelled():
    """Churn labels and two real scores (recency, and a blurred frequency) of the synthetic log's customers."""
    cleaned = clean(load_dataset("synthetic"))
    labels = churn_labels(cleaned.lines, cleaned.as_of, 90)
    cutoff = cleaned.as_of - np.timedelta64(90, "D")
    features = customer_features(cleaned.lines, cutoff).reindex(labels.index)
    rounded_recency = features["recency_days"].round(-1).to_numpy()  # ties, which the AUC counts a half
    return labels.to_numpy().astype(int), {"logistic": -features["frequency"].to_numpy(dtype=float),
                                           "boosting": rounded_recency}


def test_weighted_auc_equals_roc_auc_on_resamples(labelled):
    labels, scores = labelled
    assert 0 < labels.mean() < 1 and len(labels) > 1000
    rng = np.random.default_rng(5)
    for score in scores.values():
        assert len(np.unique(score)) < len(score)  # tied scores are exercised
        draws = [rng.integers(0, len(labels), len(labels)) for _ in range(5)]
        times = np.array([np.bincount(rows, minlength=len(labels)) for rows in draws], dtype=float)
        expected = [roc_auc_score(labels[rows], score[rows]) for rows in draws]
        np.testing.assert_allclose(_weighted_aucs(_by_score(labels.astype(bool), score), times), expected, rtol=0, atol=1e-12)


def test_choice_interval_equals_the_resampled_roc_auc_reference(labelled):
    labels, scores = labelled
    used, _, stats = choose_model(labels, scores, "logistic", ["logistic", "boosting"])
    rng = np.random.default_rng(0)
    differences = []
    for _ in range(AUC_BOOTSTRAP):
        rows = rng.integers(0, len(labels), len(labels))
        if len(np.unique(labels[rows])) < 2:
            continue
        differences.append(roc_auc_score(labels[rows], scores["boosting"][rows])
                           - roc_auc_score(labels[rows], scores["logistic"][rows]))
    low, high = np.quantile(differences, [0.025, 0.975])
    assert stats["ci_low"] == pytest.approx(low, abs=1e-12) and stats["ci_high"] == pytest.approx(high, abs=1e-12)
    assert used == ("boosting" if low > 0 else "logistic")
