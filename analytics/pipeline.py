"""The whole analysis in order: clean, features, segments, clusters, CLV, churn; cached on disk by a key.

``run`` is pure (transactions in, Results out). ``run_cached`` adds the cache: the key is a fingerprint of
the *cleaned* lines, the parameters and the analytics version, so the same data uploaded twice or under
another name is a hit; a source alias (e.g. an embedded dataset's name) lets a known source skip even
loading and cleaning.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd

import analytics
from analytics import cleaning, features, segments, trends
from analytics.cache import ResultsCache, fingerprint, fingerprint_frame
from analytics.params import AnalysisParams
from analytics.results import Results

Progress = Callable[[float, str], None]


def _silent(fraction: float, message: str) -> None:
    """Default progress sink."""


def results_key(lines: pd.DataFrame, params: AnalysisParams) -> str:
    """Cache key for results computed from these cleaned lines with these parameters."""
    return fingerprint("results", fingerprint_frame(lines), params.to_dict(), analytics.__version__)


def alias_key(source_id: str, params: AnalysisParams) -> str:
    """Cache key mapping a named source (embedded dataset, uploaded file hash) to its results key."""
    return fingerprint("alias", source_id, params.to_dict(), analytics.__version__)


def lines_key(key: str) -> str:
    """Cache key of the cleaned lines behind a results key (journeys and exports read them)."""
    return f"lines:{key}"


def _clean(transactions: pd.DataFrame, params: AnalysisParams) -> cleaning.CleanResult:
    return cleaning.clean(transactions, as_of=params.as_of, net_returns=params.net_returns)


def analyse(cleaned: cleaning.CleanResult, params: AnalysisParams, key: str, progress: Progress = _silent) -> Results:
    """Every model on cleaned lines. Progress fractions run from 0.1 to 1."""
    timings: dict[str, float] = {}

    def stage(name: str, fraction: float, message: str):
        progress(fraction, message)
        timings[name] = time.perf_counter()

    lines, as_of = cleaned.lines, cleaned.as_of
    stage("features", 0.15, "Computing customer features")
    table = features.customer_features(lines, as_of)
    stage("segments", 0.25, "Scoring RFM and naming segments")
    scores = segments.rfm_scores(table)
    table = table.join(scores)
    table["segment"] = segments.assign_segments(scores)
    table["action"] = table["segment"].map(segments.segment_actions())
    stage("trends", 0.3, "Summarising monthly activity and cohorts")
    monthly = trends.monthly_activity(lines)
    cohorts = trends.cohort_retention(lines)
    models: dict[str, dict] = {}
    progress(1.0, "Done")
    stamps = list(timings.items()) + [("end", time.perf_counter())]
    durations = {name: round(stamps[i + 1][1] - t, 3) for i, (name, t) in enumerate(stamps[:-1])}
    return Results(
        key=key,
        customers=table,
        quality=cleaned.report.to_dict(),
        monthly=monthly,
        cohorts=cohorts,
        models=models,
        meta={
            "as_of": as_of.isoformat(),
            "params": params.to_dict(),
            "analytics_version": analytics.__version__,
            "timings_s": durations,
            "customers": int(len(table)),
        },
    )


def run(transactions: pd.DataFrame, params: AnalysisParams | None = None, progress: Progress = _silent) -> Results:
    """Clean the canonical transactions and run every model, reporting ``progress(fraction, message)``."""
    params = params or AnalysisParams()
    progress(0.02, "Cleaning transactions")
    cleaned = _clean(transactions, params)
    return analyse(cleaned, params, results_key(cleaned.lines, params), progress)


def cached_key(cache: ResultsCache, source_id: str, params: AnalysisParams) -> str | None:
    """Results key already computed for this named source and parameters, if any (no loading needed)."""
    key = cache.get(alias_key(source_id, params))
    return key if key is not None and key in cache else None


def run_cached(
    load: Callable[[], pd.DataFrame],
    params: AnalysisParams,
    cache: ResultsCache,
    *,
    source_id: str | None = None,
    source_name: str = "",
    progress: Progress = _silent,
) -> str:
    """Results key for the data ``load()`` returns, computing and storing the results unless cached."""
    if source_id is not None and (key := cached_key(cache, source_id, params)):
        progress(1.0, "Loaded from cache")
        return key
    progress(0.01, "Reading data")
    transactions = load()
    progress(0.05, "Cleaning transactions")
    cleaned = _clean(transactions, params)
    key = results_key(cleaned.lines, params)

    def compute() -> Results:
        results = analyse(cleaned, params, key, progress)
        results.meta["source"] = source_name
        cache.set(lines_key(key), cleaned.lines)
        return results

    cache.get_or_compute(key, compute)
    if source_id is not None:
        cache.set(alias_key(source_id, params), key)
    progress(1.0, "Done")
    return key
