"""Retention Control Tower: the Dash application factory and the WSGI ``server`` for gunicorn.

``python app.py`` runs it locally on http://127.0.0.1:8050; ``gunicorn app:server`` serves it in production.
"""

from __future__ import annotations

import gc
import json
import logging
from functools import lru_cache
from pathlib import Path

import dash
import flask_login
import kombu.exceptions
import redis

from analytics.shared_store import any_worker_alive
from settings import Settings
from components import ids, vendor
from components.layout import LAZY_TABS, build_layout
import auth
import callbacks
from callbacks import common

logger = logging.getLogger(__name__)

TITLE = "Retention Control Tower"


QUICK_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


@lru_cache(maxsize=2)
def celery_app(redis_url: str, concurrency: int):
    """The Celery app on Redis (broker and result backend) that web processes send runs to and
    ``celery -A worker worker`` runs them from; one per URL, so every app built in a process shares it."""
    from celery import Celery

    queue = Celery("retention_control_tower", broker=redis_url, backend=redis_url)
    queue.conf.update(
        worker_concurrency=concurrency,  # at most this many ~650 MB analyses at once per worker; others wait
        worker_prefetch_multiplier=1,  # a long run must not hold queued runs that an idle process could take
        broker_connection_retry_on_startup=True,
        result_expires=3600,  # Dash reads a run's result once; stale ones go after an hour
        worker_hijack_root_logger=False,
        # with Redis down, a click must be answered in seconds (celery's defaults retry for ~20 s); the
        # worker keeps the patient defaults for storing results (worker.py)
        redis_socket_connect_timeout=2,
        broker_connection_timeout=2,
        task_publish_retry_policy=QUICK_RETRY,
        result_backend_transport_options={"retry_policy": QUICK_RETRY},
    )
    return queue


def background_manager(settings: Settings):
    """Celery on Redis when ``REDIS_URL`` is set, else diskcache on the shared cache directory.

    The directory must be explicit and shared: with a per-process temp dir each gunicorn worker would have
    its own queue and results would never reach the worker that serves the page.
    """
    if settings.redis_url:
        return ReportingCeleryManager(celery_app(settings.redis_url, settings.worker_concurrency))
    import diskcache

    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    return ReportingDiskcacheManager(diskcache.Cache(str(settings.cache_dir / "background")))


DIED = "the analysis process stopped before finishing (it was killed or ran out of memory)"
NO_STORAGE = "the analysis could not save its results: the server cannot write to its storage"
# What a background job whose process died returns in place of a result (on_callback_error shows it).
PROCESS_DIED = {"background_callback_error": {"msg": DIED, "tb": ""}}


NOT_QUEUED = {"background_callback_error": {
    "msg": "the analysis could not be queued: the shared store (Redis) is unreachable; the previous results "
           "are still shown. Try again in a moment", "tb": ""}}


class ReportingDiskcacheManager(dash.DiskcacheManager):
    """Dash's diskcache manager, but a job whose process died without a result is reported as an error
    (killed, out of memory, or unable to write: said which) instead of ending in silence; a job the user
    cancelled still ends quietly."""

    def terminate_job(self, job):
        if job:
            self.handle.set(f"rct-cancelled:{job}", True, expire=3600)
        return super().terminate_job(job)

    def get_result(self, key, job):
        result = super().get_result(key, job)
        if (result is self.UNDEFINED and job and not self.job_running(job)
                and not self.handle.get(f"rct-cancelled:{job}")):
            # the process may have written its result just before exiting: read once more
            result = super().get_result(key, job)
            if result is self.UNDEFINED:
                problem = common.storage_problem(Path(self.handle.directory))
                logger.error("background job %s ended without a result: %s", job, problem or "its process died")
                message = f"{NO_STORAGE} ({problem})" if problem else DIED
                return {"background_callback_error": {"msg": message, "tb": ""}}
        return result


class ReportingCeleryManager(dash.CeleryManager):
    """Dash's Celery manager, but failures reach the user instead of ending in silence:

    - a task whose worker process died (kill -9, out of memory: Celery marks it FAILURE with
      WorkerLostError) is reported as an error; a cancelled task is REVOKED and ends quietly;
    - a run waiting in the queue (every worker process busy, or no worker running) says so until it starts;
    - a run that cannot be queued (Redis down) gets a stand-in job id; the browser's first poll of it is
      answered with an error (Dash drops an error handler's message when the queueing itself fails), and
      the polls' own reads of Redis are skipped for it.
    """

    STAND_IN_JOB = "not-queued"

    def call_job_fn(self, key, job_fn, args, context):
        try:
            self._say_queued(key, context)
            return super().call_job_fn(key, job_fn, args, context)
        except (kombu.exceptions.OperationalError, redis.exceptions.RedisError, RuntimeError) as error:
            logger.error("the run could not be queued: %s", error)
            return self.STAND_IN_JOB

    def _say_queued(self, key, context) -> None:
        """Show the run as queued (``common.queued_progress``: for a busy worker, or for none running) until
        its worker reports progress. Written before the run is sent, so the worker's first progress always
        comes after it and replaces it."""
        outputs = [output for item in context.get("outputs_list") or []
                   for output in (item if isinstance(item, list) else [item])]  # a wildcard's outputs: a list
        backend = self.handle.backend
        queued = common.queued_progress((o.get("id") for o in outputs), any_worker_alive(backend.client))
        if queued is not None:
            backend.set(self._make_progress_key(key), json.dumps(queued))

    def _queued(self, job) -> bool:
        return job != self.STAND_IN_JOB

    def job_running(self, job):
        return self._queued(job) and super().job_running(job)

    def terminate_job(self, job):
        if self._queued(job):
            super().terminate_job(job)

    def get_progress(self, key):
        try:
            return super().get_progress(key)
        except redis.exceptions.RedisError:
            return None  # the poll's answer (below) says what went wrong

    def get_updated_props(self, key):
        try:
            return super().get_updated_props(key)
        except redis.exceptions.RedisError:
            return {}

    def get_result(self, key, job):
        if not self._queued(job):
            return NOT_QUEUED
        result = super().get_result(key, job)
        if result is self.UNDEFINED and job and self.get_task(job).status == "FAILURE":
            logger.error("Celery task %s ended without a result (its worker process died)", job)
            return PROCESS_DIED
        return result


