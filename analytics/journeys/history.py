"""Segment journeys, the history: each customer's state at a series of snapshot dates.

A *snapshot* is an as-of date (midnight, exclusive, like the app's as-of date): the 2011-Q2 snapshot is
dated 2011-07-01 and sees every line up to and including 30 June. :func:`snapshot_dates` returns the period
boundaries up to the as-of date, with the as-of date itself as the last snapshot.

At each snapshot a customer is in exactly one *state*:

- ``"Not yet a customer"``: no purchase before the snapshot;
- ``"Inactive"``: last purchase more than ``inactive_days`` days before the snapshot;
- otherwise their RFM segment (:mod:`analytics.segments`) from recency, frequency and monetary value as
  :func:`analytics.features.customer_features` defines them, on the lines *before the snapshot only*.

The lines are put in date order once and read period by period, each snapshot's values carried on from the
previous one's, so a snapshot's values are made before any later line is read. This is plain numpy on integer
customer numbers: a pandas groupby per snapshot (the feature table on each cut of the lines) took three times
as long at 10M lines, and gave the same values bit for bit (tests/analytics/test_lean_steps.py).

RFM scores are ranked among every customer with a purchase before the snapshot (inactive ones included,
they are then relabelled), so the last snapshot agrees with the Segments tab for active customers.
How scores are made comparable across snapshots is :data:`analytics.methodology.JOURNEYS` (shown in the app).

The history is a long table, one row per (customer, snapshot); :mod:`.flows` and :mod:`.headlines` read it. Money is net
revenue (purchases minus returns) in the log's currency; durations are days. It is most of the step's memory:
at 10M lines (324k customers, 1.6M rows) the history is 178 MB, and the step's peak 201 MB above its input
(306 before the working arrays were dropped ahead of building it; measured with every block over 64 kB mapped
on its own, MALLOC_MMAP_THRESHOLD_=65536, so that the figure is what is held, not what the heap kept). Those
figures are from before the IDs, labels and segments were categoricals and the scores Int8 rather than Int64:
a history is pickled into the results cache and read back by the journeys tab, and on the 1M-line log (33k
customers, 164k rows) that halved it, 18.8 MB pickled before, 9.3 MB after, for the same values and the same
time to make it (journey_history 0.13 CPU s either way).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analytics import schema as S
from analytics.errors import DataError
from analytics.features import DAY
from analytics.values import code_dtype, codes_of, unique_categorical
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

    Columns: customer_id (categorical, see :func:`plain_ids`), snapshot (Timestamp), label (categorical, in
    time order), state (ordered categorical, see :func:`state_order`), segment (RFM segment, categorical, NaN
    before the first purchase), period_revenue (net revenue in [previous snapshot, snapshot)), recency_days,
    frequency (Int64), monetary, r_score, f_score, m_score (Int8).
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

    # Rows in date order (stable), so each snapshot is a prefix of them: later rows are simply not there.
    stamps = lines[S.INVOICE_DATE].to_numpy(dtype="datetime64[ns]")
    dated = np.flatnonzero(~np.isnat(stamps))
    rows = dated[np.argsort(stamps[dated], kind="stable")]
    when = stamps[rows]
    cuts = np.searchsorted(when, np.array(snaps, dtype=when.dtype), side="left")
    rows, when = rows[: cuts[-1]], when[: cuts[-1]]
    buy = ~lines[S.IS_RETURN].to_numpy(dtype=bool)[rows]
    if not buy.any():
        raise DataError(f"no purchases before the last snapshot {snaps[-1]:%Y-%m-%d}; nothing to follow")
    customers, position = _customer_positions(lines[S.CUSTOMER_ID], rows, buy)
    revenue = lines[S.REVENUE].to_numpy(dtype="float64")[rows]
    rfm = _snapshot_rfm(lines[S.INVOICE_ID], rows, when, buy, position, revenue, cuts, snaps, len(customers))

    scorer = rfm_scores
    if scoring == "fixed":
        ref = _resolve_position(reference, snaps, labels) if reference is not None else len(snaps) - 1
        if rfm[ref] is None:
            raise DataError(f"reference snapshot {labels[ref]} has no customers to take score thresholds "
                            "from; pick a later reference")
        scorer = _fixed_scorer(rfm[ref])
    n, k = len(customers), len(snaps)
    # (snapshot, customer) grid, snapshot-major like the output; customers unknown at a snapshot stay missing
    known = np.zeros(k * n, dtype=bool)
    grid = {"recency_days": np.full(k * n, np.nan), "frequency": np.zeros(k * n, dtype=np.int64),
            "monetary": np.full(k * n, np.nan), **{col: np.zeros(k * n, dtype=np.int8) for col in SCORE_COLUMNS}}
    for i, table in enumerate(rfm):
        if table is not None:
            at = i * n + table.index.to_numpy()
            known[at] = True
            for col, column in [*table.items(), *scorer(table).items()]:
                grid[col][at] = column.to_numpy()
    del rfm, table  # (the per-snapshot tables and the rows' arrays below are not held while the output is made)

    # Segments depend on the three scores only: the rule table is matched on the 125 combinations, once.
    combos = pd.DataFrame(list(itertools.product(range(1, 6), repeat=3)), columns=list(SCORE_COLUMNS))
    combo_segment = assign_segments(combos, rules).to_numpy(dtype=object)
    r, f, m = (grid[col].astype(np.intp) for col in SCORE_COLUMNS)  # (the scores are int8: 25 * 5 overflows)
    combo = (r - 1) * 25 + (f - 1) * 5 + m - 1
    del r, f, m
    # the state of each combination, and last "not yet a customer" for customers unknown at a snapshot
    combo_state = np.array([*(states.index(s) for s in combo_segment), states.index(NOT_YET)])
    state = combo_state[np.where(known, combo, len(combos))]
    if inactive_days is not None:
        state[known & (grid["recency_days"] > inactive_days)] = states.index(INACTIVE)

    # each line's revenue period: [previous snapshot, snapshot); the first starts at its calendar period
    first_start = _period_start(snaps[0], period)
    start = 0 if first_start is None else np.searchsorted(when, np.array([first_start], dtype=when.dtype))[0]
    which = np.searchsorted(cuts, np.arange(start, cuts[-1]), side="right")
    mine = position[start:] >= 0  # customers with returns only are not followed
    period_revenue = np.bincount(which[mine] * n + position[start:][mine], weights=revenue[start:][mine],
                                 minlength=k * n)
    del dated, rows, when, buy, position, revenue, which, mine

    # the columns made from the 8-byte working arrays first, each array dropped once used
    # Repeated texts are categoricals (categories sorted, so that sorting by them sorts by text), the scores
    # int8: see the module's docstring for what that saves.
    names = sorted(set(combo_segment))
    combo_code = np.array([*(names.index(s) for s in combo_segment), -1], dtype=code_dtype(len(names)))
    segment = pd.Categorical.from_codes(combo_code[np.where(known, combo, -1)],
                                        dtype=pd.CategoricalDtype(pd.Index(names, dtype="string")))
    del combo
    state = pd.Categorical.from_codes(state, dtype=pd.CategoricalDtype(states, ordered=True))

    def integers(column: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(column, ~known)

    return pd.DataFrame({
        S.CUSTOMER_ID: unique_categorical(np.tile(np.arange(n, dtype=code_dtype(n)), k), customers),
        "snapshot": pd.Index(snaps).repeat(n),
        "label": pd.Categorical.from_codes(np.repeat(np.arange(k, dtype=code_dtype(k)), n),
                                           dtype=pd.CategoricalDtype(pd.Index(labels, dtype="string"))),
        "state": state,
        "segment": segment,
        "period_revenue": period_revenue,
        "recency_days": grid["recency_days"],
        "frequency": integers(grid["frequency"]),
        "monetary": grid["monetary"],
        **{col: integers(grid[col]) for col in SCORE_COLUMNS},
    }, copy=False)  # (every column is made here: pandas need not copy them)


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
    which, dates, first = _snapshot_codes(history)
    known = (history["state"] != NOT_YET).to_numpy()
    customers = np.bincount(which, weights=known, minlength=len(dates)).astype("int64")
    return pd.DataFrame({"snapshot": dates, "label": history["label"].iloc[first].to_numpy(), "customers": customers})


def _snapshot_codes(history: pd.DataFrame) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Each row's snapshot number (0 = earliest), the snapshots in order and the first row of each."""
    # hashed, then only the few distinct dates sorted: sorting every row's date took five times as long
    which, dates = pd.factorize(history["snapshot"], sort=True)
    first = np.full(len(dates), len(history))
    np.minimum.at(first, which, np.arange(len(history)))
    return which, pd.DatetimeIndex(dates), first


