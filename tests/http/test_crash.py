"""The client process is killed (SIGKILL) after its commit is journalled and before any answer: the
next start sends it again, once, with the same key, and reports it applied.

The killed client talks to a port where nothing answers (a listener that never reads), so it is
certainly between "journalled" and "answered" when it dies; the real server then starts on that port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from carecli.backend.http import HttpBackend, Journal
from carecli.demo import SCENARIOS
from carecli.engine.model import CreditMemo
from carecli.server.app import create_app
from carecli.server.runner import ThreadedServer

from .serving import add_users

BOOKED_SMS = SCENARIOS["backordered"]

CLIENT = textwrap.dedent("""
    import sys
    from carecli.backend.contract import CommitRequest
    from carecli.backend.http import HttpBackend, Journal
    from carecli.engine.commands import RemoveLine

    url, token, journal, ref, version = sys.argv[1:6]
    b = HttpBackend(url, token, journal=Journal(journal), read_timeout=600, retries=0)
    b.commit(CommitRequest(order_ref=ref, expected_version=int(version), amendments=(RemoveLine(line_id=2),),
                           reason_code="CUSTOMER_REQUEST", idempotency_key="crash-test-0001", actor="x"))
    print("answered?!")
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_client_commit_is_sent_once_on_the_next_start(store_copy, clock, tmp_path):
    tokens = add_users(store_copy, clock)
    # the port where the client sends its commit: a listener that accepts and never answers
    hole = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hole.bind(("127.0.0.1", 0))
    hole.listen(8)
    port = hole.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    journal_path = tmp_path / "journal.db"
    with_src = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, url, tokens["agent"], str(journal_path), BOOKED_SMS,
                             "1"], env=with_src, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    conn = None
    try:
        hole.settimeout(60)
        conn, _ = hole.accept()  # the commit is on its way: the journal entry was written before this
        deadline = time.monotonic() + 30
        data = b""
        conn.settimeout(1)
        while b"Idempotency-Key" not in data and b"idempotency-key" not in data and time.monotonic() < deadline:
            try:
                data += conn.recv(65536)
            except socket.timeout:
                pass
        assert b"crash-test-0001" in data  # the request went out (and will never be answered)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        assert b"answered" not in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        if conn is not None:
            conn.close()
        hole.close()
    journal = Journal(journal_path)
    pending = journal.pending(url)
    assert [e.key for e in pending] == ["crash-test-0001"]  # on disk, despite SIGKILL
    # the next start: the real server on that port, the app's client recovers the journal
    with ThreadedServer(create_app(store_copy, clock=clock), port=port) as srv:
        assert srv.url == url
        b = HttpBackend(url, tokens["agent"], journal=journal, backoff=0.01)
        before = b.get_order(BOOKED_SMS)
        assert before.order.version == 1  # nothing reached the store before
        out = b.recover()
        assert [(o.outcome, o.new_version) for o in out] == [("applied", 2)]
        assert b.recover() == []
        after = b.get_order(BOOKED_SMS)
        assert after.order.version == 2
        assert sum(isinstance(d, CreditMemo) for d in after.order.documents) == \
            sum(isinstance(d, CreditMemo) for d in before.order.documents) + 1
        b.close()
