"""The app starts the two documented ways and serves its own CSS (no CDN)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout_s: float = 60) -> tuple[int, str]:
    deadline = time.time() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.parametrize("command", [
    ["{python}", "app.py"],
    ["{bin}/gunicorn", "app:server", "--workers", "2", "--bind", "127.0.0.1:{port}"],
], ids=["python app.py", "gunicorn app:server"])
def test_app_serves_page_and_local_bootstrap(command, tmp_path):
    port = _free_port()
    argv = [part.format(python=sys.executable, bin=Path(sys.executable).parent, port=port) for part in command]
    env = dict(os.environ, PORT=str(port), RCT_CACHE_DIR=str(tmp_path / "cache"))
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "Retention Control Tower" in page
        assert "cdn" not in page.lower()
        status, css = _get(f"http://127.0.0.1:{port}/vendor/bootstrap5/css/bootstrap.min.css")
        assert status == 200 and "Bootstrap" in css[:200]
        status, _ = _get(f"http://127.0.0.1:{port}/vendor/bootstrap5/css/font/fonts/bootstrap-icons.woff2")
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=20)



def test_a_new_app_has_registered_every_script_before_its_first_request(tmp_path):
    """Dash registers its script bundles during a process's first request; a gunicorn worker that is still
    in that set-up on one thread answers 500 to a script request on another, which broke a fresh deploy's
    first page view. The factory does the set-up, so a new worker knows every script the page lists
    before it serves anything."""
    import re

    from dash.fingerprint import check_fingerprint

    from app import create_app
    from settings import Settings

    app = create_app(Settings(cache_dir=tmp_path / "cache"))
    known = {namespace: set(paths) for namespace, paths in app.registered_paths.items()}
    page = app.server.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r'<script src="/_dash-component-suites/([^/"]+)/([^"?]+)', page)
    assert any("polyfill" in path for _, path in scripts), scripts
    unknown = [(ns, path) for ns, path in scripts if check_fingerprint(path)[0] not in known.get(ns, set())]
    assert unknown == []


def _headers(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def test_gunicorn_serves_with_sign_in_security_headers_and_no_banner(tmp_path):
    port = _free_port()
    argv = [str(Path(sys.executable).parent / "gunicorn"), "app:server", "--workers", "1", "--bind",
            f"127.0.0.1:{port}"]
    env = dict(os.environ, RCT_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("RCT_AUTH", None)
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status, page = _get(f"http://127.0.0.1:{port}/")  # redirected to the sign-in page
        assert status == 200 and 'action="/login"' in page and "python -m rct_users add" in page
        status, headers, _ = _headers(f"http://127.0.0.1:{port}/_dash-layout")
        assert status == 401  # no data without signing in
        status, headers, _ = _headers(f"http://127.0.0.1:{port}/login")
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "gunicorn" not in headers.get("Server", "").lower()
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_python_app_py_runs_with_sign_in_off_and_says_so(tmp_path):
    port = _free_port()
    env = dict(os.environ, PORT=str(port), RCT_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("RCT_AUTH", None)
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        status, layout = _get(f"http://127.0.0.1:{port}/_dash-layout")
        assert status == 200 and "Sign-in is off" in layout
    finally:
        server.terminate()
        server.wait(timeout=20)
