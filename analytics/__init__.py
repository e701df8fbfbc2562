"""Retention Control Tower analytics: from a raw transaction log to segments, CLV, churn and ROI.

This package never imports Dash; it is usable from a notebook and from ``python -m analytics``.
"""

from analytics.allocation import economise_fresh_pages

__version__ = "0.2.8"

economise_fresh_pages()
