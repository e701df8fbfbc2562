"""Campaign ROI: incremental economics of a discount offer, best audience size and its uncertainty.

One call does everything a thin callback needs::

    report = evaluate(customer_table, Scenario.from_query(search))
    report.totals.net_profit, report.monte_carlo.prob_profit, report.curve.thinned(), report.tornado
    report.to_dict()  # JSON-safe summary

Modules: :mod:`.audience` (who), :mod:`.economics` (formulas), :mod:`.targeting` (ranking, profit
curve, warnings), :mod:`.uncertainty` (scenarios, tornado, Monte Carlo), :mod:`.scenario` (levers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import DataError
from analytics.audience import AudienceFilter, AudienceSelection, read_id_list, select_audience
from analytics.roi.economics import (
    NO_PURCHASE_COLUMN,
    P0_COLUMN,
    SPEND_COLUMN,
    LearnedAudience,
    Levers,
    P0Source,
    PreparedAudience,
    Totals,
    prepare,
    rescale_horizon,
)
from analytics.roi.scenario import LEARNED, OPTIMAL, Scenario
from analytics.roi.targeting import (
    ProfitCurve,
    profit_curve,
    ranked_customers,
    value_warnings,
)
from analytics.roi.uncertainty import (
    N_SIMS,
    MonteCarloResult,
    lever_ranges,
    monte_carlo,
    scenario_table,
    tornado,
)

__all__ = [
    "AudienceFilter",
    "AudienceSelection",
    "Levers",
    "MonteCarloResult",
    "PreparedAudience",
    "ProfitCurve",
    "RoiReport",
    "Scenario",
    "Totals",
    "compare",
    "evaluate",
    "lever_ranges",
    "monte_carlo",
    "prepare",
    "profit_curve",
    "read_id_list",
    "rescale_horizon",
    "scenario_table",
    "select_audience",
    "tornado",
]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows: NaN -> None, numpy scalars -> Python."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in clean.to_dict("records")
    ]


@dataclass(frozen=True)
class RoiReport:
    """Everything the ROI tab shows for one scenario.

    selection: the filtered audience; selected: its economics inputs; curve: profit over audience
    size within it (ranked); targeted_size: how many of the ranked customers the scenario targets;
    totals: of those targeted;
    customers (built on first use, for export): the ranked selection with a ``targeted`` flag;
    warnings: value-destruction and data remarks; scenarios: pessimistic/base/optimistic totals;
    tornado: lever swings; monte_carlo: simulated net profit of the targeted customers.
    """

    scenario: Scenario
    levers: Levers
    selection: AudienceSelection
    selected: PreparedAudience
    curve: ProfitCurve
    targeted_size: int
    totals: Totals
    warnings: list[str]
    scenarios: pd.DataFrame
    tornado: pd.DataFrame
    monte_carlo: MonteCarloResult

    @property
    def uplift_vs_break_even(self) -> str:
        """Where the assumed uplift stands against the break-even uplift: "nobody targeted", "never" (no uplift
        pays for this offer), "above" (the campaign pays) or "below" (it does not)."""
        break_even = self.totals.break_even_uplift
        if not self.targeted_size:
            return "nobody targeted"
        if break_even is None or not np.isfinite(break_even):
            return "never"
        return "above" if self.levers.uplift_fraction > break_even else "below"

    @cached_property
    def customers(self) -> pd.DataFrame:
        """Ranked selected customers (see :func:`ranked_customers`) with ``targeted`` (bool)."""
        frame = ranked_customers(self.selected, self.levers, self.curve)
        frame["targeted"] = frame["rank"] <= self.targeted_size
        return frame

    def to_dict(self, curve_points: int = 400, histogram_bins: int = 40) -> dict[str, Any]:
        """JSON-safe summary (no per-customer rows): scenario, audience, totals, curve, tornado, MC."""
        return {
            "scenario": self.scenario.to_dict(),
            "audience": self.selection.to_dict(),
            "modelled_customers": self.selected.n,
            "targeted_size": self.targeted_size,
            "optimal_size": self.curve.optimal_size,
            "optimal_net_profit": self.curve.optimal_net_profit,
            "totals": self.totals.to_dict(),
            "warnings": list(self.warnings),
            "scenarios": _records(self.scenarios),
            "tornado": _records(self.tornado),
            "monte_carlo": self.monte_carlo.to_dict(),
            "histogram": _records(self.monte_carlo.histogram(histogram_bins)),
            "curve": _records(self.curve.thinned(curve_points)),
        }


def _economics_rows(selection: AudienceSelection, p0: P0Source, spend: str) -> pd.DataFrame:
    """Selected rows with just the columns the economics read (all columns for a p0 function, or when
    one is missing so that prepare's error lists the table's real columns)."""
    columns = selection.table.columns
    if callable(p0) or spend not in columns:
        return selection.customers
    if p0 in columns:
        return selection.rows([p0, spend])
    if p0 == P0_COLUMN and NO_PURCHASE_COLUMN in columns:
        return selection.rows([NO_PURCHASE_COLUMN, spend])
    return selection.customers


def _missing_note(dropped: pd.Index, limit: int = 10) -> list[str]:
    if len(dropped) == 0:
        return []
    shown = ", ".join(map(str, dropped[:limit])) + (" ..." if len(dropped) > limit else "")
    return [
        f"{len(dropped):,} selected customers have no baseline purchase probability or expected order "
        f"value and are left out: {shown}"
    ]


def _targeted_size(scenario: Scenario, curve: ProfitCurve, n: int) -> tuple[int, list[str]]:
    size = scenario.audience_size
    if size is None:
        return n, []
    if size == OPTIMAL:
        return curve.optimal_size, []
    if size > n:
        return n, [f"audience size {size:,} is more than the {n:,} selected customers; all are targeted"]
    return int(size), []


def evaluate(
    table: pd.DataFrame,
    scenario: Scenario,
    *,
    p0: P0Source = P0_COLUMN,
    spend: str = SPEND_COLUMN,
    p0_horizon_months: float | None = None,
    n_sims: int = N_SIMS,
    seed: int = 0,
    learned: tuple[pd.Series, np.ndarray] | None = None,
) -> RoiReport:
    """Select the audience, rank it, and compute totals, profit curve, warnings, scenarios, tornado and
    Monte Carlo for ``scenario``.

    table: customer table indexed by customer_id with the p0 and spend columns (and the filter columns the
    audience uses). p0, p0_horizon_months: where the baseline purchase probability over
    ``scenario.horizon_months`` comes from (see :func:`analytics.roi.economics.baseline_probability`).
    spend: column of expected order value (currency). Selected customers missing p0 or spend are left out
    and listed in the warnings. Raises DataError when no customer is left.
    learned: for the "learned" uplift source, each customer's own uplift (Series indexed like ``table``)
    and its bootstrap replicates (replicates x customers, columns in the Series' order).
    """
    selection = select_audience(table, scenario.audience)
    if selection.n == 0:
        funnel = "; ".join(f"{label}: {count:,}" for label, count in selection.steps)
        raise DataError(f"the campaign audience is empty ({funnel})")
    levers = scenario.levers()
    selected = prepare(
        _economics_rows(selection, p0, spend),
        scenario.horizon_months,
        p0=p0,
        spend=spend,
        p0_horizon_months=p0_horizon_months,
        drop_missing=True,
    )
    notes = _missing_note(selected.dropped)
    if selected.n == 0:
        raise DataError(f"no selected customer has model inputs: {notes[0]}")
    if scenario.uplift_source == LEARNED:
        selected, levers = _learned(selected, levers, learned)
    curve = profit_curve(selected, levers)
    size, size_notes = _targeted_size(scenario, curve, selected.n)
    targeted = selected if size == selected.n else selected.subset(curve.order[:size])
    totals = targeted.totals(levers)
    return RoiReport(
        scenario=scenario,
        levers=levers,
        selection=selection,
        selected=selected,
        curve=curve,
        targeted_size=size,
        totals=totals,
        warnings=notes + size_notes + value_warnings(totals, curve, targeted, levers),
        scenarios=scenario_table(targeted, levers),
        tornado=tornado(targeted, levers),
        monte_carlo=monte_carlo(targeted, levers, n_sims=n_sims, seed=seed),
    )


def _learned(selected: PreparedAudience, levers: Levers,
             learned: tuple[pd.Series, np.ndarray] | None) -> tuple[LearnedAudience, Levers]:
    """The audience with each customer's learned uplift; the uplift lever becomes a shift of 0 whose
    uncertainty is the spread of the mean learned uplift over the model's bootstrap replicates."""
    if learned is None:
        raise DataError("uplift learned from a campaign test needs a test: measure one on the Methodology "
                        "& evidence tab (assignment file, send date, window) first")
    own, draws = learned
    positions = own.index.get_indexer(selected.ids)
    if (positions < 0).any():
        raise DataError(f"{int((positions < 0).sum()):,} selected customers have no learned uplift")
    audience = LearnedAudience(selected.p0, selected.spend, selected.ids, own.to_numpy()[positions],
                               np.asarray(draws)[:, positions])
    audience.dropped = selected.dropped
    spread = float(audience.draws.mean(axis=1).std()) if audience.draws.shape[0] > 1 else 0.0
    return audience, replace(levers, uplift_fraction=0.0, uplift_sd_fraction=spread)


def compare(reports: list[RoiReport]) -> pd.DataFrame:
    """Side-by-side table of scenarios, one row each: the levers and the headline results.

    Money in currency, ``*_pct`` in percent, ``*_pp`` in percentage points; ready for ``to_csv``.
    """
    rows = []
    for report in reports:
        scenario, totals, mc = report.scenario, report.totals, report.monte_carlo
        levers = {k: v for k, v in scenario.to_dict().items() if k != "audience"}
        rows.append(
            levers
            | {
                "selected_customers": report.selected.n,
                "targeted_customers": report.targeted_size,
                "net_profit": totals.net_profit,
                "roi": totals.roi,
                "incremental_customers": totals.incremental_customers,
                "incremental_margin": totals.incremental_margin,
                "discount_cost": totals.discount_cost,
                "total_cost": totals.total_cost,
                "break_even_uplift_pp": totals.break_even_uplift * 100,
                "cost_per_incremental_customer": totals.cost_per_incremental_customer,
                "optimal_size": report.curve.optimal_size,
                "optimal_net_profit": report.curve.optimal_net_profit,
                "net_profit_p5": mc.percentiles()["p5"],
                "net_profit_p95": mc.percentiles()["p95"],
                "prob_profit": mc.prob_profit,
            }
        )
    return pd.DataFrame(rows)
