"""Commits per second on one store file: one process, and four processes at once.

Each commit is a real amendment through ``SqliteStore.commit`` (an address change on a home-delivery
order that can still be amended: plan, documents, audit record, outbox, idempotency row, one
``BEGIN IMMEDIATE`` … ``COMMIT`` with ``synchronous=FULL``). The floor, measured in the same run on a
copy of the same store: a bare SQLite transaction with the same settings (WAL, ``synchronous=FULL``,
``BEGIN IMMEDIATE``) that rewrites one order row of the same size — what any commit must cost at least.

    .venv/bin/python benchmarks/bench_commit.py [--orders 2000] [--commits 300] [--processes 4]

No target is named in an issue for commits per second; the ratio to the floor is the figure to watch.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from carecli.backend.contract import BackendError, CommitRequest  # noqa: E402
from carecli.backend.gateway import DemoGateway  # noqa: E402
from carecli.backend.sqlite import SqliteStore  # noqa: E402
from carecli.backend.sqlite.load import build_demo  # noqa: E402
from carecli.demo import DEMO_NOW  # noqa: E402
from carecli.engine.commands import ChangeAddress  # noqa: E402
from carecli.engine.model import Address  # noqa: E402


def _clock():
    return DEMO_NOW


def amendable(path: Path) -> list[str]:
    """Home-delivery orders with nothing packed or dispatched yet (an address change applies to them)."""
    con = sqlite3.connect(path)
    refs = []
    for ref, doc in con.execute("SELECT ref, json FROM orders WHERE stage IN ('BOOKED', 'AWAITING_PICK') ORDER BY id"):
        o = json.loads(doc)
        if o["fulfilment"].get("kind") == "HOME_DELIVERY" and not any(
                ln.get("packed") or ln.get("dispatched") for ln in o["lines"]):
            refs.append(ref)
    con.close()
    return refs


def commit_many(path: str, refs: list[str], n: int) -> tuple[int, int, float]:  # float-ok: seconds
    """``n`` address changes over ``refs`` in turn: (applied, refused, seconds)."""
    done = refused = 0
    with SqliteStore.open(path, role="agent", clock=_clock, gateway=DemoGateway()) as s:
        views = {}
        t0 = time.perf_counter()
        for i in range(n):
            ref = refs[i % len(refs)]
            o = views.get(ref) or s.get_order(ref).order
            addr = o.fulfilment.address  # type: ignore[union-attr]
            moved = Address(**{**addr.model_dump(), "line1": f"{100 + i} Bench Way"})
            try:
                r = s.commit(CommitRequest(order_ref=ref, expected_version=o.version,
                                           amendments=(ChangeAddress(address=moved),),
                                           reason_code="ADDRESS_CORRECTION", idempotency_key=f"bench-{uuid.uuid4().hex}",
                                           actor="bench"))
                views[ref] = r.order
                done += 1
            except BackendError as e:
                if os.environ.get("BENCH_DEBUG"):
                    print(ref, repr(e)[:200])
                views.pop(ref, None)
                refused += 1
        return done, refused, time.perf_counter() - t0


def bare_many(path: str, ids: list[int], n: int) -> tuple[int, int, float]:  # float-ok: seconds
    """The floor: ``n`` bare transactions, each rewriting one order row, with the store's settings."""
    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("PRAGMA busy_timeout = 30000")
    t0 = time.perf_counter()
    for i in range(n):
        oid = ids[i % len(ids)]
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE orders SET json = json || ' ', version = version + 1 WHERE id = ?", (oid,))
        con.execute("COMMIT")
    con.close()
    return n, 0, time.perf_counter() - t0


def _worker(kind: str, path: str, items: list, n: int, go, queue) -> None:
    go.wait(120)
    queue.put((commit_many if kind == "commit" else bare_many)(path, items, n))


def in_processes(kind: str, path: str, items: list, n: int, procs: int) -> tuple[int, int, float]:  # float-ok
    """``procs`` processes, each with its own share of ``items``, started together: (applied, refused, wall s)."""
    ctx = mp.get_context("spawn")
    go, queue = ctx.Event(), ctx.Queue()
    shares = [items[i::procs] for i in range(procs)]
    ps = [ctx.Process(target=_worker, args=(kind, path, shares[i], n, go, queue)) for i in range(procs)]
    for p in ps:
        p.start()
    time.sleep(2.0)  # every worker imported and waiting
    t0 = time.perf_counter()
    go.set()
    results = [queue.get(timeout=600) for _ in ps]
    wall = time.perf_counter() - t0
    for p in ps:
        p.join()
    return sum(r[0] for r in results), sum(r[1] for r in results), wall


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--commits", type=int, default=300, help="commits per process")
    ap.add_argument("--processes", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="carecli-bench-commit-"))
    try:
        template = tmp / "template.db"
        build_demo(template, orders=args.orders, seed=7)
        refs = amendable(template)
        con = sqlite3.connect(template)
        ids = [i for (i,) in con.execute("SELECT id FROM orders ORDER BY id LIMIT 500")]
        con.close()
        print(f"machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, "
              f"SQLite {sqlite3.sqlite_version}, store of {args.orders:,} orders ({len(refs)} amendable), "
              f"tmp on {tmp}")
        print(f"{'':28}{'commits/s':>10} {'ms/commit':>10} {'floor/s':>9} {'ratio':>6}   applied/refused")

        def fresh(name: str) -> str:
            p = tmp / name
            shutil.copy(template, p)
            return str(p)

        for label, procs in (("one process", 1), (f"{args.processes} processes, one file", args.processes)):
            if procs == 1:
                done, refused, secs = commit_many(fresh("one.db"), refs, args.commits)
                bdone, _, bsecs = bare_many(fresh("bare1.db"), ids, args.commits)
            else:
                done, refused, secs = in_processes("commit", fresh("many.db"), refs, args.commits, procs)
                bdone, _, bsecs = in_processes("bare", fresh("bareN.db"), ids, args.commits, procs)
            rate, floor = (done + refused) / secs, bdone / bsecs
            print(f"{label:<28}{rate:>10.0f} {1000 / rate:>10.2f} {floor:>9.0f} {floor / rate:>6.1f}   "
                  f"{done}/{refused}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
