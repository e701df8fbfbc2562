"""SQL databases as a data source: a table or one read-only query, streamed into the canonical frame.

A source is a SQLAlchemy URL (usually one of the server's named connections, ``RCT_DB_<NAME>=url``) plus a
table name or a single ``SELECT``/``WITH`` query. The raw columns go through the same mapping (aliases, user
overrides) and typing as a file (``analytics.loading.to_canonical``), so a table and a CSV of the same rows
give the same canonical frame and the same analysis.

Backends and why:

- **PostgreSQL** through SQLAlchemy + psycopg 3 (a plain ``postgresql://`` URL is sent to psycopg 3, the
  driver this project installs). Every session is read-only twice over: ``default_transaction_read_only``
  and ``statement_timeout`` are set in the connection's startup options, and the transaction starts with
  ``SET TRANSACTION READ ONLY``. Rows stream as ``COPY (query) TO STDOUT`` in CSV through psycopg's copy
  into Arrow's streaming CSV reader: several times faster than a server-side cursor, whose rows become
  Python objects (Decimal, datetime) one value at a time, and memory stays bounded by a block.
- **SQLite** through SQLAlchemy with the standard library driver, opened as a ``mode=ro`` URI plus
  ``PRAGMA query_only``; the timeout is a progress handler that interrupts the statement.
- **DuckDB** files through ``duckdb`` itself, not the third-party ``duckdb-engine`` dialect: the duckdb
  package (already the project's columnar engine) opens a file with ``read_only=True``, streams Arrow record
  batches, and can be interrupted for the timeout; one dependency fewer that must track duckdb releases.

Queries are checked with ``sqlglot`` (a maintained SQL parser, in the connection's dialect) rather than by
hand: exactly one statement, starting with SELECT or WITH, with no INSERT/UPDATE/DELETE/MERGE/DDL or
``SELECT ... INTO`` anywhere inside (a PostgreSQL data-modifying CTE is caught here; anything the parser does
not know is still stopped by the read-only session). Table names are never pasted into SQL: a table must be
one the database lists, and it is quoted by sqlglot for the dialect.

Credentials: a URL's password is never shown. Labels and messages use
``URL.render_as_string(hide_password=True)`` and every database message is scrubbed of the password before
it becomes a ``DataError``; cache keys are made from the data's content, never from the URL.
"""

from __future__ import annotations

import io
import math
import sqlite3
import threading
import time
import tomllib
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
import sqlglot
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool
from sqlglot import exp
from sqlglot.tokens import TokenType

from analytics.database_config import (CONNECTIONS_FILE_ENV, ENV_PREFIX, MAX_ROWS_ENV, TIMEOUT_ENV,
                                      DatabaseLimits)
from analytics.errors import DataError
from analytics.loading import to_canonical

__all__ = ["DatabaseLimits", "DatabaseSource", "named_connections", "parse_url", "masked", "list_tables",
           "database_columns", "read_database", "ENV_PREFIX", "CONNECTIONS_FILE_ENV"]

BACKENDS = {"postgresql": "postgres", "sqlite": "sqlite", "duckdb": "duckdb"}  # URL backend -> sqlglot dialect
# Statement kinds that change something; any of them inside a query rejects it.
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Into,
           exp.Command, exp.TruncateTable)
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}

RowsProgress = Callable[[int], None]


def masked(url: URL) -> str:
    """The URL as text with its password replaced by ``***`` (safe for logs, labels and messages)."""
    return url.render_as_string(hide_password=True)


def parse_url(text: str, where: str = "the database URL") -> URL:
    """A SQLAlchemy URL of a supported backend; the error never repeats the text (it may hold a password)."""
    try:
        url = sa.make_url(str(text).strip())
    except Exception:
        raise DataError(f"{where} is not a database URL (expected e.g. postgresql://user:password@host/db, "
                        f"sqlite:///path/file.db or duckdb:///path/file.duckdb)") from None
    backend = url.get_backend_name()
    if backend not in BACKENDS:
        raise DataError(f"{where} uses {backend!r}, which is not supported; use PostgreSQL, SQLite or DuckDB")
    if url.drivername == "postgresql":  # no driver named: SQLAlchemy 2.0 would pick psycopg2
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver this project installs
    if backend in ("sqlite", "duckdb") and not url.database:
        raise DataError(f"{where} names no database file (an in-memory database holds no data to read)")
    return url


