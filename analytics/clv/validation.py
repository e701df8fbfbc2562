"""Holdout validation of the purchase model: fit on a calibration period, predict the holdout, compare.

The comparison is with a naive baseline that extrapolates each customer's own past repeat rate:
``baseline = frequency / T * duration_holdout`` (0 when T = 0, i.e. a first purchase on the last calibration
day). Both are judged per customer (MAE, RMSE, Pearson correlation with the actual holdout purchases) and in
aggregate (% error of the total). The weekly tracking table is Fader, Hardie & Lee's (2005) tracking plot:
cumulative repeat purchases of the calibration customers, actual against the model's unconditional
expectation given each customer's first-purchase day, over calibration and holdout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics import schema
from analytics.clv.bgnbd import BetaGeoModel, PurchaseModelFit
from analytics.clv.patterns import patterns
from analytics.clv.summary import (
    calibration_holdout,
    purchase_days,
    to_timestamp,
    unit_days,
)

_FREQUENCY_CAP = 7  # calibration frequencies >= this are pooled in the by-frequency table, as in the paper


@dataclass(frozen=True, eq=False)
class HoldoutValidation:
    """Result of ``holdout_validation``; times in ``unit``, dates as Timestamps.

    model: the purchase model fitted on the calibration period.
    customers: per calibration customer, frequency, recency, T, actual, predicted, baseline (holdout repeat
      purchases). metrics: rows "model" and "baseline"; columns mae, rmse, correlation, actual_total,
      predicted_total, aggregate_error_pct (100 * (predicted - actual) / actual). by_frequency: mean actual,
      predicted and baseline holdout purchases by calibration frequency (0..6, "7+"). tracking: week_end,
      period ("calibration" or "holdout"), actual_cumulative, predicted_cumulative.
    """

    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    unit: str
    duration_holdout: float
    model: PurchaseModelFit
    customers: pd.DataFrame
    metrics: pd.DataFrame
    by_frequency: pd.DataFrame
    tracking: pd.DataFrame

    def summary(self) -> dict[str, Any]:
        """JSON-safe summary (no per-customer table): dates as ISO strings, tables as lists of records."""
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = frame.reset_index().copy()
            for col in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = out[col].dt.strftime("%Y-%m-%d")
            return [
                {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                for row in out.astype(object).to_dict(orient="records")
            ]

        return {
            "calibration_end": self.calibration_end.strftime("%Y-%m-%d"),
            "observation_end": self.observation_end.strftime("%Y-%m-%d"),
            "unit": self.unit,
            "duration_holdout": float(self.duration_holdout),
            "n_customers": int(len(self.customers)),
            "model": self.model.summary(),
            "metrics": records(self.metrics),
            "by_frequency": records(self.by_frequency),
            "tracking": records(self.tracking),
        }


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    error = predicted - actual
    total = float(actual.sum())
    return {
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "correlation": _pearson(predicted, actual),
        "actual_total": total,
        "predicted_total": float(predicted.sum()),
        "aggregate_error_pct": 100.0 * float(error.sum()) / total if total > 0 else float("nan"),
    }


def _by_frequency(customers: pd.DataFrame) -> pd.DataFrame:
    bucket = customers["frequency"].clip(upper=_FREQUENCY_CAP).astype(int)
    grouped = customers.groupby(bucket)
    table = grouped[["actual", "predicted", "baseline"]].mean()
    table.insert(0, "n_customers", grouped.size())
    table.index = pd.Index([f"{b}+" if b == _FREQUENCY_CAP else str(b) for b in table.index], name="frequency")
    return table


def _tracking(
    days: pd.DataFrame,
    model: BetaGeoModel,
    calibration_end: pd.Timestamp,
    observation_end: pd.Timestamp,
    unit: str,
) -> pd.DataFrame:
    """Weekly cumulative repeat purchases of the calibration customers: actual and model-expected.

    ``days`` are the purchase days before ``observation_end`` (``purchase_days``: sorted by customer, then
    day)."""
    actual, expected = tracking_weeks(days, calibration_end, observation_end, unit)
    return actual.assign(predicted_cumulative=expected(model))


def tracking_weeks(days: pd.DataFrame, calibration_end: pd.Timestamp, observation_end: pd.Timestamp,
                   unit: str) -> tuple[pd.DataFrame, Callable[[Any], np.ndarray]]:
    """``_tracking`` without a model: its week_end, period and actual_cumulative columns, and the function
    that gives a model's predicted_cumulative at those weeks, for a caller that tracks several models on the
    same days (the CLV tournament: most of the work does not depend on the model)."""
    # each customer's first day is the day of their first row: read off the rows where the customer changes
    # (a grouped minimum hashed every row's ID, at 10M lines a third of the holdout check's memory)
    who = days["customer_id"].array
    starts = np.flatnonzero(np.append(True, np.asarray(who[1:] != who[:-1], dtype=bool)))
    first = pd.Series(days["day"].to_numpy()[np.repeat(starts, np.diff(np.append(starts, len(days))))],
                      index=days.index, name="day")
    cohort = first < calibration_end
    day, first = days["day"][cohort], first[cohort]  # (the days only: a copy of the rows' IDs is not needed)
    start = first.min()
    n_weeks = int(np.ceil((observation_end - start) / pd.Timedelta(days=7)))
    week_end = pd.DatetimeIndex(
        [min(start + pd.Timedelta(days=7 * k), observation_end) for k in range(1, n_weeks + 1)]
    )
    repeat_days = day[day > first].sort_values()
    actual = np.searchsorted(repeat_days.to_numpy(), week_end.to_numpy(), side="left")
    # each customer's model age at a week end, on the summary's day grid (last observed day - first day)
    cohort_sizes = day[day == first].value_counts()
    first_days = cohort_sizes.index
    last_days = (week_end - pd.Timedelta(days=1)).to_numpy()
    gaps = (last_days[:, None] - first_days.to_numpy()[None, :]) / np.timedelta64(1, "D")
    ages = (gaps / unit_days(unit)).clip(min=0)
    # ages are whole days (or weeks of them): a few hundred distinct values among weeks x first days
    distinct, inverse = np.unique(ages, return_inverse=True)
    sizes = cohort_sizes.to_numpy(dtype=float)

    def expected(model) -> np.ndarray:
        return model.expected_purchases_new(distinct)[inverse].reshape(ages.shape) @ sizes

    return pd.DataFrame(
        {
            "week_end": week_end,
            "period": np.where(week_end <= calibration_end, "calibration", "holdout"),
            "actual_cumulative": actual.astype(float),
        }
    ), expected


def holdout_validation(
    lines: pd.DataFrame,
    calibration_end,
    observation_end,
    unit: str = "D",
    *,
    model: str = "bgnbd",
    penalizer: float = 0.0,
    customer_col: str = schema.CUSTOMER_ID,
    date_col: str = schema.INVOICE_DATE,
    value_col: str = schema.REVENUE,
) -> HoldoutValidation:
    """Fit the purchase model on lines before ``calibration_end`` and score it on the holdout.

    ``calibration_end`` and ``observation_end`` are exclusive cutoffs, as in ``calibration_holdout``;
    ``unit`` is the model's time unit ("D" or "W") and does not change the predictions, only the units.
    """
    calibration_end = to_timestamp(calibration_end, "calibration_end")
    observation_end = to_timestamp(observation_end, "observation_end")
    columns = {"customer_col": customer_col, "date_col": date_col, "value_col": value_col}
    summary = calibration_holdout(lines, calibration_end, observation_end, unit=unit, **columns)
    fitted = BetaGeoModel(penalizer=penalizer, model=model).fit(summary)
    duration = float(summary["duration_holdout"].iloc[0])
    actual = summary["frequency_holdout"].to_numpy(dtype=float)
    distinct = patterns(summary)
    predicted = distinct.broadcast(fitted.expected_purchases(duration, distinct.table), summary.index,
                                   "predicted").to_numpy()
    rate = np.divide(summary["frequency"].to_numpy(dtype=float), summary["T"].to_numpy(),
                     out=np.zeros(len(summary)), where=summary["T"].to_numpy() > 0)
    baseline = rate * duration
    customers = summary[["frequency", "recency", "T"]].assign(
        actual=actual, predicted=predicted, baseline=baseline
    )
    metrics = pd.DataFrame(
        [_metrics(actual, predicted), _metrics(actual, baseline)], index=["model", "baseline"]
    )
    metrics.index.name = "method"
    days = purchase_days(lines, before=observation_end, **columns)
    tracking = _tracking(days, fitted, calibration_end, observation_end, unit)
    return HoldoutValidation(
        calibration_end=calibration_end,
        observation_end=observation_end,
        unit=unit,
        duration_holdout=duration,
        model=fitted.record(),
        customers=customers,
        metrics=metrics,
        by_frequency=_by_frequency(customers),
        tracking=tracking,
    )
