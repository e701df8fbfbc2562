"""Tabs whose content is still to be built say what they will hold."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

PLANNED = {
    "journeys": (
        "Journeys",
        "How customers move between RFM segments from one quarter (or month) to the next: a Sankey between "
        "two snapshots or across all of them, the transition matrix, headline movements, and the customer "
        "list behind each flow for export.",
    ),
    "roi": (
        "ROI simulator",
        "Incremental economics of a discount campaign: pick an audience, set discount, uplift, redemption "
        "and costs, and read net profit, ROI, break-even uplift and the chance of a profit, with the best "
        "audience size and scenarios you can save and share.",
    ),
}


def layout(tab_id: str) -> html.Div:
    title, text = PLANNED[tab_id]
    return html.Div(
        dbc.Alert([html.H5(f"{title} — coming next", className="alert-heading"), html.P(text, className="mb-0")],
                  color="light", className="border"),
        className="panel",
    )
