import math

import pandas as pd
import pytest

from components.explorer_tab import CLV_INTERVAL_TIP, grid
from components.figures.explorer import radar, rfm_scatter, selection_diagnostics


def _customers():
    return pd.DataFrame(
        {"segment": ["Champions", "Lost", "Lost"], "recency_days": [3.0, 200.0, 100.0],
         "frequency": [12, 1, 2], "monetary": [1500.0, 20.0, 60.0]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )


def test_scatter_has_one_trace_per_group_with_log_axes_and_kept_camera():
    fig = rfm_scatter(_customers(), "segment", order=["Champions", "Lost", "Promising"])
    assert [t.name for t in fig.data] == ["Champions", "Lost"]  # empty groups leave no trace
    assert len(fig.data[1].x) == 2
    assert fig.data[0].z[0] == pytest.approx(math.log10(1500.0))
    assert fig.layout.uirevision == "rfm-scatter"


def test_empty_selection_says_so():
    fig = rfm_scatter(_customers().iloc[0:0])
    assert "No customer" in fig.layout.annotations[0].text


def test_radar_closes_each_polygon():
    profile = pd.DataFrame({"Recency": [0.9, 0.1], "Monetary": [0.8, 0.2]}, index=["Champions", "Lost"])
    fig = radar(profile)
    assert len(fig.data) == 2
    assert fig.data[0].r[0] == fig.data[0].r[-1] and len(fig.data[0].r) == 3


def test_diagnostics_mark_the_chosen_k():
    selection = pd.DataFrame({"k": [2, 3, 4], "inertia": [10.0, 6.0, 5.0], "silhouette": [0.3, 0.5, 0.4]})
    fig = selection_diagnostics(selection, 3)
    assert len(fig.data) == 2
    assert any(shape.x0 == 3 for shape in fig.layout.shapes)


def test_cluster_profiles_use_the_group_summary():
    from analytics.selection import group_summary
    from components.tables import group_summary_table

    customers = _customers().assign(cluster_name=["High-value loyal", "Lapsed one-timers", "Lapsed one-timers"])
    table = group_summary_table(group_summary(customers, by="cluster_name"))
    cells = [row.children[0].children for row in table.children[1].children]
    assert cells == ["High-value loyal", "Lapsed one-timers"]  # by revenue, highest first


def test_clv_interval_columns_define_the_interval_on_their_header():
    defs = {c["field"]: c for c in grid().columnDefs}
    assert defs["clv_low"]["headerTooltip"] == defs["clv_high"]["headerTooltip"] == CLV_INTERVAL_TIP
    assert "shortest range holding 80 %" in CLV_INTERVAL_TIP and "headerTooltip" not in defs["clv"]
