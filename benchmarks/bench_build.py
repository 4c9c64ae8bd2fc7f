"""Demo store build: wall time, CPU and size for 10,000 and 100,000 orders (1,000,000 on request).

Each size is built into a temporary directory with ``build_demo`` (as ``carecli demo`` does: worker
processes from 50,000 orders up) and deleted afterwards. Printed next to a floor measured in the same
run: writing the same order and document rows (their JSON, already made) into a fresh SQLite file in
one transaction, with the same page size and no indexes — what any build must cost at least for its
bytes, before generating a single order.

    .venv/bin/python benchmarks/bench_build.py [--sizes 10000,100000]

Issue 3's target is 1,000,000 orders in ≤ 3 minutes; see docs/BENCHMARKS.md for the 1M figures
(``--sizes 1000000`` builds it, ≈ 3.2 GB and several minutes).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from carecli.backend.sqlite.load import build_demo  # noqa: E402


def cpu() -> float:  # float-ok: seconds of CPU, this process and its finished children
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def floor(src: Path, dst: Path) -> float:  # float-ok: seconds
    """Copy the built store's order and document rows into a bare table of a fresh file."""
    t0 = time.perf_counter()
    con = sqlite3.connect(dst, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, json TEXT NOT NULL)")
    con.execute(f"ATTACH DATABASE '{src}' AS src")
    con.execute("BEGIN")
    con.execute("INSERT INTO rows (json) SELECT json FROM src.orders")
    con.execute("INSERT INTO rows (json) SELECT json FROM src.documents")
    con.execute("COMMIT")
    con.execute("DETACH DATABASE src")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'orders':>10} {'wall':>9} {'CPU':>9} {'size':>10} {'bytes/order':>12} {'orders/s':>9} "
          f"{'floor (rows copied)':>20}")
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="carecli-bench-build-"))
        try:
            path = tmp / "demo.db"
            c0, t0 = cpu(), time.perf_counter()
            stats = build_demo(path, orders=n, seed=args.seed)
            wall, used = time.perf_counter() - t0, cpu() - c0
            size = path.stat().st_size
            f = floor(path, tmp / "floor.db")
            print(f"{n:>10,} {wall:>8.1f}s {used:>8.1f}s {size / 1e6:>8.1f}MB {size / n:>12,.0f} "
                  f"{n / wall:>9,.0f} {f:>19.1f}s   ({stats.documents:,} documents)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
