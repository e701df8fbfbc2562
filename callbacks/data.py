"""Data tab and navbar: the quality report and the one-line summary of the loaded data."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from analytics.results import Results
from callbacks import common
from components import formatting as fmt
from components import ids
from components.quality import quality_report


def quality_outputs(results: Results) -> dict[str, Any]:
    """The quality report and the navbar's one-line summary of the data behind ``results``."""
    q = results.quality
    summary = (
        f"{results.source} · {fmt.count(len(results.customers))} customers · "
        f"{str(q['date_min_out'])[:10]} to {str(q['date_max_out'])[:10]} · as of {str(q['as_of'])[:10]}"
    )
    return {"report": quality_report(q, results.source), "summary": summary}


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        output={"report": Output(ids.QUALITY_REPORT, "children"), "summary": Output(ids.DATASET_SUMMARY, "children")},
        inputs={"key": Input(ids.RESULTS_KEY, "data")},
    )
    def show_quality(key):
        return common.drawn(settings, key, quality_outputs)