def state_counts(history: pd.DataFrame) -> pd.DataFrame:
    """Customers per state (rows, in state order) and snapshot label (columns, in time order)."""
    _check_history(history)
    table = pd.crosstab(history["state"], history["snapshot"], dropna=False)
    table = table.reindex(history["state"].cat.categories, fill_value=0)
    table.columns = snapshots(history)["label"].tolist()
    table.index.name = "state"
    return table


def plain_ids(ids) -> pd.Index:
    """Customer IDs taken from a history (which holds them as a categorical) as the customer table holds them:
    an index of strings named customer_id, so that the two join."""
    index = pd.Index(ids, name=S.CUSTOMER_ID)
    return index.astype(index.categories.dtype) if isinstance(index, pd.CategoricalIndex) else index


def _customer_positions(ids: pd.Series, rows: np.ndarray, buy: np.ndarray) -> tuple[pd.Index, np.ndarray]:
    """The customers followed (string IDs of everyone with a purchase among ``rows``, sorted) and each row's
    position among them (-1: a customer with returns only). IDs are hashed once; categorical IDs (the cleaned
    lines) by their categories only."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        codes, distinct = codes_of(ids), ids.cat.categories
    else:
        codes, distinct = pd.factorize(ids)
    # distinct values may still read alike as text (1 and "1"): they are one customer, as in the features
    alike, names = pd.factorize(pd.Index(distinct).astype("string"))
    names = pd.Index(names, dtype="string", name=S.CUSTOMER_ID)
    codes = np.where(codes >= 0, alike[codes], -1)[rows]
    if (codes[buy] < 0).any():
        raise DataError("lines without a customer_id: pass the cleaned lines (CleanResult.lines)")
    bought = np.zeros(len(names), dtype=bool)
    bought[codes[buy]] = True
    present = np.flatnonzero(bought)
    present = present[names.take(present).argsort()]
    position = np.full(len(names) + 1, -1)  # (the last entry: code -1)
    position[present] = np.arange(len(present))
    return names.take(present), position[codes]


def _snapshot_rfm(invoices: pd.Series, rows: np.ndarray, when: np.ndarray, buy: np.ndarray,
                  position: np.ndarray, revenue: np.ndarray, cuts: np.ndarray, snaps: Sequence[pd.Timestamp],
                  n: int) -> list[pd.DataFrame | None]:
    """Recency, frequency and monetary (as :func:`analytics.features.customer_features` defines them) of
    every customer with a purchase before each snapshot, indexed by customer position; None when nobody had
    bought yet. ``rows`` are in date order and snapshot i sees ``rows[:cuts[i]]`` only.

    One pass over the rows, period by period: sums run on in row order (each customer's money is added in
    the order the feature table adds it, so the floats are the same), the last purchase is a running
    maximum, and an invoice counts from the period of its first purchase row."""
    codes = (codes_of(invoices) if isinstance(invoices.dtype, pd.CategoricalDtype)
             else pd.factorize(invoices)[0])[rows]
    counted = np.flatnonzero(buy & (codes >= 0))
    pair = position[counted].astype(np.int64) * (int(codes.max(initial=0)) + 1) + codes[counted]
    first_row = counted[np.unique(pair, return_index=True)[1]]
    fresh = np.bincount(np.searchsorted(cuts, first_row, side="right") * n + position[first_row],
                        minlength=len(cuts) * n).reshape(len(cuts), n)
    frequency = np.cumsum(fresh, axis=0)
    stamp = when.view(np.int64)
    never = np.iinfo(np.int64).min
    gross, returned, last = np.zeros(n), np.zeros(n), np.full(n, never)
    out, begin = [], 0
    for i, (cut, snap) in enumerate(zip(cuts, snaps)):
        part = np.arange(begin, cut)
        bought, back = part[buy[begin:cut]], part[~buy[begin:cut] & (position[begin:cut] >= 0)]
        np.add.at(gross, position[bought], revenue[bought])
        np.add.at(returned, position[back], revenue[back])
        np.maximum.at(last, position[bought], stamp[bought])
        begin = cut
        who = np.flatnonzero(last != never)
        if not len(who):
            out.append(None)
            continue
        out.append(pd.DataFrame({
            "recency_days": (snap.to_datetime64() - last[who].view("datetime64[ns]")) / DAY,
            "frequency": frequency[i, who],
            "monetary": gross[who] + returned[who],
        }, index=who))
    return out


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
