"""Interactive callbacks at scale: explorer filters and ROI updates on the 10M-line log's results (~325k
customers), timed server-side.

Each request is what the browser posts to Dash's callback endpoint, sent through the Flask test client (server
work only: loading the results from the cache, computing, building figures and serialising the answer; no
network or rendering). Requests are built from the app's own callback map, so a callback that gains an
input still gets a well-formed request. The 10M-line results are computed once into ``--cache`` (under an
alias, so later runs reuse them; the first run takes minutes) from the log ``bench_scale.py`` generates.

Target (issue 12): every callback <= 300 ms server-side on this 2-core machine.

    .venv/bin/python benchmarks/bench_interactive.py [--rows 10000000] [--cache /tmp/rct-bench/cache-10m]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from _harness import report

EXPLORER_FILTERS = [
    {"segments": ["Champions"]},
    {"segments": ["At Risk", "Can't Lose Them"]},
    {"churn": [0.5, 1.0]},
    {"countries": ["France", "Germany"]},
    {},
]
ROI_LEVERS = {
    "name": "Winback", "segments": ["At Risk", "Lost"], "clusters": [], "countries": [], "churn": [0.2, 1],
    "clv_min": 5, "discount_pct": 20, "redemption_pct": 70, "redemption_sd_pp": 5, "uplift_source": "given",
    "uplift_pp": 4, "uplift_sd_pp": 1.5, "test_treated_pct": None, "test_treated_n": None,
    "test_control_pct": None, "test_control_n": None, "gross_margin_pct": 35, "contact_cost": 0.5,
    "fixed_cost": 200, "horizon_months": 6, "size_mode": "top", "top_n": 1000,
}
ROI_CHANGES = [{}, {"discount_pct": 10}, {"size_mode": "optimal"}, {"segments": ["Hibernating"]},
               {"size_mode": "all", "churn": [0, 1], "segments": []}]


def stored_key(cache_dir: Path, path: Path) -> str:
    """The results key of the log at ``path`` in ``cache_dir`` (computed and stored on the first run)."""
    from analytics import pipeline
    from analytics.loading import read_transactions
    from analytics.params import AnalysisParams
    from callbacks import common
    from settings import Settings

    cache = common.results_cache(Settings(cache_dir=cache_dir))
    source_id = f"bench:{path.name}"
    key = pipeline.cached_key(cache, source_id, AnalysisParams())
    if key is None:
        print(f"computing the results of {path} into {cache_dir} (once; minutes) ...", flush=True)
        key = pipeline.run_cached(lambda: read_transactions(path), AnalysisParams(), cache, source_id=source_id,
                                  source_name=path.name)
    return key


def request(app, output: str, values: dict[tuple[str, str], object], changed: str) -> dict:
    """The endpoint's JSON for the callback writing ``output`` ("id.property"), inputs and states taken from
    ``values`` by (id, property) (None when absent)."""
    name = next(k for k in app.callback_map if output in k.strip(".").split("..."))
    entry = app.callback_map[name]
    outputs = [dict(zip(("id", "property"), o.split("@")[0].rsplit(".", 1))) for o in name.strip(".").split("...")]

    def filled(items):
        return [{**item, "value": values.get((item["id"], item["property"]))} for item in items]

    return {"output": name, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": filled(entry["inputs"]), "state": filled(entry["state"]), "changedPropIds": [changed]}


def timings(client, payloads: list[dict], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        for payload in payloads:
            start = time.perf_counter()
            response = client.post("/_dash-update-component", json=payload)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{payload['output'][:80]} answered {response.status_code}: {response.data[:300]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", default=os.environ.get("RCT_BENCH_DIR", "/tmp/rct-bench"))
    parser.add_argument("--cache", default=None, help="results cache folder (default <data>/cache-<rows>)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = Path(args.data) / f"synthetic_{args.rows}.parquet"
    if not path.exists():
        raise SystemExit(f"{path} not found: run benchmarks/bench_scale.py first to generate it")
    cache_dir = Path(args.cache or Path(args.data) / f"cache-{args.rows}")
    key = stored_key(cache_dir, path)

    from dash.exceptions import PreventUpdate

    from app import create_app
    from callbacks import common
    from callbacks.roi.levers import LEVERS
    from components import ids
    from settings import Settings

    settings = Settings(cache_dir=cache_dir)
    try:
        customers = len(common.load_results(settings, key).customers)
    except PreventUpdate:
        raise SystemExit(f"the results in {cache_dir} cannot be read by this code (stored by an older version?): "
                         f"remove that folder and run again") from None
    app = create_app(settings)
    client = app.server.test_client()
    explorer = []
    for chosen in EXPLORER_FILTERS:
        values = {(ids.tab_key("explorer"), "data"): key, (ids.EXPLORER_COLOR_BY, "value"): "segment",
                  (ids.EXPLORER_SEGMENTS, "value"): chosen.get("segments"),
                  (ids.EXPLORER_COUNTRY, "value"): chosen.get("countries"),
                  (ids.EXPLORER_CHURN, "value"): chosen.get("churn", [0, 1])}
        explorer.append(request(app, f"{ids.EXPLORER_GRID}.rowData", values, f"{ids.EXPLORER_SEGMENTS}.value"))
    roi = []
    for change in ROI_CHANGES:
        levers = ROI_LEVERS | change
        values = {(ids.tab_key("roi"), "data"): key, **{(i, "value"): levers[k] for i, k in LEVERS}}
        roi.append(request(app, f"{ids.ROI_KPIS}.children", values, f"{ids.ROI_DISCOUNT}.value"))
    profiles = [request(app, f"{ids.EXPLORER_RADAR}.figure", {(ids.tab_key("explorer"), "data"): key},
                        f"{ids.tab_key('explorer')}.data")]
    tower = [request(app, f"{ids.TOWER_KPIS}.children", {(ids.tab_key("tower"), "data"): key},
                     f"{ids.tab_key('tower')}.data")]
    timings(client, explorer[:1] + roi[:1], 1)  # warm: first load of the results into the process
    rows = []
    for case, payloads in (("explorer filter", explorer), ("explorer profiles (tab opened)", profiles),
                           ("tower (tab opened)", tower),
                           ("ROI update", roi)):
        found = timings(client, payloads, args.repeats)
        rows.append({"case": case, "customers": customers, "median_ms": round(statistics.median(found)),
                     "max_ms": round(max(found)), "n": len(found)})
    report(rows, ["case", "customers", "median_ms", "max_ms", "n"])
    print(f"load average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} cores; target <= 300 ms each")


if __name__ == "__main__":
    main()
