"""Cleaning rules and the quality report, on small hand-made canonical logs."""

import json

import numpy as np
import pandas as pd
import pytest

from analytics.cleaning import DEFAULT_NON_PRODUCT_CODES, RULES, clean
from analytics.errors import DataError

COLUMNS = [
    "customer_id", "invoice_id", "invoice_date", "quantity", "unit_price",
    "stock_code", "description", "country",
]


def log(rows: list[tuple]) -> pd.DataFrame:
    """Canonical frame from (customer, invoice, date, qty, price, code) tuples."""
    df = pd.DataFrame(
        [(c, i, d, q, p, s, f"item {s}", "UK") for c, i, d, q, p, s in rows],
        columns=COLUMNS,
    )
    df["customer_id"] = df["customer_id"].astype("string")
    df["invoice_id"] = df["invoice_id"].astype("string")
    df["invoice_date"] = pd.to_datetime(df["invoice_date"]).astype("datetime64[ns]")
    df["quantity"] = df["quantity"].astype("float64")
    df["unit_price"] = df["unit_price"].astype("float64")
    for col in ("stock_code", "description", "country"):
        df[col] = df[col].astype("string")
    return df


def rule(report, name: str) -> pd.Series:
    return report.rules.set_index("rule").loc[name]


MIXED = log(
    [
        ("1", "100", "2011-01-03 10:00", 10, 2.0, "A1"),  # purchase 20
        ("1", "100", "2011-01-03 10:00", 10, 2.0, "A1"),  # exact duplicate
        ("1", "101", "2011-02-03 10:00", 1, 5.0, "POST"),  # postage
        ("1", "C102", "2011-02-05 10:00", -3, 2.0, "A1"),  # return -6
        (None, "103", "2011-02-06 10:00", 4, 1.0, "A2"),  # no customer, 4
        ("2", "104", "2011-03-01 09:00", 2, 0.0, "A2"),  # free line
        ("2", "105", "2011-03-02 09:00", 5, 3.0, "A3"),  # purchase 15
        ("2", "106", "2011-03-03 09:00", 1, 10.0, "gift_0001_10"),  # voucher
        ("3", "107", "2011-03-04 09:00", 2, 4.0, "A1"),  # purchase 8 ...
        ("3", "C108", "2011-03-05 09:00", -2, 4.0, "A1"),  # ... fully returned
        ("4", "C109", "2011-03-06 09:00", -1, 7.0, "A3"),  # only a return
        ("5", "110", "2011-04-01 09:00", 1, 9.0, "A3"),  # after the as-of used below
    ]
)


def test_rules_are_counted_in_order_with_revenue():
    result = clean(MIXED, as_of="2011-04-01")
    r = result.report
    assert list(r.rules["rule"]) == list(RULES["rule"])
    expected = {  # rule: (rows_removed, revenue_removed)
        "after_as_of": (1, 9.0),
        "missing_date": (0, 0.0),
        "duplicate": (1, 20.0),
        "missing_customer": (1, 4.0),
        "non_positive_price": (1, 0.0),
        "zero_quantity": (0, 0.0),
        "non_product": (2, 15.0),
        "returns": (3, -6.0 - 8.0 - 7.0),
        "non_positive_customer": (3, 8.0 - 8.0 - 7.0),
    }
    for name, (rows, revenue) in expected.items():
        assert rule(r, name)["rows_removed"] == rows, name
        assert rule(r, name)["revenue_removed"] == pytest.approx(revenue), name
    assert rule(r, "returns")["action"] == "netted"
    assert rule(r, "after_as_of")["action"] == "reported"
    assert r.rows_after_as_of == 1
    assert r.cancellation_lines == 3


def test_kept_lines_and_report_totals_add_up():
    result = clean(MIXED, as_of="2011-04-01")
    lines, r = result.lines, result.report
    # customer 1: purchase 20 and return -6; customer 2: purchase 15
    assert sorted(lines["customer_id"].unique()) == ["1", "2"]
    assert lines.groupby("customer_id")["revenue"].sum().to_dict() == pytest.approx({"1": 14.0, "2": 15.0})
    assert lines["is_return"].tolist().count(True) == 1
    assert lines.loc[lines["is_return"], "invoice_id"].tolist() == ["C102"]
    assert r.rows_in == len(MIXED) and r.rows_out == len(lines) == 3
    taken = r.rules[r.rules["action"].isin(["removed", "dropped", "reported"])]
    assert r.rows_in - taken["rows_removed"].sum() == r.rows_out
    assert r.revenue_in == pytest.approx(float((MIXED["quantity"] * MIXED["unit_price"]).sum()))
    assert r.revenue_in - taken["revenue_removed"].sum() == pytest.approx(r.revenue_out)
    assert r.customers_in == 5 and r.customers_out == 2
    assert r.date_max_out == pd.Timestamp("2011-03-02 09:00")
    assert set(lines.columns) >= set(COLUMNS) | {"revenue", "is_return"}


