"""The journey history of an analysis at any setting, computed by the pipeline layer and cached.

The pipeline stores the default history (quarterly, 180-day inactivity window) in the results. Any other
setting is computed once from the invoice table stored next to the results (``pipeline.invoices_key``) and
kept in the results cache under a key of (results key, period, window), so a second visit, or another
worker, reads it back instead of recomputing.
"""

from __future__ import annotations

import pandas as pd

import analytics
from analytics import pipeline
from analytics.cache import fingerprint
from analytics.errors import DataError
from analytics.journeys.history import PERIODS, journey_history
from analytics.results import Results


def history_key(key: str, period: str, inactive_days: int) -> str:
    """Results-cache key of the journey history of results ``key`` at these settings."""
    return fingerprint("journeys", key, period, inactive_days, analytics.__version__)


def cached_history(cache, key: str, as_of: pd.Timestamp | str | None, period: str,
                   inactive_days: int) -> pd.DataFrame:
    """Journey history of results ``key`` (``cache``: a results cache with ``get`` and ``get_or_compute``):
    computed once from the invoice table stored with the results, then read back from ``cache``."""

    def compute() -> pd.DataFrame:
        invoices = cache.get(pipeline.invoices_key(key))
        if invoices is None:
            raise DataError("the cleaned transactions behind these results are no longer in the cache; "
                            "run the analysis again to change the journey settings")
        return journey_history(invoices, as_of, period=period, inactive_days=inactive_days)

    return cache.get_or_compute(history_key(key, period, inactive_days), compute)


def history_for(cache, results: Results, period: str, inactive_days: int) -> pd.DataFrame:
    """The history of ``results`` at these settings: the one the pipeline stored when they are its defaults,
    else :func:`cached_history`. A period that is not one of ``PERIODS`` is a DataError naming it."""
    if period not in PERIODS:
        raise DataError(f"snapshot period {period!r} is not one of {', '.join(PERIODS)}")
    stored = results.journeys
    if (stored.period, stored.inactive_days) == (period, inactive_days):
        return stored.history
    return cached_history(cache, results.key, results.as_of, period, inactive_days)
