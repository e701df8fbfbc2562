"""Measure a past campaign test from the transaction log: who bought in the window, and what it was worth.

Population: the assigned customers with a purchase before the send date. That rule is decided before the
offer went out, so it keeps the randomisation fair; customers it leaves out (not in the log at all, or
first seen after the send date) are counted in the notes. Outcomes per customer: ``responded`` (any
purchase in ``[sent_on, sent_on + window_days)``) and ``revenue`` (net revenue of the lines in that window,
returns netted).

The average uplift is the difference in means between treatment and control with Welch's 95 % interval
and two-sided p-value (``scipy.stats.ttest_ind(equal_var=False)``): for the 0/1 response this is the
unpooled (Neyman) interval for a difference of proportions, and it does not assume equal variances for
revenue, which is skewed and differs between groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analytics import schema as S
from analytics.errors import DataError
from analytics.uplift.assignment import CONTROL, GROUP, TREATMENT

MIN_GROUP_SIZE = 30  # fewer customers in a group and the normal interval is not trustworthy
CONFIDENCE = 0.95
_SHOWN = 5


@dataclass(frozen=True)
class GroupOutcome:
    """One arm of the test."""

    group: str
    customers: int
    responders: int
    response_rate: float  # fraction of customers who bought in the window
    revenue_per_customer: float  # net revenue in the window, currency units


@dataclass(frozen=True)
class Difference:
    """Treatment minus control with its 95 % interval."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 1 - CONFIDENCE)

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "p_value": self.p_value, "significant": self.significant}


@dataclass(frozen=True)
class CampaignMeasurement:
    """What the test shows on average. ``outcomes``: per customer (index customer_id) group, treated,
    responded, revenue."""

    sent_on: pd.Timestamp
    window_days: int
    treatment: GroupOutcome
    control: GroupOutcome
    rate_uplift: Difference  # in response rate (fraction; x100 = percentage points)
    revenue_uplift: Difference  # in revenue per customer, currency units
    notes: tuple[str, ...]
    outcomes: pd.DataFrame

    def to_dict(self) -> dict:
        return {
            "sent_on": self.sent_on.date().isoformat(),
            "window_days": self.window_days,
            "groups": [vars(self.treatment), vars(self.control)],
            "rate_uplift": self.rate_uplift.to_dict(),
            "revenue_uplift": self.revenue_uplift.to_dict(),
            "notes": list(self.notes),
        }


def difference(treated: np.ndarray, control: np.ndarray) -> Difference:
    """Welch difference in means with its 95 % interval; NaN interval when a side has < 2 values."""
    treated, control = np.asarray(treated, float), np.asarray(control, float)
    estimate = float(treated.mean() - control.mean()) if len(treated) and len(control) else float("nan")
    if len(treated) < 2 or len(control) < 2:
        return Difference(estimate, float("nan"), float("nan"), float("nan"))
    if treated.var() == 0 and control.var() == 0:  # both constant: no sampling variation to speak of
        return Difference(estimate, estimate, estimate, 0.0 if estimate else 1.0)
    test = stats.ttest_ind(treated, control, equal_var=False)
    low, high = test.confidence_interval(CONFIDENCE)
    return Difference(estimate, float(low), float(high), float(test.pvalue))


def parse_send_date(value: object) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(str(value).strip()) if value is not None and str(value).strip() else None
    except ValueError:
        stamp = None
    if stamp is None or stamp is pd.NaT:
        raise DataError(f"the send date must be a date like 2011-10-15, got {value!r}")
    return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()


def parse_window(value: object) -> int:
    try:
        days = float(value)
    except (TypeError, ValueError):
        days = float("nan")
    if not (np.isfinite(days) and days >= 1 and days == int(days)):
        raise DataError(f"the response window must be a whole number of days >= 1, got {value!r}")
    return int(days)


