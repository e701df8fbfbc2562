"""Segment journeys: each customer's state at a series of snapshot dates and the flows between them.

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
How scores are made comparable across snapshots is :data:`METHODOLOGY` (shown in the app).

The history is a long table, one row per (customer, snapshot); every other function reads it. Money is net
revenue (purchases minus returns) in the log's currency; durations are days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

METHODOLOGY = """\
**Segment journeys.** At each snapshot date (the end of every quarter or month, and the as-of date), each
customer's RFM segment is computed again from the transactions *before that date only*: the data are cut
at the snapshot before anything is calculated, so a snapshot can never use later purchases. Two extra
states complete the picture: *Not yet a customer* (first purchase after the snapshot) and *Inactive* (no
purchase for longer than the inactivity window at that snapshot, 180 days by default). The last snapshot
is the as-of date, so the last period may be shorter than the others; its label says where it ends.

**Comparable scores.** By default the R, F and M scores are recomputed at every snapshot as quintiles of
the customers known at that date (*per-snapshot scoring*, the usual RFM convention). A score therefore
means the same thing at every snapshot: the customer's standing among the customer base of the day. This
matters because frequency and monetary value are cumulative: with thresholds fixed once, everybody looks
weaker at early snapshots simply because less history exists, and customers drift "up" over time without
buying more than their peers. The price of relative scores is that a customer can change segment because
others changed, and segment sizes stay roughly stable by construction; a shrinking or growing base shows
in the *Not yet a customer* and *Inactive* states instead. The alternative, *fixed scoring*, freezes the
score thresholds of a reference snapshot (the last one by default) and applies them to every snapshot
(a value scores where it would have ranked among the reference customers; tied values share one score).
It shows absolute change, but early snapshots are biased low for the reason above; and with a later
reference the yardstick, though never a customer's own later purchases, comes from a later date.

