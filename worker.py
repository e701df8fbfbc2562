"""Celery worker entry point: ``REDIS_URL=redis://... celery -A worker worker``.

It builds the same Dash app as the web processes (``app.create_app`` from the same environment), because Dash
registers each background callback as a Celery task while the app's callbacks are registered: a worker that
did not build the app would receive runs it has no task for. The task names hash each callback's source, so
web and worker must run the same code.
"""

from __future__ import annotations

import app as web
from settings import Settings

_settings: Settings = web.server.config["RCT_SETTINGS"]
if not _settings.redis_url:
    raise SystemExit("error: REDIS_URL is not set; the Celery worker needs the Redis the web processes use")

# ``celery -A worker`` looks for an attribute named ``celery``
celery = web.celery_app(_settings.redis_url, _settings.worker_concurrency)
# a finished run's result is worth waiting for Redis to come back (celery's default: ~20 s of retries);
# the web processes retry briefly so that a click is answered in seconds
celery.conf.result_backend_transport_options = {}
