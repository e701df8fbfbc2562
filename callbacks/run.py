"""Run the analysis in a background callback: progress bar, cancel button, the results key into the Store."""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import parse_qs

import dash
from dash import ALL, Input, Output, State

import auth
from analytics import pipeline
from analytics.cache import KeyRecorder
from analytics.datasets import load_dataset
from analytics.columns import detect_mapping
from analytics.errors import DataError
from analytics.loading import read_transactions, source_columns
from analytics.params import AnalysisParams
from callbacks import common, database, uploads
from components import ids
from components.database_source import DATABASE
from components.mapping import mapping_editor
from components.data_tab import AUTO_CLV_MODEL

logger = logging.getLogger(__name__)


def params_from_inputs(as_of, horizon, gross_margin_pct, discount_pct, churn_window, method, k, k_range,
                       clv_model=AUTO_CLV_MODEL) -> AnalysisParams:
    """AnalysisParams from the Data tab's controls (percentages in the UI, fractions in analytics)."""

    def number(value, name, cast):
        if value in (None, ""):
            raise DataError(f"{name} is empty: enter a number")
        return cast(value)

    return AnalysisParams(
        as_of=as_of or None,
        clv_horizon_months=number(horizon, "CLV horizon", int),
        gross_margin_fraction=number(gross_margin_pct, "gross margin", float) / 100,
        monthly_discount_rate=number(discount_pct, "monthly discount rate", float) / 100,
        churn_window_days=number(churn_window, "churn window", int),
        cluster_method=method,
        cluster_k=int(k) if k not in (None, "") else None,
        k_min=int(k_range[0]),
        k_max=int(k_range[1]),
        clv_model=None if clv_model in (None, AUTO_CLV_MODEL) else clv_model,
    )


PARAM_STATES = [
    State(ids.PARAM_AS_OF, "value"),
    State(ids.PARAM_HORIZON, "value"),
    State(ids.PARAM_MARGIN, "value"),
    State(ids.PARAM_DISCOUNT, "value"),
    State(ids.PARAM_CHURN_WINDOW, "value"),
    State(ids.PARAM_CLUSTER_METHOD, "value"),
    State(ids.PARAM_CLUSTER_K, "value"),
    State(ids.PARAM_K_RANGE, "value"),
    State(ids.PARAM_CLV_MODEL, "value"),
]


def run_slot(settings, cache, progress):
    """A place among the server's concurrent runs, waiting in line (its place shown) while all are taken.
    Under Celery the worker's concurrency bounds the runs and its queue is the line."""
    if settings.redis_url:
        return contextlib.nullcontext()
    return cache.run_slot(settings.max_concurrent_runs,
                          waiting=lambda place: progress(0.0, f"Waiting for a free slot: {place} in line"))


def dataset_results(settings, dataset: str, param_values, linked: str | None = None,
                    user: auth.User | None = None) -> dict:
    """The results the page opens on: those a share link names (``linked``) when ``user`` may read them;
    else an embedded dataset's straight from the cache when they are there (no job to start, so the page opens
    fast), otherwise the dataset for the background run (``autorun``) to compute. A link whose results the
    user may not read is said so (as for results that do not exist) and the dataset is shown instead."""
    cache = common.results_cache(settings)
    alert = dash.no_update
    if linked is not None:
        if auth.may_read(cache, linked, user):
            return {"key": linked, "autorun": dash.no_update, "alert": dash.no_update}
        alert = common.error_alert(auth.UNKNOWN_RESULTS,
                                   title="The link's results cannot be shown")
    if dataset in ("upload", DATABASE):
        raise dash.exceptions.PreventUpdate  # an upload starts its own run; a database needs a table
    try:
        key = pipeline.cached_key(cache, f"dataset:{dataset}", params_from_inputs(*param_values))
    except DataError:
        key = None  # the background run reports the problem
    if key:
        auth.grant(cache, key, everyone=True)
    return ({"key": key, "autorun": dash.no_update, "alert": alert} if key
            else {"key": dash.no_update, "autorun": dataset, "alert": alert})


def linked_results(search: str | None) -> str | None:
    """The results key a share link names (``results=`` in its query), if any."""
    return (parse_qs((search or "").lstrip("?")).get("results") or [None])[-1]


RUN_OUTPUTS = {"key": Output(ids.RESULTS_KEY, "data"), "error": Output(ids.RUN_ERROR, "children"),
               "mapping": Output(ids.MAPPING_TABLE, "children", allow_duplicate=True)}


def editor_mapping(values, editor_ids) -> dict:
    """The mapping editor's choices as the whole mapping: a cleared dropdown means "not in the file"."""
    return {i["canonical"]: v or None for i, v in zip(editor_ids, values)}


