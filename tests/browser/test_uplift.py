"""The campaign-test loop as a CRM analyst runs it: upload the assignment file of a past test, read the measured
uplift and the Qini curve, target with the learned uplift in the ROI simulator, export the next list with a
control group."""

from __future__ import annotations

import pandas as pd
from dash.testing.wait import until
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from analytics.datasets import embedded_campaign
from tests.browser.conftest import (
    LOAD_TIMEOUT_S,
    click,
    console_errors,
    open_app,
    switch_tab,
    wait_for_download,
)

MEASURE_TIMEOUT_S = 300  # cross-fitting, bootstrap intervals and the refits for today's customers, on a busy machine
# Under heavy load (several browser tests and fits on two cores) a re-render can take a minute: every wait is
# generous and polls what a person would see, so a slow machine makes the test slow, not red.
WAIT_S = 180


def _element(dash_duo, selector: str):
    """The element now, or None while it is missing or being re-rendered."""
    try:
        return dash_duo.driver.find_element(By.CSS_SELECTOR, selector)
    except WebDriverException:
        return None


def _text(dash_duo, selector: str) -> str:
    try:
        found = _element(dash_duo, selector)
        return found.text if found is not None else ""
    except WebDriverException:  # went stale between finding and reading
        return ""


def _wait_text(dash_duo, selector: str, text: str, timeout: float = WAIT_S) -> None:
    until(lambda: text in _text(dash_duo, selector), timeout=timeout,
          msg=f"{text!r} did not appear in {selector} within {timeout} s; it shows {_text(dash_duo, selector)!r}")


def _usable(dash_duo, selector: str, timeout: float = WAIT_S):
    """The element once it is visible and enabled (a person can type into it or click it)."""
    def ready():
        found = _element(dash_duo, selector)
        try:
            return found if found is not None and found.is_displayed() and found.is_enabled() else None
        except WebDriverException:
            return None

    return until(ready, timeout=timeout, msg=f"{selector} was not visible and enabled within {timeout} s")


def _value(dash_duo, selector: str) -> str | None:
    try:
        found = _element(dash_duo, selector)
        return found.get_attribute("value") if found is not None else None
    except WebDriverException:
        return None


def _upload(dash_duo, path) -> None:
    until(lambda: _element(dash_duo, "#uplift-upload input[type=file]"), timeout=WAIT_S,
          msg="the assignment upload area did not appear")
    _element(dash_duo, "#uplift-upload input[type=file]").send_keys(str(path))
    _wait_text(dash_duo, "#uplift-file-name", path.name)


def _type_into(dash_duo, selector: str, text: str) -> None:
    """Replace what a box holds, as a person would, and wait until the page holds the new value."""
    box = _usable(dash_duo, selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.TAB)
    until(lambda: _value(dash_duo, selector) == text, timeout=WAIT_S,
          msg=f"{selector} does not hold {text!r}; it holds {_value(dash_duo, selector)!r}")


def _curve(dash_duo) -> list | None:
    """The profit curve's net profit values as plotted."""
    try:
        return dash_duo.driver.execute_script(
            "const g = document.querySelector('#roi-curve .js-plotly-plot');"
            " return g && g._fullData && g._fullData.length ? Array.from(g._fullData[0].y) : null")
    except WebDriverException:
        return None


def _learned_label(dash_duo):
    xpath = "//*[@id='roi-uplift-source']//label[normalize-space()='Learned from a campaign test']"
    try:
        return dash_duo.driver.find_element(By.XPATH, xpath)
    except WebDriverException:
        return None


def test_measure_a_test_then_target_by_learned_uplift_and_export_a_control_group(dash_duo, make_app, tmp_path):
    # the synthetic retailer, which holds a past test; its results are computed afresh in the test cache
    open_app(dash_duo, make_app(), timeout=2 * LOAD_TIMEOUT_S)
    switch_tab(dash_duo, "Methodology & evidence", timeout=WAIT_S)

    bad = tmp_path / "groups.csv"
    bad.write_text("CustomerID,arm\n12346,treated\n12347,maybe\n")
    _upload(dash_duo, bad)
    _type_into(dash_duo, "#uplift-sent-on", "2011-10-15")
    click(dash_duo, _usable(dash_duo, "#uplift-run"), timeout=WAIT_S)
    _wait_text(dash_duo, "#uplift-error", "neither treatment nor control: 'maybe'", timeout=MEASURE_TIMEOUT_S)

    test = embedded_campaign()
    spelled = test.assignment.rename(columns={"customer_id": "CustomerID", "group": "arm"})
    spelled["arm"] = spelled["arm"].map({"treatment": "treated", "control": "holdout"})
    good = tmp_path / "spring_test.csv"
    spelled.to_csv(good, index=False)
    _upload(dash_duo, good)
    click(dash_duo, _usable(dash_duo, "#uplift-run"), timeout=WAIT_S)  # enabled again once the first run ended
    _wait_text(dash_duo, "#uplift-summary", "Uplift in response rate", timeout=MEASURE_TIMEOUT_S)
    _wait_text(dash_duo, "#uplift-groups", "treatment")
    assert "control" in _text(dash_duo, "#uplift-groups")
    assert "95 % CI" in _text(dash_duo, "#uplift-summary")
    _wait_text(dash_duo, "#uplift-qini", "ranked by uplift model")
    assert "ranked by churn probability" in _text(dash_duo, "#uplift-qini")
    _wait_text(dash_duo, "#uplift-segments-table", "Champions")

    switch_tab(dash_duo, "ROI simulator", timeout=WAIT_S)
    until(lambda: _curve(dash_duo), timeout=WAIT_S, msg="the profit curve was not drawn")
    assumed = _curve(dash_duo)
    label = until(lambda: _learned_label(dash_duo), timeout=WAIT_S, msg="no 'Learned from a campaign test' choice")
    click(dash_duo, label, timeout=WAIT_S)
    until(lambda: (_curve(dash_duo) or assumed) != assumed, timeout=WAIT_S,
          msg="the profit curve did not change with learned uplift")
    learned = _curve(dash_duo)
    assert len(learned) > 10 and max(learned) != max(assumed)
    until(lambda: "uplift_source=learned" in (_value(dash_duo, "#roi-share-link") or ""), timeout=WAIT_S,
          msg="the share link does not record the learned uplift source")

    _type_into(dash_duo, "#roi-control-share", "20")
    click(dash_duo, _usable(dash_duo, "#roi-export-targets"), timeout=WAIT_S)
    exported = pd.read_csv(wait_for_download(dash_duo, "roi_targeted_customers.csv", timeout=WAIT_S),
                           dtype={"customer_id": str})
    assert {"customer_id", "group"} <= set(exported.columns)
    control = (exported["group"] == "control").sum()
    assert abs(control - 0.2 * len(exported)) <= 6  # 20 % of each of the 11 segments, rounded within each
    assert set(exported["group"]) == {"treatment", "control"}
    assert console_errors(dash_duo) == []