def check_dates(lines: pd.DataFrame, as_of: pd.Timestamp, sent_on: pd.Timestamp, window_days: int) -> None:
    """The send date inside the log and the whole window before the as-of date."""
    first = lines[S.INVOICE_DATE].min()
    if not first < sent_on < as_of:
        raise DataError(f"the send date {sent_on.date()} is outside the transaction log, which runs from "
                        f"{first.date()} to {(as_of - pd.Timedelta(days=1)).date()}")
    end = sent_on + pd.Timedelta(days=window_days)
    if end > as_of:
        room = (as_of - sent_on).days
        raise DataError(f"the {window_days}-day response window ends {end.date()}, after the as-of date "
                        f"{as_of.date()}: the log cannot show who responded; use a window of at most "
                        f"{room} days or a later as-of date")


def measure_campaign(lines: pd.DataFrame, assignment: pd.DataFrame, sent_on: object, window_days: object,
                     as_of: pd.Timestamp) -> CampaignMeasurement:
    """Outcomes of each assigned customer from the cleaned ``lines`` and the average uplift."""
    sent_on, window_days = parse_send_date(sent_on), parse_window(window_days)
    as_of = pd.Timestamp(as_of)
    check_dates(lines, as_of, sent_on, window_days)
    end = sent_on + pd.Timedelta(days=window_days)
    dates = lines[S.INVOICE_DATE]
    ids = lines[S.CUSTOMER_ID].astype("string")
    buy = ~lines[S.IS_RETURN].to_numpy(bool)
    before = (dates < sent_on).to_numpy(bool)
    in_window = ((dates >= sent_on) & (dates < end)).to_numpy(bool)
    known = pd.Index(ids[before & buy].dropna().unique())
    anywhere = pd.Index(ids.dropna().unique())
    assigned = assignment.set_index(S.CUSTOMER_ID)[GROUP]
    notes = []
    absent = assigned.index.difference(anywhere)
    later = assigned.index.intersection(anywhere).difference(known)
    if len(absent):
        notes.append(f"{len(absent):,} customer(s) in the file are not in the cleaned transaction log (e.g. "
                     f"{', '.join(absent[:_SHOWN])}); they are left out")
    if len(later):
        notes.append(f"{len(later):,} customer(s) first bought on or after the send date; they are left out "
                     "(only customers known before the offer are compared)")
    group = assigned[assigned.index.isin(known)]
    if len(absent) == len(assigned):
        raise DataError(f"none of the {len(assigned):,} customers in the assignment file is in the transaction "
                        "log: is it the file for this dataset?")
    sizes = group.value_counts()
    small = [f"{g} has {int(sizes.get(g, 0)):,}" for g in (TREATMENT, CONTROL) if sizes.get(g, 0) < MIN_GROUP_SIZE]
    if small:
        raise DataError(f"too few customers to compare ({'; '.join(small)} customer(s) known before the send "
                        f"date); each group needs at least {MIN_GROUP_SIZE}")
    window = pd.DataFrame({"customer": ids[in_window].to_numpy(), "revenue": lines[S.REVENUE].to_numpy()[in_window],
                           "buy": buy[in_window]})
    per_customer = window.groupby("customer").agg(revenue=("revenue", "sum"), bought=("buy", "any"))
    outcomes = pd.DataFrame({GROUP: group, "treated": group == TREATMENT})
    outcomes["responded"] = per_customer["bought"].reindex(outcomes.index, fill_value=False).astype(bool)
    outcomes["revenue"] = per_customer["revenue"].reindex(outcomes.index, fill_value=0.0).astype(float)
    outcomes.index.name = S.CUSTOMER_ID
    arms = {g: outcomes[outcomes[GROUP] == g] for g in (TREATMENT, CONTROL)}
    summary = {g: GroupOutcome(g, len(a), int(a["responded"].sum()), float(a["responded"].mean()),
                               float(a["revenue"].mean())) for g, a in arms.items()}
    return CampaignMeasurement(
        sent_on=sent_on, window_days=window_days, treatment=summary[TREATMENT], control=summary[CONTROL],
        rate_uplift=difference(arms[TREATMENT]["responded"], arms[CONTROL]["responded"]),
        revenue_uplift=difference(arms[TREATMENT]["revenue"], arms[CONTROL]["revenue"]),
        notes=tuple(notes), outcomes=outcomes,
    )
