"""ROI callbacks as plain functions: levers <-> scenario, the answer for a table, saved scenarios, uploads."""

import base64
import io
import copy
from dataclasses import replace
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from analytics.results import Results
from analytics.roi import OPTIMAL, Scenario, evaluate
from callbacks import roi
from callbacks.roi import levers as roi_levers
from callbacks.roi import link as roi_link
from components import roi_tab
from components.figures.roi import money
from tests.callbacks.conftest import values_by_id

LEVERS = {
    "name": "Winback", "segments": ["At Risk", "Lost"], "clusters": [], "countries": [], "churn": [0.2, 1],
    "clv_min": 5, "discount_pct": 20, "redemption_pct": 70, "redemption_sd_pp": 5, "uplift_source": "given",
    "uplift_pp": 4, "uplift_sd_pp": 1.5, "test_treated_pct": None, "test_treated_n": None, "test_control_pct": None,
    "test_control_n": None, "gross_margin_pct": 35, "contact_cost": 0.5, "fixed_cost": 200, "horizon_months": 6,
    "size_mode": "top", "top_n": 100,
}


@pytest.fixture(scope="module")
def results(cdnow_run) -> Results:
    """The pipeline's CDNOW results."""
    return cdnow_run.results


BROAD = LEVERS | {"segments": ["At Risk", "Lost", "Hibernating"], "clv_min": None, "churn": [0, 1]}


@pytest.fixture(scope="module")
def tiny_results(unfittable_run) -> Results:
    """Two customers whose model columns are set by hand, so the answer can be worked out on paper; the
    rest (a 12-month CLV horizon) is a real run's."""
    customers = pd.DataFrame(
        {"segment": ["Champions", "Lost"], "p_no_purchase": [0.5, 0.9], "expected_spend": [100.0, 50.0]},
        index=pd.Index(["c1", "c2"], name="customer_id"),
    )
    return replace(unfittable_run.results, customers=customers)


def test_levers_and_scenario_round_trip():
    scenario = roi_levers.scenario_from_levers(LEVERS, {"ids": ["17850", "12345"], "source": "list.csv"})
    assert scenario.audience_size == 100 and scenario.audience.churn_min == 0.2 and scenario.audience.churn_max is None
    assert scenario.audience.customer_ids == ("17850", "12345") and scenario.audience.clv_min == 5
    values = roi_levers.lever_values(scenario)
    assert {k: values[k] for k in LEVERS} == LEVERS | {"churn": [0.2, 1]}
    assert Scenario.from_query(scenario.to_query()) == scenario  # what a shared link restores

    optimal = roi_levers.scenario_from_levers(LEVERS | {"size_mode": "optimal", "churn": [0, 1]})
    assert optimal.audience_size == OPTIMAL and optimal.audience.churn_min is None
    assert roi_levers.lever_values(optimal)["size_mode"] == "optimal" and roi_levers.lever_values(optimal)["top_n"] is no_update
    assert roi_levers.scenario_from_levers(LEVERS | {"size_mode": "all"}).audience_size is None


def test_bad_levers_are_named():
    with pytest.raises(ValueError, match="enter N"):
        roi_levers.scenario_from_levers(LEVERS | {"top_n": None})
    with pytest.raises(ValueError, match="discount_pct is empty"):
        roi_levers.scenario_from_levers(LEVERS | {"discount_pct": None})


def test_a_link_is_recognised_by_its_scenario_keys_only():
    assert roi_link.has_scenario("?" + Scenario().to_query())
    assert roi_link.has_scenario("discount_pct=10")
    assert roi_link.has_scenario("segment=Lost")
    assert not roi_link.has_scenario("?tab=tower&foo=1")
    assert not roi_link.has_scenario("") and not roi_link.has_scenario(None)


def test_net_profit_by_hand_with_the_clv_horizon_rescaled(tiny_results):
    """Two customers; P(no purchase) is over the 12-month CLV horizon, the campaign runs 3 months."""
    levers = LEVERS | {"segments": [], "churn": [0, 1], "clv_min": None, "size_mode": "all", "discount_pct": 10,
                       "redemption_pct": 100, "uplift_pp": 5, "gross_margin_pct": 40, "contact_cost": 1,
                       "fixed_cost": 0, "horizon_months": 3}
    outputs = roi.simulate(tiny_results, levers, None, "http://host/app/?old=1")
    p0 = 1 - np.array([0.5, 0.9]) ** (3 / 12)  # constant purchase rate
    p1 = p0 + 0.05
    spend = np.array([100.0, 50.0])
    net = ((p1 - p0) * 0.4 * spend - p1 * 0.1 * spend - 1).sum()
    assert outputs["current"]["discount_pct"] == 10  # the current scenario, for saving
    cards = str(outputs["cards"])
    assert f"'{money(net)}'" in cards and net < 0
    assert "below break-even" in cards  # the comparison RoiReport.uplift_vs_break_even makes
    assert outputs["link"] == ("http://host/app/?" + roi_levers.scenario_from_levers(levers).to_query() + "&"
                               + urlencode({"dataset": tiny_results.source, "results": tiny_results.key}))


