"""Uncertainty of a campaign's net profit: lever ranges, scenarios, tornado and Monte Carlo.

Uplift and redemption are the uncertain levers: their range is ``base +/- z sd`` (z = 1.645, a 90 %
interval) when they have a standard deviation, else ``base +/- 20 %`` like the decision levers (discount,
gross margin, contact and fixed cost), which the tornado varies by +/- 20 % of their value.
All evaluations reuse one PreparedAudience, so each costs O(log n) (see :mod:`analytics.roi.economics`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analytics.roi.economics import LearnedAudience, Levers, PreparedAudience

Z_90 = 1.6448536269514722  # two-sided 90 % normal quantile
RELATIVE = 0.2
N_SIMS = 2000

# lever -> (label, display unit, factor from Levers units to display units, lowest, highest)
LEVERS: dict[str, tuple[str, str, float, float, float]] = {
    "uplift_fraction": ("Uplift", "pp", 100.0, -1.0, 1.0),
    "redemption_fraction": ("Redemption", "%", 100.0, 0.0, 1.0),
    "discount_fraction": ("Discount", "%", 100.0, 0.0, 1.0),
    "gross_margin_fraction": ("Gross margin", "%", 100.0, 0.0, 1.0),
    "contact_cost": ("Contact cost per customer", "currency", 1.0, 0.0, np.inf),
    "fixed_cost": ("Fixed cost", "currency", 1.0, 0.0, np.inf),
}
UNCERTAIN = ("uplift_fraction", "redemption_fraction")
_SD = {"uplift_fraction": "uplift_sd_fraction", "redemption_fraction": "redemption_sd_fraction"}


def lever_ranges(
    levers: Levers, *, z: float = Z_90, relative: float = RELATIVE
) -> dict[str, tuple[float, float]]:
    """(low, high) of each lever in Levers units, clipped to the lever's valid range."""
    ranges = {}
    for name, (_, _, _, lowest, highest) in LEVERS.items():
        base = getattr(levers, name)
        sd = getattr(levers, _SD[name]) if name in _SD else 0.0
        half = z * sd if sd > 0 else relative * abs(base)
        ranges[name] = (float(max(lowest, base - half)), float(min(highest, base + half)))
    return ranges


def tornado(
    audience: PreparedAudience, levers: Levers, ranges: dict[str, tuple[float, float]] | None = None
) -> pd.DataFrame:
    """Net profit with each lever at its low and high end, others at base; largest swing first.

    Columns: lever, label, unit, low, base, high (display units: pp, %, currency), net_low, net_high,
    swing = |net_high - net_low| (currency). ``attrs["base_net_profit"]`` holds the base net profit.
    """
    ranges = ranges or lever_ranges(levers)
    base_net = float(audience.net_profit(levers))
    rows = []
    for name, (low, high) in ranges.items():
        label, unit, factor, _, _ = LEVERS[name]
        net_low = float(audience.net_profit(replace(levers, **{name: low})))
        net_high = float(audience.net_profit(replace(levers, **{name: high})))
        rows.append(
            {
                "lever": name,
                "label": label,
                "unit": unit,
                "low": low * factor,
                "base": getattr(levers, name) * factor,
                "high": high * factor,
                "net_low": net_low,
                "net_high": net_high,
                "swing": abs(net_high - net_low),
            }
        )
    frame = pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs["base_net_profit"] = base_net
    return frame


def scenario_levers(
    audience: PreparedAudience, levers: Levers, ranges: dict[str, tuple[float, float]] | None = None
) -> dict[str, Levers]:
    """Pessimistic / base / optimistic levers: each uncertain lever at the end of its range that gives
    the lower (pessimistic) or higher (optimistic) net profit, the other levers at base. ``ranges`` may
    override some levers' ranges; the others come from :func:`lever_ranges`."""
    ranges = lever_ranges(levers) | (ranges or {})
    worst, best = {}, {}
    for name in UNCERTAIN:
        low, high = ranges[name]
        net_low = audience.net_profit(replace(levers, **{name: low}))
        net_high = audience.net_profit(replace(levers, **{name: high}))
        worst[name], best[name] = (low, high) if net_low <= net_high else (high, low)
    return {
        "pessimistic": replace(levers, **worst),
        "base": levers,
        "optimistic": replace(levers, **best),
    }


