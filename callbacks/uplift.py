"""Campaign test panel: receive the assignment file, measure the test in a background job, show it.

The browser holds two small tokens: the uploaded file's (the upload id and name; the bytes stay on the server,
as for transaction uploads) and the cache key of the analysed test, which the ROI tab reads for learned uplift.
"""

from __future__ import annotations

import base64
import logging
import re

import dash
import pandas as pd
from dash import Input, Output, State, dcc

import analytics
from analytics import pipeline
from analytics.cache import fingerprint
from analytics.datasets import embedded_campaign
from analytics.errors import DataError
from analytics.export import to_safe_csv
from analytics.uplift import DEFAULT_CONTROL_FRACTION, read_assignment
from analytics.uplift.analysis import CampaignTest, campaign_test
from analytics.uplift.assignment import with_control_group
from callbacks import common, uploads
from components import ids, uplift_panel
from components.figures import uplift as figures

logger = logging.getLogger(__name__)
_KEY = re.compile(r"[0-9a-zA-Z:_-]{8,200}")
DEFAULT_CONTROL_PCT = DEFAULT_CONTROL_FRACTION * 100


def load_test(settings, key, results_key) -> CampaignTest:
    """The analysed test behind a key the browser sent, for these results; DataError when there is none."""
    found = common.results_cache(settings).get(key) if isinstance(key, str) and _KEY.fullmatch(key) else None
    if not isinstance(found, CampaignTest):
        raise DataError("no campaign test measured yet: measure one on the Methodology & evidence tab "
                        "(assignment file, send date, window)")
    if found.results_key != results_key:
        raise DataError("the campaign test was measured on other data or settings: measure it again on the "
                        "Methodology & evidence tab")
    return found


def measure(settings, token, sent_on, window_days, results_key, progress=None) -> str:
    """Analyse the test (or take it from the cache) and return its key."""
    results = common.load_results(settings, results_key)
    if not token:
        raise DataError("no assignment file yet: drop one on the upload area (or use the embedded test)")
    upload_id, data, name = uploads.uploaded_file(settings, token)  # checks a forged or stale token
    cache = common.results_cache(settings)
    key = fingerprint("uplift", results_key, upload_id, str(sent_on), str(window_days), analytics.__version__)

    def compute() -> CampaignTest:
        invoices = cache.get(pipeline.invoices_key(results_key))
        if invoices is None:
            raise DataError("the transactions behind these results are no longer cached: run the analysis again")
        assignment = read_assignment(data, filename=name)
        return campaign_test(invoices, results.customers, assignment, sent_on, window_days, results.as_of,
                             results.params, results_key, progress)

    cache.get_or_compute(key, compute)
    return key


def embedded_upload(settings, results_key) -> tuple[dict, str, int]:
    """The embedded test's assignment file stored like an upload, its send date and window."""
    source = common.load_results(settings, results_key).source
    if source != "synthetic":
        raise DataError(f"only the synthetic retailer holds an embedded campaign test; these results are {source!r}")
    test = embedded_campaign()
    data = test.assignment.to_csv(index=False).encode()
    url = "data:text/csv;base64," + base64.b64encode(data).decode()
    return (uploads.store_upload(settings, url, "synthetic_campaign_assignment.csv"),
            test.sent_on.date().isoformat(), test.window_days)


def campaign_file(rows: pd.DataFrame, segments: pd.Series, share, seed, filename: str) -> dict:
    """The download of an exported campaign list with a control group (``share`` % per segment, seeded): the
    file is the test's assignment file. DataError for a bad share or seed."""
    return dcc.send_string(to_safe_csv(with_control_group(rows, segments, share, seed)), filename)


def panel_outputs(test: CampaignTest) -> dict:
    """What the panel shows of a measured test, keyed as the show_test callback's outputs."""
    analysis = test.analysis
    evidence = analysis.evidence
    return {"summary": uplift_panel.measurement(analysis),
            "qini": figures.qini_figure(evidence.curves if evidence else None),
            "deciles": figures.decile_figure(evidence.deciles if evidence else None,
                                             evidence.average_uplift if evidence else None),
            "model": uplift_panel.evidence(analysis), "segments": uplift_panel.segments(analysis.segments)}


