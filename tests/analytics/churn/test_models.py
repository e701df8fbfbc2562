"""ChurnModel end to end on simulated logs: predictable churn, pure noise, tiny data, leak-freedom."""

import json

import numpy as np
import pandas as pd
import pytest

from analytics.churn import ChurnModel, churn_labels
from analytics.churn.models import (
    DEAD,
    HEURISTIC,
    NO_PURCHASE,
    RECENCY,
    choose_model,
    heuristic_drivers,
    heuristic_probability,
    stratified_sample,
)
from analytics.errors import DataError
from analytics.features import customer_features
from analytics.results import json_safe
from tests.analytics.churn.conftest import AS_OF, WINDOW, lines_frame, simulate


@pytest.fixture(scope="module")
def fitted(predictable_lines) -> ChurnModel:
    return ChurnModel(bgnbd=False).fit(predictable_lines, AS_OF)


@pytest.fixture(scope="module")
def small_with_bgnbd() -> tuple[pd.DataFrame, ChurnModel]:
    lines = simulate(900, seed=7)
    return lines, ChurnModel(compare=False).fit(lines, AS_OF)


def test_predictable_churn_is_predicted(fitted, predictable_lines):
    m = fitted.metrics_
    assert not fitted.heuristic_ and fitted.reason_ == ""
    assert m.loc["logistic", "roc_auc"] > 0.8
    assert m.loc["forest", "roc_auc"] > 0.8
    assert m.loc["logistic", "role"] == "model" and m.loc["forest", "role"] == "comparison"
    # honest probabilities: on held-out customers the mean prediction is close to the observed churn rate
    assert abs(m.loc["logistic", "mean_predicted"] - m.loc["logistic", "churn_rate"]) < 0.05
    assert m.loc["logistic", "brier_skill"] > 0.2
    y = churn_labels(predictable_lines, AS_OF, WINDOW)
    assert fitted.n_train_ + fitted.n_test_ == len(y)
    assert m.loc["logistic", "churn_rate"] == pytest.approx(y.mean(), abs=0.02)  # stratified split


def test_pure_noise_is_not_predicted(noise_lines):
    model = ChurnModel(bgnbd=False).fit(noise_lines, AS_OF)
    for name in ("logistic", "forest", RECENCY):
        assert abs(model.metrics_.loc[name, "roc_auc"] - 0.5) < 0.08, name
    assert model.metrics_.loc["logistic", "brier_skill"] < 0.05


def test_every_scorer_is_evaluated_on_the_same_held_out_customers(small_with_bgnbd):
    _, model = small_with_bgnbd
    m = model.metrics_
    assert {"logistic", RECENCY, DEAD, NO_PURCHASE} <= set(m.index)
    assert (m["n"] == model.n_test_).all()
    assert m["n_churned"].nunique() == 1
    for name in m.index:
        bins = model.curves_["calibration"].query("model == @name")
        assert bins["count"].sum() == model.n_test_, name
        assert not model.curves_["roc"].query("model == @name").empty
    assert model.metrics_.loc[NO_PURCHASE, "roc_auc"] > 0.7


def test_window_changes_that_keep_labels_leave_the_evaluation_unchanged(small_with_bgnbd):
    """End to end: amounts and times inside the label window change, who bought there does not, so the
    labels are the same and every held-out number (model and baselines) must be exactly the same."""
    lines, model = small_with_bgnbd
    cutoff = AS_OF - pd.Timedelta(days=WINDOW)
    window = (lines["invoice_date"] >= cutoff).to_numpy()
    changed = lines.copy()
    changed.loc[window, "quantity"] *= 11
    squeezed = cutoff + (changed.loc[window, "invoice_date"] - cutoff) / 3
    changed.loc[window, "invoice_date"] = squeezed.astype(changed["invoice_date"].dtype)
    changed["revenue"] = changed["quantity"] * changed["unit_price"]
    again = ChurnModel(compare=False).fit(changed, AS_OF)
    pd.testing.assert_frame_equal(model.metrics_, again.metrics_, check_exact=True)
    pd.testing.assert_frame_equal(model.odds_ratios_, again.odds_ratios_, check_exact=True)
    # the scores for the coming window do use the window (features as of as_of) and so do change
    assert not model.scores_["churn_probability"].equals(again.scores_["churn_probability"])


def test_scores_cover_current_customers_as_of_the_as_of_date(fitted, predictable_lines):
    current = customer_features(predictable_lines, AS_OF)
    scores = fitted.scores_
    assert scores.index.equals(current.index)  # window-only newcomers are scored too
    p = scores["churn_probability"]
    assert p.between(0, 1).all()
    # recency as of as_of drives the score: the recently active churn less
    recent = current["recency_days"] < 30
    assert p[recent].mean() < p[~recent].mean() - 0.3


