"""Data tab: pick a dataset or upload a file, correct the column mapping, set parameters, read the quality report."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics.params import CLUSTER_METHODS, CLV_MODELS, AnalysisParams
from components import ids
from components.database_source import database_panel, dataset_option

CLUSTER_METHOD_LABELS = {
    "kmeans": "K-means",
    "gmm": "Gaussian mixture",
    "agglomerative": "Agglomerative (Ward)",
    "dbscan": "DBSCAN (density)",
}


def _field(label: str, control, help_text: str | None = None) -> html.Div:
    children = [dbc.Label(label, className="mb-1 small fw-semibold"), control]
    if help_text:
        children.append(html.Div(help_text, className="small-muted"))
    return html.Div(children, className="mb-2")


def source_panel(datasets: dict[str, str], default: str, upload_limit_mb: int,
                 connections: list[str] = ()) -> html.Div:
    """Dataset choice, database connection (when the server has some) and file upload."""
    return html.Div(
        [
            html.H5("1 · Data source"),
            _field(
                "Embedded dataset",
                dcc.Dropdown(
                    id=ids.DATASET,
                    # the description's headline as the label, the whole of it on hover
                    options=[{"label": text.split(":")[0], "value": name, "title": text}
                             for name, text in datasets.items()]
                    + [{"label": "Uploaded file", "value": "upload"}] + dataset_option(list(connections)),
                    value=default,
                    clearable=False,
                ),
            ),
            database_panel(list(connections)),
            dcc.Upload(
                id=ids.UPLOAD,
                children=html.Div(
                    [html.I(className="bi bi-cloud-arrow-up me-2"), "Drop a transaction file here or ",
                     html.A("choose one")]
                ),
                max_size=upload_limit_mb * 2**20,  # refused in the browser, said by assets/upload_limit.js
                className="border border-2 rounded p-3 text-center bg-light",
                style={"borderStyle": "dashed"},
            ),
            html.Div(
                f"CSV (any delimiter, encoding, .gz/.xz/.zip/.bz2), XLSX or Parquet, up to {upload_limit_mb} MB.",
                id=ids.UPLOAD_LIMIT,
                className="small-muted mt-1",
                **{"data-max-bytes": upload_limit_mb * 2**20},
            ),
            html.Div(id=ids.UPLOAD_NAME, className="small mt-1"),
            dbc.Button([html.I(className="bi bi-trash me-1"), "Delete this upload and its results"],
                       id=ids.DELETE_UPLOAD, color="link", size="sm", className="p-0 text-danger"),
            html.Div(id=ids.UPLOAD_ERROR, className="mt-2"),
            dcc.Store(id=ids.UPLOAD_STORE),
            html.Div(id=ids.MAPPING_TABLE, className="mt-2"),
        ],
        className="panel",
    )


AUTO_CLV_MODEL = "auto"
"""Dropdown value for "let the tournament choose" (AnalysisParams.clv_model None)."""


def parameters_panel() -> html.Div:
    """Analysis parameters, with the defaults of AnalysisParams."""
    d = AnalysisParams()
    return html.Div(
        [
            html.H5("2 · Parameters"),
            dbc.Row(
                [
                    dbc.Col(_field("As-of date", dbc.Input(id=ids.PARAM_AS_OF, type="date"),
                                   "Blank: the day after the last transaction."), md=6),
                    dbc.Col(_field("CLV horizon (months)",
                                   dbc.Input(id=ids.PARAM_HORIZON, type="number", min=1, max=120, step=1,
                                             value=d.clv_horizon_months)), md=6),
                    dbc.Col(_field("Gross margin (%)",
                                   dbc.Input(id=ids.PARAM_MARGIN, type="number", min=1, max=100, step=1,
                                             value=round(d.gross_margin_fraction * 100))), md=6),
                    dbc.Col(_field("Monthly discount rate (%)",
                                   dbc.Input(id=ids.PARAM_DISCOUNT, type="number", min=0, max=20, step=0.1,
                                             value=d.monthly_discount_rate * 100)), md=6),
                    dbc.Col(_field("Churn window (days)",
                                   dbc.Input(id=ids.PARAM_CHURN_WINDOW, type="number", min=7, max=730, step=1,
                                             value=d.churn_window_days),
                                   "No purchase within this window = churned."), md=6),
                    dbc.Col(_field("Clustering method",
                                   dcc.Dropdown(id=ids.PARAM_CLUSTER_METHOD, clearable=False,
                                                value=d.cluster_method,
                                                options=[{"label": CLUSTER_METHOD_LABELS[m], "value": m}
                                                         for m in CLUSTER_METHODS])), md=6),
                    dbc.Col(_field("Number of clusters",
                                   dbc.Input(id=ids.PARAM_CLUSTER_K, type="number", min=2, max=20, step=1,
                                             placeholder="automatic"),
                                   "Blank: the largest k ≥ 3 whose silhouette is within 0.05 of the best."),
                            md=6),
                    dbc.Col(_field("CLV model",
                                   dcc.Dropdown(id=ids.PARAM_CLV_MODEL, clearable=False, value=AUTO_CLV_MODEL,
                                                options=[{"label": "Tournament winner (automatic)",
                                                          "value": AUTO_CLV_MODEL}]
                                                + [{"label": label, "value": key}
                                                   for key, label in CLV_MODELS.items()]),
                                   "Automatic: the model with the best held-out accuracy (Methodology tab)."),
                            md=6),
                    dbc.Col(_field("k range (automatic)",
                                   dcc.RangeSlider(id=ids.PARAM_K_RANGE, min=2, max=12, step=1,
                                                   value=[d.k_min, d.k_max],
                                                   marks={k: str(k) for k in range(2, 13, 2)})), md=6),
                ]
            ),
        ],
        className="panel",
    )


def run_panel() -> html.Div:
    """Run and cancel buttons with the progress bar fed by the pipeline."""
    return html.Div(
        [
            html.H5("3 · Run"),
            html.Div(
                [
                    dbc.Button([html.I(className="bi bi-play-fill me-1"), "Run analysis"], id=ids.RUN_BUTTON,
                               color="primary", className="me-2"),
                    dbc.Button([html.I(className="bi bi-x-circle me-1"), "Cancel"], id=ids.CANCEL_BUTTON,
                               color="secondary", outline=True, disabled=True),
                ],
                className="mb-2",
            ),
            dbc.Progress(id=ids.RUN_PROGRESS, value=0, striped=True, animated=True, className="mb-1",
                         style={"height": "1.2rem"}),
            html.Div(id=ids.RUN_PROGRESS_TEXT, className="small-muted"),
            html.Div(id=ids.RUN_ERROR, className="mt-2"),
        ],
        className="panel",
    )


def layout(datasets: dict[str, str], default: str, upload_limit_mb: int, connections: list[str] = ()) -> html.Div:
    return dbc.Row(
        [
            dbc.Col([source_panel(datasets, default, upload_limit_mb, connections), parameters_panel(), run_panel()],
                    lg=5, xl=4),
            dbc.Col(
                html.Div([html.H5("Data quality report"), html.Div(id=ids.QUALITY_REPORT)], className="panel"),
                lg=7, xl=8,
            ),
        ]
    )
