"""Commits that survive the network: a dropped answer, 5xx retries, no retry on 4xx, the journal."""

from __future__ import annotations

import uuid

import pytest

from carecli.backend.contract import (
    CommitRequest, Offline, RuleViolations, Unavailable, VersionConflict,
)
from carecli.backend.http import HttpBackend, Journal
from carecli.demo import SCENARIOS
from carecli.engine.commands import RemoveLine
from carecli.engine.model import CreditMemo

from .proxy import Proxy

BOOKED_SMS = SCENARIOS["backordered"]  # ON-100003: removing line 2 writes one credit memo


def commit_request(ref: str, version: int, line: int = 2) -> CommitRequest:
    return CommitRequest(order_ref=ref, expected_version=version, amendments=(RemoveLine(line_id=line),),
                         reason_code="CUSTOMER_REQUEST", note="network test",
                         idempotency_key="net-" + uuid.uuid4().hex, actor="agent.test")


def memos(backend, ref: str) -> list[CreditMemo]:
    return [d for d in backend.get_order(ref).order.documents if isinstance(d, CreditMemo)]


def client(url: str, token: str, journal: Journal | None = None, **kw) -> HttpBackend:
    return HttpBackend(url, token, journal=journal, backoff=0.01, **kw)


def test_dropped_answer_is_retried_with_the_same_key_and_applies_once(served, tmp_path):
    agent = served.client()
    before = agent.get_order(BOOKED_SMS)
    n_memos = len(memos(agent, BOOKED_SMS))
    proxy = Proxy(served.server.port, match=b"POST /orders/", drop_answers=1)
    journal = Journal(tmp_path / "journal.db")
    c = client(proxy.url, served.tokens["agent"], journal)
    req = commit_request(BOOKED_SMS, before.order.version)
    result = c.commit(req)
    assert proxy.dropped == 1
    posts = [line for line in proxy.seen if line.startswith(b"POST")]
    assert len(posts) == 2  # the first (answer dropped) and the retry
    assert result.replayed  # the server answered the retry from its idempotency record
    assert result.order.version == before.order.version + 1
    after = memos(agent, BOOKED_SMS)
    assert len(after) == n_memos + 1  # exactly one credit memo
    assert agent.get_order(BOOKED_SMS).order.version == before.order.version + 1
    entry = journal.get(req.idempotency_key)
    assert entry is not None and entry.state == "done" and entry.status == 200
    assert c.recover() == []  # nothing left to resend
    proxy.close()


def test_reads_retry_on_5xx_and_on_a_dropped_connection(served):
    proxy = Proxy(served.server.port, match=b"GET /orders/", fail_5xx=2)
    c = client(proxy.url, served.tokens["agent"])
    assert c.get_order(BOOKED_SMS).order.ref == BOOKED_SMS
    assert sum(b"GET /orders/" in line for line in proxy.seen) == 3
    proxy.drop_answers = 1
    assert c.get_order(BOOKED_SMS).order.ref == BOOKED_SMS
    assert proxy.dropped == 1
    proxy.close()


def test_5xx_retries_give_up_with_a_clear_error(served):
    proxy = Proxy(served.server.port, match=b"GET /reference", fail_5xx=10)
    c = client(proxy.url, served.tokens["agent"], retries=2)
    with pytest.raises(Unavailable) as e:
        c.reference()
    assert "try again" in e.value.message
    assert sum(b"GET /reference" in line for line in proxy.seen) == 3  # the first and 2 retries
    proxy.close()


def test_no_retry_on_4xx(served):
    proxy = Proxy(served.server.port)
    c = client(proxy.url, served.tokens["agent"])
    v = c.get_order(BOOKED_SMS)
    with pytest.raises(VersionConflict):
        c.commit(commit_request(BOOKED_SMS, v.order.version + 5))
    with pytest.raises(RuleViolations):
        c.commit(commit_request(BOOKED_SMS, v.order.version, line=99))
    assert sum(line.startswith(b"POST") for line in proxy.seen) == 2  # one each, never again
    proxy.close()


