"""Segment journeys: a hand-made log whose states are known by construction; properties on a random log."""

import re

import numpy as np
import pandas as pd
import pytest

from analytics import journeys as J
from analytics.methodology import JOURNEYS
from analytics.errors import DataError
from analytics.features import customer_features
from analytics.segments import DEFAULT_SEGMENT_RULES, SEGMENT_ORDER, assign_segments, rfm_scores

# R-only rules so each state follows from the order of last purchases: Hot = R5, Warm = R3-4, Cold = rest.
RULES = pd.DataFrame(
    [("Hot", 5, 5, 1, 5, "a"), ("Warm", 3, 4, 1, 5, "b"), ("Cold", 1, 5, 1, 5, "c")],
    columns=["segment", "r_min", "r_max", "f_min", "f_max", "action"],
)
INACTIVE_DAYS = 120
COLUMNS = ["customer_id", "invoice_id", "invoice_date", "quantity", "unit_price"]
AS_OF = pd.Timestamp("2021-01-01")
S1, S2, S3, S4 = (pd.Timestamp(d) for d in ("2020-04-01", "2020-07-01", "2020-10-01", "2021-01-01"))

# Each customer always spends the same per purchase, so period revenue is easy to state.
PRICE = {"A": 100, "B": 200, "C": 50, "D": 80, "E": 300, "F": 120, "G": 150, "H": 60, "I": 250, "J": 40}
PURCHASES = {
    "A": ["2020-03-30", "2020-06-10", "2020-08-15", "2020-12-20"],
    "B": ["2020-03-20", "2020-05-01"],
    "C": ["2020-03-10", "2020-09-25"],
    "D": ["2020-02-15"],
    "E": ["2020-01-10", "2020-09-28"],
    "F": ["2020-06-28", "2020-11-30"],
    "G": ["2020-06-20", "2020-09-10", "2020-12-10"],
    "H": ["2020-06-05"],
    "I": ["2020-05-15", "2020-11-15"],
    "J": ["2020-04-20"],
}
RETURNS = [("A", "2020-09-30", -30.0), ("D", "2020-09-29", -20.0)]  # D's return must not make D active

# States by construction (recency order at each snapshot; 120 days without purchase = Inactive).
N, H, W, C, I = J.NOT_YET, "Hot", "Warm", "Cold", J.INACTIVE
EXPECTED = {  # S1 (5 customers known), S2, S3, S4 (10 known)
    "A": [H, W, W, H],
    "B": [W, W, I, I],
    "C": [W, C, H, W],
    "D": [C, I, I, I],
    "E": [C, I, H, W],
    "F": [N, H, W, W],
    "G": [N, H, W, H],
    "H": [N, W, W, I],
    "I": [N, W, I, W],
    "J": [N, C, I, I],
}


def _log(purchases=PURCHASES, returns=RETURNS, price=PRICE) -> pd.DataFrame:
    rows = []
    for cust, dates in purchases.items():
        for k, day in enumerate(dates):
            # two lines per invoice: period revenue must add lines, frequency must count invoices once
            half = price[cust] / 2
            for line in range(2):
                when = pd.Timestamp(day) + pd.Timedelta(hours=10 + line)
                rows.append((cust, f"{cust}{k}", when, 1.0, half))
    for n, (cust, day, value) in enumerate(returns):
        rows.append((cust, f"C{n}", pd.Timestamp(day) + pd.Timedelta(hours=12), -1.0, -value))
    lines = pd.DataFrame(rows, columns=COLUMNS)
    lines["customer_id"] = lines["customer_id"].astype("string")
    lines["invoice_id"] = lines["invoice_id"].astype("string")
    lines["revenue"] = lines["quantity"] * lines["unit_price"]
    lines["is_return"] = lines["quantity"] < 0
    return lines


def _history(lines=None, **kw) -> pd.DataFrame:
    lines = _log() if lines is None else lines
    kw = {"inactive_days": INACTIVE_DAYS, "rules": RULES, "period": "Q"} | kw
    return J.segment_history(lines, J.snapshot_dates(lines, AS_OF, "Q"), **kw)


