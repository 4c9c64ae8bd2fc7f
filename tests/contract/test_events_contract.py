"""The contract's fulfilment-event, exceptions-inbox and contact-note methods, against every backend.

Written only against carecli.backend.contract.Backend. Scenario orders are the demo's named ones.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from carecli.backend.contract import (
    Backend, CommitRequest, Forbidden, PaymentDeclined, RuleViolations, VersionConflict,
)
from carecli.backend.ledger import ledger_problems
from carecli.demo import DEMO_NOW, SCENARIOS
from carecli.engine.commands import ChangeQuantity
from carecli.engine.events import parse_event
from carecli.engine.model import CreditMemo, Refund, order_stage
from carecli.engine.notifications import channels_for
from tests.contract.actors import recorded_actor

JACKET = SCENARIOS["chicago_jacket"]  # ON-100001, awaiting pick: 1 jacket, 1 beanie, e-mail only
SHORT = SCENARIOS["short_picked"]  # ON-100002
BACKORDERED = SCENARIOS["backordered"]  # ON-100003: line 1 backordered (expected 2026-12-09), line 2 allocated
READY = SCENARIOS["click_and_collect_ready"]  # ON-100007
CANCELLED = SCENARIOS["cancelled"]  # ON-100008
DECLINING = SCENARIOS["declining_card"]  # ON-100011
BOOKED = SCENARIOS["booked"]  # ON-100013: one line, not allocated
PACKED = SCENARIOS["packed"]  # ON-100015
DISPATCHED = SCENARIOS["dispatched"]  # ON-100016 (the demo has a failed delivery on it)
AT = DEMO_NOW + timedelta(minutes=1)



def event(kind: str, ref: str, eid: str | None = None, **fields):
    return parse_event({"kind": kind, "event_id": eid or f"T-{uuid.uuid4().hex[:12]}", "order_ref": ref,
                        "at": AT.isoformat(), **fields})


def snapshot(b: Backend, ref: str):
    v = b.get_order(ref)
    return v.order, v.account, b.get_timeline(ref)


def test_every_home_delivery_step_moves_the_order_and_tells_the_customer(backend):
    steps = [("allocated", {}), ("picking_started", {}), ("picked", {}), ("packed", {}),
             ("dispatched", {"carrier": "UPS", "tracking": "1Z4242"}), ("delivered", {})]
    stages = []
    v0 = backend.get_order(BOOKED).order.version
    for kind, fields in steps:
        r = backend.ingest_event(event(kind, BOOKED, **fields))
        assert r.status == "applied", (kind, r.reason)
        stages.append(r.stage)
    assert stages == ["AWAITING_PICK", "AWAITING_PICK", "PICKING", "PACKED", "DISPATCHED", "DELIVERED"]
    view = backend.get_order(BOOKED)
    assert view.stage == "DELIVERED" and order_stage(view.order).value == "DELIVERED"
    assert view.order.version == v0 + 5  # picking started moves no bucket: no new version
    titles = [e.title for e in backend.get_timeline(BOOKED)]
    assert "Your order ON-100013 is on its way" in titles and "Your order ON-100013 has been delivered" in titles
    assert "Picking started" in titles and "Dispatched" in titles
    assert backend.verify_audit() is None


def test_click_and_collect_is_collected_not_delivered(backend):
    r = backend.ingest_event(event("delivered", READY))
    assert r.status == "refused" and r.rule == "event.not_delivery"
    r = backend.ingest_event(event("collected", READY))
    assert r.status == "applied" and r.stage == "COLLECTED"


def test_short_pick_writes_one_credit_memo_one_refund_and_one_message_per_channel_even_twice(backend):
    before = backend.get_order(JACKET)
    e = event("short_picked", JACKET, "WMS-SP-1", line_id=1, units=1)
    first = backend.ingest_event(e)
    assert first.status == "applied"
    memos = [d for d in first.documents if isinstance(d, CreditMemo)]
    assert len(memos) == 1 and memos[0].type == "SHORT_PICK"
    assert [d for d in first.documents if isinstance(d, Refund)]
    assert len(first.notifications) == len(channels_for(before.customer)) == 1
    after = snapshot(backend, JACKET)
    again = backend.ingest_event(e)
    assert again.status == "duplicate" and again.version == first.version
    assert [d.id for d in again.documents] == [d.id for d in first.documents]
    assert snapshot(backend, JACKET) == after  # nothing changed
    order = backend.get_order(JACKET).order
    assert sum(isinstance(d, CreditMemo) and d.type == "SHORT_PICK" for d in order.documents) == 1
    assert ledger_problems(list(order.documents), order.currency) == []
    messages = [t for t in backend.get_timeline(JACKET) if t.kind == "notification"]
    assert [t.title for t in messages].count(f"Part of your order {JACKET} is not available") == 1


def test_the_same_event_id_with_other_content_is_refused_and_kept(backend):
    backend.ingest_event(event("allocated", BOOKED, "WMS-77"))
    snap = snapshot(backend, BOOKED)
    r = backend.ingest_event(event("picked", BOOKED, "WMS-77"))
    assert r.status == "refused" and r.rule == "event.id_reused"
    assert snapshot(backend, BOOKED) == snap
    assert any(x.event_id == "WMS-77" and x.rule == "event.id_reused" for x in backend.rejected_events())


def test_an_impossible_event_is_refused_with_a_reason_kept_and_nothing_changes(backend):
    snap = snapshot(backend, CANCELLED)
    e = event("delivered", CANCELLED, "WMS-DEL-9")
    r = backend.ingest_event(e)
    assert r.status == "refused" and r.rule == "event.order_cancelled" and "cancelled" in r.reason
    backend.ingest_event(e)  # sent again: still one row, two attempts
    assert snapshot(backend, CANCELLED) == snap
    rows = [x for x in backend.rejected_events() if x.event_id == "WMS-DEL-9"]
    assert len(rows) == 1 and rows[0].attempts == 2 and rows[0].order_ref == CANCELLED
    assert '"kind":"delivered"' in rows[0].payload


def test_an_event_for_an_unknown_order_is_refused_and_kept(backend):
    r = backend.ingest_event(event("picked", "ON-999999", "WMS-X"))
    assert r.status == "refused" and r.rule == "event.unknown_order" and "ON-999999" in r.reason
    assert any(x.event_id == "WMS-X" for x in backend.rejected_events())


def test_an_out_of_order_event_is_refused_then_taken_when_sent_again_after_its_predecessor(backend):
    packed = event("packed", BOOKED, "WMS-PACK")
    backend.ingest_event(event("allocated", BOOKED))
    r = backend.ingest_event(packed)
    assert r.status == "refused" and r.rule == "event.nothing_to_move"
    assert backend.ingest_event(event("picked", BOOKED)).status == "applied"
    r = backend.ingest_event(packed)
    assert r.status == "applied" and r.stage == "PACKED"
    assert not [x for x in backend.rejected_events() if x.event_id == "WMS-PACK"]
    resolved = [x for x in backend.rejected_events(include_resolved=True) if x.event_id == "WMS-PACK"]
    assert len(resolved) == 1 and resolved[0].resolved_at is not None


def test_an_event_while_an_agent_amends_makes_the_agents_commit_a_version_conflict(backend):
    v = backend.get_order(JACKET).order.version  # the agent opens an amend session here
    assert backend.ingest_event(event("picked", JACKET, lines=[{"line_id": 2, "quantity": 1}])).status == "applied"
    snap = snapshot(backend, JACKET)
    req = CommitRequest(order_ref=JACKET, expected_version=v, amendments=(ChangeQuantity(line_id=1, quantity=2),),
                        reason_code="CUSTOMER_REQUEST", idempotency_key="test-" + uuid.uuid4().hex, actor="agent.t")
    with pytest.raises(VersionConflict) as e:
        backend.commit(req)
    assert e.value.current_version == v + 1
    assert snapshot(backend, JACKET) == snap


def test_read_only_refuses_events_and_notes_but_reads_the_lists(backend_factory):
    sup = backend_factory(role="supervisor")
    with pytest.raises(Forbidden):
        sup.ingest_event(event("allocated", BOOKED))
    with pytest.raises(Forbidden):
        sup.add_contact_note(BOOKED, "called the customer", actor="sup")
    assert isinstance(sup.rejected_events(), list)
    assert sup.list_exceptions()
    assert backend_factory().get_order(BOOKED).order.version == 1


def test_the_inbox_lists_the_demos_exceptions_oldest_first_with_their_age(backend):
    items = backend.list_exceptions()
    kinds = {(i.order_ref, i.kind) for i in items}
    assert (SHORT, "short_pick") in kinds
    assert (DISPATCHED, "delivery_failed") in kinds
    assert (DECLINING, "payment_declined") in kinds
    assert [i.since for i in items] == sorted(i.since for i in items)
    assert all(i.age_seconds >= 0 and i.title and i.customer_name for i in items)


def test_a_failed_delivery_leaves_the_inbox_once_delivered(backend):
    assert backend.ingest_event(event("dispatched", PACKED, carrier="AusPost", tracking="AP1")).status == "applied"
    r = backend.ingest_event(event("delivery_failed", PACKED, reason="address not found"))
    assert r.status == "applied" and len(r.notifications) == 1
    assert (PACKED, "delivery_failed") in {(i.order_ref, i.kind) for i in backend.list_exceptions()}
    later = parse_event({"kind": "delivered", "event_id": "T-later", "order_ref": PACKED,
                         "at": (AT + timedelta(minutes=5)).isoformat()})
    assert backend.ingest_event(later).status == "applied"
    assert (PACKED, "delivery_failed") not in {(i.order_ref, i.kind) for i in backend.list_exceptions()}


def test_a_backorder_near_its_date_enters_the_inbox_and_leaves_when_allocated(backend):
    soon = (AT + timedelta(days=2)).date().isoformat()
    r = backend.ingest_event(event("backordered", JACKET, line_id=2, units=1, expected=soon))
    assert r.status == "applied"
    assert (JACKET, "backorder") in {(i.order_ref, i.kind) for i in backend.list_exceptions()}
    assert backend.ingest_event(event("allocated", JACKET, lines=[{"line_id": 2, "quantity": 1}])).status == "applied"
    assert (JACKET, "backorder") not in {(i.order_ref, i.kind) for i in backend.list_exceptions()}


def test_a_contact_note_is_on_the_timeline_audited_and_takes_the_order_out_of_the_inbox(backend):
    assert (SHORT, "short_pick") in {(i.order_ref, i.kind) for i in backend.list_exceptions()}
    v = backend.get_order(SHORT).order.version
    entry = backend.add_contact_note(SHORT, "Called Siobhán: happy with the refund.", actor="agent.t")
    assert entry.detail == "Called Siobhán: happy with the refund."
    timeline = backend.get_timeline(SHORT)
    assert any(t.kind == "audit" and f"Contact note by {recorded_actor(backend, 'agent.t')}" in t.title and "happy with" in t.detail
               for t in timeline)
    assert backend.get_order(SHORT).order.version == v
    assert backend.verify_audit() is None
    assert (SHORT, "short_pick") not in {(i.order_ref, i.kind) for i in backend.list_exceptions()}


@pytest.mark.parametrize("text, rule", [("   ", "note.empty"), ("x" * 2001, "note.too_long")])
def test_a_contact_note_must_say_something_and_fit(backend, text, rule):
    with pytest.raises(RuleViolations) as e:
        backend.add_contact_note(SHORT, text, actor="agent.t")
    assert e.value.violations[0].rule == rule


def test_a_declined_extra_charge_is_recorded_for_the_inbox_while_the_order_stays_as_it_was(backend):
    before = [i for i in backend.list_exceptions() if i.order_ref == DECLINING and i.kind == "payment_declined"]
    v = backend.get_order(DECLINING).order.version
    snap = snapshot(backend, DECLINING)
    req = CommitRequest(order_ref=DECLINING, expected_version=v, amendments=(ChangeQuantity(line_id=1, quantity=2),),
                        reason_code="CUSTOMER_REQUEST", idempotency_key="test-" + uuid.uuid4().hex, actor="agent.t")
    with pytest.raises(PaymentDeclined):
        backend.commit(req)
    assert snapshot(backend, DECLINING) == snap
    after = [i for i in backend.list_exceptions() if i.order_ref == DECLINING and i.kind == "payment_declined"]
    assert len(after) == len(before) + 1 and recorded_actor(backend, "agent.t") in after[-1].detail
