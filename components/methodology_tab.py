"""Methodology & evidence: how every number is made, and the evidence for trusting the models.

The evidence panels (figures and tables) are filled by callbacks.methodology from the results' model records; the
text is static except the KPI definitions (analytics.insights, written for the current results) and the
reproduction of the published CDNOW estimates (refitted by analytics.insights.cdnow_reference).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from analytics import methodology
from analytics.churn.models import ChurnRecord
from analytics.clustering import ClusteringRecord
from analytics.clv.bgnbd import ModelFit
from analytics.clv.record import ClvRecord
from analytics.errors import ModelFailure
from analytics.params import AnalysisParams
from analytics.segments import DEFAULT_SEGMENT_RULES
from components import formatting as fmt
from components import ids, uplift_panel
from components.tower_tab import graph

NOT_AVAILABLE = "not available for these data"
CHURN_METRICS = ["model", "role", "n", "churn_rate", "roc_auc", "pr_auc", "brier", "brier_skill"]
CLUSTER_METRICS = ["k", "silhouette", "davies_bouldin", "calinski_harabasz", "inertia", "bic"]

# Column label and formatter for the metric and parameter tables the models report.
_COLUMNS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "mae": ("MAE", lambda v: f"{v:.3f}"),
    "rmse": ("RMSE", lambda v: f"{v:.3f}"),
    "correlation": ("Correlation", lambda v: f"{v:.3f}"),
    "actual_total": ("Actual total", fmt.count),
    "predicted_total": ("Predicted total", fmt.count),
    "aggregate_error_pct": ("Aggregate error", lambda v: f"{v:+.1f} %"),
    "n": ("Customers", fmt.count),
    "n_churned": ("Churned", fmt.count),
    "churn_rate": ("Churn rate", fmt.percent),
    "mean_predicted": ("Mean predicted", fmt.percent),
    "roc_auc": ("ROC AUC", lambda v: f"{v:.3f}"),
    "pr_auc": ("PR AUC", lambda v: f"{v:.3f}"),
    "brier": ("Brier", lambda v: f"{v:.3f}"),
    "brier_skill": ("Brier skill", lambda v: f"{v:.3f}"),
    "odds_ratio": ("Odds ratio", lambda v: f"{v:.2f}"),
    "importance": ("AUC drop", lambda v: f"{v:.3f}"),
    "inertia": ("Inertia", lambda v: f"{v:,.0f}"),
    "silhouette": ("Silhouette", lambda v: f"{v:.3f}"),
    "davies_bouldin": ("Davies-Bouldin", lambda v: f"{v:.3f}"),
    "calinski_harabasz": ("Calinski-Harabasz", lambda v: f"{v:,.0f}"),
    "bic": ("BIC", lambda v: f"{v:,.0f}"),
    "published": ("Published", lambda v: f"{v:.4g}"),
    "reproduced": ("This code", lambda v: f"{v:.4g}"),
}


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if column in _COLUMNS:
        try:
            return _COLUMNS[column][1](value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _label(column: str) -> str:
    if column in _COLUMNS:
        return _COLUMNS[column][0]
    return column if column == "k" else column.replace("_", " ").capitalize()


def frame_table(frame: pd.DataFrame, columns: Sequence[str] | None = None, max_rows: int = 30,
                highlight: tuple[str, Any] | None = None) -> dbc.Table:
    """A compact table of a model's metrics or parameters (index shown when it is named).

    Columns with no value at all are left out; numbers are right-aligned; ``highlight`` = (column, value)
    marks the matching rows (e.g. the chosen k).
    """
    table = frame.reset_index() if frame.index.name is not None else frame
    columns = [c for c in (columns or table.columns) if c in table.columns and table[c].notna().any()]
    numeric = {c: pd.api.types.is_numeric_dtype(table[c]) for c in columns}
    align = {c: "text-end" if numeric[c] else "" for c in columns}
    header = html.Thead(html.Tr([html.Th(_label(c), className=align[c]) for c in columns]))
    rows = []
    for _, row in table.head(max_rows).iterrows():
        marked = highlight is not None and row.get(highlight[0]) == highlight[1]
        rows.append(html.Tr([html.Td(_cell(c, row[c]), className=align[c]) for c in columns],
                            className="table-active fw-semibold" if marked else ""))
    return dbc.Table([header, html.Tbody(rows)], size="sm", hover=True, responsive=True,
                     className="mb-2 small w-auto")


def params_table(params: Mapping[str, float], meanings: Mapping[str, str],
                 errors: Mapping[str, float] | None = None) -> dbc.Table:
    """Parameter | meaning | estimate (| standard error, when the fit reports them)."""
    errors = errors or {}
    header = [html.Th("Parameter"), html.Th("Meaning"), html.Th("Estimate", className="text-end")]
    if errors:
        header.append(html.Th("Std. error", className="text-end"))
    rows = [
        html.Tr([html.Td(html.Code(name)), html.Td(meanings.get(name, "")),
                 html.Td(_cell("", value), className="text-end")]
                + ([html.Td(_cell("", errors.get(name)), className="text-end text-muted")] if errors else []))
        for name, value in params.items()
    ]
    return dbc.Table([html.Thead(html.Tr(header)), html.Tbody(rows)], size="sm", responsive=True,
                     className="mb-2 small")


def unavailable(what: str, why: str) -> dbc.Alert:
    """The note shown in place of a model's evidence when it could not be made on these data, and why."""
    return dbc.Alert([html.I(className="bi bi-info-circle me-2"), f"{what}: {NOT_AVAILABLE}: {why}"],
                     color="light", className="border small mb-2")


