"""The campaign-test panel of the Methodology & evidence tab: the form, the measured uplift, the model's
held-out evidence and uplift per segment. Pure builders; callbacks.uplift fills them."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from analytics.uplift.analysis import UpliftAnalysis
from analytics.uplift.assignment import DEFAULT_CONTROL_FRACTION, MAX_CONTROL_FRACTION
from components import formatting as fmt
from components import ids
from components.tower_tab import graph


def control_group_controls(share_id: str, seed_id: str) -> html.Div:
    """Control group share and seed for a campaign export: the file gets a ``group`` column."""
    return html.Div(dbc.Row([
        dbc.Col([dbc.Label("Control group (%)", html_for=share_id, className="small mb-0"),
                 dbc.Input(id=share_id, type="number", min=0, max=round(MAX_CONTROL_FRACTION * 100),
                           step=1, value=round(DEFAULT_CONTROL_FRACTION * 100), size="sm")], width=6),
        dbc.Col([dbc.Label("Seed", html_for=seed_id, className="small mb-0"),
                 dbc.Input(id=seed_id, type="number", min=0, step=1, value=0, size="sm")], width=6),
    ], className="g-2 mb-2"), title=("A random share of each segment is held out (group = control) and gets no "
                                     "offer; the file with its send date is the next campaign test."))


def form(sent_on: str = "", window_days: int = 30) -> html.Div:
    """Assignment file, send date, window and the button that measures the test."""
    return html.Div([
        dbc.Row([
            dbc.Col(dcc.Upload(
                id=ids.UPLIFT_UPLOAD, className="upload-area py-3 text-center",
                children=html.Div([html.I(className="bi bi-people me-2"),
                                   ("Drop the assignment file here (customer ID + group: treatment / control; "
                                    "CSV, XLSX or Parquet)")]),
            ), lg=6),
            dbc.Col([dbc.Label("Send date", html_for=ids.UPLIFT_SENT_ON, className="small mb-0"),
                     dbc.Input(id=ids.UPLIFT_SENT_ON, type="text", placeholder="YYYY-MM-DD", value=sent_on)], lg=2),
            dbc.Col([dbc.Label("Response window (days)", html_for=ids.UPLIFT_WINDOW, className="small mb-0"),
                     dbc.Input(id=ids.UPLIFT_WINDOW, type="number", min=1, step=1, value=window_days)], lg=2),
            dbc.Col([dbc.Button("Measure the test", id=ids.UPLIFT_RUN, color="primary", className="w-100 mt-3")],
                    lg=2),
        ], className="g-2 align-items-start"),
        html.Div([html.Span(id=ids.UPLIFT_FILE_NAME, className="small text-muted me-3"),
                  dbc.Button("Use the synthetic retailer's embedded test", id=ids.UPLIFT_EMBEDDED, color="link",
                             size="sm", className="p-0")], className="mt-1"),
        html.Div(id=ids.UPLIFT_PROGRESS, className="small text-muted mt-1"),
        html.Div(id=ids.UPLIFT_ERROR, className="mt-2"),
    ])


def _interval(value: float, low: float, high: float, scale: float, unit: str, decimals: int = 1) -> str:
    return (f"{value * scale:+,.{decimals}f}{unit} (95 % CI {low * scale:+,.{decimals}f} to "
            f"{high * scale:+,.{decimals}f})")


def measurement(analysis: UpliftAnalysis) -> html.Div:
    """Per-group table, the two average uplifts with intervals and significance, the verdict and notes."""
    m = analysis.measurement
    groups = dbc.Table([
        html.Thead(html.Tr([html.Th(h) for h in ("Group", "Customers", "Bought in the window", "Response rate",
                                                  "Revenue per customer")])),
        html.Tbody([html.Tr([html.Td(g.group), html.Td(fmt.count(g.customers)), html.Td(fmt.count(g.responders)),
                             html.Td(fmt.percent(g.response_rate)), html.Td(fmt.money(g.revenue_per_customer, 2))])
                    for g in (m.treatment, m.control)]),
    ], size="sm", bordered=False, hover=True, className="mb-2", id=ids.UPLIFT_GROUPS)
    cards = []
    for title, d, scale, unit, decimals in (("Uplift in response rate", m.rate_uplift, 100, " pp", 1),
                                            ("Uplift in revenue per customer", m.revenue_uplift, 1, "", 2)):
        verdict = "significant (p = {:.2g})" if d.significant else "not significant (p = {:.2g})"
        cards.append(dbc.Col(html.Div([
            html.Div(title, className="small text-muted"),
            html.Div(f"{d.estimate * scale:+,.{decimals}f}{unit}", className="fs-4 fw-semibold"),
            html.Div(_interval(d.estimate, d.ci_low, d.ci_high, scale, unit, decimals), className="small"),
            html.Div(verdict.format(d.p_value), className="small " + ("text-success" if d.significant else "text-muted")),
        ], className="kpi-card p-2 border rounded"), md=6))
    notes = [html.Li(n) for n in analysis.notes]
    return html.Div([
        html.P(f"Sent {m.sent_on.date()}, outcomes in the {m.window_days} days after it, from the transaction log.",
               className="small text-muted mb-1"),
        groups, dbc.Row(cards, className="g-2 mb-2"),
        dbc.Alert(analysis.verdict, color="success" if analysis.use_model else "warning", className="py-2 mb-2",
                  id=ids.UPLIFT_VERDICT),
        html.Ul(notes, className="small text-muted") if notes else None,
    ])


def evidence(analysis: UpliftAnalysis) -> html.Div:
    """The model's held-out scores against the churn ranking, with bootstrap intervals."""
    e = analysis.evidence
    if e is None:
        return html.Div()
    rows = [("Qini coefficient, uplift model", e.qini), ("Qini coefficient, ranked by churn probability", e.qini_churn),
            ("Model minus churn ranking", e.qini_gain), ("AUUC (normalised), uplift model", e.auuc)]
    return dbc.Table([
        html.Thead(html.Tr([html.Th("Held-out customers"), html.Th("Estimate"), html.Th("95 % bootstrap interval")])),
        html.Tbody([html.Tr([html.Td(label), html.Td(f"{i.estimate:.3f}"), html.Td(f"{i.ci_low:.3f} to {i.ci_high:.3f}")])
                    for label, i in rows]
                   + [html.Tr([html.Td("Uplift among the top 30 % by the model"),
                               html.Td(f"{e.uplift_at_top * 100:+.1f} pp"), html.Td("")])]),
    ], size="sm", bordered=False, className="mb-2")


