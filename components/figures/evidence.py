"""Model evidence figures: CLV holdout tracking and conditional expectations, churn ROC and calibration.

Each takes the plain tables the pipeline stores in ``Results.models`` (see the Results contract) and accepts
the column names the model modules use (``week_end`` or ``week``; ``mean_predicted`` or ``predicted``...).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components.theme import INK, MUTED, PALETTE, TEAL, TEMPLATE_NAME, empty_figure

_LEGEND_INSIDE = dict(yanchor="bottom", y=0.02, xanchor="right", x=0.98, bordercolor="#e5e7eb", borderwidth=1)
# ROC and calibration can carry five scorers: their legends go under the plot, never over the curves
_LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0)
FREQUENCY_CAP = 7
"""Per-customer holdout figure: purchase counts at or above this are pooled ("7+"), as in Fader et al."""


def _first(frame: pd.DataFrame, *names: str) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def _records(frame: pd.DataFrame) -> pd.DataFrame:
    """A model-indexed table as columns (``model`` may be the index or a column)."""
    return frame.reset_index() if frame.index.name is not None else frame


def tracking_figure(tracking: pd.DataFrame | None,
                    calibration_end: pd.Timestamp | str | None = None) -> go.Figure:
    """Cumulative repeat purchases of the calibration customers: actual (solid) vs BG/NBD expected (dashed).

    A vertical line marks the end of the calibration period (from ``calibration_end`` or the table's
    ``period`` column); everything to its right is out of sample.
    """
    x = _first(tracking, "week_end", "week", "date") if tracking is not None else None
    needed = {"actual_cumulative", "predicted_cumulative"}
    if x is None or tracking.empty or not needed <= set(tracking.columns):
        return empty_figure("No holdout tracking table in these results")
    if calibration_end is None and "period" in tracking.columns:
        inside = tracking.loc[tracking["period"] == "calibration", x]
        calibration_end = inside.max() if len(inside) else None
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=tracking[x], y=tracking["actual_cumulative"], name="Actual", mode="lines",
                             line=dict(color=INK, width=2.5),
                             hovertemplate="Actual %{y:,.0f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=tracking[x], y=tracking["predicted_cumulative"], name="BG/NBD expected",
                             mode="lines", line=dict(color=TEAL, width=2.5, dash="dash"),
                             hovertemplate="Expected %{y:,.0f}<extra></extra>"))
    if calibration_end is not None:
        is_date = pd.api.types.is_datetime64_any_dtype(tracking[x]) or isinstance(tracking[x].iloc[0], str)
        at = pd.Timestamp(calibration_end) if is_date else calibration_end
        fig.add_vline(x=at, line=dict(color=MUTED, width=1, dash="dot"))
        fig.add_annotation(x=at, y=1, yref="paper", text="holdout →", showarrow=False, xanchor="left",
                           yanchor="top", font=dict(color=MUTED, size=12), xshift=4)
    fig.update_layout(
        template=TEMPLATE_NAME,
        title="CLV holdout: cumulative repeat purchases",
        hovermode="x unified",
        legend=_LEGEND_INSIDE,
        margin=dict(l=60, r=20, t=50, b=40),
        height=340,
        yaxis=dict(title="Repeat purchases (cumulative)", tickformat="~s", rangemode="tozero"),
        xaxis=dict(title="Week" if x == "week" else None, showgrid=False),
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
    fig.update_layout(template=TEMPLATE_NAME, title="Tournament: cumulative repeat purchases, actual and each model",
                      hovermode="x unified", legend=_LEGEND_BELOW, margin=dict(l=60, r=20, t=50, b=40), height=380,
                      yaxis=dict(title="Repeat purchases (cumulative)", tickformat="~s", rangemode="tozero"),
                      xaxis=dict(showgrid=False))
    return fig


def _holdout_groups(table: pd.DataFrame, cap: int) -> tuple[pd.DataFrame, list[str], np.ndarray, str]:
    """Mean holdout purchases per group, the group labels, group sizes and what the groups are of."""
    if "n_customers" in table.columns:  # already grouped by calibration frequency (labels "0".."7+")
        labels = [str(v) for v in (table["frequency"] if "frequency" in table.columns else table.index)]
        return table, labels, table["n_customers"].to_numpy(), "frequency"
    by = "frequency" if "frequency" in table.columns else "actual"
    group = table[by].clip(upper=cap).round().astype(int)
    columns = [c for c in ("actual", "predicted", "baseline") if c in table.columns]
    means = table[columns].groupby(group).mean()
    labels = [f"{k}+" if k >= cap else str(k) for k in means.index]
    return means, labels, group.value_counts().reindex(means.index).to_numpy(), by


def holdout_figure(table: pd.DataFrame | None, cap: int = FREQUENCY_CAP) -> go.Figure:
    """Mean holdout purchases per customer group: actual vs model (and the naive baseline when present).

    ``table`` is per customer (actual, predicted, optional baseline and calibration ``frequency``) or already
    grouped (``n_customers`` per calibration-frequency label). Customers are grouped by their
    calibration-period repeat purchases when known (Fader, Hardie & Lee's conditional-expectations plot),
    otherwise by their actual holdout purchases; counts at or above ``cap`` are pooled. A point's hover
    gives the group's size.
    """
    if table is None or table.empty or not {"actual", "predicted"} <= set(table.columns):
        return empty_figure("No per-customer holdout table in these results")
    means, labels, sizes, by = _holdout_groups(table, cap)
    styles = {
        "actual": ("Actual", dict(color=INK, width=2.5), "circle"),
        "predicted": ("BG/NBD", dict(color=TEAL, width=2.5, dash="dash"), "diamond"),
        "baseline": ("Naive baseline", dict(color=PALETTE[1], width=1.5, dash="dot"), "square"),
    }
    fig = go.Figure()
    for column in (c for c in styles if c in means.columns):
        name, line, symbol = styles[column]
        fig.add_trace(go.Scatter(
            x=labels, y=means[column], name=name, mode="lines+markers", line=line,
            marker=dict(symbol=symbol, size=7), customdata=np.asarray(sizes)[:, None],
            hovertemplate=f"{name}: %{{y:.2f}} purchases per customer<br>%{{customdata[0]:,}} customers"
                          "<extra></extra>",
        ))
    x_title = ("Repeat purchases in the calibration period" if by == "frequency"
               else "Actual purchases in the holdout period")
    fig.update_layout(
        template=TEMPLATE_NAME,
        title="Holdout purchases per customer, actual vs predicted",
        legend=dict(_LEGEND_INSIDE, yanchor="top", y=0.98, xanchor="left", x=0.02),
        margin=dict(l=60, r=20, t=50, b=50),
        height=340,
        xaxis=dict(title=x_title, type="category", showgrid=False),
        yaxis=dict(title="Mean holdout purchases", rangemode="tozero"),
    )
    return fig


def _styled_models(models: list[str], baselines: Collection[str] | None) -> dict[str, dict]:
    """The first fitted model teal and solid, other fitted models solid, baselines dashed."""
    baselines = set(models[1:]) if baselines is None else set(baselines)
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


def roc_figure(roc: pd.DataFrame | None, metrics: pd.DataFrame | None = None,
               baselines: Collection[str] | None = None) -> go.Figure:
    """ROC curves of the churn model and its baselines on held-out customers, with the chance diagonal.

    ``roc``: long table (model, fpr, tpr). ``metrics`` (model, roc_auc, ...) adds each curve's AUC to its
    legend entry. ``baselines`` names the curves drawn dashed (default: all but the first).
    """
    if roc is None or roc.empty or not {"model", "fpr", "tpr"} <= set(roc.columns):
        return empty_figure("No churn ROC curves in these results")
    auc = {}
    if metrics is not None and not metrics.empty:
        table = _records(metrics)
        if {"model", "roc_auc"} <= set(table.columns):
            auc = dict(zip(table["model"].astype(str), table["roc_auc"]))
    models = list(dict.fromkeys(roc["model"].astype(str)))
    styles = _styled_models(models, baselines)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Chance (AUC 0.5)",
                             line=dict(color="#9ca3af", width=1, dash="dot"), hoverinfo="skip"))
    for model in models:
        rows = roc.loc[roc["model"].astype(str) == model]
        value = auc.get(model)
        label = f"{model} · AUC {value:.3f}" if value is not None and np.isfinite(value) else model
        fig.add_trace(go.Scatter(
            x=rows["fpr"], y=rows["tpr"], name=label, mode="lines", line=styles[model],
            hovertemplate=f"{model}<br>False-positive rate %{{x:.1%}}<br>True-positive rate %{{y:.1%}}"
                          "<extra></extra>",
        ))
    fig.update_layout(
        template=TEMPLATE_NAME,
        title="Churn: ROC on held-out customers",
        legend=_LEGEND_BELOW,
        margin=dict(l=60, r=20, t=50, b=20),
        height=470,
        xaxis=dict(title="False-positive rate (stayers flagged)", range=[0, 1], tickformat=".0%",
                   constrain="domain"),
        yaxis=dict(title="True-positive rate (churners caught)", range=[0, 1.02], tickformat=".0%"),
    )
    return fig


def calibration_figure(calibration: pd.DataFrame | None,
                       baselines: Collection[str] | None = None) -> go.Figure:
    """Observed churn rate against mean predicted probability per probability bin, by model.

    Points on the diagonal are well calibrated; marker area grows with the bin's customer count.
    """
    if calibration is None or calibration.empty or "model" not in calibration.columns:
        return empty_figure("No churn calibration table in these results")
    predicted = _first(calibration, "mean_predicted", "predicted")
    observed = _first(calibration, "observed_rate", "observed")
    count = _first(calibration, "count", "n")
    if predicted is None or observed is None:
        return empty_figure("The calibration table has no predicted/observed columns")
    models = list(dict.fromkeys(calibration["model"].astype(str)))
    styles = _styled_models(models, baselines)
    biggest = float(calibration[count].max()) if count else 1.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfect calibration",
                             line=dict(color="#9ca3af", width=1, dash="dot"), hoverinfo="skip"))
    for model in models:
        rows = calibration.loc[calibration["model"].astype(str) == model].dropna(subset=[predicted, observed])
        sizes = (6 + 14 * np.sqrt(rows[count].to_numpy(dtype=float) / biggest)) if count else 8
        line = styles[model]
        fig.add_trace(go.Scatter(
            x=rows[predicted], y=rows[observed], name=model, mode="lines+markers",
            line=dict(color=line["color"], width=1.5, dash=line.get("dash")),
            marker=dict(size=sizes, color=line["color"], opacity=0.85, line=dict(color="white", width=1)),
            customdata=rows[[count]].to_numpy() if count else None,
            hovertemplate=f"{model}<br>Predicted %{{x:.1%}} → observed %{{y:.1%}}"
            + ("<br>%{customdata[0]:,} customers" if count else "") + "<extra></extra>",
        ))
    fig.update_layout(
        template=TEMPLATE_NAME,
        title="Churn: calibration on held-out customers",
        legend=_LEGEND_BELOW,
        margin=dict(l=60, r=20, t=50, b=20),
        height=470,
        xaxis=dict(title="Predicted churn probability", range=[0, 1], tickformat=".0%"),
        yaxis=dict(title="Observed churn rate", range=[0, 1.02], tickformat=".0%"),
    )
    return fig
