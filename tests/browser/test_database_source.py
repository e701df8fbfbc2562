"""The Database source as a person uses it: pick the connection and a table, map two columns, run, and read
the results header; then a query that writes gets a message and the results stay. Real PostgreSQL."""

from dash.testing.wait import until
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.keys import Keys

from analytics.database import parse_url
from tests.browser.conftest import LOAD_TIMEOUT_S, click, console_errors, open_app, switch_tab


def _mapping(canonical: str) -> str:
    return '#\\{\\"canonical\\"\\:\\"' + canonical + '\\"\\,\\"type\\"\\:\\"mapping\\"\\}'


def _choose(dash_duo, selector: str, text: str, timeout: float = 30) -> None:
    """Open a dropdown, pick the option once it is offered (options may still be loading), check it shows."""
    def picked() -> bool:
        try:
            dash_duo.select_dcc_dropdown(selector, value=text)
        except WebDriverException:
            pass
        if text in dash_duo.find_element(selector).text:
            return True
        dash_duo.find_element("body").send_keys(Keys.ESCAPE)  # close a menu that did not offer it yet
        return False

    until(picked, timeout=timeout, poll=0.5)


def test_database_table_runs_and_the_header_names_it(dash_duo, make_app, postgres, postgres_orders):
    app = make_app(default_dataset="cdnow_sample", db_connections={"warehouse": parse_url(postgres.url())})
    open_app(dash_duo, app)
    switch_tab(dash_duo, "Data")
    _choose(dash_duo, "#dataset-choice", "Database")
    until(lambda: dash_duo.find_element("#db-connection").is_displayed(), timeout=10)
    # the person sees connection names only, never a URL or its password
    assert postgres.password not in dash_duo.driver.page_source
    _choose(dash_duo, "#db-connection", "warehouse")
    _choose(dash_duo, "#db-table", "orders")
    dash_duo.wait_for_contains_text("#db-message", "orders on warehouse: 8 columns", timeout=30)
    # order_ref and ordered_at match no known alias: the person maps them, as for a file
    _choose(dash_duo, _mapping("invoice_id"), "order_ref")
    _choose(dash_duo, _mapping("invoice_date"), "ordered_at")
    click(dash_duo, "#run-button")
    dash_duo.wait_for_contains_text("#dataset-summary", "orders on warehouse", timeout=LOAD_TIMEOUT_S)
    assert "customers" in dash_duo.find_element("#dataset-summary").text
    dash_duo.wait_for_contains_text("#quality-report", "Source: orders on warehouse", timeout=30)

    # a query that writes: one clear message, and the results on screen stay
    click(dash_duo, "label[for='_dbcprivate_radioitems_db-kind_input_query']")
    query = dash_duo.find_element("#db-query")
    until(query.is_displayed, timeout=10)
    query.send_keys("DELETE FROM orders")
    click(dash_duo, "#run-button")
    dash_duo.wait_for_contains_text("#run-error", "must start with SELECT or WITH", timeout=LOAD_TIMEOUT_S)
    assert "orders on warehouse" in dash_duo.find_element("#dataset-summary").text
    assert console_errors(dash_duo) == []
