"""A small tmpfs to run out of disk space in: mounted, filled to the last byte, unmounted. Used by the
storage-failure test and the fault benchmark (mounting needs root, as in the project's container)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def mount(path: Path, size_mb: int) -> str | None:
    """Mount a tmpfs of ``size_mb`` at ``path`` (created if missing); None, or why it could not be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)],
                          capture_output=True)
    return None if done.returncode == 0 else done.stderr.decode().strip() or f"mount exited {done.returncode}"


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)  # lazily: files may still be open


def fill(folder: Path) -> Path:
    """Write one file in ``folder`` until the file system refuses another byte; that file (delete it to make
    room again)."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 2**20)
                handle.flush()
        except OSError:
            pass  # full
    return filler
