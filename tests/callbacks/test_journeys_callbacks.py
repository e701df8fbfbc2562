"""Journeys tab: the history for the chosen settings, what the tab shows, and flows picked by a click."""

from __future__ import annotations

import io
import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics.invoices import invoice_table
from analytics import journeys as J
from analytics import pipeline
from analytics.errors import DataError
from analytics.journeys.stored import history_key
from callbacks import common
from callbacks.journeys import (
    CROWDED_COLUMNS,
    export_filename,
    flow_export,
    flow_from_click,
    flow_view,
    flow_summary,
    flow_table,
    grid_records,
    history_for,
    inactive_window,
    journey_outputs,
    journey_view,
    snapshot_choices,
    snapshot_controls,
)
from components import ids, journeys_tab
from settings import Settings


@pytest.fixture(scope="module")
def cdnow(cdnow_run):
    return cdnow_run.results, cdnow_run.lines


@pytest.fixture(scope="module")
def history(cdnow):
    return cdnow[0].journeys.history


@pytest.fixture
def stored(cdnow, tmp_path):
    """Settings whose results cache holds the CDNOW results and their cleaned lines, as after a run."""
    results, lines = cdnow
    settings = Settings(cache_dir=tmp_path)
    cache = common.results_cache(settings)
    cache.set(results.key, results)
    cache.set(pipeline.invoices_key(results.key), invoice_table(lines))
    return settings, results


def labels_of(history) -> list[str]:
    return J.snapshots(history)["label"].tolist()


def figure_json(fig: go.Figure) -> dict:
    """The figure as the browser sends it back in a callback's State."""
    return json.loads(fig.to_json())


# -------------------------------------------------------------------------------- the history shown


def test_default_settings_use_the_pipeline_history_without_computing(stored):
    settings, results = stored
    shown = history_for(settings, results.key, "Q", J.DEFAULT_INACTIVE_DAYS)
    pd.testing.assert_frame_equal(shown, results.journeys.history)
    assert history_key(results.key, "Q", J.DEFAULT_INACTIVE_DAYS) not in common.results_cache(settings)


def test_other_settings_are_computed_from_the_stored_lines(stored, cdnow):
    settings, results = stored
    lines = cdnow[1]
    shown = history_for(settings, results.key, "M", 90)
    expected = J.journey_history(lines, results.as_of, period="M", inactive_days=90)
    pd.testing.assert_frame_equal(shown, expected)
    assert history_key(results.key, "M", 90) in common.results_cache(settings)
    assert set(shown["state"].unique()) >= {J.INACTIVE}


def test_bad_period_is_a_data_error(stored):
    settings, results = stored
    with pytest.raises(DataError, match="period"):
        history_for(settings, results.key, "W", 180)


@pytest.mark.parametrize("value", [None, "", "abc", 0, -5, 2.5, journeys_tab.MAX_INACTIVE_DAYS + 1])
def test_inactivity_window_must_be_whole_days_in_range(value):
    with pytest.raises(DataError, match="whole number of days"):
        inactive_window(value)


def test_inactivity_window_accepts_whole_numbers():
    assert inactive_window(90) == 90
    assert inactive_window(90.0) == 90
    assert inactive_window("365") == 365


# ---------------------------------------------------------------------------------- what the tab shows


def test_snapshot_choices_keep_a_valid_pair_else_the_last_two(history):
    labels = labels_of(history)
    options, a, b = snapshot_choices(history, labels[1], labels[3])
    assert [o["value"] for o in options] == labels
    assert (a, b) == (labels[1], labels[3])
    assert snapshot_choices(history, labels[3], labels[1])[1:] == (labels[-2], labels[-1])
    assert snapshot_choices(history, "1999-Q9", labels[1])[1:] == (labels[-2], labels[-1])
    assert snapshot_choices(history, None, None)[1:] == (labels[-2], labels[-1])


def test_sankey_between_two_snapshots_accounts_for_every_customer(history):
    labels = labels_of(history)
    a, b = labels[1], labels[-1]
    shown = journey_outputs(history, a, b, chain=False, weight="customers",
                            inactive_days=J.DEFAULT_INACTIVE_DAYS)
    sankey, matrix, headlines = shown["sankey"], shown["matrix"], shown["headlines"]
    links = sankey.data[0].link
    drawn = sum(row[4] for row in links.customdata)
    flows = J.transitions(history, a, b)
    hidden = flows.loc[(flows["source"] == J.NOT_YET) & (flows["target"] == J.NOT_YET), "customers"].sum()
    assert drawn + hidden == history["customer_id"].nunique()
    assert list(links.value) == [row[4] for row in links.customdata]
    assert {row[0] for row in links.customdata} == {a} and {row[1] for row in links.customdata} == {b}
    shares = J.transition_matrix(history, a, b)
    assert list(matrix.data[0].y) == list(shares.index) and list(matrix.data[0].x) == list(shares.columns)
    items = [li.children for li in headlines.children]
    assert items == J.headlines(history, a, b) and len(items) > 0


