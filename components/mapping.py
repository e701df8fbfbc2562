"""The column-mapping editor: one dropdown per canonical column, pre-set to what was detected."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics import schema

LABELS = {
    schema.CUSTOMER_ID: "Customer ID",
    schema.INVOICE_ID: "Invoice / order ID",
    schema.INVOICE_DATE: "Invoice date",
    schema.QUANTITY: "Quantity",
    schema.UNIT_PRICE: "Unit price",
    schema.AMOUNT: "Amount (instead of quantity × price)",
    schema.STOCK_CODE: "Stock code (optional)",
    schema.DESCRIPTION: "Description (optional)",
    schema.COUNTRY: "Country (optional)",
}


def mapping_editor(columns: list[str], detected: dict[str, str]) -> html.Div:
    """Dropdowns with dict IDs ``{"type": "mapping", "canonical": name}`` read by the run callback."""
    options = [{"label": c, "value": c} for c in columns]
    rows = [
        html.Tr(
            [
                html.Td(label, className="small align-middle"),
                html.Td(
                    dcc.Dropdown(
                        id={"type": "mapping", "canonical": canonical},
                        options=options,
                        value=detected.get(canonical),
                        placeholder="not in the file",
                        clearable=True,
                    ),
                    style={"minWidth": "12rem"},
                ),
            ]
        )
        for canonical, label in LABELS.items()
    ]
    return html.Div(
        [
            html.Div("Column mapping (correct it if a column was missed, then run)", className="small fw-semibold"),
            dbc.Table(html.Tbody(rows), size="sm", borderless=True, className="mb-0"),
        ]
    )
