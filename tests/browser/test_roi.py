"""ROI simulator as finance uses it: move the discount, save and compare scenarios, export, share a link."""

from urllib.parse import urlsplit

import pandas as pd
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from components.figures.roi import money
from tests.browser.conftest import choose, click, console_errors, open_app, switch_tab, wait_for_download

NET_PROFIT = "#roi-kpi-net_profit .kpi-value"


def _open_roi(dash_duo, make_app) -> None:
    """Open the app on the ROI tab once the answer is computed with the analysis's gross margin (30 %, not the
    simulator's own default of 40 %): the link and the cards come from the same callback."""
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "ROI simulator")
    until(lambda: "gross_margin_pct=30&" in (_share_link(dash_duo) or ""), timeout=30)
    assert dash_duo.find_element("#roi-margin").get_attribute("value") == "30"
    assert _net_profit(dash_duo)


def _share_link(dash_duo) -> str | None:
    return dash_duo.driver.execute_script("const e = document.getElementById('roi-share-link'); return e && e.value")


def _net_profit(dash_duo) -> str | None:
    """The net profit card's text, read in one step (the cards are re-rendered on every change)."""
    return dash_duo.driver.execute_script(f"const e = document.querySelector('{NET_PROFIT}'); return e && e.innerText")


def _type_into(dash_duo, selector: str, text: str) -> None:
    """Replace an input's text and leave it, as a person does (debounced inputs send on blur)."""
    box = dash_duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.TAB)


def _set_discount(dash_duo, percent: int) -> None:
    """Type into the box next to the Dash 4 slider and check the slider follows."""
    _type_into(dash_duo, "#roi-discount input", str(percent))
    until(lambda: dash_duo.find_element("#roi-discount [role=slider]").get_attribute("aria-valuenow")
          == str(percent), timeout=10)


def _click_label(dash_duo, group_id: str, label: str) -> None:
    xpath = f"//*[@id='{group_id}']//label[normalize-space()='{label}']"
    click(dash_duo, dash_duo.driver.find_element(By.XPATH, xpath))


def _change_and_wait(dash_duo, action) -> str:
    before = _net_profit(dash_duo)
    action()
    until(lambda: _net_profit(dash_duo) != before, timeout=15)
    return _net_profit(dash_duo)


def test_discount_save_compare_export(dash_duo, make_app):
    _open_roi(dash_duo, make_app)
    assert dash_duo.find_element("#roi-discount [role=slider]").get_attribute("aria-valuenow") == "15"
    net_15 = _net_profit(dash_duo)

    click(dash_duo, "#roi-save")
    dash_duo.wait_for_contains_text("#roi-compare", "Base", timeout=15)

    net_30 = _change_and_wait(dash_duo, lambda: _set_discount(dash_duo, 30))
    assert net_30 != net_15

    _type_into(dash_duo, "#roi-name", "Deep discount")
    until(lambda: "name=Deep+discount" in _share_link(dash_duo), timeout=10)
    click(dash_duo, "#roi-save")
    dash_duo.wait_for_contains_text("#roi-compare", "Deep discount", timeout=15)

    table = dash_duo.find_element("#roi-compare-table")
    headers = [th.text.split("\n")[0] for th in table.find_elements(By.CSS_SELECTOR, "thead th")][1:]
    assert headers == ["Base", "Deep discount"]
    net_row = next(tr for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
                   if tr.find_element(By.CSS_SELECTOR, "th").text == "Net profit")
    assert [td.text for td in net_row.find_elements(By.CSS_SELECTOR, "td")] == [net_15, net_30]

    click(dash_duo, "#roi-export")
    exported = pd.read_csv(wait_for_download(dash_duo, "roi_scenarios.csv"))
    assert exported["name"].tolist() == ["Base", "Deep discount"]
    assert exported["discount_pct"].tolist() == [15, 30]
    assert [money(v) for v in exported["net_profit"]] == [net_15, net_30]
    # a deeper discount on the same audience costs more on purchases that would have happened anyway
    assert exported["net_profit"].iloc[1] < exported["net_profit"].iloc[0]
    assert (exported["selected_customers"] == exported["targeted_customers"]).all()
    assert console_errors(dash_duo) == []


def test_shared_link_restores_the_scenario(dash_duo, make_app):
    _open_roi(dash_duo, make_app)
    _change_and_wait(dash_duo, lambda: _set_discount(dash_duo, 25))
    _change_and_wait(dash_duo, lambda: choose(dash_duo, "#roi-segments", "At Risk"))
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)  # close the multi-select menu
    _change_and_wait(dash_duo, lambda: _type_into(dash_duo, "#roi-contact-cost", "0.5"))
    _change_and_wait(dash_duo, lambda: _click_label(dash_duo, "roi-size-mode", "Best size"))
    expected_net = _net_profit(dash_duo)
    expected_cards = dash_duo.find_element("#roi-kpis").text
    query = urlsplit(_share_link(dash_duo)).query
    assert "discount_pct=25" in query and "segment=At+Risk" in query and "audience_size=optimal" in query

    dash_duo.driver.get(dash_duo.server_url + "/?" + query)
    # the link opens the ROI tab by itself, with the same levers and the same answer
    dash_duo.wait_for_text_to_equal("#tabs .nav-link.active", "ROI simulator", timeout=60)
    until(lambda: _net_profit(dash_duo) == expected_net, timeout=60)
    assert dash_duo.find_element("#roi-kpis").text == expected_cards
    assert dash_duo.find_element("#roi-discount [role=slider]").get_attribute("aria-valuenow") == "25"
    assert dash_duo.find_element("#roi-contact-cost").get_attribute("value") == "0.5"
    assert "At Risk" in dash_duo.find_element("#roi-segments").text
    assert dash_duo.find_element("#roi-size-mode input[value='optimal']").is_selected()
    assert dash_duo.find_element("#roi-margin").get_attribute("value") == "30"
    assert urlsplit(_share_link(dash_duo)).query == query
    assert console_errors(dash_duo) == []
