"""RFM scores and the segment rule table."""

import itertools

import numpy as np
import pandas as pd
import pytest

from analytics.errors import DataError
from analytics.segments import (
    DEFAULT_SEGMENT_RULES,
    SEGMENT_ORDER,
    assign_segments,
    rfm_scores,
    segment_actions,
    validate_rules,
)

ALL_SCORES = pd.DataFrame(
    list(itertools.product(range(1, 6), repeat=3)), columns=["r_score", "f_score", "m_score"]
)


def features(recency, frequency, monetary) -> pd.DataFrame:
    idx = pd.Index([f"c{i:02d}" for i in range(len(recency))], name="customer_id", dtype="string")
    return pd.DataFrame({"recency_days": recency, "frequency": frequency, "monetary": monetary}, index=idx)


def test_quintiles_of_ranks_with_recency_reversed():
    f = features(recency=list(range(10, 0, -1)), frequency=list(range(1, 11)), monetary=list(range(10)))
    s = rfm_scores(f)
    # ten customers: two per quintile, in rank order
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert s["f_score"].tolist() == expected
    assert s["m_score"].tolist() == expected
    assert s["r_score"].tolist() == expected  # recency falls along the rows, so the score rises
    assert list(s.index) == list(f.index)


def test_ties_are_broken_by_order_of_appearance():
    f = features(recency=[5.0] * 5, frequency=[1] * 5, monetary=[3.0] * 5)
    s = rfm_scores(f)
    assert s["f_score"].tolist() == [1, 2, 3, 4, 5]
    assert s["r_score"].tolist() == [5, 4, 3, 2, 1]


def test_scores_are_balanced_on_many_customers():
    rng = np.random.default_rng(0)
    f = features(rng.exponential(50, 1000), rng.integers(1, 4, 1000), rng.lognormal(5, 1, 1000))
    s = rfm_scores(f)
    for col in s.columns:
        assert s[col].value_counts().sort_index().tolist() == [200] * 5
    top_recent = s["r_score"] == 5
    assert f.loc[top_recent, "recency_days"].max() < f.loc[~top_recent, "recency_days"].min()


def test_few_customers_still_score():
    one = rfm_scores(features([3.0], [2], [10.0]))
    assert one.iloc[0].tolist() == [3, 3, 3]
    three = rfm_scores(features([30.0, 1.0, 10.0], [1, 5, 2], [5.0, 50.0, 20.0]))
    assert three["r_score"].tolist() == [1, 5, 3]
    assert three["m_score"].tolist() == [1, 5, 3]
    assert assign_segments(three).notna().all()


def test_scores_reject_missing_columns_and_values():
    with pytest.raises(DataError, match="recency_days"):
        rfm_scores(pd.DataFrame({"frequency": [1]}))
    with pytest.raises(DataError, match="missing values"):
        rfm_scores(features([1.0, np.nan], [1, 2], [1.0, 2.0]))
    with pytest.raises(DataError, match="empty"):
        rfm_scores(features([], [], []))


def test_every_score_combination_gets_exactly_one_segment_and_all_are_reachable():
    rules = validate_rules(DEFAULT_SEGMENT_RULES)
    seg = assign_segments(ALL_SCORES)
    assert seg.notna().all() and len(seg) == 125
    # count matching rules by brute force: at least one, and the name is the first match
    for (r, f, m), name in zip(ALL_SCORES.itertuples(index=False), seg):
        matches = [
            row.segment
            for row in rules.itertuples()
            if row.r_min <= r <= row.r_max and row.f_min <= f <= row.f_max and row.m_min <= m <= row.m_max
        ]
        assert matches and matches[0] == name
    assert set(seg) == set(SEGMENT_ORDER)
    assert len(SEGMENT_ORDER) == 11 == DEFAULT_SEGMENT_RULES["segment"].nunique()


@pytest.mark.parametrize(
    ("r", "f", "name"),
    [
        (5, 5, "Champions"),
        (5, 1, "New Customers"),
        (4, 1, "Promising"),
        (4, 5, "Loyal Customers"),
        (5, 2, "Potential Loyalist"),
        (3, 3, "Need Attention"),
        (3, 1, "About To Sleep"),
        (1, 5, "Can't Lose Them"),
        (2, 4, "At Risk"),
        (2, 1, "Hibernating"),
        (1, 1, "Lost"),
    ],
)
def test_familiar_map(r, f, name):
    scores = pd.DataFrame({"r_score": [r] * 5, "f_score": [f] * 5, "m_score": [1, 2, 3, 4, 5]})
    assert set(assign_segments(scores)) == {name}


def test_every_segment_has_an_action():
    actions = segment_actions()
    assert list(actions.index) == list(DEFAULT_SEGMENT_RULES["segment"])
    assert (actions.str.len() > 20).all()


def test_user_rules_with_monetary_bounds():
    rules = pd.DataFrame(
        {
            "segment": ["Whales", "Everyone else"],
            "r_min": [1, 1], "r_max": [5, 5], "f_min": [1, 1], "f_max": [5, 5],
            "m_min": [5, 1], "m_max": [5, 5],
            "action": ["call them", "email them"],
        }
    )
    scores = pd.DataFrame({"r_score": [1, 1], "f_score": [1, 1], "m_score": [5, 4]}, index=["a", "b"])
    assert assign_segments(scores, rules).tolist() == ["Whales", "Everyone else"]


def test_rules_without_m_columns_default_to_all_m():
    rules = DEFAULT_SEGMENT_RULES.drop(columns=["m_min", "m_max"])
    assert assign_segments(ALL_SCORES, rules).equals(assign_segments(ALL_SCORES))


def _broken(**changes) -> pd.DataFrame:
    rules = DEFAULT_SEGMENT_RULES.copy()
    for col, value in changes.items():
        rules.loc[0, col] = value
    return rules


@pytest.mark.parametrize(
    ("rules", "match"),
    [
        (DEFAULT_SEGMENT_RULES.drop(columns=["action"]), r"missing column\(s\) \['action'\]"),
        (DEFAULT_SEGMENT_RULES.iloc[:0], "no rows"),
        (DEFAULT_SEGMENT_RULES.iloc[:-1], "without a segment"),  # no catch-all
        (_broken(r_min=0), "r_min must be a whole score"),
        (_broken(f_max=6), "f_max must be a whole score"),
        (_broken(r_min=5, r_max=4), "r_min > r_max"),
        (DEFAULT_SEGMENT_RULES.astype({"m_min": object}).assign(m_min="low"), "m_min must be a whole score"),
        (_broken(segment=" "), "empty segment name"),
        (
            pd.concat([DEFAULT_SEGMENT_RULES.iloc[[0]].assign(action="other"), DEFAULT_SEGMENT_RULES]),
            "different actions",
        ),
        ("not a table", "must be a table"),
    ],
)
def test_malformed_rules_raise_data_error(rules, match):
    with pytest.raises(DataError, match=match):
        validate_rules(rules)


def test_uncovered_combinations_are_named():
    with pytest.raises(DataError, match=r"\(1, 1, 1\)"):
        validate_rules(DEFAULT_SEGMENT_RULES.iloc[:-1])


def test_out_of_range_scores_are_rejected():
    with pytest.raises(DataError, match="whole numbers from 1 to 5"):
        assign_segments(pd.DataFrame({"r_score": [0], "f_score": [1], "m_score": [1]}))
