"""Cleaning, features and segments on the real UCI Online Retail file (skipped when ../shared is absent).

Expected values come from UCI's published counts and from plain pandas on the raw CSV, written out here
independently of analytics.cleaning / analytics.features.
"""

import pandas as pd
import pytest

from analytics.cleaning import clean
from analytics.features import customer_features
from analytics.loading import read_transactions
from analytics.segments import SEGMENT_ORDER, assign_segments, rfm_scores

pytestmark = pytest.mark.slow

DAY = pd.Timedelta(days=1)
# Spelled out again here (not imported) so the test checks the implementation's list, not itself.
NON_PRODUCT = {"POST", "DOT", "C2", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS"}


@pytest.fixture(scope="module")
def raw(online_retail_path) -> pd.DataFrame:
    """The CSV as UCI publishes it, every column as text except the numbers."""
    df = pd.read_csv(online_retail_path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    return df


@pytest.fixture(scope="module")
def transactions(online_retail_path) -> pd.DataFrame:
    return read_transactions(online_retail_path)


@pytest.fixture(scope="module")
def cleaned(transactions):
    return clean(transactions)


@pytest.fixture(scope="module")
def features(cleaned) -> pd.DataFrame:
    return customer_features(cleaned.lines, cleaned.as_of)


def rule(report, name: str) -> pd.Series:
    return report.rules.set_index("rule").loc[name]


def by_hand(raw: pd.DataFrame, customer: str, as_of: pd.Timestamp) -> dict:
    """Recency, frequency and net monetary value of one customer, from the raw rows."""
    rows = raw[raw["CustomerID"] == f"{customer}.0"]
    rows = rows[rows["InvoiceDate"] < as_of].drop_duplicates()
    code = rows["StockCode"].str.upper()
    rows = rows[(rows["UnitPrice"] > 0) & ~code.isin(NON_PRODUCT) & ~code.str.startswith("GIFT_0001_")]
    buys = rows[~rows["InvoiceNo"].str.startswith("C") & (rows["Quantity"] > 0)]
    return {
        "recency_days": (as_of - buys["InvoiceDate"].max()) / DAY,
        "frequency": buys["InvoiceNo"].nunique(),
        "monetary": (rows["Quantity"] * rows["UnitPrice"]).sum(),
    }


def test_published_counts_appear_in_the_report(cleaned, raw):
    r = cleaned.report
    assert r.rows_in == 541_909
    assert r.invoices_in == 25_900
    assert r.customers_in == 4_372
    assert r.cancellation_lines == 9_288
    assert r.revenue_in == pytest.approx(9_747_747.93, abs=0.01)
    assert rule(r, "missing_customer")["rows_flagged"] == 135_080
    # duplicates run before every rule that could remove rows here (as-of is after the last line)
    assert rule(r, "after_as_of")["rows_removed"] == 0
    assert rule(r, "duplicate")["rows_flagged"] == rule(r, "duplicate")["rows_removed"] == 5_268
    assert r.date_min_in == pd.Timestamp("2010-12-01 08:26")
    assert r.date_max_in == pd.Timestamp("2011-12-09 12:50")
    assert cleaned.as_of == pd.Timestamp("2011-12-10")


def test_sequential_counts_follow_the_documented_order(cleaned, raw):
    """Rule order: after_as_of, missing_date, duplicate, missing_customer, non_positive_price, ..."""
    r = cleaned.report
    dup = raw.duplicated()
    no_customer = raw["CustomerID"].isna()
    price = raw["UnitPrice"] <= 0
    assert rule(r, "missing_customer")["rows_removed"] == (no_customer & ~dup).sum()
    assert rule(r, "non_positive_price")["rows_flagged"] == price.sum()
    assert rule(r, "non_positive_price")["rows_removed"] == (price & ~no_customer & ~dup).sum()
    is_return = raw["InvoiceNo"].str.startswith("C") | (raw["Quantity"] < 0)
    assert rule(r, "returns")["rows_flagged"] == is_return.sum()
    assert rule(r, "returns")["action"] == "netted"
    taken = r.rules.loc[r.rules["action"] != "netted", "rows_removed"].sum()
    assert r.rows_out == r.rows_in - taken == len(cleaned.lines)


def test_customer_12346_returned_everything_and_is_excluded(cleaned, raw, features):
    rows = raw[raw["CustomerID"] == "12346.0"]
    assert rows.loc[rows["Quantity"] > 0, "Quantity"].sum() == 74_215
    assert rows.loc[rows["Quantity"] < 0, "Quantity"].sum() == -74_215
    r = cleaned.report
    assert "12346" in r.customers_excluded
    detail = r.excluded_detail.set_index("customer_id").loc["12346"]
    assert detail["purchase_value"] == pytest.approx(74_215 * 1.04)
    assert detail["net_value"] == pytest.approx(0.0)
    assert "12346" not in features.index
    assert "12346" not in set(cleaned.lines["customer_id"])
    rows = raw[raw["CustomerID"].notna() & (raw["UnitPrice"] > 0)]
    code = rows["StockCode"].str.upper()
    products = ~code.isin(NON_PRODUCT) & ~code.str.startswith("GIFT_0001_")
    with_lines = rows.loc[products, "CustomerID"].nunique()
    assert r.customers_out == len(features) == with_lines - len(r.customers_excluded)
    assert (features["monetary"] > 0).all()


@pytest.mark.parametrize("customer", ["12347", "17850", "14911", "12471", "14527", "17940", "12748"])
def test_customer_rfm_matches_a_hand_computation(raw, features, cleaned, customer):
    expected = by_hand(raw, customer, cleaned.as_of)
    got = features.loc[customer]
    assert got["frequency"] == expected["frequency"]
    assert got["recency_days"] == pytest.approx(expected["recency_days"])
    assert got["monetary"] == pytest.approx(expected["monetary"], abs=1e-6)


def test_well_known_customer_values(features):
    # 12347 (Iceland) is a clean customer in every RFM write-up of this data: 7 invoices, 4,310.00
    assert features.loc["12347", "frequency"] == 7
    assert features.loc["12347", "monetary"] == pytest.approx(4310.00)
    assert features.loc["12347", "country"] == "Iceland"


EARLY = pd.Timestamp("2011-06-01")


@pytest.fixture(scope="module")
def early(transactions):
    result = clean(transactions, as_of=EARLY)
    return result, customer_features(result.lines, result.as_of)


@pytest.mark.parametrize("customer", ["12347", "14911", "12748", "13047"])
def test_earlier_as_of_sees_no_later_data(raw, early, customer):
    result, f = early
    expected = by_hand(raw, customer, EARLY)
    assert f.loc[customer, "frequency"] == expected["frequency"]
    assert f.loc[customer, "recency_days"] == pytest.approx(expected["recency_days"])
    assert f.loc[customer, "monetary"] == pytest.approx(expected["monetary"], abs=1e-6)
    assert result.report.rows_after_as_of == (raw["InvoiceDate"] >= EARLY).sum()
    assert f["last_purchase"].max() < EARLY


def test_scores_and_segments_on_real_customers(features):
    scores = rfm_scores(features)
    n = len(features)
    for col in scores.columns:
        counts = scores[col].value_counts()
        assert counts.max() - counts.min() <= 1 and counts.sum() == n
    segments = assign_segments(scores)
    assert segments.notna().all() and len(segments) == n
    assert set(segments) == set(SEGMENT_ORDER)
    champions = features.loc[segments == "Champions"]
    lost = features.loc[segments == "Lost"]
    assert champions["recency_days"].median() < lost["recency_days"].median()
    assert champions["frequency"].median() > lost["frequency"].median()


def test_invoice_table_and_weighted_fits_equal_line_level_results(cleaned):
    """What the pipeline now computes from the invoice table and from weighted patterns equals what the
    line-level, per-customer computation gives on the real file: RFM summary, journeys, trends, and the
    BG/NBD / Gamma-Gamma parameters (within 1e-6 relative, same optimiser and penalizer)."""
    import numpy as np

    from analytics import journeys, trends
    from analytics.clv import BetaGeoModel, GammaGammaModel, rfm_summary
    from analytics.clv import bgnbd as bgnbd_module
    from analytics.invoices import invoice_table

    lines, as_of = cleaned.lines, cleaned.as_of
    invoices = invoice_table(lines)
    assert len(invoices) < len(lines) / 10
    summary = rfm_summary(invoices, as_of)
    pd.testing.assert_frame_equal(summary, rfm_summary(lines, as_of), check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(journeys.journey_history(invoices, as_of, period="Q"),
                                  journeys.journey_history(lines, as_of, period="Q"),
                                  check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(trends.monthly_activity(invoices), trends.monthly_activity(lines),
                                  check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(trends.cohort_retention(invoices), trends.cohort_retention(lines))

    purchases = BetaGeoModel().fit(summary)
    assert purchases.n_patterns_ < purchases.n_customers_ == len(summary)
    method = next(a["method"] for a in purchases.fit_attempts_ if a["converged"])
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    per_customer, _ = bgnbd_module._OPTIMISERS[method]("bgnbd", purchases.penalizer_used_, x, t_x, T,
                                                        np.ones_like(x))
    for name, value in per_customer.items():
        assert purchases.params_[name] == pytest.approx(value, rel=1e-6), name

    spend = GammaGammaModel().fit(summary)
    from lifetimes import GammaGammaFitter

    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    every = GammaGammaFitter(penalizer_coef=spend.penalizer_used_).fit(repeat["frequency"],
                                                                    repeat["monetary_value"])
    for name in ("p", "q", "v"):
        assert spend.params_[name] == pytest.approx(every.params_[name], rel=1e-6), name