def named_connections(environ: Mapping[str, str]) -> dict[str, URL]:
    """Connections the server offers by name: ``RCT_DB_<NAME>=url`` and ``[connections]`` in the TOML file
    ``RCT_CONNECTIONS_FILE`` (environment wins). Names are lower case; URLs are checked now, at start-up."""
    found: dict[str, tuple[str, str]] = {}  # name -> (url text, where it came from)
    config = environ.get(CONNECTIONS_FILE_ENV, "")
    if config:
        try:
            table = tomllib.loads(Path(config).read_text()).get("connections", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DataError(f"{CONNECTIONS_FILE_ENV}={config!r} cannot be read as TOML: {exc}") from None
        if not isinstance(table, dict):
            raise DataError(f"{config}: [connections] must be a table of name = \"url\"")
        for name, text in table.items():
            found[str(name).lower()] = (str(text), f"connection {name!r} in {config}")
    for variable, text in environ.items():
        if variable.startswith(ENV_PREFIX) and len(variable) > len(ENV_PREFIX) and text:
            name = variable[len(ENV_PREFIX):].lower()
            found[name] = (text, f"environment variable {variable}")
    return {name: parse_url(text, where) for name, (text, where) in sorted(found.items())}


@dataclass(frozen=True)
class DatabaseSource:
    """A table or a query on a database. ``name`` is the connection's name when it is a named connection."""

    url: URL = field(repr=False)
    table: str | None = None
    query: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise DataError("give either a table or a query, not both and not neither")
        if self.table is not None and not self.table.strip():
            raise DataError("the table name is empty: choose a table")
        if self.query is not None and not self.query.strip():
            raise DataError("the query is empty: type a SELECT query")

    @property
    def where(self) -> str:
        return self.name or masked(self.url)

    @property
    def label(self) -> str:
        """What the results say they show, e.g. ``orders on warehouse`` (never a password)."""
        return f"{self.table if self.table is not None else 'query'} on {self.where}"

    def __repr__(self) -> str:
        return f"DatabaseSource({self.label!r})"

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @property
    def dialect(self) -> str:
        return BACKENDS[self.backend]


# ------------------------------------------------------------------------------------------ statements


def check_query(query: str, dialect: str) -> str:
    """The query's text without a trailing ``;`` when it is one reading SELECT/WITH statement; else DataError."""
    try:
        tokens = sqlglot.tokenize(query, read=dialect)
    except sqlglot.errors.TokenError as exc:
        raise DataError(f"the query is not valid SQL: {exc}") from None
    statements: list[list] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [s for s in statements if s]
    if not statements:
        raise DataError("the query is empty: type a SELECT query")
    if len(statements) > 1:
        raise DataError(f"the query holds {len(statements)} statements; give exactly one SELECT (or WITH ... "
                        f"SELECT) statement")
    first = statements[0][0]
    if first.token_type not in (TokenType.SELECT, TokenType.WITH):
        raise DataError(f"only a reading query is allowed: it must start with SELECT or WITH, not "
                        f"{first.text.upper()!r}")
    text = query[first.start: statements[0][-1].end + 1]
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        return text  # syntax sqlglot does not know: the database judges it, inside a read-only session
    writes = tree.find(*_WRITES)
    if writes is not None:
        what = "SELECT ... INTO" if isinstance(writes, exp.Into) else type(writes).__name__.upper()
        raise DataError(f"the query tries to write ({what}); only reading queries are allowed")
    return text


def _table_sql(schema: str | None, table: str, dialect: str) -> str:
    return exp.select("*").from_(exp.table_(table, db=schema, quoted=True)).sql(dialect=dialect)


# ------------------------------------------------------------------------------------------ connections


def _scrub(text: str, url: URL) -> str:
    """A database message with the URL's password (and the URL itself) removed, first line only."""
    text = str(text).strip().splitlines()[0] if str(text).strip() else ""
    password = url.password
    if password:
        text = text.replace(url.render_as_string(hide_password=False), masked(url))
        text = text.replace(str(password), "***").replace(urllib.parse.quote(str(password), safe=""), "***")
    return text[:400]


def _explain(exc: BaseException, source: DatabaseSource, limits: DatabaseLimits) -> DataError:
    """One clear message per kind of failure (codes first, the database's own words when unknown)."""
    orig = getattr(exc, "orig", None) or exc
    message = _scrub(str(orig), source.url)
    lower = message.lower()
    state = getattr(orig, "sqlstate", None) or ""
    where = source.where
    if state in ("28P01", "28000") or "password authentication failed" in lower:
        return DataError(f"the database of {where} refused the configured user name or password; "
                         f"ask the administrator to check the connection's credentials")
    if state == "3D000":
        return DataError(f"{where}: {message}")
    if state in ("42P01", "3F000") or "no such table" in lower or "catalog error" in lower:
        return DataError(f"{where} has no such table or view: {message}")
    # 25001: a query that turns its transaction read-write ("read-write mode must be set before any query")
    if state in ("25006", "25001") or any(word in lower for word in
                                          ("read-only", "readonly", "query_only", "read-write")):
        return DataError(f"the query tries to write to {where} ({message}); only reading queries are allowed")
    if state == "57014" or "interrupt" in lower or "statement timeout" in lower:
        return DataError(f"the query on {where} ran longer than the {limits.timeout_s:g} s limit "
                         f"({TIMEOUT_ENV}) and was stopped; narrow it (e.g. a date range) or ask for a longer limit")
    if state == "42601" or any(w in lower for w in ("syntax error", "parser error", "incomplete input")):
        return DataError(f"the query has a syntax error: {message}")
    if state == "42501" or "permission denied" in lower:
        return DataError(f"{where}: the configured user may not read this ({message})")
    if state.startswith("08") or "connection refused" in lower or "could not connect" in lower \
            or "connection failed" in lower or "timeout expired" in lower or "could not translate" in lower:
        return DataError(f"cannot connect to the database server of {where}: {message}")
    if "unable to open" in lower or "no such file" in lower or "cannot open" in lower:
        return DataError(f"cannot open the database file of {where}: {message}")
    return DataError(f"the database {where} reported: {message}")


def _postgres_engine(url: URL, limits: DatabaseLimits) -> sa.Engine:
    timeout_ms = int(limits.timeout_s * 1000)
    options = f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}"
    return sa.create_engine(url, poolclass=NullPool, connect_args={
        "options": options, "connect_timeout": max(1, math.ceil(min(limits.timeout_s, 30)))})


