import numpy as np
import pandas as pd
import pytest

from analytics import journeys as J
from analytics.segments import SEGMENT_ORDER
from components.figures.explorer import group_colors
from components.figures.journeys import NODE_PAD, sankey_figure, segment_colors, transition_heatmap
from components.theme import PALETTE, TEMPLATE_NAME

STATES = J.state_order()
STATE_DTYPE = pd.CategoricalDtype(STATES, ordered=True)


def _flows(rows):
    """Hand-made flows in the transitions/chain format."""
    frame = pd.DataFrame(rows, columns=["from_label", "to_label", "source", "target", "customers", "revenue"])
    return frame.astype({"source": STATE_DTYPE, "target": STATE_DTYPE})


CHAIN = _flows([
    ("Q1", "Q2", J.NOT_YET, J.NOT_YET, 50, 0.0),
    ("Q1", "Q2", J.NOT_YET, "New Customers", 7, 0.0),
    ("Q1", "Q2", "Champions", "Champions", 10, 900.0),
    ("Q1", "Q2", "Champions", "At Risk", 4, 300.0),
    ("Q1", "Q2", "Lost", J.INACTIVE, 6, -15.0),  # net returns: no revenue to draw
    ("Q1", "Q2", "Lost", "Champions", 0, 0.0),  # zero link
    ("Q2", "Q3", "Champions", "Champions", 8, 700.0),
    ("Q2", "Q3", "Champions", "Loyal Customers", 2, 100.0),
    ("Q2", "Q3", "New Customers", "Lost", 7, 70.0),
    ("Q2", "Q3", "At Risk", J.INACTIVE, 4, 40.0),
    ("Q2", "Q3", J.INACTIVE, J.INACTIVE, 6, 0.0),
])


def _nodes(fig):
    node = fig.data[0].node
    columns = [c[0] for c in node.customdata]
    return pd.DataFrame({"state": node.label, "x": node.x, "y": node.y, "column": columns})


def test_segment_colors_match_the_app_and_grey_the_extra_states():
    colors = segment_colors()
    assert {s: colors[s] for s in SEGMENT_ORDER} == group_colors(SEGMENT_ORDER)  # explorer's colours
    assert colors["Champions"] == PALETTE[0]
    assert len({colors[s] for s in SEGMENT_ORDER}) == len(SEGMENT_ORDER)
    assert colors[J.NOT_YET] not in PALETTE and colors[J.INACTIVE] not in PALETTE
    swapped = segment_colors(["Hot", "Cold"])
    assert swapped["Hot"] != swapped["Cold"] and swapped["Champions"] == PALETTE[0]


def test_sankey_drops_zero_links_and_unchanged_prospects():
    fig = sankey_figure(CHAIN)
    link = fig.data[0].link
    assert fig.layout.height == 560
    prospects = (CHAIN["source"] == J.NOT_YET) & (CHAIN["target"] == J.NOT_YET)
    kept = CHAIN.loc[(CHAIN["customers"] > 0) & ~prospects]
    assert len(link.value) == len(kept)
    assert sum(link.value) == kept["customers"].sum()
    labels = fig.data[0].node.label
    pairs = {(labels[s], labels[t]) for s, t in zip(link.source, link.target)}
    assert (J.NOT_YET, J.NOT_YET) not in pairs and ("Lost", "Champions") not in pairs
    shown = sankey_figure(CHAIN, show_not_yet_stay=True)
    assert len(shown.data[0].link.value) == len(kept) + 1


def test_sankey_by_revenue_leaves_out_what_cannot_be_drawn():
    fig = sankey_figure(CHAIN, weight="revenue")
    link = fig.data[0].link
    positive = CHAIN.loc[CHAIN["revenue"] > 0]
    assert sorted(link.value) == sorted(positive["revenue"])
    assert all(v > 0 for v in link.value)
    # the click payload carries both measures whatever the weight
    data = {(c[2], c[3], c[0]): (c[4], c[5]) for c in link.customdata}
    assert data[("Champions", "At Risk", "Q1")] == (4, 300.0)
    with pytest.raises(ValueError):
        sankey_figure(CHAIN, weight="margin")


