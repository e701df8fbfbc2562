"""Uncertainty: lever ranges, tornado by hand, scenarios, Monte Carlo."""

from dataclasses import replace

import numpy as np
import pytest

from analytics.roi.economics import Levers, PreparedAudience
from analytics.roi.uncertainty import (
    Z_90,
    draw_redemption,
    lever_ranges,
    monte_carlo,
    scenario_levers,
    scenario_table,
    tornado,
)


def one_customer() -> tuple[PreparedAudience, Levers]:
    # p0 0.2, spend 100, 10 % discount, redemption 1, +10 pp, margin 40 %, contact 0.5:
    # net 0.5 (worked out in test_economics)
    return PreparedAudience([0.2], [100.0]), Levers(
        discount_fraction=0.1,
        redemption_fraction=1.0,
        uplift_fraction=0.1,
        gross_margin_fraction=0.4,
        contact_cost=0.5,
        uplift_sd_fraction=0.02,
        redemption_sd_fraction=0.1,
    )


def test_z_is_the_90_percent_quantile():
    from statistics import NormalDist

    assert Z_90 == pytest.approx(NormalDist().inv_cdf(0.95))


def test_lever_ranges():
    levers = Levers(
        discount_fraction=0.15,
        redemption_fraction=0.95,
        uplift_fraction=0.05,
        gross_margin_fraction=0.4,
        contact_cost=2.0,
        fixed_cost=0.0,
        uplift_sd_fraction=0.02,
        redemption_sd_fraction=0.1,
    )
    ranges = lever_ranges(levers)
    assert ranges["uplift_fraction"] == pytest.approx((0.05 - 1.6449 * 0.02, 0.05 + 1.6449 * 0.02), abs=1e-5)
    assert ranges["redemption_fraction"] == pytest.approx((0.95 - 0.16449, 1.0), abs=1e-5)  # clipped at 100 %
    assert ranges["discount_fraction"] == pytest.approx((0.12, 0.18))  # +/- 20 %
    assert ranges["contact_cost"] == pytest.approx((1.6, 2.4))
    assert ranges["fixed_cost"] == (0.0, 0.0)
    # no sd: uncertain levers fall back to +/- 20 %
    assert lever_ranges(replace(levers, uplift_sd_fraction=0.0))["uplift_fraction"] == pytest.approx((0.04, 0.06))


def test_tornado_by_hand():
    audience, levers = one_customer()
    ranges = {"uplift_fraction": (0.05, 0.15), "fixed_cost": (0.0, 100.0), "discount_fraction": (0.0, 0.2)}
    frame = tornado(audience, levers, ranges)
    # net(u) = 0.4*100u - 0.1*(20 + 100u) - 0.5: u 0.05 -> 2 - 2.5 - 0.5 = -1; u 0.15 -> 6 - 3.5 - 0.5 = 2
    # fixed 0 -> 0.5, 100 -> -99.5; discount 0 -> 4 - 0.5 = 3.5, 0.2 -> 4 - 0.2*30 - 0.5 = -2.5
    assert frame["lever"].tolist() == ["fixed_cost", "discount_fraction", "uplift_fraction"]  # by swing 100, 6, 3
    assert frame["swing"].tolist() == pytest.approx([100.0, 6.0, 3.0])
    row = frame.set_index("lever").loc["uplift_fraction"]
    assert (row["net_low"], row["net_high"]) == pytest.approx((-1.0, 2.0))
    assert (row["low"], row["base"], row["high"]) == pytest.approx((5.0, 10.0, 15.0))  # percentage points
    discount = frame.set_index("lever").loc["discount_fraction"]
    assert (discount["net_low"], discount["net_high"]) == pytest.approx((3.5, -2.5))
    assert frame.attrs["base_net_profit"] == pytest.approx(0.5)


def test_default_tornado_covers_every_lever_sorted():
    audience, levers = one_customer()
    frame = tornado(audience, levers)
    assert set(frame["lever"]) == {
        "uplift_fraction",
        "redemption_fraction",
        "discount_fraction",
        "gross_margin_fraction",
        "contact_cost",
        "fixed_cost",
    }
    assert frame["swing"].is_monotonic_decreasing