_BGNBD_MEANING = {
    "r": "shape of the purchase-rate distribution (Gamma)",
    "alpha": "scale of the purchase-rate distribution, in the model's time unit",
    "a": "Beta parameter of the drop-out probability after each purchase",
    "b": "Beta parameter of the drop-out probability after each purchase",
    "s": "shape of the drop-out rate distribution (Gamma, Pareto/NBD)",
    "beta": "scale of the drop-out rate distribution, in the model's time unit",
}
_GG_MEANING = {
    "p": "shape of each purchase's spend around the customer's mean",
    "q": "shape of the customers' mean-spend distribution",
    "v": "scale of the customers' mean-spend distribution (currency)",
}


def _fit_facts(fit: ModelFit, customers: str) -> str:
    """How a fit went, from its record: log-likelihood, convergence, penalizer used."""
    facts = [f"log-likelihood {fit.log_likelihood:,.1f}" if fit.log_likelihood is not None else None,
             "converged" if fit.converged else "did NOT converge",
             f"penalizer {fit.penalizer_used:g}" if fit.penalizer_used else None, customers]
    return " · ".join(f for f in facts if f)


def clv_evidence(clv: ClvRecord | ModelFailure, params: AnalysisParams) -> list:
    """The CLV model's fitted parameters (purchases and spend, when it has them) and the BG/NBD holdout
    metrics (or why there are none)."""
    if isinstance(clv, ModelFailure):
        return [unavailable("CLV", clv.message)]
    settings = (f"{clv.model_label} · time unit {clv.time_unit} · horizon {params.clv_horizon_months} months · "
                f"margin {params.gross_margin_fraction:.0%} · discount {params.monthly_discount_rate:.1%} a month")
    purchase, spend = clv.forecast.purchase_model, clv.forecast.gamma_gamma
    models = []
    if purchase is not None:
        models.append(dbc.Col([html.H6(f"{clv.model_label} (purchases)"),
                               params_table(purchase.params, _BGNBD_MEANING, purchase.standard_errors),
                               html.P(_fit_facts(purchase, f"{purchase.n_customers:,} customers"),
                                      className="small-muted")], lg=6))
    if spend is not None:
        correlation = spend.frequency_spend_correlation
        note = ("" if correlation is None else
                f" · frequency/spend correlation {correlation:.2f} (the model assumes none)")
        models.append(dbc.Col([html.H6("Gamma-Gamma (spend per purchase)"),
                               params_table(spend.params, _GG_MEANING, spend.standard_errors),
                               html.P(_fit_facts(spend, f"{spend.n_customers:,} repeat buyers") + note,
                                      className="small-muted")], lg=6))
    out: list = [html.P(settings, className="small-muted mb-2"), dbc.Row(models, className="g-3")]
    validation = clv.validation
    if isinstance(validation, ModelFailure):
        out.append(unavailable("Holdout check", validation.message))
        return out
    out.append(html.H6(f"BG/NBD holdout accuracy, per customer (calibration to "
                       f"{validation.calibration_end:%d %b %Y}, holdout to {validation.observation_end:%d %b %Y}, "
                       f"{len(validation.customers):,} customers)"))
    out.append(frame_table(validation.metrics))
    return out