def test_flagged_counts_each_rule_on_its_own():
    r = clean(MIXED, as_of="2011-04-01").report
    assert rule(r, "returns")["rows_flagged"] == 3
    assert rule(r, "non_product")["rows_flagged"] == 2
    assert rule(r, "duplicate")["rows_flagged"] == 1
    # the duplicate is caught first, so "returns" and "non_product" keep their own counts
    assert (r.rules["rows_flagged"] >= r.rules["rows_removed"]).all()


def test_customers_with_no_positive_net_value_are_listed():
    r = clean(MIXED, as_of="2011-04-01").report
    assert r.customers_excluded == ["3", "4"]
    detail = r.excluded_detail.set_index("customer_id")
    assert detail.loc["3", "purchase_value"] == pytest.approx(8.0)
    assert detail.loc["3", "returned_value"] == pytest.approx(-8.0)
    assert detail.loc["3", "net_value"] == pytest.approx(0.0)
    assert detail.loc["4", "net_value"] == pytest.approx(-7.0)
    assert detail.loc["4", "purchase_lines"] == 0 and detail.loc["4", "return_lines"] == 1


def test_net_returns_false_drops_returns_and_keeps_gross_value():
    result = clean(MIXED, as_of="2011-04-01", net_returns=False)
    lines, r = result.lines, result.report
    assert not lines["is_return"].any()
    assert rule(r, "returns")["action"] == "dropped"
    # without netting, customer 3 keeps their purchase and customer 4 has nothing left to exclude
    by_customer = lines.groupby("customer_id")["revenue"].sum().to_dict()
    assert by_customer == pytest.approx({"1": 20.0, "2": 15.0, "3": 8.0})
    assert r.customers_excluded == []


def test_negative_quantity_without_c_prefix_is_a_return():
    df = log([("1", "1", "2011-01-01", 5, 2.0, "A"), ("1", "2", "2011-01-02", -1, 2.0, "A")])
    lines = clean(df).lines
    assert lines["is_return"].tolist() == [False, True]
    assert lines["revenue"].sum() == pytest.approx(8.0)


def test_default_as_of_is_midnight_after_last_transaction():
    df = log([("1", "1", "2011-01-01 08:00", 1, 2.0, "A"), ("1", "2", "2011-03-04 23:59", 1, 2.0, "A")])
    result = clean(df)
    assert result.as_of == pd.Timestamp("2011-03-05")
    assert result.report.rows_after_as_of == 0


def test_lines_at_exactly_as_of_are_left_out():
    df = log([("1", "1", "2011-01-01 08:00", 1, 2.0, "A"), ("1", "2", "2011-03-05 00:00", 1, 2.0, "A")])
    result = clean(df, as_of="2011-03-05")
    assert result.lines["invoice_id"].tolist() == ["1"]
    assert result.report.rows_after_as_of == 1


def test_duplicates_need_every_column_equal():
    df = log(
        [
            ("1", "1", "2011-01-01", 1, 2.0, "A"),
            ("1", "1", "2011-01-01", 1, 2.0, "A"),
            ("1", "1", "2011-01-01", 1, 2.0, "A"),
            ("1", "1", "2011-01-01", 1, 2.5, "A"),  # another price: not a duplicate
        ]
    )
    r = clean(df).report
    assert rule(r, "duplicate")["rows_removed"] == 2
    assert r.rows_out == 2


def test_non_product_codes_default_override_and_prefix():
    df = log(
        [
            ("1", "1", "2011-01-01", 1, 2.0, "A"),
            ("1", "2", "2011-01-01", 1, 5.0, "post"),  # case-insensitive
            ("1", "3", "2011-01-01", 1, 9.0, "gift_0001_40"),  # prefix rule
            ("1", "4", "2011-01-01", 1, 9.0, "DCGSSGIRL"),  # a real product
        ]
    )
    assert "POST" in DEFAULT_NON_PRODUCT_CODES
    assert sorted(clean(df).lines["stock_code"]) == ["A", "DCGSSGIRL"]
    custom = clean(df, non_product_codes=["DCGS*"]).lines
    assert sorted(custom["stock_code"]) == ["A", "gift_0001_40", "post"]
    assert clean(df, non_product_codes=[]).report.rows_out == 4


