"""Per-customer summaries: hand-computed cases, the CDNOW calibration summary of Fader & Hardie, bad input."""

import numpy as np
import pandas as pd
import pytest

from analytics.clv import calibration_holdout, purchase_days, rfm_summary
from analytics.errors import DataError


def _lines(rows, *, with_revenue=True):
    """Canonical lines from (customer, timestamp, quantity, unit_price) tuples."""
    customers, dates, quantity, price = zip(*rows)
    frame = pd.DataFrame(
        {
            "customer_id": pd.array(customers, dtype="string"),
            "invoice_id": pd.array([f"i{k}" for k in range(len(rows))], dtype="string"),
            "invoice_date": pd.to_datetime(list(dates)).astype("datetime64[ns]"),
            "quantity": np.array(quantity, dtype=float),
            "unit_price": np.array(price, dtype=float),
        }
    )
    if with_revenue:
        frame["revenue"] = frame["quantity"] * frame["unit_price"]
        frame["is_return"] = frame["quantity"] < 0
    return frame


ROWS = [
    # A: two purchases on 1 Jan (one purchase worth 50), 4 Jan (40), 8 Jan on two lines (60), a return
    ("A", "2021-01-01 10:00", 2, 10.0),
    ("A", "2021-01-01 15:00", 1, 30.0),
    ("A", "2021-01-04 09:00", 4, 10.0),
    ("A", "2021-01-08 11:00", 1, 25.0),
    ("A", "2021-01-08 11:00", 1, 35.0),
    ("A", "2021-01-09 12:00", -1, 10.0),
    # B: one purchase late on the last observed day
    ("B", "2021-01-10 23:00", 1, 15.0),
    # C: one purchase, and one after the as-of date
    ("C", "2021-01-05 08:00", 1, 100.0),
    ("C", "2021-01-11 08:00", 1, 100.0),
    # D: only a return; a guest line without customer
    ("D", "2021-01-03 08:00", -2, 5.0),
    (None, "2021-01-03 08:00", 1, 5.0),
]
AS_OF = "2021-01-11"  # exclusive: the last observed day is 10 January


@pytest.mark.parametrize("with_revenue", [True, False])
def test_hand_computed_summary_in_days(with_revenue):
    summary = rfm_summary(_lines(ROWS, with_revenue=with_revenue), AS_OF)
    assert list(summary.index) == ["A", "B", "C"]  # D only returned goods, the guest is nobody
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value"]
    a, b, c = (summary.loc[k] for k in "ABC")
    # A buys on days 1, 4, 8 (same-day lines merged, the return ignored); observed to day 10
    assert (a["frequency"], a["recency"], a["T"]) == (2, 7.0, 9.0)
    assert a["monetary_value"] == pytest.approx((40 + 60) / 2)  # repeat purchases only
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 0.0, 0.0)
    assert (c["frequency"], c["recency"], c["T"], c["monetary_value"]) == (0, 0.0, 5.0, 0.0)
    assert summary["frequency"].dtype == np.int64


def test_weeks_are_days_over_seven():
    days = rfm_summary(_lines(ROWS), AS_OF, unit="D")
    weeks = rfm_summary(_lines(ROWS), AS_OF, unit="W")
    assert weeks.loc["A", "recency"] == pytest.approx(1.0)
    pd.testing.assert_series_equal(weeks["T"], days["T"] / 7)
    pd.testing.assert_series_equal(weeks["frequency"], days["frequency"])
    assert weeks.attrs["unit"] == "W"


def test_as_of_with_a_time_of_day_keeps_only_earlier_lines():
    summary = rfm_summary(_lines(ROWS), "2021-01-08 10:00")
    assert summary.loc["A", "frequency"] == 1  # the 8 January purchase at 11:00 is after the cutoff
    assert summary.loc["A", "T"] == 7.0  # the 8th is the last (partly) observed day


def test_calibration_holdout_by_hand():
    split = calibration_holdout(_lines(ROWS), "2021-01-06", AS_OF, unit="D")
    assert list(split.index) == ["A", "C"]  # B's first purchase is in the holdout
    a, c = split.loc["A"], split.loc["C"]
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (1, 3.0, 4.0, 40.0)
    assert (a["frequency_holdout"], a["monetary_value_holdout"]) == (1, 60.0)
    assert (c["frequency"], c["T"], c["frequency_holdout"], c["monetary_value_holdout"]) == (0, 0.0, 0, 0.0)
    assert (split["duration_holdout"] == 5.0).all()


