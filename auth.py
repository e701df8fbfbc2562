"""Sign-in with roles, enforced on the server for every callback, page and download.

Users and roles come from a JSON users file with salted password hashes (``werkzeug.security``, which Flask
already ships), managed by ``python -m rct_users``. Sessions are Flask-Login's (maintained, the standard for
Flask) in a signed cookie that is HttpOnly, SameSite=Lax, and Secure when the site is served over https.

Roles are ordered, each adding to the one before: viewer (tower, journeys, evidence), marketing (+ explorer
and customer exports), finance (+ ROI), admin (+ data tab: uploads, database sources, runs).

Enforcement is central rather than in each callback: every callback is recorded with the role its module
needs when it is registered (``callbacks.register_all``), and a ``before_request`` hook checks the role of
the signed-in user against the callback named in each ``/_dash-update-component`` request, so a viewer who
POSTs an export callback gets 403 whatever the page shows. Hidden tabs are a courtesy on top.

Optionally an OpenID Connect provider signs people in (``RCT_OIDC_ISSUER``, ``_CLIENT_ID``, ``_CLIENT_SECRET``),
through Authlib's Flask client (maintained; it does the discovery, state, nonce and ID-token signature checks
that are easy to get wrong by hand). The provider says who someone is; their role and teams still come from
the users file (entries added with ``--provider-only`` have no password), so someone the provider knows but
the server does not is told so and gets no session.

Repeated failed sign-ins are throttled per user name and per client address with Flask-Limiter (maintained,
the standard for Flask; its counters are in Redis when ``REDIS_URL`` is set, so every process counts the same
attempts, else in each process's memory). Only failures count, so signing in is unaffected until a name or an
address has failed too often; then every attempt from it is refused for the rest of the window, a correct
password too (otherwise the limit would not stop guessing), with a message saying how long to wait.

Who sees which results: every results key the server issues is recorded with who may read it (``grant``).
An embedded dataset's results and a server-configured database's are everyone's; an upload's belong to the
user who ran it and to the teams that user was in (``teams`` in the users file); admins see all. The same
hook checks every results key a callback receives (by the position Dash passes it, whatever id the request
names), so a tab, a download, an export and a job all refuse a key the user may not see exactly as they
refuse a key that was never issued: the same answer (a message on the page, nothing of the results), no hint
that it exists. A share link's key is checked the same way (``may_read``) before the page shows it. With
sign-in off everything is visible.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import secrets
import time
from urllib.parse import urlencode
from dataclasses import dataclass
from pathlib import Path

import flask
import flask_login
from werkzeug.security import check_password_hash, generate_password_hash

logger = logging.getLogger(__name__)

ROLES = ("viewer", "marketing", "finance", "admin")
# The least role that sees each tab.
TAB_ROLES = {"tower": "viewer", "journeys": "viewer", "methodology": "viewer", "explorer": "marketing",
             "roi": "finance", "data": "admin"}
# Paths anyone may fetch: the sign-in page and the static files it and the app use (no data in them).
PUBLIC_PREFIXES = ("/login", "/vendor/", "/assets/", "/_dash-component-suites/", "/_favicon.ico")


def allows(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


# ----------------------------------------------------------------------------------------------- users file


@dataclass(frozen=True)
class User(flask_login.UserMixin):
    id: str
    role: str
    teams: tuple[str, ...] = ()


def _user(name: str, entry: dict) -> User:
    return User(name, entry["role"], tuple(entry.get("teams", ())))


def load_users(path: Path) -> dict[str, dict]:
    """{name: {"password_hash", "role", "teams"}}; an absent file is no users."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def save_user(path: Path, name: str, password: str | None, role: str | None,
              teams: list[str] | None = None, provider_only: bool = False) -> None:
    """Add or change a user (``None`` keeps the current password, role or teams); written owner-only.
    ``provider_only``: a user with no password, who signs in through the OpenID provider only."""
    if not name or not name.isprintable() or len(name) > 64:
        raise ValueError("a user name is 1 to 64 printable characters")
    for team in teams or ():
        if not team or not team.isprintable() or len(team) > 64:
            raise ValueError("a team name is 1 to 64 printable characters")
    users = load_users(path)
    if password is None and name not in users and not provider_only:
        raise ValueError(f"no user {name!r}: give a password to add one")
    entry = users.get(name, {})
    role = role or entry.get("role")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if password is not None:
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        entry["password_hash"] = generate_password_hash(password)
    if provider_only:
        entry.pop("password_hash", None)
    entry["role"] = role
    if teams is not None:
        entry["teams"] = sorted(set(teams))
    users[name] = entry
    _write_private(path, json.dumps(users, indent=2, sort_keys=True))


