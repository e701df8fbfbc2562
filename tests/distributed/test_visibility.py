"""Per-user dataset visibility with nothing shared but Redis: the grant is written by the Celery worker that
ran the upload (it reads who asked from the signed session cookie Dash hands the job) and checked by the web
process, for a share link and for a download."""

from __future__ import annotations

import base64
import secrets

import pytest
import requests

import auth
from analytics.datasets import load_dataset
from scripts.dash_http import DashClient

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def services(stack_factory):
    stack = stack_factory()
    users = stack.root / "users.json"
    for name, role, team in [("ada", "admin", "red"), ("rob", "finance", "red"), ("bea", "finance", "blue")]:
        auth.save_user(users, name, PASSWORD, role, [team])
    env = {"RCT_AUTH": "1", "RCT_USERS_FILE": str(users), "RCT_SECRET_KEY": secrets.token_hex(32)}
    redis_url = stack.start_redis()
    stack.start_worker(env=env)
    stack.url = stack.start_web("web", redis_url, env=env)
    return stack


def page(services, name: str, search: str = "") -> DashClient:
    session = requests.Session()
    signed = session.post(services.url + "/login", data={"username": name, "password": PASSWORD},
                          allow_redirects=False)
    assert signed.status_code == 302, signed.text
    return DashClient(session, services.url, timeout_s=300).open(search)


def test_an_upload_is_seen_by_its_team_only_through_redis(services):
    frame = load_dataset("cdnow_sample")
    frame = frame[frame["customer_id"].isin(frame["customer_id"].drop_duplicates().head(400))]
    ada = page(services, "ada")
    ada.change("upload", "filename", "red shop.csv")
    ada.change("upload", "contents", "data:text/csv;base64," + base64.b64encode(frame.to_csv(index=False).encode()).decode())
    key = ada.get("results-key", "data")
    assert key and str(ada.get("dataset-summary", "children")).startswith("red shop.csv"), ada.get("run-error", "children")

    rob = page(services, "rob", f"?results={key}")
    assert rob.get("results-key", "data") == key
    assert str(rob.get("dataset-summary", "children")).startswith("red shop.csv")
    rob.change("tabs", "active_tab", "explorer")
    rob.change("export-at-risk", "n_clicks", 1)
    assert "customer_id" in str(rob.get("download", "data"))

    bea = page(services, "bea", f"?results={key}")
    assert bea.get("results-key", "data") != key
    assert "not known to this server" in str(bea.get("server-alert", "children"))
    assert "red shop" not in str(bea.get("dataset-summary", "children"))
    bea.change("tabs", "active_tab", "explorer")
    bea.props[("results-key", "data")] = key  # forged in the browser's store
    bea.props[("server-alert", "children")] = None
    bea.change("export-at-risk", "n_clicks", 1)
    assert bea.get("download", "data") is None
    assert "not known to this server" in str(bea.get("server-alert", "children"))
