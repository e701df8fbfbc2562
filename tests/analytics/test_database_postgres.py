"""Database source against a real PostgreSQL server (started by the ``postgres`` fixture, tests/conftest.py).

The table ``orders`` holds real Online Retail lines (synthetic ones when the real file is absent) under
warehouse column names and types; reading it must give exactly what reading the same rows from a CSV gives.
"""

import dataclasses
import fcntl
import json
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from analytics import pipeline
from analytics.cache import ResultsCache
from analytics.cli import main
from analytics.database import DatabaseLimits, DatabaseSource, list_tables, parse_url, read_database
from analytics.errors import DataError
from analytics.loading import read_transactions
from analytics.params import AnalysisParams
from tests.postgres_server import ORDERS_MAPPING, add_a_later_line, load_orders

ROOT = Path(__file__).parents[2]


def _source(postgres, **kw) -> DatabaseSource:
    return DatabaseSource(parse_url(postgres.url()), name="warehouse", **kw)


def test_table_reads_as_the_same_canonical_frame_as_the_csv(postgres, postgres_orders, retail_slice_csv):
    rows_seen = []
    frame = read_database(_source(postgres, table=postgres_orders), mapping=ORDERS_MAPPING,
                          limits=DatabaseLimits(chunk_rows=5_000), progress=rows_seen.append)
    from_csv = read_transactions(retail_slice_csv)
    assert len(frame) == len(from_csv) > 10_000
    # (the same values; a categorical's category order is each reader's own, and cleaning orders them anew)
    pd.testing.assert_frame_equal(frame, from_csv[frame.columns], check_dtype=False, check_exact=True,
                                  check_categorical=False)
    # streamed in chunks of 5,000 rows, progress after each
    assert len(rows_seen) == -(-len(frame) // 5_000)
    assert rows_seen == sorted(rows_seen) and rows_seen[-1] == len(frame) and rows_seen[0] == 5_000
    loading = frame.attrs["loading"]
    assert loading["source"] == "orders on warehouse" and loading["mapping"]["invoice_id"] == "order_ref"
    assert loading["mapping"]["customer_id"] == "client"  # detected by alias, as for a file


def test_cli_on_the_table_writes_the_same_customers_csv_as_the_csv(postgres, postgres_orders, retail_slice_csv,
                                                                   tmp_path, monkeypatch):
    monkeypatch.setenv("RCT_DB_WAREHOUSE", postgres.url())
    assert main(["run", str(retail_slice_csv), "--out", str(tmp_path / "csv")]) == 0
    assert main(["run", "warehouse", "--table", "orders", "--map", "invoice_id=order_ref",
                 "--map", "invoice_date=ordered_at", "--out", str(tmp_path / "db")]) == 0
    from_db = (tmp_path / "db" / "customers.csv").read_bytes()
    assert from_db == (tmp_path / "csv" / "customers.csv").read_bytes()
    assert from_db.count(b"\n") > 300
    assert '"source": "orders on warehouse"' in (tmp_path / "db" / "quality.json").read_text()
    # a URL on the command line works too; the summary names it with the password hidden
    query = "SELECT * FROM orders WHERE nation = 'France'"
    assert main(["run", postgres.url(), "--query", query, "--map", "invoice_id=order_ref",
                 "--map", "invoice_date=ordered_at", "--out", str(tmp_path / "url")]) == 0
    summary = (tmp_path / "url" / "summary.json").read_text()
    assert postgres.password not in summary and f"query on postgresql+psycopg://{postgres.user}:***@" in summary


def _error(postgres, limits=DatabaseLimits(), url=None, **kw) -> str:
    source = DatabaseSource(parse_url(url or postgres.url()), name="warehouse", **kw)
    with pytest.raises(DataError) as caught:
        read_database(source, mapping=ORDERS_MAPPING, limits=limits)
    message = str(caught.value)
    assert postgres.password not in message
    return message


def test_wrong_password_is_one_clear_message_without_the_password(postgres, postgres_orders, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = postgres.url(password="not-the-Pw")
    message = _error(postgres, url=wrong, table="orders")
    assert "refused the configured user name or password" in message and "warehouse" in message
    assert "not-the-Pw" not in message and "not-the-Pw" not in caplog.text
    # without a connection name the label is the masked URL
    unnamed = DatabaseSource(parse_url(wrong), table="orders")
    with pytest.raises(DataError) as caught:
        read_database(unnamed)
    assert "not-the-Pw" not in str(caught.value) and ":***@" in str(caught.value)


def test_missing_table_and_missing_table_in_a_query(postgres, postgres_orders):
    message = _error(postgres, table="ordres")
    assert "no table or view named 'ordres'" in message and "orders" in message  # lists what exists
    message = _error(postgres, query="SELECT * FROM ordres")
    assert "has no such table" in message and "ordres" in message


def test_queries_that_write_are_refused_and_nothing_changes(postgres, postgres_orders):
    before = len(read_database(_source(postgres, table="orders"), mapping=ORDERS_MAPPING))
    # caught before it reaches the server (a data-modifying CTE, a second statement, SELECT INTO)
    assert "tries to write (DELETE)" in _error(
        postgres, query="WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone")
    assert "2 statements" in _error(postgres, query="SELECT * FROM orders; DROP TABLE orders")
    assert "must start with SELECT or WITH" in _error(postgres, query="DELETE FROM orders")
    assert "SELECT ... INTO" in _error(postgres, query="SELECT * INTO copied FROM orders")
    # and stopped by the read-only session itself: row locks and sequence changes are writes to PostgreSQL
    assert "tries to write to warehouse" in _error(postgres, query="SELECT * FROM orders FOR UPDATE")
    with psycopg.connect(postgres.url().replace("+psycopg", "")) as connection:
        connection.execute("CREATE SEQUENCE IF NOT EXISTS order_numbers")
    assert "tries to write to warehouse" in _error(postgres, query="SELECT nextval('order_numbers')")
    # turning the transaction read-write is refused too: the columns were read in it first
    assert "tries to write to warehouse" in _error(
        postgres, query="SELECT set_config('transaction_read_only', 'off', true), nextval('order_numbers')")
    assert len(read_database(_source(postgres, table="orders"), mapping=ORDERS_MAPPING)) == before


def test_timeout_syntax_error_refused_connection_and_row_cap(postgres, postgres_orders):
    message = _error(postgres, limits=DatabaseLimits(timeout_s=1),
                     query="SELECT o.* FROM orders o, pg_sleep(5)")
    assert "longer than the 1 s limit" in message
    assert "syntax error" in _error(postgres, query="SELECT FROM WHERE orders")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    refused = postgres.url().replace(f":{postgres.port}/", f":{closed}/")
    message = _error(postgres, url=refused, table="orders")
    assert message.startswith("cannot connect to the database server of warehouse")
    message = _error(postgres, limits=DatabaseLimits(max_rows=1_000, chunk_rows=400), table="orders")
    assert "more than 1,000 rows" in message and "RCT_QUERY_MAX_ROWS" in message


def test_list_tables_for_the_dropdown(postgres, postgres_orders):
    assert "orders" in list_tables(parse_url(postgres.url()))


def test_unchanged_table_is_a_cache_hit_and_new_rows_are_picked_up(postgres, retail_slice_csv, tmp_path):
    load_orders(postgres, retail_slice_csv, "orders_refresh")
    cache = ResultsCache(tmp_path / "cache")
    source = _source(postgres, table="orders_refresh")
    params = AnalysisParams()

    def run() -> tuple[str, list[str]]:
        messages = []
        key = pipeline.run_cached(lambda: read_database(source, mapping=ORDERS_MAPPING), params, cache,
                                  source_name=source.label, progress=lambda f, m: messages.append(m))
        return key, messages

    first, fitted = run()
    again, hit = run()
    assert again == first
    assert any("Fitting" in m for m in fitted) and not any("Fitting" in m for m in hit)
    assert cache.get(first).source == "orders_refresh on warehouse"
    add_a_later_line(postgres, "orders_refresh")
    refreshed, _ = run()
    assert refreshed != first


def test_columns_of_a_slow_query_come_without_running_it(postgres, postgres_orders):
    from analytics.database import database_columns

    slow = _source(postgres, query="SELECT o.client, o.units FROM orders o, pg_sleep(30)")
    assert database_columns(slow, DatabaseLimits(timeout_s=5)) == ["client", "units"]


def _readme_cron_command() -> str:
    """The command of the README's nightly cron line (its five schedule fields dropped)."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```cron\n", 1)[1].split("```", 1)[0]
    (line,) = [row for row in block.splitlines() if row.strip()]
    return line.split(maxsplit=5)[5]


def test_the_readme_cron_line_refreshes_nightly(postgres, retail_slice_csv, tmp_path):
    """The README's cron line, run by a shell as cron would (its paths moved into a temporary directory), on a
    PostgreSQL database of its own: it writes the same customers.csv as the CSV of the same rows; a night with
    a wrong password fails with one logged line, no password, and yesterday's files intact; a night while the
    previous run still holds the lock is skipped; new rows are picked up the next night, and
    ``python -m analytics run "postgresql://..." --table orders`` gives the same file."""
    with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS nightly")
        connection.execute("CREATE DATABASE nightly")
    nightly = dataclasses.replace(postgres, database="nightly")
    head = tmp_path / "head.csv"
    pd.read_csv(retail_slice_csv, dtype=str, keep_default_na=False).head(5_000).to_csv(head, index=False)
    load_orders(nightly, head, "orders")

    url_file, lock, out, log = (tmp_path / name
                                for name in ("warehouse.url", "nightly.lock", "nightly", "nightly.log"))
    command = _readme_cron_command()
    for placeholder, here in {"cd /srv/rct": f"cd {ROOT}", "/etc/rct/warehouse.url": url_file,
                              "/tmp/rct-nightly.lock": lock, "/srv/rct/nightly": out,
                              "/var/log/rct-nightly.log": log}.items():
        assert placeholder in command
        command = command.replace(placeholder, str(here))
    cron_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"}  # what cron gives a job

    def night() -> int:
        return subprocess.run(["/bin/sh", "-c", command], env=cron_env, timeout=600, check=False).returncode

    plain = nightly.url().replace("+psycopg", "")  # as an administrator writes it, no driver named
    url_file.write_text(plain + "\n")
    assert night() == 0, log.read_text()
    assert main(["run", str(head), "--out", str(tmp_path / "csv")]) == 0
    first = (out / "customers.csv").read_bytes()
    assert first == (tmp_path / "csv" / "customers.csv").read_bytes() and first.count(b"\n") > 50

    url_file.write_text(nightly.url(password="Wrong-Night-Pw") + "\n")
    assert night() == 2
    failed = log.read_text().splitlines()[-1]
    assert failed.startswith("error: the database of warehouse refused the configured user name or password")
    assert (out / "customers.csv").read_bytes() == first

    url_file.write_text(plain + "\n")
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # last night's run is still going
        assert night() == 1
    assert (out / "customers.csv").read_bytes() == first

    add_a_later_line(nightly)
    assert night() == 0
    refreshed = (out / "customers.csv").read_bytes()
    assert refreshed != first
    assert json.loads((out / "summary.json").read_text())["counts"]["rows_in"] == 5_001
    text = log.read_text()
    assert text.count("wrote ") == 2 and "Wrong-Night-Pw" not in text and postgres.password not in text

    by_url = subprocess.run([sys.executable, "-m", "analytics", "run", plain, "--table", "orders",
                             "--map", "invoice_id=order_ref", "--map", "invoice_date=ordered_at",
                             "--out", str(tmp_path / "url")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert by_url.returncode == 0, by_url.stderr
    assert (tmp_path / "url" / "customers.csv").read_bytes() == refreshed
