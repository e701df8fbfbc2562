"""Customer feature matrix for clustering: log-scaled RFM (plus chosen behaviour features), standardised.

Recency (days), frequency (invoices) and monetary value (currency) are heavily right-skewed, so each is
``log1p``-transformed before scaling; otherwise a handful of wholesale buyers would own whole clusters.
The fitted transform is kept as plain arrays so it can be cached and applied again (``predict``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.preprocessing import RobustScaler, StandardScaler

from analytics.errors import DataError

RFM_FEATURES: tuple[str, str, str] = ("recency_days", "frequency", "monetary")
SCALERS: tuple[str, ...] = ("standard", "robust")

# Monetary is clipped here (currency units) before log1p: a net value of 0 or a rounding-negative one
# must not produce -inf or NaN.
MONETARY_FLOOR = 0.01

# Non-negative, right-skewed counts and amounts that get log1p like RFM. Shares (peak_share, cat_*) and
# anything else a user picks stay on their own scale.
LOG_FEATURES: frozenset[str] = frozenset(
    RFM_FEATURES + ("avg_order_value", "unique_products", "tenure_days", "mean_days_between", "clv")
)


@dataclass(frozen=True)
class FeatureTransform:
    """A fitted log + scaling transform, as plain arrays.

    features: column names, in matrix order. log: whether each column is log1p-transformed.
    center, scale: the scaler's centre and spread per column (in log units where logged).
    fill: value used for missing entries of optional features (the training median, before scaling).
    """

    features: tuple[str, ...]
    log: tuple[bool, ...]
    center: np.ndarray
    scale: np.ndarray
    fill: np.ndarray

    def transform(self, features_df: pd.DataFrame) -> np.ndarray:
        """Scaled matrix (n_customers x n_features) for new customers."""
        raw = _raw_matrix(features_df, self.features, self.fill)
        return (_log(raw, self.log) - self.center) / self.scale

    def inverse_transform(self, scaled: np.ndarray) -> np.ndarray:
        """Back to original units (days, invoices, currency, ...) from the scaled space."""
        logged = np.asarray(scaled, dtype=float) * self.scale + self.center
        out = logged.copy()
        for j, is_log in enumerate(self.log):
            if is_log:
                out[:, j] = np.expm1(logged[:, j])
        return out


def fit_transform(
    features_df: pd.DataFrame, features: Sequence[str] = RFM_FEATURES, scaler: str = "standard"
) -> tuple[np.ndarray, FeatureTransform]:
    """Validate, log-transform and scale the chosen columns of a customer feature table.

    Returns the scaled matrix (rows in ``features_df`` order) and the fitted transform.
    Raises DataError naming the column and first bad rows when a value is missing, infinite or negative
    where that makes no sense.
    """
    if scaler not in SCALERS:
        raise DataError(f"scaler {scaler!r} is not one of {', '.join(SCALERS)}")
    features = _check_feature_names(features_df, features)
    fill = np.array([_fill_value(features_df, name) for name in features], dtype=float)
    log = tuple(name in LOG_FEATURES for name in features)
    logged = _log(_raw_matrix(features_df, features, fill), log)
    fitted = StandardScaler() if scaler == "standard" else RobustScaler()
    fitted.fit(logged)
    center = fitted.mean_ if scaler == "standard" else fitted.center_
    transform = FeatureTransform(
        features, log, np.asarray(center, dtype=float), np.asarray(fitted.scale_, dtype=float), fill
    )
    return (logged - transform.center) / transform.scale, transform


def rfm_zscores(features_df: pd.DataFrame) -> pd.DataFrame:
    """log1p RFM standardised over all customers (mean 0, sd 1 per column), for naming clusters."""
    _check_feature_names(features_df, RFM_FEATURES)
    logged = _log(_raw_matrix(features_df, RFM_FEATURES, np.zeros(3)), (True, True, True))
    sd = logged.std(axis=0)
    z = (logged - logged.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return pd.DataFrame(z, index=features_df.index, columns=list(RFM_FEATURES))


def _fill_value(features_df: pd.DataFrame, name: str) -> float:
    """Median of an optional feature (e.g. mean_days_between is NaN for one-time buyers); 0 for RFM."""
    if name in RFM_FEATURES:
        return 0.0
    values = _numeric(features_df, name)
    finite = values[np.isfinite(values)]
    # an all-missing optional column carries no information, so any constant will do
    return float(np.median(finite)) if finite.size else 0.0


def _check_feature_names(features_df: pd.DataFrame, features: Sequence[str]) -> tuple[str, ...]:
    features = tuple(features)
    if not features:
        raise DataError("no clustering features chosen; expected at least one customer feature column")
    duplicated = sorted({name for name in features if features.count(name) > 1})
    if duplicated:
        raise DataError(f"clustering feature(s) chosen twice: {', '.join(duplicated)}")
    missing = [name for name in features if name not in features_df.columns]
    if missing:
        raise DataError(
            f"customer table has no column(s) {', '.join(missing)} needed for clustering; "
            f"available: {', '.join(map(str, features_df.columns))}"
        )
    return features


def _numeric(features_df: pd.DataFrame, name: str) -> np.ndarray:
    """The column as float64 with NaN for missing; DataError when it is not numeric."""
    column = features_df[name]
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        raise DataError(
            f"clustering feature {name!r} is not numeric (dtype {column.dtype}); pick a numeric column"
        )
    return column.to_numpy(dtype="float64", na_value=np.nan)


def _raw_matrix(features_df: pd.DataFrame, features: Sequence[str], fill: np.ndarray) -> np.ndarray:
    """Numeric matrix in original units; RFM must be complete, optional features get ``fill`` for gaps."""
    _check_feature_names(features_df, features)
    if len(features_df) == 0:
        raise DataError("customer table is empty; nothing to cluster")
    columns = []
    for j, name in enumerate(features):
        values = _numeric(features_df, name)
        if name in RFM_FEATURES:
            bad = ~np.isfinite(values)
            if name != "monetary":
                bad |= values < 0
            _raise_if_bad(features_df, name, bad)
        else:
            _raise_if_bad(features_df, name, np.isinf(values))
            values = np.where(np.isnan(values), fill[j], values)
        if name == "monetary":
            values = np.maximum(values, MONETARY_FLOOR)
        elif name in LOG_FEATURES:
            values = np.maximum(values, 0.0)
        columns.append(values)
    return np.column_stack(columns)


def _raise_if_bad(features_df: pd.DataFrame, name: str, bad: np.ndarray) -> None:
    if bad.any():
        rows = features_df.index[bad][:5]
        values = features_df[name].to_numpy()[bad][:5]
        shown = ", ".join(f"{row!s}={value!s}" for row, value in zip(rows, values))
        raise DataError(
            f"column {name!r} has {int(bad.sum())} unusable value(s) (missing, infinite or negative) "
            f"(first: {shown}); clustering expects finite non-negative numbers"
        )


def _log(raw: np.ndarray, log: Sequence[bool]) -> np.ndarray:
    out = raw.astype(float, copy=True)
    for j, is_log in enumerate(log):
        if is_log:
            out[:, j] = np.log1p(out[:, j])
    return out
