"""ROI simulator callbacks: levers -> one evaluation -> every answer; saved scenarios, exports, shared links.

Recomputing is ``analytics.roi.evaluate`` on the cached customer table (no refit). The browser holds the
results key, the levers, and the saved scenarios as small dicts; never customer rows.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import dash
import pandas as pd
from dash import Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from analytics.audience import filter_options
from analytics.errors import DataError
from analytics.export import to_safe_csv
from analytics.results import Results
from analytics.roi import OPTIMAL, AudienceFilter, RoiReport, Scenario, compare, evaluate, read_id_list
from callbacks import common
from components import ids
from components import roi_tab as tab
from components.figures import roi as figures
from components.theme import empty_figure

MAX_SAVED = 10
MAX_LINK = 4000  # characters; gunicorn refuses request lines over 4094 by default

# (component id, what it holds) for every lever, in the order the callbacks receive them.
LEVERS: tuple[tuple[str, str], ...] = (
    (ids.ROI_NAME, "name"),
    (ids.ROI_SEGMENTS, "segments"),
    (ids.ROI_CLUSTERS, "clusters"),
    (ids.ROI_COUNTRIES, "countries"),
    (ids.ROI_CHURN, "churn"),
    (ids.ROI_CLV_MIN, "clv_min"),
    (ids.ROI_DISCOUNT, "discount_pct"),
    (ids.ROI_REDEMPTION, "redemption_pct"),
    (ids.ROI_REDEMPTION_SD, "redemption_sd_pct"),
    (ids.ROI_UPLIFT_SOURCE, "uplift_source"),
    (ids.ROI_UPLIFT, "uplift_pp"),
    (ids.ROI_UPLIFT_SD, "uplift_sd_pp"),
    (ids.ROI_TEST_TREATED, "test_treated_pct"),
    (ids.ROI_TEST_TREATED_N, "test_treated_n"),
    (ids.ROI_TEST_CONTROL, "test_control_pct"),
    (ids.ROI_TEST_CONTROL_N, "test_control_n"),
    (ids.ROI_MARGIN, "gross_margin_pct"),
    (ids.ROI_CONTACT_COST, "contact_cost"),
    (ids.ROI_FIXED_COST, "fixed_cost"),
    (ids.ROI_HORIZON, "horizon_months"),
    (ids.ROI_SIZE_MODE, "size_mode"),
    (ids.ROI_TOP_N, "top_n"),
)
LEVER_KEYS = tuple(key for _, key in LEVERS)
_PLAIN = ("name", "discount_pct", "redemption_pct", "redemption_sd_pct", "uplift_source", "uplift_pp",
          "uplift_sd_pp", "test_treated_pct", "test_treated_n", "test_control_pct", "test_control_n",
          "gross_margin_pct", "contact_cost", "fixed_cost", "horizon_months")
MODEL_COLUMNS = ("expected_spend", "p_no_purchase")
NOBODY = "Nobody is targeted: no campaign, nothing at risk"


def scenario_from_levers(values: Mapping[str, Any], id_list: Mapping[str, Any] | None = None) -> Scenario:
    """The Scenario the levers describe (values keyed as in LEVERS); DataError names a bad lever."""
    churn = values.get("churn") or [0, 1]
    mode = values.get("size_mode") or "all"
    if mode == "top" and values.get("top_n") in (None, ""):
        raise DataError("enter N, the number of customers to target, or choose another audience size")
    size = {"all": None, "optimal": OPTIMAL}.get(mode, values.get("top_n"))
    audience = {
        "segments": values.get("segments") or (),
        "clusters": values.get("clusters") or (),
        "countries": values.get("countries") or (),
        "churn_min": churn[0] if churn[0] > 0 else None,
        "churn_max": churn[1] if churn[1] < 1 else None,
        "clv_min": values.get("clv_min"),
        "customer_ids": (id_list or {}).get("ids") or (),
    }
    return Scenario(**{k: values.get(k) for k in _PLAIN}, audience_size=size, audience=audience)


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The value of each lever (keyed as in LEVERS) that shows ``scenario``; top_n is no_update unless set."""
    audience = scenario.audience
    size = scenario.audience_size
    values: dict[str, Any] = {k: getattr(scenario, k) for k in _PLAIN}
    values.update(
        segments=list(audience.segments),
        clusters=list(audience.clusters),
        countries=list(audience.countries),
        churn=[0 if audience.churn_min is None else audience.churn_min,
               1 if audience.churn_max is None else audience.churn_max],
        clv_min=audience.clv_min,
        size_mode="all" if size is None else "optimal" if size == OPTIMAL else "top",
        top_n=size if isinstance(size, int) else no_update,
    )
    return values


