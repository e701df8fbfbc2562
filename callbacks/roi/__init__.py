"""ROI simulator callbacks: levers -> one evaluation -> every answer; saved scenarios, exports, shared links.

Recomputing is ``analytics.roi.evaluate`` on the cached customer table (no refit). The browser holds the
results key, the levers, and the saved scenarios as small dicts; never customer rows. The controls and the
scenario they describe are :mod:`.levers`; shared links are :mod:`.link`; this module computes and registers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from analytics.errors import DataError
from analytics.export import to_safe_csv
from analytics.results import Results
from analytics.roi import RoiReport, Scenario, compare, evaluate
from analytics.roi.scenario import LEARNED
from analytics.uplift.analysis import CampaignTest
from callbacks import common, uplift
from callbacks.roi.levers import LEVERS, audience_options, ids_from_upload, scenario_from_levers
from callbacks.roi.link import has_scenario, link_notes, made_on_notes, restored_levers, share_link
from components import ids
from components import roi_tab as tab
from components.figures import roi as figures
from components.theme import empty_figure

MAX_SAVED = 10
MODEL_COLUMNS = ("expected_spend", "p_no_purchase")
NOBODY = "Nobody is targeted: no campaign, nothing at risk"
ANSWER = {
    "note": Output(ids.ROI_NOTE, "children"), "cards": Output(ids.ROI_KPIS, "children"),
    "warnings": Output(ids.ROI_WARNINGS, "children"), "curve": Output(ids.ROI_CURVE, "figure"),
    "bridge": Output(ids.ROI_BRIDGE, "figure"), "tornado": Output(ids.ROI_TORNADO, "figure"),
    "distribution": Output(ids.ROI_DISTRIBUTION, "figure"), "range": Output(ids.ROI_RANGE, "children"),
    "audience": Output(ids.ROI_AUDIENCE, "children"), "link": Output(ids.ROI_SHARE_LINK, "value"),
    "current": Output(ids.ROI_CURRENT, "data"),
}


def missing_model(customers: pd.DataFrame) -> list[str]:
    """Model columns the simulator needs that the customer table lacks."""
    return [c for c in MODEL_COLUMNS if c not in customers.columns]


def p0_horizon(results: Results) -> float:
    """Months the CLV model's P(no purchase) is for (its horizon), to rescale it to the campaign's."""
    return float(results.params.clv_horizon_months)


TestLoader = Callable[[], CampaignTest]


def run(results: Results, scenario: Scenario, test: TestLoader | None = None) -> RoiReport:
    """One evaluation of a scenario on the results' customers; ``test`` loads the measured campaign test
    that learned uplift comes from (only called when the scenario uses it)."""
    learned = None
    if scenario.uplift_source == LEARNED and test is not None:
        scored = test().scored
        learned = (scored.uplift, scored.draws)
    return evaluate(results.customers, scenario, p0_horizon_months=p0_horizon(results), learned=learned)


def results_gross_margin_pct(settings, key: str | None) -> float | None:
    """The analysis's gross margin in percent (the simulator's default), or None before there are results."""
    try:
        results = common.load_results(settings, key)
    except PreventUpdate:  # no results yet: a shared link must still open
        return None
    return round(results.params.gross_margin_fraction * 100, 4)


def _empty_answer(note, message: str) -> dict[str, Any]:
    blank = empty_figure(message)
    return {"note": note, "cards": None, "warnings": None, "curve": blank, "bridge": blank, "tornado": blank,
            "distribution": blank, "range": None, "audience": None, "link": "", "current": None}


def answer(report: RoiReport, href: str | None, dataset: str = "", results_key: str = "") -> dict[str, Any]:
    """Everything the answer area shows for one report, by output name (see ANSWER); ``dataset`` names the
    results' source and ``results_key`` the results, for the share link."""
    totals, mc = report.totals.to_dict(), report.monte_carlo.to_dict()
    link = share_link(href, report.scenario, dataset, results_key)
    targeted = report.targeted_size
    selection = report.selection.to_dict()
    return {
        "note": None,
        "cards": tab.answer_cards(totals, mc, uplift_pp=report.levers.uplift_fraction * 100,
                                  versus_break_even=report.uplift_vs_break_even, targeted=targeted,
                                  selected=report.selected.n, learned=report.scenario.uplift_source == LEARNED),
        "warnings": tab.warning_alerts(report.warnings + link_notes(link, report.scenario)
                                       + made_on_notes(href, dataset)),
        "curve": figures.profit_curve(report.curve.thinned(), report.curve.optimal_size, targeted_size=targeted,
                                      targeted_net_profit=float(report.curve.frame["net_profit"].iloc[targeted])),
        "bridge": figures.profit_bridge(totals),
        "tornado": figures.tornado(report.tornado) if targeted else empty_figure(NOBODY),
        "distribution": (figures.profit_distribution(report.monte_carlo.histogram(), mc) if targeted
                         else empty_figure(NOBODY)),
        "range": tab.range_table(report.scenarios) if targeted else None,
        "audience": tab.audience_summary(selection["steps"], report.selected.n, targeted, selection["notes"]),
        "link": link,
        "current": report.scenario.to_dict(),
    }


