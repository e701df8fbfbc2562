"""Segment explorer as marketing uses it: filter, read the table, export the selection."""

import re

import pandas as pd
from dash.testing.wait import until

from tests.browser.conftest import choose, click, console_errors, open_app, switch_tab, wait_for_download


def _count(dash_duo) -> tuple[int, int]:
    text = dash_duo.find_element("#explorer-count").text
    selected, total = re.match(r"([\d,]+) of ([\d,]+) customers", text).groups()
    return int(selected.replace(",", "")), int(total.replace(",", ""))


def test_filter_by_segment_changes_table_and_export(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Segment explorer")
    dash_duo.wait_for_contains_text("#explorer-count", "customers selected", timeout=30)
    selected, total = _count(dash_duo)
    assert selected == total > 0
    dash_duo.wait_for_element("#explorer-scatter .js-plotly-plot", timeout=20)

    choose(dash_duo, "#explorer-segments", "Champions")
    dash_duo.wait_for_contains_text("#explorer-count", "customers selected", timeout=10)
    until(lambda: _count(dash_duo)[0] < total, timeout=10)
    champions, _ = _count(dash_duo)
    # every visible row of the grid belongs to the chosen segment
    until(
        lambda: {c.get_attribute("textContent") for c in dash_duo.find_elements("#explorer-grid .ag-cell[col-id='segment']")} == {"Champions"},
        timeout=10,
    )

    click(dash_duo, "#export-selection")
    exported = pd.read_csv(wait_for_download(dash_duo, "customer_selection.csv"), dtype={"customer_id": str})
    assert len(exported) == champions
    assert set(exported["segment"]) == {"Champions"}
    assert console_errors(dash_duo) == []


def test_high_value_at_risk_download_matches_its_definition(dash_duo, make_app, browser_cache_dir):
    from analytics import pipeline, selection
    from analytics.cache import ResultsCache
    from analytics.params import AnalysisParams

    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Segment explorer")
    dash_duo.wait_for_contains_text("#at-risk-definition", "churn probability at least 50%", timeout=30)
    click(dash_duo, "#export-at-risk")
    exported = pd.read_csv(wait_for_download(dash_duo, "high_value_at_risk.csv"), dtype={"customer_id": str})

    cache = ResultsCache(browser_cache_dir / "results")
    results = cache.get(pipeline.cached_key(cache, "dataset:cdnow_sample", AnalysisParams()))
    expected, definition = selection.high_value_at_risk(results.customers, 0.5)
    assert f"{len(expected):,} customers" in dash_duo.find_element("#at-risk-definition").text
    assert list(exported["customer_id"]) == list(expected.index)
    assert (exported["churn_probability"] >= 0.5).all()  # the one at-risk rule
    assert exported["clv"].min() >= results.customers["clv"].quantile(0.75) - 1e-9
    assert console_errors(dash_duo) == []


def test_colour_by_cluster_and_export_the_segment_summary(dash_duo, make_app, browser_cache_dir):
    from analytics import pipeline
    from analytics.cache import ResultsCache
    from analytics.params import AnalysisParams

    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Segment explorer")
    dash_duo.wait_for_element("#explorer-scatter .js-plotly-plot", timeout=30)
    cache = ResultsCache(browser_cache_dir / "results")
    customers = cache.get(pipeline.cached_key(cache, "dataset:cdnow_sample", AnalysisParams())).customers

    click(dash_duo, "label[for='_dbcprivate_radioitems_explorer-color-by_input_cluster_name']")
    legend = "return [...document.querySelectorAll('#explorer-scatter .legendtext')].map(e => e.textContent)"
    until(lambda: set(dash_duo.driver.execute_script(legend)) == set(customers["cluster_name"]), timeout=20)

    click(dash_duo, "#export-summary")
    summary = pd.read_csv(wait_for_download(dash_duo, "segment_summary.csv"))
    assert set(summary["segment"]) == set(customers["segment"])
    assert summary["customers"].sum() == len(customers)
    assert console_errors(dash_duo) == []
