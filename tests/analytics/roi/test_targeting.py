"""Targeting: ranking, profit curve against brute force, value-destruction warnings."""

from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest

from analytics.roi.economics import Levers, PreparedAudience
from analytics.roi.targeting import profit_curve, rank, ranked_customers, value_warnings


def three_customers(fixed_cost: float) -> tuple[PreparedAudience, Levers]:
    # same audience as in test_economics: incremental values a 6, b -3, c -5.75 (worked out there)
    audience = PreparedAudience([0.0, 0.5, 0.95], [200.0, 100.0, 50.0], ["a", "b", "c"])
    levers = Levers(
        discount_fraction=0.2, redemption_fraction=0.5, uplift_fraction=0.1, gross_margin_fraction=0.5, contact_cost=2.0, fixed_cost=fixed_cost
    )
    return audience, levers


def test_rank_is_descending():
    order = rank(np.array([1.0, 3.0, 1.0, 2.0]))
    assert list(order[:2]) == [1, 3] and sorted(order[2:]) == [0, 2]


def test_curve_by_hand_without_fixed_cost():
    audience, levers = three_customers(fixed_cost=0.0)
    curve = profit_curve(audience, levers)
    assert list(audience.ids[curve.order]) == ["a", "b", "c"]
    # k = 0: no campaign; then 6, 6 - 3 = 3, 3 - 5.75 = -2.75
    assert curve.frame["net_profit"].tolist() == pytest.approx([0.0, 6.0, 3.0, -2.75])
    # incremental customers 0.1, 0.1, 0.05 cumulated
    assert curve.frame["incremental_customers"].tolist() == pytest.approx([0, 0.1, 0.2, 0.25])
    # cost per customer = 0.5 * 0.2 * p1 * s + 2: a 0.1*0.1*200 + 2 = 4; b 0.1*0.6*100 + 2 = 8;
    # c 0.1*1*50 + 2 = 7
    assert curve.frame["total_cost"].tolist() == pytest.approx([0, 4, 12, 19])
    assert curve.optimal_size == 1 and curve.optimal_net_profit == pytest.approx(6.0)


def test_curve_with_fixed_cost_says_target_nobody():
    audience, levers = three_customers(fixed_cost=10.0)
    curve = profit_curve(audience, levers)
    assert curve.frame["net_profit"].tolist() == pytest.approx([0.0, -4.0, -7.0, -12.75])
    assert curve.optimal_size == 0 and curve.optimal_net_profit == 0
    warnings = value_warnings(audience.totals(levers), curve, audience, levers)
    assert any("target nobody" in w for w in warnings)
    assert any("loses 13" in w for w in warnings)  # 12.75 rounded


@pytest.mark.parametrize("seed", range(6))
def test_curve_maximum_is_the_best_subset_by_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 9
    p0 = rng.uniform(0, 1, n)
    spend = rng.gamma(2, 50, n)
    audience = PreparedAudience(p0, spend)
    levers = Levers(
        discount_fraction=rng.uniform(0, 0.3),
        redemption_fraction=rng.uniform(0.3, 1),
        uplift_fraction=rng.uniform(0, 0.3),
        gross_margin_fraction=0.4,
        contact_cost=rng.uniform(0, 3),
        fixed_cost=rng.uniform(0, 30),
    )
    # each customer's incremental value, written out independently of the code under test
    p1 = np.clip(p0 + levers.uplift_fraction, 0, 1)
    value = (p1 - p0) * 0.4 * spend - levers.redemption_fraction * p1 * levers.discount_fraction * spend - levers.contact_cost
    best = 0.0  # targeting nobody
    for k in range(1, n + 1):
        for subset in combinations(range(n), k):
            best = max(best, value[list(subset)].sum() - levers.fixed_cost)
    curve = profit_curve(audience, levers)
    assert curve.optimal_net_profit == pytest.approx(best)
    # every prefix of the curve is an actual audience's net profit
    k = max(curve.optimal_size, 1)
    assert curve.frame["net_profit"][k] == pytest.approx(
        audience.subset(curve.order[:k]).totals(levers).net_profit
    )


def test_ranked_customers_export():
    audience, levers = three_customers(fixed_cost=0.0)
    curve = profit_curve(audience, levers)
    frame = ranked_customers(audience, levers, curve)
    assert list(frame.index) == ["a", "b", "c"] and frame.index.name == "customer_id"
    assert frame["rank"].tolist() == [1, 2, 3]
    assert frame["incremental_value"].tolist() == pytest.approx([6.0, -3.0, -5.75])
    assert frame["in_optimal"].tolist() == [True, False, False]
    assert frame["sure_thing"].tolist() == [False, False, True]  # p0 0.95 > 0.8
    assert frame["p1"].tolist() == pytest.approx([0.1, 0.6, 1.0])


def test_sure_thing_warning():
    audience = PreparedAudience([0.9, 0.95, 0.1], [100.0, 100.0, 100.0])
    levers = Levers(discount_fraction=0.1, redemption_fraction=1.0, uplift_fraction=0.05, gross_margin_fraction=0.5)
    warnings = value_warnings(audience.totals(levers), profit_curve(audience, levers), audience, levers)
    # 2 of 3 = 67 % would buy anyway; their discount on baseline purchases: 0.1 * (0.9 + 0.95) * 100 = 18.5
    assert any(
        "67% of the targeted customers (2) would buy anyway" in w and "about 18" in w for w in warnings
    )
    few = PreparedAudience([0.9, 0.1, 0.1, 0.1, 0.1], [100.0] * 5)
    assert not any(
        "buy anyway" in w for w in value_warnings(few.totals(levers), profit_curve(few, levers), few, levers)
    )


def test_discount_above_margin_warning_and_clean_case():
    audience = PreparedAudience([0.1, 0.2], [100.0, 100.0])
    good = Levers(discount_fraction=0.1, redemption_fraction=1.0, uplift_fraction=0.2, gross_margin_fraction=0.5)
    assert value_warnings(audience.totals(good), profit_curve(audience, good), audience, good) == []
    bad = replace(good, discount_fraction=0.6)
    warnings = value_warnings(audience.totals(bad), profit_curve(audience, bad), audience, bad)
    assert any("every sale made with the offer loses money" in w for w in warnings)


def test_thinned_curve_keeps_ends_and_optimum():
    rng = np.random.default_rng(0)
    audience = PreparedAudience(rng.uniform(0, 1, 5000), rng.gamma(2, 50, 5000))
    levers = Levers(discount_fraction=0.15, redemption_fraction=0.8, uplift_fraction=0.05, gross_margin_fraction=0.4, contact_cost=1.0)
    curve = profit_curve(audience, levers)
    thin = curve.thinned(100)
    assert len(thin) <= 101
    assert {0, 5000, curve.optimal_size} <= set(thin["audience_size"])
    assert thin["net_profit"].max() == pytest.approx(curve.optimal_net_profit)
