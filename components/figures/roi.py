"""ROI simulator figures: net profit over audience size, the profit bridge, the tornado of lever swings and
the Monte Carlo distribution of net profit.

Pure functions of the parts of an ``analytics.roi.RoiReport`` (DataFrames and dicts), money in the data's
currency; they compute nothing beyond placing what they are given.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import formatting as fmt
from components.theme import DANGER, GRID, INK, MUTED, TEAL, TEAL_LIGHT, WARNING, empty_figure

LOSS = DANGER
PROFIT = TEAL


def money(value: float | None) -> str:
    """Money with cents below 100 (campaigns on small orders make small numbers), else whole units."""
    if value is None or not np.isfinite(float(value)):
        return "–"
    decimals = 2 if abs(value) < 100 else 0
    return fmt.money(value if round(value, decimals) else 0.0, decimals)  # no "-0.00"


def _finite(value) -> bool:
    return value is not None and np.isfinite(float(value))


def _vline(x: float, *, color: str = INK, dash: str = "solid", width: float = 1, label: str | None = None,
           y: float = 1.0) -> tuple[dict, list[dict]]:
    """A vertical line across the plot (and its label above it) as plain shape/annotation dicts: building
    figures in one go instead of through add_vline keeps a lever change well under 100 ms."""
    shape = dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper",
                 line=dict(color=color, dash=dash, width=width))
    notes = [dict(x=x, y=y, xref="x", yref="paper", text=label, showarrow=False, yanchor="bottom",
                  xanchor="left", bgcolor="rgba(255,255,255,0.8)", font=dict(size=11, color=MUTED))] if label else []
    return shape, notes


def _hline(y: float, color: str = MUTED) -> dict:
    return dict(type="line", x0=0, x1=1, y0=y, y1=y, xref="paper", yref="y", line=dict(color=color, width=1))


def profit_curve(
    curve: pd.DataFrame,
    optimal_size: int | None = None,
    *,
    targeted_size: int | None = None,
    targeted_net_profit: float | None = None,
    height: int = 360,
) -> go.Figure:
    """Net profit of targeting the top k customers (ranked by incremental value) against k.

    curve: audience_size, net_profit (and optionally incremental_customers, total_cost), one row per k.
    optimal_size: the best k (default: the row with the highest net profit), marked with a star.
    targeted_size, targeted_net_profit: the audience the scenario targets, marked with a dashed line.
    """
    if curve is None or len(curve) < 2:
        return empty_figure("No audience to rank")
    frame = curve.sort_values("audience_size")
    x = frame["audience_size"].to_numpy()
    y = frame["net_profit"].to_numpy(dtype=float)
    extra = [c for c in ("incremental_customers", "total_cost") if c in frame]
    hover = "Top %{x:,} customers<br>Net profit %{y:,.0f}"
    if "incremental_customers" in extra:
        hover += "<br>Incremental customers %{customdata[0]:,.1f}"
    if "total_cost" in extra:
        hover += f"<br>Total cost %{{customdata[{len(extra) - 1}]:,.0f}}"
    if optimal_size is None:
        optimal_size = int(x[int(np.argmax(y))])
    at_optimum = frame.loc[frame["audience_size"] == optimal_size, "net_profit"]
    best = float(at_optimum.iloc[0]) if len(at_optimum) else float(np.interp(optimal_size, x, y))
    traces = [
        dict(type="scatter", x=x, y=y, mode="lines", name="Net profit", line=dict(color=TEAL, width=2.5),
             fill="tozeroy", fillcolor="rgba(15,118,110,0.08)",
             customdata=frame[extra].to_numpy() if extra else None, hovertemplate=hover + "<extra></extra>"),
        dict(type="scatter", x=[optimal_size], y=[best], mode="markers+text", name="Best audience size",
             cliponaxis=False,
             marker=dict(symbol="star", size=16, color=WARNING, line=dict(color="white", width=1)),
             text=[f"best: top {optimal_size:,} → {money(best)}"],
             textposition="top right" if optimal_size <= (x[0] + x[-1]) / 2 else "top left",
             hovertemplate="Best audience size %{x:,}<br>Net profit %{y:,.0f}<extra></extra>"),
    ]
    shapes = [_hline(0)]
    if targeted_size is not None:
        shapes.append(_vline(targeted_size, dash="dash")[0])
        if _finite(targeted_net_profit):
            traces.append(dict(type="scatter", x=[targeted_size], y=[targeted_net_profit], mode="markers",
                               name="This scenario", marker=dict(size=10, color=INK),
                               hovertemplate="This scenario: %{x:,} customers<br>Net profit %{y:,.0f}<extra></extra>"))
    return go.Figure(data=traces, layout=dict(
        height=height, title="Net profit by audience size (best customers first)",
        xaxis_title="Customers targeted", yaxis=dict(title="Net profit", automargin=True), hovermode="closest",
        shapes=shapes, legend=dict(orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0),
        margin=dict(t=50, b=100),
    ))


BRIDGE_STEPS = (
    ("incremental_margin", "Extra margin", 1),
    ("discount_sure", "Discount, buyers anyway", -1),
    ("discount_extra", "Discount, extra sales", -1),
    ("contact_cost", "Contact cost", -1),
    ("fixed_cost", "Fixed cost", -1),
)


def profit_bridge(totals: Mapping[str, float], *, height: int = 360) -> go.Figure:
    """Waterfall from the incremental margin to net profit: the discounts, contact and fixed costs.

    totals: ``Totals.to_dict()`` (n_customers, incremental_margin, discount_cost, discount_cost_baseline,
    contact_cost, fixed_cost, net_profit). The fixed-cost step is left out when it is 0.
    """
    if not totals or not totals.get("n_customers"):
        return empty_figure("Nobody is targeted: no campaign, no cost")
    parts = {
        "incremental_margin": totals["incremental_margin"],
        "discount_sure": totals["discount_cost_baseline"],
        "discount_extra": totals["discount_cost"] - totals["discount_cost_baseline"],
        "contact_cost": totals["contact_cost"],
        "fixed_cost": totals["fixed_cost"],
    }
    steps = [(key, label, sign) for key, label, sign in BRIDGE_STEPS if key != "fixed_cost" or parts[key]]
    values = [sign * parts[key] for key, _, sign in steps] + [totals["net_profit"]]
    labels = [label for _, label, _ in steps] + ["Net profit"]
    trace = dict(
        type="waterfall", orientation="h", y=labels, x=values, measure=["relative"] * len(steps) + ["total"],
        text=[money(v) for v in values], textposition="outside", cliponaxis=False,
        increasing=dict(marker=dict(color=PROFIT)), decreasing=dict(marker=dict(color=LOSS)),
        totals=dict(marker=dict(color=PROFIT if totals["net_profit"] >= 0 else LOSS)),
        connector=dict(line=dict(color=GRID)), hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
    )
    return go.Figure(data=[trace], layout=dict(
        height=height, title="Where the money goes", showlegend=False,
        xaxis=dict(title="Currency", zeroline=True, zerolinecolor=MUTED),
        yaxis=dict(autorange="reversed", automargin=True), margin=dict(t=50, l=10, r=40),
    ))


def _lever_range(row: Mapping) -> str:
    unit = row["unit"]
    if unit == "currency":
        return f"{money(row['low'])} – {money(row['high'])}"
    suffix = " pp" if unit == "pp" else " %"
    return f"{row['low']:.1f} – {row['high']:.1f}{suffix}"


def tornado(frame: pd.DataFrame, base_net_profit: float | None = None, *, height: int = 420) -> go.Figure:
    """Net profit with each lever at its low and high value, the others at base; largest swing on top.

    frame: lever, label, unit, low, high, net_low, net_high (as ``analytics.roi.tornado``), sorted by swing.
    base_net_profit: where the bars start (default ``frame.attrs["base_net_profit"]``).
    """
    if frame is None or frame.empty:
        return empty_figure("No lever to vary")
    base = frame.attrs.get("base_net_profit") if base_net_profit is None else base_net_profit
    base = float(base if base is not None else 0.0)
    labels = [f"{row['label']}<br><span style='font-size:11px'>{_lever_range(row)}</span>"
              for _, row in frame.iterrows()]
    traces = []
    for end, name, color in (("low", "Lever at its low value", TEAL_LIGHT), ("high", "Lever at its high value", TEAL)):
        net = frame[f"net_{end}"].to_numpy(dtype=float)
        traces.append(dict(
            type="bar", y=labels, x=net - base, base=base, orientation="h", name=name, marker_color=color,
            customdata=np.column_stack([frame[end].to_numpy(dtype=float), net]),
            hovertemplate="%{y}<br>" + end + " value %{customdata[0]:,.2f}: net profit %{customdata[1]:,.0f}"
            "<extra></extra>",
        ))
    shape, notes = _vline(base, width=1.5, label=f"base {money(base)}")
    return go.Figure(data=traces, layout=dict(
        barmode="overlay", height=height,
        title="What moves net profit most (tornado)", xaxis_title="Net profit", shapes=[shape], annotations=notes,
        yaxis=dict(autorange="reversed", automargin=True),
        legend=dict(orientation="h", yanchor="top", y=-0.28, xanchor="left", x=0), margin=dict(l=10, t=60, b=110),
    ))


def profit_distribution(histogram: pd.DataFrame, summary: Mapping[str, float], *, height: int = 360) -> go.Figure:
    """Histogram of simulated net profit, losses in red, with the 5th/50th/95th percentiles and P(profit > 0).

    histogram: left, right (currency), count per bin; summary: ``MonteCarloResult.to_dict()`` (p5, p50, p95,
    prob_profit, n_sims).
    """
    if histogram is None or histogram.empty or not histogram["count"].sum():
        return empty_figure("No simulation")
    left = histogram["left"].to_numpy(dtype=float)
    right = histogram["right"].to_numpy(dtype=float)
    mid = (left + right) / 2
    trace = dict(
        type="bar", x=mid, y=histogram["count"].to_numpy(), width=np.maximum(right - left, 1e-9),
        marker=dict(color=[PROFIT if m > 0 else LOSS for m in mid], line=dict(width=0)),
        customdata=np.column_stack([left, right]), name="Simulations",
        hovertemplate="Net profit %{customdata[0]:,.0f} to %{customdata[1]:,.0f}<br>%{y:,} draws<extra></extra>",
    )
    shapes, notes = [_vline(0, color=MUTED, width=1.5)[0]], []
    for i, (key, label, dash) in enumerate((("p5", "5th pct", "dot"), ("p50", "median", "dash"),
                                             ("p95", "95th pct", "dot"))):
        if _finite(summary.get(key)):
            shape, note = _vline(summary[key], dash=dash, label=f"{label}<br>{money(summary[key])}",
                                 y=0.88 - 0.14 * (i % 2))  # stagger labels that may sit close together
            shapes.append(shape)
            notes += note
    prob = summary.get("prob_profit")
    title = "Simulated net profit"
    if _finite(prob):
        title += f" · P(profit > 0) = {fmt.percent(prob, 0)}"
    return go.Figure(data=[trace], layout=dict(
        height=height, title=title, bargap=0, showlegend=False, shapes=shapes,
        annotations=notes, xaxis_title=f"Net profit ({summary.get('n_sims', 0):,} simulations)",
        yaxis=dict(title="Simulations", automargin=True), margin=dict(t=50),
    ))
