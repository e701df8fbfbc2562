"""Database source callbacks called as functions: what the browser sends is checked on the server, a real
SQLite file stands in for the warehouse, and no URL or password ever reaches the page."""

from __future__ import annotations

import json
import sqlite3

import dash
import pytest

from analytics.database import parse_url
from analytics.errors import DataError
from app import create_app
from callbacks.database import source_for
from components import ids
from settings import Settings

PASSWORD = "Hidden-Pw"


@pytest.fixture
def app(tmp_path):
    shop = tmp_path / "shop.db"
    with sqlite3.connect(shop) as connection:
        connection.execute("CREATE TABLE orders (client TEXT, order_ref TEXT, ordered_at TEXT, units INT, "
                           "price_each REAL)")
        connection.execute("INSERT INTO orders VALUES ('a', '1', '2024-01-02', 1, 2.5)")
    connections = {"shop": parse_url(f"sqlite:///{shop}"),
                   "warehouse": parse_url(f"postgresql://rct:{PASSWORD}@127.0.0.1:1/rct")}
    return create_app(Settings(cache_dir=tmp_path / "cache", db_connections=connections))


def _callback(app, *outputs: str):
    return next(v["callback"] for k, v in app.callback_map.items() if all(o in k for o in outputs)).__wrapped__


def test_forged_choices_get_messages(app):
    settings = app.server.config["RCT_SETTINGS"]
    for connection in ("nope", ["shop"], {"x": 1}, None):
        with pytest.raises(DataError, match="choose one of the configured connections: shop, warehouse"):
            source_for(settings, connection, "table", "orders", None)
    with pytest.raises(DataError, match="table or a query"):
        source_for(settings, "shop", "drop", "orders", None)
    with pytest.raises(DataError, match="choose a table of shop"):
        source_for(settings, "shop", "table", ["orders"], None)
    with pytest.raises(DataError, match="type a SELECT query"):
        source_for(settings, "shop", "query", None, 42)
    assert source_for(settings, "shop", "table", "orders", None).label == "orders on shop"
    with pytest.raises(DataError, match="no database connections configured"):
        source_for(Settings(), "shop", "table", "orders", None)


def test_tables_and_columns_fill_the_editor(app):
    show_tables = _callback(app, f"{ids.DB_TABLE}.options")
    assert show_tables("shop") == {"options": ["orders"], "table": None, "message": None}
    show_columns = _callback(app, f"{ids.MAPPING_TABLE}.children", ids.DB_MESSAGE)
    shown = show_columns("orders", None, "shop", "table", None)
    editor, note = shown["mapping"], shown["message"]
    assert note.startswith("orders on shop: 5 columns")
    assert "order_ref" in json.dumps(editor.to_plotly_json(), default=str)
    # a missing table, a refused server: a message, and the editor on screen is left alone
    refused = show_columns("ordres", None, "shop", "table", None)
    editor, note = refused["mapping"], refused["message"]
    assert editor is dash.no_update and "no table or view named 'ordres'" in str(note.children)
    message = show_tables("warehouse")["message"]
    assert "cannot connect to the database server of warehouse" in str(message.children)
    assert PASSWORD not in str(message.children)


def test_page_offers_names_never_urls(app):
    page = app.server.test_client().get("/_dash-layout").get_data(as_text=True)
    assert '"warehouse"' in page and '"Database"' in page
    assert PASSWORD not in page and "postgresql" not in page and "shop.db" not in page


def test_the_panel_shows_the_fields_of_the_chosen_kind(app):
    show_panel = _callback(app, f"{ids.DB_PANEL}.style")
    table = show_panel("database", "table")
    assert table["panel"] != {"display": "none"} and table["query"] == {"display": "none"}
    assert table["table"] != {"display": "none"} and table["read_columns"] == {"display": "none"}
    query = show_panel("database", "query")
    assert query["table"] == {"display": "none"} and query["query"] != {"display": "none"}
    assert show_panel("cdnow_sample", "query")["panel"] == {"display": "none"}
