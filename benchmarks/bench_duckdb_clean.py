"""Out-of-core cleaning measured: the cleaning rules and the invoice table as DuckDB SQL straight over the
Parquet file, against the product's path (pyarrow reader -> pandas canonical frame -> ``cleaning.clean`` ->
``invoice_table``), each in a fresh process: CPU seconds, peak RSS, and whether the quality counts agree.

This is the measurement behind the decision written in ``analytics/loading.py``; the SQL covers the
synthetic log's typed Parquet columns only (numeric customer ids, timestamp dates), not the loader's value
parsing (text dates in any layout, decimal commas, bad-value tolerance with row numbers), which is why it is
a benchmark and not the product's path.

    .venv/bin/python benchmarks/bench_duckdb_clean.py [--rows 1000000,10000000] [--memory-limit 1GB]
    .venv/bin/python benchmarks/bench_duckdb_clean.py --rows 100000000 --sql-only   # out of core

``--rows 100000000`` first writes a 100M-line Parquet file (about 0.8 GB) as ten copies of the 10M-line log,
each with its own customers and invoices (ids offset per copy), by DuckDB in a few minutes; ``--sql-only``
skips the pandas path, which cannot hold 100M lines on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES = ["after_as_of", "missing_date", "unreadable_number", "duplicate", "missing_customer",
         "non_positive_price", "zero_quantity", "non_product", "returns"]


def usage() -> dict:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": round(u.ru_utime + u.ru_stime, 2), "peak_mb": round(u.ru_maxrss / 1024)}


def sql_clean(path: str, memory_limit: str) -> dict:
    """Quality counts and the invoice table by SQL over the file; the invoice table lands in pandas."""
    import duckdb

    from analytics.cleaning import DEFAULT_NON_PRODUCT_CODES

    exact = [c.upper() for c in DEFAULT_NON_PRODUCT_CODES if not c.endswith("*")]
    prefixes = [c[:-1].upper() for c in DEFAULT_NON_PRODUCT_CODES if c.endswith("*")]
    non_product = " OR ".join([f"upper(stock) IN ({', '.join(repr(c) for c in exact)})"]
                              + [f"starts_with(upper(stock), {p!r})" for p in prefixes])
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {os.cpu_count()}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{Path(path).parent / 'duckdb_spill'}'")  # spills past the limit
    start = time.perf_counter()
    con.execute(f"""
        CREATE TEMP VIEW canonical AS SELECT
            row_number() OVER () AS row_no,
            nullif(CASE WHEN CustomerID = floor(CustomerID) THEN CAST(CAST(CustomerID AS BIGINT) AS VARCHAR)
                        ELSE CAST(CustomerID AS VARCHAR) END, '') AS customer,
            nullif(trim(InvoiceNo), '') AS invoice, InvoiceDate AS day_time,
            CAST(Quantity AS DOUBLE) AS qty, CAST(UnitPrice AS DOUBLE) AS price,
            nullif(trim(StockCode), '') AS stock, Description AS description, nullif(trim(Country), '') AS country
        FROM read_parquet('{path}')""")
    as_of = con.execute("SELECT date_trunc('day', max(day_time)) + INTERVAL 1 DAY FROM canonical").fetchone()[0]
    con.execute(f"""
        CREATE TEMP TABLE flagged AS SELECT customer, invoice, day_time, qty * price AS revenue,
            (starts_with(upper(invoice), 'C') OR qty < 0) AS is_return,
            CASE WHEN day_time >= TIMESTAMP '{as_of}' THEN 'after_as_of'
                 WHEN day_time IS NULL THEN 'missing_date'
                 WHEN qty IS NULL OR price IS NULL OR NOT isfinite(qty) OR NOT isfinite(price)
                      THEN 'unreadable_number'
                 WHEN row_number() OVER (PARTITION BY customer, invoice, day_time, qty, price, stock, description,
                                         country ORDER BY row_no) > 1 THEN 'duplicate'
                 WHEN customer IS NULL THEN 'missing_customer'
                 WHEN NOT (price > 0) THEN 'non_positive_price'
                 WHEN NOT (abs(qty) > 0) THEN 'zero_quantity'
                 WHEN {non_product} THEN 'non_product'
                 ELSE NULL END AS taken_by
        FROM canonical""")
    removed = dict(con.execute("SELECT taken_by, count(*) FROM flagged WHERE taken_by IS NOT NULL GROUP BY 1")
                   .fetchall())
    con.execute("""
        CREATE TEMP TABLE kept AS
        WITH net AS (SELECT customer, sum(revenue) AS net FROM flagged WHERE taken_by IS NULL GROUP BY 1)
        SELECT f.customer, f.invoice, f.day_time, f.is_return, f.revenue FROM flagged f JOIN net USING (customer)
        WHERE f.taken_by IS NULL AND net.net > 1e-6""")
    counts = con.execute("""SELECT (SELECT count(*) FROM flagged),
        (SELECT count(*) FROM flagged WHERE taken_by IS NULL) - (SELECT count(*) FROM kept),
        (SELECT count(*) FROM kept), (SELECT count(DISTINCT customer) FROM kept),
        (SELECT count(DISTINCT invoice) FROM kept)""").fetchone()
    invoices = con.execute("""
        SELECT customer AS customer_id, invoice AS invoice_id, day_time AS invoice_date, is_return,
               sum(revenue) AS revenue
        FROM kept GROUP BY ALL ORDER BY invoice_date, customer_id, invoice_id""").df()
    seconds = time.perf_counter() - start
    return {"engine": "duckdb_sql", "seconds": round(seconds, 2), **usage(), "rows_in": counts[0],
            "rows_removed": {r: int(removed.get(r, 0)) for r in RULES[:-1]},
            "non_positive_customer": counts[1], "rows_out": counts[2], "customers_out": counts[3],
            "invoices_out": counts[4], "invoice_rows": len(invoices)}


def pandas_clean(path: str, memory_limit: str) -> dict:
    """The product's path on the same file."""
    from analytics.cleaning import clean
    from analytics.invoices import invoice_table
    from analytics.loading import read_transactions

    start = time.perf_counter()
    cleaned = clean(read_transactions(path))
    invoices = invoice_table(cleaned.lines)
    seconds = time.perf_counter() - start
    report = cleaned.report
    taken = dict(zip(report.rules["rule"], report.rules["rows_removed"]))
    return {"engine": "pandas", "seconds": round(seconds, 2), **usage(), "rows_in": report.rows_in,
            "rows_removed": {r: int(taken[r]) for r in RULES[:-1]},
            "non_positive_customer": int(taken["non_positive_customer"]), "rows_out": report.rows_out,
            "customers_out": report.customers_out, "invoices_out": report.invoices_out,
            "invoice_rows": len(invoices)}


