"""Celery worker entry point: ``REDIS_URL=redis://... celery -A worker worker``.

It builds the same Dash app as the web processes (``app.create_app`` from the same environment), because Dash
registers each background callback as a Celery task while the app's callbacks are registered: a worker that
did not build the app would receive runs it has no task for. The task names hash each callback's source, so
web and worker must run the same code.
"""

from __future__ import annotations

import redis
from celery import bootsteps

import app as web
from analytics.shared_store import WORKER_BEAT_S, connect, mark_worker_alive
from settings import Settings

_settings: Settings = web.server.config["RCT_SETTINGS"]
if not _settings.redis_url:
    raise SystemExit("error: REDIS_URL is not set; the Celery worker needs the Redis the web processes use")

# ``celery -A worker`` looks for an attribute named ``celery``
celery = web.celery_app(_settings.redis_url, _settings.worker_concurrency)
# a finished run's result is worth waiting for Redis to come back (celery's default: ~20 s of retries);
# the web processes retry briefly so that a click is answered in seconds
celery.conf.result_backend_transport_options = {}


class MarksItselfAlive(bootsteps.StartStopStep):
    """Keeps ``shared_store.WORKER_ALIVE`` set while this worker runs, so that a page can say that a queued
    run waits for no worker at all. Beats from the worker's event-loop timer, not a thread of its own: the
    pool's processes are forked from this one, and a thread holding a lock at a fork leaves it held in the
    child."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.client = connect(_settings.redis_url)
        self.beats = None

    def start(self, parent):
        self.beat()
        self.beats = parent.timer.call_repeatedly(WORKER_BEAT_S, self.beat, priority=10)

    def stop(self, parent):
        if self.beats is not None:
            self.beats.cancel()
            self.beats = None

    def beat(self):
        try:
            mark_worker_alive(self.client)
        except redis.RedisError:
            pass  # Redis is down: the broker's reconnection says so, and the beats resume with it


celery.steps["worker"].add(MarksItselfAlive)
