"""Reading transactions from a database: Online Retail (542k lines, else a 500k-line synthetic log) as a
table in PostgreSQL, SQLite and DuckDB, streamed in chunks into the canonical frame, against the same rows
from a CSV. Prints wall and CPU seconds (the reading process's), rows per second and each case's peak memory
(every case in its own process).

The tables use warehouse column names and types (see tests/postgres_server.py); loading them is not timed.
PostgreSQL is the real server started as in the tests (initdb/pg_ctl on a free port), skipped when absent.
The connection reaches each case through ``RCT_DB_<NAME>`` in the environment, never on a command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from _harness import ONLINE_RETAIL, ROOT, in_subprocess, peak_rss_mb, report, timed

SYNTHETIC_ROWS = 500_000
CHUNK_ROWS = 50_000


def run_case(case: str, path: str) -> dict:
    from analytics.database import DatabaseLimits, DatabaseSource, named_connections, read_database
    from analytics.loading import read_transactions
    from tests.postgres_server import ORDERS_MAPPING

    cpu = time.process_time()
    if case == "csv":
        seconds, frame = timed(lambda: read_transactions(Path(path)))
    else:
        url = named_connections(os.environ)[case]
        source = DatabaseSource(url, table="orders", name=case)
        seconds, frame = timed(lambda: read_database(source, mapping=ORDERS_MAPPING,
                                                     limits=DatabaseLimits(chunk_rows=CHUNK_ROWS)))
    # this process's CPU only: PostgreSQL's own work happens in its server process
    return {"rows": len(frame), "read_s": round(seconds, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "rows_per_s": f"{len(frame) / seconds:,.0f}", "peak_mb": round(peak_rss_mb())}


def _warehouse_frame(csv_path: Path):
    import pandas as pd

    from tests.postgres_server import ORDERS_COLUMNS

    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame = pd.DataFrame({new: raw[old] for old, (new, _) in ORDERS_COLUMNS.items()})
    frame["item_name"] = frame["item_name"].mask(frame["item_name"] == "")
    frame["units"] = frame["units"].astype(int)
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    frame["price_each"] = frame["price_each"].astype(float)
    frame["client"] = pd.to_numeric(frame["client"], errors="coerce").astype("Int64")
    return frame


def setup(folder: Path) -> dict:
    """Write the CSV, the SQLite and DuckDB files and fill PostgreSQL (in its own process: a parent holding
    the data would pass its peak memory on to every case it starts)."""
    import duckdb
    import sqlalchemy as sa

    from tests import postgres_server

    csv = folder / "lines.csv"
    if ONLINE_RETAIL.exists():
        import pandas as pd

        pd.read_csv(ONLINE_RETAIL, dtype=str, keep_default_na=False).to_csv(csv, index=False)
    else:
        from analytics.synthetic import generate_retail

        generate_retail(SYNTHETIC_ROWS, seed=1).to_csv(csv, index=False)
    frame = _warehouse_frame(csv)
    with sqlite3.connect(folder / "shop.db") as connection:
        frame.to_sql("orders", connection, index=False)
    with duckdb.connect(str(folder / "shop.duckdb")) as connection:
        connection.execute("CREATE TABLE orders AS SELECT * EXCLUDE (price_each), "
                           "CAST(price_each AS DECIMAL(12, 3)) AS price_each FROM frame")
    if "RCT_DB_POSTGRESQL" in os.environ:
        url = sa.make_url(os.environ["RCT_DB_POSTGRESQL"])
        server = postgres_server.PostgresServer(url.host, url.port, url.username, url.password, url.database)
        postgres_server.load_orders(server, csv)
    return {"rows": len(frame)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.case == "setup":
        print(json.dumps(setup(Path(args.path))))
        return
    if args.case:
        print(json.dumps({"case": args.case, **run_case(args.case, args.path)}))
        return
    from tests import postgres_server

    if not ONLINE_RETAIL.exists():
        print(f"(Online Retail not found at {ONLINE_RETAIL}; a {SYNTHETIC_ROWS:,}-line synthetic log instead)")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        os.environ["RCT_DB_SQLITE"] = f"sqlite:///{folder / 'shop.db'}"
        os.environ["RCT_DB_DUCKDB"] = f"duckdb:///{folder / 'shop.duckdb'}"
        cases = ["csv", "sqlite", "duckdb"]
        stop = None
        if (bin_dir := postgres_server.binaries()) is not None:
            server, stop = postgres_server.start(bin_dir)
            os.environ["RCT_DB_POSTGRESQL"] = server.url()
            cases.append("postgresql")
        else:
            print("(PostgreSQL not installed; its case skipped)")
        try:
            in_subprocess(Path(__file__), "setup", "--path", str(folder))
            rows = [in_subprocess(Path(__file__), case, "--path", str(folder / "lines.csv")) for case in cases]
        finally:
            if stop:
                stop()
    report(rows, ["case", "rows", "read_s", "cpu_s", "rows_per_s", "peak_mb"])
    print(f"database cases stream {CHUNK_ROWS:,} rows per chunk; the CSV case reads the whole file at once")


if __name__ == "__main__":
    main()
