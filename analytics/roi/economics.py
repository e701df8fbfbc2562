"""Incremental economics of a discount campaign, vectorised over customers.

Per targeted customer i (probabilities over the campaign horizon, money in the table's currency):

- ``p0``: baseline probability of purchasing without the offer;
- ``p1 = clip(p0 + uplift, 0, 1)``: probability with the offer (uplift is absolute, the same for everyone);
- ``m = gross_margin * spend``: expected margin of an order (``spend`` = expected order value);
- ``d = discount * spend``: discount given away when an order uses the offer;
- ``r`` = redemption: the share of purchasers in the audience who use the offer;
- ``c`` = contact cost per targeted customer; ``F`` = fixed campaign cost.

Incremental value ``v = p1 (m - r d) - p0 m - c = (p1 - p0) m - r p1 d - c``. Customers who would have
bought anyway (``p0``) take the discount too: ``r p0 d`` is pure cost. Campaign totals:

- incremental margin ``IM = sum (p1 - p0) m``; discount cost ``DC = r sum p1 d``;
- contact cost ``CC = n c``; fixed cost ``F`` (0 for an empty audience: no campaign);
  total cost ``TC = DC + CC + F``; net profit ``NP = IM - DC - CC - F``;
- ROI ``= NP / TC``; expected incremental customers ``sum (p1 - p0)``;
  cost per incremental customer ``= TC / sum (p1 - p0)``;
- break-even uplift: the uplift at which ``NP = 0``. With ``S(u) = sum spend_i (p1_i(u) - p0_i)``,
  ``NP(u) = (g - r delta) S(u) - r delta sum p0 spend - n c - F``; ``S`` is piecewise linear in ``u``
  (each customer's gain stops at ``1 - p0``), so the root is found exactly, clip included, from the
  sorted caps. It does not exist (NaN) when ``r delta >= g`` (every sale made with the offer loses
  money) or when even ``u = 1`` does not pay.

Because ``S(u)`` is computed exactly from prefix sums over the sorted caps, totals for any uplift cost
O(log n) after one O(n log n) preparation; the Monte Carlo and the tornado rely on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import DataError

P0_COLUMN = "p_purchase"
NO_PURCHASE_COLUMN = "p_no_purchase"  # analytics.clv output over the CLV horizon: p0 = 1 - it
SPEND_COLUMN = "expected_spend"

P0Source = str | Callable[[pd.DataFrame, float], Any]


@dataclass(frozen=True)
class Levers:
    """Resolved levers in the units the maths uses (fractions 0-1 and currency).

    discount_fraction: share of the order value given away when the offer is used.
    redemption_fraction: share of purchasers in the audience who use the offer.
    uplift_fraction: absolute increase in the purchase probability over the horizon (-1..1).
    gross_margin_fraction: margin as a share of order value.
    contact_cost: currency per targeted customer. fixed_cost: currency per campaign.
    uplift_sd_fraction, redemption_sd_fraction: standard deviations for the Monte Carlo (same units).
    """

    discount_fraction: float
    redemption_fraction: float
    uplift_fraction: float
    gross_margin_fraction: float
    contact_cost: float = 0.0
    fixed_cost: float = 0.0
    uplift_sd_fraction: float = 0.0
    redemption_sd_fraction: float = 0.0


@dataclass(frozen=True)
class Totals:
    """Campaign totals for one audience and one set of levers (currency unless stated)."""

    n_customers: int
    baseline_buyers: float  # sum p0: expected purchasers without the offer
    expected_buyers: float  # sum p1
    incremental_customers: float  # sum (p1 - p0)
    incremental_revenue: float  # sum (p1 - p0) spend, before discount
    incremental_margin: float
    discount_cost: float
    discount_cost_baseline: float  # part of the discount cost paid to customers who would have bought anyway
    contact_cost: float
    fixed_cost: float
    total_cost: float
    net_profit: float
    roi: float  # net_profit / total_cost (ratio); NaN when nothing is spent
    cost_per_incremental_customer: float  # NaN when there are no incremental customers
    break_even_uplift: float  # probability (0-1); NaN when no uplift breaks even

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-safe: NaN and infinities become None."""
        return {k: _json_number(v) for k, v in asdict(self).items()}


