"""RFM scores (1-5) and named segments from a rule table that a user can replace.

Scores are quintiles of ranks: values are ranked with ties broken by order of appearance
(``rank(method="first")``, i.e. by customer ID in a :func:`~analytics.features.customer_features` table),
then cut into five equal-count groups. Recency is reversed so the most recent customers score 5.

A segment rule table has columns ``segment, r_min, r_max, f_min, f_max, action`` and optionally
``m_min, m_max`` (inclusive score bounds, 1-5; missing M bounds mean 1-5). Rules are tried in order and the
first match wins; :func:`validate_rules` insists that every (R, F, M) combination is matched by some rule,
so every customer gets exactly one segment.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from analytics.errors import DataError

SCORE_COLUMNS: tuple[str, str, str] = ("r_score", "f_score", "m_score")
_BOUNDS = ("r_min", "r_max", "f_min", "f_max", "m_min", "m_max")

# The familiar R x F map (rows R 5..1, columns F 1..5):
#   R5: New Customers | Potential Loyalist x2 | Champions x2
#   R4: Promising     | Potential Loyalist x2 | Loyal Customers x2
#   R3: About To Sleep x2 | Need Attention    | Loyal Customers x2
#   R2: Hibernating x2    | At Risk x2        | Can't Lose Them
#   R1: Lost x2           | At Risk x2        | Can't Lose Them
# "Lost" is last and spans every score, so it is also the catch-all.
DEFAULT_SEGMENT_RULES: pd.DataFrame = pd.DataFrame(
    [
        ("Champions", 5, 5, 4, 5, 1, 5,
         "Reward them: early access, loyalty perks, ask for reviews and referrals; no discount needed."),
        ("Loyal Customers", 3, 4, 4, 5, 1, 5,
         "Upsell higher-value products, invite to the loyalty programme, ask for reviews."),
        ("Potential Loyalist", 4, 5, 2, 3, 1, 5,
         "Offer membership or a loyalty programme and personal recommendations to build the habit."),
        ("New Customers", 5, 5, 1, 1, 1, 5,
         "Onboard well: welcome series, help with first use, make the second order easy."),
        ("Promising", 4, 4, 1, 1, 1, 5,
         "Build awareness: brand content and a small incentive for a second purchase."),
        ("Need Attention", 3, 3, 3, 3, 1, 5,
         "Reactivate with limited-time offers and recommendations based on past purchases."),
        ("About To Sleep", 3, 3, 1, 2, 1, 5,
         "Share popular products and a modest discount before they drift away; reconnect."),
        ("Can't Lose Them", 1, 2, 5, 5, 1, 5,
         "Win them back personally: call or write, ask what went wrong, offer renewals; don't lose them to a "
         "competitor."),
        ("At Risk", 1, 2, 3, 4, 1, 5,
         "Send personalised win-back emails and offers; remind them of what they liked."),
        ("Hibernating", 2, 2, 1, 2, 1, 5,
         "Offer other relevant products and special discounts; keep the contact cheap."),
        ("Lost", 1, 5, 1, 5, 1, 5,
         "Try one low-cost reactivation campaign; otherwise stop spending on them."),
    ],
    columns=["segment", *_BOUNDS, "action"],
)

# Stable ordering (best to worst) for colours, legends and tables.
SEGMENT_ORDER: list[str] = [
    "Champions",
    "Loyal Customers",
    "Potential Loyalist",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "Can't Lose Them",
    "At Risk",
    "Hibernating",
    "Lost",
]


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score`` (int 1-5) per customer, same index as ``features``.

    Uses ``recency_days`` (lower is better, so reversed), ``frequency`` and ``monetary``. A single customer
    scores 3 on each (the middle: there is nobody to compare with).
    """
    missing = [c for c in ("recency_days", "frequency", "monetary") if c not in features.columns]
    if missing:
        raise DataError(f"RFM scores need column(s) {missing}; found {list(features.columns)}")
    if features.empty:
        raise DataError("RFM scores need at least one customer; the feature table is empty")
    out = pd.DataFrame(index=features.index)
    # Ranks "first" are always 1..n, so the quintile of each rank is cut once for the three columns.
    by_rank = np.array([3]) if len(features) == 1 else pd.qcut(
        np.arange(1, len(features) + 1, dtype="float64"), 5, labels=False).astype(int) + 1
    out["r_score"] = 6 - _quintile(features["recency_days"], by_rank)
    out["f_score"] = _quintile(features["frequency"], by_rank)
    out["m_score"] = _quintile(features["monetary"], by_rank)
    return out


