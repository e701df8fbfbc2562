"""Segment explorer figures: the 3-D RFM scatter, the segment radar, cluster-selection diagnostics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.theme import PALETTE, empty_figure


def group_colors(groups: list[str]) -> dict[str, str]:
    """A stable colour per group name, in the given order."""
    return {group: PALETTE[i % len(PALETTE)] for i, group in enumerate(groups)}


def rfm_scatter(customers: pd.DataFrame, color_by: str = "segment", order: list[str] | None = None) -> go.Figure:
    """3-D scatter of recency (days), frequency (orders) and monetary (net, currency) on log axes.

    ``uirevision`` is constant so the camera a person has set survives filter changes.
    """
    if customers.empty:
        return empty_figure("No customer matches these filters")
    labels = customers[color_by].astype(str).to_numpy()
    groups = order or sorted(set(labels))
    colors = group_colors(groups)
    # plain numpy arrays: plotly validates pandas objects through a much slower path
    recency = customers["recency_days"].to_numpy(dtype=float)
    frequency = customers["frequency"].to_numpy(dtype=float)
    monetary = customers["monetary"].to_numpy(dtype=float)
    xyz = np.log10(np.clip(np.column_stack([recency, frequency, monetary]), 1, None))
    ids = customers.index.astype(str).to_numpy()
    traces = []
    for group in groups:
        rows = np.flatnonzero(labels == group)
        if rows.size == 0:
            continue
        traces.append(
            go.Scatter3d(
                x=xyz[rows, 0], y=xyz[rows, 1], z=xyz[rows, 2],
                mode="markers",
                name=str(group),
                marker=dict(size=3, color=colors[group], opacity=0.75),
                text=ids[rows],
                customdata=np.column_stack([recency[rows], frequency[rows], monetary[rows]]),
                hovertemplate="Customer %{text}<br>Recency %{customdata[0]:.0f} days<br>"
                "Frequency %{customdata[1]:.0f} orders<br>Monetary %{customdata[2]:,.0f}"
                "<extra>%{fullData.name}</extra>",
            )
        )
    ticks = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000]
    axis = lambda title: dict(title=title, tickvals=np.log10(ticks), ticktext=[f"{t:,}" for t in ticks])  # noqa: E731
    # built in one call: adding traces and updating the layout one by one made plotly re-validate each time
    return go.Figure(data=traces, layout=dict(
        uirevision="rfm-scatter",
        height=560,
        margin=dict(l=0, r=0, t=10, b=0),
        legend=dict(itemsizing="constant", y=0.95),
        scene=dict(xaxis=axis("Recency (days, log)"), yaxis=axis("Frequency (orders, log)"),
                   zaxis=axis("Monetary (log)")),
    ))


def radar(profile: pd.DataFrame, highlight: list[str] | None = None) -> go.Figure:
    """One polygon per group on a shared 0-1 percentile scale (see analytics.selection.radar_profile)."""
    if profile.empty:
        return empty_figure("No segment to compare")
    colors = group_colors(list(profile.index))
    axes = list(profile.columns)
    fig = go.Figure()
    for group, row in profile.iterrows():
        shown = not highlight or group in highlight
        fig.add_trace(
            go.Scatterpolar(
                r=[*row.to_numpy(), row.iloc[0]],
                theta=[*axes, axes[0]],
                name=str(group),
                line=dict(color=colors[group]),
                fill="toself",
                opacity=0.55 if shown else 0.1,
                visible=True if shown else "legendonly",
                hovertemplate="%{theta}: %{r:.0%} percentile<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(height=440, margin=dict(l=50, r=10, t=30, b=30),
                      legend=dict(font=dict(size=10), x=1.05, y=1, itemclick="toggleothers"),
                      polar=dict(radialaxis=dict(range=[0, 1], tickformat=".0%", angle=90, tickfont=dict(size=9))))
    return fig


def selection_diagnostics(selection: pd.DataFrame, chosen_k: int | None) -> go.Figure:
    """Inertia (elbow) and silhouette over k, with the chosen k marked."""
    if selection is None or len(selection) == 0:
        return empty_figure("Model selection is not available for this clustering")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Inertia (elbow)", "Silhouette (higher is better)"))
    for col, metric in ((1, "inertia"), (2, "silhouette")):
        if metric in selection:
            fig.add_trace(go.Scatter(x=selection["k"], y=selection[metric], mode="lines+markers", name=metric,
                                     showlegend=False), row=1, col=col)
            if chosen_k is not None:
                fig.add_vline(x=chosen_k, line_dash="dash", line_color="#dc2626", row=1, col=col)
    fig.update_xaxes(title_text="k", dtick=1)
    fig.update_layout(height=300, margin=dict(l=50, r=20, t=40, b=40))
    return fig