def test_drivers_quote_the_customers_own_days(fitted, predictable_lines):
    current = customer_features(predictable_lines, AS_OF)
    drivers = fitted.scores_["churn_drivers"]
    quoted = drivers[drivers.str.contains("no purchase for ")]
    assert len(quoted) > 50
    days = quoted.str.extract(r"no purchase for ([\d,]+) days?")[0].str.replace(",", "").astype(int)
    expected = current.loc[quoted.index, "recency_days"].round().astype(int)
    assert (days == expected).all()
    assert drivers.str.count("; ").max() <= 2


def test_odds_ratios_and_importance(fitted):
    table = fitted.odds_ratios_
    assert set(table["feature"]) == set(fitted.explain_features_)
    assert np.allclose(table["odds_ratio"], np.exp(table["coefficient"]))
    coef = fitted.coefficients_
    assert coef["recency_days"] > 0 and coef["frequency"] < 0  # what the simulation built in
    imp = fitted.feature_importance_
    assert set(imp["feature"]) == set(fitted.features_)
    assert imp["importance"].iloc[0] > 0.01


def test_forest_scores_with_logistic_explanations(predictable_lines):
    model = ChurnModel(model="forest", compare=False, bgnbd=False).fit(predictable_lines, AS_OF)
    assert list(model.metrics_.index) == ["forest", RECENCY]
    assert "monetary" in model.features_ and "monetary" not in model.explain_features_
    assert model.scores_["churn_drivers"].str.len().gt(0).any()


@pytest.mark.parametrize("n_customers", [1, 5, 40])
def test_tiny_data_falls_back_to_a_flagged_heuristic(n_customers):
    lines = simulate(n_customers, seed=n_customers)
    model = ChurnModel().fit(lines, AS_OF)
    assert model.heuristic_
    assert "too little data" in model.reason_ or "no customer bought" in model.reason_
    current = customer_features(lines, AS_OF)
    assert model.scores_.index.equals(current.index)
    assert model.scores_["churn_probability"].between(0, 1).all()
    assert model.scores_["churn_drivers"].str.contains("no purchase for").all()
    record = model.record()
    assert record.heuristic is True and record.reason == model.reason_ and record.n_held_out == model.n_labelled_
    json.dumps(json_safe(record.summary()), allow_nan=False)
    if not model.metrics_.empty:
        assert (model.metrics_["n"] == model.n_labelled_).all()


def test_all_history_inside_the_window_is_explained():
    lines = lines_frame([("a", "1", "2023-12-20", 1, 5.0), ("b", "2", "2023-12-24", 2, 5.0)])
    model = ChurnModel().fit(lines, AS_OF)
    assert model.heuristic_ and "no customer bought before the cutoff" in model.reason_
    assert model.metrics_.empty
    assert len(model.scores_) == 2


def test_min_class_decides_between_model_and_heuristic(predictable_lines):
    y = churn_labels(predictable_lines, AS_OF, WINDOW)
    minority = int(min(y.sum(), len(y) - y.sum()))
    at_limit = ChurnModel(min_class=minority, bgnbd=False, compare=False).fit(predictable_lines, AS_OF)
    assert at_limit.heuristic_ is False
    high = ChurnModel(min_class=minority + 1, bgnbd=False).fit(predictable_lines, AS_OF)
    assert high.heuristic_ and f"at least {minority + 1}" in high.reason_
    assert HEURISTIC in high.metrics_.index and high.metrics_.loc[HEURISTIC, "roc_auc"] > 0.7


def test_heuristic_probability_rises_with_overdue_customers():
    features = pd.DataFrame(
        {"recency_days": [5.0, 60.0, 200.0, 30.0], "mean_days_between": [30.0, 30.0, 30.0, np.nan]},
        index=pd.Index(["a", "b", "c", "d"], dtype="string"),
    )
    p = heuristic_probability(features, 90)
    assert p["a"] < p["b"] < p["c"]
    assert 0 < p.min() and p.max() < 1


def test_record_summary_is_json_safe_and_names_baselines_and_held_out_size(fitted):
    summary = json.loads(json.dumps(json_safe(fitted.record().summary()), allow_nan=False))
    assert summary["model"] == "logistic" and summary["n_held_out"] == fitted.n_test_ > 0
    assert summary["n_train"] + summary["n_held_out"] == fitted.n_labelled_
    assert {row["model"] for row in summary["metrics"]} == set(fitted.metrics_.index)
    baselines = set(fitted.metrics_.index[fitted.metrics_["role"] == "baseline"])
    assert set(summary["baselines"]) == baselines and RECENCY in baselines


