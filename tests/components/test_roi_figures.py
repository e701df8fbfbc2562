"""ROI figures place exactly what the report says: optimum, bridge steps, tornado bars, simulated losses."""

import numpy as np
import pandas as pd
import pytest

from analytics.roi import Scenario, evaluate
from components.figures.roi import LOSS, PROFIT, money, profit_bridge, profit_curve, profit_distribution, tornado


def _table() -> pd.DataFrame:
    """Six customers: three worth targeting (low p0, big orders), three sure things (p0 near 1)."""
    return pd.DataFrame(
        {"p_purchase": [0.05, 0.10, 0.20, 0.95, 0.90, 0.85],
         "expected_spend": [1000.0, 800.0, 500.0, 80.0, 80.0, 80.0]},
        index=pd.Index(list("abcdef"), name="customer_id"),
    )


@pytest.fixture(scope="module")
def report():
    scenario = Scenario(discount_pct=20, uplift_pp=10, uplift_sd_pp=3, gross_margin_pct=40, contact_cost=1,
                        fixed_cost=5)
    return evaluate(_table(), scenario, n_sims=500)


def test_profit_curve_marks_the_best_size_and_the_targeted_audience(report):
    curve = report.curve.frame
    fig = profit_curve(curve, report.curve.optimal_size, targeted_size=6,
                       targeted_net_profit=report.totals.net_profit)
    line, star, mine = fig.data
    assert list(line.x) == list(range(7)) and np.allclose(line.y, curve["net_profit"])
    assert star.x[0] == report.curve.optimal_size and star.y[0] == pytest.approx(curve["net_profit"].max())
    assert 0 < report.curve.optimal_size < 6  # sure things are not worth the discount
    assert mine.x[0] == 6 and mine.y[0] == pytest.approx(report.totals.net_profit)
    assert any(s.x0 == 6 and s.yref == "paper" for s in fig.layout.shapes)
    assert fig.layout.template.layout.colorway  # the "rct" template is applied


def test_profit_curve_finds_the_optimum_itself_and_says_when_there_is_nothing():
    curve = pd.DataFrame({"audience_size": [0, 1, 2, 3], "net_profit": [0.0, 4.0, 5.0, 1.0]})
    assert profit_curve(curve).data[1].x[0] == 2
    assert "No audience" in profit_curve(curve.head(1)).layout.annotations[0].text


def test_bridge_steps_add_up_to_net_profit(report):
    totals = report.totals.to_dict()
    fig = profit_bridge(totals)
    (bars,) = fig.data
    steps, total = list(bars.x[:-1]), bars.x[-1]
    assert bars.orientation == "h" and bars.y[-1] == "Net profit"
    assert list(bars.measure) == ["relative"] * len(steps) + ["total"]
    assert sum(steps) == pytest.approx(total) and total == pytest.approx(totals["net_profit"])
    assert steps[0] == pytest.approx(totals["incremental_margin"])
    assert steps[1] + steps[2] == pytest.approx(-totals["discount_cost"])
    assert steps[1] == pytest.approx(-totals["discount_cost_baseline"])
    assert len(steps) == 5  # fixed cost shown when there is one
    assert "Fixed cost" not in profit_bridge(totals | {"fixed_cost": 0.0}).data[0].y  # ... left out when 0
    assert "Nobody" in profit_bridge(totals | {"n_customers": 0}).layout.annotations[0].text


def test_tornado_bars_start_at_base_and_put_the_largest_swing_on_top(report):
    frame = report.tornado
    base = frame.attrs["base_net_profit"]
    fig = tornado(frame)
    low, high = fig.data
    assert low.base == pytest.approx(base) and high.base == pytest.approx(base)
    assert np.allclose(np.asarray(low.x) + base, frame["net_low"])
    assert np.allclose(np.asarray(high.x) + base, frame["net_high"])
    assert low.y[0].startswith(frame["label"].iloc[0]) and frame["swing"].is_monotonic_decreasing
    assert fig.layout.yaxis.autorange == "reversed"
    assert fig.layout.shapes[0].x0 == pytest.approx(base)
    assert "pp" in low.y[list(frame["lever"]).index("uplift_fraction")]  # uplift range in percentage points
    assert "No lever" in tornado(frame.iloc[0:0]).layout.annotations[0].text


def test_distribution_colours_losses_and_marks_percentiles(report):
    histogram = pd.DataFrame({"left": [-20.0, -10.0, 0.0, 10.0], "right": [-10.0, 0.0, 10.0, 20.0],
                              "count": [5, 15, 50, 30]})
    summary = {"p5": -12.0, "p50": 6.0, "p95": 18.0, "prob_profit": 0.8, "n_sims": 100}
    fig = profit_distribution(histogram, summary)
    (bars,) = fig.data
    assert list(bars.marker.color) == [LOSS, LOSS, PROFIT, PROFIT]
    assert list(bars.x) == [-15.0, -5.0, 5.0, 15.0] and list(bars.y) == [5, 15, 50, 30]
    lines = sorted(s.x0 for s in fig.layout.shapes)
    assert lines == [-12.0, 0.0, 6.0, 18.0]
    assert "P(profit > 0) = 80 %" in fig.layout.title.text
    assert "100 simulations" in fig.layout.xaxis.title.text


def test_distribution_of_a_real_report_counts_every_draw(report):
    mc = report.monte_carlo
    fig = profit_distribution(mc.histogram(30), mc.to_dict())
    assert sum(fig.data[0].y) == 500
    assert "No simulation" in profit_distribution(mc.histogram().iloc[0:0], mc.to_dict()).layout.annotations[0].text


def test_money_keeps_cents_on_small_amounts():
    assert [money(v) for v in (0.414, -0.001, 12.5, 1234.4, -25_000.0, float("nan"), None)] == [
        "0.41", "0.00", "12.50", "1,234", "-25.0k", "–", "–"]
