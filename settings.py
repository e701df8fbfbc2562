"""Run-time settings, read from the environment in this one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL

from analytics.database import DatabaseLimits, named_connections
from analytics.errors import DataError


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"error: environment variable {name}={raw!r} is not an integer") from exc


@dataclass(frozen=True)
class Settings:
    """Application settings.

    cache_dir: directory shared by every worker for the results cache and the background-callback queue;
        with ``redis_url`` only this process's private scratch (local copies of uploads).
    upload_limit_mb: largest accepted upload, in megabytes.
    redis_url: when set, background callbacks run on Celery workers through this Redis instead of diskcache,
        and results, upload blobs and fitting locks live in it (nothing shared on a local disk).
    worker_concurrency: analyses one Celery worker runs at once (the rest wait in the queue).
    default_dataset: embedded dataset analysed when the page opens.
    db_connections: named database connections (``RCT_DB_<NAME>=url`` or the TOML file ``RCT_CONNECTIONS_FILE``);
        the browser sees only the names. SQLAlchemy URLs, whose repr hides the password; kept out of repr.
    db_limits: statement timeout (``RCT_QUERY_TIMEOUT_S``) and row cap (``RCT_QUERY_MAX_ROWS``) for them.
    """

    cache_dir: Path = field(default_factory=lambda: Path(".cache"))
    upload_limit_mb: int = 200
    redis_url: str | None = None
    worker_concurrency: int = 2
    default_dataset: str = "synthetic"
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    db_connections: dict[str, URL] = field(default_factory=dict, repr=False, compare=False)
    db_limits: DatabaseLimits = field(default_factory=DatabaseLimits)

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings from ``RCT_*`` environment variables (``REDIS_URL`` and ``PORT`` as platforms set them)."""
        return cls(
            cache_dir=Path(os.environ.get("RCT_CACHE_DIR", ".cache")).resolve(),
            upload_limit_mb=_env_int("RCT_UPLOAD_LIMIT_MB", 200),
            redis_url=os.environ.get("REDIS_URL") or None,
            worker_concurrency=_env_int("RCT_WORKER_CONCURRENCY", 2),
            default_dataset=os.environ.get("RCT_DEFAULT_DATASET", "synthetic"),
            host=os.environ.get("RCT_HOST", "127.0.0.1"),
            port=_env_int("PORT", 8050),
            debug=os.environ.get("RCT_DEBUG", "") == "1",
            **_database_settings(),
        )


def _database_settings() -> dict:
    try:
        return {"db_connections": named_connections(os.environ), "db_limits": DatabaseLimits.from_env(os.environ)}
    except DataError as exc:  # the message names the variable, never the URL's text
        raise SystemExit(f"error: {exc}") from None
