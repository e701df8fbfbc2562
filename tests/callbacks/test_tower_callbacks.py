"""Executive tower and evidence callbacks, called as functions on an app with results in its cache."""

from __future__ import annotations

import dash
import pytest

from analytics import insights
from app import create_app
from callbacks import common
from callbacks.methodology import evidence_outputs, reference_output
from callbacks.tower import tower_outputs
from components import formatting as fmt
from components import ids
from components.kpis import card_id, format_value
from components.methodology_tab import NOT_AVAILABLE
from settings import Settings


def walk(component):
    """Every Dash component in a tree (children lists, single children, strings skipped)."""
    if isinstance(component, (list, tuple)):
        for child in component:
            yield from walk(child)
        return
    if not hasattr(component, "to_plotly_json"):
        return
    yield component
    yield from walk(getattr(component, "children", None))


def text(component) -> str:
    parts = []
    for c in walk(component):
        children = getattr(c, "children", None)
        items = children if isinstance(children, (list, tuple)) else [children]
        parts += [str(x) for x in items if isinstance(x, (str, int, float))]
    return " ".join(parts)


def classed(component, name: str) -> list:
    return [c for c in walk(component) if name in (getattr(c, "className", None) or "").split()]


def test_kpi_cards_show_the_insights_numbers_with_tooltips(cdnow_run):
    results = cdnow_run.results
    shown = tower_outputs(results)
    cards, narrative = shown["kpis"], shown["narrative"]
    figures = [shown["trend"], shown["segments"], shown["cohorts"]]
    kpis = insights.kpis(results)
    values = [c.children for c in classed(cards, "kpi-value")]
    assert values == [format_value(k) for k in kpis] and "–" not in values
    assert values[0] == fmt.count(len(results.customers))
    assert values[-1] == fmt.money(results.customers["clv"].sum())  # the pipeline's CLV column, summed
    tooltips = [c for c in walk(cards) if isinstance(c, dash.development.base_component.Component)
                and type(c).__name__ == "Tooltip"]
    assert [t.target for t in tooltips] == [card_id(k["key"]) for k in kpis]
    assert [t.children for t in tooltips] == [k["definition"] for k in kpis]
    assert insights.NEEDS_CLV not in text(cards) and len(classed(cards, "kpi-risk")) == 2
    items = [li.children for li in walk(narrative) if type(li).__name__ == "Li"]
    assert items == insights.narrative(results)
    assert [f.data[0].type for f in figures] == ["bar", "bar", "heatmap"]


def test_kpi_cards_without_clv_say_what_they_need(clv_failed_run):
    results = clv_failed_run.results
    cards = tower_outputs(results)["kpis"]
    by_key = {k["key"]: [c.children for c in classed(card, "kpi-value")][0]
              for k, card in zip(insights.kpis(results), classed(cards, "kpi-card"))}
    assert by_key["clv"] == by_key["revenue_at_risk"] == "–"
    assert text(cards).count(insights.NEEDS_CLV) == 2


def test_registered_tower_callback_needs_only_the_results(tmp_path, cdnow_run):
    """The retention rate comes with the results: no invoice lines are stored next to them here."""
    results = cdnow_run.results
    app = create_app(Settings(cache_dir=tmp_path))
    settings = app.server.config["RCT_SETTINGS"]
    common.results_cache(settings).set(results.key, results)
    callback = next(v["callback"] for k, v in app.callback_map.items() if f"{ids.TOWER_KPIS}.children" in k)
    show = callback.__wrapped__
    cards = show(results.key)["kpis"]
    assert results.retention.rate_fraction is not None
    assert fmt.percent(results.retention.rate_fraction) in [c.children for c in classed(cards, "kpi-value")]
    with pytest.raises(dash.exceptions.PreventUpdate):
        show(None)  # no results yet: leave the page as it is


