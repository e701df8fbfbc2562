"""Customer lifetime value: purchase summaries, BG/NBD and Gamma-Gamma models, CLV and holdout validation.

Typical use, with cleaned invoice lines and the as-of date::

    summary = rfm_summary(lines, as_of, unit="D")
    purchases = BetaGeoModel().fit(summary)
    spend = GammaGammaModel().fit(summary)
    table = customer_lifetime_value(purchases, spend, summary, horizon_months=12, unit="D")
"""

from analytics.clv.bgnbd import MODELS, BetaGeoModel
from analytics.clv.gamma_gamma import GammaGammaModel
from analytics.clv.summary import calibration_holdout, purchase_days, rfm_summary
from analytics.clv.validation import HoldoutValidation, holdout_validation
from analytics.clv.value import DAYS_PER_MONTH, customer_lifetime_value

__all__ = [
    "DAYS_PER_MONTH",
    "MODELS",
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutValidation",
    "calibration_holdout",
    "customer_lifetime_value",
    "holdout_validation",
    "purchase_days",
    "rfm_summary",
]
