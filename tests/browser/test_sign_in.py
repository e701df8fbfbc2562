"""Signing in as a person does: the sign-in page, the tabs of one's role, sign-out; with the security headers
(CSP) on, the page raises no console errors."""

import re

from selenium.webdriver.common.by import By

import auth
from tests.browser.conftest import LOAD_TIMEOUT_S, console_errors

PASSWORD = "correct horse battery"


def _open(dash_duo, app):
    """Start the server and open its address: the sign-in page (dash_duo's start_server waits for the app)."""
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.set_window_size(1440, 1000)
    dash_duo.driver.get(dash_duo.server.url)


def _sign_in(dash_duo, name):
    dash_duo.wait_for_element("#username", timeout=30).send_keys(name)
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#sign-in").click()


def test_a_marketing_user_signs_in_sees_their_tabs_and_signs_out(dash_duo, make_app, tmp_path):
    users = tmp_path / "users.json"
    auth.save_user(users, "mia", PASSWORD, "marketing")
    app = make_app(default_dataset="cdnow_sample", auth_required=True, users_file=users)
    _open(dash_duo, app)
    assert dash_duo.driver.current_url.endswith("/login")
    _sign_in(dash_duo, "mia")
    dash_duo.wait_for_contains_text("#dataset-summary", "customers", timeout=LOAD_TIMEOUT_S)
    shown = [link.text for link in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#tabs .nav-link")
             if link.is_displayed()]
    assert shown == ["Executive tower", "Segment explorer", "Journeys", "Methodology & evidence"]
    assert "mia" in dash_duo.find_element("#account").text
    assert console_errors(dash_duo) == []  # under the Content-Security-Policy
    dash_duo.find_element("#sign-out").click()
    dash_duo.wait_for_element("#username", timeout=30)
    dash_duo.driver.get(dash_duo.server.url)
    assert dash_duo.driver.current_url.endswith("/login")  # signed out: the data is behind the sign-in again


def test_a_wrong_password_is_said_on_the_sign_in_page(dash_duo, make_app, tmp_path):
    users = tmp_path / "users.json"
    auth.save_user(users, "vic", PASSWORD, "viewer")
    _open(dash_duo, make_app(default_dataset="cdnow_sample", auth_required=True, users_file=users))
    dash_duo.wait_for_element("#username", timeout=30).send_keys("vic")
    dash_duo.find_element("#password").send_keys("not the password")
    dash_duo.find_element("#sign-in").click()
    dash_duo.wait_for_contains_text("main", "Wrong user name or password", timeout=30)


def test_repeated_failed_sign_ins_are_refused_with_a_message(dash_duo, make_app, tmp_path):
    users = tmp_path / "users.json"
    auth.save_user(users, "vic", PASSWORD, "viewer")
    _open(dash_duo, make_app(default_dataset="cdnow_sample", auth_required=True, users_file=users,
                             sign_in_limit_per_name="2 per 15 minutes"))
    for _ in range(2):
        dash_duo.wait_for_element("#username", timeout=30).send_keys("vic")
        dash_duo.find_element("#password").send_keys("not the password")
        dash_duo.find_element("#sign-in").click()
        dash_duo.wait_for_contains_text("main", "Wrong user name or password", timeout=30)
    _sign_in(dash_duo, "vic")  # the right password, too late
    dash_duo.wait_for_contains_text("main", "Too many failed sign-ins for this user name", timeout=30)
    assert re.search(r"try again in 1[45] minutes", dash_duo.find_element("main").text)
    assert dash_duo.driver.current_url.split("?")[0].endswith("/login")
