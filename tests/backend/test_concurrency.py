"""Several processes on one store file; a process killed mid-stream; retries with the same key.

Sizes follow CARECLI_STRESS_SCALE (1.0 by default; CI sets it lower).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from carecli.backend.contract import CommitResult, Unavailable
from carecli.backend.ledger import ledger_problems
from carecli.backend.sqlite import SqliteStore
from carecli.engine.commands import AMENDMENTS, ChangeQuantity
from carecli.engine.model import CreditMemo
from tests.backend import business
from tests.backend.helpers import request
from tests.backend.workers import TARGETS
from tests.conftest import stress_scale

ROOT = Path(__file__).resolve().parents[2]


def _consistent(path: Path) -> int:
    """Assert that every commit in the store is whole; return how many there are."""
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    audits = raw.execute("SELECT seq, order_ref, version_before, version_after, financial_effect, "
                         "idempotency_key FROM audit ORDER BY seq").fetchall()
    keys = dict(raw.execute("SELECT key, response FROM idempotency").fetchall())
    assert len(keys) == len(audits)
    versions = dict(raw.execute("SELECT ref, version FROM orders").fetchall())
    per_order: dict[str, int] = {}
    for seq, ref, vb, va, effect, key in audits:
        per_order[ref] = per_order.get(ref, 0) + 1
        assert va == vb + 1 == 1 + per_order[ref]
        assert json.loads(keys[key])["audit_seq"] == seq
        for d in json.loads(effect)["documents"]:
            assert raw.execute("SELECT 1 FROM documents WHERE doc_id = ?", (d["id"],)).fetchone(), d
        assert raw.execute("SELECT count(*) FROM notifications WHERE event_id LIKE ?",
                           (f"{ref}/v{va}/%",)).fetchone()[0] >= 1
    for ref in TARGETS:
        assert versions[ref] == 1 + per_order.get(ref, 0)
    # every document a commit wrote belongs to a recorded commit
    written = {r[0] for r in raw.execute("SELECT doc_id FROM documents WHERE created_at >= ?",
                                         (business.NOW.isoformat(),))}
    recorded = {d["id"] for (_, _, _, _, e, _) in audits for d in json.loads(e)["documents"]}
    assert written <= recorded and (written or not audits)
    raw.close()
    with SqliteStore.open(path, role="supervisor") as s:
        assert s.verify_audit() is None
        for ref in TARGETS:
            v = s.get_order(ref)
            assert ledger_problems(list(v.order.documents), v.order.currency) == []
            a = s.get_account(v.account.id)
            assert a.balance.is_zero and not a.store_credit.is_negative
    return len(audits)


@pytest.mark.slow
def test_four_processes_commit_at_once_with_no_lost_update(store_path, tmp_path):
    replay_path = tmp_path / "replay.db"
    shutil.copy(store_path, replay_path)
    n = max(4, int(12 * stress_scale()))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    from tests.backend.workers import committer

    ready, go = ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=committer, args=(str(store_path), w, n, queue, ready, go)) for w in range(4)]
    for p in procs:
        p.start()
    for _ in procs:  # every process has opened the store: start them together
        assert ready.acquire(timeout=120)
    go.set()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [e for r in results for e in r[3]]
    assert errors == []  # no "database is locked", no Unavailable, nothing
    done = sum(r[1] for r in results)
    assert done == 4 * n
    assert sum(r[2] for r in results) > 0, "the processes never raced; the test proves nothing"
    assert _consistent(store_path) == done

    # The same commits, one by one, in the order the audit trail recorded them, give the same store.
    with SqliteStore.open(store_path, role="supervisor") as run, \
            SqliteStore.open(replay_path, clock=lambda: business.NOW) as replay:
        for rec in run.audit_records():
            r = replay.commit(request(rec.order_ref, rec.version_before,
                                      *AMENDMENTS.validate_python(rec.command), reason=rec.reason_code,
                                      key=rec.idempotency_key, actor=rec.actor, note=rec.note))
            assert r.order.version == rec.version_after
        for ref in TARGETS:
            assert replay.get_order(ref) == run.get_order(ref)
        assert [r.hash for r in replay.audit_records()] == [r.hash for r in run.audit_records()]


@pytest.mark.slow
def test_sigkill_in_a_stream_of_commits_leaves_whole_commits(store_path):
    rounds = max(2, int(5 * stress_scale()))
    rng = random.Random(3)
    total = 0
    for r in range(rounds):
        proc = subprocess.Popen([sys.executable, "-m", "tests.backend.workers", str(store_path), str(r)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        target = rng.randint(2, 8)
        seen = 0
        while seen < target:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            seen = int(line)
        # let it get into the next commits, then kill it wherever it is
        threading.Event().wait(rng.random() * 0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        n = _consistent(store_path)
        assert n >= total + seen
        total = n
    # the store still takes commits
    with SqliteStore.open(store_path, clock=lambda: business.NOW) as s:
        v = s.get_order(TARGETS[0]).order
        q = v.lines[0].quantity
        s.commit(request(TARGETS[0], v.version, ChangeQuantity(line_id=1, quantity=q + 1 if q < 9 else q - 1)))
    assert _consistent(store_path) == total + 1


def test_a_retried_commit_makes_exactly_one_credit_memo(store_path):
    req = request(business.DANA_REF, 1, ChangeQuantity(line_id=1, quantity=1))
    with SqliteStore.open(store_path, clock=lambda: business.NOW) as s:
        first = s.commit(req)
    # the answer was "lost": the client resends from a new process/session with the same key
    with SqliteStore.open(store_path, clock=lambda: business.NOW) as s:
        again = s.commit(req)
        again2 = s.commit(req)
        order = s.get_order(business.DANA_REF).order
    assert again.replayed and again2.replayed and not first.replayed
    assert [d for d in order.documents if isinstance(d, CreditMemo)] == \
        [d for d in first.documents if isinstance(d, CreditMemo)]
    assert len([d for d in order.documents if isinstance(d, CreditMemo)]) == 1
    assert order.version == 2


def test_the_same_key_sent_twice_at_once_applies_once(store_path):
    req = request(business.DANA_REF, 1, ChangeQuantity(line_id=1, quantity=1))
    stores = [SqliteStore.open(store_path, clock=lambda: business.NOW) for _ in range(4)]
    results: list[CommitResult] = []
    barrier = threading.Barrier(len(stores))

    def send(s: SqliteStore) -> None:
        barrier.wait()
        results.append(s.commit(req))

    threads = [threading.Thread(target=send, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.replayed for r in results) == [False, True, True, True]
    order = stores[0].get_order(business.DANA_REF).order
    assert order.version == 2
    assert sum(isinstance(d, CreditMemo) for d in order.documents) == 1
    for s in stores:
        s.close()


def test_a_full_disk_refuses_the_commit_and_writes_nothing(store):
    store._conn.execute("PRAGMA max_page_count = " +
                        str(store._conn.execute("PRAGMA page_count").fetchone()[0]))
    version = store.get_order(business.DANA_REF).order.version
    q = 2  # line 1 starts at 2: the commits go 1, 2, 1, ...
    with pytest.raises(Unavailable) as e:
        for _ in range(200):
            q = 3 - q
            r = store.commit(request(business.DANA_REF, version, ChangeQuantity(line_id=1, quantity=q),
                                     note="n" * 4000))
            version = r.order.version
    assert "full" in e.value.message
    assert store.get_order(business.DANA_REF).order.version == version
    assert store.audit_count() == version - 1
    assert store.verify_audit() is None