def test_answer_matches_evaluate_on_pipeline_results(results):
    outputs = roi.simulate(results, BROAD, None, None)
    note, cards, warnings, curve = (outputs[k] for k in ("note", "cards", "warnings", "curve"))
    assert note is None
    report = evaluate(results.customers, roi_levers.scenario_from_levers(BROAD), p0_horizon_months=roi.p0_horizon(results))
    assert report.targeted_size == 100 < report.selected.n
    assert f"'{money(report.totals.net_profit)}'" in str(cards)
    assert curve.data[1].x[0] == report.curve.optimal_size
    assert len(warnings) == len(report.warnings)


def test_missing_model_columns_give_a_note_not_a_crash(clv_failed_run):
    shown = roi.simulate(clv_failed_run.results, LEVERS, None, None)
    note, cards, curve, current = (shown[k] for k in ("note", "cards", "curve", "current"))
    assert "needs the CLV model" in str(note)
    assert cards is None and current is None
    assert "CLV model" in curve.layout.annotations[0].text


def test_an_empty_audience_is_explained(results):
    shown = roi.simulate(results, LEVERS | {"segments": ["No such segment"]}, None, None)
    note, current = shown["note"], shown["current"]
    assert "audience is empty" in str(note) and current is None


def test_saving_adds_numbers_to_repeated_names_and_ignores_duplicates():
    a = Scenario(name="Base").to_dict()
    b = Scenario(name="Base", discount_pct=30).to_dict()
    saved = roi.add_saved(roi.add_saved([], a), a)
    assert [s["name"] for s in saved] == ["Base"]
    saved = roi.add_saved(saved, b)
    assert [s["name"] for s in saved] == ["Base", "Base (2)"] and saved[1]["discount_pct"] == 30
    full = [Scenario(name=f"s{i}").to_dict() for i in range(roi.MAX_SAVED)]
    assert roi.add_saved(full, b) == full


def test_comparison_of_saved_scenarios(results):
    saved = [roi_levers.scenario_from_levers(BROAD).to_dict(),
             roi_levers.scenario_from_levers(BROAD | {"name": "Deep", "discount_pct": 40}).to_dict(),
             Scenario(name="Elsewhere", audience={"segments": ["No such segment"]}).to_dict()]
    reports, problems = roi.saved_reports(results, copy.deepcopy(saved))
    assert len(reports) == 2 and len(problems) == 1 and problems[0].startswith("Elsewhere:")
    frame = roi.comparison_frame(reports)
    assert frame["name"].tolist() == ["Winback", "Deep"]
    assert frame["audience"].iloc[0] == "segments At Risk, Lost, Hibernating"
    assert roi_tab.audience_text(roi_levers.scenario_from_levers(LEVERS, {"ids": ["1", "2"]}).audience.to_dict()) == (
        "segments At Risk, Lost; churn 0.2–1; CLV ≥ 5; 2 listed IDs")
    assert frame["net_profit"].iloc[1] < frame["net_profit"].iloc[0]  # same audience, costlier discount
    table = roi_tab.comparison_table(frame, [r.scenario.to_query() for r in reports], frame["audience"])
    assert "Deep" in str(table) and "?name=Deep" in str(table)


def test_uploaded_id_list():
    content = "data:text/csv;base64," + base64.b64encode(b"CustomerID\n17850.0\n12345\n").decode()
    assert roi_levers.ids_from_upload(content, "list.csv") == {"ids": ["17850", "12345"], "source": "list.csv"}
    empty = "data:text/csv;base64," + base64.b64encode(b"CustomerID\n").decode()
    with pytest.raises(ValueError, match="no customer IDs"):
        roi_levers.ids_from_upload(empty, "empty.csv")


def test_filter_options_follow_the_columns_present(tiny_results):
    customers = tiny_results.customers
    shown = roi_levers.audience_options(customers, {"segments": None, "clusters": ["Kept from a link"], "countries": None})
    assert [o["value"] for o in shown["segments"]] == ["Champions", "Lost"]
    assert [o["value"] for o in shown["clusters"]] == ["Kept from a link"]
    assert shown["countries"] == [] and shown["no_clusters"] and shown["no_countries"]
    assert shown["no_churn"] and shown["no_clv"]
    assert "clusters" in shown["note"] and "CLV" in shown["note"]


def _layout_values() -> dict:
    """Each lever's starting value in the tab's layout."""
    names = dict(roi_levers.LEVERS)
    return {names[i]: value for i, value in values_by_id(roi_tab.layout(), names).items()}


