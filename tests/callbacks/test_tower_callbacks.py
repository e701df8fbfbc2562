"""Executive tower and evidence callbacks, called as functions on an app with results in its cache."""

from __future__ import annotations

import dash
import pytest

from analytics.invoices import invoice_table
from analytics import insights, pipeline
from app import create_app
from callbacks import common
from callbacks.methodology import evidence_outputs, reference_output
from callbacks.tower import tower_outputs
from components import formatting as fmt
from components import ids
from components.kpis import card_id
from components.methodology_tab import NOT_AVAILABLE
from settings import Settings
from tests.results_fixtures import cdnow_results, with_models


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


@pytest.fixture(scope="module")
def cdnow():
    return cdnow_results()


def test_kpi_cards_show_the_insights_numbers_with_tooltips(cdnow):
    results, lines = cdnow
    cards, narrative, *figures = tower_outputs(results, lines)
    kpis = insights.kpis(results, lines)
    values = [c.children for c in classed(cards, "kpi-value")]
    assert values == [fmt.count(kpis[0]["value"]), fmt.count(kpis[1]["value"]), fmt.money(kpis[2]["value"]),
                      fmt.percent(kpis[3]["value"]), fmt.count(kpis[4]["value"]), "–", "–"]
    tooltips = [c for c in walk(cards) if isinstance(c, dash.development.base_component.Component)
                and type(c).__name__ == "Tooltip"]
    assert [t.target for t in tooltips] == [card_id(k["key"]) for k in kpis]
    assert [t.children for t in tooltips] == [k["definition"] for k in kpis]
    assert text(cards).count(insights.NEEDS_CLV) == 2
    items = [li.children for li in walk(narrative) if type(li).__name__ == "Li"]
    assert items == insights.narrative(results, lines)
    assert [f.data[0].type for f in figures] == ["bar", "bar", "heatmap"]


def test_kpi_cards_with_models(cdnow):
    results = with_models(cdnow_results()[0])
    cards = tower_outputs(results, cdnow[1])[0]
    by_key = {k["key"]: k for k in insights.kpis(results, cdnow[1])}
    assert insights.NEEDS_CLV not in text(cards)
    assert fmt.money(by_key["clv"]["value"]) in [c.children for c in classed(cards, "kpi-value")]
    assert len(classed(cards, "kpi-risk")) == 2


def test_registered_tower_callback_reads_results_and_lines_by_key(tmp_path, cdnow):
    results, lines = cdnow
    app = create_app(Settings(cache_dir=tmp_path))
    settings = app.server.config["RCT_SETTINGS"]
    cache = common.results_cache(settings)
    cache.set(results.key, results)
    cache.set(pipeline.invoices_key(results.key), invoice_table(lines))
    callback = next(v["callback"] for k, v in app.callback_map.items() if f"{ids.TOWER_KPIS}.children" in k)
    show = callback.__wrapped__
    cards = show(results.key)[0]
    retention = next(k for k in insights.kpis(results, lines) if k["key"] == "retention")
    assert fmt.percent(retention["value"]) in [c.children for c in classed(cards, "kpi-value")]
    with pytest.raises(dash.exceptions.PreventUpdate):
        show(None)  # no results yet: leave the page as it is


def test_evidence_without_models_says_so(cdnow):
    results, _ = cdnow
    tracking, holdout, roc, calibration, params, metrics, clustering, definitions = evidence_outputs(results)[:8]
    for fig in (tracking, holdout, roc, calibration):
        assert not fig.data and fig.layout.annotations
    for panel in (params, metrics, clustering):
        assert NOT_AVAILABLE in text(panel)
    for kpi in insights.kpis(results):
        assert kpi["definition"] in text(definitions)


def test_evidence_with_models_shows_parameters_and_metrics(cdnow):
    results = with_models(cdnow_results()[0])
    tracking, holdout, roc, calibration, params, metrics, clustering, _ = evidence_outputs(results)[:8]
    assert len(tracking.data) == 2 and len(holdout.data) == 3
    assert [t.name for t in roc.data][1] == "logistic regression · AUC 0.810"
    assert roc.data[2].line.dash == "dash"  # a baseline (the first curve after the model)
    assert len(calibration.data) == 3
    params_text = text(params)
    assert NOT_AVAILABLE not in params_text
    assert "0.243" in params_text and "15.44" in params_text and "946 repeat buyers" in params_text
    assert "0.810" in text(metrics) and "recency rule" in text(metrics)
    chosen = [row for row in walk(clustering) if "table-active" in (getattr(row, "className", "") or "")]
    assert len(chosen) == 1 and "4" in text(chosen[0])


def test_churn_baselines_from_the_metrics_role_column(cdnow):
    results = with_models(cdnow_results()[0])
    churn = results.models["churn"]
    churn["metrics"] = churn["metrics"].assign(role=["model", "baseline", "comparison"])
    roc = evidence_outputs(results)[2]
    styles = {t.name.split(" · ")[0]: t.line.dash for t in roc.data[1:]}
    assert styles == {"logistic regression": None, "recency rule": "dash", "1 - P(alive)": None}


def test_reference_table_lists_published_and_refitted_values():
    table = text(reference_output())
    assert "0.243" in table and "4.414" in table and "Gamma-Gamma" in table and "2,349 customers" in table


def test_whatever_the_pipeline_produces_today_renders():
    from tests.results_fixtures import pipeline_cdnow

    results, lines = pipeline_cdnow()
    cards = tower_outputs(results, lines)[0]
    assert len(classed(cards, "kpi-value")) == len(insights.kpis(results, lines))
    _, _, _, _, params, metrics, clustering, _ = evidence_outputs(results)[:8]
    for name, panel in (("clv", params), ("churn", metrics), ("clustering", clustering)):
        assert (NOT_AVAILABLE in text(panel)) == (name not in results.models), name
