"""Odds ratios and the top-3 drivers in words."""

import time

import numpy as np
import pytest

from analytics.churn.explain import MIN_CONTRIBUTION, odds_ratio_table, template, top_drivers

FEATURES = ["recency_days", "frequency", "avg_order_value", "is_one_timer", "cat_home_decor"]
TYPICAL = np.array([40.0, 5.0, 300.0, 0.3, 0.2])


def test_drivers_are_the_largest_positive_contributions_with_the_customers_numbers():
    contributions = np.array(
        [
            [1.2, 0.5, -0.3, 0.0, 0.2],  # recency, frequency, decor
            [-0.5, 0.9, 0.8, 0.7, 0.05],  # frequency, order value, one-timer (0.05 too small)
            [-1.0, -0.2, -0.1, 0.05, -0.3],  # nothing pushes churn up enough
        ]
    )
    values = np.array(
        [
            [140.0, 2.0, 250.0, 0.0, 0.45],
            [10.0, 1.0, 80.0, 1.0, 0.1],
            [5.0, 9.0, 400.0, 0.0, 0.2],
        ]
    )
    out = top_drivers(contributions, values, FEATURES, TYPICAL, k=3)
    first = out[0].split("; ")
    assert first[0] == "no purchase for 140 days"
    assert first[1] == "frequency well below typical (2 orders vs 5.0 typical)"
    assert first[2] == "45% of spend on home decor (20% typical)"
    second = out[1].split("; ")
    assert second[0] == "frequency well below typical (1 order vs 5.0 typical)"
    assert second[1].startswith("small orders (80 per order vs 300 typical)")
    assert second[2] == "one-time buyer"
    assert out[2] == ""


def test_not_applicable_values_and_small_pushes_are_never_drivers():
    contributions = np.array([[2.0, 1.0, MIN_CONTRIBUTION / 2, 0.0, 0.0]])
    values = np.array([[np.nan, 3.0, 100.0, 0.0, 0.1]])
    out = top_drivers(contributions, values, FEATURES, TYPICAL)
    assert out[0] == "frequency below typical (3 orders vs 5.0 typical)"


def test_drivers_scale_to_a_hundred_thousand_customers():
    rng = np.random.default_rng(0)
    n = 100_000
    features = ["recency_days", "frequency", "avg_order_value", "unique_products", "overdue_ratio",
                "is_one_timer", "peak_share", "main_country"] + [f"cat_{c}" for c in "abcdefgh"]
    p = len(features)
    values = np.column_stack(
        [rng.uniform(0, 700, n), rng.integers(1, 60, n), rng.gamma(2, 150, n), rng.integers(1, 300, n),
         rng.gamma(1, 2, n), rng.integers(0, 2, n), rng.random(n), rng.integers(0, 2, n)]
        + [rng.random(n) for _ in range(8)]
    ).astype(float)
    contributions = rng.normal(size=(n, p))
    start = time.perf_counter()
    out = top_drivers(contributions, values, features, values.mean(axis=0))
    elapsed = time.perf_counter() - start
    assert len(out) == n
    assert all(1 <= s.count("; ") + 1 <= 3 for s in out if s)
    # recency is a driver exactly where its contribution is among the top 3 and big enough
    rank = (contributions > contributions[:, [0]]).sum(axis=1)
    expect = (rank < 3) & (contributions[:, 0] >= MIN_CONTRIBUTION)
    has = np.array(["no purchase for" in s or "last purchase only" in s for s in out])
    assert (has == expect).all()
    # and it quotes that customer's own number of days
    i = int(np.flatnonzero(expect & (values[:, 0] > values[:, 0].mean()))[0])
    assert f"no purchase for {values[i, 0]:,.0f} days" in out[i]
    print(f"top_drivers on {n:,} customers x {p} features: {elapsed:.2f} s")


def test_odds_ratio_table_orders_by_effect_size():
    coef = np.array([0.1, -1.0, 0.5])
    table = odds_ratio_table(["a", "frequency", "recency_days"], coef, {"frequency": "log1p"})
    assert list(table["feature"]) == ["frequency", "recency_days", "a"]
    assert table["odds_ratio"].tolist() == pytest.approx(np.exp([-1.0, 0.5, 0.1]).tolist())
    assert list(table["effect"]) == ["lowers churn", "raises churn", "raises churn"]
    assert table.loc[0, "scale"] == "log1p" and table.loc[2, "scale"] == "as is"


def test_generic_and_country_phrases():
    assert template("weird_feature", True)(3.0, 1.0) == "weird feature above typical (3 vs 1)"
    assert template("main_country", False, {"main_country": "France"})(0.0, 0.8) == "based outside France"