def remove_user(path: Path, name: str) -> bool:
    users = load_users(path)
    if users.pop(name, None) is None:
        return False
    _write_private(path, json.dumps(users, indent=2, sort_keys=True))
    return True


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def check_password(path: Path, name: str, password: str) -> User | None:
    entry = load_users(path).get(name)
    if entry and "password_hash" in entry and check_password_hash(entry["password_hash"], password):
        return _user(name, entry)
    # same work for an unknown name, so timing does not tell which names exist
    check_password_hash(_DUMMY_HASH, password)
    return None


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8))


# -------------------------------------------------------------------------------------------- the server


def current_role() -> str | None:
    """The signed-in user's role; ``admin`` when sign-in is off (a local, single-user run)."""
    if not flask.current_app.config.get("RCT_AUTH"):
        return "admin"
    user = flask_login.current_user
    return user.role if user.is_authenticated else None


def hidden_tabs() -> set[str]:
    """Tabs the current user's role does not see (their callbacks are refused on the server as well)."""
    role = current_role()
    return {tab for tab, needed in TAB_ROLES.items() if not allows(role, needed)}


# What a request naming results it may not see is told; the same as for results never issued, so that a key
# from another team cannot be told apart from a made-up one.
UNKNOWN_RESULTS = "these results are not known to this server (deleted, expired, or not shared with you)"


def current_user() -> User | None:
    """The signed-in user; None when sign-in is off (a local, single-user run sees everything)."""
    if not flask.current_app.config.get("RCT_AUTH"):
        return None
    user = flask_login.current_user
    return user if user.is_authenticated else None


def requester(server: flask.Flask) -> User | None:
    """Who asked for the current callback, also inside a background job (no request there: Dash copies the
    request's cookies into the job, and the session cookie is signed with the server's key, so it cannot be
    forged). None with sign-in off or for an unknown session."""
    if not server.config.get("RCT_AUTH"):
        return None
    import dash

    cookie = dash.ctx.cookies.get(server.config["SESSION_COOKIE_NAME"])
    serializer = server.session_interface.get_signing_serializer(server)
    try:
        name = serializer.loads(cookie).get("_user_id") if cookie and serializer else None
    except Exception:  # itsdangerous.BadSignature and friends: no user
        return None
    entry = load_users(server.config["RCT_SETTINGS"].users_path).get(name) if name else None
    return _user(name, entry) if entry else None


def grant(cache, key: str, *, everyone: bool = False, owner: User | None = None) -> None:
    """Record that the server issued this results key and who may read it: ``everyone`` (an embedded
    dataset, a server-configured database), else ``owner`` and their teams, added to those already recorded
    (the same data run by another team is theirs too). With neither (an upload run with sign-in off) only
    admins may read it once sign-in is on."""
    name = f"access:{key}"
    found = cache.get(name)
    record = found if isinstance(found, dict) else {"everyone": False, "owners": [], "teams": []}
    new = {"everyone": record["everyone"] or everyone,
           "owners": sorted({*record["owners"], *([owner.id] if owner else [])}),
           "teams": sorted({*record["teams"], *(owner.teams if owner else ())})}
    if new != found:  # a page opening on the embedded data must not rewrite the record each time
        cache.set(name, new)


def may_read(cache, key: object, user: User | None) -> bool:
    """Whether ``user`` (None: sign-in is off) may read the results under ``key``: issued by this server, and
    everyone's, theirs or a team's of theirs; an admin reads every issued key."""
    record = cache.get(f"access:{key}") if isinstance(key, str) and key else None
    if record is None:
        return False
    if user is None or user.role == "admin":
        return True
    record = record if isinstance(record, dict) else {}  # a record from before per-user visibility: admins'
    return bool(record.get("everyone") or user.id in record.get("owners", ())
                or set(user.teams) & set(record.get("teams", ())))


