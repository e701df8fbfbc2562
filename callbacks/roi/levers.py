"""The ROI tab's controls and the scenario they describe: levers <-> Scenario, the audience filter options, and
an uploaded customer ID list."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from dash import no_update

from analytics.audience import filter_options
from analytics.errors import DataError
from analytics.roi import OPTIMAL, Scenario, read_id_list
from callbacks import common
from components import ids

# (component id, what it holds) for every lever; the callbacks receive them as a dict keyed by what they hold.
LEVERS: tuple[tuple[str, str], ...] = (
    (ids.ROI_NAME, "name"),
    (ids.ROI_SEGMENTS, "segments"),
    (ids.ROI_CLUSTERS, "clusters"),
    (ids.ROI_COUNTRIES, "countries"),
    (ids.ROI_CHURN, "churn"),
    (ids.ROI_CLV_MIN, "clv_min"),
    (ids.ROI_DISCOUNT, "discount_pct"),
    (ids.ROI_REDEMPTION, "redemption_pct"),
    (ids.ROI_REDEMPTION_SD, "redemption_sd_pp"),
    (ids.ROI_UPLIFT_SOURCE, "uplift_source"),
    (ids.ROI_UPLIFT, "uplift_pp"),
    (ids.ROI_UPLIFT_SD, "uplift_sd_pp"),
    (ids.ROI_TEST_TREATED, "test_treated_pct"),
    (ids.ROI_TEST_TREATED_N, "test_treated_n"),
    (ids.ROI_TEST_CONTROL, "test_control_pct"),
    (ids.ROI_TEST_CONTROL_N, "test_control_n"),
    (ids.ROI_MARGIN, "gross_margin_pct"),
    (ids.ROI_CONTACT_COST, "contact_cost"),
    (ids.ROI_FIXED_COST, "fixed_cost"),
    (ids.ROI_HORIZON, "horizon_months"),
    (ids.ROI_SIZE_MODE, "size_mode"),
    (ids.ROI_TOP_N, "top_n"),
)
LEVER_KEYS = tuple(key for _, key in LEVERS)
# Levers that are Scenario fields under the same name (the audience and size levers are mapped below).
_PLAIN = ("name", "discount_pct", "redemption_pct", "redemption_sd_pp", "uplift_source", "uplift_pp",
          "uplift_sd_pp", "test_treated_pct", "test_treated_n", "test_control_pct", "test_control_n",
          "gross_margin_pct", "contact_cost", "fixed_cost", "horizon_months")


def scenario_from_levers(values: Mapping[str, Any], id_list: Mapping[str, Any] | None = None) -> Scenario:
    """The Scenario the levers describe (values keyed as in LEVERS); DataError names a bad lever."""
    churn_min, churn_max = common.open_range(values.get("churn"), 0.0, 1.0)
    mode = values.get("size_mode") or "all"
    if mode == "top" and values.get("top_n") in (None, ""):
        raise DataError("enter N, the number of customers to target, or choose another audience size")
    size = {"all": None, "optimal": OPTIMAL}.get(mode, values.get("top_n"))
    audience = {
        "segments": values.get("segments") or (),
        "clusters": values.get("clusters") or (),
        "countries": values.get("countries") or (),
        "churn_min": churn_min,
        "churn_max": churn_max,
        "clv_min": values.get("clv_min"),
        "customer_ids": (id_list or {}).get("ids") or (),
    }
    return Scenario(**{k: values.get(k) for k in _PLAIN}, audience_size=size, audience=audience)


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """The value of each lever (keyed as in LEVERS) that shows ``scenario``; top_n is no_update unless set."""
    audience = scenario.audience
    size = scenario.audience_size
    values: dict[str, Any] = {k: getattr(scenario, k) for k in _PLAIN}
    values.update(
        segments=list(audience.segments),
        clusters=list(audience.clusters),
        countries=list(audience.countries),
        churn=[0 if audience.churn_min is None else audience.churn_min,
               1 if audience.churn_max is None else audience.churn_max],
        clv_min=audience.clv_min,
        size_mode="all" if size is None else "optimal" if size == OPTIMAL else "top",
        top_n=size if isinstance(size, int) else no_update,
    )
    return values


def audience_options(customers: pd.DataFrame, chosen: Mapping[str, Sequence[str] | None]) -> dict[str, Any]:
    """Options for the segment, cluster and country filters (values chosen by a link kept), disabled flags for
    filters whose column these results lack, and a note naming them."""
    choices = filter_options(customers)
    return {
        "segments": common.options(choices.segments, chosen.get("segments")),
        "clusters": common.options(choices.clusters, chosen.get("clusters")),
        "countries": common.options(choices.countries, chosen.get("countries")),
        "no_clusters": not choices.has_clusters, "no_countries": not choices.has_countries,
        "no_churn": not choices.has_churn, "no_clv": not choices.has_clv,
        "note": choices.note(),
    }


def ids_from_upload(contents: str, filename: str | None) -> dict:
    """The customer IDs of an uploaded list (a dcc.Upload data URL); DataError when there are none or the
    upload is not a data URL."""
    try:
        payload = base64.b64decode(contents.split(",", 1)[1])
    except (IndexError, ValueError, binascii.Error):
        raise DataError(f"the upload of {filename or 'the file'} arrived damaged; try again") from None
    found = read_id_list(payload)
    if not found:
        raise DataError(f"{filename or 'the file'} holds no customer IDs (one per line or comma-separated)")
    return {"ids": found, "source": filename or "uploaded file"}
