"""Uploaded files on the server, looked up by an id the server made: nothing the browser sends is a path.

The id is the sha256 of the bytes (the same file uploaded twice is stored once); it is validated as a
64-character hex digest and resolved inside the store's folder, so a forged id such as ``../../etc`` is
refused before any file is touched. The uploader's file name is display text kept by the caller, never
part of a path. Files older than the retention period are removed by ``expire``.

Another backend (e.g. Redis) implements the same ``put`` / ``read`` / ``delete`` / ``expire``; callers use
nothing else.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

from analytics.errors import DataError

_UPLOAD_ID = re.compile(r"[0-9a-f]{64}")
_NOT_VALID = "this upload reference is not valid (it did not come from this server): upload the file again"


def valid_upload_id(value: object) -> str:
    """The id itself when it is a sha256 hex digest; DataError otherwise (forged or damaged token)."""
    if isinstance(value, str) and _UPLOAD_ID.fullmatch(value):
        return value
    raise DataError(_NOT_VALID)


def display_name(filename: object) -> str:
    """The uploader's file name as text to show, checked: DataError for names no file system would accept."""
    if not isinstance(filename, str) or not filename.strip():
        return "upload"
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", ".."):
        raise DataError(f"the file name {filename[:80]!r} is not a file name: rename the file and upload it again")
    if len(name.encode("utf-8", "replace")) > 255:
        raise DataError(f"the file name is {len(name.encode('utf-8', 'replace'))} bytes long (it starts "
                        f"{name[:40]!r}); file names can be at most 255 bytes: rename the file")
    return name


class UploadStore:
    """Uploaded bytes in one folder, one file per id."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def _path(self, upload_id: object) -> Path:
        path = (self.directory / valid_upload_id(upload_id)).resolve()
        if path.parent != self.directory.resolve():  # cannot happen with a hex id; kept as the invariant
            raise DataError(_NOT_VALID)
        return path

    def put(self, data: bytes) -> str:
        """Store the bytes (written to a temporary file, then renamed: a reader never sees half a file)."""
        upload_id = hashlib.sha256(data).hexdigest()
        path = self._path(upload_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.directory, prefix=".partial-", delete=False) as handle:
            try:
                handle.write(data)
            except BaseException:
                os.unlink(handle.name)
                raise
        os.replace(handle.name, path)
        return upload_id

    def read(self, upload_id: object) -> bytes:
        path = self._path(upload_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise DataError("the uploaded file is no longer on the server (it expired or was deleted): "
                            "upload it again") from None

    def delete(self, upload_id: object) -> bool:
        try:
            self._path(upload_id).unlink()
            return True
        except FileNotFoundError:
            return False

    def expire(self, max_age_days: float) -> list[str]:
        """Delete uploads (and abandoned partial writes) older than ``max_age_days``; their ids."""
        if not self.directory.is_dir():
            return []
        cutoff = time.time() - max_age_days * 86400
        removed = []
        for path in self.directory.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    if _UPLOAD_ID.fullmatch(path.name):
                        removed.append(path.name)
            except FileNotFoundError:
                continue  # another worker removed it
        return removed
