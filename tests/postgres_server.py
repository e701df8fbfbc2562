"""A real PostgreSQL server for tests: initdb + pg_ctl in a temporary directory on a free local port.

Debian's ``postgresql`` package (installed by ``make test``) puts the binaries in
``/usr/lib/postgresql/<version>/bin``; they are found by glob (newest version first), or on ``PATH``.
PostgreSQL refuses to run as root, so when the tests run as root the data directory is created owned by an
unprivileged account (``postgres`` when the package created it, else ``nobody``) and every server command
runs through ``runuser -u <account> --``. The directory is made with ``tempfile.mkdtemp`` directly under the
system temp dir (pytest's own tmp dirs are private to root, so the account could not enter them).

Authentication is ``scram-sha-256`` with a password (so a wrong password is really refused), on TCP
127.0.0.1 only; the Unix socket lives in the data directory, never in /var/run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "rct"
PASSWORD = "s3cret-Pw"
DATABASE = "rct"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str

    def url(self, password: str | None = None, database: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3 driver), with another password or database when asked."""
        return (f"postgresql+psycopg://{self.user}:{password or self.password}@{self.host}:{self.port}/"
                f"{database or self.database}")


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _account() -> str | None:
    """The unprivileged account to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' account exists")


def start(bin_dir: Path) -> tuple[PostgresServer, callable]:
    """Initialise and start a server; returns it and a function that stops it and removes its files."""
    account = _account()
    prefix = ["runuser", "-u", account, "--"] if account else []
    root = Path(tempfile.mkdtemp(prefix="rct-pg-"))
    data = root / "data"
    password_file = root / "pw"
    password_file.write_text(PASSWORD + "\n")
    if account:
        info = pwd.getpwnam(account)
        for path in (root, password_file):
            os.chown(path, info.pw_uid, info.pw_gid)

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PGPASSWORD": PASSWORD})
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr or done.stdout}")

    port = _free_port()
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(password_file),
        "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync")
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "-t", "60",
        "start")
    server = PostgresServer("127.0.0.1", port, USER, PASSWORD, DATABASE)

    def stop() -> None:
        try:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)

    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE)
    except Exception:
        stop()
        raise
    return server, stop


# The Online Retail columns under the names a warehouse might use; order_ref and ordered_at match no alias,
# so reading the table needs the mapping ORDERS_MAPPING, as a user would set it in the editor.
ORDERS_COLUMNS = {
    "InvoiceNo": ("order_ref", "text"),
    "StockCode": ("sku", "text"),
    "Description": ("item_name", "text"),
    "Quantity": ("units", "integer"),
    "InvoiceDate": ("ordered_at", "timestamp"),
    "UnitPrice": ("price_each", "numeric(12,3)"),
    "CustomerID": ("client", "bigint"),
    "Country": ("nation", "text"),
}
ORDERS_MAPPING = {"invoice_id": "order_ref", "invoice_date": "ordered_at"}


def load_orders(server: PostgresServer, csv_path: Path, table: str = "orders") -> int:
    """Copy the UCI-columned CSV into ``table`` with warehouse column names and types; returns the rows."""
    import pandas as pd
    import psycopg

    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    customer = pd.to_numeric(raw["CustomerID"], errors="coerce").astype("Int64")
    rows = zip(raw["InvoiceNo"], raw["StockCode"], [text or None for text in raw["Description"]],
               raw["Quantity"].astype(int), pd.to_datetime(raw["InvoiceDate"]),
               raw["UnitPrice"], customer.astype(object).where(customer.notna(), None), raw["Country"])
    names = ", ".join(name for name, _ in ORDERS_COLUMNS.values())
    columns = ", ".join(f"{name} {kind}" for name, kind in ORDERS_COLUMNS.values())
    with psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                         dbname=server.database) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(f"CREATE TABLE {table} ({columns})")
        with connection.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(raw)


def add_a_later_line(server: PostgresServer, table: str = "orders") -> None:
    """One new order line in ``table``: the latest customer's latest line again, a day later (a refresh's new
    row, as the next day's orders would bring)."""
    import psycopg

    with psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                         dbname=server.database) as connection:
        connection.execute(f"INSERT INTO {table} SELECT 'N1', sku, item_name, 3, "
                           f"ordered_at + interval '1 day', price_each, client, nation FROM {table} "
                           f"WHERE client IS NOT NULL ORDER BY ordered_at DESC LIMIT 1")