def analysis_outputs(settings, new_upload: bool, upload, dataset: str, mapping_choice, db_choice, param_values,
                     progress, owner: auth.User | None = None) -> dict:
    """Run (or find cached) the analysis the Data tab asks for: the results key, or the error shown instead of
    a spinner; and, for a new upload, the mapping editor with the columns detected in it. An upload's results
    are readable by ``owner`` (who ran it) and their teams; the others' by everyone."""
    if new_upload and not upload:
        return {key: dash.no_update for key in RUN_OUTPUTS}
    editor = dash.no_update
    try:
        params = params_from_inputs(*param_values)
        if dataset == "upload" or new_upload:
            upload_id, data, name = uploads.uploaded_file(settings, upload)
            limits = uploads.read_limits(settings)
            if new_upload:  # its first run: read the header, show the detected mapping to correct
                progress(0.0, f"Reading {name}")
                try:
                    columns = source_columns(data, filename=name, limits=limits)
                except DataError:
                    uploads.delete_upload(settings, upload_id)  # rejected: not kept on the server
                    raise
                detected = detect_mapping(columns)
                editor = mapping_editor(columns, detected)
                mapping = None
            else:  # the editor's choices are the whole mapping: a cleared dropdown means "not in the file"
                mapping = editor_mapping(*mapping_choice)
            # the display name is part of the source: the same bytes under another name show that name
            source_id = f"upload:{upload_id}:{name}:{sorted((mapping or {}).items())}"
            source_name = name

            def load():
                return read_transactions(data, filename=name, mapping=mapping or None, limits=limits)
        elif dataset == DATABASE:
            # no source alias: every run reads the database again, so new rows are picked up, and the
            # results are keyed by the cleaned lines' content, so an unchanged table is a cache hit
            source = database.source_for(settings, *db_choice)
            mapping = editor_mapping(*mapping_choice)
            source_id, source_name = None, source.label

            def load():
                from analytics.database import read_database  # SQLAlchemy only where a database is read
                return read_database(source, mapping=mapping or None, limits=settings.db_limits,
                                     progress=lambda rows: progress(0.03, f"Reading {source.label}: "
                                                                          f"{rows:,} rows"))
        else:
            source_id, source_name = f"dataset:{dataset}", dataset

            def load():
                return load_dataset(dataset)

        cache = KeyRecorder(common.results_cache(settings))  # what this run writes, to delete it later
        with run_slot(settings, cache, progress):
            key = pipeline.run_cached(load, params, cache, source_id=source_id, source_name=source_name,
                                      progress=progress)
        auth.grant(cache, key, everyone=not (dataset == "upload" or new_upload), owner=owner)
        if dataset == "upload" or new_upload:
            uploads.record_derived(cache, upload_id, cache.written)
    except DataError as error:
        return {"key": dash.no_update, "error": common.error_alert(error), "mapping": editor}
    except common.STORAGE_ERRORS as error:
        return {"key": dash.no_update, "error": common.storage_alert(error), "mapping": editor}
    except Exception:  # a bug must not leave the user with a silent spinner or a traceback
        logger.exception("analysis failed")
        return {"key": dash.no_update, "mapping": editor, "error": common.error_alert(
            "the analysis failed unexpectedly; the previous results are still shown. The server log has "
            "the details.", title="Something went wrong")}
    return {"key": key, "error": None, "mapping": editor}


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        output={"key": Output(ids.RESULTS_KEY, "data", allow_duplicate=True), "autorun": Output(ids.AUTORUN, "data"),
                "alert": Output(ids.SERVER_ALERT, "children", allow_duplicate=True)},
        inputs={"dataset": Input(ids.DATASET, "value"), "search": Input(ids.LOCATION, "search"),
                "param_values": PARAM_STATES},
        prevent_initial_call="initial_duplicate",
    )
    def show_dataset(dataset, search, param_values):
        # a share link's results when the page opens; the dataset the admin picks afterwards
        picked = set(dash.ctx.triggered_prop_ids) == {f"{ids.DATASET}.value"}
        linked = None if picked else linked_results(search)
        return dataset_results(settings, dataset, param_values, linked, auth.current_user())

    @app.callback(
        output=RUN_OUTPUTS,
        inputs={
            "clicks": Input(ids.RUN_BUTTON, "n_clicks"),
            "upload": Input(ids.UPLOAD_STORE, "data"),  # a good upload starts its analysis at once
            "autorun": Input(ids.AUTORUN, "data"),  # a dataset whose results are not cached yet
            "dataset": State(ids.DATASET, "value"),
            "mapping": (State({"type": "mapping", "canonical": ALL}, "value"),
                        State({"type": "mapping", "canonical": ALL}, "id")),
            "db_choice": (State(ids.DB_CONNECTION, "value"), State(ids.DB_KIND, "value"), State(ids.DB_TABLE, "value"),
                          State(ids.DB_QUERY, "value")),
            "param_values": PARAM_STATES,
        },
        background=True,
        progress=[Output(ids.RUN_PROGRESS, "value"), Output(ids.RUN_PROGRESS_TEXT, "children")],
        progress_default=[0, ""],
        running=[
            (Output(ids.RUN_BUTTON, "disabled"), True, False),
            (Output(ids.CANCEL_BUTTON, "disabled"), False, True),
            (Output(ids.DATASET, "disabled"), True, False),
            (Output(ids.UPLOAD, "disabled"), True, False),
        ],
        cancel=[Input(ids.CANCEL_BUTTON, "n_clicks")],
        interval=300,
        prevent_initial_call=True,
    )
    def run_analysis(set_progress, clicks, upload, autorun, dataset, mapping, db_choice, param_values):
        def progress(fraction: float, message: str) -> None:
            set_progress((round(fraction * 100), message))

        return analysis_outputs(settings, dash.ctx.triggered_id == ids.UPLOAD_STORE, upload, dataset, mapping,
                                db_choice, param_values, progress, auth.requester(app.server))
