"""``python -m analytics uplift``: the report on stdout, uplift.json and customers.csv; exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def assignment_file(tmp_path_factory, campaign):
    path = tmp_path_factory.mktemp("campaign") / "assignment.csv"
    campaign.assignment.to_csv(path, index=False)
    return path


def test_uplift_writes_the_report(tmp_path, assignment_file, capsys):
    out = tmp_path / "out"
    code = main(["uplift", "synthetic", "--campaign", str(assignment_file), "--sent-on", "2011-10-15",
                 "--window-days", "30", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "uplift in response rate +" in printed and "95 % CI" in printed and "significant" in printed
    assert "uplift in revenue per customer" in printed
    assert printed.startswith("treatment: ") and "\ncontrol: " in printed and "revenue per customer" in printed
    # the embedded file names customers the cleaned log does not hold: said, and they are left out
    assert "customer(s) in the file are not in the cleaned transaction log" in printed
    report = json.loads((out / "uplift.json").read_text())
    groups = {g["group"]: g for g in report["measurement"]["groups"]}
    assert groups["treatment"]["customers"] > 1000 and groups["control"]["customers"] > 1000
    rate = report["measurement"]["rate_uplift"]
    assert rate["ci_low"] < rate["estimate"] < rate["ci_high"] and rate["significant"] is True
    assert report["model"]["qini_coefficient"]["estimate"] > report["model"]["qini_coefficient_churn_ranking"]["estimate"]
    auuc = report["model"]["auuc"]
    assert auuc["ci_low"] <= auuc["estimate"] <= auuc["ci_high"] and report["model"]["heterogeneous"] is True
    assert {s["segment"] for s in report["segments"]} >= {"Champions", "Hibernating"}
    assert len(report["uplift_by_decile"]) == 20  # model and churn ranking, ten deciles each
    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    assert list(customers.columns) == ["customer_id", "group", "outcome", "revenue", "predicted_uplift"]
    assert len(customers) == groups["treatment"]["customers"] + groups["control"]["customers"]
    assert set(customers["outcome"]) == {0, 1}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, campaign):
    """Assignment files with each problem the issue names, made from the embedded test's file."""
    folder = tmp_path_factory.mktemp("bad")
    a = campaign.assignment
    files = {
        "duplicates": pd.concat([a, a.head(3).assign(group="control")], ignore_index=True),
        "small": pd.concat([a[a["group"] == "treatment"], a[a["group"] == "control"].head(12)]),
        "absent": pd.DataFrame({"customer_id": ["nobody", "ghost"], "group": ["treatment", "control"]}),
        "spelling": a.assign(group=a["group"].map({"treatment": "treated", "control": "A/B"})),
    }
    paths = {"good": folder / "good.csv"}
    a.to_csv(paths["good"], index=False)
    for name, frame in files.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.mark.parametrize(("file", "args", "message"), [
    ("good", ["--sent-on", "2011-13-45", "--window-days", "30"], "error: the send date must be a date like"),
    ("good", ["--sent-on", "2011-11-30", "--window-days", "30"], "error: the 30-day response window ends 2011-12-30"),
    ("good", ["--sent-on", "2011-10-15", "--window-days", "x"], "error: the response window must be a whole number"),
    ("good", ["--sent-on", "2009-01-01", "--window-days", "30"],
     "error: the send date 2009-01-01 is outside the transaction log, which runs from 2010-12-01"),
    ("duplicates", ["--sent-on", "2011-10-15", "--window-days", "30"],
     "error: the assignment file 'duplicates.csv' lists 3 customer(s) more than once"),
    ("small", ["--sent-on", "2011-10-15", "--window-days", "30"], "error: too few customers to compare (control has"),
    ("absent", ["--sent-on", "2011-10-15", "--window-days", "30"],
     "error: none of the 2 customers in the assignment file is in the transaction log"),
    ("spelling", ["--sent-on", "2011-10-15", "--window-days", "30"],
     "error: the assignment file 'spelling.csv': column 'group' holds value(s) that are neither treatment nor control: 'A/B'"),
])
def test_bad_input_is_one_error_line_and_exit_2(tmp_path, bad_files, file, args, message):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "analytics", "uplift", "synthetic", "--campaign",
                           str(bad_files[file]), *args, "--out", str(out)],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(message) and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_assignment_file(tmp_path, capsys):
    bad = tmp_path / "groups.csv"
    bad.write_text("customer_id,group\n1,A/B\n")
    assert main(["uplift", "synthetic", "--campaign", str(bad), "--sent-on", "2011-10-15",
                 "--window-days", "30", "--out", str(tmp_path / "o")]) == 2
    assert "neither treatment nor control: 'A/B'" in capsys.readouterr().err
    assert main(["uplift", "synthetic", "--campaign", str(tmp_path / "missing.csv"), "--sent-on",
                 "2011-10-15", "--window-days", "30"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_a_test_too_small_for_a_model_reports_the_average(tmp_path, campaign, capsys):
    a = campaign.assignment
    path = tmp_path / "small.csv"
    pd.concat([a[a["group"] == g].head(60) for g in ("treatment", "control")]).to_csv(path, index=False)
    assert main(["uplift", "synthetic", "--campaign", str(path), "--sent-on", "2011-10-15", "--window-days", "30",
                 "--out", str(tmp_path / "out")]) == 0
    assert "Too few customers to learn who responds" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "uplift.json").read_text())
    assert report["model"] is None and report["targeting"] == "average uplift for everyone"
    customers = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert customers["predicted_uplift"].nunique() == 1  # the average, for everyone
