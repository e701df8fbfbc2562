"""Scenario levers: validation, conversion to fractions, dict and URL round trips."""

import json
import math
from urllib.parse import quote

import pytest

from analytics.errors import DataError
from analytics.audience import AudienceFilter
from analytics.roi.scenario import Scenario


def full_scenario() -> Scenario:
    return Scenario(
        name="Win-back 12.5 % & friends",
        discount_pct=12.5,
        redemption_pct=62.3,
        redemption_sd_pp=7.25,
        uplift_source="test",
        uplift_pp=3.0,
        uplift_sd_pp=1.1,
        test_treated_pct=12.0,
        test_control_pct=10.0,
        test_treated_n=1000,
        test_control_n=800,
        gross_margin_pct=38.0,
        contact_cost=0.35,
        fixed_cost=2500.0,
        horizon_months=6,
        audience_size=500,
        audience=AudienceFilter(
            segments=("At Risk", "Can't Lose Them"),
            clusters=("big & loyal",),
            churn_min=0.4,
            churn_max=0.95,
            clv_min=150.5,
            countries=("United Kingdom", "EIRE"),
            customer_ids=("12346", "12347"),
        ),
    )


def test_levers_in_fractions():
    levers = Scenario(
        discount_pct=15,
        redemption_pct=80,
        uplift_pp=5,
        uplift_sd_pp=2,
        gross_margin_pct=40,
        contact_cost=1.5,
        fixed_cost=300,
    ).levers()
    assert (levers.discount_fraction, levers.redemption_fraction, levers.uplift_fraction, levers.gross_margin_fraction) == pytest.approx(
        (0.15, 0.8, 0.05, 0.4)
    )
    assert (levers.uplift_sd_fraction, levers.redemption_sd_fraction) == pytest.approx((0.02, 0.1))
    assert (levers.contact_cost, levers.fixed_cost) == (1.5, 300)


def test_uplift_from_a_past_test():
    scenario = Scenario(
        uplift_source="test",
        test_treated_pct=12,
        test_control_pct=10,
        test_treated_n=1000,
        test_control_n=1000,
    )
    uplift, se = scenario.uplift_estimate()
    assert uplift == pytest.approx(0.02)  # 12 % - 10 %
    # sqrt(0.12*0.88/1000 + 0.10*0.90/1000) = sqrt(0.0001056 + 0.00009) = sqrt(0.0001956)
    assert se == pytest.approx(math.sqrt(0.0001956))
    assert scenario.levers().uplift_sd_fraction == pytest.approx(0.013985706)


def test_url_round_trip_default_and_full():
    for scenario in (Scenario(), full_scenario(), Scenario(audience_size="optimal", uplift_pp=-2.5)):
        query = scenario.to_query()
        assert Scenario.from_query(query) == scenario
        assert Scenario.from_query("?" + query) == scenario  # as dcc.Location gives it


def test_url_is_readable_and_ignores_other_keys():
    query = full_scenario().to_query()
    assert (
        "discount_pct=12.5" in query and "segment=At+Risk" in query and "segment=Can%27t+Lose+Them" in query
    )
    restored = Scenario.from_query("tab=roi&" + query + "&theme=dark")
    assert restored == full_scenario()
    partial = Scenario.from_query("discount_pct=20&segment=Lost")
    assert partial.discount_pct == 20 and partial.audience.segments == ("Lost",)
    assert partial.redemption_pct == Scenario().redemption_pct  # missing levers take their defaults


def test_links_issued_before_the_units_rename_still_open():
    """redemption_sd_pct was renamed redemption_sd_pp (it was always percentage points): an older link's key
    still sets the lever, and a link holding both spellings is read by the new one."""
    old = "discount_pct=20&redemption_pct=70&redemption_sd_pct=7&uplift_pp=4&gross_margin_pct=35"
    opened = Scenario.from_query(old)
    assert opened.redemption_sd_pp == 7 and opened.levers().redemption_sd_fraction == pytest.approx(0.07)
    assert "redemption_sd_pp=7" in opened.to_query() and "redemption_sd_pct" not in opened.to_query()
    assert Scenario.from_query(old + "&redemption_sd_pp=3").redemption_sd_pp == 3
    with pytest.raises(DataError, match="redemption_sd_pp must be between 0 and 50"):
        Scenario.from_query("redemption_sd_pct=80")


def test_dict_round_trip_through_json():
    scenario = full_scenario()
    assert Scenario.from_dict(json.loads(json.dumps(scenario.to_dict()))) == scenario


def test_strings_from_inputs_are_coerced():
    scenario = Scenario(discount_pct="20", contact_cost="0.5", test_treated_n="", audience_size="all")
    assert scenario.discount_pct == 20.0 and scenario.contact_cost == 0.5
    assert scenario.test_treated_n is None and scenario.audience_size is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"discount_pct": 150},
            r"discount_pct must be between 0 and 100 \(percent of the order value\); got 150",
        ),
        ({"contact_cost": -1}, r"contact_cost must be >= 0 \(currency per targeted customer\); got -1"),
        ({"fixed_cost": -0.01}, r"fixed_cost must be >= 0"),
        ({"redemption_pct": -5}, r"redemption_pct must be between 0 and 100"),
        ({"gross_margin_pct": 101}, r"gross_margin_pct must be between 0 and 100"),
        ({"discount_pct": None}, r"discount_pct is empty; expected a number"),
        ({"discount_pct": "ten"}, r"discount_pct must be a number \(percent of the order value\); got 'ten'"),
        ({"discount_pct": float("nan")}, r"discount_pct must be a finite number"),
        ({"contact_cost": "inf"}, r"contact_cost must be a finite number"),
        ({"horizon_months": 0}, r"horizon_months must be between"),
        ({"uplift_source": "guess"}, r"uplift_source must be one of given, test, learned; got 'guess'"),
        (
            {"uplift_source": "test", "test_treated_pct": 12},
            r"uplift from a test needs test_control_pct, test_treated_n",
        ),
        (
            {
                "uplift_source": "test",
                "test_treated_pct": 12,
                "test_control_pct": 10,
                "test_treated_n": 2.5,
                "test_control_n": 10,
            },
            r"test_treated_n must be a whole number of customers >= 1; got 2.5",
        ),
        ({"audience_size": -3}, r"audience_size must be a whole number of customers >= 0"),
        ({"audience_size": "most"}, r"audience_size must be a number of customers, 'optimal' or empty"),
    ],
)
def test_bad_levers_are_data_errors(kwargs, message):
    with pytest.raises(DataError, match=message):
        Scenario(**kwargs)


def test_all_problems_reported_at_once():
    with pytest.raises(DataError) as caught:
        Scenario(discount_pct=150, contact_cost=-1)
    assert "discount_pct" in str(caught.value) and "contact_cost" in str(caught.value)


def test_bad_values_in_a_url_are_data_errors():
    with pytest.raises(DataError, match="discount_pct must be between 0 and 100"):
        Scenario.from_query("discount_pct=150")
    with pytest.raises(DataError, match="churn_min 2.0 must be a probability"):
        Scenario.from_query("churn_min=2")
    with pytest.raises(DataError, match="contact_cost must be a number"):
        Scenario.from_query("contact_cost=" + quote("1,5"))


def test_unknown_dict_keys_are_named():
    with pytest.raises(DataError, match="unknown scenario field\\(s\\): discount"):
        Scenario.from_dict({"discount": 10})