def simulate(results: Results, values: Mapping[str, Any], id_list, href: str | None,
             test: TestLoader | None = None) -> dict[str, Any]:
    """The answer for these levers, or a note saying what is missing or wrong (by output name)."""
    if missing_model(results.customers):
        return _empty_answer(tab.model_note(), "Needs the CLV model")
    try:
        return answer(run(results, scenario_from_levers(values, id_list), test), href, results.source, results.key)
    except DataError as error:
        return _empty_answer(common.error_alert(error, "This scenario cannot be computed"), "No result")


def saved_reports(results: Results, saved: Sequence[Mapping[str, Any]],
                  test: TestLoader | None = None) -> tuple[list[RoiReport], list[str]]:
    """Reports of the saved scenarios that can be computed on these results, and why the others cannot."""
    reports, problems = [], []
    for values in saved or ():
        try:
            reports.append(run(results, Scenario.from_dict(dict(values)), test))
        except (DataError, TypeError) as error:  # TypeError: a forged entry that is not a dict of levers
            name = values.get("name", "Scenario") if isinstance(values, Mapping) else "Scenario"
            problems.append(f"{name}: {error}")
    return reports, problems


def comparison_frame(reports: Sequence[RoiReport]) -> pd.DataFrame:
    """``analytics.roi.compare`` with the audience described in words (for the table and the CSV)."""
    frame = compare(list(reports))
    frame.insert(1, "audience", [tab.audience_text(r.scenario.audience.to_dict()) for r in reports])
    return frame


def add_saved(saved: list[dict], scenario: dict) -> list[dict]:
    """Saved scenarios with this one added; an identical one is not added twice, a name in use gets a number."""
    if any(s == scenario for s in saved) or len(saved) >= MAX_SAVED:
        return saved
    names = {s["name"] for s in saved}
    name, n = scenario["name"], 2
    while name in names:
        name, n = f"{scenario['name']} ({n})", n + 1
    return [*saved, {**scenario, "name": name}]


def export(results: Results, which: str, saved: Sequence[Mapping[str, Any]] | None,
           current: Mapping[str, Any] | None, test: TestLoader | None = None,
           control_pct: Any = uplift.DEFAULT_CONTROL_PCT, seed: Any = 0) -> dict:
    """The targeted customers of the current scenario (with a ``group`` column: a seeded control group of
    ``control_pct`` % per segment, the next test's assignment file; DataError for a bad share or seed), or
    the comparison of the saved ones, as a CSV download."""
    if which == ids.ROI_EXPORT_TARGETS:
        if not current:
            raise PreventUpdate
        try:
            customers = run(results, Scenario.from_dict(dict(current)), test).customers
        except (DataError, TypeError):
            raise PreventUpdate from None  # the answer area already says why this scenario cannot be computed
        return uplift.campaign_file(customers[customers["targeted"]], results.customers["segment"], control_pct,
                                    seed, "roi_targeted_customers.csv")
    reports, _ = saved_reports(results, saved or ([current] if current else []), test)
    if not reports:
        raise PreventUpdate
    return dcc.send_string(to_safe_csv(comparison_frame(reports)), "roi_scenarios.csv")