def _query_keys() -> frozenset[str]:
    """Every key a scenario link can hold: those of a scenario with every optional lever and filter set."""
    full = Scenario(test_treated_pct=1, test_control_pct=1, test_treated_n=1, test_control_n=1, audience_size=1,
                    audience=AudienceFilter(segments=("x",), clusters=("x",), countries=("x",), churn_min=0,
                                            churn_max=1, clv_min=0, customer_ids=("x",)))
    return frozenset(parse_qs(full.to_query()))


SCENARIO_KEYS = _query_keys()


def has_scenario(search: str | None) -> bool:
    """True when a URL query carries any scenario lever (other parts of the app may share the URL)."""
    return bool(search) and bool(SCENARIO_KEYS & set(parse_qs(search.lstrip("?"), keep_blank_values=True)))


def missing_model(customers: pd.DataFrame) -> list[str]:
    """Model columns the simulator needs that the customer table lacks."""
    return [c for c in MODEL_COLUMNS if c not in customers.columns]


def p0_horizon(results: Results) -> float:
    """Months the CLV model's P(no purchase) is for (its horizon), to rescale it to the campaign's."""
    clv = results.models.get("clv") or {}
    return float(clv.get("horizon_months") or results.meta.get("params", {}).get("clv_horizon_months", 12))


def run(results: Results, scenario: Scenario) -> RoiReport:
    """One evaluation of a scenario on the results' customers."""
    return evaluate(results.customers, scenario, p0_horizon_months=p0_horizon(results))


def results_margin(settings, key: str | None) -> float | None:
    """The analysis's gross margin in percent (the simulator's default), or None before there are results."""
    try:
        margin = common.load_results(settings, key).meta.get("params", {}).get("margin")
    except dash.exceptions.PreventUpdate:  # no results yet: a shared link must still open
        return None
    return None if margin is None else round(margin * 100, 4)


def share_link(href: str | None, scenario: Scenario) -> str:
    """Absolute link (when the page address is known) that opens the app on this scenario."""
    base = (href or "").split("#")[0].split("?")[0]
    return f"{base}?{scenario.to_query()}"


def _empty_outputs(note, message: str) -> tuple:
    blank = empty_figure(message)
    return note, None, None, blank, blank, blank, blank, None, None, "", None


def simulation_outputs(report: RoiReport, href: str | None) -> tuple:
    """Everything the answer area shows for one report, in the main callback's output order."""
    totals, mc = report.totals.to_dict(), report.monte_carlo.to_dict()
    curve = report.curve.thinned()
    link = share_link(href, report.scenario)
    notes = [] if len(link) <= MAX_LINK else [
        f"The share link holds the {len(report.scenario.audience.customer_ids):,} listed customer IDs and is "
        f"{len(link):,} characters long; servers refuse addresses much over {MAX_LINK:,}. Send the ID file with "
        "the link, or narrow the audience with filters instead."]
    targeted_row = report.curve.frame["net_profit"].iloc[report.targeted_size]
    selection = report.selection.to_dict()
    return (
        None,
        tab.answer_cards(totals, mc, uplift_pp=report.levers.uplift * 100, targeted=report.targeted_size,
                         selected=report.selected.n),
        tab.warning_alerts(report.warnings + notes),
        figures.profit_curve(curve, report.curve.optimal_size, targeted_size=report.targeted_size,
                             targeted_net_profit=float(targeted_row)),
        figures.profit_bridge(totals),
        figures.tornado(report.tornado) if report.targeted_size else empty_figure(NOBODY),
        figures.profit_distribution(report.monte_carlo.histogram(), mc) if report.targeted_size
        else empty_figure(NOBODY),
        tab.range_table(report.scenarios) if report.targeted_size else None,
        tab.audience_summary(selection["steps"], report.selected.n, report.targeted_size, selection["notes"]),
        link,
        report.scenario.to_dict(),
    )


