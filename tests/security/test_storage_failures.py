"""A full or read-only cache directory: every action (upload, run, the journeys controls) gets a message and the
log a line, and the app works again by itself once the directory takes writes again (no restart). The full
one needs a tmpfs mount (root in a container); the read-only one makes file modes apply to the test."""

import base64
import logging
import ctypes
import os
from pathlib import Path

import pytest

from callbacks import common
from scripts import tmpfs
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
    refused = tmpfs.mount(folder, 64)
    if refused:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {refused}")
    yield folder
    tmpfs.unmount(folder)


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

    filler = tmpfs.fill(mounted)
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


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


CAPABILITY_VERSION_3 = 0x20080522
# what lets root write where a directory's mode says no one may
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _capabilities(change=None) -> list:
    """This thread's capability sets (two words, as capget gives them), after ``change`` if given."""
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    if change is not None:
        for word, (effective, permitted, inheritable) in zip(data, change(data)):
            word.effective, word.permitted, word.inheritable = effective, permitted, inheritable
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset")
    return [(w.effective, w.permitted, w.inheritable) for w in data]


@pytest.fixture
def bound_by_file_modes():
    """File modes apply to this test (and to the analysis processes it forks). Root ignores them, and the
    kernel refuses to remount a file system read-only while the cache's database is open for writing; so as
    root the test gives up, for its duration, the two capabilities that override them (the interpreter's own
    files under root's home stay readable, which running as another user would not allow). This is what a
    server meets whose cache directory is made read-only."""
    if os.geteuid() != 0:
        yield
        return
    saved = _capabilities()
    dropped = ~((1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH)) & 0xFFFFFFFF
    _capabilities(lambda data: [(data[0].effective & dropped, data[0].permitted, data[0].inheritable),
                                (data[1].effective, data[1].permitted, data[1].inheritable)])
    try:
        yield
    finally:
        _capabilities(lambda data: saved)


def _set_mode(folder: Path, mode: int) -> None:
    """Every directory under ``folder`` (files keep theirs: a directory that takes no new entry is what a
    read-only cache is to sqlite's journal, diskcache's value files and the uploads)."""
    for directory in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        directory.chmod(mode)


def test_read_only_cache_gives_messages_and_recovers_without_restart(tmp_path, bound_by_file_modes, caplog):
    from app import create_app

    folder = tmp_path / "cache"
    app = create_app(Settings(cache_dir=folder, default_dataset="cdnow_sample"))
    client = app.server.test_client()
    run_key = callback_key(app, "run-error.children")
    first = post(client, app, run_key, {**RUN_VALUES, "autorun.data": "cdnow_sample"}, ["autorun.data"],
                 timeout_s=300)
    assert "results-key" in first.get_json()["response"], first.get_data(as_text=True)[:3000]
    key = first.get_json()["response"]["results-key"]["data"]
    journeys_key = callback_key(app, "journeys-status.children")
    monthly = {"results-key-journeys.data": key, "journeys-period.value": "M", "journeys-inactive.value": 180}

    _set_mode(folder, 0o555)
    assert common.storage_problem(folder) == "Permission denied"  # really read-only for the app
    caplog.set_level(logging.ERROR)
    upload = _upload(client, app, "shop.csv")
    assert upload.status_code == 200 and "Server storage problem" in upload.get_data(as_text=True)
    assert "permission denied" in upload.get_data(as_text=True).lower()
    run = post(client, app, run_key, {**RUN_VALUES, "param-horizon.value": 7}, ["run-button.n_clicks"])
    assert run.status_code == 200 and "storage" in run.get_data(as_text=True).lower()
    journeys = post(client, app, journeys_key, monthly, ["journeys-period.value"])
    assert journeys.status_code == 200 and "Server storage problem" in journeys.get_data(as_text=True)
    assert any("cache directory unusable" in r.getMessage() for r in caplog.records)

    _set_mode(folder, 0o755)  # the administrator fixes it: the same app, no restart
    upload = _upload(client, app, "shop.csv")
    assert upload.status_code == 200 and "received" in upload.get_data(as_text=True)
    run = post(client, app, run_key, {**RUN_VALUES, "param-horizon.value": 7}, ["run-button.n_clicks"],
               timeout_s=300)
    assert run.status_code == 200 and run.get_json()["response"]["results-key"]["data"]
    journeys = post(client, app, journeys_key, monthly, ["journeys-period.value"])
    assert journeys.status_code == 200 and "Server storage problem" not in journeys.get_data(as_text=True)
    assert "month" in journeys.get_data(as_text=True).lower()
