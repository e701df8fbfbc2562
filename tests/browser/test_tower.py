"""The executive tower and the evidence tab, as a person sees them in headless chromium."""

from __future__ import annotations

from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from analytics import insights, pipeline
from analytics.params import AnalysisParams
from callbacks import common
from components import formatting as fmt
from components.kpis import card_id, format_value
from components.methodology_tab import NOT_AVAILABLE
from tests.browser.conftest import LOAD_TIMEOUT_S, click, console_errors

def open_tab(dash_duo, label: str) -> None:
    click(dash_duo, next(a for a in dash_duo.find_elements("#tabs .nav-link") if a.text.strip() == label))
    dash_duo.wait_for_text_to_equal("#tabs .nav-link.active", label, timeout=10)


def plots_in_active_tab(dash_duo) -> int:
    return len(dash_duo.driver.find_elements(By.CSS_SELECTOR, ".tab-pane.active .js-plotly-plot"))


def wait_for_plots(dash_duo, at_least: int, timeout: float = 30) -> None:
    until(lambda: plots_in_active_tab(dash_duo) >= at_least, timeout=timeout)


def kpi_values(dash_duo) -> dict[str, str]:
    cards = dash_duo.find_elements("#tower-kpis [data-kpi]")
    return {c.get_attribute("data-kpi"): c.find_element(By.CSS_SELECTOR, ".kpi-value").text for c in cards}


def test_tower_shows_the_default_results_kpis_narrative_and_charts(dash_duo, make_app):
    app = make_app()
    settings = app.server.config["RCT_SETTINGS"]
    dash_duo.start_server(app)
    dash_duo.wait_for_element("#tower-kpis [data-kpi='customers'] .kpi-value", timeout=LOAD_TIMEOUT_S)

    # the numbers on the cards are analytics.insights' for the default dataset's results
    cache = common.results_cache(settings)
    key = pipeline.cached_key(cache, f"dataset:{settings.default_dataset}", AnalysisParams())
    assert key, "the default dataset's results should be in the cache once the tower shows them"
    results = cache.get(key)
    kpis = insights.kpis(results)
    assert kpi_values(dash_duo) == {k["key"]: format_value(k) for k in kpis}
    assert kpi_values(dash_duo)["customers"] == fmt.count(len(results.customers))

    sentences = [li.text for li in dash_duo.find_elements("#tower-narrative li")]
    assert sentences == insights.narrative(results) and 3 <= len(sentences) <= 5

    wait_for_plots(dash_duo, 3)
    for graph in ("#tower-trend", "#tower-segments", "#tower-cohorts"):
        assert dash_duo.find_element(f"{graph} .main-svg")

    # hovering a card shows its definition
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element(f"#{card_id('retention')}")).perform()
    retention = next(k for k in kpis if k["key"] == "retention")
    dash_duo.wait_for_text_to_equal(".tooltip .tooltip-inner", retention["definition"], timeout=10)
    assert console_errors(dash_duo) == []


def test_methodology_tab_renders_evidence_and_definitions(dash_duo, make_app):
    dash_duo.start_server(make_app())
    dash_duo.wait_for_element("#tower-kpis [data-kpi]", timeout=LOAD_TIMEOUT_S)
    open_tab(dash_duo, "Methodology & evidence")
    wait_for_plots(dash_duo, 4)
    for graph in ("#evidence-tracking", "#evidence-scatter", "#evidence-roc", "#evidence-calibration"):
        assert dash_duo.find_element(f"{graph} .main-svg")
    dash_duo.wait_for_contains_text("#evidence-kpi-definitions", "Retention rate", timeout=10)
    rules = dash_duo.find_elements(".tab-pane.active table tbody tr")
    assert any("Champions" in r.text for r in rules) and any("Can't Lose Them" in r.text for r in rules)
    # the CDNOW reference is refitted on first visit
    dash_duo.wait_for_contains_text("#evidence-reference", "Gamma-Gamma", timeout=120)
    open_tab(dash_duo, "Executive tower")
    assert console_errors(dash_duo) == []


def test_model_outputs_reach_the_cards_and_the_evidence(dash_duo, make_app, browser_cache_dir):
    """The CDNOW sample's results as the app computed them: the cards and the evidence show its models' numbers."""
    app = make_app(default_dataset="cdnow_sample")
    dash_duo.start_server(app)
    # the first run computes every model, the CLV tournament included (slow on a loaded machine)
    dash_duo.wait_for_element("#tower-kpis [data-kpi='clv'] .kpi-value", timeout=2 * LOAD_TIMEOUT_S)
    cache = common.results_cache(app.server.config["RCT_SETTINGS"])
    key = pipeline.cached_key(cache, "dataset:cdnow_sample", AnalysisParams())
    results = cache.get(key)

    kpis = {k["key"]: k for k in insights.kpis(results)}
    values = kpi_values(dash_duo)
    assert values["clv"] == fmt.money(results.customers["clv"].sum()) == fmt.money(kpis["clv"]["value"])
    assert values["revenue_at_risk"] == fmt.money(kpis["revenue_at_risk"]["value"]) != "–"
    assert insights.NEEDS_CLV not in dash_duo.find_element("#tower-kpis").text

    open_tab(dash_duo, "Methodology & evidence")
    wait_for_plots(dash_duo, 4)
    churn, clv = results.churn, results.clv
    dash_duo.wait_for_contains_text("#evidence-roc", f"AUC {churn.metrics.loc[churn.model, 'roc_auc']:.3f}",
                                    timeout=10)
    params = dash_duo.find_element("#evidence-params").text
    assert NOT_AVAILABLE not in params
    purchase, spend = clv.forecast.purchase_model, clv.forecast.gamma_gamma
    assert f"{purchase.params['r']:.4g}" in params and f"{spend.params['v']:.4g}" in params
    assert f"{spend.n_customers:,} repeat buyers" in params
    metrics = dash_duo.find_element("#evidence-metrics").text
    assert churn.model_label in metrics and f"{churn.n_held_out:,} held-out customers" in metrics
    assert all(name in metrics for name in churn.baselines)
    assert console_errors(dash_duo) == []
