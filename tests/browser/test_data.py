"""Data tab as a new user meets it: upload a file, read its quality report, get a clear message for a bad one."""

import numpy as np
import pandas as pd
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import LOAD_TIMEOUT_S, choose, click, console_errors, open_app, switch_tab


def _shop_log(path, customer_column="CustomerID"):
    """A small UCI-style log: 80 customers, repeat purchases, one cancellation."""
    rng = np.random.default_rng(7)
    rows = []
    for c in range(80):
        for k in range(1 + c % 4):
            day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 360)))
            rows.append((f"{c}-{k}", "A1", "RED CANDLE", int(rng.integers(1, 5)), day, 3.5, 10000 + c, "France"))
    rows.append(("C0-0", "A1", "RED CANDLE", -1, pd.Timestamp("2023-12-30"), 3.5, 10000, "France"))
    columns = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", customer_column,
               "Country"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def _upload(dash_duo, path):
    dash_duo.find_element("#upload input[type=file]").send_keys(str(path))


def test_upload_shows_quality_report_then_bad_file_message(dash_duo, make_app, tmp_path):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    dash_duo.wait_for_contains_text("#quality-report", "Source: cdnow_sample", timeout=30)

    _upload(dash_duo, _shop_log(tmp_path / "shop.csv"))
    dash_duo.wait_for_contains_text("#upload-name", "shop.csv", timeout=30)
    dash_duo.wait_for_contains_text("#quality-report", "Source: shop.csv", timeout=LOAD_TIMEOUT_S)
    report = dash_duo.find_element("#quality-report").text
    assert "Cancellation lines\n1" in report
    assert "80 customers" in dash_duo.find_element("#dataset-summary").text

    _upload(dash_duo, _shop_log(tmp_path / "no_customers.csv", customer_column="Buyer"))
    dash_duo.wait_for_contains_text("#run-error", "customer", timeout=30)
    # the message names what is missing and what was found; the good results stay on screen
    assert "Buyer" in dash_duo.find_element("#run-error").text
    assert "Source: shop.csv" in dash_duo.find_element("#quality-report").text
    assert console_errors(dash_duo) == []


def test_run_shows_progress_and_then_results(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    churn = dash_duo.find_element("#param-churn-window")
    churn.clear()
    churn.send_keys("61")  # new parameters: a real run, not a cache hit
    click(dash_duo, "#run-button")
    # while it runs: the cancel button is live and the progress bar names the stage
    until(lambda: dash_duo.find_element("#cancel-button").is_enabled(), timeout=20)
    until(lambda: dash_duo.find_element("#run-progress-text").text != "", timeout=60)
    until(lambda: not dash_duo.find_element("#cancel-button").is_enabled(), timeout=LOAD_TIMEOUT_S)
    assert dash_duo.find_element("#run-button").is_enabled()
    assert dash_duo.find_element("#run-error").text == ""
    assert console_errors(dash_duo) == []


def test_wrong_column_name_is_fixed_in_the_mapping_editor(dash_duo, make_app, tmp_path):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    _upload(dash_duo, _shop_log(tmp_path / "buyers.csv", customer_column="Buyer"))
    dash_duo.wait_for_contains_text("#run-error", "customer", timeout=30)
    # the editor lists the file's columns; the person picks the customer column and runs
    choose(dash_duo, '#\\{\\"canonical\\"\\:\\"customer_id\\"\\,\\"type\\"\\:\\"mapping\\"\\}', "Buyer")
    click(dash_duo, "#run-button")
    dash_duo.wait_for_contains_text("#quality-report", "Source: buyers.csv", timeout=LOAD_TIMEOUT_S)
    assert "80 customers" in dash_duo.find_element("#dataset-summary").text
    assert console_errors(dash_duo) == []


def test_bad_parameter_is_named_and_results_stay(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    summary = dash_duo.find_element("#dataset-summary").text
    horizon = dash_duo.find_element("#param-horizon")
    horizon.send_keys(Keys.END, Keys.BACKSPACE, Keys.BACKSPACE)  # typed away, as a person empties a field
    click(dash_duo, "#run-button")
    dash_duo.wait_for_contains_text("#run-error", "CLV horizon is empty", timeout=60)
    assert dash_duo.find_element("#dataset-summary").text == summary
    assert console_errors(dash_duo) == []


def test_cancel_stops_a_run_and_keeps_the_previous_results(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    # the tower's active-customer card states the churn window the shown results were made with
    dash_duo.wait_for_contains_text("#tower-kpis", "bought in the last 90 days", timeout=60)
    switch_tab(dash_duo, "Data")
    churn = dash_duo.find_element("#param-churn-window")
    churn.clear()
    churn.send_keys("63")  # new parameters: a real computation, long enough to cancel
    click(dash_duo, "#run-button")
    until(lambda: dash_duo.find_element("#cancel-button").is_enabled(), timeout=20)
    click(dash_duo, "#cancel-button")
    until(lambda: dash_duo.find_element("#run-button").is_enabled(), timeout=30)
    switch_tab(dash_duo, "Executive tower")
    assert "bought in the last 90 days" in dash_duo.find_element("#tower-kpis").text
    # run again at once: the cancelled run's locks are released, so this one does not wait for them
    switch_tab(dash_duo, "Data")
    click(dash_duo, "#run-button")
    switch_tab(dash_duo, "Executive tower")
    dash_duo.wait_for_contains_text("#tower-kpis", "bought in the last 63 days", timeout=90)
    assert console_errors(dash_duo) == []


def test_choosing_another_dataset_shows_its_results(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Data")
    choose(dash_duo, "#dataset-choice",
           "Synthetic UK gift retailer (about 100k invoice lines, 2010-12 to 2011-12)")
    dash_duo.wait_for_contains_text("#dataset-summary", "synthetic", timeout=LOAD_TIMEOUT_S)
    dash_duo.wait_for_contains_text("#quality-report", "Source: synthetic", timeout=30)
    assert console_errors(dash_duo) == []
