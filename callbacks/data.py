"""Data tab and navbar: the quality report and the one-line summary of the loaded data."""

from __future__ import annotations

import dash
from dash import Input, Output

from callbacks import common
from components import formatting as fmt
from components import ids
from components.quality import quality_report


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        Output(ids.QUALITY_REPORT, "children"),
        Output(ids.DATASET_SUMMARY, "children"),
        Input(ids.RESULTS_KEY, "data"),
    )
    def show_quality(key):
        results = common.load_results(settings, key)
        q = results.quality
        summary = (
            f"{results.meta.get('source', '')} · {fmt.count(len(results.customers))} customers · "
            f"{str(q['date_min_out'])[:10]} to {str(q['date_max_out'])[:10]} · as of {str(q['as_of'])[:10]}"
        )
        return quality_report(q, results.meta.get("source", "")), summary
