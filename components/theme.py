"""One visual identity: teal and white. The plotly template here matches assets/theme.css."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

TEAL = "#0f766e"
TEAL_LIGHT = "#14b8a6"
TEAL_PALE = "#ccfbf1"
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
DANGER = "#dc2626"
WARNING = "#d97706"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

# Qualitative palette led by the brand teal; ordered so neighbours stay distinguishable.
PALETTE = [
    "#0f766e", "#f59e0b", "#2563eb", "#dc2626", "#7c3aed", "#059669",
    "#db2777", "#0891b2", "#65a30d", "#9a3412", "#475569", "#14b8a6",
]
# Sequential scale for heatmaps (white -> teal).
SEQUENTIAL = [[0.0, "#f0fdfa"], [0.5, "#2dd4bf"], [1.0, "#134e4a"]]

TEMPLATE_NAME = "rct"


def _template() -> go.layout.Template:
    axis = dict(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID, ticks="outside", tickcolor=GRID)
    return go.layout.Template(
        layout=go.Layout(
            font=dict(family=FONT, color=INK, size=13),
            colorway=PALETTE,
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=axis,
            yaxis=axis,
            colorscale=dict(sequential=SEQUENTIAL),
            hoverlabel=dict(font=dict(family=FONT)),
            legend=dict(bgcolor="rgba(255,255,255,0.8)"),
            margin=dict(l=50, r=20, t=50, b=40),
            title=dict(font=dict(size=15, color=INK), x=0.01, xanchor="left"),
        )
    )


pio.templates[TEMPLATE_NAME] = _template()
# The app's default, so every figure gets the theme as it is built. Naming the template in each figure instead
# made plotly validate and deep-copy it every time (about 10 ms a figure, most of an ROI update's server time).
pio.templates.default = TEMPLATE_NAME


def empty_figure(message: str) -> go.Figure:
    """A blank figure carrying a message, for charts that have nothing to show."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(color=MUTED, size=14), x=0.5, y=0.5,
                       xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