def simulate(results: Results, values: Mapping[str, Any], id_list, href: str | None) -> tuple:
    """The main callback's outputs for these levers: the answer, or a note saying what is missing or wrong."""
    if missing_model(results.customers):
        return _empty_outputs(tab.model_note(), "Needs the CLV model")
    try:
        return simulation_outputs(run(results, scenario_from_levers(values, id_list)), href)
    except DataError as error:
        return _empty_outputs(common.error_alert(error, "This scenario cannot be computed"), "No result")


def saved_reports(results: Results, saved: Sequence[Mapping[str, Any]]) -> tuple[list[RoiReport], list[str]]:
    """Reports of the saved scenarios that can be computed on these results, and why the others cannot."""
    reports, problems = [], []
    for values in saved or ():
        try:
            reports.append(run(results, Scenario.from_dict(dict(values))))
        except DataError as error:
            problems.append(f"{values.get('name', 'Scenario')}: {error}")
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


def audience_options(customers: pd.DataFrame, chosen: Mapping[str, Sequence[str] | None]) -> dict[str, Any]:
    """Options for the segment, cluster and country filters (values chosen by a link kept), disabled flags for
    filters whose column these results lack, and a note naming them."""
    choices = filter_options(customers)
    return {
        "segments": common.options(choices.segments, chosen.get("segments")),
        "clusters": common.options(choices.clusters, chosen.get("clusters")),
        "countries": common.options(choices.countries, chosen.get("countries")),
        "no_clusters": not choices.has_clusters, "no_countries": not choices.has_countries,
        "no_churn": not choices.has_churn, "no_clv": not choices.has_clv,
        "note": choices.note(),
    }


