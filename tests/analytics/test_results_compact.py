"""The stored tables are compact (repeated texts as categoricals, scores as int8) and say exactly what the
types the pipeline made before said: on Online Retail, the same values, the same customers.csv byte for
byte, and the same output from every analytics consumer, whether it is handed the compact tables or the same
tables in the old types (as results cached before the change still hold them)."""

from dataclasses import replace

import pandas as pd
import pytest

from analytics import insights, pipeline, selection
from analytics import journeys as J
from analytics.audience import AudienceFilter, filter_options, select_audience
from analytics.export import to_safe_csv
from analytics.loading import read_transactions
from analytics.results import REPEATED_TEXT, SMALL_INTEGERS, Results, compact_customers
from analytics.segments import SCORE_COLUMNS
from analytics.uplift.assignment import with_control_group

# the types the pipeline gave these columns before they were made compact
OLD_CUSTOMER_TYPES = {"country": "string", "segment": "string", "action": "string", "cluster_name": "str",
                      "churn_drivers": "str", **{col: "int64" for col in SMALL_INTEGERS}}
OLD_HISTORY_TYPES = {"customer_id": "string", "label": "string", "segment": "string",
                     **{col: "Int64" for col in SCORE_COLUMNS}}


@pytest.fixture(scope="module")
def retail(online_retail_path) -> Results:
    return pipeline.run(read_transactions(online_retail_path), source_name="online_retail.csv.xz")


def old_types(results: Results) -> Results:
    """``results`` with the customer table and journey history in the types the pipeline gave them before."""
    history = results.journeys.history.astype(OLD_HISTORY_TYPES)
    return replace(results, customers=results.customers.astype(OLD_CUSTOMER_TYPES),
                   journeys=replace(results.journeys, history=history))


@pytest.mark.slow
def test_the_stored_tables_are_compact(retail):
    customers, history = retail.customers, retail.journeys.history
    for col in (*REPEATED_TEXT, "customer_id", "label"):
        table = history if col in ("customer_id", "label") else customers
        assert isinstance(table[col].dtype, pd.CategoricalDtype), col
    for col in REPEATED_TEXT:  # sorted categories: sorting by the column still sorts by its text
        categories = customers[col].cat.categories
        assert list(categories) == sorted(categories), col
    assert all(customers[col].dtype == "int8" for col in SMALL_INTEGERS)
    assert all(history[col].dtype == "Int8" for col in SCORE_COLUMNS)
    assert isinstance(history["segment"].dtype, pd.CategoricalDtype)
    # churn drivers repeat enough to be worth a categorical on real data
    assert customers["churn_drivers"].memory_usage(deep=True) < 0.8 * customers["churn_drivers"].astype(
        "str").memory_usage(deep=True)


@pytest.mark.slow
def test_compact_tables_hold_the_same_values_and_write_the_same_csv(retail):
    old = old_types(retail)
    pd.testing.assert_frame_equal(compact_customers(old.customers), retail.customers)
    pd.testing.assert_frame_equal(retail.customers.astype(OLD_CUSTOMER_TYPES), old.customers)
    # the CLI's customers.csv
    assert to_safe_csv(retail.customers.reset_index()) == to_safe_csv(old.customers.reset_index())
    back = retail.journeys.history.astype(OLD_HISTORY_TYPES)
    assert back.equals(old.journeys.history)
    assert J.customer_journey(retail.journeys.history).equals(J.customer_journey(old.journeys.history))


def consumer_outputs(results: Results) -> dict[str, str]:
    """What each analytics consumer of the customer table and the history makes of them, as text."""
    customers, history = results.customers, results.journeys.history
    options = filter_options(customers)
    out = {"options": repr(options), "kpis": repr(insights.kpis(results)),
           "narrative": repr(insights.narrative(results)), "at_risk": repr(insights.at_risk_summary(results)),
           "radar": selection.radar_profile(customers).reindex(list(options.segments)).to_json(),
           "high_value_at_risk": to_safe_csv(selection.high_value_at_risk(customers)[0]),
           "campaign": to_safe_csv(with_control_group(customers, customers["segment"], 10, 3)),
           "segment_counts": repr(list(customers["segment"].value_counts().items()))}
    for by in ("segment", "cluster_name"):
        out[by] = to_safe_csv(selection.group_summary(customers, by=by))
    filters = [{"segments": ["Champions", "At Risk", "not a segment"]}, {"clusters": [options.clusters[0]]},
               {"countries": ["France", "Germany"], "churn_min": 0.5}]
    for i, audience in enumerate(filters):
        chosen = select_audience(customers, AudienceFilter(**audience))
        out[f"audience {i}"] = repr(chosen.to_dict()) + to_safe_csv(chosen.customers)
    a, b = J.snapshots(history)["label"].iloc[-2:]
    out["chain"] = J.chain(history).to_json()
    out["matrix"] = J.transition_matrix(history, a, b).to_json()
    out["headlines"] = repr(J.headlines(history, a, b))
    out["flow"] = to_safe_csv(J.flow_customers(history, a, b, "Champions").join(customers[["clv"]]))
    out["state_counts"] = J.state_counts(history).to_json()
    return out


@pytest.mark.slow
def test_every_consumer_says_the_same_of_compact_and_old_tables(retail):
    assert consumer_outputs(retail) == consumer_outputs(old_types(retail))