TOURNAMENT_COLUMNS = ["label", "mae", "rmse", "aggregate_error_pct", "revenue_mae", "revenue_error_pct",
                      "coverage_fraction", "mean_rank", "error"]
INTERVAL_COLUMNS = ["label", "coverage_fraction", "in_interval_fraction", "interval_mass_fraction",
                    "revenue_coverage_fraction", "revenue_total_low", "revenue_total_high", "revenue_total_covered"]
_COLUMNS.update({
    "label": ("Candidate", str),
    "revenue_mae": ("Revenue MAE", lambda v: f"{v:,.1f}"),
    "revenue_error_pct": ("Revenue error", lambda v: f"{v:+.1f} %"),
    "coverage_fraction": ("Coverage of the 80 % interval", fmt.percent),
    "in_interval_fraction": ("Inside the whole-number interval", fmt.percent),
    "interval_mass_fraction": ("Model expects inside", fmt.percent),
    "revenue_coverage_fraction": ("Coverage of the 80 % revenue interval", fmt.percent),
    "revenue_total_low": ("Revenue total, 80 % low", lambda v: f"{v:,.0f}"),
    "revenue_total_high": ("Revenue total, 80 % high", lambda v: f"{v:,.0f}"),
    "revenue_total_covered": ("Actual total inside", lambda v: "yes" if v else "no"),
    "mean_rank": ("Mean rank", lambda v: f"{v:.2f}"),
    "error": ("Could not run", str),
})
INTERVAL_DEFINITION = (
    "Each customer's 80 % interval is the shortest range holding 80 % of the model's predictive distribution "
    "(its simulations, parameter uncertainty included). Coverage of the 80 % interval: the share of customers "
    "whose holdout purchases fell in their interval; 80 % for a calibrated model. Purchases are whole numbers, "
    "so an interval such as [0, 1] holds more than 80 % of the distribution; a customer whose count equals "
    "an end of the interval counts for the chance that this end is included to make the interval hold exactly "
    "80 % (a randomised interval), so that the measure can be 80 %. “Inside the whole-number interval” is the "
    "plain share with ends included, next to the share the model expects there. The revenue interval is "
    "checked the same way against each customer's holdout revenue, and the base's total holdout revenue "
    "against the 80 % interval of the total (joint simulations for the BTYD models; for the rate models "
    "independent draws per customer, customer-level variation only, so too narrow). The intervals carry the "
    "model's own uncertainty, not its errors: when the holdout runs above every stationary model (a season), "
    "the coverage falls below 80 % and the actual total lies outside, as the aggregate error shows.")


def dropout_note(clv: ClvRecord | ModelFailure) -> dbc.Alert | None:
    """The warning shown wherever P(alive) appears when the purchase model's drop-out has collapsed."""
    if isinstance(clv, ModelFailure) or not clv.forecast.dropout_collapsed:
        return None
    forecast = clv.forecast
    return dbc.Alert([html.Strong("P(alive) carries no signal on these data: "),
                      f"the {forecast.label} fit drives the drop-out rate to about zero, so the model treats every "
                      "customer as still active (P(alive) ≈ 1) and recency no longer moves anyone's forecast. "
                      "Use the churn probability as the risk signal; P(alive) is not offered as one."],
                     color="warning", className="small mb-2")


