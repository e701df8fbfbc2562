"""Analysis parameters: one validated, hashable record that keys the results cache."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import pandas as pd

from analytics.clustering.methods import METHODS as CLUSTER_METHODS
from analytics.clv.tournament import CANDIDATES as CLV_MODELS
from analytics.errors import DataError
from analytics.fields import reject_unknown


@dataclass(frozen=True)
class AnalysisParams:
    """Everything a user can set before a run.

    as_of: ISO date; None = the day after the last transaction.
    clv_horizon_months: CLV and expected-purchase horizon, months.
    gross_margin_fraction: gross margin applied to spend, fraction 0-1.
    monthly_discount_rate: discount rate per month for CLV, fraction.
    churn_window_days: a customer with no purchase in this many days is churned, days.
    cluster_method: one of CLUSTER_METHODS; cluster_k None = chosen over k_min..k_max.
    net_returns: net returns from monetary value (True) or ignore them.
    clv_model: purchase model behind the CLV column, one of CLV_MODELS; None = the tournament's winner.
    """

    as_of: str | None = None
    clv_horizon_months: int = 12
    gross_margin_fraction: float = 0.3
    monthly_discount_rate: float = 0.01
    churn_window_days: int = 90
    cluster_method: str = "kmeans"
    cluster_k: int | None = None
    k_min: int = 2
    k_max: int = 8
    net_returns: bool = True
    clv_model: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.as_of is not None:
            try:
                pd.Timestamp(self.as_of)
            except (ValueError, TypeError):
                problems.append(f"as_of {self.as_of!r} is not a date (expected YYYY-MM-DD)")
        if not 1 <= self.clv_horizon_months <= 120:
            problems.append(f"CLV horizon {self.clv_horizon_months} months is outside 1-120")
        if not 0 < self.gross_margin_fraction <= 1:
            problems.append(f"gross margin {self.gross_margin_fraction} must be a fraction in (0, 1]")
        if not 0 <= self.monthly_discount_rate < 1:
            problems.append(f"monthly discount rate {self.monthly_discount_rate} must be in [0, 1)")
        if not 7 <= self.churn_window_days <= 730:
            problems.append(f"churn window {self.churn_window_days} days is outside 7-730")
        if self.cluster_method not in CLUSTER_METHODS:
            problems.append(f"clustering method {self.cluster_method!r} is not one of {', '.join(CLUSTER_METHODS)}")
        if not 2 <= self.k_min <= self.k_max <= 20:
            problems.append(f"k range {self.k_min}-{self.k_max} must satisfy 2 <= min <= max <= 20")
        if self.cluster_k is not None and not 2 <= self.cluster_k <= 20:
            problems.append(f"number of clusters {self.cluster_k} is outside 2-20")
        if self.clv_model is not None and not (isinstance(self.clv_model, str) and self.clv_model in CLV_MODELS):
            problems.append(f"CLV model {self.clv_model!r} is not one of {', '.join(CLV_MODELS)}")
        if problems:
            raise DataError("invalid parameters: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "AnalysisParams":
        """Build from a (possibly partial) dict; unknown keys are an error, named."""
        reject_unknown(values, (f.name for f in fields(cls)), "parameter")
        return cls(**values)