def test_scenarios_bracket_the_base():
    audience, levers = one_customer()
    chosen = scenario_levers(audience, levers)
    # more uplift and less redemption help here
    assert chosen["pessimistic"].uplift_fraction < levers.uplift_fraction < chosen["optimistic"].uplift_fraction
    assert chosen["pessimistic"].redemption_fraction > levers.redemption_fraction - 1e-12  # base 1.0 is the top of its range
    table = scenario_table(audience, levers).set_index("scenario")
    assert list(table.index) == ["pessimistic", "base", "optimistic"]
    net = table["net_profit"]
    assert net["pessimistic"] < net["base"] < net["optimistic"]
    assert net["base"] == pytest.approx(0.5)
    # pessimistic: u = 0.1 - 1.645*0.02 = 0.0671, redemption 1 -> 40u - 0.1(20 + 100u) - 0.5 = 30u - 2.5
    assert net["pessimistic"] == pytest.approx(30 * (0.1 - Z_90 * 0.02) - 2.5)
    # optimistic: u = 0.1329, redemption 1 - 0.1645 -> 40u - 0.1 r (20 + 100u) - 0.5
    u, r = 0.1 + Z_90 * 0.02, 1 - Z_90 * 0.1
    assert net["optimistic"] == pytest.approx(40 * u - 0.1 * r * (20 + 100 * u) - 0.5)
    # a given uplift range overrides the default; redemption keeps its default range
    custom = scenario_levers(audience, levers, {"uplift_fraction": (0.0, 0.3)})
    assert (custom["pessimistic"].uplift_fraction, custom["optimistic"].uplift_fraction) == (0.0, 0.3)
    assert custom["optimistic"].redemption_fraction == pytest.approx(r)


def test_monte_carlo_is_exact_per_draw_and_seeded():
    rng = np.random.default_rng(1)
    p0, spend = rng.uniform(0, 1, 300), rng.gamma(2, 40, 300)
    audience = PreparedAudience(p0, spend)
    levers = Levers(
        discount_fraction=0.15,
        redemption_fraction=0.7,
        uplift_fraction=0.1,
        gross_margin_fraction=0.4,
        contact_cost=1.0,
        fixed_cost=50,
        uplift_sd_fraction=0.3,
        redemption_sd_fraction=0.15,
    )
    mc = monte_carlo(audience, levers, n_sims=500, seed=42)
    for i in range(0, 500, 50):
        u, r = mc.uplift_fraction[i], mc.redemption_fraction[i]
        p1 = np.clip(p0 + u, 0, 1)
        direct = np.sum((p1 - p0) * 0.4 * spend - r * p1 * 0.15 * spend - 1.0) - 50
        assert mc.net_profit[i] == pytest.approx(direct)
    assert np.array_equal(mc.net_profit, monte_carlo(audience, levers, n_sims=500, seed=42).net_profit)
    assert not np.array_equal(mc.net_profit, monte_carlo(audience, levers, n_sims=500, seed=43).net_profit)
    summary = mc.to_dict()
    assert summary["p5"] <= summary["p50"] <= summary["p95"] and summary["n_sims"] == 500
    assert mc.histogram(20)["count"].sum() == 500


def test_monte_carlo_probability_of_profit_extremes():
    audience = PreparedAudience([0.05, 0.1, 0.2], [100.0, 80.0, 120.0])
    huge = Levers(
        discount_fraction=0.1,
        redemption_fraction=0.8,
        uplift_fraction=0.7,
        gross_margin_fraction=0.5,
        contact_cost=1.0,
        fixed_cost=10.0,
        uplift_sd_fraction=0.05,
        redemption_sd_fraction=0.1,
    )
    assert monte_carlo(audience, huge, n_sims=2000).prob_profit > 0.99
    zero = replace(huge, uplift_fraction=0.0, uplift_sd_fraction=0.005)
    assert monte_carlo(audience, zero, n_sims=2000).prob_profit < 0.01


def test_monte_carlo_without_uncertainty_is_the_base():
    audience, levers = one_customer()
    mc = monte_carlo(audience, replace(levers, uplift_sd_fraction=0.0, redemption_sd_fraction=0.0), n_sims=100)
    assert np.allclose(mc.net_profit, 0.5)
    assert mc.prob_profit == 1.0


def test_redemption_draws_match_mean_and_sd():
    draws = draw_redemption(np.random.default_rng(0), 0.8, 0.1, 200_000)
    assert draws.min() >= 0 and draws.max() <= 1
    assert draws.mean() == pytest.approx(0.8, abs=0.002) and draws.std() == pytest.approx(0.1, abs=0.002)
    assert np.all(draw_redemption(np.random.default_rng(0), 1.0, 0.1, 10) == 1.0)
    wide = draw_redemption(np.random.default_rng(0), 0.5, 0.9, 10_000)  # sd above a Beta's maximum: capped
    assert wide.std() < 0.5
