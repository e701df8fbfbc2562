"""How the results cache writes a value: pickled straight into its file, never whole in memory first.

diskcache's ``Disk.store`` pickles a value into one bytes object, then writes it. A 100M-line run's results
pickle to about 4 GB, so storing them held that much memory again on top of the results themselves; at 10M
lines it was 180 MB over the run's level. ``StreamingDisk`` pickles into a small buffer that becomes the value's
file once it outgrows diskcache's ``min_file_size``: small values stay in SQLite as before, large ones go to
disk as they are pickled (protocol 5 writes numpy's and Arrow's buffers through without copying them). Reading
is diskcache's own (``pickle.load`` from the file), so a cache written either way reads either way.
"""

from __future__ import annotations

import io
import os
import pickle
import sqlite3
from typing import Any

import diskcache
from diskcache.core import MODE_PICKLE, UNKNOWN

__all__ = ["StreamingDisk"]


class _Spill:
    """A write-only stream that keeps its first bytes in memory and moves to a file past ``threshold`` bytes."""

    def __init__(self, disk: diskcache.Disk, key: Any, value: Any, threshold: int) -> None:
        self._disk, self._key, self._value, self._threshold = disk, key, value, threshold
        self._memory: io.BytesIO | None = io.BytesIO()
        self._file = None
        self.filename: str | None = None
        self.full_path: str | None = None

    def write(self, data) -> int:
        if self._memory is not None:
            if self._memory.tell() + memoryview(data).nbytes < self._threshold:
                return self._memory.write(data)
            self.filename, self.full_path = self._disk.filename(self._key, self._value)
            os.makedirs(os.path.dirname(self.full_path), exist_ok=True)
            self._file = open(self.full_path, "xb")
            self._file.write(self._memory.getbuffer())
            self._memory = None
        return self._file.write(data)

    def in_memory(self) -> bytes | None:
        return None if self._memory is None else self._memory.getvalue()

    def close(self) -> int:
        """Bytes written to the file (0 when the value stayed in memory)."""
        if self._file is None:
            return 0
        size = self._file.tell()
        self._file.close()
        return size

    def discard(self) -> None:
        self.close()
        if self.full_path is not None:
            os.remove(self.full_path)


class StreamingDisk(diskcache.Disk):
    """``diskcache.Disk`` whose pickled values are streamed to their file (see the module docstring)."""

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple:
        if read or type(value) in (str, int, float, bytes):
            return super().store(value, read, key=key)
        spill = _Spill(self, key, value, self.min_file_size)
        try:
            pickle.dump(value, spill, protocol=self.pickle_protocol)
        except BaseException:
            spill.discard()
            raise
        size = spill.close()
        small = spill.in_memory()
        if small is not None:
            return 0, MODE_PICKLE, None, sqlite3.Binary(small)
        return size, MODE_PICKLE, spill.filename, None