def test_purchase_days_merge_same_day_lines():
    days = purchase_days(_lines(ROWS))
    a = days[days["customer_id"] == "A"]
    assert list(a["value"]) == [50.0, 40.0, 60.0]
    assert list(a["day"].dt.day) == [1, 4, 8]


def test_cdnow_summary_matches_fader_hardie(cdnow_split, hardie_summary):
    """Same-day merging, repeat-only mean spend and T to 1997-09-30 give Hardie's published summary exactly
    (his file rounds to 2 decimals)."""
    ours = cdnow_split.loc[hardie_summary.index]
    assert len(cdnow_split) == 2357
    assert int((cdnow_split["frequency"] > 0).sum()) == 946
    assert (ours["frequency"].to_numpy() == hardie_summary["x"].to_numpy()).all()
    for column, theirs in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        assert np.abs(ours[column].to_numpy() - hardie_summary[theirs].to_numpy()).max() <= 0.0051, column
    assert (cdnow_split["duration_holdout"] == 39.0).all()


def test_cdnow_holdout_counts_match_a_direct_count(cdnow_lines, cdnow_split):
    """Holdout purchases = distinct purchase days from 1997-10-01 to 1998-06-30, counted independently."""
    lines = cdnow_lines
    days = lines.assign(day=lines["invoice_date"].dt.normalize())[["customer_id", "day"]].drop_duplicates()
    holdout = days[(days["day"] >= "1997-10-01") & (days["day"] <= "1998-06-30")]
    expected = holdout.groupby("customer_id").size().reindex(cdnow_split.index, fill_value=0)
    assert (cdnow_split["frequency_holdout"].to_numpy() == expected.to_numpy()).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda lines: rfm_summary(lines.drop(columns=["invoice_date"]), AS_OF), "invoice_date"),
        (lambda lines: rfm_summary(lines, AS_OF, unit="M"), "unit"),
        (lambda lines: rfm_summary(lines, "not a date"), "as_of"),
        (lambda lines: rfm_summary(lines, "2020-01-01"), "no purchases"),
        (lambda lines: rfm_summary(lines.assign(invoice_date="2021-01-01"), AS_OF), "datetime"),
        (lambda lines: calibration_holdout(lines, AS_OF, "2021-01-06"), "after"),
        (lambda lines: rfm_summary(lines.drop(columns=["revenue", "quantity"]), AS_OF), "quantity"),
    ],
)
def test_bad_input_raises_data_error(call, message):
    with pytest.raises(DataError, match=message):
        call(_lines(ROWS))


@pytest.fixture(scope="module")
def retail_invoices(online_retail_path):
    from analytics.cleaning import clean
    from analytics.invoices import invoice_table
    from analytics.loading import read_transactions

    return invoice_table(clean(read_transactions(online_retail_path)).lines)


def test_shared_days_answer_as_grouping_again(retail_invoices, monkeypatch):
    """Inside ``days_shared`` the invoice table is grouped by customer and day once, and every cutoff the
    pipeline uses (midnights) gets exactly what grouping again gives; a time of day groups again."""
    from concurrent.futures import Future

    from analytics.clv import summary

    cutoffs = [{}, {"before": pd.Timestamp("2011-12-10")}, {"before": pd.Timestamp("2011-06-01")},
               {"since": pd.Timestamp("2011-06-01"), "before": pd.Timestamp("2011-12-10")},
               {"since": pd.Timestamp("2011-09-01")}, {"before": pd.Timestamp("2011-06-01 12:30")}]
    expected = [purchase_days(retail_invoices, **c) for c in cutoffs]
    groupings = []
    original = summary._purchase_days
    monkeypatch.setattr(summary, "_purchase_days", lambda *a: groupings.append(a[1:3]) or original(*a))
    table = Future()
    table.set_result(retail_invoices)
    with summary.days_shared(table):
        shared = [purchase_days(retail_invoices, **c) for c in cutoffs]
        other = purchase_days(retail_invoices.copy(), before=pd.Timestamp("2011-06-01"))
    assert groupings == [(None, None), (None, pd.Timestamp("2011-06-01 12:30")), (None, pd.Timestamp("2011-06-01"))]
    for got, want in zip(shared, expected):
        pd.testing.assert_frame_equal(got, want)
        assert len(got) > 0
    pd.testing.assert_frame_equal(other, expected[2])
    assert purchase_days(retail_invoices).equals(expected[0]) and not summary._SHARED
