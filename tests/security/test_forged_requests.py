"""Forged callback requests, POSTed as a hostile tester would: a clear message, nothing read."""

import dash
import pytest

from settings import Settings
from tests.security.dash_client import callback_key, post

FORGED = {"sha256": "../../../../etc", "filename": "passwd", "ready": True}


@pytest.fixture
def app(tmp_path):
    from app import create_app

    return create_app(Settings(cache_dir=tmp_path, default_dataset="cdnow_sample"))


def test_forged_upload_token_posted_to_the_run_gets_a_message(app):
    key = callback_key(app, "run-error.children")
    values = {"upload-store.data": FORGED, "dataset-choice.value": "upload", "param-horizon.value": 12,
              "param-margin.value": 30, "param-discount.value": 1, "param-churn-window.value": 90,
              "param-cluster-method.value": "kmeans", "param-k-range.value": [2, 8]}
    response = post(app.server.test_client(), app, key, values, changed=["upload-store.data"])
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "upload reference is not valid" in text
    assert "root:" not in text  # /etc/passwd was never read


def test_forged_upload_token_given_to_the_run_function_directly_gets_a_message(tmp_path):
    from callbacks.run import analysis_outputs
    from tests.callbacks.conftest import text_of

    for new_upload in (True, False):
        shown = analysis_outputs(Settings(cache_dir=tmp_path), new_upload, FORGED, "upload", ([], []),
                                 (None, None, None, None), ["", 12, 30, 1, 90, "kmeans", None, [2, 8]],
                                 lambda *_: None)
        assert shown["key"] is dash.no_update
        assert "upload reference is not valid" in text_of(shown["error"]) and "root" not in text_of(shown["error"])
