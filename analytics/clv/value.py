"""Customer lifetime value: discounted expected margin over a horizon in months.

For each customer, month ``m`` (1..horizon) contributes
``(E[purchases by end of month m] - E[purchases by end of month m-1]) * expected spend * margin / (1 + d)^m``
with purchases from the purchase model (conditional on the customer's history), spend per purchase from the
Gamma-Gamma model and ``d`` the monthly discount rate. A month is 365.25 / 12 = 30.4375 days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.clv.bgnbd import BetaGeoModel
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.patterns import patterns
from analytics.clv.summary import unit_days
from analytics.errors import DataError

DAYS_PER_MONTH = 365.25 / 12


def month_length(unit: str) -> float:
    """Length of one month in ``unit`` ("D" days or "W" weeks)."""
    return DAYS_PER_MONTH / unit_days(unit)


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gg: GammaGammaModel,
    summary: pd.DataFrame,
    horizon_months: int = 12,
    gross_margin_fraction: float = 0.3,
    monthly_discount_rate: float = 0.01,
    unit: str = "D",
) -> pd.DataFrame:
    """Per-customer CLV table over the next ``horizon_months`` months from each customer's T.

    ``summary`` is in ``unit`` (the unit both models were fitted in). ``gross_margin_fraction`` is the share of spend
    kept as profit; ``monthly_discount_rate`` a fraction per month. Columns: expected_purchases (over the
    horizon), p_alive (now), p_no_purchase (no purchase within the horizon), expected_spend (per purchase,
    currency units) and clv (discounted margin, currency units).
    """
    if summary.attrs.get("unit", unit) != unit:
        raise DataError(
            f"the summary is in unit {summary.attrs['unit']!r} but CLV was asked in unit {unit!r}"
        )
    if not (isinstance(horizon_months, (int, np.integer)) and horizon_months >= 1):
        raise DataError(f"CLV horizon must be a whole number of months >= 1, got {horizon_months!r}")
    if not 0 <= gross_margin_fraction <= 1:
        raise DataError(f"gross margin {gross_margin_fraction!r} must be a fraction between 0 and 1")
    if not 0 <= monthly_discount_rate < 1:
        raise DataError(f"monthly discount rate {monthly_discount_rate!r} must be in [0, 1)")
    month = month_length(unit)
    # purchase predictions depend on (frequency, recency, T) only: computed once per distinct pattern
    distinct = patterns(summary)
    alive = bgnbd.p_alive(distinct.table).to_numpy()
    cumulative = np.column_stack(
        [np.zeros(len(distinct.table))]
        + [bgnbd.expected_purchases(m * month, distinct.table, alive).to_numpy()
           for m in range(1, horizon_months + 1)]
    )
    discount = (1.0 + monthly_discount_rate) ** -np.arange(1, horizon_months + 1)
    discounted_purchases = np.diff(cumulative, axis=1) @ discount
    spend = gg.expected_spend(summary)
    index = summary.index
    return pd.DataFrame(
        {
            "expected_purchases": distinct.broadcast(cumulative[:, -1], index, "expected_purchases"),
            "p_alive": distinct.broadcast(alive, index, "p_alive"),
            "p_no_purchase": distinct.broadcast(bgnbd.p_no_purchase(horizon_months * month, distinct.table),
                                                index, "p_no_purchase"),
            "expected_spend": spend.to_numpy(),
            "clv": discounted_purchases[distinct.inverse] * spend.to_numpy() * gross_margin_fraction,
        },
        index=index,
    )