def test_a_large_base_is_compared_and_refitted_on_stratified_seeded_samples(fitted, predictable_lines):
    y = churn_labels(predictable_lines, AS_OF, WINDOW)
    compared, refit = len(y) // 2, len(y) * 3 // 4
    capped = ChurnModel(bgnbd=False, max_compared=compared, max_refit=refit).fit(predictable_lines, AS_OF)
    record = capped.record()
    assert capped.n_train_ + capped.n_test_ == record.n_train + record.n_held_out == compared
    assert record.n_refit == capped.n_refit_ == refit and record.n_labelled == len(y)
    assert (capped.metrics_["n"] == capped.n_test_).all()
    # the held-out sample keeps the churn rate of every labelled customer
    assert capped.metrics_.loc["logistic", "churn_rate"] == pytest.approx(y.mean(), abs=0.02)
    assert len(capped.scores_) == len(fitted.scores_)  # every current customer is still scored
    assert not capped.scores_["churn_probability"].equals(fitted.scores_["churn_probability"])
    again = ChurnModel(bgnbd=False, max_compared=compared, max_refit=refit).fit(predictable_lines, AS_OF)
    pd.testing.assert_frame_equal(again.metrics_, capped.metrics_)
    pd.testing.assert_frame_equal(again.scores_, capped.scores_)
    # below the caps nobody is sampled out
    assert fitted.n_refit_ == fitted.n_train_ + fitted.n_test_ == len(y)


def test_stratified_sample_keeps_the_churn_rate_is_seeded_and_only_bites_above_the_cap(predictable_lines):
    labels = churn_labels(predictable_lines, AS_OF, WINDOW).to_numpy()
    cap = len(labels) // 3
    rows = stratified_sample(labels, cap, min_class=30, random_state=0)
    assert len(rows) == len(np.unique(rows)) == cap and (np.diff(rows) > 0).all()
    assert abs(labels[rows].sum() - labels.sum() * cap / len(labels)) <= 1
    assert (stratified_sample(labels, cap, 30, random_state=0) == rows).all()
    assert not (stratified_sample(labels, cap, 30, random_state=1) == rows).all()
    assert (stratified_sample(labels, len(labels), 30) == np.arange(len(labels))).all()
    # a sample too small to hold min_class of each class is not drawn: every customer is kept
    minority = min(labels.sum(), len(labels) - labels.sum())
    assert len(stratified_sample(labels, cap, min_class=minority, random_state=0)) == len(labels)


def test_heuristic_drivers_say_days_without_a_purchase_against_the_usual_gap():
    features = pd.DataFrame({"recency_days": [1.0, 140.0, 30.0, 30.0], "mean_days_between": [np.nan, 120.0, 20.0, 1.0]})
    assert heuristic_drivers(features, 90).tolist() == [
        "no purchase for 1 day; one-time buyer",
        "no purchase for 140 days (usually every 120 days); long gaps between purchases (every 120 days)",
        "no purchase for 30 days (usually every 20 days)",
        "no purchase for 30 days (usually every 1 day)",
    ]
    # without gaps nobody can be called a one-time buyer
    assert heuristic_drivers(features[["recency_days"]], 90)[0] == "no purchase for 1 day"


def test_bad_parameters_are_data_errors(predictable_lines):
    with pytest.raises(DataError, match="not supported"):
        ChurnModel(model="svm").fit(predictable_lines, AS_OF)
    with pytest.raises(DataError, match="test_size"):
        ChurnModel(test_size=1.5).fit(predictable_lines, AS_OF)
    with pytest.raises(DataError, match="min_class"):
        ChurnModel(min_class=3).fit(predictable_lines, AS_OF)
    with pytest.raises(DataError, match="max_compared must be a whole number"):
        ChurnModel(max_compared=50).fit(predictable_lines, AS_OF)
    with pytest.raises(DataError, match="max_refit must be a whole number"):
        ChurnModel(max_refit=2.5).fit(predictable_lines, AS_OF)


def test_smallest_fittable_data_fits_every_scorer():
    lines = simulate(45, seed=11)
    y = churn_labels(lines, AS_OF, WINDOW)
    assert min(y.sum(), len(y) - y.sum()) >= 10
    model = ChurnModel(min_class=10).fit(lines, AS_OF)
    assert not model.heuristic_
    assert (model.metrics_["n"] == model.n_test_).all() and len(model.metrics_) == 6  # 3 models, 3 baselines
    assert len(model.scores_) == 45