def test_sankey_nodes_have_fixed_order_and_positions():
    fig = sankey_figure(CHAIN)
    assert fig.data[0].arrangement == "fixed"
    nodes = _nodes(fig)
    assert ((nodes["x"] > 0) & (nodes["x"] < 1) & (nodes["y"] > 0) & (nodes["y"] < 1)).all()
    xs = nodes.groupby("column", sort=False)["x"].agg(["min", "max"])
    assert (xs["min"] == xs["max"]).all()  # one x per column
    assert xs.loc[["Q1", "Q2", "Q3"], "min"].is_monotonic_increasing
    for _, column in nodes.groupby("column"):
        rank = column["state"].map(STATES.index)
        assert rank.is_monotonic_increasing  # listed in state order...
        assert column["y"].is_monotonic_increasing  # ...and drawn top to bottom in that order
    q2 = nodes.loc[nodes["column"] == "Q2", "state"].tolist()
    assert q2 == ["Champions", "New Customers", "At Risk", J.INACTIVE]
    # column headers, in time order
    assert [a.text for a in fig.layout.annotations] == ["<b>Q1</b>", "<b>Q2</b>", "<b>Q3</b>"]


def test_sankey_nodes_do_not_overlap():
    fig = sankey_figure(CHAIN)
    nodes = _nodes(fig)
    link = fig.data[0].link
    inflow = np.bincount(link.target, weights=link.value, minlength=len(nodes))
    outflow = np.bincount(link.source, weights=link.value, minlength=len(nodes))
    nodes["value"] = np.maximum(inflow, outflow)
    plot = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    totals = nodes.groupby("column").agg(total=("value", "sum"), n=("value", "size"))
    scale = ((plot - NODE_PAD * (totals["n"] - 1)) / totals["total"]).min()
    for _, column in nodes.groupby("column"):
        centre = column["y"].to_numpy() * plot
        half = column["value"].to_numpy() * scale / 2
        gaps = (centre[1:] - half[1:]) - (centre[:-1] + half[:-1])
        assert (gaps >= NODE_PAD - 1e-6).all()
        assert centre[-1] + half[-1] <= plot + 1e-6


def test_sankey_of_real_flows_between_two_snapshots():
    rows = []
    for c in range(40):
        rows.append((f"c{c}", f"i{c}", pd.Timestamp("2020-01-05") + pd.Timedelta(days=c * 4), 1.0, 10.0 + c))
    columns = ["customer_id", "invoice_id", "invoice_date", "quantity", "unit_price"]
    lines = pd.DataFrame(rows, columns=columns)
    lines = lines.assign(revenue=lines["unit_price"], is_return=False)
    history = J.journey_history(lines, "2020-07-01", inactive_days=60)
    flows = J.transitions(history, "2020-Q1", "2020-Q2")
    fig = sankey_figure(flows)
    assert sum(fig.data[0].link.value) == flows["customers"].sum() - flows.loc[
        (flows["source"] == J.NOT_YET) & (flows["target"] == J.NOT_YET), "customers"].sum()


def test_empty_flows_give_a_message():
    assert "No movements" in sankey_figure(CHAIN.iloc[0:0]).layout.annotations[0].text
    only_returns = CHAIN.loc[CHAIN["revenue"] <= 0]
    assert "No revenue" in sankey_figure(only_returns, weight="revenue").layout.annotations[0].text


def test_heatmap_shows_the_matrix_in_state_order():
    matrix = pd.DataFrame([[0.5, 0.25, 0.25], [0.0, 0.996, 0.004]],
                          index=pd.Index(["Champions", "At Risk"], name="source"),
                          columns=pd.Index(["Champions", "At Risk", J.INACTIVE], name="target"))
    fig = transition_heatmap(matrix, from_label="Q1", to_label="Q2")
    heat = fig.data[0]
    assert np.allclose(np.array(heat.z), matrix.to_numpy())
    assert list(heat.y) == ["Champions", "At Risk"] and list(heat.x) == ["Champions", "At Risk", J.INACTIVE]
    assert list(heat.text[0]) == ["50%", "25%", "25%"]
    assert list(heat.text[1]) == ["", "100%", "<1%"]
    assert (heat.zmin, heat.zmax) == (0, 1)
    assert fig.layout.yaxis.autorange == "reversed"  # first state on top
    assert "Q1" in fig.layout.yaxis.title.text and "Q2" in fig.layout.xaxis.title.text
    assert fig.layout.template.layout.colorway == tuple(PALETTE)
    assert "No transitions" in transition_heatmap(matrix.iloc[0:0]).layout.annotations[0].text


def test_template_name_is_the_apps():
    import plotly.io as pio

    assert TEMPLATE_NAME in pio.templates
    fig = sankey_figure(CHAIN)
    assert fig.layout.template == pio.templates[TEMPLATE_NAME]