def test_log_without_stock_codes_skips_the_product_rule():
    df = log([("1", "1", "2011-01-01", 1, 2.0, "POST")]).drop(columns=["stock_code"])
    result = clean(df)
    assert rule(result.report, "non_product")["rows_flagged"] == 0
    assert "stock_code" not in result.lines.columns


def test_blank_customer_ids_count_as_missing():
    df = log([("1", "1", "2011-01-01", 1, 2.0, "A"), ("  ", "2", "2011-01-01", 1, 2.0, "A")])
    assert rule(clean(df).report, "missing_customer")["rows_removed"] == 1


def test_missing_values_in_numbers_and_dates_are_rules_not_crashes():
    df = log(
        [
            ("1", "1", "2011-01-01", 1, 2.0, "A"),
            ("1", "2", "2011-01-01", np.nan, 2.0, "A"),
            ("1", "3", "2011-01-01", 1, np.nan, "A"),
            ("1", "4", None, 1, 2.0, "A"),
            ("1", "5", "2011-01-01", 1, np.inf, "A"),
        ]
    )
    r = clean(df).report
    assert rule(r, "unreadable_number")["rows_removed"] == 3
    assert rule(r, "missing_date")["rows_removed"] == 1
    assert r.rows_out == 1
    # example row numbers as a spreadsheet shows them (header = row 1): rows 3, 4 and 6
    assert r.example_rows["unreadable_number"] == [3, 4, 6] and r.example_rows["missing_date"] == [5]
    assert r.to_dict()["example_rows"]["unreadable_number"] == [3, 4, 6]


def test_everything_cancelled_raises_with_counts():
    df = log([("1", "C1", "2011-01-01", -1, 2.0, "A"), (None, "2", "2011-01-01", 1, 2.0, "A")])
    with pytest.raises(DataError, match="no valid purchases left after cleaning") as info:
        clean(df)
    message = str(info.value)
    assert "2 rows in" in message
    assert "missing_customer: 1" in message and "returns: 1" in message


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (MIXED.drop(columns=["unit_price"]), r"missing column\(s\) \['unit_price'\]"),
        (MIXED.assign(invoice_date=MIXED["invoice_date"].astype(str)), "invoice_date must hold dates"),
        (MIXED.assign(quantity=MIXED["quantity"].astype(str)), "quantity must be numeric"),
        (MIXED.iloc[:0], "no rows"),
    ],
)
def test_bad_tables_raise_data_error(frame, match):
    with pytest.raises(DataError, match=match):
        clean(frame)


def test_bad_as_of_raises_data_error():
    with pytest.raises(DataError, match="not a date"):
        clean(MIXED, as_of="the day after tomorrow")


def test_as_of_before_all_data_leaves_nothing():
    with pytest.raises(DataError, match="after_as_of: 12"):
        clean(MIXED, as_of="2000-01-01")


def test_report_to_dict_is_json_safe():
    r = clean(MIXED, as_of="2011-04-01").report
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["as_of"] == "2011-04-01T00:00:00"
    assert d["n_customers_excluded"] == 2
    assert [row["rule"] for row in d["rules"]] == list(RULES["rule"])
    assert d["excluded_detail"][0]["customer_id"] == "3"
    assert d["rows_in"] == 12


def test_duplicate_rule_agrees_with_pandas_on_near_duplicates():
    rng = np.random.default_rng(1)
    n = 2000
    df = log(
        [
            (
                str(rng.integers(3)), str(rng.integers(20)), f"2011-01-0{rng.integers(1, 3)}",
                int(rng.integers(1, 3)), float(rng.choice([1.0, 2.0])), str(rng.choice(["A1", "B1"])),
            )
            for _ in range(n)
        ]
    )
    df.loc[rng.choice(n, 50, replace=False), "description"] = "changed"  # same keys, one column differs
    expected = df.duplicated()
    r = clean(df).report
    assert rule(r, "duplicate")["rows_flagged"] == expected.sum()
    assert r.rows_out == (~expected).sum()


def test_any_index_on_the_input_is_fine():
    df = MIXED.set_axis([7] * len(MIXED))  # repeated labels
    result = clean(df, as_of="2011-04-01")
    assert list(result.lines.index) == list(range(3))
    assert sorted(result.lines["customer_id"]) == ["1", "1", "2"]
    assert list(MIXED.index) == list(range(len(MIXED)))  # the input is not modified


def test_integer_customer_ids_become_strings():
    df = log([("1", "1", "2011-01-01", 1, 2.0, "A")]).assign(customer_id=[17850])
    assert clean(df).lines["customer_id"].tolist() == ["17850"]
