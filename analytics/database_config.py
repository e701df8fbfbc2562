"""What the environment says about databases: the variables that name connections, and the reading limits.

Kept apart from ``analytics.database`` so that the settings (read by every web and Celery worker) do not import
SQLAlchemy and sqlglot on a server that configures no database; ``analytics.database`` is imported only where a
connection is configured or read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analytics.errors import DataError

ENV_PREFIX = "RCT_DB_"  # RCT_DB_WAREHOUSE=postgresql://... is the connection "warehouse"
CONNECTIONS_FILE_ENV = "RCT_CONNECTIONS_FILE"  # a TOML file with a [connections] table of name = "url"
TIMEOUT_ENV = "RCT_QUERY_TIMEOUT_S"
MAX_ROWS_ENV = "RCT_QUERY_MAX_ROWS"


def configures_connections(environ: Mapping[str, str]) -> bool:
    """True when the environment names a connections file or at least one ``RCT_DB_<NAME>`` connection."""
    return bool(environ.get(CONNECTIONS_FILE_ENV)) or any(
        variable.startswith(ENV_PREFIX) and len(variable) > len(ENV_PREFIX) and text
        for variable, text in environ.items())


@dataclass(frozen=True)
class DatabaseLimits:
    """Safety limits for reading a database (from the settings).

    timeout_s: longest a statement may run before the database stops it.
    max_rows: most rows read; a larger result is refused with a message (never silently truncated).
    chunk_rows: rows fetched per round trip (memory stays bounded by a chunk plus the columnar frame).
    """

    timeout_s: float = 120.0
    max_rows: int = 20_000_000
    chunk_rows: int = 50_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "DatabaseLimits":
        def number(name: str, default, cast):
            raw = environ.get(name, "")
            if raw == "":
                return default
            try:
                value = cast(raw)
            except ValueError:
                raise DataError(f"environment variable {name}={raw!r} is not a number") from None
            if value <= 0:
                raise DataError(f"environment variable {name} must be positive, not {raw!r}")
            return value

        return cls(timeout_s=number(TIMEOUT_ENV, cls.timeout_s, float),
                   max_rows=number(MAX_ROWS_ENV, cls.max_rows, int))
