"""Who sees which results: an upload's belong to whoever ran it and their teams; admins see all; embedded
datasets are everyone's. A key the user may not see is refused exactly like a key that was never issued,
through a tab, a download, a forged POST and a share link."""

import base64
import io
import json

import pytest

import auth
import rct_users
from analytics.datasets import load_dataset
from settings import Settings
from tests.security.dash_client import callback_key, post

PASSWORD = "correct horse battery"
RUN_VALUES = {"dataset-choice.value": "cdnow_sample", "param-horizon.value": 12, "param-margin.value": 30,
              "param-discount.value": 1, "param-churn-window.value": 90, "param-cluster-method.value": "kmeans",
              "param-k-range.value": [2, 8]}
# red: an admin who uploads and a marketer of the same team; blue: a marketer and an admin of another team
USERS = [("ada", "admin", "red"), ("rob", "marketing", "red"), ("bea", "marketing", "blue"),
         ("abe", "admin", "blue")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app with sign-in on, and an upload that ada (team red) had analysed: its results key."""
    from app import create_app

    root = tmp_path_factory.mktemp("visibility")
    users_file = root / "users.json"
    for name, role, team in USERS:
        auth.save_user(users_file, name, PASSWORD, role, [team])
    app = create_app(Settings(cache_dir=root / "cache", default_dataset="cdnow_sample", auth_required=True,
                              users_file=users_file))
    return app, uploaded_by(app, "ada", "red shop.csv")


def uploaded_by(app, name: str, filename: str) -> str:
    """The results key of an upload (400 customers of the CDNOW sample) that ``name`` analysed."""
    client = signed_in(app, name)
    frame = load_dataset("cdnow_sample")
    frame = frame[frame["customer_id"].isin(frame["customer_id"].drop_duplicates().head(400))]
    contents = "data:text/csv;base64," + base64.b64encode(frame.to_csv(index=False).encode()).decode()
    received = post(client, app, callback_key(app, "upload-store.data", "upload-name.children"),
                    {"upload.contents": contents, "upload.filename": filename}, ["upload.contents"])
    token = received.get_json()["response"]["upload-store"]["data"]
    ran = post(client, app, callback_key(app, "run-error.children"),
               {**RUN_VALUES, "upload-store.data": token, "dataset-choice.value": "upload"}, ["upload-store.data"],
               timeout_s=300)
    key = ran.get_json()["response"]["results-key"]["data"]
    assert key, ran.get_data(as_text=True)
    return key


def signed_in(app, name):
    client = app.server.test_client()
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
    return client


def _export(client, app, key):
    values = {"export-at-risk.n_clicks": 1, "results-key.data": key, "at-risk-threshold.value": 0.5}
    return post(client, app, callback_key(app, "download.data"), values, ["export-at-risk.n_clicks"])


def _tower(client, app, key):
    return post(client, app, callback_key(app, "tower-kpis.children"), {"results-key-tower.data": key},
                ["results-key-tower.data"])


def _refused(response) -> bool:
    """The answer to a refused results key: no outputs, only the message in the page's alert area."""
    body = response.get_json()
    return (response.status_code == 200 and body["response"] == {}
            and "not known to this server" in json.dumps(body["sideUpdate"]["server-alert"]))


def _open_link(client, app, query):
    """What the page opens on when its address carries ``query`` (a share link)."""
    values = {**RUN_VALUES, "location.search": query}
    response = post(client, app, callback_key(app, "results-key.data", "autorun.data"), values, ["location.search"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def test_the_uploaders_team_reads_the_results_another_team_cannot(world):
    app, key = world
    exported = _export(signed_in(app, "rob"), app, key)
    assert exported.status_code == 200 and "customer_id" in exported.get_data(as_text=True)
    assert _tower(signed_in(app, "rob"), app, key).status_code == 200

    bea = signed_in(app, "bea")
    refused, made_up = _export(bea, app, key), _export(bea, app, "f" * len(key))
    # exactly as for a key that was never issued: the same answer, a message on the page, nothing of the data
    assert refused.get_data() == made_up.get_data()
    assert _refused(refused)
    assert _refused(_tower(bea, app, key))
    # admins see every dataset, whatever their team
    assert _export(signed_in(app, "abe"), app, key).status_code == 200


def test_a_key_forged_under_another_id_is_found_by_its_position(world):
    """Dash hands values to the function by position, whatever ids the POST names."""
    app, key = world
    bea = signed_in(app, "bea")
    callback = callback_key(app, "download.data")
    entry = app.callback_map[callback]
    body = {"output": callback, "outputs": [{"id": "download", "property": "data"},
                                            {"id": "export-error", "property": "children"}],
            "inputs": [{"id": i["id"], "property": i["property"], "value": 1 if "at-risk" in i["id"] else None}
                       for i in entry["inputs"]],
            "state": [{"id": "innocent" if s["id"] == "results-key" else s["id"], "property": s["property"],
                       "value": key if s["id"] == "results-key" else None} for s in entry["state"]],
            "changedPropIds": ["export-at-risk.n_clicks"]}
    response = bea.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert _refused(response) and "customer_id" not in response.get_data(as_text=True)
    body["state"] = [{**s, "value": [{"value": key}]} if s["id"] == "innocent" else s for s in body["state"]]
    assert _refused(bea.post("/_dash-update-component", data=json.dumps(body), content_type="application/json"))


def test_a_share_link_opens_the_results_for_the_team_and_says_unknown_to_others(world):
    app, key = world
    assert _open_link(signed_in(app, "rob"), app, f"?discount_pct=10&results={key}")["results-key"]["data"] == key
    shown = _open_link(signed_in(app, "bea"), app, f"?discount_pct=10&results={key}")
    made_up = _open_link(signed_in(app, "bea"), app, "?discount_pct=10&results=" + "f" * len(key))
    assert shown == made_up  # the same page for a key of another team and for one that does not exist
    alert = json.dumps(shown["server-alert"]["children"])
    assert "not known to this server" in alert and "red shop" not in alert
    assert shown.get("results-key", {}).get("data") != key  # the embedded dataset instead (or its run)


def test_embedded_results_are_everyones_and_sign_in_off_sees_all(world, tmp_path):
    app, key = world
    bea = signed_in(app, "bea")
    opened = _open_link(bea, app, "")
    embedded = opened.get("results-key", {}).get("data")
    if embedded is None:  # not computed yet in this cache: the page's own first run
        ran = post(bea, app, callback_key(app, "run-error.children"), {**RUN_VALUES, "autorun.data": "cdnow_sample"},
                   ["autorun.data"], timeout_s=300)
        embedded = ran.get_json()["response"]["results-key"]["data"]
    assert _export(bea, app, embedded).status_code == 200
    cache = app.server.config["RCT_SETTINGS"]
    from callbacks import common

    assert auth.may_read(common.results_cache(cache), key, None)  # sign-in off: every issued key
    assert not auth.may_read(common.results_cache(cache), "f" * len(key), None)


def test_teams_are_managed_from_the_command_line(tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    monkeypatch.setenv("RCT_USERS_FILE", str(path))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert rct_users.main(["add", "kim", "--role", "viewer", "--team", "emea", "--team", "apac",
                           "--password-stdin"]) == 0
    assert auth.load_users(path)["kim"]["teams"] == ["apac", "emea"]
    assert rct_users.main(["set-role", "kim", "--role", "finance"]) == 0  # keeps the teams
    assert auth.load_users(path)["kim"] == {**auth.load_users(path)["kim"], "role": "finance", "teams": ["apac", "emea"]}
    assert rct_users.main(["set-teams", "kim", "--team", "latam"]) == 0
    assert auth.load_users(path)["kim"]["teams"] == ["latam"]
    assert rct_users.main(["set-teams", "nobody", "--team", "x"]) == 2
