"""Database sources on SQLite and DuckDB files, named connections, password masking and query checks.

(PostgreSQL, against a real server: test_database_postgres.py.)
"""

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import pipeline
from analytics.database import (DatabaseLimits, DatabaseSource, check_query, database_columns, list_tables,
                                masked, named_connections, parse_url, read_database)
from analytics.errors import DataError
from analytics.loading import read_transactions
from settings import Settings

ROWS = 4_000  # the first lines of the retail slice: enough customers for the whole pipeline


@pytest.fixture(scope="module")
def slice_csv(retail_slice_csv, tmp_path_factory):
    raw = pd.read_csv(retail_slice_csv, dtype=str, keep_default_na=False).head(ROWS)
    path = tmp_path_factory.mktemp("slice") / "slice.csv"
    raw.to_csv(path, index=False)
    return path


def _warehouse_frame(csv_path) -> pd.DataFrame:
    """The CSV's rows typed and renamed as a shop database would hold them."""
    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return pd.DataFrame({
        "order_ref": raw["InvoiceNo"], "sku": raw["StockCode"],
        "item_name": raw["Description"].mask(raw["Description"] == ""),
        "units": raw["Quantity"].astype(int), "ordered_at": pd.to_datetime(raw["InvoiceDate"]),
        "price_each": raw["UnitPrice"].astype(float),
        "client": pd.to_numeric(raw["CustomerID"], errors="coerce").astype("Int64"), "nation": raw["Country"],
    })


MAPPING = {"invoice_id": "order_ref", "invoice_date": "ordered_at"}


