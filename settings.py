"""Run-time settings, read from the environment in this one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from analytics.database_config import DatabaseLimits, configures_connections
from analytics.errors import DataError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"error: environment variable {name}={raw!r} is not an integer") from exc


def _env_flag(name: str) -> bool | None:
    """True/False for 1/0, true/false, on/off, yes/no; None when unset."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in ("1", "true", "on", "yes"):
        return True
    if raw in ("0", "false", "off", "no"):
        return False
    raise SystemExit(f"error: environment variable {name}={raw!r} is not a yes/no flag (use 1 or 0)")


# dcc.Upload sends the file base64-encoded inside a JSON string, and the browser builds that request body
# from two copies of the string: above ~190 MiB it exceeds the browser's largest string and nothing is
# sent. A limit the page cannot honour would be a lie, so the setting is capped below that.
MAX_UPLOAD_LIMIT_MB = 150
MIN_CACHE_LIMIT_MB = 256


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
    max_decompressed_mb, max_rows: caps on an upload once decompressed, checked while it is decompressed.
    max_concurrent_runs: analyses running at once on this server; further runs wait in line.
    retention_days: uploads and results older than this are deleted.
    cache_limit_mb: size limit of the results cache directory (not Redis's, which is Redis's own maxmemory);
        one analysis's results must fit: about 1.3 KB per customer pickled (4 GB for 3.2M customers).
    auth_required: sign-in with roles on (users from users_file); None means "not said" and is settled by
        how the app is started (on under gunicorn, off for ``python app.py``).
    users_file: the users and their hashed passwords and roles (managed by ``python -m rct_users``).
    secret_key: signs the session cookie; when unset a random key is kept in the cache directory.
    https: the site is served over https (behind a proxy): session cookies are marked Secure.
    oidc_issuer, oidc_client_id, oidc_client_secret: an OpenID Connect provider people may sign in through
        (its issuer URL; discovery at ``/.well-known/openid-configuration``); oidc_name_claim names the claim
        that is the user name in the users file (``email``). Kept out of repr.
    sign_in_limit_per_name, sign_in_limit_per_address: failed sign-ins allowed per user name and per client
        address before further attempts are refused for a while (Flask-Limiter's syntax, e.g. "10 per 15 minutes").
    """

    cache_dir: Path = field(default_factory=lambda: Path(".cache"))
    upload_limit_mb: int = 100
    max_decompressed_mb: int = 1024
    max_rows: int = 5_000_000
    max_concurrent_runs: int = 2
    retention_days: float = 30
    cache_limit_mb: int = 4096
    auth_required: bool | None = None
    users_file: Path | None = None
    secret_key: str | None = None
    https: bool = False
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_name_claim: str = "email"
    sign_in_limit_per_name: str = "10 per 15 minutes"
    sign_in_limit_per_address: str = "50 per 15 minutes"
    redis_url: str | None = None
    worker_concurrency: int = 2
    default_dataset: str = "synthetic"
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    db_connections: dict[str, URL] = field(default_factory=dict, repr=False, compare=False)
    db_limits: DatabaseLimits = field(default_factory=DatabaseLimits)

    def __post_init__(self) -> None:
        if not 1 <= self.upload_limit_mb <= MAX_UPLOAD_LIMIT_MB:
            raise SystemExit(f"error: RCT_UPLOAD_LIMIT_MB={self.upload_limit_mb} must be between 1 and "
                             f"{MAX_UPLOAD_LIMIT_MB} (a browser cannot send a larger file through the page)")
        if self.cache_limit_mb < MIN_CACHE_LIMIT_MB:
            raise SystemExit(f"error: RCT_CACHE_LIMIT_MB={self.cache_limit_mb} must be at least "
                             f"{MIN_CACHE_LIMIT_MB} (one analysis's results need about 1.3 KB per customer)")
        if self.max_concurrent_runs < 1:
            raise SystemExit("error: RCT_MAX_CONCURRENT_RUNS must be at least 1")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise SystemExit("error: RCT_OIDC_ISSUER is set: RCT_OIDC_CLIENT_ID and RCT_OIDC_CLIENT_SECRET are "
                             "needed too (from the provider's registration of this app)")
        from limits import parse_many

        for name, value in [("RCT_SIGN_IN_LIMIT_PER_NAME", self.sign_in_limit_per_name),
                            ("RCT_SIGN_IN_LIMIT_PER_ADDRESS", self.sign_in_limit_per_address)]:
            try:
                parse_many(value)
            except ValueError:
                raise SystemExit(f"error: {name}={value!r} is not a rate limit (write e.g. '10 per 15 minutes')")

    @property
    def upload_limit_bytes(self) -> int:
        return self.upload_limit_mb * 2**20

    @property
    def users_path(self) -> Path:
        return self.users_file or self.cache_dir / "users.json"

    @classmethod
    def from_env(cls) -> "Settings":
        """Settings from ``RCT_*`` environment variables (``REDIS_URL`` and ``PORT`` as platforms set them)."""
        return cls(
            cache_dir=Path(os.environ.get("RCT_CACHE_DIR", ".cache")).resolve(),
            upload_limit_mb=_env_int("RCT_UPLOAD_LIMIT_MB", 100),
            max_decompressed_mb=_env_int("RCT_MAX_DECOMPRESSED_MB", 1024),
            max_rows=_env_int("RCT_MAX_ROWS", 5_000_000),
            max_concurrent_runs=_env_int("RCT_MAX_CONCURRENT_RUNS", 2),
            retention_days=_env_int("RCT_RETENTION_DAYS", 30),
            cache_limit_mb=_env_int("RCT_CACHE_LIMIT_MB", 4096),
            auth_required=_env_flag("RCT_AUTH"),
            users_file=Path(os.environ["RCT_USERS_FILE"]).resolve() if os.environ.get("RCT_USERS_FILE") else None,
            secret_key=os.environ.get("RCT_SECRET_KEY") or None,
            https=bool(_env_flag("RCT_HTTPS")),
            oidc_issuer=os.environ.get("RCT_OIDC_ISSUER") or None,
            oidc_client_id=os.environ.get("RCT_OIDC_CLIENT_ID") or None,
            oidc_client_secret=os.environ.get("RCT_OIDC_CLIENT_SECRET") or None,
            oidc_name_claim=os.environ.get("RCT_OIDC_NAME_CLAIM") or "email",
            sign_in_limit_per_name=os.environ.get("RCT_SIGN_IN_LIMIT_PER_NAME") or "10 per 15 minutes",
            sign_in_limit_per_address=os.environ.get("RCT_SIGN_IN_LIMIT_PER_ADDRESS") or "50 per 15 minutes",
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
        limits = DatabaseLimits.from_env(os.environ)
        if not configures_connections(os.environ):
            return {"db_limits": limits}
        # SQLAlchemy and sqlglot are loaded only by a server that configures a database
        from analytics.database import named_connections
        return {"db_connections": named_connections(os.environ), "db_limits": limits}
    except DataError as exc:  # the message names the variable, never the URL's text
        raise SystemExit(f"error: {exc}") from None