def _sqlite_engine(source: DatabaseSource, limits: DatabaseLimits) -> sa.Engine:
    path = Path(source.url.database)
    if not path.is_file():
        raise DataError(f"the SQLite database file of {source.where} does not exist: {path.name}")
    deadline = [0.0]

    def connect() -> sqlite3.Connection:
        uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        connection.execute("PRAGMA query_only = ON")
        deadline[0] = time.monotonic() + limits.timeout_s
        # called every N virtual-machine steps; a true return interrupts the statement ("interrupted")
        connection.set_progress_handler(lambda: time.monotonic() > deadline[0], 10_000)
        return connection

    return sa.create_engine("sqlite://", creator=connect, poolclass=NullPool)


@contextmanager
def _sqlalchemy_connection(source: DatabaseSource, limits: DatabaseLimits) -> Iterator[sa.Connection]:
    if source.backend == "postgresql":
        engine = _postgres_engine(source.url, limits)
    else:
        engine = _sqlite_engine(source, limits)
    try:
        with engine.connect() as connection:
            if source.backend == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection
            connection.rollback()  # nothing was written; end the read-only transaction cleanly
    finally:
        engine.dispose()


@contextmanager
def _duckdb_connection(source: DatabaseSource, limits: DatabaseLimits):
    import duckdb

    path = Path(source.url.database)
    if not path.is_file():
        raise DataError(f"the DuckDB database file of {source.where} does not exist: {path.name}")
    connection = duckdb.connect(str(path), read_only=True)
    timer = threading.Timer(limits.timeout_s, connection.interrupt)  # duckdb has no statement timeout
    timer.daemon = True
    timer.start()
    try:
        yield connection
    finally:
        timer.cancel()
        connection.close()


