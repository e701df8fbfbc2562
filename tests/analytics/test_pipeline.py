import sys
import weakref

import pandas as pd
import pytest

from analytics import pipeline
from analytics.cache import ResultsCache
from analytics.datasets import load_dataset
from analytics.errors import DataError
from analytics.params import AnalysisParams


@pytest.fixture(scope="module")
def cdnow_sample():
    return load_dataset("cdnow_sample")


def test_run_reports_progress_in_order_and_one_segment_per_customer(cdnow_sample):
    seen = []
    results = pipeline.run(cdnow_sample, AnalysisParams(), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert results.customers.index.is_unique
    assert results.customers["segment"].notna().all()
    assert results.as_of == pd.Timestamp("1998-07-01")
    # the journey's last snapshot is the as-of date: same segment as the RFM table, or inactive
    table = results.customers
    # (as text: categoricals of other categories, the states and the segments, do not compare)
    current, segment = table["current_segment"].astype(str), table["segment"].astype(str)
    assert ((current == segment) | (current == "Inactive")).all()


def test_second_run_is_a_cache_hit_and_roundtrips(tmp_path, cdnow_sample, monkeypatch):
    cache = ResultsCache(tmp_path)
    params = AnalysisParams()
    key = pipeline.run_cached(lambda: cdnow_sample, params, cache, source_id="dataset:cdnow_sample",
                              source_name="cdnow_sample")
    stored = cache.get(key)
    assert stored.key == key
    pd.testing.assert_frame_equal(stored.customers, pipeline.run(cdnow_sample, params).customers)

    def fail(*args, **kwargs):
        raise AssertionError("analysis recomputed on a cache hit")

    monkeypatch.setattr(pipeline, "analyse", fail)
    # by alias: no loading at all
    assert pipeline.run_cached(fail, params, cache, source_id="dataset:cdnow_sample") == key
    # by content: the same data and name from another source (e.g. uploaded again) is found by its fingerprint
    assert pipeline.run_cached(lambda: cdnow_sample.copy(), params, cache, source_id="upload:other",
                               source_name="cdnow_sample") == key


def test_same_data_under_another_name_reuses_every_model(tmp_path, cdnow_sample, monkeypatch):
    cache = ResultsCache(tmp_path)
    first = pipeline.run_cached(lambda: cdnow_sample, AnalysisParams(), cache, source_name="a.csv")
    for name in ("_clustering", "_clv", "_churn"):
        monkeypatch.setattr(pipeline, name, lambda *a, _n=name: pytest.fail(f"{_n} refitted"))
    second = pipeline.run_cached(lambda: cdnow_sample.copy(), AnalysisParams(), cache, source_name="b.csv")
    assert second != first
    assert cache.get(second).source == "b.csv"
    pd.testing.assert_frame_equal(cache.get(second).customers, cache.get(first).customers)


def test_changed_parameters_or_data_give_another_key(cdnow_sample):
    params = AnalysisParams()
    cleaned = pipeline.cleaning.clean(cdnow_sample)
    key = pipeline.results_key(cleaned.lines, params)
    assert key != pipeline.results_key(cleaned.lines, AnalysisParams(gross_margin_fraction=0.5))
    assert key != pipeline.results_key(cleaned.lines.iloc[1:], params)


def test_changing_the_margin_refits_only_the_clv_stage(tmp_path, cdnow_sample, monkeypatch):
    cache = ResultsCache(tmp_path)
    first = cache.get(pipeline.run_cached(lambda: cdnow_sample, AnalysisParams(), cache))
    calls = []
    for name in ("_clustering", "_clv", "_churn"):
        original = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    second = cache.get(pipeline.run_cached(lambda: cdnow_sample, AnalysisParams(gross_margin_fraction=0.5), cache))
    assert calls == ["_clv"]
    assert second.customers["clv"].sum() == pytest.approx(first.customers["clv"].sum() * 0.5 / 0.3)
    pd.testing.assert_series_equal(second.customers["churn_probability"], first.customers["churn_probability"])


def test_the_cache_keeps_the_invoice_table_not_the_lines(tmp_path):
    """Line-level data is never pickled into the results cache; the invoice table it keeps instead gives the
    same journeys, trends and CLV summary as the lines (synthetic retailer: many lines per invoice)."""
    from analytics import cleaning, journeys, trends
    from analytics.clv import rfm_summary
    from analytics.invoices import invoice_table
    from analytics.synthetic import generate_retail
    from analytics.loading import to_canonical

    transactions = to_canonical(generate_retail(n_rows=20_000, seed=3))
    cache = ResultsCache(tmp_path)
    key = pipeline.run_cached(lambda: transactions, AnalysisParams(), cache, source_name="synthetic")
    stored = [k for k in cache._cache.iterkeys() if isinstance(k, str) and ":" in k and not k.startswith("lock")]
    assert not any(k.startswith("lines:") for k in stored)
    cleaned = cleaning.clean(transactions)
    invoices = cache.get(pipeline.invoices_key(key))
    pd.testing.assert_frame_equal(invoices, invoice_table(cleaned.lines))
    assert len(invoices) < len(cleaned.lines) / 3
    as_of = cleaned.as_of
    by_line = journeys.journey_history(cleaned.lines, as_of, period="Q")
    by_invoice = journeys.journey_history(invoices, as_of, period="Q")
    pd.testing.assert_frame_equal(by_invoice, by_line, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(trends.monthly_activity(invoices), trends.monthly_activity(cleaned.lines),
                                  check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(trends.cohort_retention(invoices), trends.cohort_retention(cleaned.lines))
    pd.testing.assert_frame_equal(rfm_summary(invoices, as_of), rfm_summary(cleaned.lines, as_of),
                                  check_exact=False, rtol=1e-9)


def test_the_model_steps_run_two_at_once_and_change_nothing_but_time(monkeypatch):
    synthetic = load_dataset("synthetic")
    params = AnalysisParams()
    seen = []
    both = pipeline.run(synthetic, params, progress=lambda f, m: seen.append((f, m)))
    # every step once, in a forward-only bar, each timed in wall and its own thread's CPU seconds
    messages = [m for _, m in seen]
    # (reading is the caller's step; "Done" ends the bar)
    assert len(messages) == len(set(messages)) == len(pipeline.STEP_SHARES) - 1 + 1 and messages[-1] == "Done"
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert set(both.timings_s) == set(both.step_cpu_s) == set(pipeline.NEEDS)
    monkeypatch.setattr(pipeline, "MODEL_THREADS", 1)
    one = pipeline.run(synthetic, params)
    pd.testing.assert_frame_equal(both.customers, one.customers)
    assert both.model_summaries() == one.model_summaries()
    pd.testing.assert_frame_equal(both.monthly, one.monthly)
    pd.testing.assert_frame_equal(both.clv.tournament.table, one.clv.tournament.table)


def test_two_threads_leave_standard_output_alone_when_both_quiet_their_fits(online_retail_path, capsys):
    # on Online Retail BG/NBD's BFGS fails to converge and the bounded fits run quietly in both threads (the
    # CLV models and the churn baseline); when lifetimes printed there, quieting it from two threads at once
    # once left sys.stdout pointing at a discarded buffer, and the CLI printed nothing
    from analytics.loading import read_transactions

    before = sys.stdout
    pipeline.run(read_transactions(online_retail_path), AnalysisParams())
    assert sys.stdout is before
    print("still printing")
    assert capsys.readouterr().out == "still printing\n"


def test_results_larger_than_the_cache_are_an_error_not_silence(tmp_path, cdnow_sample):
    """diskcache culls beyond its size limit, the value just written included: the run must say so rather
    than return a key with nothing behind it (a 100M-line run's 4 GB of results met the default limit)."""
    cache = ResultsCache(tmp_path, size_limit_bytes=2**20)
    with pytest.raises(DataError, match=r"larger than the results cache can hold \(its size limit is 1 MB\)"):
        pipeline.run_cached(lambda: cdnow_sample, AnalysisParams(), cache, source_name="cdnow_sample")
    roomy = ResultsCache(tmp_path / "roomy", size_limit_bytes=64 * 2**20)
    assert roomy.get(pipeline.run_cached(lambda: cdnow_sample, AnalysisParams(), roomy)) is not None


def test_released_lines_are_freed_before_the_results_are_assembled(cdnow_sample, monkeypatch):
    params = AnalysisParams()
    kept, released = pipeline._clean(cdnow_sample, params), pipeline._clean(cdnow_sample, params)
    watched, alive_at_assembly = [], []
    assemble = pipeline.Results

    def results(**fields):
        alive_at_assembly.append(watched[-1]() is not None)
        return assemble(**fields)

    monkeypatch.setattr(pipeline, "Results", results)
    described, describe = [], pipeline.features.customer_features

    def features(lines, *args, **kwargs):  # (run number, the unread columns its lines still had)
        described.append((len(watched), {"quantity", "unit_price"} & set(lines.columns)))
        return describe(lines, *args, **kwargs)

    monkeypatch.setattr(pipeline.features, "customer_features", features)
    watched.append(weakref.ref(released.lines))
    freed = pipeline.analyse(released, params, "k", release_lines=True)
    watched.append(weakref.ref(kept.lines))
    held = pipeline.analyse(kept, params, "k")
    assert alive_at_assembly == [False, True]  # nothing else held them: memory, not just an attribute, let go
    assert released.lines is None and kept.lines is not None
    # the handed-over lines lose the columns no step reads (and the features do not need them)
    assert all(not unread for run, unread in described if run == 1)
    assert {"quantity", "unit_price"} in [unread for run, unread in described if run == 2]
    pd.testing.assert_frame_equal(freed.customers, held.customers)
    assert freed.model_summaries() == held.model_summaries()
