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
