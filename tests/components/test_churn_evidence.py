"""The churn evidence states the split and the refit the record holds (a real pipeline run)."""

from __future__ import annotations

from dash import html

from components.methodology_tab import churn_evidence


def test_churn_facts_state_the_split_and_the_refit_sizes(synthetic_run):
    churn = synthetic_run.results.churn
    assert not churn.heuristic
    facts = [c.children for c in churn_evidence(churn) if isinstance(c, html.P) and isinstance(c.children, str)]
    line = next(f for f in facts if "held-out customers" in f)
    assert f"fitted on {churn.n_train:,}, judged on {churn.n_held_out:,} held-out customers" in line
    assert line.endswith(f" · refitted on {churn.n_refit:,} to score")
    # a base this small is not sampled: every labelled customer is in the split and in the refit
    assert churn.n_train + churn.n_held_out == churn.n_refit == churn.n_labelled > 0


def test_the_heuristic_claims_no_refit(unfittable_run):
    churn = unfittable_run.results.churn
    assert churn.heuristic and churn.n_refit == 0
    facts = [c.children for c in churn_evidence(churn) if isinstance(c, html.P) and isinstance(c.children, str)]
    line = next(f for f in facts if "held-out customers" in f)
    assert line.endswith(f"judged on {churn.n_held_out:,} held-out customers") and "refitted" not in line