def _judged_on(tournament) -> str:
    if not tournament.sampled:
        return f"{tournament.n_customers:,} calibration customers"
    return (f"{tournament.n_customers:,} calibration customers: a seeded random sample of the base's "
            f"{tournament.base_customers:,} (every figure below is the sample's; the chosen model is then "
            f"fitted on every customer)")


def tournament_evidence(clv: ClvRecord | ModelFailure) -> list:
    """The tournament table (every candidate on the same held-out window), why the winner won, which model
    feeds CLV, the intervals' coverage, the tracking-gap diagnosis and the P(alive) warning."""
    if isinstance(clv, ModelFailure):
        return [unavailable("CLV model tournament", clv.message)]
    tournament = clv.tournament
    if isinstance(tournament, ModelFailure):
        return [dbc.Alert(f"No tournament on these data ({tournament.message}); CLV uses {clv.model_label}.",
                          color="light", className="border small mb-2")]
    out: list = [html.P(
        f"Calibration before {tournament.calibration_end:%Y-%m-%d}, holdout to {tournament.observation_end:%Y-%m-%d} "
        f"({tournament.duration_holdout_days:.0f} days), {_judged_on(tournament)}. "
        "Purchases are repeat purchase days in the holdout.", className="small-muted mb-2")]
    out.append(html.P([html.Strong("Winner: "), tournament.reason], className="small mb-1"))
    used = clv.model_label
    if clv.chosen_by == "user":
        out.append(html.P([html.Strong("CLV uses: "), f"{used}, chosen on the Data tab (overriding the "
                           f"tournament's {tournament.winner_label})."], className="small mb-2"))
    else:
        out.append(html.P([html.Strong("CLV uses: "), f"{used}, the tournament's winner."], className="small mb-2"))
    if clv.forecast.horizon_note:
        out.append(dbc.Alert([html.Strong("The CLV horizon is an extrapolation: "), clv.forecast.horizon_note],
                             color="warning", className="small mb-2"))
    if clv.fallback_note:
        out.append(dbc.Alert(f"The chosen model could not forecast the whole base, so CLV uses {used}: "
                             f"{clv.fallback_note}", color="warning", className="small mb-2"))
    if not tournament.beats_naive:
        out.append(dbc.Alert("No model beats the naive rate baseline on per-customer MAE on this holdout: "
                             "per customer, the forecasts are no better than carrying each customer's past "
                             "rate forward.", color="warning", className="small mb-2"))
    out.append(frame_table(tournament.table.reset_index(), TOURNAMENT_COLUMNS,
                           highlight=("candidate", clv.model)))
    whose = "the sample's " if tournament.sampled else ""
    out.append(html.H6(f"Interval checks on the holdout ({whose}actual holdout revenue "
                       f"{tournament.holdout_revenue:,.0f})"))
    out.append(frame_table(tournament.table.reset_index(), INTERVAL_COLUMNS, highlight=("candidate", clv.model)))
    out.append(html.P(INTERVAL_DEFINITION, className="small-muted mb-2"))
    note = dropout_note(clv)
    if note is not None:
        out.append(note)
    if tournament.diagnosis.get("sentence"):
        out.append(html.P([html.Strong("Why the tracking curves depart from the actual: "),
                           tournament.diagnosis["sentence"]], className="small mb-2"))
    return out


