"""Segment journeys: each customer's state at a series of snapshot dates and the flows between them.

Modules, in the order the data flows:

- :mod:`.history`: snapshot dates and labels, and the history (one row per customer and snapshot);
- :mod:`.flows`: transitions between two snapshots or along all of them, the transition matrix, the customers
  of one flow, each customer's previous and current state, and the links and node totals a Sankey draws;
- :mod:`.headlines`: the sentences worth reading about two snapshots;
- :mod:`.stored`: the history at any setting for an analysis, computed once and kept in the results cache.

How it is computed, in words for the app, is :data:`analytics.methodology.JOURNEYS`.
"""

from analytics.journeys.flows import (
    chain,
    customer_journey,
    diagram_links,
    flow_customers,
    node_totals,
    transition_matrix,
    transitions,
)
from analytics.journeys.headlines import headline_facts, headlines
from analytics.journeys.history import (
    DEFAULT_INACTIVE_DAYS,
    INACTIVE,
    NOT_YET,
    JourneyHistory,
    PERIODS,
    SCORING,
    journey_history,
    segment_history,
    snapshot_dates,
    snapshot_label,
    snapshots,
    state_counts,
    state_order,
)

__all__ = [
    "DEFAULT_INACTIVE_DAYS", "INACTIVE", "NOT_YET", "JourneyHistory", "PERIODS", "SCORING", "chain", "customer_journey",
    "diagram_links", "flow_customers", "headline_facts", "headlines", "journey_history", "node_totals",
    "segment_history", "snapshot_dates", "snapshot_label", "snapshots", "state_counts", "state_order",
    "transition_matrix", "transitions",
]
