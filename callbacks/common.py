"""What every tab's callbacks share: the results cache of this process and reading Results by key.

The cache is local (diskcache under the cache directory) or, with ``REDIS_URL``, the shared Redis store that
every web process and Celery worker reaches (analytics.shared_store).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Hashable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import dash
import dash_bootstrap_components as dbc
import redis
from dash import html

from analytics.cache import ResultsCache
from analytics.errors import DataError
from analytics.results import Results
from analytics.shared_store import RedisResultsCache
from components import ids
from settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Longest message text shown: a message quoting a hostile file (32,768 "columns") must stay readable.
MAX_MESSAGE_CHARS = 600
# What a full, read-only or vanished cache directory raises (sqlite under diskcache, or the file system),
# and a Redis that is down or full (REDIS_URL).
STORAGE_ERRORS = (OSError, sqlite3.Error, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                  redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError)


# What a background callback's progress outputs show while its run waits in the Celery queue, until the
# run's own first progress replaces it (app.ReportingCeleryManager): by one of the callback's outputs, the
# values its progress outputs take before the text (the run's bar at nought).
QUEUED = "Queued: waiting for a free analysis process"
QUEUED_NO_WORKER = "Queued, but no analysis worker is running: the run starts when one does"
QUEUED_BEFORE_TEXT: dict[str, list] = {ids.RESULTS_KEY: [0], ids.UPLIFT_KEY: []}


def queued_progress(output_ids: Iterable, worker_running: bool) -> list | None:
    """The progress values of a queued run of the callback with these outputs (None: it shows none)."""
    before = next((QUEUED_BEFORE_TEXT[i] for i in output_ids
                   if isinstance(i, str) and i in QUEUED_BEFORE_TEXT), None)
    return None if before is None else [*before, QUEUED if worker_running else QUEUED_NO_WORKER]


@lru_cache(maxsize=4)
def _cache_at(location: str, ttl_s: int, limit_mb: int) -> ResultsCache | RedisResultsCache:
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisResultsCache(location, ttl_s=ttl_s)
    return ResultsCache(Path(location) / "results", size_limit_bytes=limit_mb * 2**20, ttl_s=ttl_s)


def _location(settings: Settings) -> tuple[str, int, int]:
    return (settings.redis_url or str(settings.cache_dir), round(settings.retention_days * 86400),
            settings.cache_limit_mb)


def results_cache(settings: Settings) -> ResultsCache | RedisResultsCache:
    """The results cache the settings name: Redis when set, else the cache directory (one handle per process)."""
    return _cache_at(*_location(settings))


class _NotYet(Exception):
    """No results under this key (yet): raised, not returned, so that lru_cache does not remember the miss."""


@lru_cache(maxsize=8)
def _results(location: tuple[str, int], key: str) -> Results:
    results = _cache_at(*location).get(key)
    if results is None:
        raise _NotYet(key)
    return results


@lru_cache(maxsize=64)
def _drawn(location: tuple[str, int], key: str, draw: Callable[..., T], args: tuple) -> T:
    return draw(_results(location, key), *args)


def forget_loaded_results() -> None:
    """Drop this process's memo of loaded results and of what was drawn from them (a dataset was deleted)."""
    _results.cache_clear()
    _drawn.cache_clear()


def load_results(settings: Settings, key: str | None) -> Results:
    """Results for a key, memoised in the process so a tab switch does not unpickle again.

    Raises PreventUpdate while there is no key yet (the first run has not finished).
    """
    if not key:
        raise dash.exceptions.PreventUpdate
    try:
        return _results(_location(settings), key)
    except _NotYet:  # not remembered, and the other keys stay: another worker may be writing it
        raise dash.exceptions.PreventUpdate from None


def drawn(settings: Settings, key: str | None, draw: Callable[..., T], *args: Hashable) -> T:
    """``draw(results, *args)`` for the results under ``key``, memoised in the process. Results never change
    under a key, so neither does what a pure function draws from them: a tab opened again, by anyone this
    worker serves, costs nothing, and the requests queued behind it wait less (issue 11's load tail).
    Who may see the key is checked before any callback runs, so sharing the drawing is safe.

    Raises PreventUpdate while there is no key yet, as :func:`load_results` does.
    """
    if not key:
        raise dash.exceptions.PreventUpdate
    try:
        hash(args)
    except TypeError:  # a forged value (a list where a number belongs): drawn unmemoised, judged by ``draw``
        return draw(load_results(settings, key), *args)
    try:
        return _drawn(_location(settings), key, draw, args)
    except _NotYet:
        raise dash.exceptions.PreventUpdate from None


def error_alert(error: DataError | str, title: str = "This data cannot be used") -> dbc.Alert:
    """The one way a problem with the user's input is shown: a clear message, never a traceback."""
    text = str(error)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + f"… ({len(text) - MAX_MESSAGE_CHARS:,} more characters not shown)"
    return dbc.Alert([html.Strong(f"{title}: "), text], color="danger", className="mb-0", dismissable=True)


def storage_problem(directory: Path) -> str | None:
    """Why the directory cannot take a write (e.g. "No space left on device"), or None when it can."""
    probe = directory / f".probe-{os.getpid()}"
    try:
        probe.write_bytes(b"\0" * 4096)
        probe.unlink()
        return None
    except OSError as exc:
        return exc.strerror or str(exc)


def storage_alert(error: BaseException) -> dbc.Alert:
    """A full or read-only cache directory: logged, said on screen; the next attempt opens the cache afresh
    (a handle that failed is dropped), so the app recovers by itself once the directory is writable."""
    logger.error("cache directory unusable: %s", error)
    _cache_at.cache_clear()
    forget_loaded_results()
    detail = getattr(error, "strerror", None) or str(error)
    cause = ("the shared store (Redis) may be down or full" if isinstance(error, redis.exceptions.RedisError)
             else "the disk may be full or read-only")
    return error_alert(f"the server cannot use its storage ({detail}); {cause}. "
                       f"Nothing on screen was lost; try again once the administrator has fixed it.",
                       title="Server storage problem")


def options(values: Iterable, chosen: Sequence | None = None) -> list[dict]:
    """Dropdown options for ``values``; chosen values these results lack (e.g. from a shared link) are kept
    selectable so the control does not silently drop them."""
    values = [str(v) for v in values]
    extra = [str(v) for v in chosen or () if str(v) not in values]
    return [{"label": v, "value": v} for v in [*values, *extra]]


def open_range(values: Sequence[float] | None, low: float, high: float | None) -> tuple[float | None, float | None]:
    """A range slider's value as filter bounds: an end at the slider's own limit (``low``, ``high``) is open
    (None), so the untouched slider does not drop customers whose value is missing; with no known ``high``
    (the column is absent) the end is open too."""
    if not values:
        return None, None
    start, end = float(values[0]), float(values[1])
    return (None if start <= low else start), (None if high is None or end >= high else end)