def _secret_key(settings) -> str:
    """RCT_SECRET_KEY, else a random key kept owner-only in the cache directory (shared by the workers)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.cache_dir / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        except FileExistsError:
            pass  # another worker wrote it first
    return path.read_text().strip()


def install(server: flask.Flask, settings, enabled: bool, callback_roles: dict[str, str], results_cache,
            key_ids: set[str], callback_map: dict) -> None:
    """Sign-in pages and the checks on every request. ``callback_roles``: callback-map key -> least role.
    ``results_cache``: returns the cache holding the grants. ``key_ids``: component ids whose ``data`` is a
    results key. ``callback_map``: the Dash app's, for where each callback receives a results key. With
    ``enabled`` False nothing is checked."""
    server.config["RCT_AUTH"] = enabled
    if not enabled:
        return
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    server.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.https,
    )
    manager = flask_login.LoginManager(server)
    limiter = _sign_in_limiter(server, settings)

    @manager.user_loader
    def load(name: str) -> User | None:
        entry = load_users(settings.users_path).get(name)
        return _user(name, entry) if entry else None  # a removed user is signed out at once

    @server.route("/login", methods=["GET", "POST"])
    @limiter.limit(settings.sign_in_limit_per_name, key_func=lambda: flask.request.form.get("username", ""),
                   scope="sign-in-name", **_FAILURES_ONLY)
    @limiter.limit(settings.sign_in_limit_per_address, scope="sign-in-address", **_FAILURES_ONLY)
    def login():
        message = ""
        if flask.request.method == "POST":
            form = flask.request.form
            user = check_password(settings.users_path, form.get("username", ""), form.get("password", ""))
            if user:
                flask_login.login_user(user)
                logger.info("signed in: %s (%s)", user.id, user.role)
                return flask.redirect(_after_sign_in())
            message = "Wrong user name or password."
            logger.warning("failed sign-in for %r from %s", form.get("username", "")[:64], flask.request.remote_addr)
        if not load_users(settings.users_path):
            message = ("No users yet. On the server run: python -m rct_users add NAME --role admin "
                       f"(users file {settings.users_path}).")
        return _login_page(message, _after_sign_in()), 200 if not message or flask.request.method == "GET" else 401

    if settings.oidc_issuer:
        _install_provider(server, settings)

    @server.route("/logout")
    def logout():
        flask_login.logout_user()
        return flask.redirect("/login")

    @server.before_request
    def check():
        path = flask.request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        role = current_role()
        if role is None:
            if path.startswith("/_dash"):
                return _refuse(401, "you are signed out: reload the page and sign in")
            # back to the address asked for (a share link) once signed in
            asked = flask.request.full_path.rstrip("?")
            return flask.redirect("/login" if asked == "/" else f"/login?{urlencode({'next': asked})}")
        if path == "/_dash-update-component":
            return _check_callback(role, callback_roles, results_cache, key_ids, callback_map)
        return None


def _install_provider(server: flask.Flask, settings) -> None:
    """Sign-in through the OpenID Connect provider: ``/login/oidc`` sends the browser there, the provider
    sends it back to ``/login/oidc/callback`` with a code that Authlib exchanges and checks."""
    from authlib.integrations.flask_client import OAuth

    provider = OAuth(server).register(
        "rct_oidc", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"})

    @server.route("/login/oidc")
    def oidc_login():
        flask.session["rct_next"] = _after_sign_in()
        back = flask.url_for("oidc_callback", _external=True, _scheme="https" if settings.https else "http")
        try:
            return provider.authorize_redirect(back)
        except Exception as error:  # its discovery document unreachable or not one
            logger.error("the sign-in provider %s cannot be reached: %s", settings.oidc_issuer, error)
            return _login_page("The sign-in provider cannot be reached just now: try again in a moment, or sign "
                               "in with a password if you have one."), 502

    @server.route("/login/oidc/callback")
    def oidc_callback():
        try:
            claims = provider.authorize_access_token().get("userinfo") or {}
        except Exception as error:  # a forged or stale callback, the provider unreachable, a bad signature
            logger.warning("sign-in through the provider failed: %s", error)
            return _login_page("Sign-in through the provider failed (the link was stale or not from it); "
                               "try again."), 400
        name = str(claims.get(settings.oidc_name_claim) or "")
        if settings.oidc_name_claim == "email" and claims.get("email_verified") is False:
            # anyone can claim an address at some providers; only one the provider checked names a user
            return _login_page(f"The provider has not verified the address {name}: verify it there first."), 403
        entry = load_users(settings.users_path).get(name)
        if not entry:
            logger.warning("provider sign-in refused: %r has no role here", name[:64])
            return _login_page(f"{name or 'This account'} has no role on this server: ask an administrator to "
                               "add it (python -m rct_users add NAME --role ROLE --provider-only)."), 403
        flask_login.login_user(_user(name, entry))
        logger.info("signed in through the provider: %s (%s)", name, entry["role"])
        return flask.redirect(flask.session.pop("rct_next", "/"))


def _sign_in_limiter(server: flask.Flask, settings):
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    storage = settings.redis_url or "memory://"
    if storage.startswith("unix://"):  # redis-py's spelling of a Redis socket; the limits library's is this
        storage = "redis+" + storage
    # with Redis down, count in memory rather than refuse every sign-in
    return Limiter(get_remote_address, app=server, storage_uri=storage, in_memory_fallback_enabled=True,
                   key_prefix="rct")


def _throttled(limit) -> flask.Response:
    # Flask-Limiter rounds reset_at up by a second: without taking it off, a fresh window would read 16 minutes
    minutes = max(1, math.ceil((limit.reset_at - 1 - time.time()) / 60))
    logger.warning("sign-in throttled for %s (%s)", flask.request.remote_addr, limit.limit)
    message = (f"Too many failed sign-ins for this user name or from this address: try again in {minutes} "
               f"minute{'s' if minutes > 1 else ''}.")
    return flask.make_response(_login_page(message, _after_sign_in()), 429)


# A limit on sign-in attempts counts failed ones only (401), on POSTs, and answers with the sign-in page.
_FAILURES_ONLY = {"methods": ["POST"], "deduct_when": lambda response: response.status_code == 401,
                  "on_breach": _throttled}


def _check_callback(role: str, callback_roles: dict[str, str], results_cache, key_ids: set[str],
                    callback_map: dict):
    body = flask.request.get_json(silent=True) or {}
    output = body.get("output")
    needed = callback_roles.get(output, "admin")  # an unknown callback needs the highest role
    if needed == "admin" and role != "admin" and (_embedded_autorun(body) or _polling_own_job()):
        needed = "viewer"
    if not allows(role, needed):
        logger.warning("refused %s (%s) callback %s needing %s", flask_login.current_user.get_id(), role,
                       output, needed)
        return _refuse(403, f"your role ({role}) cannot do this; it needs {needed}")
    user = current_user()
    for key in _results_keys(body, callback_map.get(output, {}), key_ids):
        if key not in (None, "") and not may_read(results_cache(), key, user):
            logger.warning("refused %s results %.12s… (not issued, or not theirs)", user.id if user else "-", key)
            return _unknown_results()
    return None


def _results_keys(body: dict, callback: dict, key_ids: set[str]) -> list:
    """The values a callback receives where it declared a results key. Dash hands values to the function by
    position whatever ids the request names, so a key sent under another id is found here too."""
    declared = [*callback.get("inputs", []), *callback.get("state", [])]
    sent = [*body.get("inputs", []), *body.get("state", [])]
    return [item.get("value") if isinstance(item, dict) else item
            for spec, item in zip(declared, sent) if spec.get("id") in key_ids]


def _unknown_results() -> flask.Response:
    """The answer to a callback naming results the user may not read (or that do not exist): the message in
    the page's alert area and nothing else. An answer, not an error status, because the page shows nothing
    for an error: a colleague whose page still holds the key of a dataset an admin deleted would see a
    dashboard that silently stopped responding."""
    from dash._utils import to_json

    from callbacks.common import error_alert
    from components.ids import SERVER_ALERT

    alert = error_alert(f"{UNKNOWN_RESULTS}; reload the page", title="These results cannot be shown")
    return flask.Response(to_json({"multi": True, "response": {}, "sideUpdate": {SERVER_ALERT: {"children": alert}}}),
                          mimetype="application/json")


def _polling_own_job() -> bool:
    """A poll for a background job's progress or result: its handles are signed by Dash for this page, so
    they only exist for a job this page was allowed to start (Dash reads nothing for a forged handle)."""
    args = flask.request.args
    return bool(args.get("cacheKey") and args.get("job"))


def _embedded_autorun(body: dict) -> bool:
    """The page's own first run of an embedded dataset (its results were not cached yet): any role may
    trigger it, since every role sees those results; uploads, databases and runs with other settings stay
    admin's."""
    if body.get("changedPropIds") != ["autorun.data"]:
        return False
    states = {s.get("id"): s.get("value") for s in body.get("state", []) if isinstance(s, dict)}
    from analytics.datasets import DATASETS

    return states.get("dataset-choice") in DATASETS


