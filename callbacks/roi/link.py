"""Shared scenario links: which URL queries carry a scenario, the link for a scenario, and the levers a link
sets when it opens. The query itself is ``Scenario.to_query`` / ``Scenario.from_query`` (analytics.roi.scenario),
so an old link keeps opening as long as those keep their keys."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from dash import no_update

from analytics.audience import AudienceFilter
from analytics.errors import DataError
from analytics.roi import Scenario
from callbacks import common
from callbacks.roi.levers import LEVER_KEYS, lever_values

MAX_LINK = 4000  # characters; gunicorn refuses request lines over 4094 by default


def _query_keys() -> frozenset[str]:
    """Every key a scenario link can hold: those of a scenario with every optional lever and filter set."""
    full = Scenario(test_treated_pct=1, test_control_pct=1, test_treated_n=1, test_control_n=1, audience_size=1,
                    audience=AudienceFilter(segments=("x",), clusters=("x",), countries=("x",), churn_min=0,
                                            churn_max=1, clv_min=0, clv_max=1, customer_ids=("x",)))
    return frozenset(parse_qs(full.to_query()))


SCENARIO_KEYS = _query_keys()


def has_scenario(search: str | None) -> bool:
    """True when a URL query carries any scenario lever (other parts of the app may share the URL)."""
    return bool(search) and bool(SCENARIO_KEYS & set(parse_qs(search.lstrip("?"), keep_blank_values=True)))


def share_link(href: str | None, scenario: Scenario, dataset: str = "", results_key: str = "") -> str:
    """Absolute link (when the page address is known) that opens the app on this scenario and on these results
    for whoever may read them (callbacks.run.linked_results); it names the dataset it was made on, so whoever
    opens it can tell when other data is shown."""
    base = (href or "").split("#")[0].split("?")[0]
    made_on = f"&{urlencode({'dataset': dataset})}" if dataset else ""
    made_on += f"&{urlencode({'results': results_key})}" if results_key else ""
    return f"{base}?{scenario.to_query()}{made_on}"


def made_on_notes(href: str | None, dataset: str) -> list[str]:
    """A note when the page was opened from a link made on another dataset than the one now shown."""
    query = parse_qs((href or "").split("#")[0].partition("?")[2])
    linked = (query.get("dataset") or [""])[0]
    if not linked or linked == dataset:
        return []
    return [f"This link was made on the dataset {linked[:120]!r}; the results shown are of {dataset[:120]!r}, "
            "so the figures differ from the sender's. Load that dataset to see theirs."]


def link_notes(link: str, scenario: Scenario) -> list[str]:
    """Why a link may not open (too long for a server), or nothing."""
    if len(link) <= MAX_LINK:
        return []
    return [f"The share link holds the {len(scenario.audience.customer_ids):,} listed customer IDs and is "
            f"{len(link):,} characters long; servers refuse addresses much over {MAX_LINK:,}. Send the ID file "
            "with the link, or narrow the audience with filters instead."]


def restored_levers(search: str | None, restored: str | None, options_known: bool,
                    gross_margin_pct: float | None) -> dict[str, Any]:
    """What opening the page at ``search`` sets: every lever (keyed as in LEVERS), the ID list, an error and the
    query now restored. A link sets the levers once, when the tab's filter options are known; without a link
    only the gross margin follows the analysis's (``gross_margin_pct``), and a link's own margin wins."""
    linked = has_scenario(search)
    if linked and "gross_margin_pct" in parse_qs(search.lstrip("?")):
        gross_margin_pct = None
    unchanged = {key: no_update for key in LEVER_KEYS} | {"id_list": no_update, "link_error": no_update,
                                                           "restored": no_update}
    margin = {} if gross_margin_pct is None else {"gross_margin_pct": gross_margin_pct}
    if not linked or search == restored or not options_known:
        return unchanged | margin
    try:
        scenario = Scenario.from_query(search)
    except DataError as error:
        return unchanged | {"link_error": common.error_alert(error, "The link's scenario cannot be opened"),
                            "restored": search}
    ids = list(scenario.audience.customer_ids)
    return (lever_values(scenario) | margin
            | {"id_list": {"ids": ids, "source": "the link"} if ids else None, "link_error": None, "restored": search})