def test_whole_chain_and_revenue_weights(history):
    labels = labels_of(history)
    chain = journey_outputs(history, labels[-2], labels[-1], chain=True, weight="customers",
                            inactive_days=J.DEFAULT_INACTIVE_DAYS)["sankey"]
    starts = [row[0] for row in chain.data[0].link.customdata]
    assert list(dict.fromkeys(starts)) == labels[:-1]

    since = journey_outputs(history, labels[-2], labels[-1], chain=False, weight="to",
                            inactive_days=J.DEFAULT_INACTIVE_DAYS)["sankey"]
    flows = J.transitions(history, labels[-2], labels[-1], revenue="to")
    never = (flows["source"] == J.NOT_YET) & (flows["target"] == J.NOT_YET)
    positive = flows.loc[(flows["revenue"] > 0) & ~never]
    assert sorted(since.data[0].link.value) == pytest.approx(sorted(positive["revenue"]))
    assert "Revenue since" in since.layout.title.text


def test_a_long_chain_is_drawn_taller_with_smaller_labels(cdnow, history):
    results, lines = cdnow
    monthly = J.journey_history(lines, results.as_of, period="M")
    assert len(labels_of(monthly)) > CROWDED_COLUMNS >= len(labels_of(history))
    labels = labels_of(monthly)
    long = journey_outputs(monthly, labels[-2], labels[-1], chain=True, weight="customers",
                           inactive_days=J.DEFAULT_INACTIVE_DAYS)["sankey"]
    short = journey_outputs(history, labels_of(history)[-2], labels_of(history)[-1], chain=True,
                            weight="customers", inactive_days=J.DEFAULT_INACTIVE_DAYS)["sankey"]
    assert long.layout.height > short.layout.height
    assert long.data[0].textfont.size < (short.data[0].textfont.size or 13)


def test_snapshots_in_the_wrong_order_are_a_data_error(history):
    labels = labels_of(history)
    with pytest.raises(DataError, match="must be earlier"):
        journey_outputs(history, labels[-1], labels[0], chain=False, weight="customers", inactive_days=180)


# ------------------------------------------------------------------------------------- flows and clicks


def test_flow_table_counts_match_the_transitions_and_add_what_customers_are_worth_now(cdnow, history):
    results, _ = cdnow
    labels = labels_of(history)
    a, b = labels[-3], labels[-1]
    flows = J.transitions(history, a, b)
    for row in flows.itertuples():
        table = flow_table(history, results.customers, a, b, row.source, row.target)
        assert len(table) == row.customers
        assert set(table["source"]) == {row.source} and set(table["target"]) == {row.target}
    everyone_from = flow_table(history, results.customers, a, b, "Champions", None)
    assert len(everyone_from) == flows.loc[flows["source"] == "Champions", "customers"].sum()
    for column in ("clv", "churn_probability"):
        if column in results.customers:
            joined = everyone_from[column]
            now = results.customers.loc[joined.index, column]
            pd.testing.assert_series_equal(joined, now, check_names=False)


def test_flow_summary_says_when_the_table_is_cut():
    short = flow_summary(12, "2011-Q3", "2011-Q4", "Champions", None)
    assert short == "12 customers: Champions in 2011-Q3 → any state in 2011-Q4"
    long = flow_summary(journeys_tab.MAX_FLOW_ROWS + 1, "2011-Q3", "2011-Q4", None, "At Risk")
    assert long.startswith(f"{journeys_tab.MAX_FLOW_ROWS + 1:,} customers: any state")
    assert "export holds all" in long


def test_grid_records_are_json_safe():
    table = pd.DataFrame(
        {"source": pd.Categorical(["Champions", "Not yet a customer"]), "target": ["Lost", "New Customers"],
         "frequency": pd.array([3, pd.NA], dtype="Int64"), "monetary": [10.5, float("nan")], "other": [1, 2]},
        index=pd.Index(["c1", "c2"], dtype="string", name="customer_id"),
    )
    records = grid_records(table)
    assert json.loads(json.dumps(records)) == records
    assert records[1]["frequency"] is None and records[1]["monetary"] is None
    assert "other" not in records[0] and records[0]["customer_id"] == "c1"


