"""Uploads: the file is kept on the server under its content hash; the browser holds only that token.

With ``REDIS_URL`` the bytes live in Redis (analytics.shared_store.UploadBlobs), so a Celery worker or another
web process on another machine reads the same upload; each keeps a private local copy to read from.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

import dash
from dash import Input, Output, State

from analytics.columns import detect_mapping
from analytics.errors import DataError
from analytics.loading import read_transactions, source_columns
from analytics.shared_store import UploadBlobs, write_atomically
from callbacks import common
from components import ids
from components.mapping import mapping_editor
from settings import Settings


@lru_cache(maxsize=4)
def _blobs(url: str, local_dir: Path) -> UploadBlobs:
    return UploadBlobs(url, local_dir)


def stored_path(settings: Settings, token: dict) -> Path:
    """Where an uploaded file lives, from its token; DataError when it has gone (e.g. cache cleared)."""
    if settings.redis_url:  # this process's copy of the shared blob
        path = _blobs(settings.redis_url, settings.cache_dir / "uploads").local_path(token["sha256"], token["filename"])
    else:
        path = settings.cache_dir / "uploads" / token["sha256"] / Path(token["filename"]).name
    if path is None or not path.exists():
        raise DataError(f"the uploaded file {token['filename']!r} is no longer on the server: upload it again")
    return path


def store_upload(settings: Settings, contents: str, filename: str) -> dict:
    """Decode a dcc.Upload data URL and keep the bytes under their sha256; returns the token."""
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (IndexError, ValueError) as exc:
        raise DataError(f"the upload of {filename!r} arrived damaged; try again") from exc
    if not data:
        raise DataError(f"{filename!r} is empty (0 bytes)")
    limit = settings.upload_limit_mb * 1024 * 1024
    if len(data) > limit:
        raise DataError(f"{filename!r} is {len(data) / 2**20:.1f} MB; the limit is {settings.upload_limit_mb} MB")
    sha = hashlib.sha256(data).hexdigest()
    if settings.redis_url:
        _blobs(settings.redis_url, settings.cache_dir / "uploads").put(sha, data)
    write_atomically(settings.cache_dir / "uploads" / sha / Path(filename).name, data)
    return {"sha256": sha, "filename": Path(filename).name}


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        Output(ids.UPLOAD_STORE, "data"),
        Output(ids.UPLOAD_NAME, "children"),
        Output(ids.UPLOAD_ERROR, "children"),
        Output(ids.MAPPING_TABLE, "children"),
        Output(ids.DATASET, "value"),
        Input(ids.UPLOAD, "contents"),
        State(ids.UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def receive_upload(contents, filename):
        try:
            token = store_upload(settings, contents, filename or "upload.csv")
            path = stored_path(settings, token)
            columns = source_columns(path)
        except DataError as error:  # unreadable: the previous file and results stay, nothing is lost
            return dash.no_update, dash.no_update, common.error_alert(error), None, dash.no_update
        try:
            frame = read_transactions(path)
        except DataError as error:
            # readable but not usable as it stands: keep it, so a corrected mapping can run on it
            note = f"{token['filename']}: choose the missing columns below, then press Run analysis."
            return ({**token, "ready": False}, note, common.error_alert(error),
                    mapping_editor(columns, detect_mapping(columns)), "upload")
        note = f"{token['filename']}: {len(frame):,} rows read; the analysis starts with the mapping below."
        return ({**token, "ready": True}, note, None,
                mapping_editor(columns, frame.attrs.get("loading", {}).get("mapping", {})), "upload")
