"""Scale: the full analysis cold in a fresh process on 1M and 10M-line logs (Parquet and CSV) and on Online
Retail through the CLI, against a seed-style pandas + lifetimes + silhouette script on the same data.

Logs are generated once (synthetic retailer, seed 1) into a cache directory outside the repository
(``--data``, default /tmp/rct-bench) and reused. Each case runs in its own interpreter, so "wall" includes
process start and imports and "peak" is that process's own maximum resident memory. The seed-style script
is what a notebook does: a pandas ``groupby().agg`` with lambdas for RFM, ``lifetimes``' summary and
fitters on every customer, and a silhouette loop over k on every customer (quadratic: it is run on Online
Retail and 1M lines only; ``--seed-10m`` adds 10M if you have the time).

Targets (issue 12, this 2-core machine, shared with other work, so wall figures are noisy; CPU seconds are
printed too): 10M lines <= 20 s and <= 2 GB; 1M <= 4 s; Online Retail CLI <= 2.5 s; >= 3x faster than the
seed script on Online Retail and >= 20x at 1M. ``--cases`` picks cases, e.g. ``--cases or,1m-parquet``; ``--rows-100m`` writes a 100M-line
Parquet file in chunks and runs it (minutes; peak target 8 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _harness import ONLINE_RETAIL, ROOT, peak_rss_mb, report

CASES = {
    "or": ("online_retail", None, None),
    "1m-parquet": ("1m_parquet", 1_000_000, "parquet"),
    "1m-csv": ("1m_csv", 1_000_000, "csv"),
    "10m-parquet": ("10m_parquet", 10_000_000, "parquet"),
    "10m-csv": ("10m_csv", 10_000_000, "csv"),
}
CHUNK_ROWS = 5_000_000  # rows generated at a time for the 100M-line file


def data_file(folder: Path, rows: int, kind: str) -> Path:
    """The synthetic log of ``rows`` lines as ``kind`` (parquet or csv), generated once into ``folder``."""
    path = folder / f"synthetic_{rows}.{kind}"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    from analytics.synthetic import generate_retail

    print(f"generating {path} ...", flush=True)
    frame = generate_retail(n_rows=rows, seed=1)
    partial = path.with_suffix(".part")
    if kind == "parquet":
        frame.to_parquet(partial, index=False)
    else:
        frame.to_csv(partial, index=False)
    partial.replace(path)
    return path


def hundred_million(folder: Path) -> Path:
    """A ~100M-line Parquet file written chunk by chunk (distinct seeds and customer ranges per chunk)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "synthetic_100m.parquet"
    if path.exists():
        return path
    from analytics.synthetic import generate_retail

    partial, writer = path.with_suffix(".part"), None
    for chunk in range(100_000_000 // CHUNK_ROWS):
        frame = generate_retail(n_rows=CHUNK_ROWS, seed=100 + chunk)
        frame["CustomerID"] = frame["CustomerID"] + chunk * 10_000_000  # each chunk its own customers
        # suffixed, not prefixed: a leading "C" marks a cancellation
        frame["InvoiceNo"] = frame["InvoiceNo"].astype(str) + f"-{chunk}"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table)
        print(f"  chunk {chunk + 1}/{100_000_000 // CHUNK_ROWS}", flush=True)
    writer.close()
    partial.replace(path)
    return path


# ------------------------------------------------------------------------------------------- one case


