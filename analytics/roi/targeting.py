"""Who to target: rank by expected incremental value, profit curve over audience size, warnings.

Targeting the top ``k`` customers of the ranking earns ``sum of their incremental values - fixed cost``
(``k >= 1``); targeting nobody (``k = 0``) means no campaign and earns 0. Because the values are sorted
in decreasing order the curve is concave, and its maximum is the best of all subsets of the audience.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.roi.economics import Levers, PreparedAudience, Totals

SURE_THING_P0 = 0.8  # baseline purchase probability above which a customer "would buy anyway"
SURE_THING_MAX_SHARE = 0.25  # warn when more than this share of the targeted audience are sure things


def rank(values: np.ndarray) -> np.ndarray:
    """Positions sorted by decreasing value. Ties come in an arbitrary but reproducible order (a stable
    sort is three times slower on 100k customers, and tied customers are worth exactly the same)."""
    return np.argsort(-np.asarray(values, dtype=float))


@dataclass(frozen=True)
class ProfitCurve:
    """Net profit of targeting the top ``k`` customers, for k = 0..n.

    frame: audience_size, net_profit, incremental_customers, total_cost (currency), one row per k.
    order: positions of the customers in ranking order; values: their incremental values (ranked).
    optimal_size: the smallest k with the highest net profit; optimal_net_profit its net profit.
    """

    frame: pd.DataFrame
    order: np.ndarray
    values: np.ndarray
    optimal_size: int
    optimal_net_profit: float

    def thinned(self, max_points: int = 400) -> pd.DataFrame:
        """At most about ``max_points`` evenly spaced rows for a chart, always with 0, n and the optimum."""
        n = len(self.frame)
        if n <= max_points:
            return self.frame
        keep = np.unique(
            np.concatenate([np.linspace(0, n - 1, max_points).round().astype(int), [self.optimal_size]])
        )
        return self.frame.iloc[keep].reset_index(drop=True)


def profit_curve(audience: PreparedAudience, levers: Levers) -> ProfitCurve:
    """Rank the audience by incremental value and accumulate net profit over audience size."""
    values = audience.incremental_values(levers)
    order = rank(values)
    ranked = values[order]
    p0, spend = audience.p0[order], audience.spend[order]
    p1 = audience.p1(levers.uplift_fraction)[order]
    cost = levers.redemption_fraction * levers.discount_fraction * p1 * spend + levers.contact_cost
    net = np.concatenate(([0.0], np.cumsum(ranked) - levers.fixed_cost))
    frame = pd.DataFrame(
        {
            "audience_size": np.arange(audience.n + 1),
            "net_profit": net,
            "incremental_customers": np.concatenate(([0.0], np.cumsum(p1 - p0))),
            "total_cost": np.concatenate(([0.0], np.cumsum(cost) + levers.fixed_cost)),
        }
    )
    best = int(np.argmax(net))
    return ProfitCurve(frame, order, ranked, best, float(net[best]))


def ranked_customers(audience: PreparedAudience, levers: Levers, curve: ProfitCurve) -> pd.DataFrame:
    """One row per customer in ranking order (index customer_id) for export.

    Columns: rank (1 = best), p0, p1, expected_spend, incremental_value (currency),
    cumulative_net_profit (targeting down to this row), in_optimal (within the optimal size),
    sure_thing (p0 > SURE_THING_P0).
    """
    order = curve.order
    p0 = audience.p0[order]
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, audience.n + 1),
            "p0": p0,
            "p1": audience.p1(levers.uplift_fraction)[order],
            "expected_spend": audience.spend[order],
            "incremental_value": curve.values,
            "cumulative_net_profit": curve.frame["net_profit"].to_numpy()[1:],
            "in_optimal": np.arange(audience.n) < curve.optimal_size,
            "sure_thing": p0 > SURE_THING_P0,
        },
        index=audience.ids.take(order).rename("customer_id"),
    )
    return frame


def _money(x: float) -> str:
    return f"{x:,.0f}"


def value_warnings(
    totals: Totals,
    curve: ProfitCurve,
    targeted: PreparedAudience,
    levers: Levers,
    *,
    sure_thing_p0: float = SURE_THING_P0,
    max_sure_share: float = SURE_THING_MAX_SHARE,
) -> list[str]:
    """Plain-language warnings when the offer destroys value.

    totals: of the targeted audience; curve: over the selected audience (ranked); targeted: the customers
    actually targeted.
    """
    warnings: list[str] = []
    if levers.redemption_fraction * levers.discount_fraction >= levers.gross_margin_fraction and levers.discount_fraction > 0:
        warnings.append(
            f"The discount ({levers.discount_fraction:.0%}) times redemption ({levers.redemption_fraction:.0%}) is at "
            f"least the gross margin ({levers.gross_margin_fraction:.0%}): every sale made with the offer loses "
            "money, so no uplift can pay for the campaign."
        )
    if curve.optimal_size == 0 and len(curve.values):
        warnings.append(
            "No audience size makes a profit: the best is to target nobody "
            f"(the best single customer adds {_money(curve.values[0])} before the fixed cost of "
            f"{_money(levers.fixed_cost)})."
        )
    if totals.n_customers and totals.net_profit < 0:
        advice = (
            f" Targeting only the top {curve.optimal_size:,} would make {_money(curve.optimal_net_profit)}."
            if curve.optimal_size > 0
            else ""
        )
        warnings.append(
            f"The targeted audience of {totals.n_customers:,} customers loses {_money(-totals.net_profit)}."
            + advice
        )
    if targeted.n:
        sure = targeted.p0 > sure_thing_p0
        share = float(sure.mean())
        if share > max_sure_share:
            cost = levers.redemption_fraction * levers.discount_fraction * float(targeted.p0[sure] @ targeted.spend[sure])
            warnings.append(
                f"{share:.0%} of the targeted customers ({int(sure.sum()):,}) would buy anyway "
                f"(baseline probability above {sure_thing_p0:.0%}); the discount on purchases they "
                f"would have made anyway costs about {_money(cost)}."
            )
    return warnings
