"""Headline sentences about the movements between two snapshots of a journey history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.errors import DataError
from analytics.journeys.flows import states_between, sum_flows
from analytics.journeys.history import DEFAULT_INACTIVE_DAYS, INACTIVE, NOT_YET, SnapshotKey, snapshots


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
    pair = states_between(history, a, b)
    la, lb = pair.attrs["from_label"], pair.attrs["to_label"]
    order = list(history["state"].cat.categories)
    rank = {s: i for i, s in enumerate(order)}
    total_from = float(pair["revenue_from"].sum())
    total_to = float(pair["revenue_to"].sum())
    since = f"{lb} revenue" if pair.attrs["consecutive"] else f"revenue between {la} and {lb}"
    median_r = pair.groupby("target", observed=True)["r_score"].median()
    lapsing = {INACTIVE, *median_r.index[median_r <= 2]}

    flows = sum_flows(pair, ["revenue_from", "revenue_to", "monetary"])
    src, dst = flows["source"].map(rank).astype(int), flows["target"].map(rank).astype(int)
    known = (flows["source"] != NOT_YET).to_numpy()
    facts: list[dict] = []

    def add(kind, source, target, customers, revenue, share, text):
        facts.append({"kind": kind, "source": source, "target": target, "customers": int(customers),
                      "revenue": float(revenue), "share": float(share), "text": text})

    def add_biggest(kind: str, moves: pd.DataFrame, money: str, total: float, holding) -> None:
        """The move with the most ``money`` among ``moves``, as one sentence."""
        if len(moves):
            f = moves.sort_values([money, "customers"], ascending=False).iloc[0]
            share = f[money] / total
            add(kind, f["source"], f["target"], f["customers"], f[money], share,
                f"{f['customers']:,} {f['source']} of {la} are {f['target']} in {lb}, "
                f"{holding(_pct(share))}.")

    add_biggest("leak", flows.loc[known & ~flows["source"].isin(lapsing) & flows["target"].isin(lapsing)
                                  & (flows["revenue_from"] > 0)],
                "revenue_from", total_from, lambda share: f"holding {share} of {la} revenue")
    add_biggest("up", flows.loc[known & (dst < src) & (flows["revenue_to"] > 0)], "revenue_to", total_to,
                lambda share: f"bringing {share} of {since}")
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


def _pct(share: float) -> str:
    if pd.isna(share):
        return "an unknown share"
    if 0 < abs(share) < 0.005:
        return "<1 %" if share > 0 else "-<1 %"
    return f"{share * 100:.0f} %"
