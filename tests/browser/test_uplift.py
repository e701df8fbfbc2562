"""The campaign-test loop as a CRM analyst runs it: upload the assignment file of a past test, read the measured
uplift and the Qini curve, target with the learned uplift in the ROI simulator, export the next list with a
control group."""

from __future__ import annotations

import pandas as pd
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from analytics.datasets import embedded_campaign
from tests.browser.conftest import LOAD_TIMEOUT_S, click, console_errors, open_app, switch_tab, wait_for_download

MEASURE_TIMEOUT_S = 300  # cross-fitting, bootstrap intervals and the refits for today's customers, on a busy machine


def _upload(dash_duo, path) -> None:
    dash_duo.find_element("#uplift-upload input[type=file]").send_keys(str(path))
    dash_duo.wait_for_contains_text("#uplift-file-name", path.name, timeout=30)


def _type_into(dash_duo, selector: str, text: str) -> None:
    box = dash_duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.TAB)


def _curve(dash_duo) -> list | None:
    """The profit curve's net profit values as plotted."""
    return dash_duo.driver.execute_script(
        "const g = document.querySelector('#roi-curve .js-plotly-plot');"
        " return g && g._fullData && g._fullData.length ? Array.from(g._fullData[0].y) : null")


def test_measure_a_test_then_target_by_learned_uplift_and_export_a_control_group(dash_duo, make_app, tmp_path):
    # the synthetic retailer, which holds a past test; its results are computed afresh in the test cache
    open_app(dash_duo, make_app(), timeout=2 * LOAD_TIMEOUT_S)
    switch_tab(dash_duo, "Methodology & evidence")

    bad = tmp_path / "groups.csv"
    bad.write_text("CustomerID,arm\n12346,treated\n12347,maybe\n")
    _upload(dash_duo, bad)
    _type_into(dash_duo, "#uplift-sent-on", "2011-10-15")
    click(dash_duo, "#uplift-run")
    dash_duo.wait_for_contains_text("#uplift-error", "neither treatment nor control: 'maybe'", timeout=120)

    test = embedded_campaign()
    spelled = test.assignment.rename(columns={"customer_id": "CustomerID", "group": "arm"})
    spelled["arm"] = spelled["arm"].map({"treatment": "treated", "control": "holdout"})
    good = tmp_path / "spring_test.csv"
    spelled.to_csv(good, index=False)
    _upload(dash_duo, good)
    click(dash_duo, "#uplift-run")
    dash_duo.wait_for_contains_text("#uplift-summary", "Uplift in response rate", timeout=MEASURE_TIMEOUT_S)
    groups = dash_duo.find_element("#uplift-groups").text
    assert "treatment" in groups and "control" in groups
    assert "95 % CI" in dash_duo.find_element("#uplift-summary").text
    until(lambda: "ranked by uplift model" in dash_duo.find_element("#uplift-qini").text, timeout=30)
    assert "ranked by churn probability" in dash_duo.find_element("#uplift-qini").text
    assert "Champions" in dash_duo.find_element("#uplift-segments-table").text

    switch_tab(dash_duo, "ROI simulator")
    until(lambda: _curve(dash_duo), timeout=60)
    assumed = _curve(dash_duo)
    label = dash_duo.driver.find_element(
        By.XPATH, "//*[@id='roi-uplift-source']//label[normalize-space()='Learned from a campaign test']")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", label)
    label.click()
    until(lambda: (_curve(dash_duo) or assumed) != assumed, timeout=60)
    learned = _curve(dash_duo)
    assert len(learned) > 10 and max(learned) != max(assumed)
    until(lambda: "uplift_source=learned" in dash_duo.find_element("#roi-share-link").get_attribute("value"),
          timeout=20)

    _type_into(dash_duo, "#roi-control-share", "20")
    click(dash_duo, "#roi-export-targets")
    exported = pd.read_csv(wait_for_download(dash_duo, "roi_targeted_customers.csv"), dtype={"customer_id": str})
    assert {"customer_id", "group"} <= set(exported.columns)
    control = (exported["group"] == "control").sum()
    assert abs(control - 0.2 * len(exported)) <= 6  # 20 % of each of the 11 segments, rounded within each
    assert set(exported["group"]) == {"treatment", "control"}
    assert console_errors(dash_duo) == []
