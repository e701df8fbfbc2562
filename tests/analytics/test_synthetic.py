"""analytics.synthetic: deterministic, sized, realistic, and faithful to its BG/NBD and Gamma-Gamma truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analytics import schema
from analytics.loading import read_transactions, to_canonical
from analytics.synthetic import SYNTHETIC_TRUTH, UCI_COLUMNS, RetailParams, generate_retail, simulate_retail

NON_PRODUCT = ["POST", "DOT", "M", "BANK CHARGES"]


@pytest.fixture(scope="module")
def retail():
    return simulate_retail(100_000, seed=0)


@pytest.fixture(scope="module")
def raw(retail) -> pd.DataFrame:
    return retail.transactions


def test_deterministic_per_seed():
    first, again = generate_retail(5_000, seed=7), generate_retail(5_000, seed=7)
    pd.testing.assert_frame_equal(first, again)
    other = generate_retail(5_000, seed=8)
    assert not first["InvoiceDate"].equals(other["InvoiceDate"])


@pytest.mark.parametrize("n_rows", [2_000, 20_000, 100_000])
def test_size_is_near_the_target(n_rows):
    assert abs(len(generate_retail(n_rows, seed=1)) - n_rows) / n_rows < 0.05


def test_customers_scale_with_rows():
    small, large = simulate_retail(10_000, seed=2), simulate_retail(100_000, seed=2)
    ratio = large.truth["n_customers"] / small.truth["n_customers"]
    assert 8 < ratio < 12


def test_raw_uci_columns_and_types(raw):
    assert list(raw.columns) == UCI_COLUMNS
    assert raw["Quantity"].dtype == np.int64
    assert raw["UnitPrice"].dtype == np.float64
    assert raw["CustomerID"].dtype == np.float64  # as pandas reads the UCI file: 17850.0, NaN
    assert pd.api.types.is_datetime64_any_dtype(raw["InvoiceDate"])
    assert raw["InvoiceNo"].str.fullmatch(r"C?\d{6}").all()
    start, end = pd.Timestamp(SYNTHETIC_TRUTH["start"]), pd.Timestamp(SYNTHETIC_TRUTH["end"])
    assert raw["InvoiceDate"].min() >= start and raw["InvoiceDate"].max() < end
    assert (raw["UnitPrice"] >= 0).all()
    assert np.allclose(raw["UnitPrice"] * 100, np.rint(raw["UnitPrice"] * 100))  # whole pence


def test_invoice_numbers_follow_time(raw):
    first = raw.groupby("InvoiceNo", sort=False).agg(date=("InvoiceDate", "first"))
    number = first.index.str.lstrip("C").astype(int)
    ordered = first.assign(number=number).sort_values("number")["date"]
    assert ordered.is_monotonic_increasing
    assert raw.groupby("InvoiceNo")["InvoiceDate"].nunique().max() == 1
    assert raw.groupby("InvoiceNo")["CustomerID"].nunique(dropna=False).max() == 1


def test_messy_features_are_present(raw):
    is_cancel = raw["InvoiceNo"].str.startswith("C")
    assert (raw.loc[is_cancel, "Quantity"] < 0).all()
    assert (raw.loc[~is_cancel & (raw["UnitPrice"] > 0), "Quantity"] > 0).all()
    assert 0.01 < is_cancel.mean() < 0.05
    assert 0.15 < raw["CustomerID"].isna().mean() < 0.25
    assert 0.003 < raw.duplicated().mean() < 0.02
    assert set(NON_PRODUCT) <= set(raw["StockCode"])
    adjustments = raw["UnitPrice"] == 0
    assert adjustments.sum() > 0
    assert raw.loc[adjustments, "Description"].isna().all()
    assert raw.loc[adjustments, "CustomerID"].isna().all()
    assert raw["Country"].nunique() >= 10
    assert (raw["Country"] == "United Kingdom").mean() > 0.7
    assert raw["StockCode"].nunique() > 300


def test_returns_reference_items_the_customer_bought_earlier(raw):
    bought = raw[~raw["InvoiceNo"].str.startswith("C") & raw["CustomerID"].notna()]
    returned = raw[raw["InvoiceNo"].str.startswith("C")]
    keys = ["CustomerID", "StockCode", "UnitPrice"]
    first_buy = bought.groupby(keys, as_index=False).agg(bought_at=("InvoiceDate", "min"),
                                                         units=("Quantity", "sum"))
    matched = returned.merge(first_buy, on=keys, how="left")
    assert matched["bought_at"].notna().all()
    assert (matched["bought_at"] <= matched["InvoiceDate"]).all()
    assert (-matched["Quantity"] <= matched["units"]).all()
    assert returned["CustomerID"].notna().all()


def test_product_categories_and_christmas_season(raw):
    products = raw[~raw["StockCode"].isin(NON_PRODUCT) & raw["Description"].notna()]
    for word in ("CHRISTMAS", "CANDLE", "T-LIGHT", "BAG", "MUG", "CAKE", "NOTEBOOK", "CARD", "FRAME"):
        assert products["Description"].str.contains(word, regex=False).any(), word
    month = products["InvoiceDate"].dt.month
    christmas = products["Description"].str.contains("CHRISTMAS|ADVENT|SANTA|SNOWFLAKE")
    share = christmas.groupby(month).mean()
    assert share.loc[[10, 11, 12]].min() > 3 * share.loc[[2, 3, 4, 5]].max()


def test_q4_peak_in_revenue(raw):
    sold = raw[~raw["InvoiceNo"].str.startswith("C")]
    revenue = (sold["Quantity"] * sold["UnitPrice"]).groupby(sold["InvoiceDate"].dt.to_period("M")).sum()
    november = revenue[pd.Period("2011-11", "M")]
    assert november > 1.3 * revenue[[pd.Period(f"2011-{m:02d}", "M") for m in range(1, 10)]].max()


def test_truth_is_exposed(retail, raw):
    assert raw.attrs["truth"]["bgnbd"] == SYNTHETIC_TRUTH["bgnbd"]
    assert raw.attrs["truth"]["gamma_gamma"] == SYNTHETIC_TRUTH["gamma_gamma"]
    customers = retail.customers
    assert len(customers) == retail.truth["n_customers"] == raw["CustomerID"].nunique()
    assert set(customers["CustomerID"]) == set(raw["CustomerID"].dropna().astype(int))
    assert customers["CustomerID"].is_unique
    assert SYNTHETIC_TRUTH["mean_spend_per_purchase"] == pytest.approx(6.0 * 150 / 3)
    # first purchase of each customer is the birth date the truth reports
    first = raw.dropna(subset=["CustomerID"]).groupby("CustomerID")["InvoiceDate"].min().dt.normalize()
    birth = customers.set_index("CustomerID")["first_purchase"]
    assert (first.reindex(birth.index.astype(float)).to_numpy() == birth.to_numpy()).all()


def test_params_change_the_process():
    params = RetailParams(a=0.2, b=8.0, guest_share=0.0, return_rate=0.0, adjustment_rate=0.0)
    loyal = simulate_retail(20_000, seed=3, params=params)
    assert loyal.transactions["CustomerID"].notna().all()
    assert not loyal.transactions["InvoiceNo"].str.startswith("C").any()
    assert loyal.customers["alive_at_end"].mean() > 0.85
    assert loyal.truth["bgnbd"] == {"r": 0.75, "alpha": 40.0, "a": 0.2, "b": 8.0}


def _purchase_summary(raw: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Frequency/recency/T in days and mean repeat spend, from the cleaned purchase invoices."""
    lines = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C") & (raw["UnitPrice"] > 0)
                & ~raw["StockCode"].isin(NON_PRODUCT)].drop_duplicates()
    lines = lines.assign(value=lines["Quantity"] * lines["UnitPrice"],
                         day=lines["InvoiceDate"].dt.normalize())
    days = lines.groupby(["CustomerID", "day"], as_index=False)["value"].sum()
    grouped = days.groupby("CustomerID")
    first, last = grouped["day"].min(), grouped["day"].max()
    repeat = days[days["day"] > days["CustomerID"].map(first)].groupby("CustomerID")["value"].mean()
    return pd.DataFrame({
        "frequency": grouped.size() - 1,
        "recency": (last - first).dt.days,
        "T": (end - first).dt.days,
        "monetary": repeat.reindex(first.index).fillna(0.0),
    })


