"""Command line: ``python -m analytics run INPUT [--table T | --query SQL] [--out DIR] [--as-of YYYY-MM-DD] [--map canonical=Source ...]``.

INPUT is a file, an embedded dataset, or, with ``--table`` or ``--query``, a database: a SQLAlchemy URL or
the name of a connection the environment configures (``RCT_DB_<NAME>=url``, see ``analytics.database``).
Writes ``customers.csv`` (one row per customer), ``quality.json`` (the cleaning report) and ``summary.json``
(parameters, counts, versions, model metrics). Bad input: exit status 2, one ``error:`` line on stderr, and no
output files at all.

``python -m analytics uplift INPUT --campaign FILE --sent-on YYYY-MM-DD --window-days N [--out DIR]``
measures a campaign test in the log and learns who responds: ``uplift.json`` (group sizes, rates, average
uplift with its interval, held-out Qini/AUUC, uplift by decile and per segment) and ``customers.csv``
(customer_id, group, outcome, revenue, predicted uplift from a model that did not see the customer).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

import analytics
from analytics import insights, pipeline
from analytics.datasets import DATASETS, load_dataset
from analytics.errors import DataError
from analytics.export import to_safe_csv
from analytics.loading import read_transactions
from analytics.params import AnalysisParams
from analytics.results import Results

if TYPE_CHECKING:
    from analytics.database import DatabaseSource

EXIT_BAD_INPUT = 2


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        canonical, sep, source = pair.partition("=")
        if not sep or not canonical or not source:
            raise DataError(f"--map {pair!r} is not of the form canonical=SourceColumn (e.g. customer_id=Client)")
        mapping[canonical.strip()] = source.strip()
    return mapping


def load_input(source: str, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """Canonical transactions from an embedded dataset's name or a file path."""
    if source in DATASETS and not Path(source).exists():
        return load_dataset(source)
    path = Path(source)
    if not path.exists():
        raise DataError(f"input {source!r} is neither a file nor an embedded dataset ({', '.join(DATASETS)})")
    return read_transactions(path, mapping=mapping)


def database_source(target: str, table: str | None, query: str | None) -> DatabaseSource:
    """The database source for INPUT: a configured connection's name, else a URL (never echoed: it may hold
    a password)."""
    # imported here: SQLAlchemy and sqlglot cost a file or dataset run about 0.3 s of imports for nothing
    from analytics.database import DatabaseSource, named_connections, parse_url

    connections = named_connections(os.environ)
    if target.lower() in connections:
        return DatabaseSource(connections[target.lower()], table=table, query=query, name=target.lower())
    if "://" not in target:
        known = ", ".join(connections) or "none are configured"
        raise DataError(f"{target!r} is neither a database URL nor a configured connection ({known}); "
                        f"connections come from RCT_DB_<NAME>=url environment variables")
    return DatabaseSource(parse_url(target), table=table, query=query)


def summary_of(results: Results, source: str) -> dict[str, Any]:
    """JSON-safe summary: source, parameters, counts, versions, timings and each model's metrics."""
    import numpy
    import scipy
    import sklearn

    return {
        "source": source,
        "as_of": results.as_of.isoformat(),
        "params": results.params.to_dict(),
        "analytics_version": results.analytics_version,
        "timings_s": dict(results.timings_s),
        "counts": {
            "rows_in": results.quality["rows_in"],
            "rows_kept": results.quality["rows_out"],
            "customers_modelled": int(len(results.customers)),
            "customers_excluded": results.quality["n_customers_excluded"],
            "segments": {str(k): int(v) for k, v in results.customers["segment"].value_counts().items()},
            "at_risk": insights.at_risk_summary(results),
        },
        "retention": results.retention.summary(),
        "versions": {
            "analytics": analytics.__version__,
            "pandas": pd.__version__,
            "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__,
            "scipy": scipy.__version__,
        },
        "models": results.model_summaries(),
    }


def write_outputs(results: Results, source: str, out: Path) -> None:
    """Write the three files into ``out`` atomically: all of them or none."""

    def write(staging: Path) -> None:
        to_safe_csv(results.customers.reset_index(), staging / "customers.csv")
        (staging / "quality.json").write_text(json.dumps({"source": source, **results.quality}, indent=2))
        (staging / "summary.json").write_text(json.dumps(summary_of(results, source), indent=2, default=str))

    _staged(out, write)


