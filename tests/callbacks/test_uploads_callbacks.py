"""Uploads as the Data tab receives them: stored under a server-made id, or refused with the reason named."""

from __future__ import annotations

import base64

import dash
import pytest

from analytics.datasets import load_dataset
from analytics.errors import DataError
from callbacks.uploads import received, uploaded_file
from settings import Settings
from tests.callbacks.conftest import text_of


def data_url(payload: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(payload).decode()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(cache_dir=tmp_path, upload_limit_mb=1)


def test_a_good_file_is_stored_and_its_token_reads_it_back(settings):
    payload = load_dataset("cdnow_sample").head(200).to_csv(index=False).encode()
    shown = received(settings, data_url(payload), "C:\\Users\\me\\orders.csv")
    token = shown["token"]
    assert shown["dataset"] == "upload" and shown["error"] is None
    assert token["filename"] == "orders.csv" and token["size_bytes"] == len(payload)
    assert shown["name"].startswith("orders.csv: received")
    assert uploaded_file(settings, token) == (token["upload_id"], payload, "orders.csv")


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("not a data url", "arrived damaged"),
        ("data:text/csv;base64,@@@not-base64@@@", "arrived damaged"),
        ("data:text/csv;base64,", "is empty (0 bytes)"),
        (data_url(b"x" * (2 * 2**20)), "the limit is 1 MB"),
    ],
)
def test_a_refused_upload_is_named_and_nothing_else_changes(settings, contents, message):
    shown = received(settings, contents, "orders.csv")
    assert message in text_of(shown["error"])
    assert all(shown[k] is dash.no_update for k in ("token", "name", "mapping", "dataset"))


def test_a_forged_token_is_refused(settings):
    for token in (None, {"upload_id": "../../etc/passwd", "filename": "x.csv"}, "abc"):
        with pytest.raises(DataError):
            uploaded_file(settings, token)
