"""Assignment files in the spellings CRM tools write, clear errors otherwise; seeded stratified control groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.errors import DataError
from analytics.uplift import control_group, read_assignment


def test_common_spellings_are_mapped(tmp_path):
    path = tmp_path / "test.csv"
    path.write_text("Customer ID;Arm\n17850.0;Treated\n13047;holdout\n12583; 1\n13748;0\n15100;Control\n")
    frame = read_assignment(path)
    assert frame["customer_id"].tolist() == ["17850", "13047", "12583", "13748", "15100"]
    assert frame["group"].tolist() == ["treatment", "control", "treatment", "control", "control"]


@pytest.mark.parametrize("suffix", ["xlsx", "parquet"])
def test_excel_and_parquet(tmp_path, suffix):
    frame = pd.DataFrame({"CustomerID": [1, 2, 3], "group": ["treatment", "control", "treatment"]})
    path = tmp_path / f"a.{suffix}"
    frame.to_excel(path, index=False) if suffix == "xlsx" else frame.to_parquet(path)
    assert read_assignment(path)["group"].tolist() == ["treatment", "control", "treatment"]


@pytest.mark.parametrize(("text", "message"), [
    ("customer_id,group\n1,treatment\n2,maybe\n3,later\n", r"neither treatment nor control: 'maybe', 'later' \(rows 3, 4\)"),
    ("customer_id,group\n1,treatment\n2,control\n1,control\n", r"1 customer\(s\) more than once \(e\.g\. 1\)"),
    ("customer_id,colour\n1,red\n", r"no group column; found customer_id, colour"),
    ("name,group\nann,treatment\n", r"no customer ID column"),
    ("customer_id,group\n,treatment\n2,control\n", r"empty in 1 row\(s\) \(rows 2"),
    ("customer_id,group\n", r"has no rows"),
])
def test_bad_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_assignment(path)


def _customers(n: int = 2_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    ids = pd.Index([str(10_000 + i) for i in range(n)], name="customer_id")
    return pd.DataFrame({"segment": rng.choice(["Champions", "At Risk", "Lost", "New"], n, p=[.1, .3, .5, .1])},
                        index=ids)


def test_control_group_keeps_the_share_in_every_segment():
    customers = _customers()
    group = control_group(customers, 0.10, seed=1)
    share = (group == "control").groupby(customers["segment"]).mean()
    sizes = customers["segment"].value_counts()
    for segment, fraction in share.items():
        assert abs(fraction * sizes[segment] - 0.10 * sizes[segment]) <= 0.5  # rounded within the segment
    assert set(group) == {"treatment", "control"}


def test_control_group_is_reproducible_and_seeded():
    customers = _customers()
    first = control_group(customers, 0.2, seed=5)
    shuffled = customers.sample(frac=1, random_state=0)
    pd.testing.assert_series_equal(control_group(shuffled, 0.2, seed=5).loc[first.index], first)
    assert not control_group(customers, 0.2, seed=6).equals(first)


@pytest.mark.parametrize("share", [-0.1, 0.95, "ten", float("nan")])
def test_control_share_out_of_range_is_an_error(share):
    with pytest.raises(DataError, match="control group share"):
        control_group(_customers(10), share)
