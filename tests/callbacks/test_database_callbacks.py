"""Database source callbacks called as functions: what the browser sends is checked on the server, a real
SQLite file stands in for the warehouse in the panel's tests and a real PostgreSQL server for a run, and no
URL or password ever reaches the page, the logs or the cache."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import dash
import pandas as pd
import pytest

from analytics.database import DatabaseLimits, parse_url
from analytics.errors import DataError
from app import create_app
from callbacks.database import source_for
from callbacks.run import analysis_outputs
from components import ids
from settings import Settings
from tests.callbacks.conftest import text_of
from tests.callbacks.test_run_callbacks import DEFAULT_INPUTS
from tests.postgres_server import add_a_later_line, load_orders

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


def _small_orders(postgres, retail_slice_csv, tmp_path, table: str, rows: int = 5_000) -> None:
    """The first ``rows`` lines of the retail slice as ``table`` (warehouse column names): runs that fit."""
    head = tmp_path / f"{table}.csv"
    pd.read_csv(retail_slice_csv, dtype=str, keep_default_na=False).head(rows).to_csv(head, index=False)
    load_orders(postgres, head, table)


def test_a_postgres_run_from_the_data_tab(postgres, retail_slice_csv, tmp_path, caplog):
    """The Run button's work on a real PostgreSQL table: rows read shown as progress, an unchanged table is a
    cache hit, new rows give new results, and a failed run (a writing query, a wrong password, the settings'
    row cap or time limit) is one message that leaves the results key on the page alone. No password in the
    messages, the logs or the cache's files."""
    caplog.set_level(logging.DEBUG)
    _small_orders(postgres, retail_slice_csv, tmp_path, "orders_app")
    wrong_password = "Not-the-Pw-42"
    settings = Settings(cache_dir=tmp_path / "cache", db_connections={
        "warehouse": parse_url(postgres.url()), "stale": parse_url(postgres.url(password=wrong_password))})
    mapping = (["order_ref", "ordered_at"], [{"type": "mapping", "canonical": "invoice_id"},
                                             {"type": "mapping", "canonical": "invoice_date"}])

    def run(db_choice, run_settings=settings) -> tuple[dict, list[str]]:
        steps = []
        shown = analysis_outputs(run_settings, False, None, "database", mapping, db_choice, DEFAULT_INPUTS,
                                 lambda fraction, message: steps.append(message))
        return shown, steps

    table = ("warehouse", "table", "orders_app", None)
    first, fitted = run(table)
    assert first["error"] is None and isinstance(first["key"], str)
    assert "Reading orders_app on warehouse: 5,000 rows" in fitted
    assert any(step.startswith("Fitting") for step in fitted)
    again, hit = run(table)
    assert again["key"] == first["key"] and not any(step.startswith("Fitting") for step in hit)
    assert "Reading orders_app on warehouse: 5,000 rows" in hit  # read again: that is how new rows are seen

    failures = {
        ("warehouse", "query", None, "UPDATE orders_app SET units = 0"): "must start with SELECT or WITH",
        ("warehouse", "table", "ordres", None): "no table or view named 'ordres'",
        ("stale", "table", "orders_app", None): "refused the configured user name or password",
    }
    for choice, expected in failures.items():
        failed, _ = run(choice)
        assert failed["key"] is dash.no_update and expected in text_of(failed["error"])  # the results stay
    capped = Settings(cache_dir=settings.cache_dir, db_connections=settings.db_connections,
                      db_limits=DatabaseLimits(max_rows=1_000))
    failed, _ = run(table, capped)
    assert failed["key"] is dash.no_update and "RCT_QUERY_MAX_ROWS" in text_of(failed["error"])
    hurried = Settings(cache_dir=settings.cache_dir, db_connections=settings.db_connections,
                       db_limits=DatabaseLimits(timeout_s=1))
    failed, _ = run(("warehouse", "query", None, "SELECT o.* FROM orders_app o, pg_sleep(3)"), hurried)
    assert failed["key"] is dash.no_update and "longer than the 1 s limit" in text_of(failed["error"])

    add_a_later_line(postgres, "orders_app")
    refreshed, steps = run(table)
    assert refreshed["key"] not in (None, first["key"])
    assert "Reading orders_app on warehouse: 5,001 rows" in steps

    for secret in (postgres.password, wrong_password):
        assert secret not in caplog.text
        stored = [p for p in Path(settings.cache_dir).rglob("*") if p.is_file()]
        assert stored and not [p for p in stored if secret.encode() in p.read_bytes()]
