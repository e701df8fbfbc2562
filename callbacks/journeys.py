"""Journeys callbacks: the journey history for the chosen settings, the Sankey, matrix and headlines between
two snapshots, and the customers of a flow with their export.

The history at each setting is the pipeline layer's (:mod:`analytics.journeys.stored`); this module only
validates what the person typed and draws.
"""

from __future__ import annotations

import re
from functools import lru_cache

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from analytics import journeys as J
from analytics.journeys import stored
from analytics.errors import DataError
from analytics.export import to_safe_csv
from callbacks import common
from components import formatting as fmt
from components import ids, journeys_tab
from components.figures import journeys as figures
from components.theme import empty_figure
from settings import Settings

# Columns of the customer table joined to a flow's customers: where they stand now (at the as-of date).
NOW_COLUMNS = ("clv", "churn_probability")
CROWDED_COLUMNS = 6  # a Sankey with more snapshot columns is drawn taller, with smaller labels
_SANKEY_TITLES = {
    "customers": None,
    "from": "Revenue at stake: each flow's net revenue in the period ending at its first snapshot",
    "to": "Revenue since: each flow's net revenue between its two snapshots",
}


# ------------------------------------------------------------------------------------------- the history


@lru_cache(maxsize=8)
def _history(settings: Settings, key: str, period: str, inactive_days: int) -> pd.DataFrame:
    return stored.history_for(common.results_cache(settings), common.load_results(settings, key), period,
                              inactive_days)


def history_for(settings: Settings, key: str | None, period: str, inactive: object) -> pd.DataFrame:
    """The history the tab shows (:func:`analytics.journeys.stored.history_for`), memoised in the process so
    the tab's callbacks do not unpickle it again."""
    if not key:
        raise dash.exceptions.PreventUpdate
    return _history(settings, key, period, inactive_window(inactive))


def inactive_window(value: object) -> int:
    """The inactivity window the user typed, as whole days (1 to 3650); a DataError says what is wrong."""
    try:
        days = float(value)
    except (TypeError, ValueError):
        days = float("nan")
    if not (1 <= days <= journeys_tab.MAX_INACTIVE_DAYS and days.is_integer()):
        given = "an empty box" if value in (None, "") else repr(value)
        raise DataError(f"the inactivity window must be a whole number of days from 1 to "
                        f"{journeys_tab.MAX_INACTIVE_DAYS:,}; got {given}")
    return int(days)


# ---------------------------------------------------------------------------------- what the tab shows


def snapshot_choices(history: pd.DataFrame, current_from: str | None, current_to: str | None
                     ) -> tuple[list[dict], str, str]:
    """Snapshot options (labels, time order) and the pair to show: the current one while both labels exist
    and are in order, else the last two snapshots."""
    labels = J.snapshots(history)["label"].tolist()
    options = [{"label": label, "value": label} for label in labels]
    if current_from in labels and current_to in labels:
        if labels.index(current_from) < labels.index(current_to):
            return options, current_from, current_to
    return options, labels[max(len(labels) - 2, 0)], labels[-1]


def status_text(history: pd.DataFrame, period: str, inactive_days: int) -> str:
    table = J.snapshots(history)
    return (f"{len(table)} {J.PERIODS[period]}ly snapshots, {table['label'].iloc[0]} to "
            f"{table['label'].iloc[-1]}; {fmt.count(table['customers'].iloc[-1])} customers. "
            f"Inactive: no purchase for over {inactive_days:,} days.")


def journey_outputs(history: pd.DataFrame, from_label: str, to_label: str, *, chain: bool, weight: str,
                    inactive_days: int) -> dict:
    """Sankey, transition heatmap and headline list (by output name) between two snapshots (the Sankey across every
    snapshot when ``chain``); ``weight`` is "customers", "from" (revenue at stake) or "to" (revenue since)."""
    revenue = "from" if weight == "customers" else weight
    flows = J.chain(history, revenue=revenue) if chain else J.transitions(history, from_label, to_label,
                                                                          revenue=revenue)
    columns = flows["from_label"].nunique() + 1
    crowded = columns > CROWDED_COLUMNS
    sankey = figures.sankey_figure(flows, weight="customers" if weight == "customers" else "revenue",
                                   title=_SANKEY_TITLES[weight], height=760 if crowded else 560)
    if crowded:  # a long chain: smaller labels so neighbouring columns do not write over each other
        sankey.update_traces(textfont_size=9)
    matrix = figures.transition_heatmap(J.transition_matrix(history, from_label, to_label),
                                        from_label=from_label, to_label=to_label)
    sentences = J.headlines(history, from_label, to_label, inactive_days=inactive_days)
    return {"sankey": sankey, "matrix": matrix, "headlines": journeys_tab.headlines_list(sentences)}


def flow_table(history: pd.DataFrame, customers: pd.DataFrame, from_label: str, to_label: str,
               source: str | None, target: str | None) -> pd.DataFrame:
    """The customers of a flow (:func:`analytics.journeys.flow_customers`) with their CLV and churn
    probability at the as-of date when the results hold them."""
    flow = J.flow_customers(history, from_label, to_label, source, target)
    now = [c for c in NOW_COLUMNS if c in customers.columns]
    return flow.join(customers[now]) if now else flow