@pytest.fixture(scope="module")
def sqlite_file(slice_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "shop.db"
    with sqlite3.connect(path) as connection:
        _warehouse_frame(slice_csv).to_sql("orders", connection, index=False)
    return path


@pytest.fixture(scope="module")
def duckdb_file(slice_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("duckdb") / "shop.duckdb"
    frame = _warehouse_frame(slice_csv)  # noqa: F841 (read by DuckDB's replacement scan)
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE orders AS SELECT order_ref, sku, item_name, units, ordered_at, "
                           "CAST(price_each AS DECIMAL(12, 3)) AS price_each, client, nation FROM frame")
        connection.execute("CREATE SCHEMA sales")
        connection.execute("CREATE VIEW sales.france AS SELECT * FROM orders WHERE nation = 'France'")
    return path


@pytest.fixture(params=["sqlite", "duckdb"])
def shop(request, sqlite_file, duckdb_file) -> DatabaseSource:
    path = sqlite_file if request.param == "sqlite" else duckdb_file
    return DatabaseSource(parse_url(f"{request.param}:///{path}"), table="orders", name="shop")


def test_table_gives_the_same_canonical_frame_and_analysis_as_the_csv(shop, slice_csv):
    rows_seen = []
    frame = read_database(shop, mapping=MAPPING, limits=DatabaseLimits(chunk_rows=1_000), progress=rows_seen.append)
    from_csv = read_transactions(slice_csv)
    pd.testing.assert_frame_equal(frame, from_csv[frame.columns], check_dtype=False, check_exact=True)
    assert rows_seen == [1_000, 2_000, 3_000, 4_000]
    assert frame.attrs["loading"]["source"] == "orders on shop"
    ours, theirs = pipeline.run(frame).customers, pipeline.run(from_csv).customers
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_query_columns_tables_and_views(shop, duckdb_file):
    query = DatabaseSource(shop.url, query="SELECT client, order_ref AS invoice, ordered_at, units, price_each "
                                           "FROM orders WHERE nation <> 'United Kingdom';", name="shop")
    assert database_columns(query) == ["client", "invoice", "ordered_at", "units", "price_each"]
    frame = read_database(query, mapping={"invoice_date": "ordered_at"})
    assert len(frame) > 0 and set(frame.columns) >= {"customer_id", "invoice_id", "quantity", "unit_price"}
    assert "orders" in list_tables(shop.url)
    assert "sales.france" in list_tables(parse_url(f"duckdb:///{duckdb_file}"))
    france = read_database(DatabaseSource(parse_url(f"duckdb:///{duckdb_file}"), table="sales.france"),
                           mapping=MAPPING)
    assert set(france["country"].unique()) == {"France"}


def test_errors_are_one_clear_message(shop, tmp_path):
    def error(**kw) -> str:
        limits = kw.pop("limits", DatabaseLimits())
        with pytest.raises(DataError) as caught:
            read_database(DatabaseSource(shop.url, name="shop", **kw), mapping=MAPPING, limits=limits)
        return str(caught.value)

    assert "no table or view named 'ordres'" in error(table="ordres")
    assert "no such table" in error(query="SELECT * FROM ordres")
    assert "syntax error" in error(query="SELECT * FROM orders WHERE")
    assert "tries to write (UPDATE)" in error(query="WITH x AS (SELECT 1) UPDATE orders SET units = 0")
    assert "must start with SELECT or WITH" in error(query="PRAGMA query_only = OFF")
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    assert "longer than the 0.5 s limit" in error(query=slow, limits=DatabaseLimits(timeout_s=0.5))
    assert "more than 1,500 rows" in error(table="orders", limits=DatabaseLimits(max_rows=1_500, chunk_rows=1_000))
    assert "returned no rows" in error(query="SELECT * FROM orders WHERE 1 = 0")
    missing = DatabaseSource(parse_url(f"{shop.backend}:///{tmp_path / 'nope.db'}"), table="orders", name="gone")
    with pytest.raises(DataError, match="database file of gone does not exist: nope.db"):
        read_database(missing)


def test_the_session_itself_is_read_only(sqlite_file, duckdb_file):
    """Below the query check: the connection the reader opens refuses writes."""
    from analytics.database import _duckdb_connection, _sqlalchemy_connection

    sqlite = DatabaseSource(parse_url(f"sqlite:///{sqlite_file}"), table="orders")
    with _sqlalchemy_connection(sqlite, DatabaseLimits()) as connection:
        with pytest.raises(Exception, match="readonly|read-only|query_only"):
            connection.exec_driver_sql("DELETE FROM orders")
    duck = DatabaseSource(parse_url(f"duckdb:///{duckdb_file}"), table="orders")
    with _duckdb_connection(duck, DatabaseLimits()) as connection:
        with pytest.raises(duckdb.Error, match="read-only"):
            connection.execute("DELETE FROM orders")
    with sqlite3.connect(sqlite_file) as connection:
        assert connection.execute("SELECT count(*) FROM orders").fetchone()[0] == ROWS


@pytest.mark.parametrize("query", [
    "SELECT 1; SELECT 2", "INSERT INTO t VALUES (1)", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "SELECT * INTO u FROM t", "CREATE TABLE u AS SELECT 1", "  ", "-- just a comment",
])
def test_check_query_refuses_anything_but_one_reading_statement(query):
    with pytest.raises(DataError):
        check_query(query, "postgres")


def test_check_query_keeps_one_statement_without_its_semicolon():
    assert check_query("  SELECT ';' AS x FROM t; -- done", "postgres") == "SELECT ';' AS x FROM t"
    assert check_query("WITH a AS (SELECT 1) SELECT * FROM a", "sqlite") == "WITH a AS (SELECT 1) SELECT * FROM a"


def test_named_connections_from_environment_and_file(tmp_path):
    config = tmp_path / "connections.toml"
    config.write_text('[connections]\nwarehouse = "postgresql://u:file-pw@db.internal/shop"\n'
                      f'local = "sqlite:///{tmp_path}/a.db"\n')
    found = named_connections({"RCT_CONNECTIONS_FILE": str(config),
                               "RCT_DB_WAREHOUSE": "postgresql://u:env-Pw@db.example/shop", "OTHER": "x"})
    assert sorted(found) == ["local", "warehouse"]
    assert found["warehouse"].host == "db.example"  # the environment wins
    assert found["warehouse"].drivername == "postgresql+psycopg"
    assert masked(found["warehouse"]) == "postgresql+psycopg://u:***@db.example/shop"
    with pytest.raises(DataError, match="RCT_DB_BAD uses 'mysql'"):
        named_connections({"RCT_DB_BAD": "mysql://u:p@h/db"})
    with pytest.raises(DataError) as caught:
        named_connections({"RCT_DB_BROKEN": "not a url with p4ssw0rd"})
    assert "RCT_DB_BROKEN" in str(caught.value) and "p4ssw0rd" not in str(caught.value)


def test_settings_never_show_a_password(monkeypatch, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    config = tmp_path / "connections.toml"
    config.write_text('[connections]\nlake = "duckdb:///srv/lake.duckdb"\n'
                      'archive = "postgresql://u:File-Secret@db.example/archive"\n')
    monkeypatch.setenv("RCT_CONNECTIONS_FILE", str(config))
    monkeypatch.setenv("RCT_DB_WAREHOUSE", "postgresql://u:Top-Secret@db.example/shop")
    monkeypatch.setenv("RCT_QUERY_TIMEOUT_S", "30")
    monkeypatch.setenv("RCT_QUERY_MAX_ROWS", "1000000")
    settings = Settings.from_env()
    assert list(settings.db_connections) == ["archive", "lake", "warehouse"]
    assert (settings.db_limits.timeout_s, settings.db_limits.max_rows) == (30, 1_000_000)
    for secret in ("Top-Secret", "File-Secret"):
        assert secret not in repr(settings) and secret not in str(settings.db_connections)
    source = DatabaseSource(settings.db_connections["warehouse"], table="orders", name="warehouse")
    assert "Top-Secret" not in repr(source) and source.label == "orders on warehouse"
    unnamed = DatabaseSource(settings.db_connections["warehouse"], table="orders")
    assert unnamed.label == "orders on postgresql+psycopg://u:***@db.example/shop"
    assert "Top-Secret" not in caplog.text


def test_a_server_without_databases_never_loads_sqlalchemy(tmp_path):
    """Settings and the whole app are built in every worker: SQLAlchemy and sqlglot load only where a database
    connection is configured (a fresh interpreter, since this test process has loaded them already)."""
    probe = ("import sys; import app; from settings import Settings; "
             "app.create_app(Settings.from_env()); "
             "print(sorted(m for m in ('sqlalchemy', 'sqlglot') if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCT_DB_", "RCT_CONNECTIONS"))}
    env["RCT_CACHE_DIR"] = str(tmp_path)

    def run(extra: dict) -> str:
        return subprocess.run([sys.executable, "-c", probe], env=env | extra, capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parents[2]).stdout.strip()

    assert run({}) == "[]"
    assert run({"RCT_DB_LOCAL": f"sqlite:///{tmp_path}/a.db"}) == "['sqlalchemy', 'sqlglot']"


def test_cli_database_errors_are_one_line_without_the_password(sqlite_file, tmp_path, capsys, monkeypatch):
    from analytics.cli import main

    monkeypatch.setenv("RCT_DB_SHOP", f"sqlite:///{sqlite_file}")
    out = tmp_path / "out"
    cases = [
        (["nope", "--table", "orders"], "neither a database URL nor a configured connection (shop)"),
        (["shop", "--table", "ordres"], "no table or view named 'ordres'"),
        (["shop", "--query", "DELETE FROM orders"], "must start with SELECT or WITH"),
        (["postgresql://u:Cli-Secret@127.0.0.1:1/db", "--table", "orders"], "cannot connect to the database server"),
    ]
    for args, expected in cases:
        assert main(["run", *args, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and expected in err and err.count("\n") == 1
        assert "Cli-Secret" not in err
    assert not out.exists()
    assert main(["run", "shop", "--table", "orders", "--map", "invoice_id=order_ref", "--map",
                 "invoice_date=ordered_at", "--out", str(out)]) == 0
    assert (out / "customers.csv").exists()