def test_rank_auc_equals_roc_auc_score_with_ties():
    from sklearn.metrics import roc_auc_score

    from analytics.churn.models import _auc_by_row

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    scores = np.round(rng.random((4, 500)) + 0.3 * labels, 1)  # rounded: many ties
    expected = [roc_auc_score(labels, row) for row in scores]
    np.testing.assert_allclose(_auc_by_row(labels, scores), expected, rtol=1e-12)


def test_calibrated_boosting_is_judged_and_logistic_kept_within_noise(fitted):
    m = fitted.metrics_
    assert m.loc["boosting", "role"] == "comparison" and m.loc["boosting", "roc_auc"] > 0.8
    # calibrated: its mean held-out probability is close to the observed churn rate
    assert abs(m.loc["boosting", "mean_predicted"] - m.loc["boosting", "churn_rate"]) < 0.05
    assert fitted.used_ == "logistic"
    assert "logistic regression is used" in fitted.choice_reason_


def test_choose_model_switches_only_beyond_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    sharp = labels + rng.normal(0, 0.3, 2000)
    blurred = labels + rng.normal(0, 1.5, 2000)
    used, reason, stats = choose_model(labels, {"logistic": blurred, "boosting": sharp}, "logistic",
                                       ["logistic", "boosting"])
    assert used == "boosting" and stats["ci_low"] > 0 and "beyond noise" in reason
    used, reason, _ = choose_model(labels, {"logistic": sharp, "boosting": sharp + rng.normal(0, 1e-3, 2000)},
                                   "logistic", ["logistic", "boosting"])
    assert used == "logistic"


def test_methodology_states_the_sample_caps_the_model_applies():
    from analytics.churn.models import MAX_COMPARED, MAX_REFIT
    from analytics.methodology import CHURN

    assert f"more than {MAX_COMPARED:,} labelled customers" in CHURN
    assert f"on at most {MAX_REFIT:,}\ncustomers" in CHURN


def test_boosting_averages_three_fold_models_on_small_data_and_scores_with_one_beyond(predictable_lines):
    from sklearn.model_selection import train_test_split

    from analytics.churn.labels import churn_training_frame
    from analytics.churn.models import (
        ENSEMBLE_MAX_CUSTOMERS,
        make_estimator,
        model_columns,
        model_scale,
        raw_inputs,
    )

    X, y = churn_training_frame(predictable_lines, AS_OF, WINDOW)
    raw = raw_inputs(X)
    Z, labels = model_scale(raw[model_columns("boosting", raw)]).to_numpy(), y.to_numpy()
    train, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=labels, random_state=0)
    for n_customers in (ENSEMBLE_MAX_CUSTOMERS, ENSEMBLE_MAX_CUSTOMERS + 1):
        fitted = make_estimator("boosting", 0, n_customers).fit(Z[train], labels[train])
        averaged = n_customers <= ENSEMBLE_MAX_CUSTOMERS
        assert (len(fitted.calibrated_classifiers_) == 3) if averaged else hasattr(fitted, "model_")
        p = fitted.predict_proba(Z[test])[:, 1]
        # calibrated either way: held-out mean prediction near the held-out churn rate
        assert abs(p.mean() - labels[test].mean()) < 0.05, n_customers


def _boosting_inputs(lines):
    from analytics.churn.labels import churn_training_frame
    from analytics.churn.models import model_columns, model_scale, raw_inputs

    X, y = churn_training_frame(lines, AS_OF, WINDOW)
    raw = raw_inputs(X)
    return model_scale(raw[model_columns("boosting", raw)]).to_numpy(), y.to_numpy()


def test_single_calibrated_boosting_gives_scikit_learns_probabilities(predictable_lines):
    from sklearn.calibration import CalibratedClassifierCV

    from analytics.churn.models import ENSEMBLE_MAX_CUSTOMERS, make_estimator

    Z, labels = _boosting_inputs(predictable_lines)
    ours = make_estimator("boosting", 0, ENSEMBLE_MAX_CUSTOMERS + 1).fit(Z, labels)
    theirs = CalibratedClassifierCV(ours.estimator, method="isotonic", cv=3, ensemble=False).fit(Z, labels)
    np.testing.assert_array_equal(ours.predict_proba(Z), theirs.predict_proba(Z))


