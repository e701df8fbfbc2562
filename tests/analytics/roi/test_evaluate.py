"""The one-call API a callback uses: evaluate a scenario on a customer table, compare scenarios."""

import json

import numpy as np
import pandas as pd
import pytest

from analytics.errors import DataError
from analytics.roi import AudienceFilter, Scenario, compare, evaluate


@pytest.fixture
def table() -> pd.DataFrame:
    # customers a, b, c as in test_economics (values a 6, b -3, c -5.75 with the levers below);
    # d is in France
    return pd.DataFrame(
        {
            "segment": ["At Risk", "At Risk", "Champions", "Lost"],
            "country": ["UK", "UK", "UK", "France"],
            "p_purchase": [0.0, 0.5, 0.95, 0.3],
            "expected_spend": [200.0, 100.0, 50.0, 10.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def uk(**changes) -> Scenario:
    levers = dict(
        discount_pct=20,
        redemption_pct=50,
        redemption_sd_pp=0,
        uplift_pp=10,
        uplift_sd_pp=0,
        gross_margin_pct=50,
        contact_cost=2,
        fixed_cost=0,
        audience=AudienceFilter(countries=["UK"]),
    )
    return Scenario(**(levers | changes))


def test_everyone_selected_by_hand(table):
    report = evaluate(table, uk(fixed_cost=10))
    assert report.selection.n == 3 and report.targeted_size == 3
    assert report.totals.net_profit == pytest.approx(-12.75)  # 6 - 3 - 5.75 - 10
    assert report.curve.optimal_size == 0
    assert any("target nobody" in w for w in report.warnings)
    assert report.monte_carlo.prob_profit == 0.0  # no uncertainty: always the base loss
    assert report.customers["targeted"].all()


@pytest.mark.parametrize(("size", "targeted", "net"), [("optimal", 1, 6.0), (2, 2, 3.0), (0, 0, 0.0)])
def test_top_n_and_optimal_audience(table, size, targeted, net):
    report = evaluate(table, uk(audience_size=size))
    assert report.targeted_size == targeted
    assert report.totals.net_profit == pytest.approx(net)
    assert report.customers["targeted"].tolist() == [i < targeted for i in range(3)]
    assert list(report.customers.index) == ["a", "b", "c"]


def test_too_large_audience_size_is_noted(table):
    report = evaluate(table, uk(audience_size=10))
    assert report.targeted_size == 3
    assert any("more than the 3 selected" in w for w in report.warnings)


def test_to_dict_is_strict_json(table):
    report = evaluate(table, uk(uplift_sd_pp=2, redemption_sd_pp=10, audience_size="optimal"), n_sims=300)
    text = json.dumps(report.to_dict(), allow_nan=False)
    data = json.loads(text)
    assert data["totals"]["net_profit"] == pytest.approx(6.0)
    assert [row["scenario"] for row in data["scenarios"]] == ["pessimistic", "base", "optimistic"]
    assert data["monte_carlo"]["n_sims"] == 300 and sum(b["count"] for b in data["histogram"]) == 300
    assert data["curve"][0]["audience_size"] == 0 and len(data["tornado"]) == 6
    assert Scenario.from_dict(data["scenario"]) == report.scenario


def test_empty_audience_is_a_clear_error(table):
    with pytest.raises(DataError, match="audience is empty.*country in Spain: 0"):
        evaluate(table, uk(audience=AudienceFilter(countries=["Spain"])))


def test_unknown_uploaded_ids_reach_the_report(table):
    report = evaluate(table, uk(audience=AudienceFilter(customer_ids=["a", "zz"])))
    assert report.selection.unknown_ids == ("zz",) and report.totals.n_customers == 1
    assert report.to_dict()["audience"]["unknown_ids"] == ["zz"]


def test_horizon_reaches_a_p0_model(table):
    def p0_model(frame, horizon_months):
        return np.full(len(frame), horizon_months / 12)

    report = evaluate(table, uk(horizon_months=6), p0=p0_model)
    assert report.customers["p0"].tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_compare_side_by_side(table):
    reports = [
        evaluate(table, uk(name="10 %", discount_pct=10)),
        evaluate(table, uk(name="30 %", discount_pct=30)),
    ]
    frame = compare(reports)
    assert frame["name"].tolist() == ["10 %", "30 %"]
    # a bigger discount on the same audience costs more and earns less
    assert frame["discount_cost"][1] > frame["discount_cost"][0]
    assert frame["net_profit"][1] < frame["net_profit"][0]
    assert "prob_profit" in frame and frame.to_csv(index=False).startswith("name,")


def test_customers_without_model_inputs_are_left_out_and_listed(table):
    table.loc["b", "expected_spend"] = np.nan
    report = evaluate(table, uk())
    assert list(report.customers.index) == ["a", "c"]
    assert report.totals.net_profit == pytest.approx(6.0 - 5.75)  # a and c as before
    assert any(
        "1 selected customers have no baseline purchase probability" in w and ": b" in w
        for w in report.warnings
    )
    table["expected_spend"] = np.nan
    with pytest.raises(DataError, match="no selected customer has model inputs"):
        evaluate(table, uk())


def test_missing_model_columns_are_named_with_the_real_columns(table):
    with pytest.raises(DataError, match="no column 'p_buy'.*columns are: segment, country, p_purchase"):
        evaluate(table, uk(), p0="p_buy")
    with pytest.raises(DataError, match="no column 'expected_spend'.*columns are: segment, country"):
        evaluate(table.drop(columns="expected_spend"), uk())
    clv_style = table.drop(columns="p_purchase").assign(p_no_purchase=1 - table["p_purchase"])
    assert evaluate(clv_style, uk()).totals.net_profit == pytest.approx(
        evaluate(table, uk()).totals.net_profit
    )


def test_out_of_range_model_inputs_are_errors(table):
    table.loc["c", "p_purchase"] = 1.2
    with pytest.raises(DataError, match="first: c=1.2"):
        evaluate(table, uk())
