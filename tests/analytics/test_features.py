"""Customer features on small hand-made cleaned lines, checked against hand arithmetic."""

import numpy as np
import pandas as pd
import pytest

from analytics.categories import DEFAULT_CATEGORIES, categorise, category_column, validate_categories
from analytics.errors import DataError
from analytics.features import customer_features

AS_OF = pd.Timestamp("2011-12-10")


def lines(rows: list[tuple]) -> pd.DataFrame:
    """Cleaned lines from (customer, invoice, date, qty, price, code, description, country) tuples."""
    df = pd.DataFrame(
        rows,
        columns=["customer_id", "invoice_id", "invoice_date", "quantity", "unit_price", "stock_code",
                 "description", "country"],
    )
    for col in ("customer_id", "invoice_id", "stock_code", "description", "country"):
        df[col] = df[col].astype("string")
    df["invoice_date"] = pd.to_datetime(df["invoice_date"]).astype("datetime64[ns]")
    df["quantity"] = df["quantity"].astype("float64")
    df["unit_price"] = df["unit_price"].astype("float64")
    df["revenue"] = df["quantity"] * df["unit_price"]
    df["is_return"] = df["invoice_id"].str.startswith("C").astype(bool)
    return df


LINES = lines(
    [
        # customer A: 3 purchase invoices on 2 distinct days, one return, Christmas and mugs
        ("A", "1", "2011-10-01 10:00", 2, 5.0, "X1", "RED CHRISTMAS BAUBLE", "UK"),  # 10, peak
        ("A", "1", "2011-10-01 10:00", 1, 20.0, "X2", "BLUE MUG", "UK"),  # 20, peak
        ("A", "2", "2011-10-01 15:00", 1, 30.0, "X2", "BLUE MUG", "France"),  # 30, peak, same day
        ("A", "3", "2011-06-11 09:00", 4, 10.0, "X3", "GARDEN GNOME", "UK"),  # 40, off-peak
        ("A", "C4", "2011-10-05 10:00", -1, 20.0, "X2", "BLUE MUG", "UK"),  # return -20
        # customer B: a single purchase
        ("B", "5", "2011-12-09 12:00", 3, 1.5, "X4", None, "Norway"),  # 4.5
        # customer C: purchases on 3 distinct days, 10 and 40 days apart
        ("C", "6", "2011-01-01 00:00", 1, 1.0, "X5", "THING", "Spain"),
        ("C", "7", "2011-01-11 00:00", 1, 1.0, "X5", "THING", "Spain"),
        ("C", "8", "2011-02-20 00:00", 1, 1.0, "X6", "OTHER THING", "Spain"),
    ]
)


def test_rfm_core_by_hand():
    f = customer_features(LINES, AS_OF)
    assert list(f.index) == ["A", "B", "C"]
    assert f.index.name == "customer_id"
    a = f.loc["A"]
    assert a["frequency"] == 3  # the return invoice never counts
    assert a["monetary"] == pytest.approx(10 + 20 + 30 + 40 - 20)
    assert a["avg_order_value"] == pytest.approx((10 + 20 + 30 + 40) / 3)
    assert a["last_purchase"] == pd.Timestamp("2011-10-01 15:00")
    assert a["first_purchase"] == pd.Timestamp("2011-06-11 09:00")
    assert a["recency_days"] == pytest.approx(69 + 9 / 24)  # 2011-10-01 15:00 -> 2011-12-10 00:00
    assert a["tenure_days"] == pytest.approx(181 + 15 / 24)  # 2011-06-11 09:00 -> 2011-12-10 00:00
    assert a["unique_products"] == 3
    b = f.loc["B"]
    assert (b["frequency"], b["monetary"]) == (1, pytest.approx(4.5))
    assert b["recency_days"] == pytest.approx(0.5)


def test_mean_days_between_uses_distinct_purchase_days():
    f = customer_features(LINES, AS_OF)
    assert f.loc["C", "mean_days_between"] == pytest.approx((10 + 40) / 2)
    # A bought on 2011-06-11 and 2011-10-01 (twice that day): one gap
    assert f.loc["A", "mean_days_between"] == pytest.approx(112)
    assert np.isnan(f.loc["B", "mean_days_between"])


def test_peak_share_of_purchase_spend():
    f = customer_features(LINES, AS_OF)
    assert f.loc["A", "peak_share"] == pytest.approx(60 / 100)
    assert f.loc["B", "peak_share"] == pytest.approx(1.0)
    assert f.loc["C", "peak_share"] == pytest.approx(0.0)
    summer = customer_features(LINES, AS_OF, peak_months=[6])
    assert summer.loc["A", "peak_share"] == pytest.approx(40 / 100)


def test_country_is_the_most_frequent_on_purchases():
    f = customer_features(LINES, AS_OF)
    assert f.loc["A", "country"] == "UK"
    assert f.loc["C", "country"] == "Spain"


def test_category_shares_sum_to_one_and_follow_keywords():
    f = customer_features(LINES, AS_OF)
    cats = [c for c in f.columns if c.startswith("cat_")]
    assert cats[-1] == "cat_other"
    assert np.allclose(f[cats].sum(axis=1), 1.0)
    assert f.loc["A", "cat_christmas"] == pytest.approx(10 / 100)
    assert f.loc["A", "cat_kitchen_dining"] == pytest.approx(50 / 100)
    assert f.loc["A", "cat_garden"] == pytest.approx(40 / 100)
    assert f.loc["B", "cat_other"] == pytest.approx(1.0)  # missing description


