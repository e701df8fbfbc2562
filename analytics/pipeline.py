"""The whole analysis in order: clean, features, segments, clusters, CLV, churn; cached on disk by a key.

``run`` is pure (transactions in, Results out). ``run_cached`` adds the cache: the key is a fingerprint of
the *cleaned* lines, the parameters and the analytics version, so the same data uploaded twice or under
another name is a hit; a source alias (e.g. an embedded dataset's name) lets a known source skip even
loading and cleaning.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

import pandas as pd
from threadpoolctl import threadpool_limits

import analytics
from analytics import cleaning, features, journeys, schema, segments, trends
from analytics.allocation import give_back_freed
from analytics.cache import ResultsCache, fingerprint, fingerprint_data
from analytics.churn import ChurnModel
from analytics.churn.models import ChurnRecord
from analytics.clustering import ClusteringRecord, CustomerClustering
from analytics.clv import holdout_validation
from analytics.clv.validation import HoldoutValidation
from analytics.clv.forecast import forecast_value
from analytics.clv.record import ClvRecord
from analytics.clv.summary import days_shared
from analytics.clv.tournament import CANDIDATES, Tournament, run_tournament
from analytics.errors import DataError, ModelFailure
from analytics.invoices import invoice_table
from analytics.parallel import interrupted
from analytics.params import AnalysisParams
from analytics.results import Results, compact_customers

Progress = Callable[[float, str], None]
# memo(stage name, the parameters the stage depends on, compute) -> the stage's output, cached or computed
Memo = Callable[[str, tuple, Callable[[], Any]], Any]
Record = TypeVar("Record")


def _silent(fraction: float, message: str) -> None:
    """Default progress sink."""


def _no_memo(name: str, depends_on: tuple, compute: Callable[[], Any]) -> Any:
    return compute()


def results_key(lines: pd.DataFrame, params: AnalysisParams, source_name: str = "", *,
                data: str | None = None) -> str:
    """Cache key for results computed from these cleaned lines with these parameters.

    The source's name is part of it because the results carry it (it is what the page says it shows); the
    same data under another name still reuses every fitted model through the stage cache. ``data`` is the
    lines' ``fingerprint_data`` when the caller has it already (hashing millions of lines takes a while).
    """
    data = data or fingerprint_data(lines)
    return fingerprint("results", data, params.to_dict(), source_name, analytics.__version__)


def stage_memo(cache: ResultsCache, lines: pd.DataFrame, as_of: pd.Timestamp, *, data: str | None = None) -> Memo:
    """Cache each model stage by the data and only the parameters it depends on, so that changing, say, the
    margin refits nothing but the CLV stage. ``data`` as in ``results_key``."""
    data = data or fingerprint_data(lines)

    def memo(name: str, depends_on: tuple, compute: Callable[[], Any]) -> Any:
        key = fingerprint("stage", name, data, as_of.isoformat(), depends_on, analytics.__version__)
        return cache.get_or_compute(key, compute)

    return memo


def alias_key(source_id: str, params: AnalysisParams) -> str:
    """Cache key mapping a named source (embedded dataset, uploaded file hash) to its results key."""
    return fingerprint("alias", source_id, params.to_dict(), analytics.__version__)


def invoices_key(key: str) -> str:
    """Cache key of the invoice table behind a results key (journeys at other settings and the retention KPI
    read it; see ``analytics.invoices``: line-level data is never cached)."""
    return f"invoices:{key}"


def invoice_table_begun(lines: pd.DataFrame) -> Future[pd.DataFrame]:
    """``invoice_table(lines)``, being computed in a thread of its own (pandas' grouped sum releases the GIL
    for most of its work), so that whatever needs only the lines goes on meanwhile. The thread holds the lines
    without ``UNREAD_COLUMNS`` (a view, not a copy), so that ``analyse`` can let those go while it runs."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(invoice_table, _without_unread(lines))
    finally:
        pool.shutdown(wait=False)


