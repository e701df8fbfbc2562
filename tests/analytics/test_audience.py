"""The one audience filter (explorer and ROI): filters, uploaded ID lists (unknown IDs reported), clear errors,
filter options, and the one "at risk" rule."""

import numpy as np
import pandas as pd
import pytest

from analytics.errors import DataError
from analytics.audience import (
    AT_RISK_CHURN_PROBABILITY,
    AudienceFilter,
    filter_options,
    is_at_risk,
    normalise_id,
    read_id_list,
    select_audience,
)


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["Champions", "At Risk", "At Risk", "Lost", "Can't Lose Them", "Champions"],
            "cluster_name": ["big spenders", "lapsing", "lapsing", "one-off", "big spenders", "lapsing"],
            "churn_probability": [0.1, 0.6, 0.9, 0.95, 0.5, np.nan],
            "clv": [900.0, 300.0, 50.0, 5.0, 1200.0, 400.0],
            "country": ["United Kingdom", "France", "United Kingdom", "Germany", "France", "United Kingdom"],
        },
        index=pd.Index(
            ["12346", "12347", "12348", "12349", "12350", "12351"], name="customer_id", dtype="string"
        ),
    )


def ids(selection) -> list[str]:
    return list(selection.customers.index)


def test_no_filter_selects_everyone(customers):
    selection = select_audience(customers)
    assert ids(selection) == list(customers.index)
    assert selection.steps == [("all customers", 6)] and selection.notes == []


def test_segments_are_ored_and_filters_anded(customers):
    selection = select_audience(
        customers, AudienceFilter(segments=("At Risk", "Can't Lose Them"), countries=("France",))
    )
    assert ids(selection) == ["12347", "12350"]
    assert [count for _, count in selection.steps] == [6, 3, 2]


def test_cluster_filter(customers):
    assert ids(select_audience(customers, AudienceFilter(clusters=("big spenders",)))) == ["12346", "12350"]


def test_churn_range_is_inclusive_and_missing_churn_fails(customers):
    selection = select_audience(customers, AudienceFilter(churn_min=0.5, churn_max=0.9))
    assert ids(selection) == ["12347", "12348", "12350"]  # 0.6, 0.9 and 0.5; NaN (12351) excluded
    assert ids(select_audience(customers, AudienceFilter(churn_min=0.9))) == ["12348", "12349"]


def test_clv_floor_and_range(customers):
    assert ids(select_audience(customers, AudienceFilter(clv_min=400))) == ["12346", "12350", "12351"]
    selection = select_audience(customers, AudienceFilter(clv_min=50, clv_max=400))
    assert ids(selection) == ["12347", "12348", "12351"] and selection.steps[-1] == ("CLV 50-400", 3)
    assert ids(select_audience(customers, AudienceFilter(clv_max=50))) == ["12348", "12349"]


def test_at_risk_is_at_least_the_threshold_and_missing_is_not_at_risk(customers):
    assert AT_RISK_CHURN_PROBABILITY == 0.5
    # 0.5 exactly (12350) is at risk: the tower, explorer, ROI and CLI all use this one rule
    assert list(customers.index[is_at_risk(customers["churn_probability"])]) == ["12347", "12348", "12349", "12350"]
    assert not is_at_risk(pd.Series(["n/a", None])).any()


def test_filter_options_follow_the_columns_present(customers):
    choices = filter_options(customers)
    assert choices.segments == ("Champions", "Can't Lose Them", "At Risk", "Lost")  # RFM order, not alphabetical
    assert choices.clusters == ("big spenders", "lapsing", "one-off")
    assert choices.countries[0] == "United Kingdom"  # most customers first
    assert choices.clv_max == 1200.0 and choices.note() == ""
    bare = filter_options(customers[["segment"]])
    assert bare.clusters == () and bare.clv_max is None and not bare.has_churn
    assert bare.note() == "Not in these results, so not available as a filter: clusters, countries, churn probability, CLV."


def test_filter_options_are_counted_then_named_as_text(customers):
    # a categorical column lists unused categories, and numbers are offered as text, as the filters send them
    countries = pd.Categorical(customers["country"], categories=[*customers["country"].unique(), "Peru"])
    mixed = customers.assign(country=countries, cluster_name=[2, 1, 1, 0, 10, 2])
    choices = filter_options(mixed)
    assert "Peru" not in choices.countries and choices.countries[0] == "United Kingdom"
    assert choices.clusters == ("0", "1", "10", "2")


def test_uploaded_ids_unknown_reported_not_dropped_silently(customers):
    uploaded = ["12347", "99999", "12350.0", "12347", "ABC"]
    selection = select_audience(customers, AudienceFilter(customer_ids=uploaded))
    assert ids(selection) == ["12347", "12350"]  # "12350.0" read as 12350
    assert selection.unknown_ids == ("99999", "ABC")
    assert selection.duplicate_ids == ("12347",)
    assert any(
        "2 of 4 uploaded customer IDs are not in the data: 99999, ABC" in note for note in selection.notes
    )
    assert selection.to_dict()["unknown_ids"] == ["99999", "ABC"]


def test_uploaded_ids_combine_with_filters(customers):
    selection = select_audience(
        customers, AudienceFilter(customer_ids=["12346", "12347"], segments=["Champions"])
    )
    assert ids(selection) == ["12346"]


def test_absent_filter_value_is_noted(customers):
    selection = select_audience(customers, AudienceFilter(segments=("Champion",)))
    assert selection.n == 0
    assert any("no customer has segment 'Champion'" in note for note in selection.notes)
    assert any("no customer matches" in note for note in selection.notes)


def test_missing_column_is_a_clear_error(customers):
    with pytest.raises(DataError, match="by country: the customer table has no column 'country'"):
        select_audience(customers.drop(columns="country"), AudienceFilter(countries=("France",)))


def test_duplicate_customer_ids_are_an_error(customers):
    doubled = pd.concat([customers, customers.iloc[:1]])
    with pytest.raises(DataError, match="duplicate customer IDs: 12346"):
        select_audience(doubled)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"churn_min": 1.5}, "churn_min 1.5 must be a probability"),
        ({"churn_min": 0.8, "churn_max": 0.2}, "churn_min 0.8 is above churn_max 0.2"),
        ({"clv_min": "lots"}, "clv_min must be a number; got 'lots'"),
        ({"clv_min": 10, "clv_max": 5}, "clv_min 10.0 is above clv_max 5.0"),
    ],
)
def test_bad_filter_values(kwargs, message):
    with pytest.raises(DataError, match=message):
        AudienceFilter(**kwargs)


def test_filter_dict_round_trip():
    audience = AudienceFilter(segments=["At Risk"], churn_min="0.5", clv_min=10, customer_ids=["1.0", "2"])
    assert audience.customer_ids == ("1", "2") and audience.churn_min == 0.5
    assert AudienceFilter.from_dict(audience.to_dict()) == audience
    assert AudienceFilter().is_empty() and not audience.is_empty()
    with pytest.raises(DataError, match="unknown audience field"):
        AudienceFilter.from_dict({"segmnet": ["x"]})


def test_read_id_list_formats():
    assert read_id_list("CustomerID\n12346\n12347.0\n\n 12348 \n") == ["12346", "12347", "12348"]
    assert read_id_list(b"\xef\xbb\xbfcustomer_id;12346;12347") == ["12346", "12347"]
    assert read_id_list('"A1", "B2",C3') == ["A1", "B2", "C3"]
    assert read_id_list("") == []
    assert normalise_id(" 17850.0 ") == "17850" and normalise_id("17850.5") == "17850.5"