def churn_evidence(churn: ChurnRecord | ModelFailure) -> list:
    """The churn model's held-out metrics against its named baselines, on how many customers, a heuristic
    warning, notes on baselines left out, top odds ratios and permutation importances."""
    if isinstance(churn, ModelFailure):
        return [unavailable("Churn", churn.message)]
    out: list = []
    if churn.heuristic:
        out.append(dbc.Alert([html.Strong("Heuristic, not a fitted model: "), churn.reason],
                             color="warning", className="small mb-2"))
    facts = (f"{churn.model_label} · window {churn.window_days} days · label cutoff {churn.cutoff:%d %b %Y} · "
             f"{churn.n_labelled:,} customers labelled ({churn.n_churned:,} churned) · "
             f"fitted on {churn.n_train:,}, judged on {churn.n_held_out:,} held-out customers")
    if not churn.heuristic:  # the heuristic fits nothing
        facts += f" · refitted on {churn.n_refit:,} to score"
    out.append(html.P(facts, className="small-muted mb-2"))
    if churn.choice_reason:
        out.append(html.P([html.Strong("Model used: "), churn.choice_reason + "."], className="small mb-2"))
    tables = [dbc.Col([html.H6("Held-out metrics (same customers for every scorer)"),
                       frame_table(churn.metrics, CHURN_METRICS),
                       html.Ul([html.Li([html.Strong(f"{name}: "), what]) for name, what in churn.baselines.items()],
                               className="small mb-1 ps-3"),
                       *[html.Div(f"{name}: {note}", className="small text-warning") for name, note
                         in churn.notes.items()]], lg=8)]
    side = []
    if not churn.odds_ratios.empty:
        side += [html.H6("Odds ratios (logistic regression)"),
                 frame_table(churn.odds_ratios, ["feature", "odds_ratio"], max_rows=12)]
    if not churn.feature_importance.empty:
        side += [html.H6("Permutation importance (drop in held-out ROC AUC)"),
                 frame_table(churn.feature_importance, ["feature", "importance"], max_rows=12)]
    if side:
        tables.append(dbc.Col(side, lg=4))
    out.append(dbc.Row(tables, className="g-3"))
    return out


def clustering_evidence(clustering: ClusteringRecord | ModelFailure) -> list:
    """Chosen method and k with the reason, and the selection diagnostics over k."""
    if isinstance(clustering, ModelFailure):
        return [unavailable("Clustering", clustering.message)]
    return [html.P([html.Strong(f"{clustering.method}, k = {clustering.k}. "), clustering.k_reason],
                   className="small mb-2"),
            frame_table(clustering.selection, CLUSTER_METRICS, highlight=("k", clustering.k))]


def kpi_definitions(kpis: Sequence[Mapping[str, Any]]) -> html.Dl:
    """Each KPI's name and its definition, as written by analytics.insights for the current results."""
    items: list = []
    for kpi in kpis:
        items += [html.Dt(kpi["name"], className="col-sm-3"),
                  html.Dd(kpi["definition"], className="col-sm-9")]
    return html.Dl(items, className="row mb-0 small")


def reference_table(table: pd.DataFrame) -> html.Div:
    """Published Fader-Hardie-Lee (2005) CDNOW estimates next to this code's refit."""
    note = ("Refitted on the embedded CDNOW 1/10 sample after cleaning: "
            f"{table.attrs.get('n_customers', 0):,} customers, {table.attrs.get('n_repeat_buyers', 0):,} "
            "repeat buyers, weeks, calibration to 30 Sep 1997.")
    return html.Div([frame_table(table, ["model", "parameter", "published", "reproduced"]),
                     html.Div(note, className="small-muted")])


def _range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def rules_table(rules: pd.DataFrame = DEFAULT_SEGMENT_RULES) -> dbc.Table:
    """The segment rule table as read: score ranges and the recommended action, first match wins."""
    header = html.Thead(html.Tr([html.Th("#"), html.Th("Segment"), html.Th("R"), html.Th("F"), html.Th("M"),
                                 html.Th("Recommended action")]))
    body = html.Tbody(
        [
            html.Tr([
                html.Td(i + 1, className="text-muted"),
                html.Td(row["segment"], className="fw-semibold text-nowrap"),
                html.Td(_range(row["r_min"], row["r_max"])),
                html.Td(_range(row["f_min"], row["f_max"])),
                html.Td(_range(row.get("m_min", 1), row.get("m_max", 5))),
                html.Td(row["action"], className="small"),
            ])
            for i, (_, row) in enumerate(rules.iterrows())
        ]
    )
    return dbc.Table([header, body], size="sm", hover=True, responsive=True, className="mb-0")


def _panel(title: str, icon: str, *children, lead: str | None = None, measure: bool = False) -> html.Div:
    """A white panel; ``measure`` keeps long text to a readable line length."""
    head = [html.H5([html.I(className=f"bi {icon} me-2"), title])]
    if lead:
        head.append(html.P(lead, className="text-muted small"))
    body = html.Div(head + list(children), style={"maxWidth": "1100px"} if measure else None)
    return html.Div(body, className="panel")


