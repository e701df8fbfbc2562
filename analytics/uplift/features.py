"""Customer features as of a campaign's send date, from the lines strictly before it.

The same table the pipeline builds at the as-of date (RFM and behaviour features, RFM scores, segment,
BG/NBD + Gamma-Gamma CLV columns, churn probability), but computed as if the send date were the as-of
date: every model sees only the history before the offer, exactly as the churn label does with its
cutoff. So a model learned on these features can score today's customers from the pipeline's table.

It reads cleaned lines or their invoice table (``analytics.invoices``, what the app keeps): from the
invoice table the product features (distinct products, category shares) are missing, and the model goes
without them.
"""

from __future__ import annotations

import pandas as pd

from analytics import features, segments
from analytics.churn import ChurnModel
from analytics.churn.labels import history_before
from analytics.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value, rfm_summary
from analytics.errors import DataError
from analytics.params import AnalysisParams

# Numeric inputs of the uplift model; the segment enters one-hot. Every one is in the pipeline's table.
MODEL_FEATURES: tuple[str, ...] = (
    "recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "unique_products",
    "mean_days_between", "peak_share", "r_score", "f_score", "m_score", "expected_purchases", "p_alive",
    "p_no_purchase", "expected_spend", "clv", "churn_probability",
)


def features_as_of(lines: pd.DataFrame, as_of: pd.Timestamp, params: AnalysisParams) -> tuple[pd.DataFrame, list[str]]:
    """Per customer with a purchase before ``as_of``: the pipeline's feature columns as of that date, from
    the lines before it only. Returns the table and notes on models that could not be fitted."""
    history = history_before(lines, as_of)
    table = features.customer_features(history, as_of)
    table = table.join(segments.rfm_scores(table))
    table["segment"] = segments.assign_segments(table[["r_score", "f_score", "m_score"]])
    notes = []
    try:
        summary = rfm_summary(history, as_of, unit="D")
        clv = customer_lifetime_value(BetaGeoModel().fit(summary), GammaGammaModel().fit(summary), summary,
                                      horizon_months=params.clv_horizon_months, gross_margin_fraction=params.gross_margin_fraction,
                                      monthly_discount_rate=params.monthly_discount_rate, unit="D")
        clv.index = clv.index.astype(table.index.dtype)
        table = table.join(clv)
    except DataError as error:
        notes.append(f"CLV before the send date could not be fitted ({error}); the model goes without it")
    churn = ChurnModel(window_days=params.churn_window_days, compare=False, bgnbd=False)
    table = table.join(churn.fit(history, as_of, current_features=table).scores_[["churn_probability"]])
    if churn.heuristic_:
        notes.append(f"churn probability before the send date is the heuristic: {churn.reason_}")
    return table, notes


def model_matrix(table: pd.DataFrame, segment_names: list[str]) -> pd.DataFrame:
    """The uplift model's inputs: the numeric features present and one column per known segment."""
    numeric = [c for c in MODEL_FEATURES if c in table.columns]
    matrix = table[numeric].astype(float)
    for name in segment_names:
        matrix[f"segment={name}"] = (table["segment"] == name).astype(float)
    return matrix