def _catalogue(source: DatabaseSource, limits: DatabaseLimits) -> dict[str, tuple[str | None, str]]:
    """Readable tables and views: shown name -> (schema or None for the default one, table)."""
    found: dict[str, tuple[str | None, str]] = {}
    if source.backend == "duckdb":
        with _duckdb_connection(source, limits) as connection:
            default = connection.execute("SELECT current_schema()").fetchone()[0]
            rows = connection.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                      "ORDER BY 1, 2").fetchall()
        for schema, table in rows:
            shown = table if schema == default else f"{schema}.{table}"
            found[shown] = (None if schema == default else schema, table)
        return found
    with _sqlalchemy_connection(source, limits) as connection:
        inspector = sa.inspect(connection)
        default = inspector.default_schema_name
        for schema in inspector.get_schema_names():
            if schema in _SYSTEM_SCHEMAS or schema.startswith("pg_"):
                continue
            for table in sorted(inspector.get_table_names(schema=schema)
                                + inspector.get_view_names(schema=schema)):
                shown = table if schema == default else f"{schema}.{table}"
                found[shown] = (None if schema == default else schema, table)
    return found


def list_tables(source: DatabaseSource | URL, limits: DatabaseLimits = DatabaseLimits(), *,
                name: str | None = None) -> list[str]:
    """Names of the tables and views a connection can read (for a dropdown and for validating a choice)."""
    if isinstance(source, URL):
        source = DatabaseSource(source, query="SELECT 1", name=name)
    try:
        return sorted(_catalogue(source, limits))
    except DataError:
        raise
    except Exception as exc:
        raise _explain(exc, source, limits) from None


def _statement(source: DatabaseSource, limits: DatabaseLimits) -> str:
    if source.query is not None:
        return check_query(source.query, source.dialect)
    catalogue = _catalogue(source, limits)
    if source.table not in catalogue:
        shown = ", ".join(sorted(catalogue)[:20]) or "none"
        raise DataError(f"{source.where} has no table or view named {source.table!r}; tables: {shown}")
    schema, table = catalogue[source.table]
    return _table_sql(schema, table, source.dialect)


def _float(array: pa.Array) -> pa.Array:
    """Exact decimals (PostgreSQL numeric) as float64, the nearest double as a file's "2.55" would give.

    Through text: Arrow's direct decimal-to-double cast is not correctly rounded (2.550 -> 2.5500000000000003),
    and one unit in the last place changes sums, so a table and its CSV would disagree.
    """
    return array.cast(pa.string()).cast(pa.float64()) if pa.types.is_decimal(array.type) else array


def _arrow_chunk(columns: list[str], rows: list) -> pa.Table:
    """A chunk of rows (tuples from the driver) as Arrow columns."""
    arrays = [_float(pa.array(values, from_pandas=True)) for values in (zip(*rows) if rows else [[]] * len(columns))]
    return pa.Table.from_arrays(arrays, names=columns)


class _CopyReader(io.RawIOBase):
    """A PostgreSQL ``COPY ... TO STDOUT`` as a file, so Arrow's streaming CSV reader parses it in C."""

    def __init__(self, copy) -> None:
        self._blocks = iter(copy)
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._rest = bytes(block)
        size = min(len(buffer), len(self._rest))
        buffer[:size], self._rest = self._rest[:size], self._rest[size:]
        return size


def _copy_chunks(cursor, statement: str, columns: list[str], chunk_rows: int) -> Iterator[pa.Table]:
    """Arrow tables of ``chunk_rows`` rows from ``COPY (statement) TO STDOUT`` in CSV, started on the first
    chunk asked for (reading only the columns runs nothing). Every column is read as text and typed by the
    same parsers as a file (PostgreSQL writes numbers and timestamps in plain ISO forms)."""
    with cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)") as copy:
        reader = pa_csv.open_csv(
            io.BufferedReader(_CopyReader(copy), 1 << 20),
            read_options=pa_csv.ReadOptions(column_names=columns, use_threads=False, block_size=1 << 22),
            convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()),
                                                  strings_can_be_null=True),
        )
        pending: list[pa.RecordBatch] = []
        held = 0
        for batch in reader:
            pending.append(batch)
            held += batch.num_rows
            while held >= chunk_rows:  # progress and the row cap count in the settings' chunk size
                table = pa.Table.from_batches(pending)
                yield table.slice(0, chunk_rows)
                rest = table.slice(chunk_rows)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            yield pa.Table.from_batches(pending)


