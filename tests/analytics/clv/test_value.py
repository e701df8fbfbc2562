"""CLV: month-by-month discounting checked by hand, unit invariance, bad settings."""

import numpy as np
import pandas as pd
import pytest

from analytics.clv import DAYS_PER_MONTH, BetaGeoModel, GammaGammaModel, customer_lifetime_value, rfm_summary
from analytics.errors import DataError

BG = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43}  # weeks
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture
def tiny():
    summary = pd.DataFrame(
        {"frequency": [0, 2, 7], "recency": [0.0, 10.0, 30.0], "T": [20.0, 30.0, 32.0],
         "monetary_value": [0.0, 40.0, 25.0]},
        index=pd.Index(["new", "lapsing", "loyal"], name="customer_id"),
    )
    summary.attrs["unit"] = "W"
    return summary


def test_discounting_month_by_month_by_hand(tiny):
    purchases, spend = BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG)
    table = customer_lifetime_value(purchases, spend, tiny, horizon_months=3, gross_margin_fraction=0.5,
                                    monthly_discount_rate=0.1, unit="W")
    month = 30.4375 / 7  # weeks
    e1, e2, e3 = (purchases.expected_purchases(m * month, tiny) for m in (1, 2, 3))
    per_purchase = spend.expected_spend(tiny) * 0.5
    expected = (e1 / 1.1 + (e2 - e1) / 1.1**2 + (e3 - e2) / 1.1**3) * per_purchase
    np.testing.assert_allclose(table["clv"], expected, rtol=1e-12)
    np.testing.assert_allclose(table["expected_purchases"], e3, rtol=1e-12)
    np.testing.assert_allclose(table["p_no_purchase"], purchases.p_no_purchase(3 * month, tiny), rtol=1e-12)
    np.testing.assert_allclose(table["p_alive"], purchases.p_alive(tiny), rtol=1e-12)
    assert list(table.columns) == ["expected_purchases", "p_alive", "p_no_purchase", "expected_spend", "clv"]
    assert list(table.index) == list(tiny.index)


def test_without_discounting_clv_is_expected_margin(tiny):
    purchases, spend = BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG)
    table = customer_lifetime_value(purchases, spend, tiny, horizon_months=12, gross_margin_fraction=0.3,
                                    monthly_discount_rate=0.0, unit="W")
    undiscounted = table["expected_purchases"] * table["expected_spend"] * 0.3
    np.testing.assert_allclose(table["clv"], undiscounted, rtol=1e-9)
    discounted = customer_lifetime_value(purchases, spend, tiny, horizon_months=12, unit="W")
    assert (discounted["clv"] < table["clv"]).all()
    assert table.loc["new", "expected_spend"] == pytest.approx(spend.population_mean_)


def test_days_and_weeks_give_the_same_value(tiny):
    """The same customers in days (alpha x 7) value the same: the month is converted, not assumed."""
    days = tiny.copy()
    days[["recency", "T"]] *= 7
    days.attrs["unit"] = "D"
    spend = GammaGammaModel.from_params(GG)
    weekly = customer_lifetime_value(BetaGeoModel.from_params(BG), spend, tiny, unit="W")
    daily = customer_lifetime_value(BetaGeoModel.from_params({**BG, "alpha": BG["alpha"] * 7}), spend, days,
                                    unit="D")
    pd.testing.assert_frame_equal(weekly, daily, rtol=1e-9)
    assert DAYS_PER_MONTH == pytest.approx(365.25 / 12)


def test_fitted_models_on_cdnow_give_sane_values(cdnow_lines):
    summary = rfm_summary(cdnow_lines, "1997-10-01", unit="W")
    purchases, spend = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    table = customer_lifetime_value(purchases, spend, summary, unit="W")
    assert table.notna().all().all() and (table["clv"] >= 0).all()
    assert table["p_alive"].between(0, 1).all() and table["p_no_purchase"].between(0, 1).all()
    # customers who bought often and recently are worth more than one-time buyers
    often = summary["frequency"] >= 5
    assert table.loc[often, "clv"].median() > 5 * table.loc[summary["frequency"] == 0, "clv"].median()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"unit": "D"}, "unit"),
        ({"horizon_months": 0}, "horizon"),
        ({"horizon_months": 1.5}, "horizon"),
        ({"gross_margin_fraction": 1.5}, "gross margin"),
        ({"monthly_discount_rate": -0.1}, "discount"),
    ],
)
def test_bad_settings_raise_data_error(tiny, kwargs, message):
    settings = {"unit": "W", **kwargs}
    with pytest.raises(DataError, match=message):
        customer_lifetime_value(BetaGeoModel.from_params(BG), GammaGammaModel.from_params(GG), tiny,
                                **settings)