def _json_number(value: float | int) -> float | int | None:
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return value if np.isfinite(value) else None


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


def _first_bad(ids: pd.Index, values: np.ndarray, bad: np.ndarray, limit: int = 5) -> str:
    where = np.flatnonzero(bad)[:limit]
    return ", ".join(f"{ids[i]}={float(values[i]):g}" for i in where)


class _CappedSums:
    """``sum_i min(t, cap_i)`` and ``sum_i spend_i min(t, cap_i)`` for many t at once, from prefix sums
    over the caps sorted ascending (customers with cap <= t contribute their cap, the others t)."""

    def __init__(self, caps: np.ndarray, spend: np.ndarray) -> None:
        self.caps = caps
        self.n = caps.size
        self.cap_sum = np.concatenate(([0.0], np.cumsum(caps)))
        self.spend_sum = np.concatenate(([0.0], np.cumsum(spend)))
        self.spend_cap_sum = np.concatenate(([0.0], np.cumsum(spend * caps)))

    def __call__(self, t: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(t, dtype=float)
        k = np.searchsorted(self.caps, t, side="right")
        count = self.cap_sum[k] + t * (self.n - k)
        spend = self.spend_cap_sum[k] + t * (self.spend_sum[-1] - self.spend_sum[k])
        return count, spend

    def spend_above(self, t: float) -> float:
        """Spend of the customers whose cap exceeds t: the slope of the spend sum just above t."""
        return float(self.spend_sum[-1] - self.spend_sum[np.searchsorted(self.caps, t, side="right")])

    @cached_property
    def spend_at_caps(self) -> np.ndarray:
        """The spend sum evaluated at each cap (non-decreasing), to invert it."""
        values = self.spend_cap_sum[1:] + self.caps * (self.spend_sum[-1] - self.spend_sum[1:])
        return np.maximum.accumulate(values)  # guards rounding among tied caps


class PreparedAudience:
    """Per-customer inputs of one audience with the sorted caches that make totals O(log n).

    p0: baseline purchase probability over the campaign horizon (0-1).
    spend: expected order value (currency, >= 0).
    ids: customer IDs (for messages and per-customer outputs, kept as a pandas Index); positions when omitted.
    """

    def __init__(self, p0: Any, spend: Any, ids: Any = None) -> None:
        p0 = np.asarray(p0, dtype=float).ravel()
        spend = np.asarray(spend, dtype=float).ravel()
        if p0.shape != spend.shape:
            raise DataError(f"p0 has {p0.size} values but spend has {spend.size}; one of each per customer")
        ids = pd.RangeIndex(p0.size) if ids is None else pd.Index(ids)
        if len(ids) != p0.size:
            raise DataError(f"{len(ids)} customer IDs for {p0.size} customers")
        bad_p0 = ~((p0 >= 0) & (p0 <= 1))  # also catches NaN
        if bad_p0.any():
            raise DataError(
                "baseline purchase probability must be in 0-1 for every customer; "
                f"{int(bad_p0.sum())} are not (first: {_first_bad(ids, p0, bad_p0)})"
            )
        bad_spend = ~((spend >= 0) & np.isfinite(spend))
        if bad_spend.any():
            raise DataError(
                "expected order value must be a finite amount >= 0 for every customer; "
                f"{int(bad_spend.sum())} are not (first: {_first_bad(ids, spend, bad_spend)})"
            )
        self.p0 = p0
        self.spend = spend
        self.ids = ids
        self.n = int(p0.size)
        self.p0_spend = float(p0 @ spend)
        self.dropped: pd.Index = pd.Index([])  # set by prepare(drop_missing=True)

    @cached_property
    def _p0_order(self) -> np.ndarray:
        return np.argsort(self.p0)

    @cached_property
    def _up(self) -> _CappedSums:
        """Caps 1 - p0 (how far each p1 can rise), ascending."""
        order = self._p0_order[::-1]
        return _CappedSums(1.0 - self.p0[order], self.spend[order])

    @cached_property
    def _down(self) -> _CappedSums:
        """Caps p0 (how far each p1 can fall), ascending; only built when an uplift is negative."""
        order = self._p0_order
        return _CappedSums(self.p0[order], self.spend[order])

    def lift(self, uplift: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact ``sum (p1 - p0)`` and ``sum spend (p1 - p0)`` for each uplift value (vectorised).

        For u >= 0, ``p1 - p0 = min(u, 1 - p0)``; for u < 0, ``-min(-u, p0)``: a sum of capped terms
        read from prefix sums over the sorted caps.
        """
        u = np.asarray(uplift, dtype=float)
        out_n = np.empty_like(u)
        out_s = np.empty_like(u)
        up = u >= 0
        if np.all(up):
            return self._up(u)
        for mask, sums, sign in ((up, self._up, 1.0), (~up, self._down, -1.0)):
            if np.any(mask):
                n_sum, s_sum = sums(np.abs(u[mask]))
                out_n[mask], out_s[mask] = sign * n_sum, sign * s_sum
        return out_n, out_s

    def net_profit(self, levers: Levers, uplift: Any = None, redemption: Any = None) -> np.ndarray:
        """Net profit (currency) for arrays of uplift and redemption that broadcast; the rest from levers."""
        u = levers.uplift_fraction if uplift is None else uplift
        r = np.asarray(levers.redemption_fraction if redemption is None else redemption, dtype=float)
        _, lift_spend = self.lift(u)
        g, delta = levers.gross_margin_fraction, levers.discount_fraction
        return (
            g * lift_spend
            - r * delta * (self.p0_spend + lift_spend)
            - self.n * levers.contact_cost
            - self._fixed_cost(levers)
        )

    def _fixed_cost(self, levers: Levers) -> float:
        """Targeting nobody means no campaign, hence no fixed cost."""
        return levers.fixed_cost if self.n else 0.0

    def totals(self, levers: Levers) -> Totals:
        """All campaign totals for these levers (see the module docstring for the formulas)."""
        lift_n, lift_s = (float(x) for x in self.lift(levers.uplift_fraction))
        g, delta, r = levers.gross_margin_fraction, levers.discount_fraction, levers.redemption_fraction
        incremental_margin = g * lift_s
        discount_baseline = r * delta * self.p0_spend
        discount_cost = discount_baseline + r * delta * lift_s
        contact_cost = self.n * levers.contact_cost
        fixed_cost = self._fixed_cost(levers)
        total_cost = discount_cost + contact_cost + fixed_cost
        net = incremental_margin - total_cost
        return Totals(
            n_customers=self.n,
            baseline_buyers=float(self.p0.sum()),
            expected_buyers=float(self.p0.sum()) + lift_n,
            incremental_customers=lift_n,
            incremental_revenue=lift_s,
            incremental_margin=incremental_margin,
            discount_cost=discount_cost,
            discount_cost_baseline=discount_baseline,
            contact_cost=contact_cost,
            fixed_cost=fixed_cost,
            total_cost=total_cost,
            net_profit=net,
            roi=_ratio(net, total_cost),
            cost_per_incremental_customer=_ratio(total_cost, lift_n),
            break_even_uplift=self.break_even_uplift(levers),
        )

    def break_even_uplift(self, levers: Levers) -> float:
        """Uplift (probability) at which net profit is 0, exact with the clip at p1 = 1; NaN if none.

        Net profit is ``k S(u) - B`` with ``k = g - r delta``, ``B = r delta sum p0 spend + n c + F >= 0``
        and ``S`` increasing, piecewise linear, flat after its last cap: invert ``S`` at ``B / k``.
        """
        if self.n == 0:
            return float("nan")
        k = levers.gross_margin_fraction - levers.redemption_fraction * levers.discount_fraction
        b = (
            levers.redemption_fraction * levers.discount_fraction * self.p0_spend
            + self.n * levers.contact_cost
            + levers.fixed_cost
        )
        if b <= 0:
            return 0.0
        if k <= 0:
            return float("nan")
        target = b / k
        up = self._up
        s_at_caps = up.spend_at_caps
        if target > s_at_caps[-1] * (1 + 1e-12):
            return float("nan")
        j = int(np.searchsorted(s_at_caps, target, side="left"))
        u_prev = float(up.caps[j - 1]) if j > 0 else 0.0
        s_prev = float(up(u_prev)[1])
        slope = up.spend_above(u_prev)
        return u_prev if slope <= 0 else min(1.0, u_prev + (target - s_prev) / slope)

    def p1(self, uplift: float) -> np.ndarray:
        """Per-customer purchase probability with the offer."""
        return np.clip(self.p0 + uplift, 0.0, 1.0)

    def incremental_values(self, levers: Levers) -> np.ndarray:
        """Per-customer expected incremental value ``(p1 - p0) m - r p1 d - c`` (currency)."""
        p1 = self.p1(levers.uplift_fraction)
        return (
            (p1 - self.p0) * levers.gross_margin_fraction * self.spend
            - levers.redemption_fraction * p1 * levers.discount_fraction * self.spend
            - levers.contact_cost
        )

    def subset(self, positions: np.ndarray) -> PreparedAudience:
        """The audience restricted to these positions (e.g. the top-ranked customers)."""
        return PreparedAudience(self.p0[positions], self.spend[positions], self.ids.take(positions))


class LearnedAudience(PreparedAudience):
    """An audience whose customers each have their own uplift, learned from a campaign test.

    ``p1 = clip(p0 + own_uplift + shift)``: the lever ``uplift`` becomes a shift added to everyone's own
    uplift (0 at base; the tornado and the scenarios move it). ``draws`` (replicates x customers) are the
    own uplifts from bootstrap refits of the model: the Monte Carlo picks one replicate per draw, so it
    carries the model's uncertainty. Sums are O(n) per uplift value (no sorted caps: each customer's cap
    differs), which the few values the tornado and scenarios need can afford.
    """

    def __init__(self, p0: Any, spend: Any, ids: Any, own_uplift: Any, draws: Any) -> None:
        super().__init__(p0, spend, ids)
        self.own = np.asarray(own_uplift, dtype=float).ravel()
        self.draws = np.asarray(draws, dtype=float).reshape(-1, self.n)
        if self.own.size != self.n or not np.isfinite(self.own).all() or not np.isfinite(self.draws).all():
            raise DataError("every customer needs a finite learned uplift")

    def p1(self, uplift: float) -> np.ndarray:
        return np.clip(self.p0 + self.own + uplift, 0.0, 1.0)

    def lift(self, uplift: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shift = np.asarray(uplift, dtype=float)
        gain = np.clip(self.p0 + self.own + shift.reshape(-1, 1), 0.0, 1.0) - self.p0
        return gain.sum(axis=1).reshape(shift.shape), (gain @ self.spend).reshape(shift.shape)

    def break_even_uplift(self, levers: Levers) -> float:
        """The shift of everyone's own uplift at which net profit is 0 (bisection: profit rises with the
        shift when the margin beats the redeemed discount); NaN if none in [-1, 1]."""
        if self.n == 0 or levers.gross_margin_fraction <= levers.redemption_fraction * levers.discount_fraction:
            return float("nan")
        low, high = -1.0, 1.0
        if self.net_profit(levers, uplift=high) < 0 or self.net_profit(levers, uplift=low) > 0:
            return float("nan")
        for _ in range(50):
            mid = (low + high) / 2
            low, high = (mid, high) if self.net_profit(levers, uplift=mid) < 0 else (low, mid)
        return (low + high) / 2

    def replicate_lift_spend(self) -> np.ndarray:
        """``sum spend (p1 - p0)`` under each bootstrap replicate of the own uplifts (shift 0)."""
        gain = np.clip(self.p0 + self.draws, 0.0, 1.0) - self.p0
        return gain @ self.spend

    def subset(self, positions: np.ndarray) -> LearnedAudience:
        return LearnedAudience(self.p0[positions], self.spend[positions], self.ids.take(positions),
                               self.own[positions], self.draws[:, positions])


def rescale_horizon(p: Any, from_months: float, to_months: float) -> np.ndarray:
    """P(purchase within ``to_months``) from P(purchase within ``from_months``).

    Assumes a constant purchase hazard (Poisson purchasing): ``1 - (1 - p) ** (to / from)``.
    """
    p = np.asarray(p, dtype=float)
    return 1.0 - np.power(1.0 - p, to_months / from_months)


def baseline_probability(
    table: pd.DataFrame,
    horizon_months: float,
    p0: P0Source = P0_COLUMN,
    p0_horizon_months: float | None = None,
) -> np.ndarray:
    """Baseline purchase probability over the campaign horizon for each row of ``table``.

    p0: a column name or a callable ``f(table, horizon_months) -> probabilities`` (e.g. rebuilt BG/NBD).
    The default column ``p_purchase`` falls back to ``1 - p_no_purchase`` (the CLV table's column, over the
    CLV horizon: pass that horizon as ``p0_horizon_months``).
    p0_horizon_months: the horizon the column was computed for; when given and different from
    ``horizon_months`` the column is rescaled by :func:`rescale_horizon`. When None the column is taken
    as already being for the campaign horizon.
    """
    if callable(p0):
        values = np.asarray(p0(table, horizon_months), dtype=float).ravel()
        if values.size != len(table):
            raise DataError(f"the p0 function returned {values.size} values for {len(table)} customers")
        return values
    if p0 in table.columns:
        values = pd.to_numeric(table[p0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    elif p0 == P0_COLUMN and NO_PURCHASE_COLUMN in table.columns:
        values = 1.0 - pd.to_numeric(table[NO_PURCHASE_COLUMN], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    else:
        raise DataError(
            f"the customer table has no column {p0!r} (baseline purchase probability over the horizon); "
            f"columns are: {', '.join(map(str, table.columns))}"
        )
    if p0_horizon_months is not None and p0_horizon_months != horizon_months:
        if p0_horizon_months <= 0:
            raise DataError(f"p0 horizon must be > 0 months; got {p0_horizon_months}")
        values = rescale_horizon(values, p0_horizon_months, horizon_months)
    return values


def prepare(
    table: pd.DataFrame,
    horizon_months: float,
    *,
    p0: P0Source = P0_COLUMN,
    spend: str = SPEND_COLUMN,
    p0_horizon_months: float | None = None,
    drop_missing: bool = False,
) -> PreparedAudience:
    """PreparedAudience from a customer table indexed by customer_id (see :func:`baseline_probability`).

    drop_missing: leave out customers whose p0 or spend is missing (NaN), listing them in ``.dropped``;
    by default they are a DataError like any other bad value.
    """
    if spend not in table.columns:
        raise DataError(
            f"the customer table has no column {spend!r} (expected order value); "
            f"columns are: {', '.join(map(str, table.columns))}"
        )
    p0_values = baseline_probability(table, horizon_months, p0, p0_horizon_months)
    spend_values = pd.to_numeric(table[spend], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not drop_missing:
        return PreparedAudience(p0_values, spend_values, table.index)
    missing = np.isnan(p0_values) | np.isnan(spend_values)
    keep = ~missing
    audience = PreparedAudience(p0_values[keep], spend_values[keep], table.index[keep])
    audience.dropped = table.index[missing]
    return audience