def test_out_of_sample_scores_come_from_models_that_did_not_learn_the_customer(predictable_lines):
    from sklearn.model_selection import train_test_split

    from analytics.churn.models import ENSEMBLE_MAX_CUSTOMERS, make_estimator

    Z, labels = _boosting_inputs(predictable_lines)
    train, test = train_test_split(np.arange(len(labels)), test_size=0.3, stratify=labels, random_state=0)
    fitted = make_estimator("boosting", 0, ENSEMBLE_MAX_CUSTOMERS + 1).fit(Z[train], labels[train])
    everyone = np.arange(len(labels))
    scores = fitted.out_of_sample_scores(Z, train, everyone)
    # training customers get their out-of-fold scores, the held-out ones the full model's
    np.testing.assert_array_equal(scores[train], fitted.scores_)
    np.testing.assert_array_equal(scores[test], fitted.decision_function(Z[test]))
    assert not np.allclose(scores[train], fitted.decision_function(Z[train]))


def test_the_single_boosting_refit_on_the_compared_customers_fits_no_fold_models_of_its_own(
        predictable_lines, monkeypatch):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from analytics.churn import models

    fits = []
    fit = HistGradientBoostingClassifier.fit
    monkeypatch.setattr(HistGradientBoostingClassifier, "fit",
                        lambda self, X, y, **kw: fits.append(len(y)) or fit(self, X, y, **kw))
    # this log's 2,500 customers would be scored by three averaged fold models
    monkeypatch.setattr(models, "ENSEMBLE_MAX_CUSTOMERS", 100)
    model = ChurnModel(model="boosting", compare=False).fit(predictable_lines, AS_OF)
    assert model.used_ == "boosting"
    # the comparison's three fold models and its full model, then the refit alone
    assert fits == [*[pytest.approx(model.n_train_ * 2 / 3, abs=1)] * 3, model.n_train_, model.n_refit_]


@pytest.mark.parametrize("kind", ["forest", "boosting"])
def test_tree_sums_give_predict_probas_probabilities_to_the_bit(predictable_lines, kind):
    from analytics.churn.models import ENSEMBLE_MAX_CUSTOMERS, TreeSums, make_estimator

    Z, labels = _boosting_inputs(predictable_lines)
    assert np.isnan(Z).any()  # one-timers' gaps: missing values take the trees' missing branch
    fitted = make_estimator(kind, 0, ENSEMBLE_MAX_CUSTOMERS + 1).fit(Z, labels)
    assert TreeSums.handles(fitted)
    rows, repeats = Z[:700], 3
    sums = TreeSums(fitted, rows, repeats)
    np.testing.assert_array_equal(sums.base(), fitted.predict_proba(rows)[:, 1])
    rng = np.random.default_rng(0)
    skipped = 0
    for j in range(Z.shape[1]):
        stacked = np.tile(rows, (repeats, 1))
        stacked[:, j] = rng.permutation(stacked[:, j])
        np.testing.assert_array_equal(sums.shuffled(stacked, j), fitted.predict_proba(stacked)[:, 1])
        skipped += sum(j not in used for used in sums.splits)
    assert skipped > 0  # some trees never split on some feature, and were not asked again


def test_tree_sums_stand_aside_when_scikit_learns_internals_are_not_what_they_read(predictable_lines, monkeypatch):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from analytics.churn import models
    from analytics.churn.models import ENSEMBLE_MAX_CUSTOMERS, TreeSums, make_estimator

    Z, labels = _boosting_inputs(predictable_lines)
    fitted = make_estimator("boosting", 0, ENSEMBLE_MAX_CUSTOMERS + 1).fit(Z, labels)
    rows = Z[:700]
    assert TreeSums.checked(fitted, rows, 3) is not None
    # probabilities that are not predict_proba's to the bit
    with monkeypatch.context() as patch:
        patch.setattr(TreeSums, "_probability", lambda self, values, n: np.full(n, 0.5))
        assert TreeSums.checked(fitted, rows, 3) is None
    # a private method gone (as a later scikit-learn may rename it)
    def gone(self, *args, **kwargs):
        raise AttributeError("'HistGradientBoostingClassifier' object has no attribute '_preprocess_X'")

    with monkeypatch.context() as patch:
        patch.setattr(HistGradientBoostingClassifier, "_preprocess_X", gone)
        patch.setattr(type(fitted), "predict_proba", lambda self, X: np.tile([0.5, 0.5], (len(X), 1)))
        assert TreeSums.checked(fitted, rows, 3) is None

    # the permutation importance is the same without them (predicting every shuffled copy in full)
    fast = models.ChurnModel(model="boosting", compare=False, bgnbd=False).fit(predictable_lines, AS_OF)
    monkeypatch.setattr(TreeSums, "checked", classmethod(lambda cls, estimator, X, repeats: None))
    full = models.ChurnModel(model="boosting", compare=False, bgnbd=False).fit(predictable_lines, AS_OF)
    pd.testing.assert_frame_equal(fast.feature_importance_, full.feature_importance_)
