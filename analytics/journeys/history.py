"""Segment journeys, the history: each customer's state at a series of snapshot dates.

A *snapshot* is an as-of date (midnight, exclusive, like the app's as-of date): the 2011-Q2 snapshot is
dated 2011-07-01 and sees every line up to and including 30 June. :func:`snapshot_dates` returns the period
boundaries up to the as-of date, with the as-of date itself as the last snapshot.

At each snapshot a customer is in exactly one *state*:

- ``"Not yet a customer"``: no purchase before the snapshot;
- ``"Inactive"``: last purchase more than ``inactive_days`` days before the snapshot;
- otherwise their RFM segment (:mod:`analytics.segments`), from :func:`analytics.features.customer_features`
  on the lines *before the snapshot only*. The frame is cut before features are computed, so a snapshot
  cannot see later transactions whatever the feature code does.

RFM scores are ranked among every customer with a purchase before the snapshot (inactive ones included,
they are then relabelled), so the last snapshot agrees with the Segments tab for active customers.
How scores are made comparable across snapshots is :data:`analytics.methodology.JOURNEYS` (shown in the app).

The history is a long table, one row per (customer, snapshot); :mod:`.flows` and :mod:`.headlines` read it. Money is net
revenue (purchases minus returns) in the log's currency; durations are days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analytics import schema as S
from analytics.errors import DataError
from analytics.features import customer_features
from analytics.segments import (
    DEFAULT_SEGMENT_RULES,
    SCORE_COLUMNS,
    SEGMENT_ORDER,
    assign_segments,
    rfm_scores,
)

NOT_YET = "Not yet a customer"
INACTIVE = "Inactive"
DEFAULT_INACTIVE_DAYS = 180
PERIODS = {"Q": "quarter", "M": "month"}
SCORING = ("per_snapshot", "fixed")

Scoring = Literal["per_snapshot", "fixed"]
Revenue = Literal["from", "to"]
SnapshotKey = pd.Timestamp | str

_LINE_COLUMNS = (S.CUSTOMER_ID, S.INVOICE_ID, S.INVOICE_DATE, S.REVENUE, S.IS_RETURN)
_RFM = ("recency_days", "frequency", "monetary")


def snapshot_dates(
    lines: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
    period: str = "Q",
    *,
    last: int | None = None,
) -> list[pd.Timestamp]:
    """Snapshot as-of dates: the start of every period after the first line's period, before ``as_of``,
    then ``as_of`` itself (default: midnight after the last line). ``last`` keeps only the last n."""
    _check_lines(lines)
    freq = _period_freq(period)
    dates = lines[S.INVOICE_DATE].dropna()
    if dates.empty:
        raise DataError("snapshot dates need at least one dated line; the table has none")
    as_of = dates.max().normalize() + pd.Timedelta(days=1) if as_of is None else _timestamp(as_of, "as_of")
    first = dates.min()
    if as_of <= first:
        raise DataError(f"as-of date {as_of:%Y-%m-%d} is not after the first transaction ({first:%Y-%m-%d})")
    start = pd.Period(first, freq=period).end_time.normalize() + pd.Timedelta(days=1)
    bounds = [d for d in pd.date_range(start, as_of, freq=freq) if d < as_of]
    out = [*bounds, as_of]
    if last is not None:
        if last < 1:
            raise DataError(f"the number of snapshots to keep must be at least 1, got {last}")
        out = out[-last:]
    return out


def snapshot_label(date: pd.Timestamp, period: str | None = "Q") -> str:
    """Human label of a snapshot: the period it closes ("2011-Q2", "2011-06"), with "(to <last day>)" when it
    closes a period early (the as-of date); the last day it includes (ISO) when ``period`` is None."""
    date = _timestamp(date, "snapshot")
    last_day = date - pd.Timedelta(days=1)
    if period is None:
        return f"{last_day:%Y-%m-%d}"
    _period_freq(period)
    p = pd.Period(last_day, freq=period)
    text = f"{p.year}-Q{p.quarter}" if period == "Q" else f"{p.year}-{p.month:02d}"
    if p.end_time.normalize() != last_day.normalize():
        text += f" (to {last_day:%Y-%m-%d})"
    return text


def segment_history(
    lines: pd.DataFrame,
    dates: Iterable[pd.Timestamp | str],
    *,
    inactive_days: float | None = DEFAULT_INACTIVE_DAYS,
    scoring: Scoring = "per_snapshot",
    reference: SnapshotKey | None = None,
    rules: pd.DataFrame = DEFAULT_SEGMENT_RULES,
    period: str | None = None,
) -> pd.DataFrame:
    """State of every customer at every snapshot, one row per (customer, snapshot).

    ``lines``: cleaned invoice lines (canonical columns + ``revenue`` + ``is_return``). ``dates``: snapshot
    as-of dates (exclusive cutoffs), e.g. from :func:`snapshot_dates`. ``inactive_days`` (days; None turns
    the state off). ``scoring``: "per_snapshot" (quintiles at each snapshot, default) or "fixed" (score
    thresholds of the ``reference`` snapshot, default the last). ``period`` ("Q", "M" or None) names the
    snapshots and starts the first one's revenue period at its calendar period (None: all earlier lines).

    Columns: customer_id, snapshot (Timestamp), label (str), state (ordered categorical, see
    :func:`state_order`), segment (RFM segment, <NA> before the first purchase), period_revenue (net revenue
    in [previous snapshot, snapshot)), recency_days, frequency, monetary, r_score, f_score, m_score.
    Customers: everyone with a purchase before the last snapshot.
    """
    _check_lines(lines)
    snaps = sorted({_timestamp(d, "snapshot date") for d in dates})
    if not snaps:
        raise DataError("segment history needs at least one snapshot date")
    if scoring not in SCORING:
        raise DataError(f"scoring {scoring!r} is not one of {', '.join(SCORING)}")
    if inactive_days is not None and not inactive_days > 0:
        raise DataError(f"the inactivity window must be a positive number of days, got {inactive_days}")
    labels = [snapshot_label(d, period) for d in snaps]
    states = state_order(rules)

    # Sorted once so each snapshot is a prefix of the table: cheap, and later rows are simply not there.
    ordered = lines.loc[:, list(_LINE_COLUMNS)].sort_values(S.INVOICE_DATE, kind="stable")
    ordered = ordered.loc[ordered[S.INVOICE_DATE].notna()]
    # categorical IDs: every per-snapshot groupby then skips re-hashing ~400k strings
    ordered[S.CUSTOMER_ID] = ordered[S.CUSTOMER_ID].astype("string").astype("category")
    when = ordered[S.INVOICE_DATE].to_numpy()
    cuts = np.searchsorted(when, np.array(snaps, dtype=when.dtype), side="left")
    buys = ordered.iloc[: cuts[-1]].loc[lambda t: ~t[S.IS_RETURN].to_numpy(dtype=bool)]
    customers = pd.Index(sorted(buys[S.CUSTOMER_ID].unique().astype(str)), dtype="string", name=S.CUSTOMER_ID)
    if customers.empty:
        raise DataError(f"no purchases before the last snapshot {snaps[-1]:%Y-%m-%d}; nothing to follow")

    features = [_rfm_features(ordered.iloc[:cut], snap) for cut, snap in zip(cuts, snaps)]
    scorer = rfm_scores
    if scoring == "fixed":
        ref = _resolve_position(reference, snaps, labels) if reference is not None else len(snaps) - 1
        if features[ref] is None:
            raise DataError(f"reference snapshot {labels[ref]} has no customers to take score thresholds "
                            "from; pick a later reference")
        scorer = _fixed_scorer(features[ref])

    scored = [scorer(f).join(f).assign(snapshot=snap) for f, snap in zip(features, snaps) if f is not None]
    scored = pd.concat(scored).reset_index().set_index(["snapshot", S.CUSTOMER_ID])
    # one call for every snapshot: the rule table is validated once
    scored["segment"] = assign_segments(scored, rules)
    grid = pd.MultiIndex.from_product([snaps, customers], names=["snapshot", S.CUSTOMER_ID])
    out = scored.reindex(grid)

    # each line's revenue period: [previous snapshot, snapshot); the first starts at its calendar period
    first_start = _period_start(snaps[0], period)
    start = 0 if first_start is None else np.searchsorted(when, np.array([first_start], dtype=when.dtype))[0]
    window = ordered.iloc[start: cuts[-1]]
    which = np.searchsorted(cuts, np.arange(start, cuts[-1]), side="right")
    # summed by (snapshot, customer position) numbers: grouping by string IDs was a quarter of the journeys
    ids = window[S.CUSTOMER_ID]
    codes = ids.cat.codes.to_numpy()
    position = np.where(codes >= 0, customers.get_indexer(ids.cat.categories)[codes], -1)
    mine = position >= 0  # customers with returns only are not followed
    out["period_revenue"] = np.bincount(which[mine] * len(customers) + position[mine],
                                        weights=window[S.REVENUE].to_numpy(dtype="float64")[mine],
                                        minlength=len(snaps) * len(customers))

    state = out["segment"].astype("object")
    if inactive_days is not None:
        state = state.mask(out["recency_days"] > inactive_days, INACTIVE)
    out["state"] = pd.Categorical(state.fillna(NOT_YET), categories=states, ordered=True)
    out["label"] = pd.Series(dict(zip(snaps, labels))).reindex(grid.get_level_values("snapshot")).to_numpy()
    out = out.reset_index()
    out["segment"] = out["segment"].astype("string")
    for col in SCORE_COLUMNS:
        out[col] = out[col].astype("Int64")
    out["frequency"] = out["frequency"].astype("Int64")
    out["label"] = out["label"].astype("string")
    cols = [S.CUSTOMER_ID, "snapshot", "label", "state", "segment", "period_revenue", *_RFM, *SCORE_COLUMNS]
    return out[cols].sort_values(["snapshot", S.CUSTOMER_ID], ignore_index=True)


def journey_history(
    lines: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
    *,
    period: str = "Q",
    last: int | None = None,
    inactive_days: float | None = DEFAULT_INACTIVE_DAYS,
    scoring: Scoring = "per_snapshot",
    rules: pd.DataFrame = DEFAULT_SEGMENT_RULES,
) -> pd.DataFrame:
    """:func:`segment_history` at :func:`snapshot_dates` (the one call a pipeline needs)."""
    dates = snapshot_dates(lines, as_of, period, last=last)
    return segment_history(lines, dates, inactive_days=inactive_days, scoring=scoring, rules=rules,
                           period=period)


@dataclass(frozen=True, eq=False)
class JourneyHistory:
    """The journey history a run keeps in the results: :func:`journey_history` with these settings."""

    period: str
    inactive_days: int
    history: pd.DataFrame

    def summary(self) -> dict[str, object]:
        return {"period": self.period, "inactive_days": self.inactive_days,
                "snapshots": int(self.history["snapshot"].nunique())}


def state_order(rules: pd.DataFrame = DEFAULT_SEGMENT_RULES) -> list[str]:
    """All states, best first: "Not yet a customer", the segments (SEGMENT_ORDER, then any other rule names
    in table order), "Inactive". Headlines read a move later in this list as a move down."""
    names = list(dict.fromkeys(pd.Series(rules["segment"]).astype(str).str.strip()))
    segments = [s for s in SEGMENT_ORDER if s in names] + [s for s in names if s not in SEGMENT_ORDER]
    return [NOT_YET, *segments, INACTIVE]


def snapshots(history: pd.DataFrame) -> pd.DataFrame:
    """The snapshots of a history, in order: snapshot (Timestamp), label, customers (having purchased)."""
    _check_history(history)
    dates, first, which = np.unique(history["snapshot"].to_numpy(), return_index=True, return_inverse=True)
    known = (history["state"] != NOT_YET).to_numpy()
    customers = np.bincount(which, weights=known, minlength=len(dates)).astype("int64")
    return pd.DataFrame({"snapshot": pd.DatetimeIndex(dates), "label": history["label"].to_numpy()[first],
                         "customers": customers})


def state_counts(history: pd.DataFrame) -> pd.DataFrame:
    """Customers per state (rows, in state order) and snapshot label (columns, in time order)."""
    _check_history(history)
    table = pd.crosstab(history["state"], history["snapshot"], dropna=False)
    table = table.reindex(history["state"].cat.categories, fill_value=0)
    table.columns = snapshots(history)["label"].tolist()
    table.index.name = "state"
    return table


def _rfm_features(past: pd.DataFrame, snap: pd.Timestamp) -> pd.DataFrame | None:
    """Recency, frequency, monetary per customer from lines before ``snap``; None when nobody bought yet."""
    if not (~past[S.IS_RETURN].to_numpy(dtype=bool)).any():
        return None
    return customer_features(past, snap, categories=pd.DataFrame())[list(_RFM)]


def _fixed_scorer(reference: pd.DataFrame):
    """Score values by their position among the reference snapshot's values: the mid-rank of a value
    (halfway between the customers below it and those tied with it) cut into quintiles, so tied customers
    share one score and values outside the reference range get 1 or 5."""
    sorted_ref = {col: np.sort(reference[col].to_numpy(dtype="float64")) for col in _RFM}

    def score(feats: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=feats.index)
        for col, name in zip(_RFM, SCORE_COLUMNS):
            ref, x = sorted_ref[col], feats[col].to_numpy(dtype="float64")
            position = (np.searchsorted(ref, x, "left") + np.searchsorted(ref, x, "right")) / (2 * len(ref))
            quintile = np.clip(np.floor(position * 5).astype(int) + 1, 1, 5)
            out[name] = 6 - quintile if col == "recency_days" else quintile
        return out

    return score


def _resolve_position(key: SnapshotKey, dates: Sequence[pd.Timestamp], labels: Sequence[str]) -> int:
    if isinstance(key, str) and key in labels:
        return list(labels).index(key)
    try:
        stamp = pd.Timestamp(key)
    except (ValueError, TypeError):
        stamp = None
    if stamp is not None and stamp in dates:
        return list(dates).index(stamp)
    raise DataError(f"{key!r} is not a snapshot; snapshots are {list(labels)} "
                    f"(dates {[f'{d:%Y-%m-%d}' for d in dates]})")


def _period_freq(period: str | None) -> str:
    if period not in PERIODS:
        choices = ", ".join(f"{k} ({v})" for k, v in PERIODS.items())
        raise DataError(f"snapshot period {period!r} is not one of {choices}")
    return {"Q": "QS", "M": "MS"}[period]


def _period_start(snap: pd.Timestamp, period: str | None) -> pd.Timestamp | None:
    if period is None:
        return None
    return pd.Period(snap - pd.Timedelta(days=1), freq=period).start_time


def _timestamp(value, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise DataError(f"{what} {value!r} is not a date (expected YYYY-MM-DD)")
    return stamp


def _check_lines(lines: pd.DataFrame) -> None:
    missing = [c for c in _LINE_COLUMNS if c not in lines.columns]
    if missing:
        raise DataError(f"journeys need cleaned lines with column(s) {missing} (from "
                        f"analytics.cleaning.clean); found {list(lines.columns)}")


def _check_history(history: pd.DataFrame) -> None:
    needed = [S.CUSTOMER_ID, "snapshot", "label", "state", "period_revenue"]
    missing = [c for c in needed if c not in history.columns]
    if missing or not isinstance(history["state"].dtype, pd.CategoricalDtype):
        what = missing or ["categorical state"]
        raise DataError(f"not a segment history (from segment_history): missing {what}")