def scenario_table(audience: PreparedAudience, levers: Levers, ranges: dict | None = None) -> pd.DataFrame:
    """One row per scenario (pessimistic, base, optimistic): uplift_pp, redemption_pct and the totals."""
    rows = []
    for name, lv in scenario_levers(audience, levers, ranges).items():
        totals = audience.totals(lv)
        rows.append(
            {"scenario": name, "uplift_pp": lv.uplift_fraction * 100,
             "redemption_pct": lv.redemption_fraction * 100}
            | totals.to_dict()
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class MonteCarloResult:
    """Simulated net profit (currency) with the draws that produced it (uplift and redemption as fractions, in
    the units of ``Levers``)."""

    net_profit: np.ndarray
    uplift_fraction: np.ndarray
    redemption_fraction: np.ndarray
    seed: int

    @property
    def prob_profit(self) -> float:
        """P(net profit > 0)."""
        return float(np.mean(self.net_profit > 0))

    def percentiles(self, q: tuple[float, ...] = (5, 50, 95)) -> dict[str, float]:
        values = np.percentile(self.net_profit, q)
        return {f"p{q_:g}": float(v) for q_, v in zip(q, values, strict=True)}

    def histogram(self, bins: int = 40) -> pd.DataFrame:
        """Counts of net profit per bin: left, right (currency), count."""
        counts, edges = np.histogram(self.net_profit, bins=bins)
        return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts})

    def to_dict(self) -> dict[str, float | int]:
        """JSON-safe summary: n_sims, seed, mean, p5, p50, p95, prob_profit."""
        return {
            "n_sims": int(self.net_profit.size),
            "seed": self.seed,
            "mean": float(self.net_profit.mean()),
            **self.percentiles(),
            "prob_profit": self.prob_profit,
        }


def draw_redemption(rng: np.random.Generator, mean: float, sd: float, size: int) -> np.ndarray:
    """Beta draws with this mean and sd (method of moments); sd is capped below the largest a Beta allows,
    and a mean of exactly 0 or 1 (or sd 0) gives a constant."""
    if sd <= 0 or mean <= 0 or mean >= 1:
        return np.full(size, float(mean))
    sd = min(sd, 0.99 * np.sqrt(mean * (1 - mean)))
    concentration = mean * (1 - mean) / sd**2 - 1
    return rng.beta(mean * concentration, (1 - mean) * concentration, size)


def monte_carlo(
    audience: PreparedAudience, levers: Levers, *, n_sims: int = N_SIMS, seed: int = 0
) -> MonteCarloResult:
    """Net profit over uplift ~ Normal(uplift, uplift_sd) clipped to [-1, 1] and redemption ~ Beta(mean,
    sd), independent; exact per draw (clip at p1 = 1 included) in O(n_sims log n).

    With learned uplifts each draw takes one bootstrap replicate of the model (every customer's own
    uplift from the same refit) instead of a normal uplift; ``uplift_fraction`` then records the replicate's
    mean.
    """
    rng = np.random.default_rng(seed)
    if isinstance(audience, LearnedAudience):
        pick = rng.integers(len(audience.draws), size=n_sims)
        redemption = draw_redemption(rng, levers.redemption_fraction, levers.redemption_sd_fraction, n_sims)
        lift_spend = audience.replicate_lift_spend()[pick]
        net = (levers.gross_margin_fraction * lift_spend
               - redemption * levers.discount_fraction * (audience.p0_spend + lift_spend)
               - audience.n * levers.contact_cost - (levers.fixed_cost if audience.n else 0.0))
        uplift = audience.draws.mean(axis=1)[pick] if audience.n else np.zeros(n_sims)
        return MonteCarloResult(net, uplift, redemption, seed)
    uplift = np.clip(rng.normal(levers.uplift_fraction, levers.uplift_sd_fraction, n_sims), -1.0, 1.0)
    redemption = draw_redemption(rng, levers.redemption_fraction, levers.redemption_sd_fraction, n_sims)
    net = audience.net_profit(levers, uplift=uplift, redemption=redemption)
    return MonteCarloResult(net, uplift, redemption, seed)
