"""The data-quality report of analytics.cleaning, as a person reads it."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components import formatting as fmt

ACTION_COLORS = {"removed": "danger", "dropped": "danger", "netted": "info", "reported": "warning"}


def _stat(label: str, value: str) -> dbc.Col:
    return dbc.Col(html.Div([html.Div(label, className="kpi-label"), html.Div(value, className="fw-bold")]),
                   xs=6, md=3, className="mb-2")


def quality_report(report: dict[str, Any], source: str = "") -> html.Div:
    """Headline counts, one table row per cleaning rule, and the customers left out of the models."""
    rules = report["rules"]
    header = html.Thead(html.Tr([html.Th(h) for h in ("Rule", "What it catches", "Action", "Rows matching", "Rows taken", "Revenue")]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(rule["rule"].replace("_", " ")),
                    html.Td(rule.get("description") or "", className="small"),
                    html.Td(dbc.Badge(rule["action"], color=ACTION_COLORS.get(rule["action"], "secondary"))),
                    html.Td(fmt.count(rule["rows_flagged"]), className="text-end"),
                    html.Td(fmt.count(rule["rows_removed"]), className="text-end"),
                    html.Td(fmt.money(rule["revenue_removed"]), className="text-end"),
                ]
            )
            for rule in rules
        ]
    )
    excluded = report.get("customers_excluded") or []
    excluded_note = (
        f"{len(excluded):,} customers have a net value of zero or less (everything they bought came back) and "
        f"are left out of the models, e.g. {', '.join(excluded[:5])}."
        if excluded
        else "No customer has a net value of zero or less."
    )
    return html.Div(
        [
            html.Div(f"Source: {source}", className="small-muted mb-2") if source else None,
            dbc.Row(
                [
                    _stat("Rows in → kept", f"{fmt.count(report['rows_in'])} → {fmt.count(report['rows_out'])}"),
                    _stat("Customers in → kept",
                          f"{fmt.count(report['customers_in'])} → {fmt.count(report['customers_out'])}"),
                    _stat("Revenue in → kept",
                          f"{fmt.money(report['revenue_in'])} → {fmt.money(report['revenue_out'])}"),
                    _stat("As-of date", str(report["as_of"])[:10]),
                    _stat("Dates in the file",
                          f"{str(report['date_min_in'])[:10]} – {str(report['date_max_in'])[:10]}"),
                    _stat("Rows after the as-of date", fmt.count(report["rows_after_as_of"])),
                    _stat("Cancellation lines", fmt.count(report["cancellation_lines"])),
                    _stat("Returns", "netted from monetary value" if report["net_returns"] else "ignored"),
                ]
            ),
            dbc.Table([header, body], size="sm", hover=True, responsive=True, className="mt-2"),
            html.P("Rules apply in this order; \"rows matching\" counts every input row a rule matches on its own, "
                   "\"rows taken\" those it removed (or netted) after the rules above it.", className="small-muted"),
            html.P(excluded_note, className="small"),
        ],
        id="quality-report-body",
    )
