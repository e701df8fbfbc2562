"""Data tab: the quality report and the navbar summary of a real run."""

from __future__ import annotations

from callbacks.data import quality_outputs
from components import formatting as fmt
from tests.callbacks.conftest import text_of


def test_the_summary_names_the_source_customers_dates_and_as_of(cdnow_stored):
    results = cdnow_stored.results
    shown = quality_outputs(results)
    assert shown["summary"] == (f"cdnow_sample · {len(results.customers):,} customers · 1997-01-01 to 1998-06-30 · "
                                "as of 1998-07-01")
    report = text_of(shown["report"])
    for rule in results.quality["rules"]:  # one row per cleaning rule, with its count
        assert rule["rule"].replace("_", " ") in report
    assert fmt.count(results.quality["rows_in"]) in report