def cpu_s() -> float:
    """CPU seconds (user + system, all threads) this process used so far: steadier than wall time when other
    work shares the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 2)


def run_engine(path: str, started: float) -> dict:
    """The product's full analysis, cold (empty cache), as the app runs it; times from process start."""
    import_start = time.perf_counter()
    from analytics.startup import lifelong_imports

    with lifelong_imports():  # as the app's processes and the command line keep their imports
        from analytics import pipeline
        from analytics.cache import ResultsCache
        from analytics.loading import read_transactions
        from analytics.params import AnalysisParams

    imported = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache_dir:
        # room for a 100M-line run's results (3.4M customers: about 4 GB pickled, over the app's default 4 GB
        # cache, which would cull them as soon as they were written)
        cache = ResultsCache(cache_dir, size_limit_bytes=64 * 2**30)
        loaded = {}

        def load():
            start = time.perf_counter()
            frame = read_transactions(path)
            loaded["s"] = time.perf_counter() - start
            return frame

        # (progress message, CPU seconds so far, peak memory so far) at each stage start
        marks: list[tuple[str, float, float]] = []
        with ResidentMemory() as resident:
            key = pipeline.run_cached(load, AnalysisParams(), cache, source_name=Path(path).name,
                                      progress=lambda fraction, message: (marks.append((message, cpu_s(),
                                                                                        peak_rss_mb())),
                                                                          resident.mark(message)))
            results = cache.get(key)
    done = time.perf_counter()
    return {
        "customers": len(results.customers),
        "wall_s": round(done - started, 2),
        "imports_s": round(imported - import_start, 2),
        "load_s": round(loaded["s"], 2),
        "cpu_s": cpu_s(),
        "peak_mb": round(peak_rss_mb()),
        "stages_s": dict(results.timings_s),
        # CPU per step, steadier than wall times when other work shares the cores: reading and cleaning
        # (and the invoice table and fingerprint) from the process's CPU between progress reports, the
        # steps after them, which run in two threads at once, from each step's own thread
        "stages_cpu_s": {**{m: round(marks[i + 1][1] - t, 1) for i, (m, t, _) in enumerate(marks[:2])},
                         **{name: round(cpu, 1) for name, cpu in results.step_cpu_s.items()}},
        # the peak reached by the end of reading, of cleaning, and of the whole run: where the memory goes up
        "peak_mb_after": {**{m: round(marks[i + 1][2]) for i, (m, _, _) in enumerate(marks[:2])},
                          "everything": round(peak_rss_mb())},
        "resident_mb_max_by_stage": resident.maxima(),
    }


class ResidentMemory:
    """Resident memory sampled every 20 ms in a thread; ``maxima()``: the largest sample from each progress
    message to the next (the model steps run two at a time, so a step's figure includes whatever ran beside
    it), and where the peak came from."""

    def __init__(self) -> None:
        self._samples: list[tuple[float, float]] = []
        self._marks: list[tuple[float, str]] = [(time.perf_counter(), "start")]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20
        with open("/proc/self/statm") as statm:
            while not self._stop.is_set():
                statm.seek(0)
                self._samples.append((time.perf_counter(), int(statm.read().split()[1]) * page_mb))
                self._stop.wait(0.02)

    def mark(self, message: str) -> None:
        self._marks.append((time.perf_counter(), message))

    def __enter__(self) -> ResidentMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def maxima(self) -> dict[str, int]:
        bounds = [*self._marks, (float("inf"), "")]
        out: dict[str, int] = {}
        for (start, message), (stop, _) in zip(bounds, bounds[1:]):
            inside = [rss for t, rss in self._samples if start <= t < stop]
            if inside:  # (a message repeated, as "Done" is, keeps its larger figure)
                out[message] = max(out.get(message, 0), round(max(inside)))
        return out


def run_seed(path: str, started: float) -> dict:
    """What a seed-style notebook does on the same file (no cleaning report, no churn, no journeys)."""
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    if path.endswith(".parquet"):
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(path, encoding="latin-1", dtype={"InvoiceNo": str, "StockCode": str})
    df = df.dropna(subset=["CustomerID"])
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    df["Revenue"] = df["Quantity"] * df["UnitPrice"]
    as_of = df["InvoiceDate"].max() + pd.Timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(
        recency=("InvoiceDate", lambda x: (as_of - x.max()).days),
        frequency=("InvoiceNo", lambda x: x.nunique()),
        monetary=("Revenue", lambda x: x.sum()),
    )
    summary = summary_data_from_transaction_data(df, "CustomerID", "InvoiceDate", "Revenue",
                                                 observation_period_end=as_of)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    for penalizer in (0.0, 0.001, 0.01, 0.1):  # what a notebook does when lifetimes does not converge
        try:
            bgf = BetaGeoFitter(penalizer_coef=penalizer).fit(summary["frequency"], summary["recency"],
                                                               summary["T"])
            ggf = GammaGammaFitter(penalizer_coef=penalizer).fit(repeat["frequency"], repeat["monetary_value"])
            break
        except ConvergenceError:
            continue
    summary["clv"] = ggf.customer_lifetime_value(bgf, summary["frequency"], summary["recency"], summary["T"],
                                                 summary["monetary_value"], time=12, discount_rate=0.01)
    X = StandardScaler().fit_transform(np.log1p(rfm.clip(lower=0)))
    scores = {k: silhouette_score(X, KMeans(k, n_init=10, random_state=0).fit_predict(X)) for k in range(2, 9)}
    return {"customers": len(rfm), "wall_s": round(time.perf_counter() - started, 2), "cpu_s": cpu_s(),
            "best_k": max(scores, key=scores.get), "peak_mb": round(peak_rss_mb())}