def test_dead_server_is_offline_and_the_commit_stays_pending(served, tmp_path):
    journal = Journal(tmp_path / "journal.db")
    agent = served.client()
    v = agent.get_order(BOOKED_SMS)
    url, token = served.url, served.tokens["agent"]
    served.stop()
    c = client(url, token, journal, retries=1, connect_timeout=0.5)
    assert not c.ping().online
    with pytest.raises(Offline) as e:
        c.get_order(BOOKED_SMS)
    assert "nothing was changed" in e.value.message
    req = commit_request(BOOKED_SMS, v.order.version)
    with pytest.raises(Offline) as e:
        c.commit(req)
    assert "same request id" in e.value.message
    assert [p.key for p in journal.pending(url)] == [req.idempotency_key]
    out = c.recover()
    assert [o.outcome for o in out] == ["pending"]
    assert journal.get(req.idempotency_key).state == "pending"


def test_journalled_commit_never_sent_is_sent_once_on_the_next_start(served, tmp_path):
    """The app was killed after writing the journal and before sending: the next start sends it once."""
    agent = served.client()
    v = agent.get_order(BOOKED_SMS)
    n_memos = len(memos(agent, BOOKED_SMS))
    req = commit_request(BOOKED_SMS, v.order.version)
    journal_path = tmp_path / "journal.db"
    journal = Journal(journal_path)
    journal.record(key=req.idempotency_key, server=served.url, order_ref=BOOKED_SMS, method="POST",
                   path=f"/orders/{BOOKED_SMS}/commits",
                   headers={"Content-Type": "application/json", "If-Match": f'"{v.order.version}"',
                            "Idempotency-Key": req.idempotency_key},
                   body=req.model_dump_json().encode())
    journal.close()  # the process that wrote it is gone
    restarted = client(served.url, served.tokens["agent"], Journal(journal_path))
    out = restarted.recover()
    assert len(out) == 1 and out[0].outcome == "applied" and out[0].new_version == v.order.version + 1
    assert "has now been applied" in out[0].message and BOOKED_SMS in out[0].message
    assert restarted.recover() == []  # once
    assert len(memos(agent, BOOKED_SMS)) == n_memos + 1
    assert agent.get_order(BOOKED_SMS).order.version == v.order.version + 1


def test_journalled_commit_already_applied_is_reported_not_applied_twice(served, tmp_path):
    agent = served.client()
    v = agent.get_order(BOOKED_SMS)
    req = commit_request(BOOKED_SMS, v.order.version)
    agent.commit(req)  # it went through; only the answer was lost
    journal = Journal(tmp_path / "journal.db")
    journal.record(key=req.idempotency_key, server=served.url, order_ref=BOOKED_SMS, method="POST",
                   path=f"/orders/{BOOKED_SMS}/commits",
                   headers={"Content-Type": "application/json", "If-Match": f'"{v.order.version}"',
                            "Idempotency-Key": req.idempotency_key},
                   body=req.model_dump_json().encode())
    out = client(served.url, served.tokens["agent"], journal).recover()
    assert [o.outcome for o in out] == ["applied"] and "was already applied" in out[0].message
    assert agent.get_order(BOOKED_SMS).order.version == v.order.version + 1


def test_journalled_commit_now_stale_is_reported_refused(served, tmp_path):
    agent = served.client()
    v = agent.get_order(BOOKED_SMS)
    agent.commit(commit_request(BOOKED_SMS, v.order.version))  # someone else's change meanwhile
    stale = commit_request(BOOKED_SMS, v.order.version, line=1)
    journal = Journal(tmp_path / "journal.db")
    journal.record(key=stale.idempotency_key, server=served.url, order_ref=BOOKED_SMS, method="POST",
                   path=f"/orders/{BOOKED_SMS}/commits",
                   headers={"Content-Type": "application/json", "If-Match": f'"{v.order.version}"',
                            "Idempotency-Key": stale.idempotency_key},
                   body=stale.model_dump_json().encode())
    out = client(served.url, served.tokens["agent"], journal).recover()
    assert [o.outcome for o in out] == ["refused"] and "was not applied" in out[0].message
    assert journal.get(stale.idempotency_key).state == "done"
    assert agent.get_order(BOOKED_SMS).order.version == v.order.version + 1


def test_journal_keeps_no_token(served, tmp_path):
    journal_path = tmp_path / "journal.db"
    c = client(served.url, served.tokens["agent"], Journal(journal_path))
    v = c.get_order(BOOKED_SMS)
    c.commit(commit_request(BOOKED_SMS, v.order.version))
    c.close()
    raw = journal_path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("journal.db-*"))
    assert served.tokens["agent"].encode() not in raw
    assert served.tokens["agent"] not in repr(c)