# --------------------------------------------------------------------------------------------- register


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]
    _register_audience(app, settings)
    _register_link(app, settings)
    _register_answer(app, settings)
    _register_saved(app, settings)


def _register_audience(app: dash.Dash, settings) -> None:
    @app.callback(
        output={
            "segments": Output(ids.ROI_SEGMENTS, "options"), "clusters": Output(ids.ROI_CLUSTERS, "options"),
            "countries": Output(ids.ROI_COUNTRIES, "options"), "no_clusters": Output(ids.ROI_CLUSTERS, "disabled"),
            "no_countries": Output(ids.ROI_COUNTRIES, "disabled"), "no_churn": Output(ids.ROI_CHURN, "disabled"),
            "no_clv": Output(ids.ROI_CLV_MIN, "disabled"), "note": Output(ids.ROI_FILTER_NOTE, "children"),
        },
        inputs={"key": Input(ids.tab_key("roi"), "data"),
                "chosen": {"segments": State(ids.ROI_SEGMENTS, "value"), "clusters": State(ids.ROI_CLUSTERS, "value"),
                           "countries": State(ids.ROI_COUNTRIES, "value")}},
    )
    def show_audience_options(key, chosen):
        return audience_options(common.load_results(settings, key).customers, chosen)

    @app.callback(
        output={"id_list": Output(ids.ROI_IDS, "data", allow_duplicate=True),
                "error": Output(ids.ROI_LINK_ERROR, "children", allow_duplicate=True)},
        inputs={"contents": Input(ids.ROI_UPLOAD, "contents"), "_clear": Input(ids.ROI_IDS_CLEAR, "n_clicks"),
                "filename": State(ids.ROI_UPLOAD, "filename")},
        prevent_initial_call=True,
    )
    def upload_ids(contents, _clear, filename):
        if ctx.triggered_id == ids.ROI_IDS_CLEAR or not contents:
            return {"id_list": None, "error": None}
        try:
            return {"id_list": ids_from_upload(contents, filename), "error": None}
        except DataError as error:
            return {"id_list": no_update, "error": common.error_alert(error, "This ID list cannot be used")}

    @app.callback(
        output={"status": Output(ids.ROI_IDS_STATUS, "children"), "clear": Output(ids.ROI_IDS_CLEAR, "style")},
        inputs={"id_list": Input(ids.ROI_IDS, "data")},
    )
    def show_id_list(id_list):
        if not id_list:
            return {"status": "", "clear": {"display": "none"}}
        return {"status": f"Audience limited to {len(id_list['ids']):,} customer IDs from {id_list['source']}.",
                "clear": None}

    @app.callback(
        output={"given": Output(ids.ROI_UPLIFT_GIVEN, "style"), "test": Output(ids.ROI_UPLIFT_TEST, "style"),
                "no_top_n": Output(ids.ROI_TOP_N, "disabled")},
        inputs={"source": Input(ids.ROI_UPLIFT_SOURCE, "value"), "size_mode": Input(ids.ROI_SIZE_MODE, "value")},
    )
    def show_lever_groups(source, size_mode):
        hidden = {"display": "none"}
        given, test = (hidden, None) if source == "test" else (hidden, hidden) if source == LEARNED else (None, hidden)
        return {"given": given, "test": test, "no_top_n": size_mode != "top"}


