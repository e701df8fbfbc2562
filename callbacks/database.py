"""Database source on the Data tab: its panel, a connection's tables, a table's or query's columns in the
mapping editor. The run itself is in callbacks/run.py. The browser names a connection; the URL stays here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dash
from dash import Input, Output, State

from analytics.columns import detect_mapping
from analytics.errors import DataError
from callbacks import common
from components import database_source, ids
from components.mapping import mapping_editor
from settings import Settings

if TYPE_CHECKING:
    from analytics.database import DatabaseSource


def source_for(settings: Settings, connection, kind, table, query) -> DatabaseSource:
    """The source the browser's choices name, every value checked here (a forged payload gets a message)."""
    names = list(settings.db_connections)
    if not names:
        raise DataError("this server has no database connections configured (RCT_DB_<NAME>=url)")
    if not isinstance(connection, str) or connection not in settings.db_connections:
        raise DataError(f"choose one of the configured connections: {', '.join(names)}")
    url = settings.db_connections[connection]
    # imported here: a server with no connection configured never loads SQLAlchemy and sqlglot
    from analytics.database import DatabaseSource
    if kind == "table":
        if not isinstance(table, str) or not table:
            raise DataError(f"choose a table of {connection} first")
        return DatabaseSource(url, table=table, name=connection)
    if kind == "query":
        if not isinstance(query, str) or not query.strip():
            raise DataError("type a SELECT query first")
        return DatabaseSource(url, query=query, name=connection)
    raise DataError("choose whether to read a table or a query")


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        output={"panel": Output(ids.DB_PANEL, "style"), "table": Output(ids.DB_TABLE, "style"),
                "query": Output(ids.DB_QUERY, "style"), "read_columns": Output(ids.DB_READ_COLUMNS, "style")},
        inputs={"dataset": Input(ids.DATASET, "value"), "kind": Input(ids.DB_KIND, "value")},
    )
    def show_panel(dataset, kind):
        table, query, read_columns = database_source.kind_styles(kind)
        return {"panel": database_source.panel_style(dataset), "table": table, "query": query,
                "read_columns": read_columns}

    @app.callback(
        output={"options": Output(ids.DB_TABLE, "options"), "table": Output(ids.DB_TABLE, "value"),
                "message": Output(ids.DB_MESSAGE, "children")},
        inputs={"connection": Input(ids.DB_CONNECTION, "value")},
        prevent_initial_call=True,
    )
    def show_tables(connection):
        try:
            source = source_for(settings, connection, "query", None, "SELECT 1")
            from analytics.database import list_tables
            options = list_tables(source.url, settings.db_limits, name=connection)
        except DataError as error:
            return {"options": [], "table": None,
                    "message": common.error_alert(error, title="Cannot read this database")}
        return {"options": options, "table": None, "message": None}

    @app.callback(
        output={"mapping": Output(ids.MAPPING_TABLE, "children", allow_duplicate=True),
                "message": Output(ids.DB_MESSAGE, "children", allow_duplicate=True)},
        inputs={"table": Input(ids.DB_TABLE, "value"), "_clicks": Input(ids.DB_READ_COLUMNS, "n_clicks"),
                "connection": State(ids.DB_CONNECTION, "value"), "kind": State(ids.DB_KIND, "value"),
                "query": State(ids.DB_QUERY, "value")},
        prevent_initial_call=True,
    )
    def show_columns(table, _clicks, connection, kind, query):
        if kind == "table" and not table:
            raise dash.exceptions.PreventUpdate  # the table list was just (re)filled: nothing chosen yet
        try:
            source = source_for(settings, connection, kind, table, query)
            from analytics.database import database_columns
            columns = database_columns(source, settings.db_limits)
        except DataError as error:  # the editor and the results on screen stay as they were
            return {"mapping": dash.no_update, "message": common.error_alert(error, title="Cannot read this database")}
        note = f"{source.label}: {len(columns)} columns; check the mapping below, then press Run analysis."
        return {"mapping": mapping_editor(columns, detect_mapping(columns)), "message": note}
