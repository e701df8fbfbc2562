"""What the CLV stage leaves in the results: a typed, frozen record of the whole stage (forecast, tournament,
holdout check), read by the app, the CLI's summary and the tests through the same fields. The fits inside it
are the models' own records (``analytics.clv.bgnbd.PurchaseModelFit``, ``analytics.clv.gamma_gamma.SpendModelFit``).

They hold plain values and tables, never ``lifetimes`` objects (which do not pickle); ``summary()`` is the
JSON-safe part worth writing to ``summary.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analytics.errors import ModelFailure

if TYPE_CHECKING:
    from analytics.clv.bgnbd import ModelFit
    from analytics.clv.forecast import ValueForecast
    from analytics.clv.tournament import Tournament
    from analytics.clv.validation import HoldoutValidation


@dataclass(frozen=True, eq=False)
class ClvRecord:
    """The CLV stage of one run, in ``time_unit`` ("days"): the base-wide forecast of the model that fills
    the CLV columns (``model``; ``chosen_by`` "user" or "tournament"; fits, equity interval,
    drop-out collapse), the tournament that ranked the candidates (or why it could not run), why the chosen
    model fell back to another (``fallback_note``, "" when it did not) and the BG/NBD holdout check (or why
    it could not be made). Horizon, margin and discount rate are the run's parameters (``Results.params``)."""

    time_unit: str
    chosen_by: str
    forecast: ValueForecast
    tournament: Tournament | ModelFailure
    fallback_note: str
    validation: HoldoutValidation | ModelFailure

    @property
    def model(self) -> str:
        return self.forecast.model

    @property
    def model_label(self) -> str:
        return self.forecast.label

    def summary(self) -> dict[str, Any]:
        tournament = self.tournament
        return {
            "time_unit": self.time_unit, "model": self.model, "model_label": self.model_label,
            "chosen_by": self.chosen_by, "purchase_model": _summary(self.forecast.purchase_model),
            "gamma_gamma": _summary(self.forecast.gamma_gamma), "equity_low": self.forecast.equity_low,
            "equity_high": self.forecast.equity_high, "dropout_collapsed": self.forecast.dropout_collapsed,
            "horizon_note": self.forecast.horizon_note,
            "fallback_note": self.fallback_note,
            "tournament": tournament.summary() if isinstance(tournament, ModelFailure) else {
                "winner": tournament.winner, "reason": tournament.reason, "beats_naive": tournament.beats_naive,
                "calibration_end": tournament.calibration_end, "observation_end": tournament.observation_end,
                "n_customers": tournament.n_customers,
                "base_customers": tournament.base_customers, "table": tournament.table.reset_index()},
            "validation": self.validation.summary(),
        }


def _summary(fit: ModelFit | None) -> dict[str, Any] | None:
    return None if fit is None else fit.summary()
