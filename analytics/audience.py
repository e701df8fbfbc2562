"""Who a view is about: the one customer filter of the app, its filter options, and "at risk".

The segment explorer and the ROI simulator select customers with the same :class:`AudienceFilter` and build
their filter controls from the same :func:`filter_options`, so a selection means the same on both tabs.

The customer table is indexed by customer_id (string) with, when the filter needs them, columns
``segment``, ``cluster_name``, ``churn_probability`` (0-1), ``clv`` (currency) and ``country``.
Filters combine with AND; several values of one filter (segments, clusters, countries) combine with OR.
One rule for a missing column: a filter that is set on a column the table lacks is a DataError naming the
column (the tabs disable such controls, so only a forged or stale request gets there); a filter that is not
set never looks at its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import DataError
from analytics.fields import optional_number, reject_unknown
from analytics.segments import SEGMENT_ORDER
from analytics.values import codes_of

AT_RISK_CHURN_PROBABILITY = 0.5
"""A customer is "at risk" when their churn probability is at least this (fraction). The tower's KPI, the
explorer's at-risk export, the ROI audience and the CLI's summary all use this one rule (:func:`is_at_risk`)."""

SEGMENT_COLUMN = "segment"
CLUSTER_COLUMN = "cluster_name"
CHURN_COLUMN = "churn_probability"
CLV_COLUMN = "clv"
COUNTRY_COLUMN = "country"

# Header cells an uploaded ID list may start with (compared case-insensitively, spaces and _ ignored).
_ID_HEADERS = {"customerid", "customer", "id", "ids", "client", "clientid"}
_FLOAT_ID = re.compile(r"^(\d+)\.0+$")


def normalise_id(value: Any) -> str:
    """Customer ID as the canonical string: stripped; float-looking ``17850.0`` becomes ``17850``."""
    text = str(value).strip()
    match = _FLOAT_ID.match(text)
    return match.group(1) if match else text


def read_id_list(content: str | bytes) -> list[str]:
    """Customer IDs from an uploaded list: one per line or separated by commas, semicolons, tabs.

    A header cell such as ``CustomerID`` is dropped. Order is kept; duplicates are kept (the selection
    reports them).
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = content.decode("latin-1")
    tokens = [normalise_id(t) for t in re.split(r"[\s,;|]+", content.strip().strip('"'))]
    tokens = [t.strip('"').strip("'") for t in tokens if t.strip('"').strip("'")]
    if tokens and re.sub(r"[\s_]", "", tokens[0]).lower() in _ID_HEADERS:
        tokens = tokens[1:]
    return tokens


def is_at_risk(churn_probability: pd.Series, threshold: float = AT_RISK_CHURN_PROBABILITY) -> pd.Series:
    """Boolean per customer: churn probability >= ``threshold``; a missing or non-numeric probability is not
    at risk (nothing says it is)."""
    probability = pd.to_numeric(churn_probability, errors="coerce")
    return probability.ge(threshold).fillna(False).astype(bool)


