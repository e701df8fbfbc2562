"""Journeys as marketing uses it: pick two snapshots, pick a flow, read its customers, export them."""

from __future__ import annotations

import re

import diskcache
import pandas as pd
from dash.testing.wait import until

from analytics import journeys as J
from analytics import pipeline
from analytics.cache import SQLITE_SETTINGS, ResultsCache
from analytics.journeys.stored import history_key
from analytics.params import AnalysisParams
from callbacks.journeys import export_filename
from tests.browser.conftest import choose, click, console_errors, open_app, switch_tab, wait_for_download

TIMEOUT = 60  # the machine running the tests may be busy


def cached_results(cache_dir):
    """(key, Results) of the app's default run on the CDNOW sample, read from the test session's cache (other
    tests leave other CDNOW results there, e.g. with a CLV model chosen by hand)."""
    cache = ResultsCache(cache_dir / "results")
    key = pipeline.cached_key(cache, "dataset:cdnow_sample", AnalysisParams())
    assert key is not None, "no default results for cdnow_sample in the test cache"
    return key, cache.get(key)


def flow_count(dash_duo) -> int:
    text = dash_duo.find_element("#journeys-flow-count").text
    match = re.match(r"([\d,]+) customers", text)
    assert match, f"unexpected flow summary: {text!r}"
    return int(match.group(1).replace(",", ""))


def grid_values(dash_duo, column: str) -> set[str]:
    grid = "#journeys-flow-grid .ag-center-cols-container"
    cells = dash_duo.find_elements(f"{grid} .ag-cell[col-id='{column}']")
    return {c.get_attribute("textContent") for c in cells}


def open_journeys(dash_duo, make_app):
    open_app(dash_duo, make_app(default_dataset="cdnow_sample"))
    switch_tab(dash_duo, "Journeys")
    dash_duo.wait_for_contains_text("#journeys-status", "snapshots", timeout=TIMEOUT)
    dash_duo.wait_for_element("#journeys-sankey .js-plotly-plot .sankey", timeout=TIMEOUT)


def test_pick_snapshots_and_flow_then_export_its_customers(dash_duo, make_app, browser_cache_dir):
    open_journeys(dash_duo, make_app)
    _, results = cached_results(browser_cache_dir)
    history = results.journeys.history
    labels = J.snapshots(history)["label"].tolist()
    assert len(labels) >= 4
    # the last two snapshots are compared by default
    until(lambda: dash_duo.find_element("#journeys-from").text.strip() == labels[-2], timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#journeys-headlines", f"of {labels[-2]}", timeout=TIMEOUT)

    # compare an earlier quarter with the last one instead
    first, last = labels[-4], labels[-1]
    choose(dash_duo, "#journeys-from", first)
    dash_duo.wait_for_contains_text("#journeys-headlines", f"of {first}", timeout=TIMEOUT)
    until(lambda: first in dash_duo.find_element("#journeys-sankey").text, timeout=TIMEOUT)
    until(lambda: f" in {first}, " in (dash_duo.driver.execute_script(
        "return document.querySelector('#journeys-matrix .js-plotly-plot').data[0].hovertemplate") or ""),
        timeout=TIMEOUT)

    # the biggest move between two different segments in that span, from the analytics
    flows = J.transitions(history, first, last)
    moves = flows.loc[(flows["source"] != flows["target"]) & (flows["source"] != J.NOT_YET)
                      & (flows["target"] != J.INACTIVE)]
    flow = moves.sort_values("customers", ascending=False).iloc[0]
    source, target, expected = str(flow["source"]), str(flow["target"]), int(flow["customers"])
    assert expected > 0

    choose(dash_duo, "#journeys-flow-source", source)
    choose(dash_duo, "#journeys-flow-target", target)
    summary = f"{expected:,} customers: {source}"
    until(lambda: dash_duo.find_element("#journeys-flow-count").text.startswith(summary), timeout=TIMEOUT)
    assert f"{target} in {last}" in dash_duo.find_element("#journeys-flow-count").text
    until(lambda: grid_values(dash_duo, "source") == {source} and grid_values(dash_duo, "target") == {target},
          timeout=TIMEOUT)

    click(dash_duo, "#journeys-export")
    path = wait_for_download(dash_duo, export_filename(first, last, source, target), timeout=TIMEOUT)
    exported = pd.read_csv(path, dtype={"customer_id": str})
    assert len(exported) == expected
    assert set(exported["source"]) == {source} and set(exported["target"]) == {target}
    assert exported["customer_id"].is_unique
    behind = J.flow_customers(history, first, last, source, target)
    assert set(exported["customer_id"]) == set(behind.index)
    assert console_errors(dash_duo) == []


def test_click_a_sankey_link_lists_its_customers(dash_duo, make_app, browser_cache_dir):
    open_journeys(dash_duo, make_app)
    _, results = cached_results(browser_cache_dir)
    history = results.journeys.history
    labels = J.snapshots(history)["label"].tolist()
    until(lambda: dash_duo.find_element("#journeys-from").text.strip() == labels[-2], timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#journeys-headlines", f"of {labels[-2]}", timeout=TIMEOUT)

    # the widest link, clicked in the middle of its band as a person would
    links = dash_duo.find_elements("#journeys-sankey path.sankey-link")
    assert links
    widest = max(links, key=lambda el: el.rect["height"] * el.rect["width"])
    click(dash_duo, widest)
    until(lambda: re.match(r"[\d,]+ customers", dash_duo.find_element("#journeys-flow-count").text),
          timeout=TIMEOUT)

    # the listed flow is the one clicked: its count matches the analytics for the states it names
    source = dash_duo.find_element("#journeys-flow-source").text.strip()
    target = dash_duo.find_element("#journeys-flow-target").text.strip()
    flows = J.transitions(history, labels[-2], labels[-1])
    row = flows.loc[(flows["source"] == source) & (flows["target"] == target)]
    assert len(row) == 1, (source, target)
    assert flow_count(dash_duo) == int(row["customers"].iloc[0])
    assert console_errors(dash_duo) == []


def test_monthly_snapshots_are_computed_once_and_cached(dash_duo, make_app, browser_cache_dir):
    open_journeys(dash_duo, make_app)
    key, results = cached_results(browser_cache_dir)
    click(dash_duo, "label[for='_dbcprivate_radioitems_journeys-period_input_M']")
    inactive = dash_duo.find_element("#journeys-inactive")
    inactive.clear()
    inactive.send_keys("90\n")
    dash_duo.wait_for_contains_text("#journeys-status", "monthly snapshots", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#journeys-status", "over 90 days", timeout=TIMEOUT)

    cache = diskcache.Cache(str(browser_cache_dir / "results"), **SQLITE_SETTINGS)
    try:
        expected = J.journey_history(cache.get(pipeline.invoices_key(key)), results.as_of, period="M",
                                     inactive_days=90)
        labels = J.snapshots(expected)["label"].tolist()
        until(lambda: dash_duo.find_element("#journeys-to").text.strip() == labels[-1], timeout=TIMEOUT)
        dash_duo.wait_for_contains_text("#journeys-headlines", f"of {labels[-2]}", timeout=TIMEOUT)
        stored = cache.get(history_key(key, "M", 90))
    finally:
        cache.close()
    assert stored is not None
    pd.testing.assert_frame_equal(stored, expected)
    assert console_errors(dash_duo) == []
