"""Browser tests: real headless chromium through dash.testing's ``dash_duo``.

Every test here is marked ``browser``; they never skip: without chromium and chromedriver they fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import Settings

LOAD_TIMEOUT_S = 120


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def free_server_port():
    """dash.testing numbers its servers from a fixed port in every process; pick a free one instead, so two
    suites on one machine (or a leftover server) never collide."""
    import socket

    from dash.testing.application_runners import BaseDashRunner

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        BaseDashRunner._next_port = sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser_cache_dir(tmp_path_factory) -> Path:
    """One cache for the whole browser session, so the default results are computed once."""
    return tmp_path_factory.mktemp("rct-cache")


@pytest.fixture
def make_app(browser_cache_dir):
    """Factory for a fresh app on the shared test cache (and other settings when a test needs them)."""
    from app import create_app

    def factory(**overrides):
        return create_app(Settings(cache_dir=browser_cache_dir, **overrides))

    return factory


def console_errors(dash_duo) -> list:
    """Severe browser console entries (dash_duo collects only SEVERE)."""
    return [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]


def external_requests(dash_duo) -> list[str]:
    """Every resource the page loaded from anywhere but its own server."""
    names = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith(dash_duo.server_url) and not n.startswith("data:")]


def open_app(dash_duo, app, timeout: float = LOAD_TIMEOUT_S) -> None:
    """Start the app and wait until the default dataset's results are on screen."""
    dash_duo.start_server(app)
    dash_duo.driver.set_window_size(1440, 1000)  # a laptop screen, so the page lays out as people see it
    dash_duo.wait_for_contains_text("#dataset-summary", "customers", timeout=timeout)


def switch_tab(dash_duo, label: str, timeout: float = 10) -> None:
    """Click a tab by its visible label, as a person would."""
    from selenium.webdriver.common.by import By

    click(dash_duo, dash_duo.driver.find_element(By.LINK_TEXT, label), timeout=max(timeout, CLICKABLE_TIMEOUT_S))
    dash_duo.wait_for_text_to_equal("#tabs .nav-link.active", label, timeout=timeout)


def wait_for_download(dash_duo, name: str, timeout: float = 20):
    """Path of a finished download in the browser's download folder."""
    import time

    path = Path(dash_duo.download_path) / name
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.stat().st_size > 0 and not Path(str(path) + ".crdownload").exists():
            return path
        time.sleep(0.2)
    raise AssertionError(f"{name} was not downloaded within {timeout} s")


CLICKABLE_TIMEOUT_S = 20

# Why an element cannot take a person's click now ("" when it can): scrolled to the middle of the window
# first (instantly: Bootstrap turns on smooth scrolling, and a click mid-scroll lands elsewhere), then the
# point a click would hit must belong to the element, not to an overlay, a tooltip or a loading spinner.
_UNCLICKABLE_REASON_JS = """
const el = arguments[0];
el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
const box = el.getBoundingClientRect();
if (box.width === 0 || box.height === 0) return 'it has no size';
const x = box.left + box.width / 2, y = box.top + box.height / 2;
if (x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight) return 'it is outside the window';
const hit = document.elementFromPoint(x, y);
if (!hit) return 'nothing is at its centre';
if (hit !== el && !el.contains(hit)) return 'it is covered by ' + hit.outerHTML.slice(0, 160);
return '';
"""


def click(dash_duo, target, timeout: float | None = None) -> None:
    """Click an element (a CSS selector or a found element) as a person would: wait until it is visible,
    enabled and not covered, with its centre in view, then click it with a real mouse click.

    No retry after the click: if the element never becomes clickable the test fails and says why.
    """
    import time

    element = dash_duo.find_element(target) if isinstance(target, str) else target
    timeout = CLICKABLE_TIMEOUT_S if timeout is None else timeout
    deadline = time.time() + timeout
    reason = ""
    while time.time() < deadline:
        if not element.is_displayed():
            reason = "it is not visible"
        elif not element.is_enabled():
            reason = "it is disabled"
        else:
            reason = dash_duo.driver.execute_script(_UNCLICKABLE_REASON_JS, element)
            if not reason:
                element.click()
                return
        time.sleep(0.1)
    raise AssertionError(f"could not click {target!r} within {timeout} s: {reason}")


def choose(dash_duo, selector: str, option_text: str) -> None:
    """Pick an option of a Dash dropdown by its visible text: open it, wait for the option, click it, and
    wait until the dropdown shows it (a multi-select shows it among its values)."""
    from selenium.webdriver.common.by import By

    click(dash_duo, selector)
    menu = dash_duo.wait_for_element(".dash-dropdown-options", timeout=CLICKABLE_TIMEOUT_S)
    xpath = f".//*[contains(@class, 'dash-dropdown-option')][normalize-space()={_xpath_literal(option_text)}]"
    click(dash_duo, menu.find_element(By.XPATH, xpath))
    dash_duo.wait_for_contains_text(selector, option_text, timeout=CLICKABLE_TIMEOUT_S)


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + text.replace("'", "', \"'\", '") + "')"