def _as_tuple(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(str(v) for v in values)


@dataclass(frozen=True)
class AudienceFilter:
    """Who the campaign may target.

    segments, clusters, countries: allowed values (empty = no restriction).
    churn_min, churn_max: churn probability range, inclusive, probabilities 0-1 (None = open).
    clv_min, clv_max: CLV range, inclusive, currency (None = open).
    customer_ids: an explicit list (e.g. uploaded); empty = no restriction.
    """

    segments: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    churn_min: float | None = None
    churn_max: float | None = None
    clv_min: float | None = None
    countries: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()
    clv_max: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", _as_tuple(self.segments))
        object.__setattr__(self, "clusters", _as_tuple(self.clusters))
        object.__setattr__(self, "countries", _as_tuple(self.countries))
        object.__setattr__(self, "customer_ids", tuple(normalise_id(i) for i in _as_tuple(self.customer_ids)))
        for name in ("churn_min", "churn_max", "clv_min", "clv_max"):
            object.__setattr__(self, name, optional_number(f"audience {name}", getattr(self, name)))
        problems = []
        for name in ("churn_min", "churn_max"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                problems.append(f"{name} {value} must be a probability between 0 and 1")
        if self.churn_min is not None and self.churn_max is not None and self.churn_min > self.churn_max:
            problems.append(f"churn_min {self.churn_min} is above churn_max {self.churn_max}")
        if self.clv_min is not None and self.clv_max is not None and self.clv_min > self.clv_max:
            problems.append(f"clv_min {self.clv_min} is above clv_max {self.clv_max}")
        if problems:
            raise DataError("invalid audience: " + "; ".join(problems))

    def is_empty(self) -> bool:
        """True when no filter is set (everyone is selected)."""
        return self == AudienceFilter()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; lists for the tuples."""
        return {
            "segments": list(self.segments),
            "clusters": list(self.clusters),
            "churn_min": self.churn_min,
            "churn_max": self.churn_max,
            "clv_min": self.clv_min,
            "clv_max": self.clv_max,
            "countries": list(self.countries),
            "customer_ids": list(self.customer_ids),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AudienceFilter:
        """Build from a (possibly partial) dict; unknown keys are an error, named."""
        reject_unknown(values, cls.__dataclass_fields__, "audience")
        return cls(**values)


@dataclass(frozen=True)
class AudienceSelection:
    """Result of applying an AudienceFilter.

    table: the whole customer table; mask: which of its rows are selected (bool array).
    customers: the selected rows (same columns, same index), built on first use.
    steps: (description, customers left) after each filter, starting with the whole table.
    unknown_ids: uploaded IDs not in the table, in upload order. duplicate_ids: IDs uploaded more than once.
    notes: human-readable remarks (unknown IDs, filter values absent from the table, empty result).
    """

    table: pd.DataFrame
    mask: np.ndarray
    steps: list[tuple[str, int]]
    unknown_ids: tuple[str, ...] = ()
    duplicate_ids: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.mask.sum())

    @cached_property
    def customers(self) -> pd.DataFrame:
        return self.rows()

    def rows(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Selected rows, all columns or only ``columns`` (cheaper on a wide table); no copy when every
        row and column is selected."""
        frame = self.table if columns is None else self.table[columns]
        return frame if self.mask.all() else frame.loc[self.mask]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (not the rows)."""
        return {
            "n_customers": self.n,
            "steps": [[label, count] for label, count in self.steps],
            "unknown_ids": list(self.unknown_ids),
            "duplicate_ids": list(self.duplicate_ids),
            "notes": list(self.notes),
        }


def _column(table: pd.DataFrame, column: str, purpose: str) -> pd.Series:
    if column not in table.columns:
        raise DataError(
            f"cannot filter the audience by {purpose}: the customer table has no column {column!r} "
            f"(columns: {', '.join(map(str, table.columns))})"
        )
    return table[column]


def _numeric(table: pd.DataFrame, column: str, purpose: str) -> pd.Series:
    """The column as numbers; non-numeric cells become NaN and so fail numeric filters."""
    return pd.to_numeric(_column(table, column, purpose), errors="coerce")


def _short_list(values: list[str], limit: int = 10) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _matches(column: pd.Series, values: tuple[str, ...]) -> tuple[np.ndarray, set[str]]:
    """Which rows hold one of ``values`` (compared as text) and the texts the column holds. A categorical (the
    customer table's texts) is compared by its categories: making a text of every row took longer than the
    filtering itself."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        texts = column.astype("string")
        return texts.isin(values).fillna(False).to_numpy(dtype=bool), set(texts.dropna().unique())
    codes = codes_of(column)
    categories = pd.Series(column.cat.categories.astype("string"))
    held = np.bincount(codes + 1, minlength=len(categories) + 1)[1:] > 0  # (code -1: missing)
    wanted = np.append(categories.isin(values).to_numpy(dtype=bool), False)
    return wanted[codes], set(categories[held])


def select_audience(table: pd.DataFrame, audience: AudienceFilter | None = None) -> AudienceSelection:
    """Apply ``audience`` to the customer table (indexed by customer_id).

    Customers with a missing churn probability or CLV fail a churn or CLV filter. Unknown uploaded IDs
    are reported in ``unknown_ids`` and the notes, never silently dropped.
    """
    audience = audience or AudienceFilter()
    if not table.index.is_unique:
        duplicated = table.index[table.index.duplicated()].astype(str).unique().tolist()
        raise DataError(f"the customer table has duplicate customer IDs: {_short_list(duplicated, 5)}")
    keep = np.ones(len(table), dtype=bool)
    steps: list[tuple[str, int]] = [("all customers", len(table))]
    notes: list[str] = []

    def apply(mask: np.ndarray, label: str) -> None:
        nonlocal keep
        keep &= mask
        steps.append((label, int(keep.sum())))

    for values, column, purpose in (
        (audience.segments, SEGMENT_COLUMN, "segment"),
        (audience.clusters, CLUSTER_COLUMN, "cluster"),
        (audience.countries, COUNTRY_COLUMN, "country"),
    ):
        if not values:
            continue
        mask, present = _matches(_column(table, column, purpose), values)
        absent = sorted(set(values) - present)
        if absent:
            notes.append(f"no customer has {purpose} {_short_list([repr(v) for v in absent])}")
        apply(mask, f"{purpose} in {', '.join(values)}")

    if audience.churn_min is not None or audience.churn_max is not None:
        churn = _numeric(table, CHURN_COLUMN, "churn probability")
        low = 0.0 if audience.churn_min is None else audience.churn_min
        high = 1.0 if audience.churn_max is None else audience.churn_max
        apply(
            churn.between(low, high).fillna(False).to_numpy(dtype=bool), f"churn probability {low:g}-{high:g}"
        )

    if audience.clv_min is not None or audience.clv_max is not None:
        clv = _numeric(table, CLV_COLUMN, "CLV")
        low = -np.inf if audience.clv_min is None else audience.clv_min
        high = np.inf if audience.clv_max is None else audience.clv_max
        label = (f"CLV >= {low:g}" if audience.clv_max is None else f"CLV <= {high:g}"
                 if audience.clv_min is None else f"CLV {low:g}-{high:g}")
        apply(clv.between(low, high).fillna(False).to_numpy(dtype=bool), label)

    unknown: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    if audience.customer_ids:
        index = pd.Index(table.index.astype(str).map(normalise_id))
        uploaded = pd.Series(audience.customer_ids, dtype=object)
        duplicates = tuple(uploaded[uploaded.duplicated()].unique())
        wanted = uploaded.drop_duplicates()
        unknown = tuple(wanted[~wanted.isin(index)])
        if unknown:
            notes.append(
                f"{len(unknown)} of {len(wanted)} uploaded customer IDs are not in the data: "
                f"{_short_list(list(unknown))}"
            )
        if duplicates:
            notes.append(
                f"{len(duplicates)} uploaded IDs appear more than once: {_short_list(list(duplicates))}"
            )
        apply(np.asarray(index.isin(wanted), dtype=bool), f"uploaded list ({len(wanted)} IDs)")

    if not keep.any():
        notes.append("no customer matches the audience filters")
    return AudienceSelection(table, keep, steps, unknown, duplicates, notes)


@dataclass(frozen=True)
class FilterOptions:
    """What the filter controls of a tab offer for one customer table.

    segments: in the RFM order (unknown names after it); clusters sorted; countries by customer count (ties
    alphabetically).
    clv_max: the highest CLV rounded up (currency), None without a CLV column.
    absent: human names of the filters the table cannot serve (their column is missing).
    """

    segments: tuple[str, ...]
    clusters: tuple[str, ...]
    countries: tuple[str, ...]
    has_clusters: bool
    has_countries: bool
    has_churn: bool
    has_clv: bool
    clv_max: float | None

    @property
    def absent(self) -> tuple[str, ...]:
        return tuple(label for present, label in ((self.has_clusters, "clusters"), (self.has_countries, "countries"),
                                                  (self.has_churn, "churn probability"), (self.has_clv, "CLV"))
                     if not present)

    def note(self) -> str:
        """One sentence naming the filters these results cannot offer ("" when all can)."""
        absent = self.absent
        return f"Not in these results, so not available as a filter: {', '.join(absent)}." if absent else ""


def clv_ceiling(customers: pd.DataFrame) -> float | None:
    """Top of the CLV filter's range (currency, rounded up; None without CLV values): on its own because every
    filter change needs it, and the other options are far slower to compute."""
    if CLV_COLUMN not in customers.columns:
        return None
    clv = pd.to_numeric(customers[CLV_COLUMN], errors="coerce")
    return None if clv.dropna().empty else float(np.ceil(max(clv.max(), 0.0)))


def filter_options(customers: pd.DataFrame) -> FilterOptions:
    """The choices each filter offers on ``customers`` (the explorer and the ROI simulator use these)."""
    def counts(column: str) -> pd.Series:
        """Customers per value as text, most frequent first and equal counts alphabetically (counted before the
        values become text: at 325k customers turning every value into text was most of the explorer tab's
        opening). Ties were in the order the counting met them, which is the categories' order for a
        categorical and the rows' order for text, so the same results in either type gave another order."""
        if column not in customers.columns:
            return pd.Series(dtype="int64")
        found = customers[column].value_counts(dropna=True)
        found = found[found > 0]
        return found.groupby(found.index.astype(str), sort=True).sum().sort_values(ascending=False, kind="stable")

    present = set(counts(SEGMENT_COLUMN).index)
    return FilterOptions(
        segments=tuple([s for s in SEGMENT_ORDER if s in present] + sorted(present - set(SEGMENT_ORDER))),
        clusters=tuple(sorted(counts(CLUSTER_COLUMN).index)),
        countries=tuple(counts(COUNTRY_COLUMN).index),
        has_clusters=CLUSTER_COLUMN in customers.columns,
        has_countries=COUNTRY_COLUMN in customers.columns,
        has_churn=CHURN_COLUMN in customers.columns,
        has_clv=CLV_COLUMN in customers.columns,
        clv_max=clv_ceiling(customers),
    )