def on_callback_error(error: Exception) -> None:
    """Any failure a callback did not handle: logged with its traceback, and a message on screen."""
    text = str(error)
    not_queued = NOT_QUEUED["background_callback_error"]["msg"]
    if isinstance(error, common.STORAGE_ERRORS):
        alert = common.storage_alert(error)
    elif NO_STORAGE in text:
        alert = common.storage_alert(OSError(text.split(NO_STORAGE, 1)[1].strip(" ()\n")))
    elif not_queued in text:
        alert = common.error_alert(not_queued, title="Server storage problem")
    else:
        logger.error("callback failed", exc_info=error)
        alert = common.error_alert(
            f"{DIED}; the previous results are still shown. Try again, or with a smaller file." if DIED in text else
            "this action failed unexpectedly; what is on screen is unchanged. The server log has the details.",
            title="Something went wrong")
    dash.set_props(ids.SERVER_ALERT, {"children": alert})


def security_headers(app: dash.Dash, settings: Settings) -> None:
    """CSP, X-Frame-Options, nosniff and friends through flask-talisman (maintained; one place for them).

    Scripts only from this server plus the hashes of Dash's own inline scripts (``app.csp_hashes``), so an
    injected script cannot run; inline styles are allowed because Dash and Plotly set element styles.
    """
    from flask_talisman import Talisman

    Talisman(
        app.server,
        force_https=settings.https,
        strict_transport_security=settings.https,
        session_cookie_secure=settings.https,
        frame_options="DENY",
        content_security_policy={
            "default-src": "'self'",
            "script-src": ["'self'", *app.csp_hashes()],
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": ["'self'", "data:", "blob:"],
            "font-src": ["'self'", "data:"],
            "worker-src": ["'self'", "blob:"],
            "frame-ancestors": "'none'",
            "form-action": "'self'",
            "base-uri": "'self'",
            "object-src": "'none'",
        },
        referrer_policy="same-origin",
    )


def create_app(settings: Settings | None = None, served: bool = False) -> dash.Dash:
    """Build the app: layout, locally served Bootstrap, background manager, every tab's callbacks.

    Sign-in is on when the settings say so, else when ``served`` (gunicorn imports ``server``); a local
    ``python app.py`` runs with it off and says so on the page.
    """
    settings = settings or Settings.from_env()
    sign_in = settings.auth_required if settings.auth_required is not None else served
    app = dash.Dash(
        __name__,
        title=TITLE,
        external_stylesheets=vendor.STYLESHEETS,
        background_callback_manager=background_manager(settings),
        suppress_callback_exceptions=True,
        on_error=on_callback_error,
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    vendor.register_vendor_route(app.server)
    # an upload arrives base64-encoded (4/3 of its size) in a JSON request; 1 MiB for the rest of the request
    app.server.config["MAX_CONTENT_LENGTH"] = settings.upload_limit_bytes * 4 // 3 + 2**20
    app.server.config["RCT_SETTINGS"] = settings

    def layout():  # per request: the signed-in user's name and the tabs their role sees
        user = flask_login.current_user if sign_in else None
        return build_layout(settings, frozenset(auth.hidden_tabs()), user.get_id() if user else None, sign_in)

    app.layout = layout
    security_headers(app, settings)
    roles = callbacks.register_all(app)
    auth.install(app.server, settings, sign_in, roles, lambda: common.results_cache(settings),
                 {ids.RESULTS_KEY, *(ids.tab_key(tab) for tab in LAZY_TABS)}, app.callback_map)
    _set_up_before_serving(app)  # Dash's set-up hook runs before sign-in's, so it happens even when signed out
    return app


def _set_up_before_serving(app: dash.Dash) -> None:
    """Run Dash's first-request set-up now, while the process is not serving yet.

    Dash registers its script bundles on a process's first request; under a threaded gunicorn worker, a
    script request that arrives while another thread is still in that set-up is answered 500 ("dash is not
    a registered library"), which breaks a fresh deploy's first page view. One request through the test
    client here makes every worker (and ``python app.py``) ready before it accepts a connection.
    """
    app.server.test_client().get(app.config.requests_pathname_prefix)


app = create_app(served=__name__ != "__main__")
server = app.server
# What the process has built so far (the modules, the app) lives as long as it does: frozen out of the garbage
# collector's scans (see analytics.startup), as are the runs forked from it, so that their full collections
# look at the run's own objects only.
gc.freeze()

if __name__ == "__main__":
    _settings = server.config["RCT_SETTINGS"]
    app.run(host=_settings.host, port=_settings.port, debug=_settings.debug)
