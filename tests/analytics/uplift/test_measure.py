"""Measuring a campaign test from the log: outcomes, the average uplift and its interval, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics import schema as S
from analytics.errors import DataError
from analytics.uplift import measure_campaign
from analytics.uplift.measure import difference


def test_interval_covers_the_true_average_uplift(campaign, cleaned):
    m = measure_campaign(cleaned.lines, campaign.assignment, campaign.sent_on, campaign.window_days, cleaned.as_of)
    truth = campaign.customers.set_index("customer_id").loc[m.outcomes.index, "true_uplift"].mean()
    assert m.rate_uplift.ci_low < truth < m.rate_uplift.ci_high
    assert m.rate_uplift.significant and m.rate_uplift.ci_low > 0
    assert m.treatment.customers + m.control.customers == len(m.outcomes)
    assert abs(m.treatment.customers - m.control.customers) <= 10  # a 50/50 test


def test_outcomes_are_the_purchases_in_the_window(campaign, cleaned):
    m = measure_campaign(cleaned.lines, campaign.assignment, "2011-10-15", "30", cleaned.as_of)
    lines = cleaned.lines
    window = lines[(lines[S.INVOICE_DATE] >= "2011-10-15") & (lines[S.INVOICE_DATE] < "2011-11-14")]
    buyers = set(window.loc[~window[S.IS_RETURN], S.CUSTOMER_ID].astype(str))
    assert m.outcomes["responded"].to_dict() == {c: c in buyers for c in m.outcomes.index}
    revenue = window.groupby(window[S.CUSTOMER_ID].astype(str))[S.REVENUE].sum()
    expected = revenue.reindex(m.outcomes.index, fill_value=0.0)
    np.testing.assert_allclose(m.outcomes["revenue"].to_numpy(), expected.to_numpy())


def test_welch_difference_matches_the_textbook_interval():
    treated = np.r_[np.ones(60), np.zeros(140)]
    control = np.r_[np.ones(40), np.zeros(160)]
    d = difference(treated, control)
    se = np.sqrt(treated.var(ddof=1) / 200 + control.var(ddof=1) / 200)
    assert d.estimate == pytest.approx(0.10)
    assert d.ci_high - d.estimate == pytest.approx(1.966 * se, rel=0.01)  # t with ~ 390 df


def _assignment(ids, groups) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.array(ids, dtype="string"), "group": groups})


@pytest.mark.parametrize(("sent_on", "window", "message"), [
    ("2009-01-01", 30, r"send date 2009-01-01 is outside the transaction log, which runs from 2010-12-01 to 2011-12-09"),
    ("2012-02-01", 30, r"outside the transaction log"),
    ("2011-11-25", 30, r"30-day response window ends 2011-12-25, after the as-of date 2011-12-10.*at most 15 days"),
    ("next tuesday", 30, r"send date must be a date like 2011-10-15, got 'next tuesday'"),
    ("2011-10-15", 0, r"response window must be a whole number of days >= 1, got 0"),
    ("2011-10-15", "2.5", r"whole number of days"),
])
def test_bad_dates_are_named(campaign, cleaned, sent_on, window, message):
    with pytest.raises(DataError, match=message):
        measure_campaign(cleaned.lines, campaign.assignment, sent_on, window, cleaned.as_of)


def test_too_small_a_group_is_an_error(campaign, cleaned):
    a = campaign.assignment
    small = pd.concat([a[a["group"] == "treatment"], a[a["group"] == "control"].head(12)])
    with pytest.raises(DataError, match=r"too few customers to compare \(control has \d+ customer\(s\) known"):
        measure_campaign(cleaned.lines, small, campaign.sent_on, campaign.window_days, cleaned.as_of)


def test_customers_not_in_the_log(campaign, cleaned):
    with pytest.raises(DataError, match="none of the 2 customers in the assignment file is in the transaction log"):
        measure_campaign(cleaned.lines, _assignment(["nobody", "ghost"], ["treatment", "control"]),
                         campaign.sent_on, 30, cleaned.as_of)
    extra = pd.concat([campaign.assignment, _assignment(["99999"], ["control"])], ignore_index=True)
    m = measure_campaign(cleaned.lines, extra, campaign.sent_on, 30, cleaned.as_of)
    absent = len(campaign.assignment) + 1 - len(m.outcomes) - sum("first bought" in n for n in m.notes)
    assert any(f"{absent} customer(s) in the file are not in the cleaned transaction log" in n for n in m.notes)
    assert "99999" not in m.outcomes.index