def received_assignment(settings, contents, filename) -> dict:
    """The dropped assignment file stored like an upload (its token and name), or why it cannot be."""
    try:
        token = uploads.store_upload(settings, contents or "", str(filename or "assignment.csv"))
    except DataError as error:
        return {"file": None, "name": "", "error": common.error_alert(error)}
    return {"file": token, "name": f"Assignment file: {token['filename']}", "error": None}


def embedded_assignment(settings, results_key) -> dict:
    """The embedded test's file, send date and window in the panel, or why these results have none."""
    try:
        token, sent_on, window = embedded_upload(settings, results_key)
    except DataError as error:
        unchanged = {name: dash.no_update for name in ("file", "name", "sent_on", "window")}
        return unchanged | {"error": common.error_alert(error)}
    return {"file": token, "name": f"Assignment file: {token['filename']} (embedded)", "sent_on": sent_on,
            "window": window, "error": None}


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]
    # a dropped file and the embedded test fill the same fields
    assignment = {"file": Output(ids.UPLIFT_FILE, "data", allow_duplicate=True),
                  "name": Output(ids.UPLIFT_FILE_NAME, "children", allow_duplicate=True),
                  "error": Output(ids.UPLIFT_ERROR, "children", allow_duplicate=True)}

    @app.callback(output=assignment, inputs={"contents": Input(ids.UPLIFT_UPLOAD, "contents"),
                                             "filename": State(ids.UPLIFT_UPLOAD, "filename")},
                  prevent_initial_call=True)
    def receive_assignment(contents, filename):
        return received_assignment(settings, contents, filename)

    @app.callback(output={**assignment, "sent_on": Output(ids.UPLIFT_SENT_ON, "value"),
                          "window": Output(ids.UPLIFT_WINDOW, "value")},
                  inputs={"_clicks": Input(ids.UPLIFT_EMBEDDED, "n_clicks"),
                          "results_key": State(ids.RESULTS_KEY, "data")},
                  prevent_initial_call=True)
    def use_embedded(_clicks, results_key):
        return embedded_assignment(settings, results_key)

    @app.callback(
        output={"key": Output(ids.UPLIFT_KEY, "data"), "error": Output(ids.UPLIFT_ERROR, "children")},
        inputs={"_clicks": Input(ids.UPLIFT_RUN, "n_clicks"), "token": State(ids.UPLIFT_FILE, "data"),
                "sent_on": State(ids.UPLIFT_SENT_ON, "value"),
                "window_days": State(ids.UPLIFT_WINDOW, "value"), "results_key": State(ids.RESULTS_KEY, "data")},
        background=True, progress=[Output(ids.UPLIFT_PROGRESS, "children")], progress_default=[""],
        running=[(Output(ids.UPLIFT_RUN, "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def run_test(set_progress, _clicks, token, sent_on, window_days, results_key):
        try:
            key = measure(settings, token, sent_on, window_days, results_key, lambda m: set_progress((m,)))
        except DataError as error:
            return {"key": dash.no_update,
                    "error": common.error_alert(error, title="This campaign test cannot be measured")}
        except Exception:  # a bug must reach the user as a message, not a silent spinner
            logger.exception("campaign test failed")
            return {"key": dash.no_update, "error": common.error_alert(
                "measuring the test failed unexpectedly; the server log has the details",
                title="Something went wrong")}
        return {"key": key, "error": None}

    @app.callback(
        output={"summary": Output(ids.UPLIFT_SUMMARY, "children"), "qini": Output(ids.UPLIFT_QINI, "figure"),
                "deciles": Output(ids.UPLIFT_DECILES, "figure"),
                "model": Output(ids.UPLIFT_MODEL, "children"), "segments": Output(ids.UPLIFT_SEGMENTS, "children")},
        inputs={"key": Input(ids.UPLIFT_KEY, "data"), "results_key": State(ids.RESULTS_KEY, "data")},
        prevent_initial_call=True,
    )
    def show_test(key, results_key):
        try:
            return panel_outputs(load_test(settings, key, results_key))
        except DataError as error:
            return {"summary": common.error_alert(error, title="No campaign test"), "qini": dash.no_update,
                    "deciles": dash.no_update, "model": None, "segments": None}
