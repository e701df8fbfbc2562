"""An admin deletes an uploaded dataset and everything derived from it: the file, the results, the stored
tables and model stages; a page still holding the results key is refused afterwards."""

import base64

import pytest

from analytics.errors import DataError
from analytics.datasets import load_dataset
from callbacks import common, uploads
from settings import Settings
from tests.security.dash_client import callback_key, post

RUN_VALUES = {"dataset-choice.value": "upload", "param-horizon.value": 12, "param-margin.value": 30,
              "param-discount.value": 1, "param-churn-window.value": 90, "param-cluster-method.value": "kmeans",
              "param-k-range.value": [2, 8]}


def test_deleting_an_upload_deletes_its_file_and_every_derived_result(tmp_path):
    from app import create_app

    settings = Settings(cache_dir=tmp_path, default_dataset="cdnow_sample")
    app = create_app(settings)
    client = app.server.test_client()
    frame = load_dataset("cdnow_sample")
    csv = frame[frame["customer_id"].isin(frame["customer_id"].drop_duplicates().head(400))].to_csv(index=False)
    token = uploads.store_upload(settings, "data:text/csv;base64," + base64.b64encode(csv.encode()).decode(),
                                 "my shop.csv")
    run = post(client, app, callback_key(app, "run-error.children"), {**RUN_VALUES, "upload-store.data": token},
               ["upload-store.data"], timeout_s=300)
    key = run.get_json()["response"]["results-key"]["data"]
    cache = common.results_cache(settings)
    derived = cache.get(uploads.derived_key(token["upload_id"]))
    assert key in derived and len(derived) > 3  # results, invoice table, alias, model stages
    assert all(cache.get(k) is not None for k in derived)

    delete = next(k for k, entry in app.callback_map.items()
                  if {"id": "delete-upload", "property": "n_clicks"} in entry["inputs"])
    deleted = post(client, app, delete, {"delete-upload.n_clicks": 1, "upload-store.data": token},
                   ["delete-upload.n_clicks"])
    text = deleted.get_data(as_text=True)
    assert f"my shop.csv and {len(derived)} stored results derived from it were deleted" in text
    assert all(cache.get(k) is None for k in derived)
    assert cache.get(uploads.derived_key(token["upload_id"])) is None
    with pytest.raises(DataError, match="no longer on the server"):
        uploads.uploaded_file(settings, token)
