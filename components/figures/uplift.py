"""Uplift evidence figures: the Qini curve and uplift by decile on held-out customers.

They take the tables ``analytics.uplift.analysis.UpliftEvidence`` holds (curves: targeted_fraction and one
column per ranking; deciles: ranking, decile, uplift, uplift_se).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import MUTED, TEAL, WARNING, empty_figure

_STYLE = {"uplift model": dict(color=TEAL, width=3), "churn probability": dict(color=WARNING, width=2, dash="dash"),
          "random": dict(color=MUTED, width=1.5, dash="dot")}
_LEGEND = dict(yanchor="top", y=0.98, xanchor="left", x=0.02, bordercolor="#e5e7eb", borderwidth=1)


def qini_figure(curves: pd.DataFrame | None) -> go.Figure:
    """Incremental responders against the share of customers targeted, for each ranking."""
    if curves is None or curves.empty:
        return empty_figure("No uplift model: the test is too small (see the note above)")
    fig = go.Figure()
    for name, line in _STYLE.items():
        if name in curves.columns:
            fig.add_trace(go.Scatter(
                x=curves["targeted_fraction"] * 100, y=curves[name], name=f"ranked by {name}"
                if name != "random" else "random targeting", mode="lines", line=line,
                hovertemplate="%{x:.0f} % targeted: %{y:,.1f} incremental buyers<extra></extra>"))
    fig.update_layout(title="Qini curve (held-out customers)", legend=_LEGEND,
                      xaxis_title="Customers targeted (%)", yaxis_title="Incremental buyers")
    return fig


def decile_figure(deciles: pd.DataFrame | None, random_uplift: float | None = None) -> go.Figure:
    """Measured uplift (treated minus control response rate) in each decile of each ranking, +/- 1.96 SE;
    ``random_uplift`` (fraction), what every decile gets when customers are targeted at random, as a line."""
    if deciles is None or deciles.empty:
        return empty_figure("No uplift model: the test is too small (see the note above)")
    fig = go.Figure()
    for name, part in deciles.groupby("ranking", sort=False):
        fig.add_trace(go.Bar(
            x=part["decile"], y=part["uplift"] * 100, name=f"ranked by {name}",
            marker_color=_STYLE.get(name, {}).get("color", TEAL),
            error_y=dict(type="data", array=1.96 * part["uplift_se"].fillna(0) * 100, thickness=1),
            hovertemplate="decile %{x}: %{y:+.1f} pp<extra></extra>"))
    if random_uplift is not None:
        edges = [deciles["decile"].min() - 0.5, deciles["decile"].max() + 0.5]
        fig.add_trace(go.Scatter(x=edges, y=[random_uplift * 100] * 2, name="random targeting", mode="lines",
                                 line=_STYLE["random"], hovertemplate="random: %{y:+.1f} pp<extra></extra>"))
    fig.update_layout(title="Uplift by decile (held-out customers)", barmode="group",
                      legend=_LEGEND, xaxis=dict(title="Decile (1 = ranked highest)", dtick=1),
                      yaxis_title="Uplift in response rate (pp)")
    return fig
