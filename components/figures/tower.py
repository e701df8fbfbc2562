"""Executive tower figures: monthly trend, segments' share of customers and value, cohort retention."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import formatting as fmt
from components.theme import GRID, PALETTE, SEQUENTIAL, TEAL, empty_figure

_LEGEND_TOP = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1)


def trend_figure(monthly: pd.DataFrame, as_of: pd.Timestamp | None = None) -> go.Figure:
    """Monthly net revenue (bars, currency, left axis) and active customers (line, right axis).

    A month that does not end before ``as_of`` is partial: its bar is pale and its hover says so.
    """
    if monthly is None or monthly.empty:
        return empty_figure("No monthly activity in these results")
    months = pd.to_datetime(monthly["month"])
    if as_of is None:
        partial, note = np.zeros(len(months), dtype=bool), np.full(len(months), "")
    else:
        partial = (months + pd.offsets.MonthBegin(1) > as_of).to_numpy()
        note = np.where(partial, f" (partial: data to {as_of - pd.Timedelta(days=1):%d %b %Y})", "")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=months,
            y=monthly["net_revenue"],
            name="Net revenue",
            marker=dict(color=[TEAL if not p else "#99d5cf" for p in partial], line=dict(width=0)),
            customdata=list(zip(note, monthly["returns"])),
            hovertemplate="%{x|%B %Y}%{customdata[0]}<br>Net revenue %{y:,.0f}"
            "<br>Returns %{customdata[1]:,.0f}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=monthly["active_customers"],
            name="Active customers",
            yaxis="y2",
            mode="lines+markers",
            line=dict(color=PALETTE[1], width=2.5),
            marker=dict(size=7, symbol=["circle-open" if p else "circle" for p in partial]),
            customdata=list(zip(monthly["new_customers"], note)),
            hovertemplate="%{x|%B %Y}%{customdata[1]}<br>Active customers %{y:,.0f}"
            "<br>New customers %{customdata[0]:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Monthly net revenue and active customers",
        legend=_LEGEND_TOP,
        hovermode="x unified",
        bargap=0.25,
        margin=dict(l=60, r=70, t=70, b=40),
        height=360,
        xaxis=dict(type="date", tickformat="%b %Y", showgrid=False),
        yaxis=dict(title="Net revenue", tickformat="~s", rangemode="tozero"),
        # auto ticks (not synced to the revenue grid, which gives fractional customer counts)
        yaxis2=dict(title=dict(text="Active customers", standoff=8), overlaying="y", side="right",
                    rangemode="tozero", showgrid=False, tickmode="auto", nticks=6, tickformat=",~r",
                    linecolor=GRID, ticks="outside", tickcolor=GRID, automargin=True),
    )
    return fig


def segment_figure(customers: pd.DataFrame, order: list[str] | None = None) -> go.Figure:
    """Each segment's share of customers, of net revenue to date and (when present) of predicted CLV.

    Horizontal bars in ``order`` (best segment on top); hover gives the counts and money behind each share.
    """
    if customers is None or customers.empty or "segment" not in customers.columns:
        return empty_figure("No segments in these results")
    groups = customers.groupby("segment", observed=True)
    table = pd.DataFrame({"customers": groups.size(), "revenue": groups["monetary"].sum()})
    measures = [("customers", "Customers", fmt.count), ("revenue", "Net revenue to date", fmt.money)]
    if "clv" in customers.columns and customers["clv"].notna().any():
        table["clv"] = groups["clv"].sum()
        measures.append(("clv", "Predicted CLV", fmt.money))
    present = [s for s in (order or []) if s in table.index] + sorted(set(table.index) - set(order or []))
    table = table.reindex(present[::-1])  # plotly draws the first category at the bottom
    fig = go.Figure()
    colors = [TEAL, PALETTE[1], PALETTE[2]]
    # horizontal groups stack upwards: add the measures last-first so customers is each group's top bar
    for (column, label, formatter), color in reversed(list(zip(measures, colors))):
        total = table[column].sum()
        share = table[column] / total if total else table[column] * 0
        fig.add_trace(
            go.Bar(
                y=table.index.astype(str),
                x=share,
                name=label,
                orientation="h",
                marker_color=color,
                customdata=[[formatter(v)] for v in table[column]],
                hovertemplate=f"%{{y}}<br>{label}: %{{customdata[0]}} (%{{x:.1%}})<extra></extra>",
            )
        )
    fig.update_layout(
        title="Segments: share of customers and of value",
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        legend=dict(orientation="h", yanchor="top", y=-0.1, xanchor="left", x=0, traceorder="reversed"),
        margin=dict(l=20, r=20, t=50, b=70),
        height=max(400, 34 * len(table) + 150),
        xaxis=dict(tickformat=".0%", rangemode="tozero"),
        yaxis=dict(showgrid=False, ticks="", automargin=True),
    )
    return fig


def cohort_figure(cohorts: pd.DataFrame, sizes: pd.Series | None = None, max_months: int = 24) -> go.Figure:
    """Heatmap: share (0-1) of each first-purchase-month cohort buying again k months later (k >= 1).

    Month 0 is 100 % by definition and left out so the colours show the months that differ. ``sizes``
    (cohort month -> customers) adds each cohort's size to its label.
    """
    if cohorts is None or cohorts.empty:
        return empty_figure("No cohorts in these results")
    columns = [c for c in cohorts.columns if 1 <= int(c) <= max_months]
    if not columns:
        return empty_figure("Not enough months of data for cohort retention")
    table = cohorts[columns]
    cohort_months = pd.to_datetime(table.index)
    labels = [f"{m:%b %Y}" for m in cohort_months]
    if sizes is not None:
        counts = sizes.reindex(cohort_months).fillna(0).astype(int)
        labels = [f"{m:%b %Y} · {fmt.count(n)}" for m, n in zip(cohort_months, counts)]
    values = table.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    zmax = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    show_text = values.size <= 400
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=[int(c) for c in columns],
            y=labels,
            colorscale=SEQUENTIAL,
            zmin=0,
            zmax=max(zmax, 1e-9),
            xgap=1,
            ygap=1,
            texttemplate="%{z:.0%}" if show_text else None,
            textfont=dict(size=10),
            colorbar=dict(title=dict(text="Bought again", side="right"), tickformat=".0%", thickness=12),
            hovertemplate="Cohort %{y}" + (" customers" if sizes is not None else "")
            + "<br>%{x} month(s) after the first purchase: %{z:.1%} bought<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_layout(
        title="Cohort retention: share of each first-purchase cohort buying again",
        margin=dict(l=20, r=20, t=50, b=50),
        height=max(320, 24 * len(labels) + 140),
        xaxis=dict(title="Months since first purchase", dtick=1, showgrid=False, ticks=""),
        yaxis=dict(autorange="reversed", showgrid=False, ticks="", type="category", automargin=True),
    )
    return fig