def test_a_missing_key_does_not_evict_the_other_results(tmp_path, cdnow_run, synthetic_run):
    settings = Settings(cache_dir=tmp_path)
    cache = common.results_cache(settings)
    for run in (cdnow_run, synthetic_run):
        cache.set(run.results.key, run.results)
    first = common.load_results(settings, cdnow_run.results.key)
    second = common.load_results(settings, synthetic_run.results.key)
    with pytest.raises(dash.exceptions.PreventUpdate):
        common.load_results(settings, "no-such-key")
    # still the same instances: the miss neither evicted them nor was remembered
    assert common.load_results(settings, cdnow_run.results.key) is first
    assert common.load_results(settings, synthetic_run.results.key) is second
    cache.set("late-key", cdnow_run.results)
    assert common.load_results(settings, "late-key").key == cdnow_run.results.key


def test_evidence_of_models_that_could_not_be_fitted_says_why(unfittable_run):
    results = unfittable_run.results
    shown = evidence_outputs(results)
    tracking, holdout, params, metrics = shown["tracking"], shown["holdout"], shown["clv"], shown["churn"]
    clustering, definitions = shown["clustering"], shown["kpi_definitions"]
    for fig in (tracking, holdout):
        assert not fig.data and fig.layout.annotations
    # CLV falls back to the naive rate; the BG/NBD holdout check cannot be made, and says why
    assert NOT_AVAILABLE in text(params) and results.clv.validation.message in text(params)
    assert results.clv.model_label in text(params)
    assert NOT_AVAILABLE in text(clustering) and results.clustering.message in text(clustering)
    # churn never fails on small data: it falls back to its heuristic, and says so
    assert results.churn.heuristic and results.churn.reason in text(metrics)
    for kpi in insights.kpis(results):
        assert kpi["definition"] in text(definitions)


@pytest.mark.parametrize("run", ["cdnow_run", "synthetic_run"])
def test_evidence_shows_the_pipelines_parameters_and_held_out_metrics(run, request):
    results = request.getfixturevalue(run).results
    clv, churn, clustering = results.clv, results.churn, results.clustering
    shown = evidence_outputs(results)
    tracking, holdout, roc = shown["tracking"], shown["holdout"], shown["roc"]
    params, metrics, clustering_panel = shown["clv"], shown["churn"], shown["clustering"]

    validation = clv.validation
    assert list(tracking.data[0].y) == validation.tracking["actual_cumulative"].tolist()
    assert list(tracking.data[1].y) == pytest.approx(validation.tracking["predicted_cumulative"].tolist())
    assert list(holdout.data[0].y) == pytest.approx(validation.by_frequency["actual"].tolist())
    params_text = text(params)
    assert NOT_AVAILABLE not in params_text
    purchase, spend = clv.forecast.purchase_model, clv.forecast.gamma_gamma
    assert clv.model_label in params_text
    for value in [*purchase.params.values(), *spend.params.values()]:
        assert f"{value:.4g}" in params_text
    assert f"{spend.n_customers:,} repeat buyers" in params_text
    assert f"{purchase.n_customers:,} customers" in params_text
    assert f"{validation.metrics.loc['model', 'mae']:.3f}" in params_text

    curves = {t.name.split(" · ")[0]: t for t in roc.data[1:]}
    assert set(curves) == set(churn.metrics.index)
    for name, trace in curves.items():
        assert trace.name.endswith(f"AUC {churn.metrics.loc[name, 'roc_auc']:.3f}")
        assert (trace.line.dash == "dash") == (name in churn.baselines)
    metrics_text = text(metrics)
    assert f"judged on {churn.n_held_out:,} held-out customers" in metrics_text
    for name, description in churn.baselines.items():
        assert name in metrics_text and description in metrics_text
    for value in churn.metrics["roc_auc"]:
        assert f"{value:.3f}" in metrics_text

    chosen = [row for row in walk(clustering_panel) if "table-active" in (getattr(row, "className", "") or "")]
    assert len(chosen) == 1 and text(chosen[0]).split()[0] == str(clustering.k)
    assert clustering.k_reason in text(clustering_panel)


def test_reference_table_lists_published_and_refitted_values():
    table = text(reference_output())
    assert "0.243" in table and "4.414" in table and "Gamma-Gamma" in table and "2,349 customers" in table
