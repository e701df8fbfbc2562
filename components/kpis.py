"""KPI cards for the executive tower: value, caption and a tooltip with the KPI's definition.

The numbers and definitions come from analytics.insights.kpis; this module only formats and lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import html

from components import formatting as fmt
from components import ids

FORMATTERS = {"count": fmt.count, "money": fmt.money, "fraction": fmt.percent}


def card_id(key: str) -> str:
    """DOM id of one KPI card (the tooltip's target)."""
    return f"{ids.TOWER_KPI}-{key}"


def format_value(kpi: dict) -> str:
    """The card's headline text: the formatted number, or a dash when the KPI cannot be computed."""
    return "–" if kpi["value"] is None else FORMATTERS[kpi["unit"]](kpi["value"])


def kpi_card(kpi: dict) -> html.Div:
    """One card; the wrapper carries the id (tooltip target), the KPI key and keyboard focus."""
    missing = kpi["value"] is None
    card = dbc.Card(
        dbc.CardBody(
            [
                html.Div([kpi["name"], html.I(className="bi bi-info-circle ms-1")], className="kpi-label"),
                html.Div(format_value(kpi), className="kpi-value" + (" text-muted" if missing else "")),
                html.Div(kpi["caption"], className="kpi-note" + (" fst-italic" if missing else "")),
            ],
            className="py-2 px-3",
        ),
        className="kpi-card" + (" kpi-risk" if kpi.get("risk") else ""),
    )
    return html.Div(card, id=card_id(kpi["key"]), className="h-100", tabIndex="0",
                    **{"data-kpi": kpi["key"], "aria-label": f"{kpi['name']}: {kpi['definition']}"})


def kpi_row(kpis: Sequence[dict]) -> html.Div:
    """All cards in one responsive row (2 per line on a phone, 3-4 on a tablet, all 7 from 1200 px)."""
    cards = [dbc.Col(kpi_card(k), xs=6, md=4, lg=3, xl=True) for k in kpis]
    tooltips = [
        dbc.Tooltip(k["definition"], target=card_id(k["key"]), placement="bottom",
                    delay={"show": 150, "hide": 50})
        for k in kpis
    ]
    return html.Div([dbc.Row(cards, className="g-3 mb-3"), *tooltips])