def run_cli(path: str) -> dict:
    """``python -m analytics run`` on the file, process start included."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "analytics", "run", path, "--out", out], cwd=ROOT,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"CLI failed on {path}:\n{done.stderr}")
    return {"wall_s": round(wall, 2)}


def in_process(kind: str, path: str) -> dict:
    """Run one engine or seed case in a fresh interpreter, wall time measured from before it starts."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--one", kind, "--path", path], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{kind} on {path} failed:\n{done.stderr[-3000:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["process_wall_s"] = round(wall, 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=["engine", "seed"])
    parser.add_argument("--path")
    parser.add_argument("--data", default=os.environ.get("RCT_BENCH_DIR", "/tmp/rct-bench"))
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--seed-10m", action="store_true")
    parser.add_argument("--rows-100m", action="store_true")
    args = parser.parse_args()
    if args.one:
        started = time.perf_counter()
        runner = run_engine if args.one == "engine" else run_seed
        print(json.dumps(runner(args.path, started)))
        return
    folder = Path(args.data)
    rows, stages = [], []
    for name in args.cases.split(","):
        case, n_rows, kind = CASES[name]
        if n_rows is None:
            if not ONLINE_RETAIL.exists():
                print(f"(Online Retail not found at {ONLINE_RETAIL}; skipped)")
                continue
            path = str(ONLINE_RETAIL)
        else:
            path = str(data_file(folder, n_rows, kind))
        row = {"case": case, **in_process("engine", path)}
        if n_rows is None:
            row["cli_wall_s"] = run_cli(path)["wall_s"]
        if n_rows is None or n_rows <= 1_000_000 and kind == "parquet" or args.seed_10m and kind == "parquet":
            seed = in_process("seed", path)
            row["seed_wall_s"] = seed["process_wall_s"]
            row["seed_cpu_s"] = seed["cpu_s"]
            row["seed_peak_mb"] = seed["peak_mb"]
            row["speedup_x"] = round(seed["process_wall_s"] / row["process_wall_s"], 1)
            row["cpu_speedup_x"] = round(seed["cpu_s"] / row["cpu_s"], 1)
        rows.append(row)
        stages.append(f"{case} stages (s): {row['stages_s']}")
        stages.append(f"{case} CPU per step (s): {row['stages_cpu_s']}")
        stages.append(f"{case} peak MB by the end of each step: {row['peak_mb_after']}")
        stages.append(f"{case} resident MB at most, from each progress message to the next: "
                      f"{row['resident_mb_max_by_stage']}")
        print(json.dumps(row), flush=True)
    if args.rows_100m:
        row = {"case": "100m_parquet", **in_process("engine", str(hundred_million(folder)))}
        rows.append(row)
        stages.append(f"100m_parquet stages (s): {row['stages_s']}")
        stages.append(f"100m_parquet CPU per step (s): {row['stages_cpu_s']}")
        stages.append(f"100m_parquet peak MB by the end of each step: {row['peak_mb_after']}")
        stages.append(f"100m_parquet resident MB at most, from each progress message to the next: "
                      f"{row['resident_mb_max_by_stage']}")
    print()
    report(rows, ["case", "customers", "process_wall_s", "cpu_s", "imports_s", "load_s", "peak_mb",
                  "cli_wall_s", "seed_wall_s", "seed_cpu_s", "seed_peak_mb", "speedup_x", "cpu_speedup_x"])
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()} on {os.cpu_count()} cores")
    print("\n".join(stages))
    print("targets: 10m <= 20 s and <= 2000 MB; 1m <= 4 s; online_retail CLI <= 2.5 s; "
          "speedup >= 3x (online_retail), >= 20x (1m)")


if __name__ == "__main__":
    main()