def _refuse(status: int, message: str):
    return flask.make_response(flask.jsonify(message=message), status)


def _after_sign_in() -> str:
    """Where the sign-in page sends the user: the address they asked for when it is one of this site's pages
    (``next``), else the dashboard; never another site (``//host`` or a scheme)."""
    target = flask.request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _login_page(message: str, after: str = "/") -> str:
    note = f'<div class="alert alert-danger py-2">{html.escape(message)}</div>' if message else ""
    action = "/login" if after == "/" else f"/login?{urlencode({'next': after})}"
    provider = ""
    if flask.current_app.config["RCT_SETTINGS"].oidc_issuer:
        to_provider = "/login/oidc" if after == "/" else f"/login/oidc?{urlencode({'next': after})}"
        provider = (f'<a class="btn btn-outline-primary w-100 mb-3" id="sign-in-provider" '
                    f'href="{html.escape(to_provider)}">Sign in with your organisation</a>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Retention Control Tower · sign in</title>
<link rel="stylesheet" href="/vendor/bootstrap5/css/bootstrap.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 24rem; margin-top: 12vh">
<h1 class="h4 mb-3">Retention Control Tower</h1>{note}{provider}
<form method="post" action="{html.escape(action)}" class="card card-body">
<label class="form-label" for="username">User name</label>
<input class="form-control mb-2" id="username" name="username" autocomplete="username" required autofocus>
<label class="form-label" for="password">Password</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password"
 required>
<button class="btn btn-primary" id="sign-in" type="submit">Sign in</button>
</form></main></body></html>"""