def flow_summary(n: int, from_label: str, to_label: str, source: str | None, target: str | None) -> str:
    text = (f"{fmt.count(n)} customers: {source or 'any state'} in {from_label} → {target or 'any state'} "
            f"in {to_label}")
    if n > journeys_tab.MAX_FLOW_ROWS:
        text += (f" (the {journeys_tab.MAX_FLOW_ROWS} with the most revenue at stake shown; "
                 "the export holds all)")
    return text


def grid_records(table: pd.DataFrame) -> list[dict]:
    """Rows for the AG Grid: the grid's columns only, missing values as None (JSON has no <NA>)."""
    flat = table.reset_index()
    columns = [c for c, _, _ in journeys_tab.FLOW_COLUMNS if c in flat.columns]
    flat = flat[columns].astype(object)
    return flat.where(flat.notna(), None).to_dict("records")


def flow_from_click(click: dict | None, figure: dict | None) -> dict | None:
    """The flow behind a click on the Sankey: {"from", "to", "source", "target"} (labels and states).

    Dash drops array fields from Sankey click points, so a link's customdata ([from_label, to_label, source,
    target, customers, revenue]) is read from the figure by the clicked link's number. A click on a box lists
    its customers: everyone leaving it for the next column (the last column: everyone arriving in it).
    """
    points = (click or {}).get("points") or []
    data = (figure or {}).get("data") or []
    if not points or not data or data[0].get("type") != "sankey":
        return None
    point, trace = points[0], data[0]
    number = point.get("pointNumber")
    links = trace.get("link", {}).get("customdata") or []
    if not isinstance(number, int):
        return None
    if "group" not in point:  # a link: nodes carry a "group" flag, links do not
        if number >= len(links):
            return None
        from_label, to_label, source, target = links[number][:4]
        return {"from": from_label, "to": to_label, "source": source, "target": target}
    node = trace.get("node", {})
    labels, node_data = node.get("label") or [], node.get("customdata") or []
    if number >= len(labels) or number >= len(node_data):
        return None
    state, column = labels[number], node_data[number][0]
    columns = list(dict.fromkeys([row[0] for row in links] + [row[1] for row in links]))
    if column not in columns or len(columns) < 2:
        return None
    i = columns.index(column)
    if i < len(columns) - 1:
        return {"from": column, "to": columns[i + 1], "source": state, "target": None}
    return {"from": columns[i - 1], "to": column, "source": None, "target": state}


def export_filename(from_label: str, to_label: str, source: str | None, target: str | None) -> str:
    """A file name that says which flow it holds, e.g. journey_Champions_1998-Q1_to_At_Risk_1998-Q2.csv."""
    parts = [source or "any", from_label, "to", target or "any", to_label]
    return "journey_" + "_".join(re.sub(r"[^A-Za-z0-9-]+", "-", p).strip("-") for p in parts) + ".csv"


# --------------------------------------------------------------------------------------------- register


def snapshot_controls(settings: Settings, key: str | None, period: str, inactive: object,
                      current: tuple[str | None, str | None]) -> dict:
    """Snapshot and state options, the pair to show and the status line; or why there is no history."""
    try:
        history = history_for(settings, key, period, inactive)
    except DataError as error:
        return {"from_options": [], "from": None, "to_options": [], "to": None, "source_options": [],
                "target_options": [], "status": common.error_alert(error, "Journeys cannot be computed")}
    options, a, b = snapshot_choices(history, *current)
    states = [{"label": s, "value": s} for s in history["state"].cat.categories]
    return {"from_options": options, "from": a, "to_options": options, "to": b, "source_options": states,
            "target_options": states, "status": status_text(history, period, inactive_window(inactive))}


def journey_view(settings: Settings, key: str | None, period: str, inactive: object, from_label: str | None,
                 to_label: str | None, chain: bool, weight: str) -> dict:
    """:func:`journey_outputs` for the tab's settings, or blank figures and what is wrong with them."""
    try:
        history = history_for(settings, key, period, inactive)
        if not from_label or not to_label:
            raise dash.exceptions.PreventUpdate
        return journey_outputs(history, from_label, to_label, chain=chain, weight=weight,
                               inactive_days=inactive_window(inactive))
    except DataError as error:
        blank = empty_figure("Nothing to draw for these settings")
        return {"sankey": blank, "matrix": blank, "headlines": common.error_alert(error, "Cannot compare these snapshots")}