def _register_link(app: dash.Dash, settings) -> None:
    @app.callback(Output(ids.TABS, "active_tab"), Input(ids.LOCATION, "search"))
    def open_linked_tab(search):
        """A shared scenario link opens on this tab (whose body, and levers, are then drawn)."""
        if not has_scenario(search):
            raise PreventUpdate
        return "roi"

    @app.callback(
        output={**{key: Output(i, "value") for i, key in LEVERS}, "id_list": Output(ids.ROI_IDS, "data"),
                "link_error": Output(ids.ROI_LINK_ERROR, "children"), "restored": Output(ids.ROI_RESTORED, "data")},
        inputs={"search": Input(ids.LOCATION, "search"), "key": Input(ids.tab_key("roi"), "data"),
                # the filters' options come from the results: a value set before its option exists is dropped
                "segment_options": Input(ids.ROI_SEGMENTS, "options"), "restored": State(ids.ROI_RESTORED, "data")},
    )
    def restore(search, key, segment_options, restored):
        """A shared link sets every lever once; the gross margin defaults to the analysis's."""
        return restored_levers(search, restored, bool(segment_options), results_gross_margin_pct(settings, key))


def _register_answer(app: dash.Dash, settings) -> None:
    @app.callback(
        output=ANSWER,
        inputs={"key": Input(ids.tab_key("roi"), "data"), "id_list": Input(ids.ROI_IDS, "data"),
                "test_key": Input(ids.UPLIFT_KEY, "data"),
                "levers": {key: Input(i, "value") for i, key in LEVERS}, "href": State(ids.LOCATION, "href")},
    )
    def update(key, id_list, test_key, levers, href):
        return simulate(common.load_results(settings, key), levers, id_list, href,
                        lambda: uplift.load_test(settings, test_key, key))


def _register_saved(app: dash.Dash, settings) -> None:
    @app.callback(
        Output(ids.ROI_SAVED, "data"),
        inputs={"clicks": (Input(ids.ROI_SAVE, "n_clicks"), Input(ids.ROI_CLEAR_SAVED, "n_clicks")),
                "current": State(ids.ROI_CURRENT, "data"), "saved": State(ids.ROI_SAVED, "data")},
        prevent_initial_call=True,
    )
    def save(clicks, current, saved):
        if ctx.triggered_id == ids.ROI_CLEAR_SAVED:
            return []
        if not current:
            raise PreventUpdate
        return add_saved(list(saved or []), current)

    @app.callback(
        Output(ids.ROI_COMPARE, "children"),
        Input(ids.ROI_SAVED, "data"),
        Input(ids.tab_key("roi"), "data"),
        State(ids.UPLIFT_KEY, "data"),
    )
    def show_comparison(saved, key, test_key):
        if not saved:
            return tab.comparison_placeholder(MAX_SAVED)
        reports, problems = saved_reports(common.load_results(settings, key), saved,
                                          lambda: uplift.load_test(settings, test_key, key))
        frame = comparison_frame(reports) if reports else None
        return tab.comparison(frame, [r.scenario.to_query() for r in reports], problems, MAX_SAVED)

    @app.callback(
        output={"file": Output(ids.ROI_DOWNLOAD, "data"), "error": Output(ids.ROI_EXPORT_ERROR, "children")},
        inputs={"clicks": (Input(ids.ROI_EXPORT, "n_clicks"), Input(ids.ROI_EXPORT_TARGETS, "n_clicks")),
                "saved": State(ids.ROI_SAVED, "data"), "current": State(ids.ROI_CURRENT, "data"),
                "key": State(ids.RESULTS_KEY, "data"), "test_key": State(ids.UPLIFT_KEY, "data"),
                "control_pct": State(ids.ROI_CONTROL_SHARE, "value"), "seed": State(ids.ROI_CONTROL_SEED, "value")},
        prevent_initial_call=True,
    )
    def download(clicks, saved, current, key, test_key, control_pct, seed):
        try:
            return {"file": export(common.load_results(settings, key), ctx.triggered_id, saved, current,
                                   lambda: uplift.load_test(settings, test_key, key), control_pct, seed),
                    "error": None}
        except DataError as error:
            return {"file": no_update, "error": common.error_alert(error, title="This list cannot be exported")}
