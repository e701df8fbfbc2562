"""Results cached before the customer table and journey history were made compact (texts as strings, scores as
int64) still load and draw exactly what the compact ones draw: the explorer, tower, journeys and ROI
callbacks give the same answer, figures and downloads for the same run stored both ways."""

from __future__ import annotations

import json
from dataclasses import replace

import plotly
import pytest

from analytics import pipeline
from analytics.results import Results
from callbacks import common, explorer, journeys, roi, tower
from components import ids
from tests.analytics.test_results_compact import old_types
from tests.callbacks.conftest import StoredRun
from tests.callbacks.test_roi_callbacks import LEVERS

FILTERS = {"segments": ["Champions", "At Risk", "Lost"], "clusters": [], "countries": [], "churn": [0.2, 1],
           "clv": None}


@pytest.fixture(scope="module")
def old_stored(synthetic_stored) -> StoredRun:
    """The synthetic run stored again, under another key, in the types results had before."""
    results = synthetic_stored.results
    key = "old-types-" + results.key
    old = replace(old_types(results), key=key)
    cache = common.results_cache(synthetic_stored.settings)
    cache.set(key, old)
    cache.set(pipeline.invoices_key(key), cache.get(pipeline.invoices_key(results.key)))
    return StoredRun(synthetic_stored.settings, key, common.load_results(synthetic_stored.settings, key))


def drawn(settings, key: str) -> str:
    """Every callback's output for one stored run, as the JSON the browser gets."""
    results: Results = common.load_results(settings, key)
    out = {"profiles": explorer.profiles(results), "tower": tower.tower_outputs(results),
           "roi_options": roi.audience_options(results.customers, {}),
           "views": explorer.filtered_views(results, "cluster_name", **FILTERS),
           "selection": explorer.export(results, ids.EXPORT_SELECTION, None, **FILTERS),
           "at_risk": explorer.export(results, ids.EXPORT_AT_RISK, None),
           "summary": explorer.export(results, ids.EXPORT_SUMMARY, None),
           "roi": roi.simulate(results, LEVERS | {"segments": ["At Risk", "Lost", "Hibernating"]}, None, None),
           "roi_targets": roi.export(results, ids.ROI_EXPORT_TARGETS, None,
                                     roi.scenario_from_levers(LEVERS | {"size_mode": "all"}, None).to_dict())}
    out["roi"].pop("link")  # (it names the results key)
    for period, inactive in (("Q", 180), ("M", 90)):  # the stored history, and one computed from the invoices
        controls = journeys.snapshot_controls(settings, key, period, inactive, (None, None))
        a, b = controls["from"], controls["to"]
        out[f"journeys {period}"] = {
            "controls": controls, "view": journeys.journey_view(settings, key, period, inactive, a, b, True, "to"),
            "flow": journeys.flow_view(settings, key, period, inactive, a, b, "Champions", None),
            "export": journeys.flow_export(settings, key, period, inactive, a, b, None, "Inactive")}
    return json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)


def test_results_cached_in_the_old_types_draw_the_same(synthetic_stored, old_stored):
    assert old_stored.results.customers["segment"].dtype == "string"
    assert drawn(old_stored.settings, old_stored.key) == drawn(synthetic_stored.settings, synthetic_stored.key)
