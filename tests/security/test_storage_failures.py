"""A full cache directory: every action gets a message and the log a line, and the app works again by itself
once there is room (no restart). A read-only directory raises the same errors (OSError, sqlite3.Error) through
the same handlers; remounting read-only under open files is refused by the kernel, so the test fills the disk.
Needs a tmpfs mount (root in a container)."""

import base64
import logging
import subprocess
from pathlib import Path

import pytest

from settings import Settings
from tests.security.dash_client import callback_key, post

CSV = (b"InvoiceNo,InvoiceDate,CustomerID,Quantity,UnitPrice\n"
       + b"".join(b"%d,2023-%02d-%02d,%d,1,2.5\n" % (i, 1 + i % 12, 1 + i % 28, i % 40) for i in range(400)))
RUN_VALUES = {"dataset-choice.value": "cdnow_sample", "param-horizon.value": 12, "param-margin.value": 30,
              "param-discount.value": 1, "param-churn-window.value": 90, "param-cluster-method.value": "kmeans",
              "param-k-range.value": [2, 8]}


@pytest.fixture
def mounted(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> Path:
    """Fill the file system until it refuses another byte."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 2**20)
                handle.flush()
        except OSError:
            pass
    return filler


def _upload(client, app, name):
    contents = "data:text/csv;base64," + base64.b64encode(CSV).decode()
    key = callback_key(app, "upload-store.data", "upload-name.children")
    return post(client, app, key, {"upload.contents": contents, "upload.filename": name}, ["upload.contents"])


def test_full_cache_gives_messages_and_recovers_without_restart(mounted, caplog):
    from app import create_app

    app = create_app(Settings(cache_dir=mounted, default_dataset="cdnow_sample"))
    client = app.server.test_client()
    run_key = callback_key(app, "run-error.children")
    first = post(client, app, run_key, {**RUN_VALUES, "autorun.data": "cdnow_sample"}, ["autorun.data"],
                 timeout_s=300)
    assert first.status_code == 200 and first.get_json()["response"]["results-key"]["data"]

    filler = _fill(mounted)
    try:
        caplog.set_level(logging.ERROR)
        upload = _upload(client, app, "shop.csv")
        assert upload.status_code == 200 and "Server storage problem" in upload.get_data(as_text=True)
        assert "no space left" in upload.get_data(as_text=True).lower()
        run = post(client, app, run_key, {**RUN_VALUES, "param-horizon.value": 7}, ["run-button.n_clicks"])
        assert run.status_code == 200 and "storage" in run.get_data(as_text=True).lower()
        assert any("storage" in r.getMessage() or "cache directory" in r.getMessage() for r in caplog.records)
    finally:
        filler.unlink()

    upload = _upload(client, app, "shop.csv")  # the same app, no restart
    assert upload.status_code == 200 and "received" in upload.get_data(as_text=True)
    run = post(client, app, run_key, {**RUN_VALUES, "param-horizon.value": 7}, ["run-button.n_clicks"],
               timeout_s=300)
    assert run.status_code == 200 and run.get_json()["response"]["results-key"]["data"]
