"""Economics: hand-computed totals for tiny audiences, sure things, zero uplift, break-even."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analytics.errors import DataError
from analytics.roi.economics import Levers, PreparedAudience, baseline_probability, prepare, rescale_horizon


def one_customer() -> tuple[PreparedAudience, Levers]:
    # p0 = 0.2, spend 100; 10 % discount, everyone redeems, +10 pp uplift, 40 % margin, contact 0.5
    return PreparedAudience([0.2], [100.0], ["A"]), Levers(
        discount_fraction=0.10, redemption_fraction=1.0, uplift_fraction=0.10, gross_margin_fraction=0.40, contact_cost=0.5, fixed_cost=0.0
    )


def three_customers(fixed_cost: float = 10.0) -> tuple[PreparedAudience, Levers]:
    # a: p0 0, spend 200; b: p0 0.5, spend 100; c: p0 0.95, spend 50 (uplift 0.1 is clipped at p1 = 1)
    audience = PreparedAudience([0.0, 0.5, 0.95], [200.0, 100.0, 50.0], ["a", "b", "c"])
    levers = Levers(
        discount_fraction=0.20, redemption_fraction=0.5, uplift_fraction=0.10, gross_margin_fraction=0.5, contact_cost=2.0, fixed_cost=fixed_cost
    )
    return audience, levers


def direct_net(p0, spend, lv: Levers) -> float:
    """Textbook per-customer formula, independent of the prefix-sum implementation."""
    p0, spend = np.asarray(p0, float), np.asarray(spend, float)
    p1 = np.clip(p0 + lv.uplift_fraction, 0, 1)
    m, d = lv.gross_margin_fraction * spend, lv.discount_fraction * spend
    return float(np.sum(p1 * (m - lv.redemption_fraction * d) - p0 * m - lv.contact_cost) - lv.fixed_cost)


def test_one_customer_by_hand():
    audience, levers = one_customer()
    t = audience.totals(levers)
    # p1 = 0.3; m = 0.4 * 100 = 40; d = 0.1 * 100 = 10
    assert t.incremental_customers == pytest.approx(0.1)  # 0.3 - 0.2
    assert t.incremental_margin == pytest.approx(4.0)  # 0.1 * 40
    assert t.discount_cost == pytest.approx(3.0)  # 1.0 * 0.3 * 10
    assert t.discount_cost_baseline == pytest.approx(2.0)  # 1.0 * 0.2 * 10: would have bought anyway
    assert t.contact_cost == pytest.approx(0.5)
    assert t.total_cost == pytest.approx(3.5)  # 3 + 0.5 + 0
    assert t.net_profit == pytest.approx(0.5)  # 4 - 3.5; = 0.3 (40 - 10) - 0.2 * 40 - 0.5 = 9 - 8 - 0.5
    assert t.roi == pytest.approx(0.5 / 3.5)
    assert t.cost_per_incremental_customer == pytest.approx(35.0)  # 3.5 / 0.1
    # NP(u) = (0.4 - 0.1) * 100 u - 0.1 * 0.2 * 100 - 0.5 = 30 u - 2.5  ->  u* = 2.5 / 30
    assert t.break_even_uplift == pytest.approx(2.5 / 30)
    assert audience.incremental_values(levers) == pytest.approx([0.5])


def test_three_customers_with_clip_by_hand():
    audience, levers = three_customers()
    t = audience.totals(levers)
    # m = 0.5 s = 100, 50, 25; d = 0.2 s = 40, 20, 10; p1 = 0.1, 0.6, 1.0 (clipped); p1 - p0 = 0.1, 0.1, 0.05
    assert t.incremental_customers == pytest.approx(0.25)
    assert t.incremental_margin == pytest.approx(16.25)  # 0.1*100 + 0.1*50 + 0.05*25 = 10 + 5 + 1.25
    assert t.discount_cost == pytest.approx(13.0)  # 0.5 * (0.1*40 + 0.6*20 + 1.0*10) = 0.5 * 26
    assert t.discount_cost_baseline == pytest.approx(9.75)  # 0.5 * (0*40 + 0.5*20 + 0.95*10)
    assert t.contact_cost == pytest.approx(6.0)  # 3 * 2
    assert t.fixed_cost == pytest.approx(10.0)
    assert t.total_cost == pytest.approx(29.0)  # 13 + 6 + 10
    assert t.net_profit == pytest.approx(-12.75)  # 16.25 - 29
    assert t.roi == pytest.approx(-12.75 / 29)
    assert t.cost_per_incremental_customer == pytest.approx(116.0)  # 29 / 0.25
    # per customer: a 0.1*100 - 0.5*0.1*40 - 2 = 6; b 0.1*50 - 0.5*0.6*20 - 2 = -3;
    # c 0.05*25 - 0.5*1*10 - 2 = -5.75
    assert audience.incremental_values(levers) == pytest.approx([6.0, -3.0, -5.75])
    # break-even: k = 0.5 - 0.5*0.2 = 0.4; B = 0.1 * (0*200 + 0.5*100 + 0.95*50) + 3*2 + 10 = 25.75
    # S(u) = sum s min(u, 1 - p0) = 50*0.05 + 300 u on [0.05, 0.5]; S(u*) = 25.75 / 0.4 = 64.375
    assert t.break_even_uplift == pytest.approx((64.375 - 2.5) / 300)  # 0.20625


def test_break_even_beyond_a_cap_and_impossible():
    audience, levers = three_customers(fixed_cost=50.0)
    # B = 9.75 + 6 + 50 = 65.75 -> S = 164.375; on [0.5, 1] S(u) = 2.5 + 50 + 200 u  ->  u* = 111.875 / 200
    assert audience.break_even_uplift(levers) == pytest.approx(0.559375)
    # F = 100: S needed 289.375 > S(1) = 2.5 + 50 + 200 = 252.5: even certain purchase does not pay
    assert np.isnan(audience.break_even_uplift(replace(levers, fixed_cost=100.0)))
    # discount x redemption above the margin: every offer sale loses money
    assert np.isnan(
        audience.break_even_uplift(replace(levers, discount_fraction=0.9, redemption_fraction=1.0, gross_margin_fraction=0.5))
    )


@pytest.mark.parametrize("discount", [0.01, 0.10, 0.50, 1.0])
@pytest.mark.parametrize("uplift", [0.0, 0.2, 1.0])
def test_sure_things_always_lose(discount, uplift):
    audience = PreparedAudience([1.0, 1.0, 1.0], [80.0, 120.0, 40.0])
    levers = Levers(
        discount_fraction=discount, redemption_fraction=0.3, uplift_fraction=uplift, gross_margin_fraction=0.6
    )  # no contact/fixed cost
    t = audience.totals(levers)
    # they buy anyway: no incremental margin; loss = 0.3 * discount * (80 + 120 + 40)
    assert t.incremental_margin == 0
    assert t.net_profit == pytest.approx(-0.3 * discount * 240)
    assert t.net_profit < 0 and t.roi < 0
    assert np.isnan(t.break_even_uplift)


def test_zero_uplift_loses_exactly_the_costs():
    audience = PreparedAudience([0.3, 0.6], [100.0, 50.0])
    levers = Levers(
        discount_fraction=0.1, redemption_fraction=1.0, uplift_fraction=0.0, gross_margin_fraction=0.4, contact_cost=1.0, fixed_cost=5.0
    )
    # discount on baseline buyers 0.1 * (0.3*100 + 0.6*50) = 6; contact 2 * 1; fixed 5
    assert audience.totals(levers).net_profit == pytest.approx(-(6.0 + 2.0 + 5.0))
    no_discount = audience.totals(replace(levers, discount_fraction=0.0))
    assert no_discount.net_profit == -(2.0 + 5.0)  # exactly contact + fixed
    assert no_discount.incremental_customers == 0
    assert np.isnan(no_discount.cost_per_incremental_customer)


def test_break_even_uplift_gives_zero_net_on_random_audiences():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(1, 300))
        p0 = np.where(rng.random(n) < 0.2, 1.0, rng.beta(1, 2, n))  # some sure things, ties at 1
        spend = rng.gamma(2.0, 40.0, n)
        audience = PreparedAudience(p0, spend)
        levers = Levers(
            discount_fraction=rng.uniform(0, 0.3),
            redemption_fraction=rng.uniform(0.1, 1),
            uplift_fraction=0.05,
            gross_margin_fraction=rng.uniform(0.35, 0.7),
            contact_cost=rng.uniform(0, 2),
            fixed_cost=rng.uniform(0, 500),
        )
        be = audience.break_even_uplift(levers)
        if np.isnan(be):  # then even u = 1 must lose money
            assert direct_net(p0, spend, replace(levers, uplift_fraction=1.0)) < 0
            continue
        assert direct_net(p0, spend, replace(levers, uplift_fraction=be)) == pytest.approx(0.0, abs=1e-6 * spend.sum())
        # net increases with uplift here (margin > discount x redemption): a bit less loses, a bit more earns
        assert (
            direct_net(p0, spend, replace(levers, uplift_fraction=be - 1e-3))
            < 0
            <= direct_net(p0, spend, replace(levers, uplift_fraction=min(1, be + 1e-3))) + 1e-9
        )


def test_fast_totals_match_the_direct_formula_for_any_uplift():
    rng = np.random.default_rng(3)
    p0 = np.concatenate([rng.uniform(0, 1, 200), [0.0, 1.0, 0.5, 0.5]])
    spend = rng.gamma(2.0, 30.0, p0.size)
    audience = PreparedAudience(p0, spend)
    base = Levers(
        discount_fraction=0.15, redemption_fraction=0.7, uplift_fraction=0.0, gross_margin_fraction=0.45, contact_cost=0.8, fixed_cost=20
    )
    uplifts = np.array([-1.0, -0.6, -0.5, -0.05, 0.0, 0.03, 0.5, 0.77, 1.0])
    vectorised = audience.net_profit(base, uplift=uplifts)
    for u, net in zip(uplifts, vectorised, strict=True):
        lv = replace(base, uplift_fraction=u)
        assert net == pytest.approx(direct_net(p0, spend, lv))
        assert audience.totals(lv).net_profit == pytest.approx(direct_net(p0, spend, lv))
        assert audience.incremental_values(lv).sum() - lv.fixed_cost == pytest.approx(
            direct_net(p0, spend, lv)
        )


def test_empty_audience_has_no_campaign():
    t = PreparedAudience([], []).totals(Levers(0.1, 1.0, 0.1, 0.4, contact_cost=1.0, fixed_cost=100.0))
    assert t.n_customers == 0 and t.net_profit == 0 and t.fixed_cost == 0


@pytest.mark.parametrize(
    ("p0", "spend", "message"),
    [
        ([0.2, 1.5], [10, 10], "first: y=1.5"),
        ([0.2, np.nan], [10, 10], "1 are not"),
        ([0.2, 0.3], [10, -5], "y=-5"),
    ],
)
def test_bad_inputs_are_named(p0, spend, message):
    with pytest.raises(DataError, match=message):
        PreparedAudience(p0, spend, ["x", "y"])


def test_to_dict_is_json_safe():
    t = PreparedAudience([1.0], [10.0]).totals(Levers(0.0, 1.0, 0.0, 0.4))
    d = t.to_dict()
    assert d["roi"] is None and d["cost_per_incremental_customer"] is None  # nothing spent, nothing gained
    assert d["n_customers"] == 1


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {"p_purchase": [0.5, 0.2], "expected_spend": [10.0, 20.0], "p12": [0.5, 0.0]},
        index=pd.Index(["c1", "c2"], name="customer_id"),
    )


def test_prepare_from_table_and_horizon():
    audience = prepare(table(), horizon_months=3)
    assert list(audience.ids) == ["c1", "c2"] and audience.p0 == pytest.approx([0.5, 0.2])
    # a 12-month probability of 0.5 over 3 months with a constant hazard: 1 - 0.5 ** (3/12) = 0.159104
    rescaled = prepare(table(), horizon_months=3, p0="p12", p0_horizon_months=12)
    assert rescaled.p0 == pytest.approx([1 - 0.5**0.25, 0.0])
    assert rescale_horizon(0.5, 12, 12) == pytest.approx(0.5)
    seen = {}

    def p0_model(frame, horizon):
        seen["horizon"] = horizon
        return np.full(len(frame), 0.1 * horizon)

    assert prepare(table(), horizon_months=2, p0=p0_model).p0 == pytest.approx([0.2, 0.2])
    assert seen["horizon"] == 2


def test_p0_from_the_clv_no_purchase_column():
    clv_table = table().drop(columns="p_purchase").assign(p_no_purchase=[0.75, 1.0])
    assert prepare(clv_table, 12).p0 == pytest.approx([0.25, 0.0])
    # over 12 months 1 - 0.75 = 0.25; over 3: 1 - 0.75 ** (3/12)
    assert prepare(clv_table, 3, p0_horizon_months=12).p0 == pytest.approx([1 - 0.75**0.25, 0.0])


def test_prepare_names_missing_columns():
    with pytest.raises(DataError, match="no column 'expected_spend'"):
        prepare(table().drop(columns="expected_spend"), 3)
    with pytest.raises(DataError, match="no column 'p_purchase'.*columns are: expected_spend"):
        prepare(table().drop(columns="p_purchase"), 3)
    with pytest.raises(DataError, match="returned 1 values for 2 customers"):
        baseline_probability(table(), 3, p0=lambda frame, h: [0.1])
