"""The Data tab's "Database" source: a configured connection chosen by name, a table or a query."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import ids

DATABASE = "database"  # the source dropdown's value for this source
KINDS = {"table": "Table", "query": "Query"}


def dataset_option(connections: list[str]) -> list[dict]:
    """The source dropdown's "Database" entry, offered only when the server has connections configured."""
    return [{"label": "Database", "value": DATABASE}] if connections else []


def database_panel(connections: list[str]) -> html.Div:
    """Connection, table or query; hidden until the Database source is chosen. Names only: the URLs and
    their passwords stay on the server."""
    return html.Div(
        [
            dbc.Label("Connection", className="mb-1 small fw-semibold"),
            dcc.Dropdown(id=ids.DB_CONNECTION, options=connections, placeholder="choose a connection",
                         clearable=False),
            dbc.RadioItems(id=ids.DB_KIND, options=[{"label": v, "value": k} for k, v in KINDS.items()],
                           value="table", inline=True, className="my-2"),
            dcc.Dropdown(id=ids.DB_TABLE, options=[], placeholder="choose a table"),
            dbc.Textarea(id=ids.DB_QUERY, rows=4, className="font-monospace small mt-2",
                         placeholder="SELECT customer, order_id, ordered_at, qty, price FROM orders WHERE ..."),
            dbc.Button("Read columns", id=ids.DB_READ_COLUMNS, size="sm", color="secondary", outline=True,
                       className="mt-1"),
            html.Div("Read-only, with a time limit and a row cap. One SELECT (or WITH ... SELECT) statement.",
                     className="small-muted mt-1"),
            html.Div(id=ids.DB_MESSAGE, className="mt-2"),
        ],
        id=ids.DB_PANEL,
        className="border rounded p-2 mb-2",
        style={"display": "none"},
    )


def panel_style(dataset: str | None) -> dict:
    return {} if dataset == DATABASE else {"display": "none"}


def kind_styles(kind: str | None) -> tuple[dict, dict, dict]:
    """Styles of the table dropdown, the query box and the read-columns button for a kind."""
    hidden = {"display": "none"}
    return ({}, hidden, hidden) if kind != "query" else (hidden, {}, {})
