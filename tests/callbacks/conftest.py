"""Callback tests run on results the app really makes: the pipeline on embedded data, stored in a results
cache exactly as a run from the Data tab stores them (results, invoice table, dataset alias)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics import pipeline
from analytics.datasets import load_dataset
from analytics.params import AnalysisParams
from analytics.results import Results
from callbacks import common
from settings import Settings

SYNTHETIC_ROWS = 20_000


@dataclass(frozen=True)
class StoredRun:
    """Settings whose results cache holds one real run, its key, and the Results."""

    settings: Settings
    key: str
    results: Results


def _stored(cache_dir: Path, dataset: str, **load) -> StoredRun:
    settings = Settings(cache_dir=cache_dir)
    key = pipeline.run_cached(lambda: load_dataset(dataset, **load), AnalysisParams(), common.results_cache(settings),
                              source_id=f"dataset:{dataset}", source_name=dataset)
    return StoredRun(settings, key, common.load_results(settings, key))


@pytest.fixture(scope="session")
def cdnow_stored(tmp_path_factory) -> StoredRun:
    """The CDNOW 1/10 sample (real customers; no countries)."""
    return _stored(tmp_path_factory.mktemp("cdnow-cache"), "cdnow_sample")


@pytest.fixture(scope="session")
def synthetic_stored(tmp_path_factory) -> StoredRun:
    """A small synthetic retailer: countries, clusters, CLV and churn, so every explorer filter applies."""
    return _stored(tmp_path_factory.mktemp("synthetic-cache"), "synthetic", n_rows=SYNTHETIC_ROWS)


def text_of(component) -> str:
    """Every string inside a Dash component tree (what a person reads)."""
    if isinstance(component, (list, tuple)):
        return " ".join(text_of(c) for c in component)
    if isinstance(component, (str, int, float)):
        return str(component)
    if not hasattr(component, "to_plotly_json"):
        return ""
    return text_of(getattr(component, "children", None) or "")


def values_by_id(component, wanted) -> dict:
    """The ``value`` of each component in a layout tree whose id is in ``wanted`` (what a control starts at)."""
    found = {}
    if getattr(component, "id", None) in wanted:
        found[component.id] = getattr(component, "value", None)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None and not isinstance(child, (str, int, float)):
            found.update(values_by_id(child, wanted))
    return found