def _section(title: str, *children) -> html.Div:
    return html.Div([html.H6(title, className="mt-3 fw-semibold"), *children])


def _evidence() -> list:
    return [
        _panel(
            "Customer lifetime value: does the model predict out of sample?", "bi-graph-up-arrow",
            dbc.Row([
                dbc.Col(dcc.Loading(graph(ids.EVIDENCE_TRACKING, 340), type="dot", color="#0f766e"), lg=7),
                dbc.Col(dcc.Loading(graph(ids.EVIDENCE_SCATTER, 340), type="dot", color="#0f766e"), lg=5),
            ], className="g-3"),
            html.Div(id=ids.EVIDENCE_PARAMS, className="mt-2"),
            lead="The purchase model is fitted on a calibration period and asked to predict the following "
                 "holdout period it has not seen; the lines should stay together after the dotted line.",
        ),
        _panel(
            "CLV model tournament: which model predicts the held-out window best?", "bi-trophy",
            dcc.Loading(graph(ids.EVIDENCE_TOURNAMENT_TRACKING, 380), type="dot", color="#0f766e"),
            html.Div(id=ids.EVIDENCE_TOURNAMENT, className="mt-2"),
            lead="Every candidate is fitted on the same calibration period and predicts the same holdout; the "
                 "winner feeds the CLV column on every tab unless another model is chosen on the Data tab.",
        ),
        _panel(
            "Churn: does the model beat simple rules on customers it has not seen?", "bi-bullseye",
            dbc.Row([
                dbc.Col(dcc.Loading(graph(ids.EVIDENCE_ROC, 470), type="dot", color="#0f766e"), lg=6),
                dbc.Col(dcc.Loading(graph(ids.EVIDENCE_CALIBRATION, 470), type="dot", color="#0f766e"), lg=6),
            ], className="g-3"),
            html.Div(id=ids.EVIDENCE_METRICS, className="mt-2"),
            lead="Curves above the diagonal (ROC) and points near it (calibration) are what to look for; the "
                 "dashed lines are the baselines the model has to beat.",
        ),
        _panel("Clusters: how k was chosen", "bi-diagram-3", html.Div(id=ids.EVIDENCE_CLUSTERING)),
        _panel(
            "Campaign test: who responds to the offer?", "bi-people",
            uplift_panel.form(), *uplift_panel.panel_body(),
            lead="A randomised test (the assignment file an export with a control group writes, plus its send "
                 "date) is measured from the transactions: the average uplift with its interval, then a model "
                 "of who responds, judged on customers it did not see (cross-fitting) against ranking by churn "
                 "probability. The ROI simulator can target with it (uplift source: learned).",
        ),
    ]


def _methodology() -> html.Div:
    """The methodology texts of analytics.methodology, with the segment rule table and the CDNOW reference
    refit after the sections they illustrate."""
    after = {
        "Named segments": [rules_table()],
        "Customer lifetime value: BG/NBD and Gamma-Gamma": [
            html.P(methodology.CLV_REFERENCE, className="mb-1"),
            dcc.Loading(html.Div(id=ids.EVIDENCE_REFERENCE), type="dot", color="#0f766e")],
    }
    return _panel(
        "Methodology", "bi-journal-text",
        *[_section(title, dcc.Markdown(text), *after.get(title, [])) for title, text in methodology.SECTIONS],
        _section("KPI definitions (for the current results)", html.Div(id=ids.EVIDENCE_KPI_DEFINITIONS)),
        measure=True,
    )


def layout() -> html.Div:
    """Evidence panels first (what a sceptical reader checks), then the methodology text."""
    return html.Div(
        [
            html.Div(
                [html.H4("Model evidence", className="mb-1"),
                 html.P("How far to trust the numbers on the other tabs: each model judged on data it was "
                        "not fitted on.", className="text-muted mb-3")],
                className="pt-1",
            ),
            *_evidence(),
            _methodology(),
        ]
    )
