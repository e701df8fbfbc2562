"""Flows between snapshots of a journey history: who moved from which state to which, with their revenue; the
per-customer summary of moves; and the nodes and links a flow diagram draws."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics import schema as S
from analytics.errors import DataError
from analytics.journeys.history import (
    _RFM,
    NOT_YET,
    Revenue,
    SnapshotKey,
    _check_history,
    _resolve_position,
    _snapshot_codes,
    plain_ids,
    snapshots,
)
from analytics.segments import SCORE_COLUMNS


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
    pair = states_between(history, from_date, to_date)
    money = "revenue_from" if _revenue_kind(revenue) == "from" else "revenue_to"
    flows = sum_flows(pair, [money]).rename(columns={money: "revenue"})
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
    pair = states_between(history, from_date, to_date)
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
    pair = states_between(history, from_date, to_date)
    order = list(history["state"].cat.categories)
    for name, value in (("source", source), ("target", target)):
        if value is not None and value not in order:
            raise DataError(f"unknown {name} state {value!r}; states are {order}")
    keep = np.ones(len(pair), dtype=bool)
    if source is not None:
        keep &= (pair["source"] == source).to_numpy()
    if target is not None:
        keep &= (pair["target"] == target).to_numpy()
    out = pair.loc[keep].sort_values(["revenue_from", S.CUSTOMER_ID], ascending=[False, True], kind="stable")
    return out.set_axis(plain_ids(out.index))


def customer_journey(history: pd.DataFrame) -> pd.DataFrame:
    """Per customer (index customer_id): previous_segment (state at the second-to-last snapshot),
    current_segment (state at the last), last_change (snapshot date when the current state began; NaT if
    it never changed), last_change_label, changed_from (state held before that change), changes (count)."""
    _check_history(history)
    # a customers x snapshots table of state codes, placed by integer codes (a pivot on the IDs took 4x longer)
    row, customers = pd.factorize(history[S.CUSTOMER_ID], sort=True)
    col, stamps, first = _snapshot_codes(history)
    codes = np.full((len(customers), len(stamps)), -1, dtype=np.int64)
    codes[row, col] = history["state"].cat.codes.to_numpy()
    if codes.size != len(history) or (codes < 0).any():
        raise DataError("not a segment history (from segment_history): it needs exactly one row per customer "
                        "and snapshot")
    cats = history["state"].cat.categories
    dates = stamps.to_numpy()
    labels = history["label"].iloc[first].to_numpy()
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
    out.index = plain_ids(customers)
    return out


def states_between(history: pd.DataFrame, from_date: SnapshotKey, to_date: SnapshotKey) -> pd.DataFrame:
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


def sum_flows(pair: pd.DataFrame, sums: Sequence[str]) -> pd.DataFrame:
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


def _revenue_kind(revenue: str) -> str:
    if revenue not in ("from", "to"):
        raise DataError(f"flow revenue must be 'from' (period ending at the first snapshot) or 'to' "
                        f"(between the snapshots), got {revenue!r}")
    return revenue


def diagram_links(flows: pd.DataFrame, weight: str = "customers", *, show_not_yet_stay: bool = False
                  ) -> pd.DataFrame:
    """The links a flow diagram draws from ``flows`` (:func:`transitions` or :func:`chain`): the same rows with
    ``value`` = customers or revenue. Negative revenue (net returns) cannot be drawn and counts as 0; links of
    value 0 are dropped, and so are customers who are not yet customers at both ends unless
    ``show_not_yet_stay``. States are plain strings."""
    if weight not in ("customers", "revenue"):
        raise ValueError(f"weight must be 'customers' or 'revenue', got {weight!r}")
    table = flows.assign(source=flows["source"].astype(str), target=flows["target"].astype(str))
    if not show_not_yet_stay:
        table = table.loc[~((table["source"] == NOT_YET) & (table["target"] == NOT_YET))]
    table = table.assign(value=table[weight].astype("float64").clip(lower=0.0))
    return table.loc[table["value"] > 0]


def node_totals(links: pd.DataFrame) -> pd.DataFrame:
    """One row per (column, state) of :func:`diagram_links`: ``out`` (value leaving the node), ``in`` (value
    arriving) and ``value``, the larger of the two (the node's size: a first column only sends, a last one
    only receives). ``column`` is the snapshot label."""
    ends = pd.concat([
        links.groupby(["from_label", "source"])["value"].sum().rename_axis(["column", "state"]).rename("out"),
        links.groupby(["to_label", "target"])["value"].sum().rename_axis(["column", "state"]).rename("in"),
    ], axis=1).fillna(0.0)
    return ends.assign(value=ends.max(axis=1)).reset_index()