def flow_view(settings: Settings, key: str | None, period: str, inactive: object, from_label: str | None,
              to_label: str | None, source: str | None, target: str | None) -> dict:
    """The chosen flow's customers (count, grid rows, export enabled), a prompt to pick one, or the error."""
    try:
        history = history_for(settings, key, period, inactive)
        if not from_label or not to_label:
            raise dash.exceptions.PreventUpdate
        if not source and not target:
            prompt = "Pick a flow: click one in the Sankey, or choose a from-state and/or a to-state."
            return {"count": html.Span(prompt, className="small-muted fw-normal"), "rows": [], "no_export": True}
        table = flow_table(history, common.load_results(settings, key).customers, from_label, to_label, source,
                           target)
    except DataError as error:
        return {"count": common.error_alert(error, "Cannot list this flow"), "rows": [], "no_export": True}
    return {"count": flow_summary(len(table), from_label, to_label, source, target),
            "rows": grid_records(table.head(journeys_tab.MAX_FLOW_ROWS)), "no_export": table.empty}


def flow_export(settings: Settings, key: str | None, period: str, inactive: object, from_label: str | None,
                to_label: str | None, source: str | None, target: str | None) -> dict:
    """The CSV download of the chosen flow's customers (all of them, not only the grid's)."""
    if not from_label or not to_label:
        raise dash.exceptions.PreventUpdate
    try:
        history = history_for(settings, key, period, inactive)
        table = flow_table(history, common.load_results(settings, key).customers, from_label, to_label, source,
                           target)
    except DataError:
        raise dash.exceptions.PreventUpdate from None  # the flow panel already says why
    return dcc.send_string(to_safe_csv(table), export_filename(from_label, to_label, source, target))


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]
    tab_settings = {"key": Input(ids.tab_key("journeys"), "data"), "period": Input(ids.JOURNEYS_PERIOD, "value"),
                    "inactive": Input(ids.JOURNEYS_INACTIVE, "value")}
    pair = {"from_label": Input(ids.JOURNEYS_FROM, "value"), "to_label": Input(ids.JOURNEYS_TO, "value")}
    flow = {"source": Input(ids.JOURNEYS_FLOW_SOURCE, "value"), "target": Input(ids.JOURNEYS_FLOW_TARGET, "value")}

    @app.callback(
        output={"from_options": Output(ids.JOURNEYS_FROM, "options"), "from": Output(ids.JOURNEYS_FROM, "value"),
                "to_options": Output(ids.JOURNEYS_TO, "options"), "to": Output(ids.JOURNEYS_TO, "value"),
                "source_options": Output(ids.JOURNEYS_FLOW_SOURCE, "options"),
                "target_options": Output(ids.JOURNEYS_FLOW_TARGET, "options"),
                "status": Output(ids.JOURNEYS_STATUS, "children")},
        inputs={**tab_settings, "current": (State(ids.JOURNEYS_FROM, "value"), State(ids.JOURNEYS_TO, "value"))},
    )
    def choose_snapshots(key, period, inactive, current):
        return snapshot_controls(settings, key, period, inactive, current)

    @app.callback(
        output={"from": Output(ids.JOURNEYS_FROM, "value", allow_duplicate=True),
                "to": Output(ids.JOURNEYS_TO, "value", allow_duplicate=True),
                "source": Output(ids.JOURNEYS_FLOW_SOURCE, "value"), "target": Output(ids.JOURNEYS_FLOW_TARGET, "value")},
        inputs={"click": Input(ids.JOURNEYS_SANKEY, "clickData"), "figure": State(ids.JOURNEYS_SANKEY, "figure")},
        prevent_initial_call=True,
    )
    def pick_flow(click, figure):
        picked = flow_from_click(click, figure)
        if picked is None:
            raise dash.exceptions.PreventUpdate
        return picked

    @app.callback(
        output={"sankey": Output(ids.JOURNEYS_SANKEY, "figure"), "matrix": Output(ids.JOURNEYS_MATRIX, "figure"),
                "headlines": Output(ids.JOURNEYS_HEADLINES, "children")},
        inputs={**tab_settings, **pair, "chain": Input(ids.JOURNEYS_CHAIN, "value"),
                "weight": Input(ids.JOURNEYS_WEIGHT, "value")},
    )
    def show_journeys(key, period, inactive, from_label, to_label, chain, weight):
        return journey_view(settings, key, period, inactive, from_label, to_label, bool(chain), weight)

    @app.callback(
        output={"count": Output(ids.JOURNEYS_FLOW_COUNT, "children"), "rows": Output(ids.JOURNEYS_FLOW_GRID, "rowData"),
                "no_export": Output(ids.JOURNEYS_EXPORT, "disabled")},
        inputs={**tab_settings, **pair, **flow},
    )
    def show_flow(key, period, inactive, from_label, to_label, source, target):
        return flow_view(settings, key, period, inactive, from_label, to_label, source, target)

    @app.callback(
        Output(ids.JOURNEYS_DOWNLOAD, "data"),
        inputs={"clicks": Input(ids.JOURNEYS_EXPORT, "n_clicks"), "key": State(ids.RESULTS_KEY, "data"),
                **{name: State(control.component_id, control.component_property)
                   for name, control in {**tab_settings, **pair, **flow}.items() if name != "key"}},
        prevent_initial_call=True,
    )
    def export_flow(clicks, key, period, inactive, from_label, to_label, source, target):
        if not clicks:
            raise dash.exceptions.PreventUpdate
        return flow_export(settings, key, period, inactive, from_label, to_label, source, target)
