"""analytics.insights: KPIs and narrative checked against numbers computed here from the raw lines."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from analytics import insights, schema
from analytics.errors import ModelFailure
from analytics.trends import window_retention


@pytest.fixture(scope="module")
def cdnow(cdnow_run):
    return cdnow_run.results, cdnow_run.lines


def by_key(items):
    return {k["key"]: k for k in items}


def purchases(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.loc[~lines[schema.IS_RETURN]]


def test_kpis_match_counts_from_the_lines(cdnow):
    results, lines = cdnow
    kpis = by_key(insights.kpis(results))
    as_of = results.as_of
    buys = purchases(lines)
    assert kpis["customers"]["value"] == buys[schema.CUSTOMER_ID].nunique() == len(results.customers)
    window = results.params.churn_window_days
    recent = buys.loc[buys[schema.INVOICE_DATE] >= as_of - pd.Timedelta(days=window), schema.CUSTOMER_ID]
    assert kpis["active"]["value"] == recent.nunique()
    # CDNOW's as-of date is 1 Jul 1998, so the 12 complete months are Jul 1997 - Jun 1998 exactly
    assert as_of == pd.Timestamp("1998-07-01")
    in_period = lines.loc[lines[schema.INVOICE_DATE] >= pd.Timestamp("1997-07-01"), schema.REVENUE].sum()
    assert kpis["revenue"]["value"] == pytest.approx(in_period)
    assert "Jul 1997" in kpis["revenue"]["definition"] and "Jun 1998" in kpis["revenue"]["definition"]


def test_retention_rate_by_hand_from_both_windows(cdnow):
    results, lines = cdnow
    window = results.params.churn_window_days
    latest = results.as_of - pd.Timedelta(days=window)
    previous = latest - pd.Timedelta(days=window)
    buys = purchases(lines)
    dates = buys[schema.INVOICE_DATE]
    before = set(buys.loc[(dates >= previous) & (dates < latest), schema.CUSTOMER_ID])
    after = set(buys.loc[dates >= latest, schema.CUSTOMER_ID])
    retention = results.retention  # computed by the pipeline run, stored with the results
    assert (retention.n_previous, retention.n_retained) == (len(before), len(before & after))
    kpi = by_key(insights.kpis(results))["retention"]
    assert kpi["value"] == pytest.approx(len(before & after) / len(before))
    assert f"{window} days" in kpi["definition"] and f"of {len(before):,} buyers" in kpi["caption"]
    assert any(s.startswith(f"Of the {len(before):,} customers who bought between") for s in
               insights.narrative(results))


def test_window_retention_on_a_hand_made_log():
    as_of = pd.Timestamp("2020-03-01")
    rows = [
        ("A", "2020-01-05", 10.0), ("A", "2020-02-10", 10.0),   # both windows: retained
        ("B", "2020-01-10", 10.0),                              # previous only
        ("C", "2020-02-20", 10.0),                              # latest only: not in the population
        ("D", "2020-01-15", 10.0), ("D", "2020-02-15", -10.0),  # a return is not a purchase
        ("E", "2020-01-20", 10.0), ("E", "2020-01-31", 10.0),   # bought on the latest window's first day
        ("F", "2019-12-01", 10.0), ("F", "2020-02-01", 10.0),   # before the previous window
    ]
    lines = pd.DataFrame(rows, columns=[schema.CUSTOMER_ID, schema.INVOICE_DATE, schema.REVENUE])
    lines[schema.INVOICE_DATE] = pd.to_datetime(lines[schema.INVOICE_DATE])
    lines[schema.IS_RETURN] = lines[schema.REVENUE] < 0
    out = window_retention(lines, as_of, 30)
    assert out.latest_start == pd.Timestamp("2020-01-31")
    assert out.previous_start == pd.Timestamp("2020-01-01")
    assert (out.n_previous, out.n_retained) == (4, 2)  # A, B, D, E; A and E came back
    assert out.rate_fraction == pytest.approx(0.5)
    restricted = window_retention(lines, as_of, 30, customers=pd.Index(["A", "B"]))
    assert (restricted.n_previous, restricted.n_retained) == (2, 1)
    assert window_retention(lines.iloc[0:0], as_of, 30).rate_fraction is None


def test_model_kpis_say_what_they_need_instead_of_a_number(clv_failed_run):
    results = clv_failed_run.results
    assert isinstance(results.clv, ModelFailure)
    kpis = by_key(insights.kpis(results))
    for key in ("revenue_at_risk", "clv"):
        assert kpis[key]["value"] is None
        assert kpis[key]["caption"] == insights.NEEDS_CLV
    assert all(k["definition"] for k in kpis.values())


def test_without_a_churn_model_the_segments_stand_in(cdnow):
    """A run whose churn stage failed (its columns absent, its record a ModelFailure): the at-risk count
    comes from the segments, and the definition says so."""
    results, _ = cdnow
    failed = replace(results, churn=ModelFailure("churn could not be fitted"),
                     customers=results.customers.drop(columns=["churn_probability", "churn_drivers"]))
    kpi = by_key(insights.kpis(failed))["at_risk"]
    assert kpi["value"] == results.customers["segment"].isin(insights.AT_RISK_SEGMENTS).sum()
    assert "no churn model" in kpi["definition"]


def test_model_kpis_from_the_model_columns(cdnow):
    results, _ = cdnow
    kpis = by_key(insights.kpis(results))
    customers = results.customers
    at_risk = customers["churn_probability"] >= 0.5
    assert kpis["at_risk"]["value"] == at_risk.sum()
    assert "churn probability" in kpis["at_risk"]["definition"]
    assert kpis["revenue_at_risk"]["value"] == pytest.approx(customers.loc[at_risk, "clv"].sum())
    assert kpis["clv"]["value"] == pytest.approx(customers["clv"].sum())
    assert "12 months" in kpis["clv"]["definition"] and "30%" in kpis["clv"]["definition"]


def test_revenue_uses_complete_months_only():
    monthly = pd.DataFrame({
        "month": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]),
        "net_revenue": [100.0, 200.0, 400.0],
        "active_customers": [1, 2, 3], "new_customers": [1, 1, 1],
    })
    # 15 March: March is partial and left out; only two complete months exist
    out = insights.revenue_in_period(monthly, pd.Timestamp("2020-03-15"))
    assert (out["value"], out["months"]) == (300.0, 2)
    assert insights.revenue_in_period(monthly, pd.Timestamp("2020-04-01"))["value"] == 700.0
    # a month without activity counts as zero rather than disappearing
    gap = monthly.drop(index=1)
    table = insights.complete_months(gap, pd.Timestamp("2020-04-01"))
    assert table["net_revenue"].tolist() == [100.0, 0.0, 400.0]


def test_narrative_is_templated_from_the_numbers(cdnow):
    results, lines = cdnow
    sentences = insights.narrative(results)
    assert 3 <= len(sentences) <= 5
    text = " ".join(sentences)
    customers = results.customers
    share = customers.groupby("segment")["monetary"].sum() / customers["monetary"].sum()
    top = share.idxmax()
    assert f"{top} are" in text and f"{share.max() * 100:.1f} %" in text
    monthly = results.monthly.set_index("month")["net_revenue"]
    june, may = monthly[pd.Timestamp("1998-06-01")], monthly[pd.Timestamp("1998-05-01")]
    direction = "down" if june < may else "up"
    assert "In June 1998" in text and f"{direction} {abs(june / may - 1) * 100:.1f} % on May" in text
    # change the data and the sentences change with it
    changed = replace(results, customers=customers.assign(
        monetary=customers["monetary"].where(customers["segment"] != top, customers["monetary"] * 0.01)))
    assert insights.narrative(changed)[0] != sentences[0]


def test_narrative_with_models_reports_clv_at_risk(cdnow):
    results, _ = cdnow
    sentence = next(s for s in insights.narrative(results) if "CLV" in s)
    customers = results.customers
    at_risk = customers["churn_probability"] >= 0.5
    share = customers.loc[at_risk, "clv"].sum() / customers["clv"].sum()
    assert f"{at_risk.sum():,} customers" in sentence and f"{share * 100:.1f} %" in sentence


def test_cdnow_reference_reproduces_the_published_estimates():
    table = insights.cdnow_reference()
    assert len(table) == 7
    assert table["reproduced"].to_numpy() == pytest.approx(table["published"].to_numpy(), rel=0.01)
    assert table.attrs["n_repeat_buyers"] == 946
