"""Executive tower figures: the plotted values are the table's, axes and ordering as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from analytics.segments import SEGMENT_ORDER
from components.figures import tower
from components.theme import TEMPLATE_NAME


@pytest.fixture
def monthly():
    return pd.DataFrame({
        "month": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]),
        "net_revenue": [1000.0, 1500.0, 300.0],
        "purchase_revenue": [1100.0, 1500.0, 300.0],
        "returns": [100.0, 0.0, 0.0],
        "active_customers": [10, 12, 4],
        "new_customers": [10, 5, 1],
        "orders": [12, 15, 4],
    })


def is_empty(fig) -> bool:
    return not fig.data and len(fig.layout.annotations) == 1


def test_trend_has_revenue_bars_and_customers_on_the_second_axis(monthly):
    fig = tower.trend_figure(monthly, pd.Timestamp("2020-04-01"))
    bars, line = fig.data
    assert bars.type == "bar" and list(bars.y) == [1000.0, 1500.0, 300.0]
    assert line.yaxis == "y2" and list(line.y) == [10, 12, 4]
    assert fig.layout.yaxis2.overlaying == "y" and fig.layout.yaxis2.side == "right"
    assert len(set(bars.marker.color)) == 1  # every month complete


def test_trend_marks_the_partial_month(monthly):
    fig = tower.trend_figure(monthly, pd.Timestamp("2020-03-15"))
    colors = list(fig.data[0].marker.color)
    assert colors[0] == colors[1] != colors[2]
    assert "partial" in fig.data[0].customdata[2][0] and fig.data[0].customdata[0][0] == ""


def test_segment_shares_follow_the_segment_order():
    customers = pd.DataFrame({
        "segment": ["Lost", "Champions", "Champions", "At Risk"],
        "monetary": [10.0, 60.0, 20.0, 10.0],
    })
    fig = tower.segment_figure(customers, SEGMENT_ORDER)
    assert len(fig.data) == 2  # no CLV column, no CLV bars
    by_name = {t.name: t for t in fig.data}
    customers_trace, revenue_trace = by_name["Customers"], by_name["Net revenue to date"]
    # plotly draws the first category at the bottom: best segment (Champions) is last = on top
    assert list(customers_trace.y) == ["Lost", "At Risk", "Champions"]
    assert list(customers_trace.x) == pytest.approx([0.25, 0.25, 0.5])
    assert list(revenue_trace.x) == pytest.approx([0.1, 0.1, 0.8])
    assert revenue_trace.customdata[2][0] == "80"


@pytest.mark.parametrize("run", ["cdnow_run", "synthetic_run"])
def test_segment_figure_shows_each_segments_share_of_the_pipelines_clv(run, request):
    customers = request.getfixturevalue(run).results.customers
    fig = tower.segment_figure(customers, SEGMENT_ORDER)
    clv = next(t for t in fig.data if t.name == "Predicted CLV")
    expected = customers.groupby("segment")["clv"].sum() / customers["clv"].sum()
    assert dict(zip(clv.y, clv.x)) == pytest.approx(expected.to_dict())


def test_trend_draws_the_pipelines_monthly_table(synthetic_run):
    results = synthetic_run.results
    bars, line = tower.trend_figure(results.monthly, results.as_of).data
    assert list(bars.y) == results.monthly["net_revenue"].tolist()
    assert [c[1] for c in bars.customdata] == pytest.approx(results.monthly["returns"].tolist())
    assert [c[0] for c in line.customdata] == results.monthly["new_customers"].tolist()


def test_cohort_heatmap_leaves_out_month_zero_and_labels_sizes():
    cohorts = pd.DataFrame(
        {0: [1.0, 1.0], 1: [0.3, 0.2], 2: [0.25, np.nan]},
        index=pd.Index(pd.to_datetime(["2020-01-01", "2020-02-01"]), name="cohort"),
    )
    sizes = pd.Series([40, 25], index=pd.to_datetime(["2020-01-01", "2020-02-01"]))
    heat = tower.cohort_figure(cohorts, sizes).data[0]
    assert list(heat.x) == [1, 2]
    assert heat.y == ("Jan 2020 · 40", "Feb 2020 · 25")
    z = np.array(heat.z, dtype=float)
    assert z[0].tolist() == [0.3, 0.25] and z[1][0] == 0.2 and np.isnan(z[1][1])


def test_empty_inputs_give_a_message_not_an_error(monthly):
    assert is_empty(tower.trend_figure(monthly.iloc[0:0]))
    assert is_empty(tower.segment_figure(pd.DataFrame()))
    assert is_empty(tower.cohort_figure(pd.DataFrame()))
    only_month_zero = pd.DataFrame({0: [1.0]}, index=pd.to_datetime(["2020-01-01"]))
    assert is_empty(tower.cohort_figure(only_month_zero))

def test_figures_use_the_rct_template(monthly):
    rct = pio.templates[TEMPLATE_NAME]
    assert tower.trend_figure(monthly).layout.template == rct
    assert tower.segment_figure(pd.DataFrame({"segment": ["Lost"], "monetary": [1.0]})).layout.template == rct