def _without_unread(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.drop(columns=[c for c in UNREAD_COLUMNS if c in lines.columns])


def _clean(transactions: pd.DataFrame, params: AnalysisParams, *, release_input: bool = False,
           ) -> cleaning.CleanResult:
    return cleaning.clean(transactions, as_of=params.as_of, net_returns=params.net_returns,
                          release_input=release_input)


# The CLV holdout is the last third of the observed span, at most half a year and at least four weeks.
HOLDOUT_SHARE = 1 / 3
HOLDOUT_MAX_DAYS = 182
HOLDOUT_MIN_DAYS = 28


def _clustering(table: pd.DataFrame, params: AnalysisParams) -> tuple[pd.DataFrame, ClusteringRecord]:
    model = CustomerClustering(method=params.cluster_method, k=params.cluster_k,
                               k_range=(params.k_min, params.k_max)).fit(table)
    columns = pd.DataFrame({"cluster": model.labels_, "cluster_name": model.labels_.map(model.names_)})
    return compact_customers(columns), model.record()  # (compact in the stage cache too)


def holdout_window(lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.Timestamp:
    """Calibration end for the CLV holdout check (see HOLDOUT_* for the rule)."""
    span = (as_of - lines[schema.INVOICE_DATE].min()).days
    days = int(min(max(span * HOLDOUT_SHARE, HOLDOUT_MIN_DAYS), HOLDOUT_MAX_DAYS))
    return as_of - pd.Timedelta(days=days)


def _tournament(lines: pd.DataFrame, as_of: pd.Timestamp) -> Tournament:
    return run_tournament(lines, holdout_window(lines, as_of), as_of)


def _clv(lines: pd.DataFrame, as_of: pd.Timestamp, params: AnalysisParams,
         tournament: Tournament | ModelFailure) -> tuple[pd.DataFrame, ClvRecord]:
    """CLV from the user's model, else the tournament's winner (BG/NBD when the tournament could not run)."""
    ran = isinstance(tournament, Tournament)
    chosen = params.clv_model or (tournament.winner if ran else "bgnbd")
    window_days = int(round(tournament.duration_holdout_days)) if ran else \
        (as_of - holdout_window(lines, as_of)).days
    failures = []
    # a model that cannot forecast the whole base falls back to BG/NBD, then the naive rate (said on screen)
    for model in dict.fromkeys([chosen, "bgnbd", "naive"]):
        try:
            columns, forecast = forecast_value(model, lines, as_of, horizon_months=params.clv_horizon_months,
                                               gross_margin_fraction=params.gross_margin_fraction,
                                               monthly_discount_rate=params.monthly_discount_rate,
                                               window_days=window_days,
                                               reference=tournament.best_btyd if ran else "bgnbd")
            break
        except DataError as error:
            failures.append(f"{CANDIDATES[model]}: {error}")
    else:
        raise DataError("no CLV model could forecast these data (" + "; ".join(failures) + ")")
    return columns, ClvRecord(time_unit="days", chosen_by="user" if params.clv_model else "tournament",
                              forecast=forecast, tournament=tournament, fallback_note="; ".join(failures),
                              validation=ModelFailure("the holdout check is its own step (_clv_validation)"))


def _clv_validation(lines: pd.DataFrame, as_of: pd.Timestamp) -> HoldoutValidation | ModelFailure:
    """BG/NBD's holdout check on every calibration customer (the evidence tab's fit and tracking figures).
    A step of its own so that it runs beside the CLV forecast."""
    try:
        return holdout_validation(lines, holdout_window(lines, as_of), as_of, unit="D")
    except DataError as error:
        return ModelFailure(str(error))


def _churn(lines: pd.DataFrame, as_of: pd.Timestamp, table: pd.DataFrame,
           params: AnalysisParams) -> tuple[pd.DataFrame, ChurnRecord]:
    model = ChurnModel(window_days=params.churn_window_days).fit(lines, as_of, current_features=table)
    return compact_customers(model.scores_), model.record()


def _model_stage(fit: Callable[[], tuple[pd.DataFrame, Record]], name: str, memo: Memo,
                 depends_on: tuple) -> tuple[pd.DataFrame | None, Record | ModelFailure]:
    """Run one model (or take it from the stage cache): its customer columns and its record; a model that
    cannot be fitted on these data is reported in its record's place, not fatal."""
    try:
        return memo(name, depends_on, fit)
    except DataError as error:
        return None, ModelFailure(str(error))


# Share of a cold run's time each step takes, so that the progress bar moves with the work done rather than
# by step count, measured on the 10M-line synthetic log (324k customers, this 2-core machine, quiet): tenths of
# wall seconds for reading and cleaning, which run two threads of their own, and tenths of CPU seconds halved
# for the model steps, which run two at once (see NEEDS). Reading and cleaning grow with lines, the
# model steps with customers (the CLV tournament and churn comparison stop growing at their samples' sizes),
# so on small logs the model steps take a larger part than this.
STEP_SHARES = {"reading": 27, "cleaning": 23, "features": 7, "segments": 2, "invoices": 3, "clv_tournament": 16,
               "clv": 38, "churn": 33, "clv_validation": 9, "clustering": 3, "journeys": 5, "trends": 4}

# The steps after cleaning run on two threads at once (MODEL_THREADS), each step as soon as a thread is free and
# the steps it reads (NEEDS) are done, a free thread taking the first such step in the order of NEEDS: the CLV
# chain (tournament, then the forecast) and churn, the longest, begin first. numpy, scipy and scikit-learn release
# the GIL in their heavy loops, so two threads use both cores of a 2-core machine: on the 1M-line synthetic log
# the CLV and churn steps took 8.2 s of wall time together instead of 13.0, for the same CPU time. Threads, not
# processes: the steps read the same line-level data, which a process would copy. The steps used to run in two
# fixed lanes (the invoice table's steps, and the rest); at 10M lines that order is the one this gives, but at
# Online Retail the second lane waited 1.1 s (of 4.9) for the first, and a lane's share moves whenever a model
# gets faster. The invoice table is summed in a thread of its own, begun with the cache key's fingerprint, so
# that the features start at once; its step waits for it.
NEEDS: dict[str, tuple[str, ...]] = {
    "invoices": (), "features": (), "segments": ("features",), "clv_tournament": ("invoices",),
    "churn": ("segments",), "clv": ("clv_tournament",), "clv_validation": ("invoices",),
    "clustering": ("segments",), "journeys": ("invoices",), "trends": ("invoices", "segments"),
}
MODEL_THREADS = 2
LINE_STEPS = ("features", "churn")  # the steps that read the cleaned lines; the others read the invoice table
# cleaned line columns no model step reads (the cache key's fingerprint and the invoice table are made before)
UNREAD_COLUMNS = (schema.QUANTITY, schema.UNIT_PRICE)


def step_start(name: str) -> float:
    """Progress fraction (0-1) at which step ``name`` of STEP_SHARES starts when the steps run one by one
    (reading and cleaning do)."""
    steps = list(STEP_SHARES)
    return sum(STEP_SHARES[s] for s in steps[: steps.index(name)]) / sum(STEP_SHARES.values())


class _Steps:
    """Times each step (wall and its own thread's CPU seconds) and reports progress from steps run in
    several threads: the bar stands at the shares of the steps begun before plus those finished, so it only
    moves forward, and the message is the step begun last."""

    def __init__(self, progress: Progress, first: str) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._done = step_start(first) * sum(STEP_SHARES.values())  # shares of the steps before ``first``
        self.wall_s: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}

    def run(self, name: str, message: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            self._progress(self._done / sum(STEP_SHARES.values()), message)
        wall, cpu = time.perf_counter(), time.thread_time()
        out = compute()
        give_back_freed()  # its temporaries, before the next step's: see analytics.allocation
        with self._lock:
            self.wall_s[name] = round(time.perf_counter() - wall, 3)
            self.cpu_s[name] = round(time.thread_time() - cpu, 3)
            self._done += STEP_SHARES[name]
        return out


def _scheduled(steps: dict[str, Callable[[], None]], threads: int) -> None:
    """Run every step of NEEDS on ``threads`` threads (see NEEDS for the order); the first error is raised, and
    steps not begun by then are dropped."""
    order = list(NEEDS)
    done: set[str] = set()
    failed: list[BaseException] = []
    turn = threading.Condition()

    def take() -> str | None:
        with turn:
            while order and not failed:
                ready = next((name for name in order if done.issuperset(NEEDS[name])), None)
                if ready is not None:
                    order.remove(ready)
                    return ready
                turn.wait()
            return None

    def stop(error: BaseException) -> None:
        """No step begins after ``error``, which ``_scheduled`` raises."""
        with turn:
            failed.append(error)
            turn.notify_all()

    # One BLAS and one OpenMP thread per thread (two cores, two threads). BLAS's count is process-wide, so it
    # is set once here, where the models' own limits, entered and left in two threads at once, could restore
    # each other's; OpenMP's is per thread, so each thread sets its own.
    def work() -> None:
        with threadpool_limits(limits=1, user_api="openmp"):
            while (name := take()) is not None:
                try:
                    steps[name]()
                except BaseException as error:
                    stop(error)
                    return
                with turn:
                    done.add(name)
                    turn.notify_all()

    with threadpool_limits(limits=1, user_api="blas"):
        pool = ThreadPoolExecutor(threads)
        try:
            for running in [pool.submit(work) for _ in range(threads)]:
                running.result()
        except BaseException as error:  # the main thread interrupted (parallel.interrupted)
            stop(error)
            pool.shutdown(wait=not interrupted(error))
            raise
        pool.shutdown(wait=True)
    if failed:
        raise failed[0]


def analyse(cleaned: cleaning.CleanResult, params: AnalysisParams, key: str, progress: Progress = _silent,
            memo: Memo = _no_memo, invoices: Future[pd.DataFrame] | None = None,
            source_name: str = "", *, release_lines: bool = False) -> Results:
    """Every model on cleaned lines and their ``invoice_table`` (``invoices``: it being computed, see
    ``invoice_table_begun``; begun here unless given). Progress fractions run from ``step_start("features")``
    to 1.

    ``release_lines``: drop the lines (``cleaned.lines = None``) as soon as the steps that read them
    (``LINE_STEPS``) are done, for a caller that holds no other reference to them. Every other step reads the
    invoice table, and the lines are most of a run's memory (a 100M-line log's: 3.7 GB), so the rest of the run,
    the results' assembly included, goes on without them. Until then they are kept without the columns no step
    reads (``UNREAD_COLUMNS``: every step reads the revenue instead; 1.2 GB at 100M lines)."""
    steps = _Steps(progress, first="features")
    as_of = cleaned.as_of
    if invoices is None:
        invoices = invoice_table_begun(cleaned.lines)
    if release_lines:
        cleaned.lines = _without_unread(cleaned.lines)
        give_back_freed()
    out: dict[str, Any] = {}
    reading_lines = set(LINE_STEPS)
    release = threading.Lock()

    def done_with_lines(name: str) -> None:
        with release:
            reading_lines.discard(name)
            if release_lines and not reading_lines and cleaned.lines is not None:
                cleaned.lines = None
                give_back_freed()

    def score() -> pd.DataFrame:
        table = out["features"]
        scores = segments.rfm_scores(table)
        table = table.join(scores)
        table["segment"] = segments.assign_segments(scores)
        table["action"] = table["segment"].map(segments.segment_actions())
        return table

    def tournament() -> Tournament | ModelFailure:
        try:
            # the tournament depends on the data only, so changing the margin or the model reuses it
            return memo("clv_tournament", (), lambda: _tournament(invoices.result(), as_of))
        except DataError as error:
            return ModelFailure(str(error))

    model_steps: dict[str, tuple[str, Callable[[], Any]]] = {
        "invoices": ("Summing the lines of each invoice", invoices.result),
        "features": ("Computing customer features", lambda: features.customer_features(cleaned.lines, as_of)),
        "segments": ("Scoring RFM and naming segments", score),
        "clv_tournament": ("CLV tournament: every purchase model on the same held-out window", tournament),
        "clv": ("Forecasting purchases, spend and CLV with 80 % intervals",
                lambda: _model_stage(lambda: _clv(invoices.result(), as_of, params, out["clv_tournament"]),
                                     "clv", memo, (params.clv_horizon_months, params.gross_margin_fraction,
                                                   params.monthly_discount_rate, params.clv_model))),
        "churn": ("Fitting and validating the churn model",
                  lambda: _model_stage(lambda: _churn(cleaned.lines, as_of, out["segments"], params), "churn", memo,
                                       (params.churn_window_days,))),
        "clv_validation": ("Checking BG/NBD on the CLV holdout",
                           lambda: memo("clv_validation", (), lambda: _clv_validation(invoices.result(), as_of))),
        "clustering": ("Clustering customers",
                       lambda: _model_stage(lambda: _clustering(out["segments"], params), "clustering", memo,
                                            (params.cluster_method, params.cluster_k, params.k_min, params.k_max))),
        # not in the stage cache: at 10M lines, storing the 1.6M-row history (186 MB) cost 0.5 CPU s on every
        # cold run, and computing it again when only other parameters change costs 1.0 s
        "journeys": ("Tracing segment journeys quarter by quarter",
                     lambda: journeys.journey_history(invoices.result(), as_of, period="Q")),
        "trends": ("Summarising monthly activity and cohorts",
                   lambda: (trends.monthly_activity(invoices.result()), trends.cohort_retention(invoices.result()),
                            trends.window_retention(invoices.result(), as_of, params.churn_window_days,
                                                   out["segments"].index))),
    }

    def step(name: str) -> Callable[[], None]:
        message, compute = model_steps[name]

        def run() -> None:
            out[name] = steps.run(name, message, compute)
            done_with_lines(name)

        return run

    with days_shared(invoices):  # the CLV steps group its purchase days once, not four times
        _scheduled({name: step(name) for name in NEEDS}, MODEL_THREADS)
    table = out["segments"]
    (cluster_columns, clustering), (clv_columns, clv) = out["clustering"], out["clv"]
    churn_columns, churn = out["churn"]
    if isinstance(clv, ClvRecord):
        clv = replace(clv, validation=out["clv_validation"])
    for columns in (cluster_columns, clv_columns, churn_columns):
        if columns is not None:
            table = table.join(columns)
    journey = journeys.JourneyHistory(period="Q", inactive_days=journeys.DEFAULT_INACTIVE_DAYS,
                                      history=out["journeys"])
    table = table.join(journeys.customer_journey(out["journeys"])[["previous_segment", "current_segment",
                                                                  "last_change"]])
    monthly, cohorts, retention = out["trends"]
    progress(1.0, "Done")
    return Results(
        key=key,
        source=source_name,
        as_of=as_of,
        params=params,
        customers=compact_customers(table),
        quality=cleaned.report.to_dict(),
        monthly=monthly,
        cohorts=cohorts,
        clustering=clustering,
        clv=clv,
        churn=churn,
        journeys=journey,
        retention=retention,
        analytics_version=analytics.__version__,
        timings_s=steps.wall_s,
        step_cpu_s=steps.cpu_s,
    )


def run(transactions: pd.DataFrame, params: AnalysisParams | None = None, progress: Progress = _silent,
        source_name: str = "") -> Results:
    """Clean the canonical transactions and run every model, reporting ``progress(fraction, message)``."""
    params = params or AnalysisParams()
    progress(step_start("cleaning"), "Cleaning transactions")
    cleaned = _clean(transactions, params)
    return analyse(cleaned, params, results_key(cleaned.lines, params, source_name), progress,
                   source_name=source_name, release_lines=True)


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
    progress(step_start("reading"), "Reading data")
    # Cleaning is handed a frame of its own, which it empties as it goes: each raw column is freed once
    # cleaning is done with it rather than after, when nothing else holds the frame ``load`` gave (a frame
    # ``load`` also keeps elsewhere is left whole; it is only this shallow copy that loses its columns).
    transactions = load().copy(deep=False)
    give_back_freed()  # reading's temporaries, before cleaning's
    progress(step_start("cleaning"), "Cleaning transactions")
    cleaned = _clean(transactions, params, release_input=True)
    del transactions
    give_back_freed()
    # The invoice table is begun beside the fingerprint (which hashes without the GIL), before the key says
    # whether it is needed: on a miss, the usual case, it is; on a hit nothing waits for it.
    invoices = invoice_table_begun(cleaned.lines)
    data = fingerprint_data(cleaned.lines)
    key = results_key(cleaned.lines, params, source_name, data=data)

    def compute() -> Results:
        nonlocal cleaned
        results = analyse(cleaned, params, key, progress, stage_memo(cache, cleaned.lines, cleaned.as_of, data=data),
                          invoices, source_name, release_lines=True)
        cleaned = None  # the lines are freed before the results are pickled into the cache, not after
        cache.set(invoices_key(key), invoices.result())
        return results

    cache.get_or_compute(key, compute)
    if key not in cache:
        # diskcache culls beyond its size limit, the newest value too: say so rather than show nothing
        limit = getattr(cache, "size_limit_bytes", None)
        raise DataError("the results of this analysis are larger than the results cache can hold"
                        + (f" (its size limit is {limit / 2**20:,.0f} MB)" if limit else "")
                        + ", so they were not kept; the cache's size limit must be raised to analyse these data")
    if source_id is not None:
        cache.set(alias_key(source_id, params), key)
    progress(1.0, "Done")
    return key
