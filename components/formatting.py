"""Number formatting for people: thousands separators, currency-neutral money, percentages."""

from __future__ import annotations

import math

from analytics.audience import AT_RISK_CHURN_PROBABILITY


def count(value: float | int) -> str:
    return f"{value:,.0f}"


def money(value: float, decimals: int = 0) -> str:
    """Money in the data's currency, abbreviated above a million (e.g. 9.75M)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if round(value, decimals) == 0:
        value = 0.0  # no "-0" for a tiny negative sum
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:,.1f}k"
    return f"{value:,.{decimals}f}"


def percent(fraction: float, decimals: int = 1) -> str:
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "–"
    return f"{fraction * 100:.{decimals}f} %"


# The churn-probability sliders of the explorer and the ROI simulator mark where "at risk" starts.
CHURN_MARKS = {0: "0", AT_RISK_CHURN_PROBABILITY: f"{AT_RISK_CHURN_PROBABILITY:g} at risk", 1: "1"}
