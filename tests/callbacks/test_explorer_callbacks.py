"""Segment explorer callbacks as functions on real runs: options, filtered views, at-risk list, exports."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from dash.exceptions import PreventUpdate

from analytics.audience import filter_options, is_at_risk
from analytics.selection import high_value_at_risk
from callbacks import explorer
from components import ids
from tests.callbacks.conftest import text_of

NO_FILTER = {"segments": [], "clusters": [], "countries": [], "churn": [0, 1], "clv": None}


def _csv(download: dict) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(download["content"]), dtype={"customer_id": str}).set_index("customer_id")


def test_profiles_offer_the_filters_the_results_can_serve(synthetic_stored):
    results = synthetic_stored.results
    shown = explorer.profiles(results)
    choices = filter_options(results.customers)
    assert [o["value"] for o in shown["segments"]] == list(choices.segments)
    assert [o["value"] for o in shown["countries"]] == list(choices.countries) and choices.countries
    assert [o["value"] for o in shown["clusters"]] == sorted(results.customers["cluster_name"].dropna().unique())
    assert shown["clv_max"] == np.ceil(results.customers["clv"].max()) and shown["clv_value"] == [0.0, shown["clv_max"]]
    assert "Cluster profiles" in text_of(shown["diagnostics"])


def test_filters_select_the_same_customers_as_a_pandas_query(synthetic_stored):
    customers = synthetic_stored.results.customers
    everyone = explorer.filtered_views(synthetic_stored.results, "segment", **NO_FILTER)
    assert everyone["count"] == f"{len(customers):,} of {len(customers):,} customers selected"
    country = customers["country"].value_counts().index[0]
    wanted = NO_FILTER | {"segments": ["Champions", "At Risk"], "countries": [country], "churn": [0.2, 1]}
    shown = explorer.filtered_views(synthetic_stored.results, "cluster_name", **wanted)
    expected = customers[customers["segment"].isin(["Champions", "At Risk"]) & (customers["country"] == country)
                         & (customers["churn_probability"] >= 0.2)]
    assert shown["count"] == f"{len(expected):,} of {len(customers):,} customers selected"
    assert {row["segment"] for row in shown["rows"]} <= {"Champions", "At Risk"}
    assert shown["scatter"].data  # coloured by cluster: one trace per cluster present


def test_a_filter_these_results_cannot_serve_is_named(cdnow_stored):
    forged = NO_FILTER | {"countries": ["France"]}  # CDNOW has no countries: the control is empty, the request forged
    shown = explorer.filtered_views(cdnow_stored.results, "segment", **forged)
    assert "has no column 'country'" in text_of(shown["count"]) and shown["rows"] == []
    with pytest.raises(PreventUpdate):
        explorer.export(cdnow_stored.results, ids.EXPORT_SELECTION, None, **forged)


def test_the_selection_export_holds_every_chosen_customer(synthetic_stored):
    customers = synthetic_stored.results.customers
    clv_top = float(np.ceil(customers["clv"].max()))
    wanted = NO_FILTER | {"segments": ["Champions"], "clv": [100, clv_top]}
    exported = _csv(explorer.export(synthetic_stored.results, ids.EXPORT_SELECTION, None, **wanted))
    expected = customers[(customers["segment"] == "Champions") & (customers["clv"] >= 100)]
    assert sorted(exported.index) == sorted(expected.index)


def test_the_at_risk_export_uses_the_one_at_risk_rule(cdnow_stored):
    results = cdnow_stored.results
    exported = _csv(explorer.export(results, ids.EXPORT_AT_RISK, None, **NO_FILTER))
    rows, definition = high_value_at_risk(results.customers)
    assert list(exported.index) == list(rows.index) and len(rows) > 0
    assert is_at_risk(exported["churn_probability"]).all()  # churn probability >= 0.5, as on the tower
    assert exported["clv"].min() >= results.customers["clv"].quantile(0.75) - 1e-9
    assert explorer.at_risk_definition(results, None) == definition
    assert "at least 60%" in explorer.at_risk_definition(results, 0.6)
    summary = pd.read_csv(io.StringIO(explorer.export(results, ids.EXPORT_SUMMARY, None, **NO_FILTER)["content"]))
    assert summary["customers"].sum() == len(results.customers)


@pytest.mark.parametrize("which", [ids.EXPORT_AT_RISK, ids.EXPORT_SELECTION])
def test_campaign_lists_carry_a_seeded_control_group_of_ten_percent_per_segment(synthetic_stored, which):
    """Both campaign lists of the explorer hold a ``group`` column: by default 10 % of each segment held out,
    the same file for the same seed, another for another seed (the next test's assignment file)."""
    results = synthetic_stored.results
    exported = _csv(explorer.export(results, which, None, **NO_FILTER))
    assert exported.columns[0] == "group" and set(exported["group"]) == {"treatment", "control"}
    segment = results.customers.loc[exported.index, "segment"]
    control = (exported["group"] == "control").groupby(segment).sum()
    sizes = segment.value_counts()
    for name, n in sizes.items():
        assert abs(control.get(name, 0) - 0.10 * n) <= 0.5, name  # 10 %, rounded within the segment
    again = explorer.export(results, which, None, **NO_FILTER)["content"]
    assert again == explorer.export(results, which, None, 10, 0, **NO_FILTER)["content"]
    other = _csv(explorer.export(results, which, None, 25, 3, **NO_FILTER))
    assert not other["group"].equals(exported["group"])
    assert abs((other["group"] == "control").mean() - 0.25) < 0.02