def hundred_million(folder: Path) -> Path:
    """Ten copies of the 10M-line log, customers offset by 10 million and invoices suffixed per copy."""
    import duckdb

    path = folder / "synthetic_100000000.parquet"
    source = folder / "synthetic_10000000.parquet"
    if path.exists() or not source.exists():
        return path
    print(f"writing {path} from ten copies of {source.name} ...", flush=True)
    partial = path.with_suffix(".part")
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    con.execute(f"""COPY (SELECT InvoiceNo || '-' || k AS InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
                                UnitPrice, CustomerID + k * 10000000 AS CustomerID, Country
                         FROM read_parquet('{source}'), range(10) AS copies(k))
                    TO '{partial}' (FORMAT PARQUET, ROW_GROUP_SIZE 1000000)""")
    partial.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=["duckdb_sql", "pandas"])
    parser.add_argument("--path")
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--data", default=os.environ.get("RCT_BENCH_DIR", "/tmp/rct-bench"))
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--sql-only", action="store_true", help="skip the pandas path (for 100M lines)")
    args = parser.parse_args()
    if args.one:
        runner = sql_clean if args.one == "duckdb_sql" else pandas_clean
        print(json.dumps(runner(args.path, args.memory_limit)))
        return
    for rows in args.rows.split(","):
        path = (hundred_million(Path(args.data)) if int(rows) == 100_000_000
                else Path(args.data) / f"synthetic_{rows}.parquet")
        if not path.exists():
            print(f"({path} not found: run benchmarks/bench_scale.py first to generate it)")
            continue
        found = {}
        for engine in ("duckdb_sql",) if args.sql_only else ("duckdb_sql", "pandas"):
            done = subprocess.run([sys.executable, __file__, "--one", engine, "--path", str(path),
                                   "--memory-limit", args.memory_limit], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"{engine} failed on {path}:\n{done.stderr[-3000:]}")
            found[engine] = json.loads(done.stdout.strip().splitlines()[-1])
            row = found[engine]
            print(f"{path.name:28s} {engine:10s} wall {row['seconds']:7.2f} s  cpu {row['cpu_s']:7.2f} s  "
                  f"peak {row['peak_mb']:6d} MB  rows out {row['rows_out']:,}  invoices {row['invoice_rows']:,}",
                  flush=True)
        if args.sql_only:
            continue
        same = {k: found["duckdb_sql"][k] == found["pandas"][k]
                for k in ("rows_in", "rows_removed", "non_positive_customer", "rows_out", "customers_out",
                          "invoices_out", "invoice_rows")}
        print(f"  counts equal: {all(same.values())} {'' if all(same.values()) else same}")
        if not all(same.values()):
            print("  duckdb:", found["duckdb_sql"]); print("  pandas:", found["pandas"])
    print(f"load average: {os.getloadavg()} on {os.cpu_count()} cores; DuckDB memory_limit {args.memory_limit}")


if __name__ == "__main__":
    main()
