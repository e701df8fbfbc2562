"""A fresh deploy's first page view: every gunicorn worker is ready before it serves, so the page and its
scripts load without an error whichever worker answers each request."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.browser.conftest import LOAD_TIMEOUT_S, click, console_errors

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(port: int, timeout_s: float = 60) -> None:
    """Wait for the socket only: an HTTP request here would warm a worker up before the browser does."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not listen on port {port} within {timeout_s} s")


def test_first_page_view_on_a_new_gunicorn_has_no_console_error(dash_br, tmp_path):
    """Served as deployed (sign-in on): the first person signs in and sees the dashboard, error-free."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ, RCT_CACHE_DIR=str(tmp_path / "cache"), RCT_DEFAULT_DATASET="cdnow_sample")
    env.pop("RCT_AUTH", None)
    subprocess.run([sys.executable, "-m", "rct_users", "add", "ada", "--role", "viewer", "--password-stdin"],
                   cwd=ROOT, env=env, input="correct horse battery\n", text=True, check=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [str(gunicorn), "app:server", "--workers", "3", "--threads", "4", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(port)
        dash_br.driver.set_window_size(1440, 1000)
        dash_br.driver.get(f"http://127.0.0.1:{port}/")  # the sign-in page, not a Dash page yet
        dash_br.wait_for_element("#username").send_keys("ada")
        dash_br.find_element("#password").send_keys("correct horse battery")
        click(dash_br, "#sign-in")
        dash_br.wait_for_contains_text("#dataset-summary", "customers", timeout=LOAD_TIMEOUT_S)
        assert console_errors(dash_br) == []
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert " 500 " not in log.read_text() and "Traceback" not in log.read_text(), log.read_text()[-2000:]
