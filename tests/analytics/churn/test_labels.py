"""The churn label and the leak-free training frame: labels by hand, and features blind to the window."""

import numpy as np
import pandas as pd
import pytest

from analytics.churn.labels import (
    bgnbd_baseline,
    churn_labels,
    churn_training_frame,
    history_before,
    label_cutoff,
)
from analytics.errors import DataError
from analytics.features import customer_features
from tests.analytics.churn.conftest import WINDOW, lines_frame, simulate

AS_OF = pd.Timestamp("2024-04-01")  # window 30 days -> cutoff 2024-03-02 00:00


@pytest.fixture
def tiny() -> pd.DataFrame:
    return lines_frame(
        [
            ("A", "a1", "2024-01-10", 2, 5.0),
            ("A", "a2", "2024-03-10", 1, 5.0),  # buys again in the window -> active
            ("B", "b1", "2024-01-05", 1, 9.0),  # never again -> churned
            ("C", "c1", "2024-02-01", 3, 2.0),
            ("C", "Cc2", "2024-03-15", -1, 2.0),  # only a return in the window -> churned
            ("D", "d1", "2024-03-05", 1, 4.0),  # first purchase inside the window -> not labelled
            ("E", "e1", "2024-02-01", 1, 4.0),
            ("E", "e2", "2024-03-02 00:00", 1, 4.0),  # exactly at the cutoff: inside the window -> active
            ("F", "f1", "2024-02-01", 1, 4.0),
            ("F", "f2", "2024-04-01 00:00", 1, 4.0),  # at as_of: outside the window -> churned
            ("G", "g1", "2024-03-01 23:59", 1, 4.0),  # last minute before the cutoff -> labelled, churned
            ("H", "Ch1", "2024-01-20", -2, 4.0),  # only a return before the cutoff -> not labelled
            ("H", "h2", "2024-03-20", 1, 4.0),
        ]
    )


def test_cutoff_is_as_of_minus_window():
    assert label_cutoff("2024-04-01", 30) == pd.Timestamp("2024-03-02")
    with pytest.raises(DataError, match="window"):
        label_cutoff("2024-04-01", 0)


def test_labels_by_hand(tiny):
    y = churn_labels(tiny, AS_OF, window_days=30)
    expected = {"A": 0, "B": 1, "C": 1, "E": 0, "F": 1, "G": 1}
    assert y.to_dict() == expected
    assert y.name == "churned"


def test_training_frame_uses_features_as_of_the_cutoff(tiny):
    X, y = churn_training_frame(tiny, AS_OF, 30, customer_features)
    assert list(X.index) == list(y.index)
    cutoff = pd.Timestamp("2024-03-02")
    # recency and frequency are measured at the cutoff from pre-cutoff purchases only
    assert X.loc["A", "recency_days"] == (cutoff - pd.Timestamp("2024-01-10")).days
    assert X.loc["A", "frequency"] == 1
    assert X.loc["E", "frequency"] == 1
    assert X.loc["G", "recency_days"] == pytest.approx(1 / 1440)
    assert X.loc["C", "monetary"] == 6.0  # the window return is not netted into a pre-cutoff feature


class Spy:
    """A feature function that records what it was given."""

    def __call__(self, lines, as_of):
        self.lines, self.as_of = lines, as_of
        return customer_features(lines, as_of)


def test_feature_function_never_receives_window_rows(predictable_lines):
    as_of = pd.Timestamp("2024-01-01")
    spy = Spy()
    churn_training_frame(predictable_lines, as_of, WINDOW, spy)
    cutoff = as_of - pd.Timedelta(days=WINDOW)
    assert spy.as_of == cutoff
    assert spy.lines["invoice_date"].max() < cutoff
    # everything before the cutoff was handed over, nothing more
    assert len(spy.lines) == int((predictable_lines["invoice_date"] < cutoff).sum())
    assert (predictable_lines["invoice_date"] >= cutoff).sum() > 1000  # the window really held data


