"""Customer lifetime value: purchase summaries, BG/NBD and Gamma-Gamma models, CLV and holdout validation."""

from analytics.clv.summary import calibration_holdout, purchase_days, rfm_summary

__all__ = ["calibration_holdout", "purchase_days", "rfm_summary"]
