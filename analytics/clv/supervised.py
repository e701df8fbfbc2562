"""Supervised purchase and spend forecasts: gradient boosting on customer features, rolling temporal backtest.

For a scoring cutoff ``c`` and a window of ``duration_days``, the model is trained on earlier cutoffs
``c - duration - k * STRIDE_DAYS`` (k = 0, 1, ...), each pairing the features as of that cutoff with the
purchases and revenue in the following ``duration_days``. Every training window ends on or before ``c``, so
the window being scored is never seen. scikit-learn's ``HistGradientBoostingRegressor`` with a Poisson loss
(counts and revenue are non-negative and skewed) is used: maintained, fast, and it handles the missing
values (no repeat purchase yet) itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from analytics import schema
from analytics.clv.summary import purchase_days
from analytics.errors import DataError

STRIDE_DAYS = 28
MIN_HISTORY_DAYS = 56
"""A training cutoff needs this much history before it, so its features describe something."""
MAX_WINDOWS = 6
MIN_TRAINING_ROWS = 50
FEATURES = ("purchase_days", "days_since_first", "days_since_last", "mean_gap_days", "value_total",
            "value_mean", "value_last", "purchases_last_90_days")


@dataclass(frozen=True)
class SupervisedForecast:
    """Predicted purchases (repeat purchase days) and revenue per customer in the window after the cutoff,
    plus the last backtest window's predictions and actual counts (for empirical intervals)."""

    purchases: pd.Series
    revenue: pd.Series
    n_windows: int
    n_training_rows: int
    backtest_predicted: np.ndarray
    backtest_actual: np.ndarray
    backtest_features: pd.DataFrame


def features_at(days: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Customer features from the purchase days before ``cutoff`` (see FEATURES), one row per customer."""
    before = days[days["day"] < cutoff]
    grouped = before.groupby("customer_id", observed=True)
    first, last = grouped["day"].min(), grouped["day"].max()
    count = grouped.size()
    recent = before[before["day"] >= cutoff - pd.Timedelta(days=90)].groupby("customer_id", observed=True).size()
    frame = pd.DataFrame({
        "purchase_days": count,
        "days_since_first": (cutoff - first).dt.days,
        "days_since_last": (cutoff - last).dt.days,
        "mean_gap_days": ((last - first).dt.days / (count - 1)).where(count > 1),
        "value_total": grouped["value"].sum(),
        "value_mean": grouped["value"].mean(),
        "value_last": grouped["value"].last(),
        "purchases_last_90_days": recent.reindex(count.index, fill_value=0),
    })
    return frame.astype(float)


def _targets(days: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, index: pd.Index) -> tuple:
    window = days[(days["day"] >= start) & (days["day"] < end)].groupby("customer_id", observed=True)["value"]
    return (window.size().reindex(index, fill_value=0).to_numpy(dtype=float),
            window.sum().reindex(index, fill_value=0.0).to_numpy(dtype=float))


def _regressor(seed: int) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(loss="poisson", max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                         min_samples_leaf=40, random_state=seed)


def supervised_forecast(*args, **kwargs) -> SupervisedForecast:
    """See ``_supervised_forecast``; one OpenMP thread, because on a busy machine the boosting's thread pool
    spends far longer contending for cores than fitting (25x slower measured on two shared cores)."""
    with threadpool_limits(limits=1, user_api="openmp"):
        return _supervised_forecast(*args, **kwargs)


def _supervised_forecast(lines: pd.DataFrame, cutoff: pd.Timestamp, duration_days: int, customers: pd.Index,
                        seed: int = 0) -> SupervisedForecast:
    """Train on the rolling backtest before ``cutoff`` and predict the ``duration_days`` after it for
    ``customers`` (their features as of ``cutoff``). DataError when no training window fits the history."""
    days = purchase_days(lines, before=cutoff, value_col=schema.REVENUE)
    start = days["day"].min()
    cutoffs = []
    k = 0
    while len(cutoffs) < MAX_WINDOWS:
        train_cut = cutoff - pd.Timedelta(days=duration_days + k * STRIDE_DAYS)
        if (train_cut - start).days < MIN_HISTORY_DAYS:
            break
        cutoffs.append(train_cut)
        k += 1
    if not cutoffs:
        raise DataError(
            f"the supervised model needs {MIN_HISTORY_DAYS} days of history plus a {duration_days}-day window "
            f"before {cutoff:%Y-%m-%d}; the data start {start:%Y-%m-%d}"
        )
    X, y_count, y_value = [], [], []
    for train_cut in cutoffs:
        feats = features_at(days, train_cut)
        counts, values = _targets(days, train_cut, train_cut + pd.Timedelta(days=duration_days), feats.index)
        X.append(feats)
        y_count.append(counts)
        y_value.append(values)
    stacked = pd.concat(X)
    if len(stacked) < MIN_TRAINING_ROWS:
        raise DataError(f"the supervised model has {len(stacked)} training rows in its backtest windows; it "
                        f"needs at least {MIN_TRAINING_ROWS}")
    # a feature with no value anywhere (e.g. no repeat buyer yet, so no gaps) tells the trees nothing
    usable = [c for c in stacked.columns if stacked[c].notna().any()]
    X = [frame[usable] for frame in X]
    count_model = _regressor(seed).fit(pd.concat(X), np.concatenate(y_count))
    value_model = _regressor(seed).fit(pd.concat(X), np.concatenate(y_value))
    # The intervals are calibrated on the most recent window, predicted by a model trained only on windows
    # whose targets end before it starts (out of sample); with too little history, in sample (narrower).
    earlier = [i for i, c in enumerate(cutoffs) if c + pd.Timedelta(days=duration_days) <= cutoffs[0]]
    interval_model = (_regressor(seed).fit(pd.concat([X[i] for i in earlier]),
                                           np.concatenate([y_count[i] for i in earlier]))
                      if earlier else count_model)
    backtest_predicted = interval_model.predict(X[0])
    now = features_at(days, cutoff).reindex(customers)[usable]
    return SupervisedForecast(
        purchases=pd.Series(count_model.predict(now), index=customers, name="expected_purchases"),
        revenue=pd.Series(value_model.predict(now), index=customers, name="expected_revenue"),
        n_windows=len(cutoffs),
        n_training_rows=int(sum(len(f) for f in X)),
        backtest_predicted=backtest_predicted,
        backtest_actual=y_count[0],
        backtest_features=X[0],
    )