def _quintile(values: pd.Series, by_rank: np.ndarray) -> np.ndarray:
    if values.isna().any():
        bad = values.index[values.isna()][:5].tolist()
        raise DataError(f"RFM scores: column {values.name} has missing values (first customers {bad})")
    return by_rank[values.rank(method="first").to_numpy(dtype=np.int64) - 1]


def validate_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """Check a segment rule table; return it normalised (int bounds, M bounds filled with 1-5).

    Raises :class:`DataError` for a missing column, empty segment name, non-integer or out-of-range bounds
    (each within 1-5, min <= max), a segment name repeated with different actions, or scores that no rule
    matches (with examples: add a last catch-all row spanning 1-5).
    """
    if not isinstance(rules, pd.DataFrame):
        raise DataError(f"segment rules must be a table, got {type(rules).__name__}")
    required = ["segment", "r_min", "r_max", "f_min", "f_max", "action"]
    missing = [c for c in required if c not in rules.columns]
    if missing:
        raise DataError(
            f"segment rules are missing column(s) {missing}; found {list(rules.columns)}; "
            f"expected {required} and optionally m_min, m_max"
        )
    if rules.empty:
        raise DataError("segment rules: the table has no rows")
    out = rules.reset_index(drop=True).copy()
    for col in ("m_min", "m_max"):
        if col not in out.columns:
            out[col] = 1 if col == "m_min" else 5
    out["segment"] = out["segment"].astype("string").str.strip()
    empty = out.index[out["segment"].isna() | (out["segment"] == "")].tolist()
    if empty:
        raise DataError(f"segment rules: empty segment name in row(s) {empty[:5]}")
    out["action"] = out["action"].astype("string").fillna("")
    for col in _BOUNDS:
        numbers = pd.to_numeric(out[col], errors="coerce")
        wrong = numbers.isna() | (numbers != numbers.round()) | (numbers < 1) | (numbers > 5)
        bad = out.index[wrong].tolist()
        if bad:
            raise DataError(
                f"segment rules: {col} must be a whole score from 1 to 5; bad value(s) "
                f"{[out.at[i, col] for i in bad[:5]]} in row(s) {bad[:5]}"
            )
        out[col] = numbers.astype("int64")
    for lo, hi in (("r_min", "r_max"), ("f_min", "f_max"), ("m_min", "m_max")):
        bad = out.index[out[lo] > out[hi]].tolist()
        if bad:
            names = list(out.loc[bad[:5], "segment"])
            raise DataError(f"segment rules: {lo} > {hi} in row(s) {bad[:5]} (segments {names})")
    actions = out.groupby("segment")["action"].nunique()
    clash = actions.index[actions > 1].tolist()
    if clash:
        raise DataError(f"segment rules: segment(s) {clash[:5]} appear with different actions")
    grid = pd.DataFrame(list(itertools.product(range(1, 6), repeat=3)), columns=list(SCORE_COLUMNS))
    unmatched = grid[_first_match(grid, out) < 0]
    if len(unmatched):
        examples = [tuple(int(v) for v in row) for row in unmatched.head(5).to_numpy()]
        raise DataError(
            f"segment rules leave {len(unmatched)} of 125 (R, F, M) score combinations without a segment, "
            f"e.g. {examples}; add a last catch-all row with every range 1-5"
        )
    return out


def assign_segments(scores: pd.DataFrame, rules: pd.DataFrame = DEFAULT_SEGMENT_RULES) -> pd.Series:
    """Segment per customer (string Series named ``segment``, same index): the first rule that matches."""
    table = validate_rules(rules)
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise DataError(f"segments need score column(s) {missing}; found {list(scores.columns)}")
    which = _first_match(scores, table)
    if (which < 0).any():
        bad = scores.index[which < 0][:5].tolist()
        raise DataError(
            f"segments: scores must be whole numbers from 1 to 5; customers {bad} have other values"
        )
    names = table["segment"].to_numpy(dtype=object)
    return pd.Series(names[which], index=scores.index, name="segment", dtype="string")


def segment_actions(rules: pd.DataFrame = DEFAULT_SEGMENT_RULES) -> pd.Series:
    """Recommended action per segment name (first rule's text), in table order."""
    table = validate_rules(rules)
    return table.drop_duplicates("segment").set_index("segment")["action"]


def _first_match(scores: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    """Index of the first matching rule per row of ``scores``; -1 where none matches."""
    r, f, m = (scores[c].to_numpy()[:, None] for c in SCORE_COLUMNS)
    t = {c: table[c].to_numpy()[None, :] for c in _BOUNDS}
    hit = (
        (r >= t["r_min"]) & (r <= t["r_max"])
        & (f >= t["f_min"]) & (f <= t["f_max"])
        & (m >= t["m_min"]) & (m <= t["m_max"])
    )
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
