import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_run_on_embedded_dataset_writes_three_files(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "cdnow_sample", "--out", str(out)]) == 0
    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str})
    for column in ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score",
                   "segment", "cluster", "cluster_name", "expected_purchases", "p_alive", "clv",
                   "churn_probability", "churn_drivers", "previous_segment", "current_segment", "last_change"):
        assert column in customers.columns
    assert customers["customer_id"].is_unique
    assert customers["segment"].notna().all()
    quality = json.loads((out / "quality.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert quality["customers_out"] == len(customers)
    assert summary["counts"]["customers_modelled"] == len(customers)
    assert sum(summary["counts"]["segments"].values()) == len(customers)
    at_risk = summary["counts"]["at_risk"]  # the tower's rule: churn probability >= 0.5
    assert at_risk["basis"] == "churn" and at_risk["customers"] == (customers["churn_probability"] >= 0.5).sum()
    assert "at least 50 %" in at_risk["rule"]
    assert summary["as_of"].startswith("1998-07-01")
    retention = summary["retention"]  # the tower's retention rate, from the same run
    assert retention["window_days"] == 90 and retention["latest_start"] == "1998-04-02"
    assert retention["rate_fraction"] == pytest.approx(retention["n_retained"] / retention["n_previous"])
    models = summary["models"]
    assert models["clv"]["purchase_model"]["converged"] is True
    assert {row["model"] for row in models["churn"]["metrics"]} >= {"logistic", "recency rule"}
    assert models["clustering"]["k"] == customers["cluster"].nunique()
    assert customers["p_alive"].between(0, 1).all() and customers["churn_probability"].between(0, 1).all()


def assert_churn_section_names_baselines_and_held_out_size(churn: dict) -> None:
    """The churn section says which scorers are baselines (and what they are) and on how many held-out
    customers every scorer was judged; the metric rows agree with both."""
    assert churn["n_held_out"] > 0 and churn["n_train"] + churn["n_held_out"] == churn["n_labelled"]
    rows = {row["model"]: row for row in churn["metrics"]}
    baselines = {name for name, row in rows.items() if row["role"] == "baseline"}
    assert set(churn["baselines"]) == baselines and "recency rule" in baselines
    assert all(churn["baselines"][name] for name in baselines)  # each says what it is
    assert {row["n"] for row in rows.values()} == {churn["n_held_out"]}


def test_summary_of_synthetic_names_churn_baselines_and_held_out_size(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "synthetic", "--out", str(out)]) == 0
    models = json.loads((out / "summary.json").read_text())["models"]
    churn = models["churn"]
    assert churn["model"] == "logistic" and not churn["heuristic"]
    assert_churn_section_names_baselines_and_held_out_size(churn)
    assert_segments_a_marketer_can_use(models["clustering"])


def assert_segments_a_marketer_can_use(clustering: dict) -> None:
    """At least three segments (silhouette alone picks k = 2 on the synthetic data and on Online Retail),
    and the reason for k says which rule chose it."""
    assert clustering["k"] >= 3
    assert f"k={clustering['k']}" in clustering["k_reason"] and "silhouette" in clustering["k_reason"]


@pytest.mark.slow
def test_summary_of_online_retail_names_churn_baselines_and_held_out_size(tmp_path, online_retail_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "analytics", "run", str(online_retail_path), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    models = json.loads((out / "summary.json").read_text())["models"]
    assert_churn_section_names_baselines_and_held_out_size(models["churn"])
    # the CLV comes from a BTYD model (the boosting's edge on the Q4 holdout is within noise), no extrapolation
    clv = models["clv"]
    assert clv["model"] in ("bgnbd", "mbgnbd", "pnbd") and clv["chosen_by"] == "tournament"
    assert clv["horizon_note"] == "" and "within noise" in clv["tournament"]["reason"]
    # the per-customer comparison with the naive rate is said in words, and P(alive) is flagged as empty
    tournament = clv["tournament"]
    assert tournament["beats_naive"] or "No model beats the naive rate" in tournament["reason"]
    assert clv["dropout_collapsed"]
    assert_segments_a_marketer_can_use(models["clustering"])


def test_as_of_and_mapping_options(tmp_path):
    raw = pd.DataFrame(
        {
            "Client": ["a", "a", "b"],
            "Order": ["1", "2", "3"],
            "When": ["2021-01-05", "2021-03-01", "2021-02-01"],
            "Qty": [1, 2, 1],
            "Price": [10.0, 5.0, 7.0],
        }
    )
    path = tmp_path / "shop.csv"
    raw.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), "--as-of", "2021-03-01", "--map", "customer_id=Client",
                 "--map", "invoice_id=Order", "--map", "invoice_date=When", "--map", "quantity=Qty"])
    assert code == 0
    customers = pd.read_csv(out / "customers.csv", dtype={"customer_id": str}).set_index("customer_id")
    # the purchase on the as-of date itself is after the cut-off: customer a has one purchase, 55 days ago
    assert customers.loc["a", "frequency"] == 1
    assert customers.loc["a", "recency_days"] == 55