def test_the_layout_starts_on_the_default_scenario():
    values = _layout_values()
    assert set(values) == set(roi_levers.LEVER_KEYS)
    assert roi_levers.scenario_from_levers(values) == Scenario()


def test_targeting_nobody_shows_no_uncertainty(results):
    levers = BROAD | {"size_mode": "optimal", "contact_cost": 1000}  # no customer is worth 1,000 a contact
    shown = roi.simulate(results, levers, None, None)
    note, cards, warnings, range_table = (shown[k] for k in ("note", "cards", "warnings", "range"))
    bridge, tornado, distribution = (shown[k] for k in ("bridge", "tornado", "distribution"))
    assert note is None and range_table is None
    assert "target nobody" in str(warnings)
    for fig in (bridge, tornado, distribution):
        assert "Nobody is targeted" in fig.layout.annotations[0].text
    assert "no campaign, nothing at risk" in str(cards)


def test_a_link_too_long_for_a_server_is_flagged(results):
    levers = BROAD | {"segments": []}
    many = {"ids": results.customers.index[:800].tolist(), "source": "big.csv"}
    outputs = roi.simulate(results, levers, many, "http://host/")
    warnings, link = outputs["warnings"], outputs["link"]
    assert len(link) > roi_link.MAX_LINK and "share link holds the 800 listed customer IDs" in str(warnings)
    few = roi.simulate(results, levers, {"ids": many["ids"][:5], "source": "s.csv"}, "http://host/")
    assert "share link" not in str(few["warnings"]) and few["link"].count("&id=") == 5


def test_a_link_restores_every_lever_once_and_the_margin_follows_the_analysis():
    scenario = Scenario(name="Winback", discount_pct=25, gross_margin_pct=55, audience_size=OPTIMAL)
    query = "?" + scenario.to_query()
    opened = roi_link.restored_levers(query, None, True, 30.0)
    assert roi_levers.scenario_from_levers(opened) == scenario  # the link's own margin wins over the analysis's
    assert opened["restored"] == query and opened["link_error"] is None and opened["id_list"] is None
    again = roi_link.restored_levers(query, query, True, 30.0)  # once only: later edits are the person's
    assert all(value is no_update for value in again.values())
    plain = roi_link.restored_levers("", None, True, 42.0)  # no link: only the margin, from the analysis
    assert plain["gross_margin_pct"] == 42.0
    assert [k for k, v in plain.items() if v is not no_update] == ["gross_margin_pct"]
    waiting = roi_link.restored_levers(query, None, False, 30.0)  # filter options not drawn yet
    assert waiting["restored"] is no_update


def test_a_bad_link_is_named_not_applied():
    shown = roi_link.restored_levers("?discount_pct=lots", None, True, 30.0)
    assert "discount_pct must be a number" in str(shown["link_error"])
    assert shown["discount_pct"] is no_update and shown["restored"] == "?discount_pct=lots"


def test_the_simulator_defaults_come_from_the_run_parameters(results):
    from analytics.params import AnalysisParams

    assert roi.p0_horizon(results) == AnalysisParams().clv_horizon_months
    assert roi.p0_horizon(replace(results, params=AnalysisParams(clv_horizon_months=6))) == 6


def test_exports_of_the_targeted_customers_and_of_the_comparison(results):
    from components import ids

    current = roi_levers.scenario_from_levers(BROAD).to_dict()
    targets = roi.export(results, ids.ROI_EXPORT_TARGETS, None, current)
    table = pd.read_csv(io.StringIO(targets["content"]), dtype={"customer_id": str})
    assert targets["filename"] == "roi_targeted_customers.csv" and len(table) == 100 and table["targeted"].all()
    comparison = roi.export(results, ids.ROI_EXPORT, [current, current | {"name": "Other", "discount_pct": 30}],
                            current)
    assert comparison["filename"] == "roi_scenarios.csv" and "Other" in comparison["content"]
    with pytest.raises(PreventUpdate):  # a forged scenario gets no file; the answer area says why
        roi.export(results, ids.ROI_EXPORT_TARGETS, None, {"name": "forged", "discount_pct": "lots"})


def test_a_share_link_names_its_dataset_and_says_when_other_data_is_shown(results):
    source = results.source
    assert source == "cdnow_sample"
    made = roi.simulate(results, BROAD, None, "http://host/")
    assert made["note"] is None, str(made["note"])
    assert made["link"].endswith("&" + urlencode({"dataset": source, "results": results.key}))
    assert "was made on" not in str(made["warnings"])
    opened = roi.simulate(results, BROAD, None, "http://host/?discount_pct=10&dataset=other+shop.csv")
    assert f"made on the dataset 'other shop.csv'; the results shown are of {source!r}" in str(opened["warnings"])