def test_models_recover_the_generating_parameters(raw):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    summary = _purchase_summary(raw, pd.Timestamp(SYNTHETIC_TRUTH["end"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"]).params_
        repeaters = summary[summary["frequency"] > 0]
        gg = GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary"]).params_
    truth, spend = SYNTHETIC_TRUTH["bgnbd"], SYNTHETIC_TRUTH["gamma_gamma"]
    assert bg["r"] / bg["alpha"] == pytest.approx(truth["r"] / truth["alpha"], rel=0.10)  # mean rate per day
    assert bg["a"] / (bg["a"] + bg["b"]) == pytest.approx(truth["a"] / (truth["a"] + truth["b"]), rel=0.15)
    for name in ("r", "alpha", "a", "b"):
        assert bg[name] == pytest.approx(truth[name], rel=0.35), name
    mean_spend = gg["p"] * gg["v"] / (gg["q"] - 1)
    assert mean_spend == pytest.approx(SYNTHETIC_TRUTH["mean_spend_per_purchase"], rel=0.10)
    for name in ("p", "q", "v"):
        assert gg[name] == pytest.approx(spend[name], rel=0.35), name


def test_invoices_add_up_to_whole_positive_spends(raw):
    products = raw[~raw["InvoiceNo"].str.startswith("C") & (raw["UnitPrice"] > 0)
                   & ~raw["StockCode"].isin(NON_PRODUCT)].drop_duplicates()
    pence = np.rint(products["Quantity"] * products["UnitPrice"] * 100).groupby(products["InvoiceNo"]).sum()
    assert (pence >= 1).all()
    has_customer = products.groupby("InvoiceNo")["CustomerID"].first().notna()
    customer_spend = pence[has_customer.reindex(pence.index)]
    assert customer_spend.mean() / 100 == pytest.approx(SYNTHETIC_TRUTH["mean_spend_per_purchase"], rel=0.15)


def test_loads_through_the_loader_from_csv(tmp_path):
    raw = generate_retail(20_000, seed=4)
    path = tmp_path / "synthetic.csv.gz"
    raw.to_csv(path, index=False)
    from_file = read_transactions(path)
    direct = to_canonical(raw)
    assert len(from_file) == len(direct) == len(raw)
    # (the same values; a categorical's category order is each reader's own, and cleaning orders them anew)
    pd.testing.assert_frame_equal(from_file, direct, check_like=False, check_exact=False, check_categorical=False)
    assert from_file[schema.CUSTOMER_ID].dropna().str.fullmatch(r"\d{5}").all()


def test_bad_size_is_a_data_error():
    from analytics.errors import DataError

    with pytest.raises(DataError, match="at least 1 row"):
        generate_retail(0)
    assert generate_retail(50, seed=0).attrs["truth"]["seed"] == 0
