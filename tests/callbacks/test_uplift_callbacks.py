"""Campaign-test callbacks as plain functions, on a real pipeline run of the synthetic retailer."""

from __future__ import annotations

import base64

import pytest

from analytics import pipeline
from analytics.datasets import embedded_campaign, load_dataset
from analytics.errors import DataError
from analytics.params import AnalysisParams
from analytics.uplift import read_assignment
from callbacks import common, uplift, uploads
from settings import Settings
from tests.callbacks.conftest import text_of, values_by_id


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return Settings(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def results_key(settings):
    return pipeline.run_cached(lambda: load_dataset("synthetic"), AnalysisParams(), common.results_cache(settings),
                               source_id="dataset:synthetic", source_name="synthetic")


@pytest.fixture(scope="module")
def test_key(settings, results_key):
    token, sent_on, window = uplift.embedded_upload(settings, results_key)
    assert (sent_on, window) == ("2011-10-15", 30)
    return uplift.measure(settings, token, sent_on, window, results_key)


def test_measured_test_fills_the_panel(settings, results_key, test_key):
    test = uplift.load_test(settings, test_key, results_key)
    shown = uplift.panel_outputs(test)
    summary, qini, deciles, model, segments = (shown[name] for name in ("summary", "qini", "deciles", "model",
                                                                         "segments"))
    text = str(summary)
    assert "Uplift in response rate" in text and "95 % CI" in text and "significant" in text
    assert "Uplift in revenue per customer" in text and "Revenue per customer" in text and "Response rate" in text
    # customers of the file that the log does not hold are named on screen, not silently dropped
    assert "customer(s) in the file are not in the cleaned transaction log" in text
    names = {trace.name for trace in qini.data}
    assert names == {"ranked by uplift model", "ranked by churn probability", "random targeting"}
    assert [trace.name for trace in deciles.data] == ["ranked by uplift model", "ranked by churn probability",
                                                       "random targeting"]
    assert deciles.data[2].y[0] == pytest.approx(test.analysis.evidence.average_uplift * 100)
    assert "Qini coefficient" in str(model) and "Champions" in str(segments)
    assert test.scored.uplift.index.equals(common.load_results(settings, results_key).customers.index)


def test_a_second_measure_is_the_cached_one(settings, results_key, test_key):
    token, sent_on, window = uplift.embedded_upload(settings, results_key)
    assert uplift.measure(settings, token, sent_on, window, results_key) == test_key


@pytest.mark.parametrize(("token", "message"), [
    (None, "no assignment file yet"), ({"upload_id": "../../etc", "filename": "x.csv"}, "upload"),
    ({"upload_id": "a" * 64}, "upload"), ("text", "no file uploaded yet")])
def test_forged_file_tokens_are_refused(settings, results_key, token, message):
    with pytest.raises(DataError, match=message):
        uplift.measure(settings, token, "2011-10-15", 30, results_key)


@pytest.mark.parametrize("key", [None, "nope", "../x" * 3, 12, {"a": 1}])
def test_unknown_or_forged_test_keys(settings, results_key, key):
    with pytest.raises(DataError, match="no campaign test measured yet"):
        uplift.load_test(settings, key, results_key)


def test_a_test_of_other_results_is_refused(settings, test_key):
    with pytest.raises(DataError, match="measured on other data"):
        uplift.load_test(settings, test_key, "another-results-key")


def test_bad_assignment_and_dates_are_messages(settings, results_key):
    bad = uploads.store_upload(settings, "data:text/csv;base64," + base64.b64encode(b"id,arm\n1,x\n").decode(),
                               "bad.csv")
    with pytest.raises(DataError, match="neither treatment nor control: 'x'"):
        uplift.measure(settings, bad, "2011-10-15", 30, results_key)
    token, _, _ = uplift.embedded_upload(settings, results_key)
    with pytest.raises(DataError, match="response window ends 2012-01-04"):
        uplift.measure(settings, token, "2011-12-05", 30, results_key)


def _stored(settings, frame, name: str) -> dict:
    url = "data:text/csv;base64," + base64.b64encode(frame.to_csv(index=False).encode()).decode()
    return uploads.store_upload(settings, url, name)


@pytest.mark.parametrize(("problem", "sent_on", "message"), [
    ("duplicates", "2011-10-15", r"lists 3 customer\(s\) more than once"),
    ("small", "2011-10-15", r"too few customers to compare \(control has \d+ customer\(s\) known"),
    ("absent", "2011-10-15", "none of the 2 customers in the assignment file is in the transaction log"),
    ("spelling", "2011-10-15", r"neither treatment nor control: 'A/B'"),
    ("dates", "2009-01-01", "send date 2009-01-01 is outside the transaction log, which runs from 2010-12-01"),
])
def test_each_bad_test_is_named(settings, results_key, problem, sent_on, message):
    import pandas as pd

    a = embedded_campaign().assignment
    frame = {"duplicates": pd.concat([a, a.head(3).assign(group="control")], ignore_index=True),
             "small": pd.concat([a[a["group"] == "treatment"], a[a["group"] == "control"].head(12)]),
             "absent": pd.DataFrame({"customer_id": ["nobody", "ghost"], "group": ["treatment", "control"]}),
             "spelling": a.assign(group=a["group"].map({"treatment": "treated", "control": "A/B"})),
             "dates": a}[problem]
    with pytest.raises(DataError, match=message):
        uplift.measure(settings, _stored(settings, frame, f"{problem}.csv"), sent_on, 30, results_key)


def test_export_with_control_group_is_the_next_tests_assignment_file(settings, results_key):
    from analytics import selection

    customers = common.load_results(settings, results_key).customers
    rows, _ = selection.high_value_at_risk(customers, 0.3)
    download = uplift.campaign_file(rows, customers["segment"], 20, 7, "at_risk.csv")
    assert download["filename"] == "at_risk.csv"
    assignment = read_assignment(download["content"].encode(), filename="at_risk.csv")
    assert len(assignment) == len(rows)
    shares = (assignment.set_index("customer_id")["group"] == "control").groupby(customers["segment"]).mean()
    sizes = customers.loc[assignment["customer_id"], "segment"].value_counts()
    for segment, share in shares.dropna().items():
        assert abs(share * sizes[segment] - 0.2 * sizes[segment]) <= 0.5
    again = uplift.campaign_file(rows, customers["segment"], 20, 7, "at_risk.csv")
    assert again["content"] == download["content"]


@pytest.mark.parametrize(("share", "seed", "message"), [(150, 0, "between 0 and 90%"), ("lots", 0, "percentage"),
                                                        (10, -1, "seed must be a whole number"),
                                                        (10, "x", "seed")])
def test_bad_control_group_settings_are_messages(settings, results_key, share, seed, message):
    customers = common.load_results(settings, results_key).customers
    with pytest.raises(DataError, match=message):
        uplift.campaign_file(customers.head(20), customers["segment"], share, seed, "x.csv")


def test_a_dropped_file_and_the_embedded_test_fill_the_same_fields(settings, results_key):
    data = "data:text/csv;base64," + base64.b64encode(b"customer_id,group\n1,treatment\n").decode()
    dropped = uplift.received_assignment(settings, data, "mine.csv")
    assert dropped["name"] == "Assignment file: mine.csv" and dropped["error"] is None
    assert dropped["file"]["filename"] == "mine.csv"
    refused = uplift.received_assignment(settings, "not a data url", "mine.csv")
    assert refused["file"] is None and refused["name"] == ""
    assert "the upload of 'mine.csv' arrived damaged" in text_of(refused["error"])
    embedded = uplift.embedded_assignment(settings, results_key)
    assert embedded["name"].endswith("(embedded)") and (embedded["sent_on"], embedded["window"]) == ("2011-10-15", 30)
    assert embedded["error"] is None and set(embedded) == set(dropped) | {"sent_on", "window"}


def test_the_roi_simulator_targets_by_learned_uplift(settings, results_key, test_key):
    """The third uplift source end to end through the ROI callbacks: answer cards, curve, tornado and
    Monte Carlo differ from the assumed uplift; the share link records the source and no customer data;
    saved scenarios and the targeted export (with its control group) work with it; without a test, a message."""
    from urllib.parse import parse_qs, urlsplit

    from analytics.roi import Scenario
    from callbacks import roi
    from callbacks.roi import levers
    from components import ids

    results = common.load_results(settings, results_key)

    def test():
        return uplift.load_test(settings, test_key, results_key)

    given = levers.lever_values(Scenario(audience_size="optimal")) | {"top_n": None}
    learned = given | {"uplift_source": "learned"}
    assumed = roi.simulate(results, given, None, "http://host/", test)
    shown = roi.simulate(results, learned, None, "http://host/", test)
    assert shown["note"] is None, str(shown["note"])
    assert list(shown["curve"].data[0].y) != list(assumed["curve"].data[0].y)
    assert "learned" in str(shown["cards"]) and shown["tornado"].data and shown["distribution"].data
    query = parse_qs(urlsplit(shown["link"]).query)
    assert query["uplift_source"] == ["learned"] and query["results"] == [results_key]
    assert len(shown["link"]) < 1_000 and test_key not in shown["link"]  # the source, not the data

    saved = roi.add_saved(roi.add_saved([], assumed["current"]), shown["current"] | {"name": "Learned"})
    reports, problems = roi.saved_reports(results, saved, test)
    assert problems == [] and [r.scenario.uplift_source for r in reports] == ["given", "learned"]
    assert reports[0].totals.net_profit != reports[1].totals.net_profit
    without, problems = roi.saved_reports(results, saved, None)
    assert len(without) == 1 and "needs a test" in problems[0]

    download = roi.export(results, ids.ROI_EXPORT_TARGETS, None, shown["current"], test)
    exported = read_assignment(download["content"].encode(), filename="roi.csv")
    control = (exported["group"] == "control").mean()
    assert len(exported) == reports[1].targeted_size > 50 and abs(control - 0.10) < 0.02  # the default 10 % control group

    missing = roi.simulate(results, learned, None, "http://host/",
                           lambda: uplift.load_test(settings, None, results_key))
    assert "no campaign test measured yet" in str(missing["note"])


def test_a_test_without_differences_says_so_on_screen_and_the_roi_uses_the_average(settings, results_key):
    """The embedded test with its groups shuffled (no customer responds to the "offer" any more): the panel
    says plainly that the test is too small to show differences, draws no model evidence, and learned uplift
    in the ROI simulator is the measured average with its interval for everyone."""
    import numpy as np

    a = embedded_campaign().assignment
    shuffled = a.assign(group=np.random.default_rng(11).permutation(a["group"].to_numpy()))
    key = uplift.measure(settings, _stored(settings, shuffled, "shuffled.csv"), "2011-10-15", 30, results_key)
    test = uplift.load_test(settings, key, results_key)
    shown = uplift.panel_outputs(test)
    assert "too small to show that customers respond differently" in text_of(shown["summary"])
    assert "the ROI simulator uses it for everyone" in text_of(shown["summary"])
    assert not test.analysis.use_model and not test.scored.per_customer
    assert (test.scored.uplift == test.analysis.measurement.rate_uplift.estimate).all()
    assert test.scored.draws.std() > 0  # the average's own uncertainty goes into the Monte Carlo


def test_every_campaign_export_starts_with_a_ten_percent_control_group():
    """The control group boxes by the explorer's exports and the ROI audience export, as the tabs lay them out."""
    from components import explorer_tab, ids, roi_tab

    wanted = (ids.EXPORT_CONTROL_SHARE, ids.EXPORT_CONTROL_SEED, ids.ROI_CONTROL_SHARE, ids.ROI_CONTROL_SEED)
    found = values_by_id(explorer_tab.layout(), wanted) | values_by_id(roi_tab.layout(), wanted)
    assert found == {ids.EXPORT_CONTROL_SHARE: 10, ids.EXPORT_CONTROL_SEED: 0, ids.ROI_CONTROL_SHARE: 10,
                     ids.ROI_CONTROL_SEED: 0}


def test_a_test_too_small_for_a_model_shows_the_average_only(settings, results_key):
    """60 customers per group: enough to measure the average, too few to learn who responds. The panel says
    so and draws no model evidence; the ROI simulator uses the average."""
    import pandas as pd

    a = embedded_campaign().assignment
    small = pd.concat([a[a["group"] == g].head(60) for g in ("treatment", "control")])
    key = uplift.measure(settings, _stored(settings, small, "small.csv"), "2011-10-15", 30, results_key)
    test = uplift.load_test(settings, key, results_key)
    assert test.analysis.evidence is None and not test.scored.per_customer
    shown = uplift.panel_outputs(test)
    assert "Too few customers to learn who responds" in text_of(shown["summary"])
    assert "a model of who responds needs at least 200 customers" in text_of(shown["summary"])
    assert "too small" in shown["qini"].layout.annotations[0].text and not shown["qini"].data
    assert (test.scored.uplift == test.analysis.measurement.rate_uplift.estimate).all()