def _staged(out: Path, write) -> None:
    """``write(staging_dir)``, then move every file it wrote into ``out``: all of them or none."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".rct-", dir=out.parent))
    try:
        write(staging)
        out.mkdir(parents=True, exist_ok=True)
        for file in staging.iterdir():
            file.replace(out / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def run_uplift(args: argparse.Namespace) -> str:
    """The ``uplift`` command: returns the lines to print."""
    from analytics import cleaning
    from analytics.invoices import invoice_table
    from analytics.uplift import analyse_campaign, read_assignment

    params = AnalysisParams(as_of=args.as_of)
    assignment = read_assignment(Path(args.campaign))
    cleaned = cleaning.clean(load_input(args.input), as_of=params.as_of, net_returns=params.net_returns)
    # the invoice table, as the app keeps it (see analytics.invoices), so both give the same numbers
    analysis = analyse_campaign(invoice_table(cleaned.lines), assignment, args.sent_on, args.window_days, cleaned.as_of, params)

    def write(staging: Path) -> None:
        customers = analysis.customers.assign(outcome=analysis.customers["responded"].astype(int))
        to_safe_csv(customers[["group", "outcome", "revenue", "predicted_uplift"]], staging / "customers.csv")
        (staging / "uplift.json").write_text(json.dumps(analysis.to_dict(), indent=2))

    _staged(Path(args.out), write)
    m = analysis.measurement
    lines = [f"{g.group}: {g.customers:,} customers, response rate {g.response_rate:.1%}, "
             f"revenue per customer {g.revenue_per_customer:,.2f}" for g in (m.treatment, m.control)]
    rate, revenue = m.rate_uplift, m.revenue_uplift
    lines.append(f"uplift in response rate {rate.estimate * 100:+.1f} pp (95 % CI {rate.ci_low * 100:+.1f} to "
                 f"{rate.ci_high * 100:+.1f}, p = {rate.p_value:.3g}, "
                 f"{'significant' if rate.significant else 'not significant'})")
    lines.append(f"uplift in revenue per customer {revenue.estimate:+,.2f} (95 % CI {revenue.ci_low:+,.2f} to "
                 f"{revenue.ci_high:+,.2f}, p = {revenue.p_value:.3g}, "
                 f"{'significant' if revenue.significant else 'not significant'})")
    lines += [analysis.verdict, *(f"note: {n}" for n in analysis.notes)]
    lines.append(f"wrote {Path(args.out) / 'uplift.json'} and {Path(args.out) / 'customers.csv'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="analyse a transaction file, an embedded dataset or a database")
    run.add_argument("input", help=f"a CSV/XLSX/Parquet file, one of: {', '.join(DATASETS)}; with --table or "
                                   f"--query a database URL or connection name")
    source = run.add_mutually_exclusive_group()
    source.add_argument("--table", help="read this table or view of the database INPUT")
    source.add_argument("--query", help="read the rows of this single SELECT (or WITH ... SELECT) query")
    run.add_argument("--out", default="out", help="output directory (default: out)")
    run.add_argument("--as-of", default=None, help="analysis date YYYY-MM-DD (default: day after the last transaction)")
    run.add_argument("--map", action="append", default=[], metavar="canonical=Source",
                     help="column mapping override, repeatable (e.g. --map customer_id=Client)")
    uplift = commands.add_parser("uplift", help="measure a campaign test and learn who responds")
    uplift.add_argument("input", help=f"the transaction log: a file, or one of: {', '.join(DATASETS)}")
    uplift.add_argument("--campaign", required=True, help="assignment file (customer_id, group) CSV/XLSX/Parquet")
    uplift.add_argument("--sent-on", required=True, help="send date YYYY-MM-DD")
    uplift.add_argument("--window-days", required=True, help="response window after the send date, days")
    uplift.add_argument("--out", default="out", help="output directory (default: out)")
    uplift.add_argument("--as-of", default=None, help="analysis date YYYY-MM-DD (default: day after the last transaction)")
    args = parser.parse_args(argv)
    if args.command == "uplift":
        try:
            print(run_uplift(args))
        except DataError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        return 0
    try:
        params = AnalysisParams(as_of=args.as_of)
        if args.table is not None or args.query is not None:
            from analytics.database import DatabaseLimits, read_database

            database = database_source(args.input, args.table, args.query)
            label = database.label
            transactions = read_database(database, mapping=_mapping(args.map) or None,
                                         limits=DatabaseLimits.from_env(os.environ))
        else:
            label = args.input
            transactions = load_input(args.input, _mapping(args.map) or None)
        results = pipeline.run(transactions, params, source_name=label)
        write_outputs(results, label, Path(args.out))
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {len(results.customers):,} customers to {Path(args.out) / 'customers.csv'}")
    return 0
