"""A share link to an upload's results, opened by a person signed out: after signing in, a colleague of the
uploader's team sees those results; someone of another team sees the embedded dataset and a message that says
the link's results are not known, nothing of the upload."""

import auth
from tests.browser.conftest import LOAD_TIMEOUT_S, console_errors
from tests.browser.test_sign_in import PASSWORD, _sign_in
from tests.security.test_dataset_visibility import uploaded_by


def test_a_share_link_shows_the_upload_to_its_team_only(dash_duo, make_app, tmp_path):
    users = tmp_path / "users.json"
    for name, role, team in [("ada", "admin", "red"), ("rob", "finance", "red"), ("bea", "finance", "blue")]:
        auth.save_user(users, name, PASSWORD, role, [team])
    app = make_app(default_dataset="cdnow_sample", auth_required=True, users_file=users)
    key = uploaded_by(app, "ada", "red shop.csv")
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.set_window_size(1440, 1000)
    link = f"{dash_duo.server.url}/?results={key}"

    dash_duo.driver.get(link)
    _sign_in(dash_duo, "rob")  # the sign-in page sends them on to the link
    dash_duo.wait_for_contains_text("#dataset-summary", "red shop.csv ·", timeout=LOAD_TIMEOUT_S)
    assert dash_duo.find_element("#server-alert").text == ""
    assert console_errors(dash_duo) == []
    dash_duo.find_element("#sign-out").click()

    dash_duo.driver.get(link)
    _sign_in(dash_duo, "bea")
    dash_duo.wait_for_contains_text("#server-alert", "not known to this server", timeout=LOAD_TIMEOUT_S)
    dash_duo.wait_for_contains_text("#dataset-summary", "cdnow_sample ·", timeout=LOAD_TIMEOUT_S)
    assert "red shop" not in dash_duo.find_element("body").text
    # the key forged into the page from the browser console: the page says so, and shows nothing of it
    dash_duo.driver.execute_script(f"dash_clientside.set_props('results-key', {{data: '{key}'}});")
    dash_duo.wait_for_contains_text("#server-alert", "These results cannot be shown", timeout=30)
    assert "red shop" not in dash_duo.find_element("body").text
    assert console_errors(dash_duo) == []