def _tamper_window(lines: pd.DataFrame, as_of: pd.Timestamp, seed: int = 0) -> pd.DataFrame:
    """Change everything inside [cutoff, as_of): amounts, times, drop a third of the lines, add new buyers,
    and add lines after as_of too."""
    rng = np.random.default_rng(seed)
    cutoff = as_of - pd.Timedelta(days=WINDOW)
    out = lines.copy()
    window = (out["invoice_date"] >= cutoff).to_numpy()
    out.loc[window, "quantity"] = out.loc[window, "quantity"] * 7 + 3
    out.loc[window, "unit_price"] = out.loc[window, "unit_price"] * 0.1
    moved = cutoff + pd.to_timedelta(rng.uniform(0, WINDOW - 1, window.sum()), unit="D")
    out.loc[window, "invoice_date"] = moved.astype(out["invoice_date"].dtype)
    out["revenue"] = out["quantity"] * out["unit_price"]
    drop = window & (rng.random(len(out)) < 1 / 3)
    out = out.loc[~drop]
    newcomers = lines_frame(
        [(f"N{i}", f"n{i}", cutoff + pd.Timedelta(days=5 + i % 60), 1.0, 3.0) for i in range(50)]
        + [("C00001", "late", as_of + pd.Timedelta(days=3), 100.0, 100.0)]
    )
    return pd.concat([out, newcomers], ignore_index=True)


def test_features_cannot_see_the_label_window(predictable_lines):
    """The must-show: whatever happens inside the label window, the training features are bit-identical."""
    as_of = pd.Timestamp("2024-01-01")
    X, y = churn_training_frame(predictable_lines, as_of, WINDOW, customer_features)
    tampered = _tamper_window(predictable_lines, as_of)
    X2, y2 = churn_training_frame(tampered, as_of, WINDOW, customer_features)
    assert X.index.equals(X2.index)
    pd.testing.assert_frame_equal(X, X2, check_exact=True)
    # the labels, on the other hand, do see the window: some customers changed class
    assert (y != y2.reindex(y.index)).sum() > 0
    assert not y2.index.str.startswith("N").any()  # window-only newcomers are never labelled


def careless_features(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """A feature function that ignores ``as_of`` and uses every row it is given."""
    by = lines.groupby("customer_id")
    return pd.DataFrame(
        {
            "last_seen": by["invoice_date"].max(),
            "lines": by.size(),
            "spend": by["revenue"].sum(),
        }
    )


def test_even_a_careless_feature_function_cannot_leak(predictable_lines):
    """Leak-freedom is by construction (the frame is truncated), not by the feature function's manners."""
    as_of = pd.Timestamp("2024-01-01")
    X, _ = churn_training_frame(predictable_lines, as_of, WINDOW, careless_features)
    X2, _ = churn_training_frame(_tamper_window(predictable_lines, as_of), as_of, WINDOW, careless_features)
    pd.testing.assert_frame_equal(X, X2, check_exact=True)
    assert X["last_seen"].max() < as_of - pd.Timedelta(days=WINDOW)


def test_bgnbd_baseline_cannot_see_the_label_window(predictable_lines):
    as_of = pd.Timestamp("2024-01-01")
    sample = predictable_lines[predictable_lines["customer_id"] < "C00600"]
    before = bgnbd_baseline(sample, as_of, WINDOW)
    after = bgnbd_baseline(_tamper_window(sample, as_of), as_of, WINDOW)
    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_history_before_is_strict_and_a_copy(tiny):
    cutoff = pd.Timestamp("2024-03-02")
    history = history_before(tiny, cutoff)
    assert history["invoice_date"].max() < cutoff
    history.loc[history.index[0], "quantity"] = -999
    assert (tiny["quantity"] != -999).all()


def test_nobody_before_the_cutoff_gives_empty_frames(tiny):
    X, y = churn_training_frame(tiny, pd.Timestamp("2024-01-15"), 30, customer_features)
    assert X.empty and y.empty


def test_hand_made_frames_without_revenue_columns_work(tiny):
    bare = tiny.drop(columns=["revenue", "is_return"])
    assert churn_labels(bare, AS_OF, 30).to_dict() == churn_labels(tiny, AS_OF, 30).to_dict()


def test_missing_columns_are_named():
    with pytest.raises(DataError, match="invoice_date"):
        churn_labels(pd.DataFrame({"customer_id": ["a"], "invoice_id": ["1"], "revenue": [1.0]}), AS_OF)


def test_simulated_population_is_labelled_once_each():
    lines = simulate(200, seed=5)
    y = churn_labels(lines, pd.Timestamp("2024-01-01"), WINDOW)
    assert y.index.is_unique
    assert set(y.unique()) <= {0, 1}


@pytest.mark.parametrize("categories", [sorted, lambda ids: sorted(ids, reverse=True)])
def test_categorical_ids_give_the_same_labels_whatever_the_category_order(tiny, categories):
    as_strings = churn_labels(tiny, AS_OF, 30)
    ids = tiny["customer_id"].astype(str)
    coded = tiny.assign(customer_id=pd.Categorical(ids, categories=categories(ids.unique())))
    pd.testing.assert_series_equal(churn_labels(coded, AS_OF, 30), as_strings)