def _decimals_to_float(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_arrays([_float(column) for column in batch.columns], names=batch.schema.names)


@contextmanager
def _stream(source: DatabaseSource, limits: DatabaseLimits) -> Iterator[tuple[list[str], Iterator[pa.Table]]]:
    """(column names, Arrow chunks of at most ``chunk_rows`` rows) for the source's statement."""
    statement = _statement(source, limits)
    if source.backend == "duckdb":
        with _duckdb_connection(source, limits) as connection:
            relation = connection.sql(statement)  # a relation's Arrow reader streams; execute() would copy
            with relation.to_arrow_reader(limits.chunk_rows) as reader:
                yield relation.columns, (_decimals_to_float(batch) for batch in reader)
        return
    with _sqlalchemy_connection(source, limits) as connection:
        if source.backend == "postgresql":
            with connection.connection.driver_connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM ({statement}) AS source LIMIT 0")  # the columns, no rows
                columns = [d.name for d in cursor.description]
                chunks = _copy_chunks(cursor, statement, columns, limits.chunk_rows)
                try:
                    yield columns, chunks
                finally:
                    chunks.close()  # a COPY stopped early (row cap, error) ends while its cursor is open
            return
        result = connection.execution_options(stream_results=True, max_row_buffer=limits.chunk_rows) \
            .exec_driver_sql(statement)
        columns = list(result.keys())
        yield columns, (_arrow_chunk(columns, rows) for rows in result.partitions(limits.chunk_rows))
        result.close()


def database_columns(source: DatabaseSource, limits: DatabaseLimits = DatabaseLimits()) -> list[str]:
    """The column names a table or query offers (for the mapping editor), without reading its rows."""
    try:
        with _stream(source, limits) as (columns, _chunks):
            return [str(c) for c in columns]
    except DataError:
        raise
    except Exception as exc:
        raise _explain(exc, source, limits) from None


def _read_raw(source: DatabaseSource, limits: DatabaseLimits, progress: RowsProgress) -> pd.DataFrame:
    chunks: list[pa.Table] = []
    rows = 0
    with _stream(source, limits) as (columns, stream):
        for chunk in stream:
            rows += chunk.num_rows
            if rows > limits.max_rows:
                raise DataError(f"{source.label} has more than {limits.max_rows:,} rows, the limit "
                                f"({MAX_ROWS_ENV}); filter it with a query (e.g. a date range) or raise the limit")
            chunks.append(chunk)
            progress(rows)
    if not chunks:
        chunks = [_arrow_chunk(columns, [])]
    table = pa.concat_tables(chunks, promote_options="permissive")
    strings = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}
    return table.to_pandas(types_mapper=strings.get)


def read_database(
    source: DatabaseSource,
    *,
    mapping: Mapping[str, str | None] | None = None,
    limits: DatabaseLimits = DatabaseLimits(),
    progress: RowsProgress | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
) -> pd.DataFrame:
    """Canonical transactions from a table or query, read in chunks; ``progress(rows_read)`` after each.

    Raises DataError with one clear message for a refused connection, wrong credentials, a missing table,
    a syntax error, a query that writes, a timeout or too many rows; the message names the source.
    """
    try:
        raw = _read_raw(source, limits, progress or (lambda rows: None))
    except DataError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise _explain(exc, source, limits) from None
    if raw.empty:
        raise DataError(f"{source.label} returned no rows (columns: {', '.join(map(repr, raw.columns))})")
    try:
        frame = to_canonical(raw, mapping=mapping, date_format=date_format, dayfirst=dayfirst)
    except DataError as error:
        raise DataError(f"{source.label}: {error}") from None
    frame.attrs["loading"].update(format="database", source=source.label)
    return frame
