"""Run every benchmark in turn (``make bench``); each prints its own figures next to its floor.

    .venv/bin/python benchmarks/run_all.py [--store PATH]

``--store`` (a large demo store, e.g. 1M orders) is passed to the search and terminal benchmarks; without
it they are skipped (the search benchmark would build a 1M-order store first, which takes minutes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="a large demo store for bench_search.py, bench_inbox.py and bench_tui.py")
    args = ap.parse_args()
    runs: list[list[str]] = [["bench_plan.py"], ["bench_results_page.py"], ["bench_commit.py"], ["bench_http.py"],
                             ["bench_build.py"]]
    if args.store:
        runs += [["bench_search.py", "--store", args.store], ["bench_inbox.py", "--store", args.store],
                 ["bench_tui.py", "--store", args.store]]
    else:
        print("(bench_search.py, bench_inbox.py and bench_tui.py skipped: give --store PATH of a large demo "
              "store)")
    failed = 0
    for run in runs:
        print(f"\n== {run[0]} ==", flush=True)
        failed += subprocess.call([sys.executable, str(HERE / run[0]), *run[1:]]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