def test_user_category_table_replaces_the_default():
    table = pd.DataFrame({"category": ["Blue Things"], "keywords": ["blue"]})
    f = customer_features(LINES, AS_OF, categories=table)
    assert [c for c in f.columns if c.startswith("cat_")] == ["cat_blue_things", "cat_other"]
    assert f.loc["A", "cat_blue_things"] == pytest.approx(50 / 100)
    none = customer_features(LINES, AS_OF, categories=pd.DataFrame(columns=["category", "keywords"]))
    assert not any(c.startswith("cat_") for c in none.columns)


def test_only_lines_before_as_of_are_used():
    cutoff = pd.Timestamp("2011-10-01 12:00")
    early = customer_features(LINES, cutoff)
    assert "B" not in early.index
    assert early.loc["A", "frequency"] == 2
    assert early.loc["A", "monetary"] == pytest.approx(70)  # the return on 10-05 is in the future
    assert early.loc["A", "recency_days"] == pytest.approx(2 / 24)  # 10:00 -> 12:00
    same = customer_features(LINES[LINES["invoice_date"] < cutoff], cutoff)
    pd.testing.assert_frame_equal(early, same)


def test_optional_columns_absent():
    bare = LINES.drop(columns=["stock_code", "description", "country"])
    f = customer_features(bare, AS_OF)
    assert "country" not in f.columns
    assert not any(c.startswith("cat_") for c in f.columns)
    assert f["unique_products"].isna().all()
    codes_only = customer_features(LINES.drop(columns=["stock_code"]), AS_OF)
    assert codes_only.loc["A", "unique_products"] == 3  # counted by description instead


def test_dtypes():
    f = customer_features(LINES, AS_OF)
    assert f["frequency"].dtype == "int64"
    assert f["recency_days"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(f["last_purchase"])
    assert pd.api.types.is_string_dtype(f.index)


def test_no_purchases_before_as_of_raises():
    with pytest.raises(DataError, match="no purchases before"):
        customer_features(LINES, pd.Timestamp("2010-01-01"))
    with pytest.raises(DataError, match="peak months"):
        customer_features(LINES, AS_OF, peak_months=[13])


def test_categorise_first_match_whole_words_and_plurals():
    table = pd.DataFrame({"category": ["bags", "kitchen"], "keywords": ["BAG, shopper", "mug, LUNCH BOX"]})
    desc = pd.Series(["JUMBO BAGS RED", "lunch  box", "BAGUETTE", "MUG BAG", None, "mugs"], dtype="string")
    assert categorise(desc, table).tolist() == ["bags", "kitchen", "other", "bags", "other", "kitchen"]
    assert categorise(pd.Series(["PAPER CHAIN KIT CHRISTMAS"])).iloc[0] == "christmas"


@pytest.mark.parametrize(
    ("table", "match"),
    [
        (pd.DataFrame({"category": ["a"]}), "missing column"),
        (pd.DataFrame({"category": ["a", "A"], "keywords": ["x", "y"]}), "unique"),
        (pd.DataFrame({"category": ["a"], "keywords": [" , "]}), "no keywords"),
        (pd.DataFrame({"category": ["other"], "keywords": ["x"]}), "reserved"),
        (pd.DataFrame({"category": [""], "keywords": ["x"]}), "empty category"),
    ],
)
def test_bad_category_tables(table, match):
    with pytest.raises(DataError, match=match):
        validate_categories(table)


def test_default_categories_are_valid_and_named():
    table = validate_categories(DEFAULT_CATEGORIES)
    assert len(table) == len(DEFAULT_CATEGORIES)
    assert category_column("Home & Decor") == "cat_home_decor"


def test_country_ties_go_to_the_alphabetically_first_and_missing_stays_missing():
    rows = lines(
        [
            ("A", "1", "2011-01-01", 1, 1.0, "X", "THING", "Spain"),
            ("A", "2", "2011-01-02", 1, 1.0, "X", "THING", "France"),
            ("B", "3", "2011-01-02", 1, 1.0, "X", "THING", None),
        ]
    )
    f = customer_features(rows, AS_OF)
    assert f.loc["A", "country"] == "France"
    assert pd.isna(f.loc["B", "country"])
    assert pd.api.types.is_string_dtype(f["country"])


def test_country_ties_counted_in_a_customers_by_countries_table():
    # as many lines as customers x countries: counted in that table rather than by sorting the pairs
    rows = lines(
        [
            ("A", "1", "2011-01-01", 1, 1.0, "X", "THING", "Spain"),
            ("A", "2", "2011-01-02", 1, 1.0, "X", "THING", "France"),
            ("A", "3", "2011-01-03", 1, 1.0, "X", "THING", "France"),
            ("A", "4", "2011-01-04", 1, 1.0, "X", "THING", "Spain"),
            ("B", "5", "2011-01-02", 1, 1.0, "X", "THING", None),
            ("C", "6", "2011-01-02", 1, 1.0, "X", "THING", "Spain"),
            ("C", "7", "2011-01-05", 1, 1.0, "X", "THING", "Spain"),
        ]
    )
    f = customer_features(rows, AS_OF)
    assert f["country"].tolist()[::2] == ["France", "Spain"] and pd.isna(f.loc["B", "country"])


def test_lines_without_customer_are_refused():
    with pytest.raises(DataError, match="customer_id"):
        customer_features(LINES.assign(customer_id=pd.Series([None] * len(LINES), dtype="string")), AS_OF)


def test_all_countries_missing():
    f = customer_features(LINES.assign(country=pd.Series([None] * len(LINES), dtype="string")), AS_OF)
    assert f["country"].isna().all()
