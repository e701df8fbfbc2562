"""Small HTML tables for summaries (the big customer table is an AG Grid)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components import formatting as fmt

SUMMARY_COLUMNS = [
    ("customers", "Customers", fmt.count),
    ("revenue_share", "Revenue share", fmt.percent),
    ("mean_recency_days", "Recency (days)", lambda v: f"{v:,.0f}"),
    ("mean_frequency", "Orders", lambda v: f"{v:,.1f}"),
    ("mean_monetary", "Net spend", fmt.money),
    ("mean_clv", "CLV", fmt.money),
    ("mean_churn_probability", "Churn prob.", lambda v: fmt.percent(v, 0)),
    ("action", "Recommended action", str),
]


def group_summary_table(summary: pd.DataFrame) -> dbc.Table:
    """The per-segment (or per-cluster) summary of analytics.selection.group_summary."""
    columns = [(key, label, f) for key, label, f in SUMMARY_COLUMNS if key in summary]
    header = html.Thead(html.Tr([html.Th(summary.index.name or "")] + [html.Th(label) for _, label, _ in columns]))
    body = html.Tbody(
        [
            html.Tr([html.Td(str(name), className="fw-semibold")]
                    + [html.Td(f(row[key]), className="small" if key == "action" else "text-end")
                       for key, _, f in columns])
            for name, row in summary.iterrows()
        ]
    )
    return dbc.Table([header, body], size="sm", hover=True, responsive=True, className="mb-0")
