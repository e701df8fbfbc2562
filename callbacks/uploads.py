"""Uploads: the web request only checks the size, decodes and stores the bytes under a server-made id.

Reading the file (decompressing, parsing) happens in the background run, under the settings' caps, never
in a web worker. The browser's store holds the id and the uploader's file name, shown as text only.

With ``REDIS_URL`` the bytes live in Redis (analytics.shared_store.RedisUploadStore), so a Celery worker or
another web process on another machine reads the same upload.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

import dash
from dash import Input, Output, State

from analytics.errors import DataError
from analytics.loading import ReadLimits
from analytics.shared_store import RedisUploadStore
from analytics.uploads import UploadStore, display_name, valid_upload_id
from callbacks import common
from components import ids
from settings import Settings


@lru_cache(maxsize=4)
def _redis_store(url: str, ttl_s: int) -> RedisUploadStore:
    return RedisUploadStore(url, ttl_s=ttl_s)


def upload_store(settings: Settings) -> UploadStore | RedisUploadStore:
    """Where uploads live: Redis when ``REDIS_URL`` is set (shared by every process), else the cache directory."""
    if settings.redis_url:
        return _redis_store(settings.redis_url, round(settings.retention_days * 86400))
    return UploadStore(settings.cache_dir / "uploads")


def read_limits(settings: Settings) -> ReadLimits:
    return ReadLimits(max_decompressed_bytes=settings.max_decompressed_mb * 2**20, max_rows=settings.max_rows)


def uploaded_file(settings: Settings, token: object) -> tuple[str, bytes, str]:
    """(id, bytes, display name) of the upload a browser token names; DataError for a forged or stale one."""
    if not isinstance(token, dict):
        raise DataError("no file uploaded yet: drop a file on the upload area first")
    upload_id = valid_upload_id(token.get("upload_id"))
    name = display_name(token.get("filename"))
    return upload_id, upload_store(settings).read(upload_id), name


def delete_upload(settings: Settings, upload_id: str) -> None:
    """Remove an upload at once (rejected, or deleted by an admin)."""
    upload_store(settings).delete(upload_id)


def store_upload(settings: Settings, contents: object, filename: object) -> dict:
    """Check the size from the data URL's length (before decoding), decode, store; the browser's token."""
    name = display_name(filename)
    if not isinstance(contents, str) or "," not in contents:
        raise DataError(f"the upload of {name!r} arrived damaged; try again")
    encoded = contents.split(",", 1)[1]
    size_bytes = len(encoded) * 3 // 4 - encoded[-2:].count("=")
    if size_bytes > settings.upload_limit_bytes:
        raise DataError(f"{name!r} is {size_bytes / 2**20:.1f} MB; the limit is {settings.upload_limit_mb} MB")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataError(f"the upload of {name!r} arrived damaged; try again") from exc
    if not data:
        raise DataError(f"{name!r} is empty (0 bytes)")
    store = upload_store(settings)
    upload_id = store.put(data)
    store.expire(settings.retention_days)  # each upload sweeps out those past the retention period
    return {"upload_id": upload_id, "filename": name, "size_bytes": len(data)}


UPLOAD_OUTPUTS = {
    "token": Output(ids.UPLOAD_STORE, "data"), "name": Output(ids.UPLOAD_NAME, "children"),
    "error": Output(ids.UPLOAD_ERROR, "children"), "mapping": Output(ids.MAPPING_TABLE, "children"),
    "dataset": Output(ids.DATASET, "value"),
}


def received(settings: Settings, contents: object, filename: object) -> dict:
    """What the Data tab shows for an upload: its token and name and the upload data source, or why it was
    refused (the previous file and results stay, nothing is lost)."""
    try:
        token = store_upload(settings, contents, filename)
    except DataError as error:
        return {key: dash.no_update for key in UPLOAD_OUTPUTS} | {"error": common.error_alert(error)}
    except OSError as error:  # full or read-only disk: say so, the app carries on
        return {key: dash.no_update for key in UPLOAD_OUTPUTS} | {"error": common.storage_alert(error)}
    note = f"{token['filename']}: received ({token['size_bytes'] / 2**20:.1f} MB); the analysis reads it now."
    return {"token": token, "name": note, "error": None, "mapping": None, "dataset": "upload"}


def derived_key(upload_id: str) -> str:
    """Cache key of the list of keys every run on this upload wrote (results, tables, model stages)."""
    return f"derived:{upload_id}"


def record_derived(cache, upload_id: str, written: set[str]) -> None:
    cache.set(derived_key(upload_id), sorted(set(cache.get(derived_key(upload_id)) or ()) | written))


def delete_dataset(settings: Settings, token: object) -> int:
    """Delete an upload and everything derived from it; the number of stored items deleted."""
    upload_id = valid_upload_id(token.get("upload_id") if isinstance(token, dict) else None)
    cache = common.results_cache(settings)
    keys = list(cache.get(derived_key(upload_id)) or ())
    for key in keys:
        cache.delete(key)
        cache.delete(f"access:{key}")  # a key still held by a page is refused from now on
    cache.delete(derived_key(upload_id))
    delete_upload(settings, upload_id)
    common.forget_loaded_results()
    return len(keys)


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        output=UPLOAD_OUTPUTS,
        # the name is an Input too: the same bytes under another name are an upload (their contents are equal)
        inputs={"contents": Input(ids.UPLOAD, "contents"), "filename": Input(ids.UPLOAD, "filename")},
        prevent_initial_call=True,
    )
    def receive_upload(contents, filename):
        return received(settings, contents, filename)

    @app.callback(
        output={"token": Output(ids.UPLOAD_STORE, "data", allow_duplicate=True),
                "name": Output(ids.UPLOAD_NAME, "children", allow_duplicate=True),
                "error": Output(ids.UPLOAD_ERROR, "children", allow_duplicate=True),
                "mapping": Output(ids.MAPPING_TABLE, "children", allow_duplicate=True),
                "dataset": Output(ids.DATASET, "value", allow_duplicate=True)},
        inputs={"clicks": Input(ids.DELETE_UPLOAD, "n_clicks"), "token": State(ids.UPLOAD_STORE, "data")},
        prevent_initial_call=True,
    )
    def delete(clicks, token):
        """The admin deletes the upload and its results; the page goes back to the default dataset."""
        if not token:
            return {key: dash.no_update for key in ("token", "name", "mapping", "dataset")} | {
                "error": common.error_alert("there is no upload to delete", title="Nothing deleted")}
        try:
            count = delete_dataset(settings, token)
        except DataError as error:
            return {key: dash.no_update for key in ("token", "name", "mapping", "dataset")} | {
                "error": common.error_alert(error, title="Nothing deleted")}
        name = token.get("filename", "the upload")
        return {"token": None, "name": f"{name} and {count} stored results derived from it were deleted.",
                "error": None, "mapping": None, "dataset": settings.default_dataset}
