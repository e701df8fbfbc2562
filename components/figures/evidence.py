"""Model evidence figures: CLV holdout tracking and conditional expectations, churn ROC and calibration.

Each takes the model's record from the results (analytics.clv.HoldoutValidation, analytics.churn.models.
ChurnRecord) or the ModelFailure in its place, and reads the tables those records hold as they are.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.churn.models import ChurnRecord
from analytics.clv import HoldoutValidation
from analytics.errors import ModelFailure
from components.theme import INK, MUTED, PALETTE, TEAL, empty_figure

_LEGEND_INSIDE = dict(yanchor="bottom", y=0.02, xanchor="right", x=0.98, bordercolor="#e5e7eb", borderwidth=1)
# ROC and calibration can carry five scorers: their legends go under the plot, never over the curves
_LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0)
NO_HOLDOUT = "No holdout check for these data (the reason is below)"
NO_CHURN = "No churn model for these data (the reason is below)"


def tracking_figure(validation: HoldoutValidation | ModelFailure) -> go.Figure:
    """Cumulative repeat purchases of the calibration customers: actual (solid) vs BG/NBD expected (dashed).

    A vertical line marks the end of the calibration period; everything to its right is out of sample.
    """
    if isinstance(validation, ModelFailure):
        return empty_figure(NO_HOLDOUT)
    tracking, calibration_end = validation.tracking, validation.calibration_end
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=tracking["week_end"], y=tracking["actual_cumulative"], name="Actual", mode="lines",
                             line=dict(color=INK, width=2.5),
                             hovertemplate="Actual %{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=tracking["week_end"], y=tracking["predicted_cumulative"], name="BG/NBD expected",
                             mode="lines", line=dict(color=TEAL, width=2.5, dash="dash"),
                             hovertemplate="Expected %{y:,.0f}<extra></extra>"))
    fig.add_vline(x=calibration_end, line=dict(color=MUTED, width=1, dash="dot"))
    fig.add_annotation(x=calibration_end, y=1, yref="paper", text="holdout →", showarrow=False, xanchor="left",
                       yanchor="top", font=dict(color=MUTED, size=12), xshift=4)
    fig.update_layout(
        title="CLV holdout: cumulative repeat purchases",
        hovermode="x unified",
        legend=_LEGEND_INSIDE,
        margin=dict(l=60, r=20, t=50, b=40),
        height=340,
        yaxis=dict(title="Repeat purchases (cumulative)", tickformat="~s", rangemode="tozero"),
        xaxis=dict(showgrid=False),
    )
    return fig


def tournament_tracking_figure(tracking: pd.DataFrame | None, labels: dict[str, str],
                               calibration_end: pd.Timestamp | None, chosen: str | None = None) -> go.Figure:
    """Cumulative repeat purchases of the calibration customers: the actual (solid) and each tournament
    candidate's expectation (dashed; the chosen model thicker). BTYD candidates draw their unconditional
    curve over calibration and holdout; the others only their holdout forecast."""
    if tracking is None or tracking.empty or "actual_cumulative" not in tracking.columns:
        return empty_figure("No tournament in these results")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=tracking["week_end"], y=tracking["actual_cumulative"], name="Actual", mode="lines",
                             line=dict(color=INK, width=3), hovertemplate="Actual %{y:,.0f}<extra></extra>"))
    colours = itertools.cycle(PALETTE)
    for key, label in labels.items():
        if key not in tracking.columns or tracking[key].isna().all():
            continue
        width = 3 if key == chosen else 1.6
        fig.add_trace(go.Scatter(x=tracking["week_end"], y=tracking[key], name=label + (" (used)" if key == chosen
                                                                                          else ""),
                                 mode="lines", line=dict(color=next(colours), width=width, dash="dash"),
                                 hovertemplate=f"{label} %{{y:,.0f}}<extra></extra>"))
    if calibration_end is not None:
        fig.add_vline(x=pd.Timestamp(calibration_end), line=dict(color=MUTED, width=1, dash="dot"))
        fig.add_annotation(x=pd.Timestamp(calibration_end), y=1, yref="paper", text="holdout →", showarrow=False,
                           xanchor="left", yanchor="top", font=dict(color=MUTED, size=12), xshift=4)
    fig.update_layout(title="Tournament: cumulative repeat purchases, actual and each model",
                      hovermode="x unified", legend=_LEGEND_BELOW, margin=dict(l=60, r=20, t=50, b=40), height=380,
                      yaxis=dict(title="Repeat purchases (cumulative)", tickformat="~s", rangemode="tozero"),
                      xaxis=dict(showgrid=False))
    return fig


def holdout_figure(validation: HoldoutValidation | ModelFailure) -> go.Figure:
    """Mean holdout purchases per customer by calibration-period repeat purchases (Fader, Hardie & Lee's
    conditional-expectations plot; the top group is pooled, "7+"): actual vs model vs the naive baseline.
    A point's hover gives the group's size."""
    if isinstance(validation, ModelFailure):
        return empty_figure(NO_HOLDOUT)
    means = validation.by_frequency
    labels, sizes = list(means.index), means["n_customers"].to_numpy()
    styles = {
        "actual": ("Actual", dict(color=INK, width=2.5), "circle"),
        "predicted": ("BG/NBD", dict(color=TEAL, width=2.5, dash="dash"), "diamond"),
        "baseline": ("Naive baseline", dict(color=PALETTE[1], width=1.5, dash="dot"), "square"),
    }
    fig = go.Figure()
    for column in styles:
        name, line, symbol = styles[column]
        fig.add_trace(go.Scatter(
            x=labels, y=means[column], name=name, mode="lines+markers", line=line,
            marker=dict(symbol=symbol, size=7), customdata=np.asarray(sizes)[:, None],
            hovertemplate=f"{name}: %{{y:.2f}} purchases per customer<br>%{{customdata[0]:,}} customers"
                          "<extra></extra>",
        ))
    fig.update_layout(
        title="Holdout purchases per customer, actual vs predicted",
        legend=dict(_LEGEND_INSIDE, yanchor="top", y=0.98, xanchor="left", x=0.02),
        margin=dict(l=60, r=20, t=50, b=50),
        height=340,
        xaxis=dict(title="Repeat purchases in the calibration period", type="category", showgrid=False),
        yaxis=dict(title="Mean holdout purchases", rangemode="tozero"),
    )
    return fig


def _styled_models(models: list[str], baselines: Collection[str]) -> dict[str, dict]:
    """The first fitted model teal and solid, other fitted models solid, baselines dashed."""
    others = itertools.cycle(PALETTE[1:])
    styles: dict[str, dict] = {}
    lead = True
    for model in models:
        if model in baselines:
            styles[model] = dict(color=next(others), width=2, dash="dash")
        else:
            styles[model] = dict(color=TEAL if lead else next(others), width=3 if lead else 2)
            lead = False
    return styles


def roc_figure(churn: ChurnRecord | ModelFailure) -> go.Figure:
    """ROC curves of the churn model and its baselines on held-out customers, with the chance diagonal; each
    legend entry carries the curve's AUC, baselines are dashed."""
    if isinstance(churn, ModelFailure):
        return empty_figure(NO_CHURN)
    roc = churn.curves["roc"]
    if roc.empty:
        return empty_figure("No labelled customers to draw ROC curves from")
    auc = churn.metrics["roc_auc"]
    models = list(dict.fromkeys(roc["model"]))
    styles = _styled_models(models, churn.baselines)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Chance (AUC 0.5)",
                             line=dict(color="#9ca3af", width=1, dash="dot"), hoverinfo="skip"))
    for model in models:
        rows = roc.loc[roc["model"] == model]
        value = auc.get(model, np.nan)
        label = f"{model} · AUC {value:.3f}" if np.isfinite(value) else model
        fig.add_trace(go.Scatter(
            x=rows["fpr"], y=rows["tpr"], name=label, mode="lines", line=styles[model],
            hovertemplate=f"{model}<br>False-positive rate %{{x:.1%}}<br>True-positive rate %{{y:.1%}}"
                          "<extra></extra>",
        ))
    fig.update_layout(
        title="Churn: ROC on held-out customers",
        legend=_LEGEND_BELOW,
        margin=dict(l=60, r=20, t=50, b=20),
        height=470,
        xaxis=dict(title="False-positive rate (stayers flagged)", range=[0, 1], tickformat=".0%",
                   constrain="domain"),
        yaxis=dict(title="True-positive rate (churners caught)", range=[0, 1.02], tickformat=".0%"),
    )
    return fig


