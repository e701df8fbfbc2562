"""The page opens, shows the default dataset's results, and asks nothing of the internet."""

from tests.browser.conftest import LOAD_TIMEOUT_S, console_errors, external_requests


def test_app_loads_default_results_without_errors(dash_duo, make_app):
    app = make_app(default_dataset="cdnow_sample")
    dash_duo.start_server(app)
    dash_duo.wait_for_text_to_equal("#tabs .nav-link.active", "Executive tower", timeout=10)
    # the default dataset's analysis arrives on its own, without pressing a button
    dash_duo.wait_for_contains_text("#dataset-summary", "customers", timeout=LOAD_TIMEOUT_S)
    dash_duo.find_element("#tabs a[data-rb-event-key='data'], #tabs .nav-link:nth-child(1)")
    assert "synthetic" in dash_duo.find_element("#dataset-summary").text
    assert console_errors(dash_duo) == []
    assert external_requests(dash_duo) == []