def test_a_click_on_a_link_picks_its_flow(history):
    labels = labels_of(history)
    sankey = journey_outputs(history, labels[-2], labels[-1], chain=False, weight="customers",
                             inactive_days=180)["sankey"]
    figure = figure_json(sankey)
    links = figure["data"][0]["link"]["customdata"]
    for number in (0, len(links) - 1):
        # what dcc.Graph passes on for a link click: scalars only, no customdata
        point = {"curveNumber": 0, "pointNumber": number, "value": links[number][4], "index": number}
        click = {"points": [point]}
        a, b, source, target, customers, _ = links[number]
        assert flow_from_click(click, figure) == {"from": a, "to": b, "source": source, "target": target}
        assert len(J.flow_customers(history, a, b, source, target)) == customers


def test_a_click_on_a_box_lists_who_left_or_arrived(history):
    labels = labels_of(history)
    sankey = journey_outputs(history, labels[-3], labels[-1], chain=True, weight="customers",
                             inactive_days=180)["sankey"]
    figure = figure_json(sankey)
    nodes = figure["data"][0]["node"]
    columns = [row[0] for row in nodes["customdata"]]
    first = columns.index(labels[-3])
    click = {"points": [{"curveNumber": 0, "pointNumber": first, "group": False}]}
    assert flow_from_click(click, figure) == {"from": labels[-3], "to": labels[-2],
                                              "source": nodes["label"][first], "target": None}
    last = len(columns) - 1
    assert columns[last] == labels[-1]
    click = {"points": [{"curveNumber": 0, "pointNumber": last, "group": False}]}
    assert flow_from_click(click, figure) == {"from": labels[-2], "to": labels[-1], "source": None,
                                              "target": nodes["label"][last]}


def test_clicks_that_are_not_flows_pick_nothing(history):
    labels = labels_of(history)
    shown = journey_outputs(history, labels[-2], labels[-1], chain=False, weight="customers",
                            inactive_days=180)
    sankey, matrix = shown["sankey"], shown["matrix"]
    figure = figure_json(sankey)
    assert flow_from_click(None, figure) is None
    assert flow_from_click({"points": []}, figure) is None
    assert flow_from_click({"points": [{"pointNumber": 10_000}]}, figure) is None
    assert flow_from_click({"points": [{"pointNumber": 0, "x": "Lost", "y": "Champions"}]},
                           figure_json(matrix)) is None


def test_export_file_names_are_safe_and_say_which_flow():
    name = export_filename("2011-Q3", "2011-Q4 (to 2011-12-09)", "Can't Lose Them", None)
    assert name == "journey_Can-t-Lose-Them_2011-Q3_to_any_2011-Q4-to-2011-12-09.csv"


def test_the_tab_is_in_the_page_with_its_methodology():
    from components.layout import LAZY_BODIES, tab_bodies

    assert ids.tab_body("journeys") in json.dumps(tab_bodies(Settings())["journeys"].to_plotly_json())
    body = LAZY_BODIES["journeys"]()  # drawn on the tab's first visit
    text = json.dumps(body.to_plotly_json(), default=lambda o: o.to_plotly_json())
    shown = (ids.JOURNEYS_SANKEY, ids.JOURNEYS_MATRIX, ids.JOURNEYS_FLOW_GRID, ids.JOURNEYS_EXPORT)
    for component_id in shown:
        assert f'"{component_id}"' in text
    assert "How journeys are computed" in text and "Comparable scores" in text


def test_the_tab_views_by_output_name(stored):
    settings, results = stored
    labels = labels_of(results.journeys.history)
    controls = snapshot_controls(settings, results.key, "Q", 180, (None, None))
    assert (controls["from"], controls["to"]) == (labels[-2], labels[-1])
    assert "quarterly snapshots" in controls["status"]
    bad = snapshot_controls(settings, results.key, "Q", "soon", (None, None))
    assert bad["from_options"] == [] and "inactivity window must be a whole number" in str(bad["status"])
    view = journey_view(settings, results.key, "Q", 180, labels[-1], labels[0], False, "customers")
    assert "must be earlier" in str(view["headlines"])  # snapshots in the wrong order: said, not drawn
    prompt = flow_view(settings, results.key, "Q", 180, labels[-2], labels[-1], None, None)
    assert "Pick a flow" in str(prompt["count"]) and prompt["no_export"]
    flow = flow_view(settings, results.key, "Q", 180, labels[-2], labels[-1], "Champions", None)
    download = flow_export(settings, results.key, "Q", 180, labels[-2], labels[-1], "Champions", None)
    exported = pd.read_csv(io.StringIO(download["content"]))
    assert flow["count"].startswith(f"{len(exported):,} customers: Champions in {labels[-2]}")
    assert not flow["no_export"] and len(flow["rows"]) == min(len(exported), journeys_tab.MAX_FLOW_ROWS)