def calibration_figure(churn: ChurnRecord | ModelFailure) -> go.Figure:
    """Observed churn rate against mean predicted probability per probability bin, by model.

    Points on the diagonal are well calibrated; marker area grows with the bin's customer count; empty bins
    are left out.
    """
    if isinstance(churn, ModelFailure):
        return empty_figure(NO_CHURN)
    calibration = churn.curves["calibration"]
    if calibration.empty:
        return empty_figure("No labelled customers to check calibration on")
    predicted, observed, count = "mean_predicted", "observed_rate", "count"
    models = list(dict.fromkeys(calibration["model"]))
    styles = _styled_models(models, churn.baselines)
    biggest = float(calibration[count].max())
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfect calibration",
                             line=dict(color="#9ca3af", width=1, dash="dot"), hoverinfo="skip"))
    for model in models:
        rows = calibration.loc[calibration["model"] == model].dropna(subset=[predicted, observed])
        sizes = 6 + 14 * np.sqrt(rows[count].to_numpy(dtype=float) / biggest)
        line = styles[model]
        fig.add_trace(go.Scatter(
            x=rows[predicted], y=rows[observed], name=model, mode="lines+markers",
            line=dict(color=line["color"], width=1.5, dash=line.get("dash")),
            marker=dict(size=sizes, color=line["color"], opacity=0.85, line=dict(color="white", width=1)),
            customdata=rows[[count]].to_numpy(),
            hovertemplate=f"{model}<br>Predicted %{{x:.1%}} → observed %{{y:.1%}}"
                          "<br>%{customdata[0]:,} customers<extra></extra>",
        ))
    fig.update_layout(
        title="Churn: calibration on held-out customers",
        legend=_LEGEND_BELOW,
        margin=dict(l=60, r=20, t=50, b=20),
        height=470,
        xaxis=dict(title="Predicted churn probability", range=[0, 1], tickformat=".0%"),
        yaxis=dict(title="Observed churn rate", range=[0, 1.02], tickformat=".0%"),
    )
    return fig
