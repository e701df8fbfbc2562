"""Campaign audience: select customers from the customer table by filters or an uploaded ID list.

The customer table is indexed by customer_id (string) with, when the filter needs them, columns
``segment``, ``cluster_name``, ``churn_probability`` (0-1), ``clv`` (currency) and ``country``.
Filters combine with AND; several values of one filter (segments, clusters, countries) combine with OR.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import DataError

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


def _as_tuple(values: Any) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(str(v) for v in values)


def _optional_float(name: str, value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"audience {name} must be a number; got {value!r}") from None
    if not np.isfinite(number):
        raise DataError(f"audience {name} must be a finite number; got {value!r}")
    return number


@dataclass(frozen=True)
class AudienceFilter:
    """Who the campaign may target.

    segments, clusters, countries: allowed values (empty = no restriction).
    churn_min, churn_max: churn probability range, inclusive, probabilities 0-1 (None = open).
    clv_min: CLV floor, inclusive, currency (None = none).
    customer_ids: an explicit list (e.g. uploaded); empty = no restriction.
    """

    segments: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    churn_min: float | None = None
    churn_max: float | None = None
    clv_min: float | None = None
    countries: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", _as_tuple(self.segments))
        object.__setattr__(self, "clusters", _as_tuple(self.clusters))
        object.__setattr__(self, "countries", _as_tuple(self.countries))
        object.__setattr__(self, "customer_ids", tuple(normalise_id(i) for i in _as_tuple(self.customer_ids)))
        for name in ("churn_min", "churn_max", "clv_min"):
            object.__setattr__(self, name, _optional_float(name, getattr(self, name)))
        problems = []
        for name in ("churn_min", "churn_max"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                problems.append(f"{name} {value} must be a probability between 0 and 1")
        if self.churn_min is not None and self.churn_max is not None and self.churn_min > self.churn_max:
            problems.append(f"churn_min {self.churn_min} is above churn_max {self.churn_max}")
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
            "countries": list(self.countries),
            "customer_ids": list(self.customer_ids),
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AudienceFilter:
        """Build from a (possibly partial) dict; unknown keys are an error, named."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise DataError(
                f"unknown audience field(s): {', '.join(unknown)}; "
                f"expected some of {', '.join(sorted(known))}"
            )
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
        series = _column(table, column, purpose).astype("string")
        absent = sorted(set(values) - set(series.dropna().unique()))
        if absent:
            notes.append(f"no customer has {purpose} {_short_list([repr(v) for v in absent])}")
        apply(series.isin(values).fillna(False).to_numpy(dtype=bool), f"{purpose} in {', '.join(values)}")

    if audience.churn_min is not None or audience.churn_max is not None:
        churn = _numeric(table, CHURN_COLUMN, "churn probability")
        low = 0.0 if audience.churn_min is None else audience.churn_min
        high = 1.0 if audience.churn_max is None else audience.churn_max
        apply(
            churn.between(low, high).fillna(False).to_numpy(dtype=bool), f"churn probability {low:g}-{high:g}"
        )

    if audience.clv_min is not None:
        clv = _numeric(table, CLV_COLUMN, "CLV")
        apply((clv >= audience.clv_min).fillna(False).to_numpy(dtype=bool), f"CLV >= {audience.clv_min:g}")

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