def ids_from_upload(contents: str, filename: str | None) -> dict:
    """The customer IDs of an uploaded list (a dcc.Upload data URL); DataError when there are none."""
    payload = base64.b64decode(contents.split(",", 1)[1])
    found = read_id_list(payload)
    if not found:
        raise DataError(f"{filename or 'the file'} holds no customer IDs (one per line or comma-separated)")
    return {"ids": found, "source": filename or "uploaded file"}


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]
    lever_inputs = [Input(i, "value") for i, _ in LEVERS]

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

    @app.callback(Output(ids.TABS, "active_tab"), Input(ids.LOCATION, "search"))
    def open_linked_tab(search):
        """A shared scenario link opens on this tab (whose body, and levers, are then drawn)."""
        if not has_scenario(search):
            raise PreventUpdate
        return "roi"

    @app.callback(
        *[Output(i, "value") for i, _ in LEVERS],
        Output(ids.ROI_IDS, "data"),
        Output(ids.ROI_LINK_ERROR, "children"),
        Output(ids.ROI_RESTORED, "data"),
        Input(ids.LOCATION, "search"),
        Input(ids.tab_key("roi"), "data"),
        # the filters' options come from the results: a value set before its option exists is dropped
        Input(ids.ROI_SEGMENTS, "options"),
        State(ids.ROI_RESTORED, "data"),
    )
    def restore(search, key, segment_options, restored):
        """A shared link sets every lever once, when the tab is drawn and its filter options are known; the
        gross margin defaults to the analysis's."""
        linked = has_scenario(search)
        margin = results_margin(settings, key) if not linked or "gross_margin_pct" not in parse_qs(
            search.lstrip("?")) else None
        if not linked or search == restored or not segment_options:
            unchanged = [no_update] * (len(LEVERS) + 3)
            if margin is not None:
                unchanged[LEVER_KEYS.index("gross_margin_pct")] = margin
            return unchanged
        try:
            scenario = Scenario.from_query(search)
        except DataError as error:
            return [no_update] * (len(LEVERS) + 1) + [common.error_alert(error, "The link's scenario cannot be opened"),
                                                      search]
        values = lever_values(scenario) | ({"gross_margin_pct": margin} if margin is not None else {})
        id_list = {"ids": list(scenario.audience.customer_ids), "source": "the link"} \
            if scenario.audience.customer_ids else None
        return [*(values[k] for k in LEVER_KEYS), id_list, None, search]

    @app.callback(
        Output(ids.ROI_IDS, "data", allow_duplicate=True),
        Output(ids.ROI_LINK_ERROR, "children", allow_duplicate=True),
        Input(ids.ROI_UPLOAD, "contents"),
        Input(ids.ROI_IDS_CLEAR, "n_clicks"),
        State(ids.ROI_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def upload_ids(contents, _clear, filename):
        if ctx.triggered_id == ids.ROI_IDS_CLEAR or not contents:
            return None, None
        try:
            return ids_from_upload(contents, filename), None
        except DataError as error:
            return no_update, common.error_alert(error, "This ID list cannot be used")

    @app.callback(
        Output(ids.ROI_IDS_STATUS, "children"),
        Output(ids.ROI_IDS_CLEAR, "style"),
        Input(ids.ROI_IDS, "data"),
    )
    def show_id_list(id_list):
        if not id_list:
            return "", {"display": "none"}
        return f"Audience limited to {len(id_list['ids']):,} customer IDs from {id_list['source']}.", None

    @app.callback(
        Output(ids.ROI_UPLIFT_GIVEN, "style"),
        Output(ids.ROI_UPLIFT_TEST, "style"),
        Output(ids.ROI_TOP_N, "disabled"),
        Input(ids.ROI_UPLIFT_SOURCE, "value"),
        Input(ids.ROI_SIZE_MODE, "value"),
    )
    def show_lever_groups(source, size_mode):
        hidden = {"display": "none"}
        return (hidden, None, size_mode != "top") if source == "test" else (None, hidden, size_mode != "top")

    @app.callback(
        Output(ids.ROI_NOTE, "children"),
        Output(ids.ROI_KPIS, "children"),
        Output(ids.ROI_WARNINGS, "children"),
        Output(ids.ROI_CURVE, "figure"),
        Output(ids.ROI_BRIDGE, "figure"),
        Output(ids.ROI_TORNADO, "figure"),
        Output(ids.ROI_DISTRIBUTION, "figure"),
        Output(ids.ROI_RANGE, "children"),
        Output(ids.ROI_AUDIENCE, "children"),
        Output(ids.ROI_SHARE_LINK, "value"),
        Output(ids.ROI_CURRENT, "data"),
        Input(ids.tab_key("roi"), "data"),
        Input(ids.ROI_IDS, "data"),
        *lever_inputs,
        State(ids.LOCATION, "href"),
    )
    def update(key, id_list, *values_and_href):
        *values, href = values_and_href
        return simulate(common.load_results(settings, key), dict(zip(LEVER_KEYS, values)), id_list, href)

    @app.callback(
        Output(ids.ROI_SAVED, "data"),
        Input(ids.ROI_SAVE, "n_clicks"),
        Input(ids.ROI_CLEAR_SAVED, "n_clicks"),
        State(ids.ROI_CURRENT, "data"),
        State(ids.ROI_SAVED, "data"),
        prevent_initial_call=True,
    )
    def save(_save, _clear, current, saved):
        if ctx.triggered_id == ids.ROI_CLEAR_SAVED:
            return []
        if not current:
            raise dash.exceptions.PreventUpdate
        return add_saved(list(saved or []), current)

    @app.callback(
        Output(ids.ROI_COMPARE, "children"),
        Input(ids.ROI_SAVED, "data"),
        Input(ids.tab_key("roi"), "data"),
    )
    def show_comparison(saved, key):
        if not saved:
            return tab.comparison_placeholder(MAX_SAVED)
        reports, problems = saved_reports(common.load_results(settings, key), saved)
        frame = comparison_frame(reports) if reports else None
        return tab.comparison(frame, [r.scenario.to_query() for r in reports], problems, MAX_SAVED)

    @app.callback(
        Output(ids.ROI_DOWNLOAD, "data"),
        Input(ids.ROI_EXPORT, "n_clicks"),
        Input(ids.ROI_EXPORT_TARGETS, "n_clicks"),
        State(ids.ROI_SAVED, "data"),
        State(ids.ROI_CURRENT, "data"),
        State(ids.RESULTS_KEY, "data"),
        prevent_initial_call=True,
    )
    def export(_comparison, _targets, saved, current, key):
        results = common.load_results(settings, key)
        if ctx.triggered_id == ids.ROI_EXPORT_TARGETS:
            if not current:
                raise dash.exceptions.PreventUpdate
            customers = run(results, Scenario.from_dict(current)).customers
            return dcc.send_string(to_safe_csv(customers[customers["targeted"]]), "roi_targeted_customers.csv")
        reports, _ = saved_reports(results, saved or ([current] if current else []))
        if not reports:
            raise dash.exceptions.PreventUpdate
        return dcc.send_string(to_safe_csv(comparison_frame(reports)), "roi_scenarios.csv")
