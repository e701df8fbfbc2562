"""Sign-in with roles, checked on the server: pages, every callback and every download."""

import io
import json
import os
import re

import pytest

import auth
import rct_users
from settings import Settings
from tests.security.dash_client import callback_key, post

PASSWORD = "correct horse battery"


@pytest.fixture
def users_file(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    monkeypatch.setenv("RCT_USERS_FILE", str(path))
    for name, role in [("vic", "viewer"), ("mia", "marketing"), ("fin", "finance"), ("ada", "admin")]:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        assert rct_users.main(["add", name, "--role", role, "--password-stdin"]) == 0
    return path


@pytest.fixture
def app(tmp_path, users_file):
    from app import create_app

    return create_app(Settings(cache_dir=tmp_path / "cache", default_dataset="cdnow_sample", auth_required=True,
                               users_file=users_file))


def signed_in(app, name):
    client = app.server.test_client()
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_the_users_file_holds_hashes_only_and_is_private(users_file, monkeypatch):
    text = users_file.read_text()
    assert PASSWORD not in text and json.loads(text)["fin"]["role"] == "finance"
    assert os.stat(users_file).st_mode & 0o077 == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert rct_users.main(["add", "bob", "--role", "viewer", "--password-stdin"]) == 2
    assert rct_users.main(["set-role", "vic", "--role", "marketing"]) == 0
    assert auth.load_users(users_file)["vic"]["role"] == "marketing"
    assert rct_users.main(["remove", "nobody"]) == 2


def test_signed_out_requests_go_to_the_sign_in_page_and_callbacks_are_refused(app):
    client = app.server.test_client()
    assert client.get("/").headers["Location"].endswith("/login")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={"output": "x.children"}).status_code == 401
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    wrong = client.post("/login", data={"username": "vic", "password": "nope nope"})
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_and_sign_out_ends_it(app):
    client = app.server.test_client()
    response = client.post("/login", data={"username": "vic", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/").status_code == 200
    client.get("/logout")
    assert client.get("/").status_code == 302


def test_each_role_sees_only_its_tabs(app):
    for name, hidden in [("vic", {"Segment explorer", "ROI simulator", "Data"}), ("mia", {"ROI simulator", "Data"}),
                         ("fin", {"Data"}), ("ada", set())]:
        layout = signed_in(app, name).get("/_dash-layout").get_json()
        tabs = _find_all(layout, "Tab")
        shown = {t["props"]["label"] for t in tabs if not (t["props"].get("tab_style") or {}).get("display")}
        assert {t["props"]["label"] for t in tabs} - shown == hidden, name
        assert name in json.dumps(layout)  # the signed-in name and a sign-out link
        assert "/logout" in json.dumps(layout)


def _find_all(node, type_name):
    found = []
    if isinstance(node, dict):
        if node.get("type") == type_name:
            found.append(node)
        for value in node.values():
            found += _find_all(value, type_name)
    elif isinstance(node, list):
        for value in node:
            found += _find_all(value, type_name)
    return found


def _default_key(client, app):
    """The results key the page gets for the default dataset (computed once, through the viewer's autorun)."""
    values = {"dataset-choice.value": "cdnow_sample", "param-horizon.value": 12, "param-margin.value": 30,
              "param-discount.value": 1, "param-churn-window.value": 90, "param-cluster-method.value": "kmeans",
              "param-k-range.value": [2, 8], "autorun.data": "cdnow_sample"}
    response = post(client, app, callback_key(app, "run-error.children"), values, changed=["autorun.data"],
                    timeout_s=300)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]["results-key"]["data"]


def test_exports_and_other_roles_callbacks_are_refused_on_the_server(app):
    viewer = signed_in(app, "vic")
    key = _default_key(viewer, app)  # a viewer may have the page compute the embedded dataset's results
    assert key
    export = {"export-at-risk.n_clicks": 1, "results-key.data": key, "at-risk-threshold.value": 0.5}
    explorer_export = callback_key(app, "download.data")
    journeys_export = callback_key(app, "journeys-download.data")
    roi_export = callback_key(app, "roi-download.data")
    refused = post(viewer, app, explorer_export, export, changed=["export-at-risk.n_clicks"])
    assert refused.status_code == 403 and "needs marketing" in refused.get_json()["message"]
    assert post(viewer, app, journeys_export, {"results-key.data": key}, ["journeys-export.n_clicks"]).status_code == 403
    marketing = signed_in(app, "mia")
    allowed = post(marketing, app, explorer_export, export, changed=["export-at-risk.n_clicks"])
    assert allowed.status_code == 200 and "customer_id" in allowed.get_data(as_text=True)
    assert post(marketing, app, roi_export, {"results-key.data": key}, ["roi-export.n_clicks"]).status_code == 403
    # uploads and runs with other settings are the admin's
    upload = callback_key(app, "upload-store.data", "upload-name.children")
    assert post(signed_in(app, "fin"), app, upload, {"upload.contents": "data:,"}, ["upload.contents"]).status_code == 403
    run = {"dataset-choice.value": "cdnow_sample", "param-horizon.value": 6}
    assert post(viewer, app, callback_key(app, "run-error.children"), run, ["run-button.n_clicks"]).status_code == 403
    # a forged job handle does not start a run either: Dash reads nothing for a handle it did not sign
    forged_poll = viewer.post("/_dash-update-component", query_string={"cacheKey": "x~y", "job": "1~z"},
                              json={"output": callback_key(app, "run-error.children"), "outputs": [], "inputs": [],
                                    "state": [], "changedPropIds": ["run-button.n_clicks"]})
    assert "results-key" not in forged_poll.get_data(as_text=True)


def test_a_results_key_the_server_never_issued_is_refused(app):
    marketing = signed_in(app, "mia")
    forged = {"export-at-risk.n_clicks": 1, "results-key.data": "0" * 64, "at-risk-threshold.value": 0.5}
    response = post(marketing, app, callback_key(app, "download.data"), forged, ["export-at-risk.n_clicks"])
    assert response.status_code == 200 and response.get_json()["response"] == {}  # nothing of any results
    assert "not known to this server" in json.dumps(response.get_json()["sideUpdate"])


def test_a_removed_user_is_signed_out_at_once(app, users_file):
    client = signed_in(app, "vic")
    auth.remove_user(users_file, "vic")
    assert client.get("/").status_code == 302


def test_signing_in_returns_to_the_address_asked_for_never_to_another_site(app):
    client = app.server.test_client()
    asked = client.get("/?results=abc&discount_pct=10").headers["Location"]
    assert asked == "/login?next=%2F%3Fresults%3Dabc%26discount_pct%3D10"
    assert 'action="/login?next=%2F%3Fresults%3Dabc%26discount_pct%3D10"' in client.get(asked).get_data(as_text=True)
    back = client.post(asked, data={"username": "vic", "password": PASSWORD})
    assert back.headers["Location"] == "/?results=abc&discount_pct=10"
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.get("/logout")
        sent = client.post("/login", query_string={"next": elsewhere}, data={"username": "vic", "password": PASSWORD})
        assert sent.headers["Location"] == "/", elsewhere


def _try(client, name, password, address="10.0.0.1"):
    return client.post("/login", data={"username": name, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_failed_sign_ins_are_throttled_per_name_and_per_address(tmp_path, users_file):
    from app import create_app

    app = create_app(Settings(cache_dir=tmp_path / "cache", auth_required=True, users_file=users_file,
                              sign_in_limit_per_name="3 per 15 minutes", sign_in_limit_per_address="5 per 15 minutes"))
    client = app.server.test_client()
    for _ in range(4):  # successful sign-ins do not count
        assert _try(client, "mia", PASSWORD).status_code == 302
    assert [_try(client, "vic", "wrong guess").status_code for _ in range(3)] == [401, 401, 401]
    refused = _try(client, "vic", PASSWORD)  # throttled: the right password too, else guessing goes on
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "Too many failed sign-ins" in page
    assert re.search(r"try again in 1[45] minutes", page)  # the rest of the 15-minute window
    assert 'id="username"' in page  # the sign-in page itself, with the message
    assert _try(client, "vic", PASSWORD, address="10.0.0.9").status_code == 429  # per name, from anywhere
    assert _try(client, "mia", PASSWORD).status_code == 302  # another name from the same address: unaffected

    # per address: failures under many names from one address
    assert [_try(client, f"guess{i}", "wrong guess").status_code for i in range(2)] == [401, 401]
    assert _try(client, "fin", PASSWORD).status_code == 429  # the address's 5 failures are used up
    assert _try(client, "fin", PASSWORD, address="10.0.0.2").status_code == 302  # another address: unaffected


def test_a_sign_in_limit_that_is_not_one_stops_the_start():
    with pytest.raises(SystemExit, match="RCT_SIGN_IN_LIMIT_PER_NAME='often' is not a rate limit"):
        Settings(sign_in_limit_per_name="often")
