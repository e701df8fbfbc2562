"""Load + clean + features: Online Retail (542k rows) and a 1M-row synthetic log.

Targets (issue 2, this 2-core machine): Online Retail under 3 s, 1M rows under 6 s, peak memory under 1.5 GB.
Each case runs in its own process so its peak memory is its own. The synthetic log is generated and
written to a CSV first (not timed), so both cases are timed from a file on disk, as a user's upload would be.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _harness import ONLINE_RETAIL, in_subprocess, peak_rss_mb, report, timed

SYNTHETIC_ROWS = 1_000_000


def run_case(path: Path) -> dict:
    from analytics.cleaning import clean
    from analytics.features import customer_features
    from analytics.loading import read_transactions

    load_s, frame = timed(lambda: read_transactions(path))
    clean_s, cleaned = timed(lambda: clean(frame))
    features_s, table = timed(lambda: customer_features(cleaned.lines, cleaned.as_of))
    return {
        "rows": len(frame),
        "customers": len(table),
        "load_s": round(load_s, 2),
        "clean_s": round(clean_s, 2),
        "features_s": round(features_s, 2),
        "total_s": round(load_s + clean_s + features_s, 2),
        "peak_mb": round(peak_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.case:
        print(json.dumps({"case": args.case, **run_case(Path(args.path))}))
        return
    rows = []
    if ONLINE_RETAIL.exists():
        rows.append(in_subprocess(Path(__file__), "online_retail", "--path", str(ONLINE_RETAIL)))
    else:
        print(f"(Online Retail not found at {ONLINE_RETAIL}; skipped)")
    from analytics.synthetic import generate_retail

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic_1m.csv"
        generate_retail(n_rows=SYNTHETIC_ROWS, seed=1).to_csv(path, index=False)
        rows.append(in_subprocess(Path(__file__), "synthetic_1m", "--path", str(path)))
    report(rows, ["case", "rows", "customers", "load_s", "clean_s", "features_s", "total_s", "peak_mb"])
    print("targets: online_retail total < 3 s, synthetic_1m total < 6 s, peak < 1500 MB")


if __name__ == "__main__":
    main()