def segments(table: pd.DataFrame) -> dbc.Table | html.Div:
    """Uplift per segment (as of the send date) with intervals: where the offer works, is wasted, does harm."""
    if table is None or table.empty:
        return html.Div()
    header = ("Segment", "Treated", "Control", "Rate treated", "Rate control", "Uplift", "95 % CI", "Reading")
    return dbc.Table([
        html.Thead(html.Tr([html.Th(h) for h in header])),
        html.Tbody([html.Tr([
            html.Td(r.segment), html.Td(fmt.count(r.n_treatment)), html.Td(fmt.count(r.n_control)),
            html.Td(fmt.percent(r.rate_treatment)), html.Td(fmt.percent(r.rate_control)),
            html.Td(f"{r.uplift * 100:+.1f} pp"),
            html.Td("" if pd.isna(r.ci_low) else f"{r.ci_low * 100:+.1f} to {r.ci_high * 100:+.1f}"),
            html.Td(r.verdict),
        ]) for r in table.itertuples()]),
    ], size="sm", bordered=False, hover=True, id=ids.UPLIFT_SEGMENTS_TABLE)


def panel_body() -> list:
    """What the panel holds under the form: the results and the two figures."""
    return [
        dcc.Loading(html.Div(id=ids.UPLIFT_SUMMARY, className="mt-3"), type="dot", color="#0f766e"),
        dbc.Row([
            dbc.Col(graph(ids.UPLIFT_QINI, 380), lg=6),
            dbc.Col(graph(ids.UPLIFT_DECILES, 380), lg=6),
        ], className="g-3"),
        html.Div(id=ids.UPLIFT_MODEL, className="mt-2"),
        html.H6("Uplift per segment (segments as of the send date)", className="mt-3 fw-semibold"),
        html.Div(id=ids.UPLIFT_SEGMENTS),
    ]
