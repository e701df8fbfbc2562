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


def panel_outputs(test: CampaignTest) -> tuple:
    analysis = test.analysis
    evidence = analysis.evidence
    return (uplift_panel.measurement(analysis),
            figures.qini_figure(evidence.curves if evidence else None),
            figures.decile_figure(evidence.deciles if evidence else None),
            uplift_panel.evidence(analysis), uplift_panel.segments(analysis.segments))


def register(app: dash.Dash) -> None:
    settings = app.server.config["RCT_SETTINGS"]

    @app.callback(
        Output(ids.UPLIFT_FILE, "data"), Output(ids.UPLIFT_FILE_NAME, "children"),
        Output(ids.UPLIFT_ERROR, "children", allow_duplicate=True),
        Input(ids.UPLIFT_UPLOAD, "contents"), State(ids.UPLIFT_UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def receive_assignment(contents, filename):
        try:
            token = uploads.store_upload(settings, contents or "", str(filename or "assignment.csv"))
        except DataError as error:
            return None, "", common.error_alert(error)
        return token, f"Assignment file: {token['filename']}", None

    @app.callback(
        Output(ids.UPLIFT_FILE, "data", allow_duplicate=True),
        Output(ids.UPLIFT_FILE_NAME, "children", allow_duplicate=True),
        Output(ids.UPLIFT_SENT_ON, "value"), Output(ids.UPLIFT_WINDOW, "value"),
        Output(ids.UPLIFT_ERROR, "children", allow_duplicate=True),
        Input(ids.UPLIFT_EMBEDDED, "n_clicks"), State(ids.RESULTS_KEY, "data"),
        prevent_initial_call=True,
    )
    def use_embedded(_clicks, results_key):
        try:
            token, sent_on, window = embedded_upload(settings, results_key)
        except DataError as error:
            return dash.no_update, dash.no_update, dash.no_update, dash.no_update, common.error_alert(error)
        return token, f"Assignment file: {token['filename']} (embedded)", sent_on, window, None

    @app.callback(
        Output(ids.UPLIFT_KEY, "data"), Output(ids.UPLIFT_ERROR, "children"),
        Input(ids.UPLIFT_RUN, "n_clicks"),
        State(ids.UPLIFT_FILE, "data"), State(ids.UPLIFT_SENT_ON, "value"), State(ids.UPLIFT_WINDOW, "value"),
        State(ids.RESULTS_KEY, "data"),
        background=True, progress=[Output(ids.UPLIFT_PROGRESS, "children")], progress_default=[""],
        running=[(Output(ids.UPLIFT_RUN, "disabled"), True, False)],
        prevent_initial_call=True,
    )
    def run_test(set_progress, _clicks, token, sent_on, window_days, results_key):
        try:
            key = measure(settings, token, sent_on, window_days, results_key, lambda m: set_progress((m,)))
        except DataError as error:
            return dash.no_update, common.error_alert(error, title="This campaign test cannot be measured")
        except Exception:  # a bug must reach the user as a message, not a silent spinner
            logger.exception("campaign test failed")
            return dash.no_update, common.error_alert("measuring the test failed unexpectedly; the server log "
                                                      "has the details", title="Something went wrong")
        return key, None

    @app.callback(
        Output(ids.UPLIFT_SUMMARY, "children"), Output(ids.UPLIFT_QINI, "figure"),
        Output(ids.UPLIFT_DECILES, "figure"), Output(ids.UPLIFT_MODEL, "children"),
        Output(ids.UPLIFT_SEGMENTS, "children"),
        Input(ids.UPLIFT_KEY, "data"), State(ids.RESULTS_KEY, "data"),
        prevent_initial_call=True,
    )
    def show_test(key, results_key):
        try:
            return panel_outputs(load_test(settings, key, results_key))
        except DataError as error:
            return (common.error_alert(error, title="No campaign test"), dash.no_update, dash.no_update,
                    None, None)
