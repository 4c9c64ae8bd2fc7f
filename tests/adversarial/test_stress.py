"""Stress: many HTTP clients on one server, and ``kill -9`` of the server process while clients commit.

(Many *processes* on one store file, and SIGKILL of a committing process, are in
tests/backend/test_concurrency.py; they are not repeated here.)

Afterwards, every time: ``PRAGMA integrity_check`` is ok, the audit chain verifies, every order's ledger
balances (DOMAIN §5), each acknowledged commit is in the audit trail exactly once, no idempotency key is
applied twice, and no update is lost (an order's version moved by exactly the commits applied to it).
Sizes follow ``CARECLI_STRESS_SCALE`` (CI: 0.2).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from carecli.backend.contract import BackendError, CommitRequest, VersionConflict
from carecli.backend.http import HttpBackend
from carecli.backend.ledger import ledger_problems
from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.load import build_demo
from carecli.engine.commands import ChangeAddress
from carecli.engine.model import Address
from tests.conftest import stress_scale
from tests.http.serving import add_users, serve_store

pytestmark = pytest.mark.slow
SCALE = stress_scale()


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stress") / "demo.db"
    build_demo(path, orders=120, seed=7, parallel=False)
    return path


def amendable(path: Path, n: int) -> list[str]:
    """``n`` home-delivery orders with nothing packed yet (an address change applies to them)."""
    con = sqlite3.connect(path)
    refs = []
    for ref, doc in con.execute("SELECT ref, json FROM orders WHERE stage IN ('BOOKED', 'AWAITING_PICK') ORDER BY id"):
        o = json.loads(doc)
        if o["fulfilment"].get("kind") == "HOME_DELIVERY" and not any(
                ln.get("packed") or ln.get("dispatched") for ln in o["lines"]):
            refs.append(ref)
    con.close()
    assert len(refs) >= n, refs
    return refs[:n]


def move(backend, ref: str, key: str, tag: str) -> int:
    """Read, change the address, commit; a version conflict is re-read and retried (as a client does).
    Returns the new version once acknowledged."""
    while True:
        o = backend.get_order(ref).order
        addr = o.fulfilment.address
        moved = Address(**{**addr.model_dump(), "line1": f"{tag} Stress St"})
        try:
            return backend.commit(CommitRequest(order_ref=ref, expected_version=o.version,
                                                amendments=(ChangeAddress(address=moved),),
                                                reason_code="ADDRESS_CORRECTION", idempotency_key=key,
                                                actor="stress")).order.version
        except VersionConflict:
            continue


def check_store(path: Path, refs: list[str], start: dict[str, int], acked: list[tuple[str, str]]) -> None:
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    keys = Counter(k for (k,) in con.execute("SELECT idempotency_key FROM audit WHERE actor != ''"))
    applied = Counter(r for (r, k) in con.execute("SELECT order_ref, idempotency_key FROM audit")
                      if k.startswith("stress-"))
    con.close()
    for ref, key in acked:
        assert keys[key] == 1, f"acknowledged commit {key} on {ref} is in the audit trail {keys[key]} times"
    twice = [k for k, n in keys.items() if k.startswith("stress-") and n > 1]
    assert not twice, f"applied twice: {twice}"
    with SqliteStore.open(path, role="supervisor") as s:
        assert s.verify_audit() is None, s.verify_audit()
        for ref in refs:
            o = s.get_order(ref).order
            assert not ledger_problems(o.documents, o.currency), (ref, ledger_problems(o.documents, o.currency))
            assert o.version == start[ref] + applied[ref], \
                f"{ref}: version {o.version}, but {start[ref]} + {applied[ref]} commits applied (a lost update?)"


def test_many_http_clients_on_one_server(small_demo, tmp_path):
    path = tmp_path / "store.db"
    shutil.copy(small_demo, path)
    clients, per_client = max(6, int(30 * SCALE)), max(4, int(12 * SCALE))
    refs = amendable(path, 4)  # few orders, many clients: they conflict and retry
    served = serve_store(path)
    start = {}
    acked: list[tuple[str, str]] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        probe = served.client()
        start = {ref: probe.get_order(ref).order.version for ref in refs}

        def client(i: int) -> None:
            b = served.client()
            rng = random.Random(i)
            for n in range(per_client):
                ref, key = rng.choice(refs), f"stress-http-{i}-{n}"
                try:
                    move(b, ref, key, f"{i}.{n}")
                    with lock:
                        acked.append((ref, key))
                except BackendError as e:
                    with lock:
                        errors.append(f"{key}: {type(e).__name__}: {e.message}")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    finally:
        served.stop()
    assert not errors, errors[:5]
    assert len(acked) == clients * per_client
    check_store(path, refs, start, acked)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(path: Path, port: int) -> subprocess.Popen:
    carecli = Path(sys.executable).parent / "carecli"
    proc = subprocess.Popen([str(carecli), "serve", "--store", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"carecli serve exited: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    raise AssertionError("carecli serve did not answer /health in 60 s")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_9_of_the_server_while_clients_commit(small_demo, tmp_path):
    path = tmp_path / "store.db"
    shutil.copy(small_demo, path)
    tokens = add_users(path)
    refs = amendable(path, 6)
    with SqliteStore.open(path, role="supervisor") as s:
        start = {ref: s.get_order(ref).order.version for ref in refs}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    kills, clients = max(2, int(6 * SCALE)), max(4, int(10 * SCALE))
    rng = random.Random(20261127)
    acked: list[tuple[str, str]] = []
    sent: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(i: int) -> None:
        b = HttpBackend(url, tokens["agent"], retries=0, backoff=0.01, connect_timeout=1, read_timeout=10)
        n = 0
        while not stop.is_set():
            ref, key = refs[(i + n) % len(refs)], f"stress-kill-{i}-{n}-{uuid.uuid4().hex[:6]}"
            n += 1
            with lock:
                sent.append(key)
            try:
                move(b, ref, key, f"{i}.{n}")
                with lock:
                    acked.append((ref, key))
            except (BackendError, httpx.HTTPError):
                time.sleep(0.02)  # the server is down (or died mid-answer): this commit may or may not be in

    proc = _serve(path, port)
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    try:
        for t in threads:
            t.start()
        for _ in range(kills):
            target = len(acked) + rng.randint(3, 15)
            deadline = time.monotonic() + 120
            while len(acked) < target and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.random() * 0.05)  # somewhere inside a commit, or between two
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            proc = _serve(path, port)
        target = len(acked) + 5
        deadline = time.monotonic() + 60
        while len(acked) < target and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert len(acked) >= kills * 3, f"only {len(acked)} commits acknowledged over {kills} kills"
    check_store(path, refs, start, acked)
