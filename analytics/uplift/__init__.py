"""Uplift from a randomised campaign test: measure it, learn who responds, and keep control groups.

- ``assignment``: read an assignment file (customer_id, group); draw a seeded, segment-stratified control
  group for an exported campaign list (the next test's assignment file).
- ``measure``: outcomes in the response window from the transaction log; the average uplift with its 95 %
  interval.
- ``features``: the pipeline's customer features as of the send date, from pre-send lines only.
- ``learner``: the cross-fitted two-model learner and its bootstrap refits.
- ``metrics``: Qini / AUUC / uplift@k / uplift by decile (scikit-uplift) and bootstrap intervals.
- ``analysis``: all of it end to end (``analyse_campaign``) and the per-customer uplift for the ROI
  simulator (``score_customers``).
"""

from analytics.uplift.analysis import CustomerUplift, UpliftAnalysis, analyse_campaign, score_customers
from analytics.uplift.assignment import (
           CONTROL,
           DEFAULT_CONTROL_FRACTION,
           TREATMENT,
           control_group,
           read_assignment,
)
from analytics.uplift.measure import CampaignMeasurement, measure_campaign

__all__ = ["CONTROL", "DEFAULT_CONTROL_FRACTION", "TREATMENT", "CampaignMeasurement", "CustomerUplift",
           "UpliftAnalysis", "analyse_campaign", "control_group", "measure_campaign", "read_assignment",
           "score_customers"]
