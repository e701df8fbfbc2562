"""ROI simulator: campaign levers on the left, the answer (net profit, ROI, break-even, P(profit)) on the right,
then the profit curve, the bridge, the tornado, the simulated distribution and the saved-scenario table.

Layout builders only; the numbers come from ``analytics.roi`` through callbacks.roi.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from analytics import methodology
from analytics.roi import Scenario
from components import formatting as fmt
from components import ids, uplift_panel
from components.figures.roi import money

DEFAULTS = Scenario()
DEFAULT_TOP_N = 500
SIZE_MODES = [
    {"label": "Everyone selected", "value": "all"},
    {"label": "Top N", "value": "top"},
    {"label": "Best size", "value": "optimal"},
]
UPLIFT_SOURCES = [
    {"label": "I know the uplift", "value": "given"},
    {"label": "From a past test", "value": "test"},
    {"label": "Learned from a campaign test", "value": "learned"},
]
NEEDS_MODEL = (
    "The ROI simulator needs the CLV model: each customer's probability of buying (p_no_purchase) and "
    "expected order value (expected_spend), which these results do not hold. Run the analysis with the CLV "
    "model (Data tab, Run analysis); if it cannot be fitted on these data, the Methodology tab says why."
)
_LOADING = dict(type="dot", color="#0f766e", delay_show=300)
CHART_HEIGHT = 360
# finance reads and downloads these charts; the analyst's zoom and selection tools only get in the way
_GRAPH_CONFIG = {"displaylogo": False, "displayModeBar": "hover",
                 "modeBarButtonsToRemove": ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d",
                                            "autoScale2d"]}
TORNADO_HEIGHT = 420


def graph(graph_id: str, height: int = CHART_HEIGHT) -> dcc.Graph:
    """A chart of fixed height (the figures set the same), so the page does not jump or grow."""
    return dcc.Graph(id=graph_id, config=_GRAPH_CONFIG, style={"height": f"{height}px"})


def _lever(label: str, control, help_text: str | None = None, control_id: str | None = None) -> html.Div:
    parts = [dbc.Label(label, html_for=control_id, className="small fw-semibold mb-1"), control]
    if help_text:
        parts.append(html.Div(help_text, className="small-muted"))
    return html.Div(parts, className="mb-3")


def _number(control_id: str, value: Any, *, step: float, minimum: float | None = 0, maximum: float | None = None,
            unit: str | None = None, placeholder: str | None = None) -> dbc.InputGroup:
    field = dbc.Input(id=control_id, type="number", value=value, step=step, min=minimum, max=maximum,
                      debounce=True, placeholder=placeholder, size="sm")
    return dbc.InputGroup([field, dbc.InputGroupText(unit)] if unit else [field], size="sm")


def audience_panel() -> html.Div:
    return html.Div(
        [
            html.H5([html.I(className="bi bi-people me-2"), "Audience"]),
            _lever("Segments", dcc.Dropdown(id=ids.ROI_SEGMENTS, multi=True, placeholder="All segments")),
            _lever("Clusters", dcc.Dropdown(id=ids.ROI_CLUSTERS, multi=True, placeholder="All clusters")),
            _lever("Countries", dcc.Dropdown(id=ids.ROI_COUNTRIES, multi=True, placeholder="All countries")),
            _lever("Churn probability", dcc.RangeSlider(id=ids.ROI_CHURN, min=0, max=1, step=0.05, value=[0, 1],
                                                        marks=fmt.CHURN_MARKS,
                                                        tooltip={"placement": "bottom"})),
            _lever("CLV at least", _number(ids.ROI_CLV_MIN, None, step=1, placeholder="no floor"),
                   control_id=ids.ROI_CLV_MIN),
            html.Div(id=ids.ROI_FILTER_NOTE, className="small-muted mb-2"),
            dcc.Upload(
                id=ids.ROI_UPLOAD,
                children=html.Div([html.I(className="bi bi-card-list me-2"), "Or drop a list of customer IDs ",
                                   html.A("(choose file)")]),
                max_size=20 * 1024 * 1024,
                className="border border-2 rounded p-2 text-center bg-light small",
                style={"borderStyle": "dashed"},
            ),
            html.Div(id=ids.ROI_IDS_STATUS, className="small mt-1"),
            dbc.Button("Remove the list", id=ids.ROI_IDS_CLEAR, color="link", size="sm", className="p-0"),
            html.Div(id=ids.ROI_AUDIENCE, className="small mt-2"),
        ],
        className="panel",
    )


def offer_panel() -> html.Div:
    return html.Div(
        [
            html.H5([html.I(className="bi bi-tag me-2"), "Offer"]),
            _lever("Discount (% of the order)",
                   dcc.Slider(id=ids.ROI_DISCOUNT, min=0, max=60, step=1, value=DEFAULTS.discount_pct,
                              marks={v: f"{v}%" for v in range(0, 61, 15)}, tooltip={"placement": "bottom"})),
            _lever("Redemption (% of buyers who use it)",
                   dcc.Slider(id=ids.ROI_REDEMPTION, min=0, max=100, step=1, value=DEFAULTS.redemption_pct,
                              marks={v: f"{v}%" for v in range(0, 101, 25)}, tooltip={"placement": "bottom"})),
            _lever("Redemption uncertainty (±1 sd)",
                   _number(ids.ROI_REDEMPTION_SD, DEFAULTS.redemption_sd_pp, step=1, maximum=50, unit="pp"),
                   control_id=ids.ROI_REDEMPTION_SD),
            _lever("Uplift", dbc.RadioItems(id=ids.ROI_UPLIFT_SOURCE, options=UPLIFT_SOURCES,
                                            value=DEFAULTS.uplift_source, inline=True, className="small")),
            html.Div(
                [
                    dbc.Row([
                        dbc.Col(_lever("Uplift", _number(ids.ROI_UPLIFT, DEFAULTS.uplift_pp, step=0.1, minimum=-100,
                                                         maximum=100, unit="pp"), control_id=ids.ROI_UPLIFT), width=6),
                        dbc.Col(_lever("± 1 sd", _number(ids.ROI_UPLIFT_SD, DEFAULTS.uplift_sd_pp, step=0.1,
                                                         maximum=100, unit="pp"), control_id=ids.ROI_UPLIFT_SD),
                                width=6),
                    ], className="g-2"),
                    html.Div("Percentage points added to each customer's probability of buying in the horizon.",
                             className="small-muted mb-2"),
                ],
                id=ids.ROI_UPLIFT_GIVEN,
            ),
            html.Div(
                [
                    dbc.Row([
                        dbc.Col(_lever("Treated bought", _number(ids.ROI_TEST_TREATED, None, step=0.1, maximum=100,
                                                                  unit="%"), control_id=ids.ROI_TEST_TREATED), width=6),
                        dbc.Col(_lever("Treated group", _number(ids.ROI_TEST_TREATED_N, None, step=1, minimum=1,
                                                                       placeholder="customers"),
                                       control_id=ids.ROI_TEST_TREATED_N), width=6),
                        dbc.Col(_lever("Control bought", _number(ids.ROI_TEST_CONTROL, None, step=0.1, maximum=100,
                                                                  unit="%"), control_id=ids.ROI_TEST_CONTROL), width=6),
                        dbc.Col(_lever("Control group", _number(ids.ROI_TEST_CONTROL_N, None, step=1, minimum=1,
                                                                       placeholder="customers"),
                                       control_id=ids.ROI_TEST_CONTROL_N), width=6),
                    ], className="g-2"),
                    html.Div("Uplift = treated rate − control rate, with its standard error from the group sizes.",
                             className="small-muted mb-2"),
                ],
                id=ids.ROI_UPLIFT_TEST,
                style={"display": "none"},
            ),
        ],
        className="panel",
    )


def costs_panel() -> html.Div:
    return html.Div(
        [
            html.H5([html.I(className="bi bi-calculator me-2"), "Costs, margin, horizon"]),
            dbc.Row([
                dbc.Col(_lever("Contact cost", _number(ids.ROI_CONTACT_COST, DEFAULTS.contact_cost, step=0.01,
                                                       unit="per customer"), control_id=ids.ROI_CONTACT_COST),
                        width=12),
                dbc.Col(_lever("Fixed cost", _number(ids.ROI_FIXED_COST, DEFAULTS.fixed_cost, step=1,
                                                     unit="per campaign"), control_id=ids.ROI_FIXED_COST), width=12),
                dbc.Col(_lever("Gross margin", _number(ids.ROI_MARGIN, DEFAULTS.gross_margin_pct, step=1, maximum=100,
                                                       unit="%"), control_id=ids.ROI_MARGIN), width=6),
                dbc.Col(_lever("Horizon", _number(ids.ROI_HORIZON, DEFAULTS.horizon_months, step=1, minimum=0.25,
                                                  maximum=36, unit="months"), control_id=ids.ROI_HORIZON), width=6),
            ], className="g-2"),
            _lever("Who to target", dbc.RadioItems(id=ids.ROI_SIZE_MODE, options=SIZE_MODES, value="all",
                                                   className="small")),
            _lever("N (for Top N)", _number(ids.ROI_TOP_N, DEFAULT_TOP_N, step=1, unit="customers"),
                   "Customers are ranked by expected incremental value; the best size maximises net profit.",
                   control_id=ids.ROI_TOP_N),
        ],
        className="panel",
    )


def scenarios_panel() -> html.Div:
    return html.Div(
        [
            html.H5([html.I(className="bi bi-layout-three-columns me-2"), "Scenarios"]),
            dbc.Row(
                [
                    dbc.Col(dbc.InputGroup([
                        dbc.InputGroupText("Name"),
                        dbc.Input(id=ids.ROI_NAME, value=DEFAULTS.name, debounce=True, maxLength=60),
                        dbc.Button([html.I(className="bi bi-bookmark-plus me-1"), "Save scenario"], id=ids.ROI_SAVE,
                                   color="primary"),
                    ], size="sm"), lg=6, className="mb-2"),
                    dbc.Col(dbc.InputGroup([
                        dbc.InputGroupText("Link"),
                        dbc.Input(id=ids.ROI_SHARE_LINK, readonly=True, value=""),
                        dbc.InputGroupText(dcc.Clipboard(target_id=ids.ROI_SHARE_LINK, title="Copy the link",
                                                         id=ids.ROI_COPY)),
                    ], size="sm"), lg=6, className="mb-2"),
                ],
                className="g-2",
            ),
            html.Div("The link opens the app on this scenario (levers and audience); send it to a colleague.",
                     className="small-muted mb-2"),
            dcc.Loading(html.Div(id=ids.ROI_COMPARE), **_LOADING),
            html.Div(
                [
                    uplift_panel.control_group_controls(ids.ROI_CONTROL_SHARE, ids.ROI_CONTROL_SEED),
                    dbc.Button([html.I(className="bi bi-download me-1"), "Export comparison (CSV)"], id=ids.ROI_EXPORT,
                               color="primary", outline=True, size="sm", className="me-2"),
                    dbc.Button([html.I(className="bi bi-download me-1"), "Targeted customers (CSV)"],
                               id=ids.ROI_EXPORT_TARGETS, color="primary", outline=True, size="sm", className="me-2"),
                    dbc.Button("Clear saved scenarios", id=ids.ROI_CLEAR_SAVED, color="link", size="sm"),
                    html.Div(id=ids.ROI_EXPORT_ERROR, className="mt-2"),
                    dcc.Download(id=ids.ROI_DOWNLOAD),
                ],
                className="mt-2",
            ),
        ],
        className="panel",
    )


def layout() -> html.Div:
    """Static skeleton; callbacks.roi fills it from the current results and the levers."""
    return html.Div(
        [
            dcc.Store(id=ids.ROI_IDS, storage_type="memory"),
            dcc.Store(id=ids.ROI_RESTORED, storage_type="memory"),
            dcc.Store(id=ids.ROI_CURRENT, storage_type="memory"),
            dcc.Store(id=ids.ROI_SAVED, storage_type="session", data=[]),
            dbc.Row(
                [
                    dbc.Col([audience_panel(), offer_panel(), costs_panel()], lg=4, xl=3),
                    dbc.Col(
                        [
                            html.Div(id=ids.ROI_LINK_ERROR),
                            html.Div(id=ids.ROI_NOTE),
                            html.Div(id=ids.ROI_KPIS, className="mb-1"),
                            html.Div(id=ids.ROI_WARNINGS),
                            dbc.Row([
                                dbc.Col(html.Div(graph(ids.ROI_CURVE), className="panel h-100 mb-0"), xl=7),
                                dbc.Col(html.Div(graph(ids.ROI_BRIDGE), className="panel h-100 mb-0"), xl=5),
                            ], className="g-3 mb-3"),
                            dbc.Row([
                                dbc.Col(html.Div(graph(ids.ROI_TORNADO, TORNADO_HEIGHT), className="panel h-100 mb-0"),
                                        xl=6),
                                dbc.Col(html.Div([graph(ids.ROI_DISTRIBUTION), html.Div(id=ids.ROI_RANGE)],
                                                 className="panel h-100 mb-0"), xl=6),
                            ], className="g-3 mb-3"),
                            scenarios_panel(),
                            html.Div(dbc.Accordion(dbc.AccordionItem(dcc.Markdown(methodology.ROI, className="small"),
                                                                     title="How these numbers are computed"),
                                                   start_collapsed=True), className="panel"),
                        ],
                        lg=8, xl=9,
                    ),
                ]
            ),
        ],
        className="pt-1",
    )


# ---- pieces the callbacks fill in -------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _card(key: str, label: str, value: str, caption: str, definition: str, *, risk: bool = False,
          large: bool = False) -> dbc.Col:
    card = dbc.Card(
        dbc.CardBody([
            html.Div([label, html.I(className="bi bi-info-circle ms-1")], className="kpi-label"),
            html.Div(value, className="kpi-value", style={"fontSize": "2.1rem"} if large else None),
            html.Div(caption, className="kpi-note"),
        ], className="py-2 px-3"),
        className="kpi-card" + (" kpi-risk" if risk else ""),
    )
    wrapper = html.Div(card, id=f"{ids.ROI_KPI}-{key}", className="h-100", tabIndex="0",
                       **{"aria-label": f"{label}: {definition}"})
    tooltip = dbc.Tooltip(definition, target=f"{ids.ROI_KPI}-{key}", placement="bottom")
    return dbc.Col([wrapper, tooltip], xs=6, md=4, className="mb-3")


def answer_cards(totals: Mapping[str, Any], monte_carlo: Mapping[str, Any], *, uplift_pp: float,
                 versus_break_even: str, targeted: int, selected: int, learned: bool = False) -> html.Div:
    """The answer: net profit, ROI, break-even uplift, P(profit > 0), incremental customers, cost per one.

    totals: ``Totals.to_dict()``; monte_carlo: ``MonteCarloResult.to_dict()``; uplift_pp: the assumed uplift;
    versus_break_even: ``RoiReport.uplift_vs_break_even`` (the comparison is made in analytics);
    learned: each customer has their own uplift, and break-even is a shift added to all of them.
    """
    net, roi, break_even = totals["net_profit"], totals["roi"], totals["break_even_uplift"]
    incremental, per_customer = totals["incremental_customers"], totals["cost_per_incremental_customer"]
    prob = monte_carlo.get("prob_profit") if targeted else None  # no campaign: nothing uncertain
    break_even_text = "none" if _missing(break_even) else f"{break_even * 100:.1f} pp"
    break_even_note = {"nobody targeted": "nobody is targeted", "never": "no uplift pays for this offer"}.get(
        versus_break_even, f"you assume {uplift_pp:.1f} pp: {versus_break_even} break-even")
    if learned and versus_break_even in ("above", "below"):
        break_even_note = f"added to every learned uplift; the learned uplifts are {versus_break_even} break-even"
    if not targeted:
        break_even_text = "–"
    cards = [
        _card("net_profit", "Net profit", money(net), f"targeting {fmt.count(targeted)} of {fmt.count(selected)} "
              "customers", "Incremental margin minus the discount given (also to customers who would have bought "
              "anyway), contact and fixed costs.", risk=net < 0, large=True),
        _card("roi", "ROI", "–" if _missing(roi) else fmt.percent(roi, 0), "net profit ÷ total cost",
              "Net profit divided by the total cost of the campaign (discount + contact + fixed).",
              risk=not _missing(roi) and roi < 0, large=True),
        _card("prob_profit", "P(profit > 0)", "–" if _missing(prob) else fmt.percent(prob, 0),
              f"90 % interval {money(monte_carlo.get('p5'))} to {money(monte_carlo.get('p95'))}" if targeted
              else "no campaign, nothing at risk",
              "Share of Monte Carlo draws of uplift and redemption in which the campaign makes money.",
              risk=not _missing(prob) and prob < 0.5, large=True),
        _card("break_even", "Break-even uplift", break_even_text, break_even_note,
              "The uplift (percentage points of purchase probability) at which net profit is exactly zero.",
              risk=versus_break_even in ("never", "below")),
        _card("incremental", "Incremental customers", f"{incremental:,.1f}" if abs(incremental) < 100
              else fmt.count(incremental), f"buying because of the offer (of {totals['expected_buyers']:,.0f})",
              "Expected number of purchasers who buy only because of the offer: sum of (p1 − p0)."),
        _card("cost_per", "Cost per incremental customer", money(per_customer) if not _missing(per_customer)
              else "–", "total cost ÷ incremental customers",
              "Total campaign cost divided by the expected incremental customers."),
    ]
    return dbc.Row(cards, className="g-3")


def warning_alerts(warnings: Sequence[str]) -> list[dbc.Alert]:
    """Value-destruction and data remarks as warning alerts (nothing when all is well)."""
    return [dbc.Alert([html.I(className="bi bi-exclamation-triangle-fill me-2"), text], color="warning",
                      className="py-2 small mb-2") for text in warnings]


def model_note(text: str = NEEDS_MODEL) -> dbc.Alert:
    return dbc.Alert([html.I(className="bi bi-info-circle me-2"), text], color="info", className="small")


def audience_summary(steps: Sequence[Sequence[Any]], modelled: int, targeted: int,
                     notes: Sequence[str] = ()) -> html.Div:
    """The audience funnel: customers left after each filter, those with model inputs, those targeted."""
    items = [html.Li(f"{label}: {fmt.count(n)}") for label, n in steps]
    if modelled != steps[-1][1]:
        items.append(html.Li(f"with model inputs: {fmt.count(modelled)}"))
    items.append(html.Li(html.Strong(f"targeted: {fmt.count(targeted)}")))
    return html.Div([html.Ul(items, className="mb-1 ps-3"), *[html.Div(n, className="text-warning") for n in notes]])


RANGE_COLUMNS = (
    ("scenario", "Scenario", str.capitalize),
    ("uplift_pp", "Uplift", lambda v: f"{v:.1f} pp"),
    ("redemption_pct", "Redemption", lambda v: f"{v:.0f} %"),
    ("net_profit", "Net profit", money),
    ("roi", "ROI", lambda v: fmt.percent(v, 0)),
)


def range_table(scenarios: pd.DataFrame) -> dbc.Table:
    """Pessimistic / base / optimistic: uncertain levers at the ends of their 90 % ranges."""
    header = html.Thead(html.Tr([html.Th(label, className="" if key == "scenario" else "text-end")
                                 for key, label, _ in RANGE_COLUMNS]))
    rows = [html.Tr([html.Td("–" if _missing(row[key]) else f(row[key]),
                             className="" if key == "scenario" else "text-end") for key, _, f in RANGE_COLUMNS])
            for _, row in scenarios.iterrows()]
    return dbc.Table([header, html.Tbody(rows)], size="sm", className="small mb-0 mt-2")


def _pct(v: Any) -> str:
    return f"{v:g} %"


COMPARE_ROWS: tuple[tuple[str, str, Any], ...] = (
    ("discount_pct", "Discount", _pct),
    ("redemption_pct", "Redemption", _pct),
    ("uplift", "Uplift", None),  # built from the source columns
    ("gross_margin_pct", "Gross margin", _pct),
    ("contact_cost", "Contact cost per customer", money),
    ("fixed_cost", "Fixed cost", money),
    ("horizon_months", "Horizon (months)", lambda v: f"{v:g}"),
    ("targeted_customers", "Customers targeted", fmt.count),
    ("net_profit", "Net profit", money),
    ("roi", "ROI", lambda v: fmt.percent(v, 0)),
    ("break_even_uplift_pp", "Break-even uplift", lambda v: f"{v:.1f} pp"),
    ("prob_profit", "P(profit > 0)", lambda v: fmt.percent(v, 0)),
    ("net_profit_p5", "Net profit, 5th percentile", money),
    ("net_profit_p95", "Net profit, 95th percentile", money),
    ("incremental_customers", "Incremental customers", lambda v: f"{v:,.1f}"),
    ("cost_per_incremental_customer", "Cost per incremental customer", money),
    ("optimal_size", "Best audience size", fmt.count),
    ("optimal_net_profit", "Net profit at the best size", money),
)


def _uplift_text(row: Mapping[str, Any]) -> str:
    if row.get("uplift_source") == "learned":
        return "learned from a campaign test, per customer"
    if row.get("uplift_source") == "test":
        return (f"test: {row['test_treated_pct']:g} % of {row['test_treated_n']:,} vs "
                f"{row['test_control_pct']:g} % of {row['test_control_n']:,}")
    return f"{row['uplift_pp']:g} ± {row['uplift_sd_pp']:g} pp"


def audience_text(audience: Mapping[str, Any]) -> str:
    """One line describing an audience filter (``AudienceFilter.to_dict()``)."""
    parts = []
    for key, label in (("segments", "segments"), ("clusters", "clusters"), ("countries", "countries")):
        if audience.get(key):
            parts.append(f"{label} {', '.join(audience[key])}")
    low, high = audience.get("churn_min"), audience.get("churn_max")
    if low is not None or high is not None:
        parts.append(f"churn {0 if low is None else low:g}–{1 if high is None else high:g}")
    if audience.get("clv_min") is not None:
        parts.append(f"CLV ≥ {audience['clv_min']:g}")
    if audience.get("customer_ids"):
        parts.append(f"{len(audience['customer_ids']):,} listed IDs")
    return "; ".join(parts) or "everyone"


def comparison_table(frame: pd.DataFrame, links: Sequence[str] = (), audiences: Sequence[str] = ()) -> dbc.Table:
    """Saved scenarios side by side: one column per scenario (``analytics.roi.compare`` rows), one row per lever
    or result; ``links`` (query strings) add an "open" link under each name, ``audiences`` a first row."""
    names = [html.Th([html.Div(name), dcc.Link("open", href=f"?{links[i]}", className="small fw-normal")
                      if i < len(links) else None], className="text-end")
             for i, name in enumerate(frame["name"])]
    header = html.Thead(html.Tr([html.Th("")] + names))
    rows = []
    if len(audiences):
        rows.append(html.Tr([html.Th("Audience", className="fw-normal text-muted")]
                            + [html.Td(a, className="text-end") for a in audiences]))
    for key, label, formatter in COMPARE_ROWS:
        if key == "uplift":
            cells = [_uplift_text(row) for _, row in frame.iterrows()]
        else:
            cells = ["–" if _missing(v) else formatter(v) for v in frame[key]]
        emphasis = "fw-semibold" if key in ("net_profit", "roi", "prob_profit") else ""
        rows.append(html.Tr([html.Th(label, className="fw-normal text-muted")]
                            + [html.Td(c, className=f"text-end {emphasis}") for c in cells]))
    return dbc.Table([header, html.Tbody(rows)], size="sm", hover=True, responsive=True, className="small mb-0",
                     id=f"{ids.ROI_COMPARE}-table")


def comparison_placeholder(max_saved: int = 10) -> html.Div:
    return html.Div(f"Save scenarios (up to {max_saved}) to compare them here side by side.",
                    className="small-muted")


def comparison(frame: pd.DataFrame | None, links: Sequence[str], problems: Sequence[str], max_saved: int) -> html.Div:
    """The comparison table of the saved scenarios, and why any of them cannot be computed on these results."""
    parts: list = []
    if frame is not None:
        audiences = frame["audience"].tolist() if "audience" in frame else ()
        parts.append(comparison_table(frame, links, audiences))
    parts += [dbc.Alert(p, color="warning", className="small py-2 mt-2 mb-0") for p in problems]
    if frame is not None and len(frame) >= max_saved:
        parts.append(html.Div(f"{max_saved} scenarios saved, the most this table holds: clear them to save more.",
                              className="small-muted"))
    return html.Div(parts)
