"""Journey figures: the Sankey of segment flows between snapshots and the transition-matrix heatmap.

Both take the plain tables of :mod:`analytics.journeys` (``transitions``/``chain`` and ``transition_matrix``);
no statistics are computed here: the Sankey's links and node totals are ``diagram_links`` and ``node_totals``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.journeys import INACTIVE, NOT_YET, diagram_links, node_totals, state_order
from analytics.segments import SEGMENT_ORDER
from components import formatting as fmt
from components.theme import INK, MUTED, PALETTE, SEQUENTIAL, empty_figure

NOT_YET_COLOR = "#cbd5e1"
INACTIVE_COLOR = "#9ca3af"
# Plotly ignores node positions of exactly 0 or 1.
_EDGE = 0.001
_MARGIN = dict(l=10, r=10, t=70, b=20)
NODE_PAD = 12  # px between nodes of a column
_LINK_HOVER = ("%{customdata[2]} (%{customdata[0]}) → %{customdata[3]} (%{customdata[1]})<br>"
               "%{customdata[4]:,} customers, net revenue %{customdata[5]:,.0f}<extra></extra>")


def segment_colors(states: Sequence[str] | None = None) -> dict[str, str]:
    """Colour per state: segments by their place in SEGMENT_ORDER (as in the rest of the app), greys for
    "Not yet a customer" and "Inactive"; other names (a swapped rule table) take the next palette colours."""
    colors = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(SEGMENT_ORDER)}
    extra = [s for s in (states or []) if s not in colors and s not in (NOT_YET, INACTIVE)]
    colors |= {s: PALETTE[(len(SEGMENT_ORDER) + i) % len(PALETTE)] for i, s in enumerate(extra)}
    return colors | {NOT_YET: NOT_YET_COLOR, INACTIVE: INACTIVE_COLOR}


def sankey_figure(
    flows: pd.DataFrame,
    *,
    weight: str = "customers",
    order: Sequence[str] | None = None,
    show_not_yet_stay: bool = False,
    height: int = 560,
    title: str | None = None,
) -> go.Figure:
    """Sankey of ``flows`` (from ``transitions`` or ``chain``: from_label, to_label, source, target,
    customers, revenue), one column per snapshot in time order, states in a fixed order top to bottom.

    ``weight``: "customers" or "revenue" (negative revenue, i.e. net returns, cannot be drawn and is left
    out). Zero links are removed. Customers not yet customers at both ends are hidden unless
    ``show_not_yet_stay``. ``order``: the state order (default: the categories of ``source``, else
    :func:`analytics.journeys.state_order`). Each link's customdata is [from_label, to_label, source, target,
    customers, revenue], so a click callback can ask for the customers behind it.
    """
    if flows is None or flows.empty:
        return empty_figure("No movements between these snapshots")
    order = list(order or _order(flows))
    table = diagram_links(flows, weight, show_not_yet_stay=show_not_yet_stay)
    if table.empty:
        return empty_figure(f"No {weight} moved between these snapshots")

    columns = list(dict.fromkeys([*table["from_label"], *table["to_label"]]))
    rank = {s: i for i, s in enumerate(order)}
    nodes = node_totals(table)
    nodes["col"] = nodes["column"].map({c: i for i, c in enumerate(columns)})
    nodes["rank"] = nodes["state"].map(lambda s: rank.get(s, len(rank)))
    nodes = nodes.sort_values(["col", "rank"], ignore_index=True)
    nodes["x"], nodes["y"] = _positions(nodes, height)
    index = {(c, s): i for i, (c, s) in enumerate(zip(nodes["column"], nodes["state"]))}

    colors = segment_colors(order)
    node_colors = [colors.get(s, MUTED) for s in nodes["state"]]
    link_colors = [_rgba(colors.get(s, MUTED), 0.4) for s in table["source"]]
    unit = "customers" if weight == "customers" else "net revenue"
    node_text = [fmt.count(v) if weight == "customers" else fmt.money(v) for v in nodes["value"]]
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            valueformat=",.0f",
            node=dict(
                label=nodes["state"].tolist(),
                x=nodes["x"].tolist(),
                y=nodes["y"].tolist(),
                color=node_colors,
                pad=NODE_PAD,
                thickness=16,
                line=dict(width=0),
                customdata=np.column_stack([nodes["column"], node_text]),
                hovertemplate=f"%{{label}} in %{{customdata[0]}}<br>%{{customdata[1]}} {unit}<extra></extra>",
            ),
            link=dict(
                source=[index[(c, s)] for c, s in zip(table["from_label"], table["source"])],
                target=[index[(c, s)] for c, s in zip(table["to_label"], table["target"])],
                value=table["value"].tolist(),
                color=link_colors,
                customdata=[[a, b, s, t, int(n), float(r)] for a, b, s, t, n, r in
                            table[["from_label", "to_label", "source", "target", "customers", "revenue"]]
                            .itertuples(index=False)],
                hovertemplate=_LINK_HOVER,
            ),
        )
    )
    for i, column in enumerate(columns):
        fig.add_annotation(x=_column_x(i, len(columns)), y=1.0, yref="paper", xref="paper", yshift=18,
                           text=f"<b>{column}</b>", showarrow=False, font=dict(color=INK, size=12),
                           xanchor="left" if i == 0 else "right" if i == len(columns) - 1 else "center")
    fig.update_layout(height=height, margin=_MARGIN,
                      title=title or ("Customers moving between segments" if weight == "customers"
                                      else "Net revenue of the customers moving between segments"))
    return fig


def transition_heatmap(
    matrix: pd.DataFrame,
    *,
    from_label: str | None = None,
    to_label: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """Heatmap of a transition matrix (rows: state at the first snapshot, columns: at the second; shares 0-1,
    rows sum to 1), first state on top, each cell labelled with its percentage."""
    if matrix is None or matrix.empty:
        return empty_figure("No transitions between these snapshots")
    z = matrix.to_numpy(dtype="float64")
    text = [[f"{v * 100:.0f}%" if v >= 0.005 else ("<1%" if v > 0 else "") for v in row] for row in z]
    rows = [str(s) for s in matrix.index]
    cols = [str(s) for s in matrix.columns]
    before = f" in {from_label}" if from_label else ""
    after = f" in {to_label}" if to_label else ""
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=11),
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=1,
            xgap=1,
            ygap=1,
            colorbar=dict(title="Share", tickformat=".0%", thickness=12),
            hovertemplate=f"Of %{{y}}{before}, %{{z:.1%}} are %{{x}}{after}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or "Transition matrix: where each segment went",
        height=max(380, 30 * len(rows) + 200),
        margin=dict(l=150, r=20, t=60, b=130),
        xaxis=dict(title=f"State{after}", side="bottom", tickangle=-40, showgrid=False),
        yaxis=dict(title=f"State{before}", autorange="reversed", showgrid=False),
    )
    return fig


def _order(flows: pd.DataFrame) -> list[str]:
    if isinstance(flows["source"].dtype, pd.CategoricalDtype):
        return [str(s) for s in flows["source"].cat.categories]
    return state_order()


def _column_x(i: int, n: int) -> float:
    return _EDGE if n == 1 else min(max(i / (n - 1), _EDGE), 1 - _EDGE)


def _positions(nodes: pd.DataFrame, height: int) -> tuple[list[float], list[float]]:
    """Node x (column) and y (centre), reproducing plotly's layout: one value scale for every column, chosen
    so the fullest column (values plus padding) fills the plot height."""
    plot = height - _MARGIN["t"] - _MARGIN["b"]
    per_col = nodes.groupby("col").agg(total=("value", "sum"), n=("value", "size"))
    scale = ((plot - NODE_PAD * (per_col["n"] - 1)) / per_col["total"]).min()
    n_cols = int(nodes["col"].max()) + 1
    xs, ys = [], []
    for col, group in nodes.groupby("col", sort=True):
        sizes = group["value"].to_numpy() * scale
        tops = np.concatenate([[0.0], np.cumsum(sizes[:-1] + NODE_PAD)])
        centres = (tops + sizes / 2) / plot
        xs += [_column_x(int(col), n_cols)] * len(group)
        ys += np.clip(centres, _EDGE, 1 - _EDGE).tolist()
    return xs, ys


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i: i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