def _same_rows(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Rows of two histories equal, IDs and labels compared as text: a history's ID and label categories are
    its own customers and snapshots."""
    as_text = {"customer_id": "string", "label": "string"}
    pd.testing.assert_frame_equal(left.reset_index(drop=True).astype(as_text),
                                  right.reset_index(drop=True).astype(as_text))


def _random_log(seed=0, n_customers=150, start="2019-01-01", days=730) -> pd.DataFrame:
    """Random purchases and returns: customers arrive over the period and buy at their own rate."""
    rng = np.random.default_rng(seed)
    rows = []
    t0 = pd.Timestamp(start)
    for c in range(n_customers):
        first = rng.uniform(0, days * 0.9)
        gaps = rng.exponential(rng.uniform(10, 200), size=rng.poisson(4) + 1)
        times = first + np.concatenate([[0], np.cumsum(gaps[1:])])
        for k, t in enumerate(times[times < days]):
            when = t0 + pd.Timedelta(days=float(t))
            value = float(rng.lognormal(4, 1))
            rows.append((f"c{c:03d}", f"i{c}-{k}", when, 1.0, value))
            if rng.random() < 0.1:
                rows.append((f"c{c:03d}", f"C{c}-{k}", when + pd.Timedelta(days=5), -1.0, value / 2))
    lines = pd.DataFrame(rows, columns=COLUMNS)
    lines = lines.astype({"customer_id": "string", "invoice_id": "string"})
    lines["revenue"] = lines["quantity"] * lines["unit_price"]
    lines["is_return"] = lines["quantity"] < 0
    return lines


@pytest.fixture(scope="module")
def history():
    return _history()


@pytest.fixture(scope="module")
def random_history():
    lines = _random_log()
    return lines, J.journey_history(lines, period="Q", inactive_days=180)


# ------------------------------------------------------------------------------------------ snapshots


def test_snapshot_dates_are_period_starts_then_as_of():
    lines = _log()
    assert J.snapshot_dates(lines, AS_OF, "Q") == [S1, S2, S3, S4]  # as-of on a boundary: not repeated
    assert J.snapshot_dates(lines, "2020-11-15", "Q") == [S1, S2, S3, pd.Timestamp("2020-11-15")]
    monthly = J.snapshot_dates(lines, "2020-04-10", "M")
    assert monthly == [pd.Timestamp(d) for d in ("2020-02-01", "2020-03-01", "2020-04-01", "2020-04-10")]
    assert J.snapshot_dates(lines, AS_OF, "Q", last=2) == [S3, S4]
    # default as-of: midnight after the last line (2020-12-20)
    assert J.snapshot_dates(lines, None, "Q")[-1] == pd.Timestamp("2020-12-21")


def test_snapshot_labels():
    assert J.snapshot_label(S2, "Q") == "2020-Q2"
    assert J.snapshot_label(pd.Timestamp("2020-11-15"), "Q") == "2020-Q4 (to 2020-11-14)"
    assert J.snapshot_label(pd.Timestamp("2020-05-01"), "M") == "2020-04"
    assert J.snapshot_label(S2, None) == "2020-06-30"


@pytest.mark.parametrize(
    "call",
    [
        lambda lines: J.snapshot_dates(lines, AS_OF, "W"),
        lambda lines: J.snapshot_dates(lines, "2019-01-01", "Q"),
        lambda lines: J.snapshot_dates(lines.drop(columns="is_return"), AS_OF, "Q"),
        lambda lines: J.segment_history(lines, [S2], period="W"),
        lambda lines: J.segment_history(lines, [S2], scoring="absolute"),
        lambda lines: J.segment_history(lines, [S2], inactive_days=0),
        lambda lines: J.segment_history(lines, ["not a date"]),
        lambda lines: J.segment_history(lines, [pd.Timestamp("2019-06-01")]),
    ],
)
def test_bad_input_raises_data_error(call):
    with pytest.raises(DataError):
        call(_log())


# ------------------------------------------------------------------------------------ states by hand


def test_states_match_construction(history):
    wide = history.pivot(index="customer_id", columns="snapshot", values="state")
    for customer, states in EXPECTED.items():
        assert [str(s) for s in wide.loc[customer]] == states, customer
    assert history["label"].unique().tolist() == ["2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"]


def test_history_columns_by_hand(history):
    row = history.set_index(["snapshot", "customer_id"])
    # A at S3: purchases 03-30, 06-10, 08-15 (100 each) and a 30 return on 09-30
    a3 = row.loc[(S3, "A")]
    assert a3["frequency"] == 3
    assert a3["monetary"] == pytest.approx(270.0)
    assert a3["period_revenue"] == pytest.approx(70.0)  # Q3: 100 bought - 30 returned
    assert a3["recency_days"] == pytest.approx((S3 - pd.Timestamp("2020-08-15 11:00")) / pd.Timedelta(days=1))
    # D's return in Q3 is revenue but not a purchase: D stays inactive, recency from 02-15
    d3 = row.loc[(S3, "D")]
    assert d3["state"] == J.INACTIVE and d3["segment"] == "Cold"
    assert d3["period_revenue"] == pytest.approx(-20.0)
    # first snapshot's period is its calendar quarter: E's 01-10 purchase counts
    assert row.loc[(S1, "E"), "period_revenue"] == pytest.approx(300.0)
    # not yet a customer: no scores, no money
    f1 = row.loc[(S1, "F")]
    assert f1["state"] == J.NOT_YET and pd.isna(f1["segment"]) and pd.isna(f1["r_score"])
    assert f1["period_revenue"] == 0
    # every line's revenue lands in exactly one period
    assert history["period_revenue"].sum() == pytest.approx(_log()["revenue"].sum())


def test_state_order_and_counts(history):
    assert J.state_order(RULES) == [J.NOT_YET, "Hot", "Warm", "Cold", J.INACTIVE]
    assert J.state_order()[1:-1] == list(SEGMENT_ORDER)
    counts = J.state_counts(history)
    assert counts.columns.tolist() == ["2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"]
    expected_q3 = pd.Series([s[2] for s in EXPECTED.values()]).value_counts()
    assert counts["2020-Q3"].loc[expected_q3.index].tolist() == expected_q3.tolist()
    assert (counts.sum() == len(EXPECTED)).all()
    assert J.snapshots(history)["customers"].tolist() == [5, 10, 10, 10]


def test_inactive_window_can_be_switched_off():
    plain = _history(inactive_days=None)
    assert J.INACTIVE not in set(plain["state"].astype(str))
    assert (plain.loc[plain["segment"].notna(), "state"].astype(str) == plain["segment"].dropna()).all()


# -------------------------------------------------------------------------------------------- flows


def test_transitions_by_hand(history):
    table = J.transitions(history, S2, "2020-Q3")
    got = {(r.source, r.target): r.customers for r in table.itertuples()}
    assert got == {("Hot", "Warm"): 2, ("Warm", "Warm"): 2, ("Warm", J.INACTIVE): 2, ("Cold", J.INACTIVE): 1,
                   ("Cold", "Hot"): 1, (J.INACTIVE, J.INACTIVE): 1, (J.INACTIVE, "Hot"): 1}
    assert set(table["from_label"]) == {"2020-Q2"} and set(table["to_label"]) == {"2020-Q3"}
    money = table.set_index(["source", "target"])["revenue"]
    # revenue at stake = Q2 revenue: I 250 + B 200 went Warm -> Inactive
    assert money[("Warm", J.INACTIVE)] == pytest.approx(450.0)
    since = J.transitions(history, S2, S3, revenue="to").set_index(["source", "target"])["revenue"]
    # revenue since = Q3 revenue: E came back with 300, D only returned 20
    assert since[(J.INACTIVE, "Hot")] == pytest.approx(300.0)
    assert since[(J.INACTIVE, J.INACTIVE)] == pytest.approx(-20.0)


def test_transitions_over_several_periods_sum_revenue_between(history):
    since = J.transitions(history, S1, S4, revenue="to")
    lines = _log()
    between = lines.loc[(lines["invoice_date"] >= S1) & (lines["invoice_date"] < S4), "revenue"].sum()
    assert since["revenue"].sum() == pytest.approx(between)
    got = {(r.source, r.target): r.customers for r in since.itertuples()}
    assert got[(J.NOT_YET, "Hot")] == 1  # G
    assert got[("Hot", "Hot")] == 1  # A


def test_chain_links_consecutive_snapshots(history):
    flows = J.chain(history)
    assert flows[["from_label", "to_label"]].drop_duplicates().values.tolist() == [
        ["2020-Q1", "2020-Q2"], ["2020-Q2", "2020-Q3"], ["2020-Q3", "2020-Q4"]]
    assert (flows.groupby("from_label")["customers"].sum() == len(EXPECTED)).all()
    # the chain's S2 -> S3 block is the direct transition table
    block = flows.loc[flows["from_label"] == "2020-Q2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(block, J.transitions(history, S2, S3))


def test_matrix_rows_sum_to_one(history):
    m = J.transition_matrix(history, S2, S3)
    assert np.allclose(m.sum(axis=1), 1.0)
    assert m.loc["Warm", J.INACTIVE] == pytest.approx(0.5)  # 2 of the 4 Warm
    assert m.loc["Cold", "Hot"] == pytest.approx(0.5)
    assert m.index.tolist() == ["Hot", "Warm", "Cold", J.INACTIVE]  # state order, empty rows left out


def test_flow_customers_by_hand(history):
    gone = J.flow_customers(history, "2020-Q2", "2020-Q3", "Warm", J.INACTIVE)
    assert gone.index.tolist() == ["I", "B"]  # most revenue at stake first: 250, 200
    assert gone["revenue_from"].tolist() == [250.0, 200.0]
    assert set(gone["source"]) == {"Warm"} and set(gone["target"]) == {J.INACTIVE}
    everyone = J.flow_customers(history, S2, S3)
    assert sorted(everyone.index) == sorted(EXPECTED)
    with pytest.raises(DataError):
        J.flow_customers(history, S2, S3, "Champions", None)


@pytest.mark.parametrize("bad", [(S3, S2), (S2, S2), ("2020-Q9", S3), (S2, "2021-03-01")])
def test_bad_snapshot_pairs_raise(history, bad):
    with pytest.raises(DataError):
        J.transitions(history, *bad)


def test_customer_journey_by_hand(history):
    journey = J.customer_journey(history)
    a, b, d, h = (journey.loc[c] for c in "ABDH")
    assert (a["previous_segment"], a["current_segment"], a["changed_from"]) == ("Warm", "Hot", "Warm")
    assert a["last_change"] == S4 and a["last_change_label"] == "2020-Q4" and a["changes"] == 2
    assert (b["previous_segment"], b["current_segment"]) == (J.INACTIVE, J.INACTIVE)
    assert b["last_change"] == S3 and b["changed_from"] == "Warm" and b["changes"] == 1
    assert d["last_change"] == S2 and d["changed_from"] == "Cold"
    assert h["last_change"] == S4 and h["changes"] == 2
    for customer, states in EXPECTED.items():
        assert journey.loc[customer, "changes"] == sum(x != y for x, y in zip(states, states[1:]))


def test_single_snapshot_history():
    lines = _log()
    one = J.segment_history(lines, [S2], inactive_days=INACTIVE_DAYS, rules=RULES, period="Q")
    assert one["state"].astype(str).tolist() == [EXPECTED[c][1] for c in sorted(EXPECTED)]
    journey = J.customer_journey(one)
    assert (journey["changes"] == 0).all() and journey["last_change"].isna().all()
    with pytest.raises(DataError):
        J.chain(one)


def test_customer_journey_without_change_has_no_date():
    stable = _history(_log(purchases={"A": ["2020-01-05", "2020-04-05", "2020-07-05", "2020-10-05"]},
                           returns=[]))
    journey = J.customer_journey(stable)
    assert journey.loc["A", "changes"] == 0
    assert pd.isna(journey.loc["A", "last_change"]) and pd.isna(journey.loc["A", "changed_from"])


# ---------------------------------------------------------------------------------------- headlines


def test_headlines_by_hand(history):
    facts = J.headline_facts(history, "2020-Q2", "2020-Q3", inactive_days=INACTIVE_DAYS).set_index("kind")
    q2 = sum(PRICE[c] for c in "FGAHIBJ")  # every Q2 purchase
    leak = facts.loc["leak"]
    assert (leak["source"], leak["target"], leak["customers"]) == ("Warm", J.INACTIVE, 2)
    assert leak["share"] == pytest.approx(450 / q2)
    assert leak["text"] == (f"2 Warm of 2020-Q2 are Inactive in 2020-Q3, holding {450 / q2 * 100:.0f} % "
                            "of 2020-Q2 revenue.")
    new_q2 = J.headline_facts(history, S1, S2).set_index("kind").loc["new"]
    assert new_q2["customers"] == 5 and new_q2["revenue"] == pytest.approx(sum(PRICE[c] for c in "FGHIJ"))
    gone = facts.loc["inactive"]
    assert gone["customers"] == 3  # B, I, J
    assert "120 days" in gone["text"]


def test_headline_numbers_equal_transition_table(random_history):
    _, hist = random_history
    dates = J.snapshots(hist)["snapshot"].tolist()
    for a, b in zip(dates, dates[1:]):
        facts = J.headline_facts(hist, a, b).set_index("kind")
        at_stake = J.transitions(hist, a, b).set_index(["source", "target"])
        since = J.transitions(hist, a, b, revenue="to").set_index(["source", "target"])
        for kind, table, total in (("leak", at_stake, at_stake["revenue"].sum()),
                                   ("up", since, since["revenue"].sum())):
            if kind not in facts.index:
                continue
            fact = facts.loc[kind]
            row = table.loc[(fact["source"], fact["target"])]
            assert fact["customers"] == row["customers"]
            assert fact["revenue"] == pytest.approx(row["revenue"])
            assert fact["share"] == pytest.approx(row["revenue"] / total)
            assert fact["text"].startswith(f"{row['customers']:,} {fact['source']} of ")
            assert f"{fact['share'] * 100:.0f} %" in fact["text"] or "<1 %" in fact["text"]
        if "new" in facts.index:
            arrivals = at_stake.loc[J.NOT_YET]
            arrivals = arrivals.loc[arrivals.index != J.NOT_YET, "customers"].sum()
            assert facts.loc["new", "customers"] == arrivals
            assert re.match(rf"{arrivals:,} customers bought for the first time", facts.loc["new", "text"])
        if "kept" in facts.index:
            kept = facts.loc["kept"]
            pair = (kept["source"], kept["target"])
            assert kept["customers"] == (at_stake.loc[pair, "customers"] if pair in at_stake.index else 0)
    assert J.headlines(hist, n=2) == J.headline_facts(hist)["text"].head(2).tolist()


# ------------------------------------------------------------------------------- leakage, properties


def test_snapshot_never_uses_later_transactions():
    base = _log()
    later = base["invoice_date"] >= S3
    # change every later line (amounts, dates, who) and add a late customer: S1-S3 must not move
    edited = base.copy()
    edited.loc[later, "unit_price"] *= 7
    edited.loc[later, "invoice_date"] += pd.Timedelta(days=3)
    edited.loc[later & (edited["customer_id"] == "A"), "customer_id"] = "B"
    extra = pd.DataFrame([("K", "K0", pd.Timestamp("2020-12-01"), 1.0, 999.0)], columns=COLUMNS)
    extra = extra.astype({"customer_id": "string", "invoice_id": "string"})
    extra = extra.assign(revenue=999.0, is_return=False)
    edited = pd.concat([edited, extra], ignore_index=True)
    edited["revenue"] = edited["quantity"] * edited["unit_price"]
    a, b = _history(base), _history(edited)
    for snap in (S1, S2, S3):
        left = a.loc[a["snapshot"] == snap].reset_index(drop=True)
        right = b.loc[(b["snapshot"] == snap) & (b["customer_id"] != "K")].reset_index(drop=True)
        _same_rows(left, right)
    k_states = b.loc[b["customer_id"] == "K", "state"].astype(str).tolist()
    assert k_states[:3] == [J.NOT_YET] * 3 and k_states[3] != J.NOT_YET


@pytest.mark.parametrize("scoring,reference", [("per_snapshot", None), ("fixed", 0)])
def test_truncated_log_gives_the_same_earlier_snapshots(random_history, scoring, reference):
    lines, _ = random_history
    dates = J.snapshot_dates(lines, period="Q")
    ref = None if reference is None else dates[reference]
    full = J.segment_history(lines, dates, scoring=scoring, reference=ref, period="Q")
    k = len(dates) // 2
    cut = lines.loc[lines["invoice_date"] < dates[k]]
    part = J.segment_history(cut, dates[: k + 1], scoring=scoring, reference=ref, period="Q")
    left = full.loc[full["snapshot"] <= dates[k]]
    left = left.loc[left["customer_id"].isin(part["customer_id"])].reset_index(drop=True)
    _same_rows(left, part)
    # customers only known later are "Not yet a customer" at every earlier snapshot
    later = full.loc[(full["snapshot"] <= dates[k]) & ~full["customer_id"].isin(part["customer_id"])]
    assert (later["state"] == J.NOT_YET).all()


def test_flows_sum_to_customers_and_matrix_rows_to_one(random_history):
    _, hist = random_history
    n = hist["customer_id"].nunique()
    dates = J.snapshots(hist)["snapshot"].tolist()
    for a, b in [(dates[0], dates[-1]), *zip(dates, dates[1:])]:
        table = J.transitions(hist, a, b)
        assert table["customers"].sum() == n
        assert (table["customers"] > 0).all()
        start = hist.loc[hist["snapshot"] == a, "state"].value_counts()
        by_source = table.groupby("source", observed=True)["customers"].sum()
        assert by_source.to_dict() == start[start > 0].to_dict()
        assert np.allclose(J.transition_matrix(hist, a, b).sum(axis=1), 1.0)
        flows = J.flow_customers(hist, a, b)
        assert len(flows) == n
        merged = flows.groupby(["source", "target"], observed=True)["revenue_from"].agg(["size", "sum"])
        indexed = table.set_index(["source", "target"])
        assert merged["size"].tolist() == indexed["customers"].tolist()
        assert np.allclose(merged["sum"], indexed["revenue"])


def test_last_snapshot_matches_segments_of_the_day(random_history):
    lines, hist = random_history
    as_of = hist["snapshot"].max()
    features = customer_features(lines, as_of)
    expected = assign_segments(rfm_scores(features), DEFAULT_SEGMENT_RULES)
    last = hist.loc[hist["snapshot"] == as_of].set_index("customer_id")
    assert last["segment"].reindex(expected.index).tolist() == expected.tolist()
    active = last["recency_days"] <= 180
    assert (last.loc[active, "state"].astype(str) == last.loc[active, "segment"]).all()
    assert (last.loc[~active, "state"] == J.INACTIVE).all()


def test_fixed_scoring_uses_the_reference_thresholds(random_history):
    lines, _ = random_history
    dates = J.snapshot_dates(lines, period="Q")
    fixed = J.segment_history(lines, dates, scoring="fixed", period="Q")
    per = J.segment_history(lines, dates, period="Q")
    last_fixed = fixed.loc[fixed["snapshot"] == dates[-1]].set_index("customer_id")
    last_per = per.loc[per["snapshot"] == dates[-1]].set_index("customer_id")
    # at the reference itself the yardstick is the day's own distribution: scores agree up to boundaries
    for col in ("r_score", "f_score", "m_score"):
        assert (last_fixed[col] - last_per[col]).abs().max() <= 1
    for col in ("r_score", "m_score"):  # continuous values: (almost) no ties
        assert (last_fixed[col] == last_per[col]).mean() > 0.95
    # tied frequencies share one fixed score, inside the range their rank-quintile scores span
    by_value = pd.DataFrame({"f": last_fixed["frequency"], "fixed": last_fixed["f_score"],
                             "per": last_per["f_score"]}).groupby("f")
    assert (by_value["fixed"].nunique() == 1).all()
    assert ((by_value["fixed"].first() >= by_value["per"].min())
            & (by_value["fixed"].first() <= by_value["per"].max())).all()
    # cumulative frequency measured with the final yardstick: early snapshots score lower on F
    first = fixed.loc[(fixed["snapshot"] == dates[1]) & fixed["f_score"].notna(), "f_score"]
    first_per = per.loc[(per["snapshot"] == dates[1]) & per["f_score"].notna(), "f_score"]
    assert first.mean() < first_per.mean()


def test_methodology_names_the_choice():
    assert "per-snapshot" in JOURNEYS.lower() and "fixed" in JOURNEYS.lower()
    assert "before that date" in JOURNEYS and f"{J.DEFAULT_INACTIVE_DAYS} days by default" in JOURNEYS


# ------------------------------------------------------------------------------------ real data


@pytest.fixture(scope="module")
def retail_lines(online_retail_path):
    from analytics.cleaning import clean
    from analytics.loading import read_transactions

    return clean(read_transactions(online_retail_path)).lines


@pytest.mark.slow
def test_online_retail_quarterly_journeys(retail_lines):
    lines = retail_lines
    dates = J.snapshot_dates(lines, period="Q")
    assert [f"{d:%Y-%m-%d}" for d in dates] == ["2011-01-01", "2011-04-01", "2011-07-01", "2011-10-01",
                                                "2011-12-10"]
    hist = J.segment_history(lines, dates, period="Q")
    buys = lines.loc[~lines["is_return"]]
    first = buys.groupby("customer_id")["invoice_date"].min()
    assert hist["customer_id"].nunique() == len(first)
    starts = [pd.Timestamp("2010-10-01"), *dates[:-1]]  # the first period is the calendar quarter 2010-Q4
    for start, snap in zip(starts, dates):
        rows = hist.loc[hist["snapshot"] == snap].set_index("customer_id")
        # plain pandas, independently: not yet = first purchase on/after the snapshot; inactive = > 180 days
        last = buys.loc[buys["invoice_date"] < snap].groupby("customer_id")["invoice_date"].max()
        assert (rows["state"] == J.NOT_YET).sum() == (first >= snap).sum()
        assert (rows["state"] == J.INACTIVE).sum() == ((snap - last) > pd.Timedelta(days=180)).sum()
        in_period = (lines["invoice_date"] >= start) & (lines["invoice_date"] < snap)
        assert rows["period_revenue"].sum() == pytest.approx(lines.loc[in_period, "revenue"].sum())
    for a, b in zip(dates, dates[1:]):
        assert J.transitions(hist, a, b)["customers"].sum() == len(first)
        assert np.allclose(J.transition_matrix(hist, a, b).sum(axis=1), 1.0)
    # cutting the log at mid-year leaves the first three quarters exactly as they were
    part = J.segment_history(lines.loc[lines["invoice_date"] < dates[2]], dates[:3], period="Q")
    left = hist.loc[(hist["snapshot"] <= dates[2]) & hist["customer_id"].isin(part["customer_id"])]
    _same_rows(left, part)
    assert len(J.headlines(hist)) == 4


def test_diagram_links_and_node_totals(history):
    flows = J.chain(history)
    links = J.diagram_links(flows, "customers")
    assert (links["value"] > 0).all()
    assert not ((links["source"] == J.NOT_YET) & (links["target"] == J.NOT_YET)).any()
    nodes = J.node_totals(links).set_index(["column", "state"])
    first = links["from_label"].iloc[0]
    # a first column only sends: its nodes' totals are what leaves them, and they add up to the links leaving it
    assert nodes.loc[first, "in"].eq(0).all()
    assert nodes.loc[first, "value"].sum() == links.loc[links["from_label"] == first, "value"].sum()
    assert (nodes["value"] == nodes[["in", "out"]].max(axis=1)).all()
    revenue = J.diagram_links(flows, "revenue")
    assert (revenue["value"] <= revenue["revenue"].clip(lower=0) + 1e-9).all() and (revenue["value"] > 0).all()
    with pytest.raises(ValueError, match="weight must be"):
        J.diagram_links(flows, "euros")