def test_bad_input_exits_2_with_one_error_line_and_no_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "analytics", "run", str(bad), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "Traceback" not in done.stderr
    assert "customer" in lines[0].lower()  # names the missing column
    assert not out.exists() or not any(out.iterdir())



@pytest.mark.parametrize("after_s", [0.5, 2.5])
def test_ctrl_c_exits_130_with_one_line_and_no_files(tmp_path, after_s):
    """Whether it lands in the imports or in the run: one line, no traceback, nothing written."""
    import signal
    import time

    out = tmp_path / "out"
    running = subprocess.Popen([sys.executable, "-m", "analytics", "run", "synthetic", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    time.sleep(after_s)
    assert running.poll() is None, "the run ended before it could be interrupted"
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=120)
    assert running.returncode == 130
    assert stderr.strip() == "interrupted"
    assert not out.exists() or not any(out.iterdir())


def test_the_command_line_imports_no_optional_part_and_freezes_its_imports(tmp_path):
    """What ``python -m analytics`` has imported when it starts reading its input (a fresh interpreter: this
    test process has loaded everything): no Dash or Plotly (analytics never imports them), and none of the
    parts only some inputs or settings use (XLSX, Parquet, databases, the results cache, uplift, Ward
    clustering, the synthetic generator). Its imports are frozen out of the garbage collector's scans, which
    stays on for the run's own objects."""
    optional = ["dash", "plotly", "flask", "openpyxl", "pyarrow.parquet", "sqlalchemy", "sqlglot", "duckdb",
                "diskcache", "redis", "sklift", "matplotlib", "scipy.cluster.hierarchy", "analytics.synthetic",
                "analytics.database", "analytics.uplift", "analytics.roi"]
    probe = ("import gc, json, runpy, sys\n"
             f"sys.argv = ['analytics', 'run', 'no-such-input', '--out', {str(tmp_path / 'out')!r}]\n"
             "try:\n"
             "    runpy.run_module('analytics', run_name='__main__', alter_sys=True)\n"
             "except SystemExit as exit:\n"
             "    code = exit.code\n"
             f"print(json.dumps({{'exit': code, 'loaded': [m for m in {optional!r} if m in sys.modules], "
             "'collecting': gc.isenabled(), 'frozen': gc.get_freeze_count(), 'scanned': len(gc.get_objects())}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    state = json.loads(done.stdout)
    assert state["exit"] == 2 and "no-such-input" in done.stderr  # it got as far as looking for the input
    assert state["loaded"] == []
    assert state["collecting"] and state["frozen"] > 100_000 and state["scanned"] < state["frozen"] / 10


@pytest.mark.parametrize("source", ["cdnow_sample", pytest.param("online_retail", marks=pytest.mark.slow)])
def test_a_whole_run_never_imports_lifetimes_or_autograd(tmp_path, request, source):
    """lifetimes (archived) and autograd cost every run 0.75 s of imports and their fitters' gradients: a run
    fits with the project's own likelihoods (analytics.clv.bgnbd), and reads the embedded CDNOW files that
    lifetimes installs without importing it. A fresh interpreter runs the whole CLI on the CDNOW sample (all
    models: BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma, their bootstrap) and on Online Retail (where BG/NBD's
    BFGS fails and the bounded fallback fits), then lists what it has imported."""
    target = str(request.getfixturevalue("online_retail_path")) if source == "online_retail" else source
    probe = ("import json, runpy, sys\n"
             f"sys.argv = ['analytics', 'run', {target!r}, '--out', {str(tmp_path / 'out')!r}]\n"
             "try:\n"
             "    runpy.run_module('analytics', run_name='__main__', alter_sys=True)\n"
             "except SystemExit as exit:\n"
             "    code = exit.code\n"
             "print(json.dumps({'exit': code, 'loaded': sorted({m.split('.')[0] for m in sys.modules} & "
             "{'lifetimes', 'autograd', 'dill'})}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["exit"] in (0, None), done.stderr
    assert state["loaded"] == []
    assert (tmp_path / "out" / "summary.json").exists()


def test_unknown_input_names_the_datasets(tmp_path, capsys):
    assert main(["run", "no-such-thing", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "cdnow" in err
