"""The exceptions inbox on a large store: ``SqliteStore.list_exceptions()`` (every source, the handled
filter, the page of 200 ExceptionItems), next to a floor measured in the same run: the bare SQL that
reads the same page of the largest source (short picks) with ``sqlite3`` and nothing else.

Target: p95 ≤ 50 ms on a 100,000-order demo store.

    .venv/bin/python benchmarks/bench_inbox.py --store PATH [--repeat N]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from carecli.backend.sqlite import SqliteStore  # noqa: E402
from carecli.demo import DEMO_NOW  # noqa: E402

TARGET_P95_MS = 50.0
BARE = ("SELECT e.at, e.detail, e.json ->> '$.event.line_id', o.ref, o.stage, cu.name FROM events e "
        "JOIN orders o ON o.id = e.order_id JOIN customers cu ON cu.id = o.customer "
        "WHERE e.kind = 'short_picked' AND o.stage NOT IN ('DELIVERED', 'COLLECTED') ORDER BY e.at LIMIT 200")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="a large demo store (carecli demo --orders 100000 --store PATH)")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    store = SqliteStore.open(Path(args.store), read_only=True, clock=lambda: DEMO_NOW + timedelta(minutes=5))
    bare = sqlite3.connect(f"file:{args.store}?mode=ro", uri=True)
    store.reference()
    n_orders = bare.execute("SELECT count(*) FROM orders").fetchone()[0]
    items = store.list_exceptions()
    ts, tb = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine
        t = time.perf_counter()
        store.list_exceptions()
        ts.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        bare.execute(BARE).fetchall()
        tb.append((time.perf_counter() - t) * 1000)
    store.close()
    bare.close()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, store {n_orders:,} orders, "
          f"{len(items)} inbox items")
    print(f"list_exceptions  p50 {statistics.median(ts):7.2f} ms  p95 {pct(ts, 0.95):7.2f} ms")
    print(f"floor (bare SQL) p50 {statistics.median(tb):7.2f} ms  p95 {pct(tb, 0.95):7.2f} ms")
    ok = pct(ts, 0.95) <= TARGET_P95_MS
    print(f"target p95 <= {TARGET_P95_MS:g} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
