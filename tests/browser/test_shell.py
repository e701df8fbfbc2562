"""The page opens on the embedded default dataset, shows its results, and asks nothing of the internet."""

from components.layout import TAB_LABELS
from tests.browser.conftest import console_errors, external_requests, open_app, switch_tab


def test_app_opens_on_default_results_and_every_tab_renders(dash_duo, make_app):
    open_app(dash_duo, make_app())  # the default dataset (synthetic), as `make run` shows it
    assert dash_duo.find_element("#tabs .nav-link.active").text == "Executive tower"
    assert dash_duo.find_element("#dataset-summary").text.startswith("synthetic")
    for label in TAB_LABELS.values():
        switch_tab(dash_duo, label)
        assert dash_duo.find_element(".tab-pane.active").text.strip() != ""
    assert console_errors(dash_duo) == []
    assert external_requests(dash_duo) == []