**Flows and revenue.** A flow counts the customers in one state at the first snapshot and another at the
second. Its revenue is, by choice, the net revenue (purchases minus returns) those customers brought in
the period ending at the first snapshot ("revenue at stake"), or between the two snapshots ("revenue
since"). Each customer's previous and current state and the date of their last change are exported with
the customer table. The headline sentences pick, between two snapshots, the move into a lapsing state
(Inactive, or a segment whose customers mostly have an R score of 1-2) holding the most revenue at stake,
the upward move bringing the most revenue since, the newcomers, those who went inactive, and how many of
the best segment stayed there.
"""

_LINE_COLUMNS = (S.CUSTOMER_ID, S.INVOICE_ID, S.INVOICE_DATE, S.REVENUE, S.IS_RETURN)
_RFM = ("recency_days", "frequency", "monetary")


# --------------------------------------------------------------------------------------------- snapshots


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


# ---------------------------------------------------------------------------------------------- history


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
    revenue = window[S.REVENUE].groupby([which, window[S.CUSTOMER_ID].astype("string").to_numpy()]).sum()
    flat = pd.MultiIndex.from_product([range(len(snaps)), customers])
    out["period_revenue"] = revenue.reindex(flat, fill_value=0.0).to_numpy()

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


# ------------------------------------------------------------------------------------------------ flows


def transitions(
    history: pd.DataFrame,
    from_date: SnapshotKey,
    to_date: SnapshotKey,
    *,
    revenue: Revenue = "from",
) -> pd.DataFrame:
    """Customers moving from each state at ``from_date`` to each state at ``to_date`` (dates or labels).

    Columns: from_label, to_label, source, target (categoricals in state order), customers, revenue.
    ``revenue="from"``: the flow's net revenue in the period ending at the first snapshot (revenue at stake);
    ``"to"``: its net revenue between the two snapshots (revenue since). Every customer of the history is in
    exactly one row (state pairs with nobody are left out), so ``customers`` sums to the customer count.
    """
    pair = _pair(history, from_date, to_date)
    money = "revenue_from" if _revenue_kind(revenue) == "from" else "revenue_to"
    flows = _flows(pair, [money]).rename(columns={money: "revenue"})
    flows.insert(0, "to_label", pair.attrs["to_label"])
    flows.insert(0, "from_label", pair.attrs["from_label"])
    return flows


def chain(history: pd.DataFrame, *, revenue: Revenue = "from") -> pd.DataFrame:
    """:func:`transitions` between every pair of consecutive snapshots, in time order (same columns)."""
    dates = snapshots(history)["snapshot"].tolist()
    if len(dates) < 2:
        raise DataError("a chain of flows needs at least two snapshots")
    return pd.concat([transitions(history, a, b, revenue=revenue) for a, b in zip(dates, dates[1:])],
                     ignore_index=True)


def transition_matrix(history: pd.DataFrame, from_date: SnapshotKey, to_date: SnapshotKey) -> pd.DataFrame:
    """Share of the customers in each state at ``from_date`` (rows) who are in each state at ``to_date``
    (columns); fractions 0-1, each row sums to 1. States in order; states nobody is in are left out."""
    pair = _pair(history, from_date, to_date)
    order = list(pair["source"].cat.categories)
    counts = np.zeros((len(order), len(order)))
    np.add.at(counts, (pair["source"].cat.codes.to_numpy(), pair["target"].cat.codes.to_numpy()), 1)
    rows, cols = counts.sum(axis=1) > 0, counts.sum(axis=0) > 0
    shares = counts[rows][:, cols] / counts[rows].sum(axis=1, keepdims=True)
    return pd.DataFrame(shares, index=pd.Index(np.array(order)[rows], name="source"),
                        columns=pd.Index(np.array(order)[cols], name="target"))


def flow_customers(
    history: pd.DataFrame,
    from_date: SnapshotKey,
    to_date: SnapshotKey,
    source: str | None = None,
    target: str | None = None,
) -> pd.DataFrame:
    """The customers behind a flow (``source``/``target`` None = any state), most revenue at stake first.

    Indexed by customer_id; columns: source, target, revenue_from (net revenue in the period ending at the
    first snapshot), revenue_to (between the snapshots), and recency_days, frequency, monetary, r_score,
    f_score, m_score at the second snapshot. Ready for a CSV export.
    """
    pair = _pair(history, from_date, to_date)
    order = list(history["state"].cat.categories)
    for name, value in (("source", source), ("target", target)):
        if value is not None and value not in order:
            raise DataError(f"unknown {name} state {value!r}; states are {order}")
    keep = np.ones(len(pair), dtype=bool)
    if source is not None:
        keep &= (pair["source"] == source).to_numpy()
    if target is not None:
        keep &= (pair["target"] == target).to_numpy()
    out = pair.loc[keep]
    return out.sort_values(["revenue_from", S.CUSTOMER_ID], ascending=[False, True], kind="stable")


def customer_journey(history: pd.DataFrame) -> pd.DataFrame:
    """Per customer (index customer_id): previous_segment (state at the second-to-last snapshot),
    current_segment (state at the last), last_change (snapshot date when the current state began; NaT if
    it never changed), last_change_label, changed_from (state held before that change), changes (count)."""
    _check_history(history)
    wide = (history.assign(code=history["state"].cat.codes)
            .pivot(index=S.CUSTOMER_ID, columns="snapshot", values="code").sort_index(axis=1))
    codes = wide.to_numpy(dtype="int64")
    cats = history["state"].cat.categories
    dates = wide.columns.to_numpy()
    labels = snapshots(history)["label"].to_numpy()
    # moved[:, k]: the state at snapshot k differs from k-1 (never at the first snapshot)
    moved = np.column_stack([np.zeros(len(codes), dtype=bool), codes[:, 1:] != codes[:, :-1]])
    any_move = moved.any(axis=1)
    last = codes.shape[1] - 1 - np.argmax(moved[:, ::-1], axis=1)  # the last True, from the right
    prev_code = codes[:, -2] if codes.shape[1] > 1 else codes[:, -1]
    before = codes[np.arange(len(codes)), np.maximum(last - 1, 0)]
    state_dtype = history["state"].dtype
    out = pd.DataFrame(
        {
            "previous_segment": pd.Categorical.from_codes(prev_code, dtype=state_dtype),
            "current_segment": pd.Categorical.from_codes(codes[:, -1], dtype=state_dtype),
            "last_change": pd.Series(dates[last], dtype="datetime64[ns]").where(any_move),
            "last_change_label": pd.Series(labels[last], dtype="string").where(any_move),
            "changed_from": pd.Categorical.from_codes(np.where(any_move, before, -1), categories=cats,
                                                      ordered=True),
            "changes": moved.sum(axis=1).astype("int64"),
        },
    )
    out.index = wide.index
    return out


# -------------------------------------------------------------------------------------------- headlines


def headline_facts(
    history: pd.DataFrame,
    from_date: SnapshotKey | None = None,
    to_date: SnapshotKey | None = None,
    *,
    inactive_days: float | None = DEFAULT_INACTIVE_DAYS,
) -> pd.DataFrame:
    """The movements worth a sentence between two snapshots (default: the last two), in this order:

    - "leak": the flow from an active to a lapsing state holding the most revenue at stake. Lapsing states
      are "Inactive" and the segments whose members' median R score at the second snapshot is 1 or 2
      (read from the data, so a swapped rule table works too);
    - "up": the move to an earlier state (see :func:`state_order`) bringing the most revenue since;
    - "new": customers whose first purchase falls between the snapshots;
    - "inactive": customers who went inactive, with their net revenue to date (``monetary``);
    - "kept": how many of the first segment (Champions) are still there.

    Columns: kind, source, target, customers, revenue (currency), share (fraction: of the first period's
    revenue for leak, of revenue since for up/new, of everybody's net revenue to date for inactive, of the
    source's customers for kept), text. Kinds with nobody in them are left out.
    """
    dates = snapshots(history)
    if len(dates) < 2:
        raise DataError("headlines need at least two snapshots")
    a = dates["snapshot"].iloc[-2] if from_date is None else from_date
    b = dates["snapshot"].iloc[-1] if to_date is None else to_date
    pair = _pair(history, a, b)
    la, lb = pair.attrs["from_label"], pair.attrs["to_label"]
    order = list(history["state"].cat.categories)
    rank = {s: i for i, s in enumerate(order)}
    total_from = float(pair["revenue_from"].sum())
    total_to = float(pair["revenue_to"].sum())
    since = f"{lb} revenue" if pair.attrs["consecutive"] else f"revenue between {la} and {lb}"
    median_r = pair.groupby("target", observed=True)["r_score"].median()
    lapsing = {INACTIVE, *median_r.index[median_r <= 2]}

    flows = _flows(pair, ["revenue_from", "revenue_to", "monetary"])
    src, dst = flows["source"].map(rank).astype(int), flows["target"].map(rank).astype(int)
    known = (flows["source"] != NOT_YET).to_numpy()
    facts: list[dict] = []

    def add(kind, source, target, customers, revenue, share, text):
        facts.append({"kind": kind, "source": source, "target": target, "customers": int(customers),
                      "revenue": float(revenue), "share": float(share), "text": text})

    leak = flows.loc[known & ~flows["source"].isin(lapsing) & flows["target"].isin(lapsing)
                     & (flows["revenue_from"] > 0)]
    if len(leak):
        f = leak.sort_values(["revenue_from", "customers"], ascending=False).iloc[0]
        share = f["revenue_from"] / total_from
        add("leak", f["source"], f["target"], f["customers"], f["revenue_from"], share,
            f"{f['customers']:,} {f['source']} of {la} are {f['target']} in {lb}, "
            f"holding {_pct(share)} of {la} revenue.")
    up = flows.loc[known & (dst < src) & (flows["revenue_to"] > 0)]
    if len(up):
        f = up.sort_values(["revenue_to", "customers"], ascending=False).iloc[0]
        share = f["revenue_to"] / total_to
        add("up", f["source"], f["target"], f["customers"], f["revenue_to"], share,
            f"{f['customers']:,} {f['source']} of {la} are {f['target']} in {lb}, "
            f"bringing {_pct(share)} of {since}.")
    new = flows.loc[~known & (flows["target"] != NOT_YET)]
    if len(new):
        top = new.sort_values(["customers", "revenue_to"], ascending=False).iloc[0]
        money = new["revenue_to"].sum()
        share = money / total_to if total_to else np.nan
        add("new", NOT_YET, None, new["customers"].sum(), money, share,
            f"{new['customers'].sum():,} customers bought for the first time after {la}, "
            f"bringing {_pct(share)} of {since}; {top['customers']:,} of them are {top['target']} in {lb}.")
    gone = flows.loc[known & (flows["source"] != INACTIVE) & (flows["target"] == INACTIVE)]
    if len(gone):
        money = gone["monetary"].sum()
        share = money / pair["monetary"].sum()
        window = f" (no purchase for over {inactive_days:g} days)" if inactive_days else ""
        add("inactive", None, INACTIVE, gone["customers"].sum(), money, share,
            f"{gone['customers'].sum():,} customers went inactive{window} between {la} and {lb}; "
            f"they had brought {_pct(share)} of all revenue to date.")
    best = next((s for s in order[1:-1] if (flows["source"] == s).any()), None)
    if best is not None:
        rows = flows.loc[flows["source"] == best]
        stay = rows.loc[rows["target"] == best]
        kept, total = stay["customers"].sum(), rows["customers"].sum()
        add("kept", best, best, kept, stay["revenue_to"].sum(), kept / total,
            f"{kept:,} of the {total:,} {best} of {la} ({_pct(kept / total)}) are still {best} in {lb}.")
    return pd.DataFrame(facts, columns=["kind", "source", "target", "customers", "revenue", "share", "text"])


def headlines(
    history: pd.DataFrame,
    from_date: SnapshotKey | None = None,
    to_date: SnapshotKey | None = None,
    *,
    n: int = 4,
    inactive_days: float | None = DEFAULT_INACTIVE_DAYS,
) -> list[str]:
    """Up to ``n`` sentences from :func:`headline_facts` (default: the last two snapshots)."""
    facts = headline_facts(history, from_date, to_date, inactive_days=inactive_days)
    return facts["text"].head(n).tolist()


# ------------------------------------------------------------------------------------------------ helpers


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


def _pair(history: pd.DataFrame, from_date: SnapshotKey, to_date: SnapshotKey) -> pd.DataFrame:
    """One row per customer: state at both snapshots, revenue_from / revenue_to and the later RFM values."""
    table = snapshots(history)
    dates, labels = table["snapshot"].tolist(), table["label"].tolist()
    i = _resolve_position(from_date, dates, labels)
    j = _resolve_position(to_date, dates, labels)
    if i >= j:
        raise DataError(f"the first snapshot ({labels[i]}) must be earlier than the second ({labels[j]})")
    stamps = history["snapshot"].to_numpy()
    blocks = [history.iloc[np.flatnonzero(stamps == np.datetime64(d))].set_index(S.CUSTOMER_ID)
              for d in dates[i: j + 1]]
    out = blocks[-1].rename(columns={"state": "target"})
    customers = out.index
    aligned = [b if b.index.equals(customers) else b.reindex(customers) for b in blocks]
    out.insert(0, "source", aligned[0]["state"])
    out.insert(2, "revenue_from", aligned[0]["period_revenue"].fillna(0.0))
    out.insert(3, "revenue_to", sum(b["period_revenue"].fillna(0.0) for b in aligned[1:]))
    cols = ["source", "target", "revenue_from", "revenue_to", *_RFM, *SCORE_COLUMNS]
    out = out[cols]
    out.attrs = {"from_label": labels[i], "to_label": labels[j], "consecutive": j == i + 1}
    return out


def _flows(pair: pd.DataFrame, sums: Sequence[str]) -> pd.DataFrame:
    """Customers and the sum of each ``sums`` column per (source, target), non-empty pairs in state order."""
    dtype = pair["source"].dtype
    k = len(dtype.categories)
    source = pair["source"].cat.codes.to_numpy(dtype="int64")
    code = source * k + pair["target"].cat.codes.to_numpy(dtype="int64")
    counts = np.bincount(code, minlength=k * k)
    hit = np.flatnonzero(counts)
    out = pd.DataFrame({"source": pd.Categorical.from_codes(hit // k, dtype=dtype),
                        "target": pd.Categorical.from_codes(hit % k, dtype=dtype),
                        "customers": counts[hit].astype("int64")})
    for col in sums:
        weights = pair[col].to_numpy(dtype="float64", na_value=0.0)
        out[col] = np.bincount(code, weights=weights, minlength=k * k)[hit]
    return out


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


def _revenue_kind(revenue: str) -> str:
    if revenue not in ("from", "to"):
        raise DataError(f"flow revenue must be 'from' (period ending at the first snapshot) or 'to' "
                        f"(between the snapshots), got {revenue!r}")
    return revenue


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


def _pct(share: float) -> str:
    if pd.isna(share):
        return "an unknown share"
    if 0 < abs(share) < 0.005:
        return "<1 %" if share > 0 else "-<1 %"
    return f"{share * 100:.0f} %"
