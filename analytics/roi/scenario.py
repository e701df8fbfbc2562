"""A campaign scenario: the levers a person sets, validated, serialisable to a dict and a URL query.

Units are the ones a person types: percentages 0-100 (``*_pct``), percentage points (``*_pp``),
currency (costs), months. :meth:`Scenario.levers` converts them to the fractions the maths uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, urlencode

from analytics.errors import DataError
from analytics.fields import finite_number, reject_unknown
from analytics.audience import AudienceFilter
from analytics.roi.economics import Levers

UPLIFT_SOURCES = ("given", "test", "learned")
LEARNED = "learned"
OPTIMAL = "optimal"

# URL keys of the audience filter (repeated keys for lists).
_AUDIENCE_LIST_KEYS = {
    "segment": "segments",
    "cluster": "clusters",
    "country": "countries",
    "id": "customer_ids",
}
_AUDIENCE_NUMBER_KEYS = ("churn_min", "churn_max", "clv_min", "clv_max")
# URL keys that links issued before a lever was renamed still carry: old key -> field (same value and unit)
_RENAMED_KEYS = {"redemption_sd_pct": "redemption_sd_pp"}

# (field, lowest, highest, what it is) for the numeric levers.
_RANGES: dict[str, tuple[float, float, str]] = {
    "discount_pct": (0, 100, "percent of the order value"),
    "redemption_pct": (0, 100, "percent of purchasers who use the offer"),
    "redemption_sd_pp": (0, 50, "percentage points of uncertainty on redemption"),
    "uplift_pp": (-100, 100, "percentage points added to the purchase probability"),
    "uplift_sd_pp": (0, 100, "percentage points of uncertainty on uplift"),
    "test_treated_pct": (0, 100, "percent of the treated group who purchased in the test"),
    "test_control_pct": (0, 100, "percent of the control group who purchased in the test"),
    "gross_margin_pct": (0, 100, "percent of the order value"),
    "contact_cost": (0, math.inf, "currency per targeted customer"),
    "fixed_cost": (0, math.inf, "currency per campaign"),
    "horizon_months": (0.25, 36, "months"),
}
_OPTIONAL = {"test_treated_pct", "test_control_pct", "test_treated_n", "test_control_n"}
_COUNTS = ("test_treated_n", "test_control_n")


def _number(name: str, value: Any) -> float:
    return finite_number(name, value, _RANGES[name][2])


def _count(name: str, value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be a whole number of customers; got {value!r}") from None
    if not number.is_integer() or number < 1:
        raise DataError(f"{name} must be a whole number of customers >= 1; got {value!r}")
    return int(number)


def _format(value: float | int) -> str:
    """Shortest exact text for a number (``15`` not ``15.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


@dataclass(frozen=True)
class Scenario:
    """The levers of one campaign scenario.

    name: label shown in the comparison table.
    discount_pct: discount, percent of the order value (0-100).
    redemption_pct, redemption_sd_pp: share of purchasers who use the offer (percent) and its uncertainty
        (percentage points).
    uplift_source: "given" uses ``uplift_pp`` +/- ``uplift_sd_pp`` (percentage points of purchase
        probability); "test" estimates uplift = treated rate - control rate from a past test with its
        standard error ``sqrt(pt (1 - pt) / nt + pc (1 - pc) / nc)``; "learned" gives each customer the
        uplift a model learned from a campaign test (the data come with the evaluation, not the scenario:
        a share link records only the source).
    test_treated_pct, test_control_pct, test_treated_n, test_control_n: the past test (source "test").
    gross_margin_pct: gross margin, percent of the order value.
    contact_cost: currency per targeted customer; fixed_cost: currency per campaign.
    horizon_months: campaign horizon, months (the period of the baseline purchase probability).
    audience_size: None = everyone selected; an int = the top N by expected incremental value;
        "optimal" = the size that maximises net profit.
    audience: who may be targeted.
    """

    name: str = "Base"
    discount_pct: float = 15.0
    redemption_pct: float = 80.0
    redemption_sd_pp: float = 10.0
    uplift_source: str = "given"
    uplift_pp: float = 5.0
    uplift_sd_pp: float = 2.0
    test_treated_pct: float | None = None
    test_control_pct: float | None = None
    test_treated_n: int | None = None
    test_control_n: int | None = None
    gross_margin_pct: float = 40.0
    contact_cost: float = 1.0
    fixed_cost: float = 0.0
    horizon_months: float = 3.0
    audience_size: int | str | None = None
    audience: AudienceFilter = field(default_factory=AudienceFilter)

    def __post_init__(self) -> None:
        problems: list[str] = []

        def check(name: str) -> None:
            value = getattr(self, name)
            if name in _OPTIONAL and (value is None or value == ""):
                object.__setattr__(self, name, None)
                return
            try:
                value = _count(name, value) if name in _COUNTS else _number(name, value)
            except DataError as exc:
                problems.append(str(exc))
                return
            if name not in _COUNTS:
                low, high, what = _RANGES[name]
                if not low <= value <= high:
                    bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f">= {low:g}"
                    problems.append(f"{name} must be {bound} ({what}); got {value:g}")
            object.__setattr__(self, name, value)

        for name in (*_RANGES, *_COUNTS):
            check(name)
        object.__setattr__(self, "name", str(self.name).strip() or "Scenario")
        if self.uplift_source not in UPLIFT_SOURCES:
            problems.append(
                f"uplift_source must be one of {', '.join(UPLIFT_SOURCES)}; got {self.uplift_source!r}"
            )
        elif self.uplift_source == "test":
            missing = [
                n for n in ("test_treated_pct", "test_control_pct", *_COUNTS) if getattr(self, n) is None
            ]
            if missing:
                problems.append(f"uplift from a test needs {', '.join(missing)}")
        problems.extend(self._check_audience_size())
        if isinstance(self.audience, dict):
            object.__setattr__(self, "audience", AudienceFilter.from_dict(self.audience))
        if problems:
            raise DataError("invalid scenario: " + "; ".join(problems))

    def _check_audience_size(self) -> list[str]:
        size = self.audience_size
        if size is None or (isinstance(size, str) and size.strip().lower() in ("", "all")):
            object.__setattr__(self, "audience_size", None)
            return []
        if isinstance(size, str) and size.strip().lower() == OPTIMAL:
            object.__setattr__(self, "audience_size", OPTIMAL)
            return []
        try:
            number = float(size)
        except (TypeError, ValueError):
            return [f"audience_size must be a number of customers, 'optimal' or empty for all; got {size!r}"]
        if not number.is_integer() or number < 0:
            return [f"audience_size must be a whole number of customers >= 0; got {size!r}"]
        object.__setattr__(self, "audience_size", int(number))
        return []

    def uplift_estimate(self) -> tuple[float, float]:
        """(uplift, standard error) as probabilities: given, or treated - control from the test. Learned
        uplifts are per customer: the common part is then a shift of 0 (see LearnedAudience)."""
        if self.uplift_source == LEARNED:
            return 0.0, 0.0
        if self.uplift_source == "test":
            pt, pc = self.test_treated_pct / 100, self.test_control_pct / 100
            se = math.sqrt(pt * (1 - pt) / self.test_treated_n + pc * (1 - pc) / self.test_control_n)
            return pt - pc, se
        return self.uplift_pp / 100, self.uplift_sd_pp / 100

    def levers(self) -> Levers:
        """The levers as fractions and currency for :mod:`analytics.roi.economics`."""
        uplift, uplift_sd = self.uplift_estimate()
        return Levers(
            discount_fraction=self.discount_pct / 100,
            redemption_fraction=self.redemption_pct / 100,
            uplift_fraction=uplift,
            gross_margin_fraction=self.gross_margin_pct / 100,
            contact_cost=self.contact_cost,
            fixed_cost=self.fixed_cost,
            uplift_sd_fraction=uplift_sd,
            redemption_sd_fraction=self.redemption_sd_pp / 100,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; the audience is a nested dict."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "audience"}
        values["audience"] = self.audience.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Scenario:
        """Build from a (possibly partial) dict as made by :meth:`to_dict`; unknown keys are an error."""
        reject_unknown(values, (f.name for f in fields(cls)), "scenario")
        return cls(**values)

    def to_query(self) -> str:
        """URL query string (no leading ``?``) that :meth:`from_query` turns back into this scenario.

        Levers are always written (so a link keeps its meaning if defaults change); unset optional levers
        and audience filters are left out. Lists use repeated keys (``segment=A&segment=B``).
        """
        pairs: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "audience" or value is None:
                continue
            pairs.append((f.name, value if isinstance(value, str) else _format(value)))
        audience = self.audience
        for key, attr in _AUDIENCE_LIST_KEYS.items():
            pairs.extend((key, v) for v in getattr(audience, attr))
        for key in _AUDIENCE_NUMBER_KEYS:
            if getattr(audience, key) is not None:
                pairs.append((key, _format(getattr(audience, key))))
        return urlencode(pairs)

    @classmethod
    def from_query(cls, query: str) -> Scenario:
        """Scenario from a URL query (``?`` optional). Keys that are not scenario fields are ignored (other
        parts of the app may share the URL); missing levers take their defaults; bad values raise DataError.
        """
        parsed = parse_qs(query.lstrip("?"), keep_blank_values=True)
        for old, new in _RENAMED_KEYS.items():  # an older link's key, unless the link also has the new one
            if old in parsed:
                parsed.setdefault(new, parsed.pop(old))
        lever_names = {f.name for f in fields(cls)} - {"audience"}
        values: dict[str, Any] = {k: v[-1] for k, v in parsed.items() if k in lever_names}
        audience: dict[str, Any] = {
            attr: parsed[key] for key, attr in _AUDIENCE_LIST_KEYS.items() if key in parsed
        }
        audience.update({key: parsed[key][-1] for key in _AUDIENCE_NUMBER_KEYS if key in parsed})
        return cls(**values, audience=AudienceFilter(**audience))
