"""Sign-in through an OpenID Connect provider (Authlib), configured by environment: a real provider on a free
port (discovery, authorize, token with an RS256-signed ID token, keys), the app's real redirect and callback.
The role and teams still come from the users file; someone the provider knows but the server does not gets
a message and no session."""

from __future__ import annotations

import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

import auth
from settings import Settings

CLIENT_ID, CLIENT_SECRET = "rct", "provider-secret"


class Provider:
    """A minimal OpenID provider: whoever is ``signed_in`` at it is who the next authorization names."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.signed_in = "ann@example.com"
        self.verified = True
        self.signing_key = self.key  # another key than the published one: a forged ID token
        self.codes: dict[str, dict] = {}
        app = flask.Flask("provider")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self.discovery)
        app.add_url_rule("/authorize", view_func=self.authorize)
        app.add_url_rule("/token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/jwks", view_func=lambda: {"keys": [self.key.as_dict(private=False)]})
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def discovery(self):
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    def authorize(self):
        args = flask.request.args
        assert args["client_id"] == CLIENT_ID and args["response_type"] == "code"
        code = secrets.token_hex(8)
        self.codes[code] = {"nonce": args.get("nonce"), "email": self.signed_in, "verified": self.verified}
        return flask.redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}")

    def token(self):
        form = flask.request.form
        grant = self.codes.pop(form["code"])
        now = int(time.time())
        claims = {"iss": self.url, "aud": CLIENT_ID, "sub": grant["email"], "email": grant["email"],
                  "email_verified": grant["verified"], "nonce": grant["nonce"], "iat": now, "exp": now + 300}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.signing_key)
        return {"access_token": secrets.token_hex(8), "token_type": "Bearer", "expires_in": 300,
                "id_token": id_token}


@pytest.fixture(scope="module")
def provider():
    provider = Provider()
    yield provider
    provider.server.shutdown()


@pytest.fixture
def app(tmp_path, provider):
    from app import create_app

    users = tmp_path / "users.json"
    auth.save_user(users, "ann@example.com", None, "finance", ["emea"], provider_only=True)
    return create_app(Settings(cache_dir=tmp_path / "cache", default_dataset="cdnow_sample", auth_required=True,
                               users_file=users, oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                               oidc_client_secret=CLIENT_SECRET))


def _sign_in_through_provider(client, next_page: str = ""):
    """Follow the sign-in as the browser does: the app's redirect, the provider's, the app's callback."""
    to_provider = client.get("/login/oidc" + (f"?{urlencode({'next': next_page})}" if next_page else ""))
    assert to_provider.status_code == 302, to_provider.get_data(as_text=True)
    back = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    return client.get(callback.path, query_string=parse_qs(callback.query))


def test_a_user_of_the_provider_known_to_the_server_signs_in_with_their_role(app, provider):
    client = app.server.test_client()
    assert "Sign in with your organisation" in client.get("/login").get_data(as_text=True)
    signed = _sign_in_through_provider(client, "/?results=abc")
    assert signed.status_code == 302 and signed.headers["Location"] == "/?results=abc"
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and "ann@example.com" in layout.get_data(as_text=True)
    # the password form does not take a user who signs in through the provider (no password is stored)
    other = app.server.test_client()
    assert other.post("/login", data={"username": "ann@example.com", "password": ""}).status_code == 401


@pytest.mark.parametrize("change, status, message", [
    ({"signed_in": "mallory@example.com"}, 403, "mallory@example.com has no role on this server"),
    ({"verified": False}, 403, "has not verified the address"),
    ({"signing_key": RSAKey.generate_key(2048, parameters={"kid": "k1"})}, 400,  # not the published key
     "Sign-in through the provider failed"),
], ids=["unknown to the server", "unverified address", "forged ID token"])
def test_a_provider_sign_in_the_server_must_not_accept_gets_a_message_and_no_session(app, provider, monkeypatch,
                                                                                     change, status, message):
    for name, value in change.items():
        monkeypatch.setattr(provider, name, value)
    client = app.server.test_client()
    refused = _sign_in_through_provider(client)
    assert refused.status_code == status and message in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_an_unreachable_provider_is_said_on_the_sign_in_page(tmp_path):
    from app import create_app

    app = create_app(Settings(cache_dir=tmp_path / "cache", auth_required=True, users_file=tmp_path / "users.json",
                              oidc_issuer="http://127.0.0.1:9", oidc_client_id=CLIENT_ID,
                              oidc_client_secret=CLIENT_SECRET))
    answer = app.server.test_client().get("/login/oidc")
    assert answer.status_code == 502 and "provider cannot be reached" in answer.get_data(as_text=True)


def test_a_forged_callback_is_refused_with_a_message(app):
    client = app.server.test_client()
    forged = client.get("/login/oidc/callback", query_string={"code": "made-up", "state": "made-up"})
    assert forged.status_code == 400 and "Sign-in through the provider failed" in forged.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_provider_only_users_are_added_from_the_command_line(tmp_path, monkeypatch):
    import rct_users

    path = tmp_path / "users.json"
    monkeypatch.setenv("RCT_USERS_FILE", str(path))
    assert rct_users.main(["add", "bo@example.com", "--role", "viewer", "--provider-only", "--team", "emea"]) == 0
    assert auth.load_users(path)["bo@example.com"] == {"role": "viewer", "teams": ["emea"]}


def test_half_an_oidc_configuration_stops_the_start():
    with pytest.raises(SystemExit, match="RCT_OIDC_CLIENT_ID"):
        Settings(oidc_issuer="https://id.example.com")
