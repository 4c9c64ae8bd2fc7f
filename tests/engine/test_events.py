"""Fulfilment events (engine/events.py): every kind moves the buckets so the derived stage is right,
for home delivery and click & collect; a short pick settles as DOMAIN §5; messages come from templates.

Refusals (one per rule id) are in test_rules.py. Figures: TEE 100.00 USD, Chicago 10.25 %, STANDARD
shipping 7.95 free from 100.00 of merchandise.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecli.engine.events import EventContext, EventInputError, apply_event, parse_event
from carecli.engine.model import CreditMemo, Refund, Stage, StoreCredit, line_stage, order_stage
from carecli.engine.notifications import MessageTemplate, TemplateError, check_template, default_templates
from carecli.engine.settlement import ledger_problems

from .factory import ACCOUNT, CUSTOMER, LOCATIONS, NOW, POLICY, collect, line, order, usd

AT = NOW - timedelta(hours=1)


def ev(kind: str, n: int = 1, **fields):
    return parse_event({"kind": kind, "event_id": f"E-{kind}-{n}", "order_ref": "ON-100001", "at": AT.isoformat(),
                        **fields})


def ectx(**kw) -> EventContext:
    return EventContext(**{**dict(policy=POLICY, locations=LOCATIONS, customer=CUSTOMER, account=ACCOUNT,
                                  now=NOW), **kw})


def step(o, e, **kw):
    out = apply_event(o, e, ectx(**kw))
    assert out.refusal is None, out.refusal
    return out


def test_home_delivery_walks_every_stage_by_events():
    o = order(line(1, "TEE", 2), line(2, "HAT", 1))
    assert order_stage(o) == Stage.BOOKED
    o = step(o, ev("allocated")).order_after
    assert order_stage(o) == Stage.AWAITING_PICK and o.version == 2
    info = step(o, ev("picking_started"))
    assert info.order_after is None and info.audit is None and not info.notifications  # moves nothing
    o = step(o, ev("picked", lines=[{"line_id": 1, "quantity": 1}])).order_after
    # the order's stage is its least advanced line: the beanie is not picked yet
    assert line_stage(o.line(1)) == Stage.PICKING and order_stage(o) == Stage.AWAITING_PICK
    o = step(o, ev("picked", 2, lines=[{"line_id": 2, "quantity": 1}])).order_after
    assert order_stage(o) == Stage.PICKING
    o = step(o, ev("picked", 3)).order_after  # the rest
    assert [ln.picked for ln in o.lines] == [2, 1]
    o = step(o, ev("packed")).order_after
    assert order_stage(o) == Stage.PACKED
    out = step(o, ev("dispatched", carrier="UPS", tracking="1Z999"))
    o = out.order_after
    assert order_stage(o) == Stage.DISPATCHED
    assert [n.kind for n in out.notifications] == ["DISPATCHED"]
    assert "UPS" in out.notifications[0].body and "1Z999" in out.notifications[0].body
    assert "2 × Organic Tee" in out.notifications[0].body
    out = step(o, ev("delivered"))
    assert order_stage(out.order_after) == Stage.DELIVERED and out.order_after.version == 8
    assert all(ln.delivered_at == AT for ln in out.order_after.lines)
    assert out.audit.actor == "warehouse" and out.audit.role == "system"
    assert out.audit.version_before == 7 and out.audit.version_after == 8


def test_click_and_collect_walks_to_collected():
    o = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1), fulfilment=collect())
    o = step(o, ev("dispatched", carrier="Store van", tracking="V-1")).order_after
    assert order_stage(o) == Stage.DISPATCHED
    out = step(o, ev("ready_for_collection"))
    assert order_stage(out.order_after) == Stage.READY_FOR_COLLECTION
    assert "Chicago State St" in out.notifications[0].body
    out = step(out.order_after, ev("collected"))
    assert order_stage(out.order_after) == Stage.COLLECTED
    assert [n.kind for n in out.notifications] == ["COLLECTED"]


def test_a_short_pick_cancels_the_units_and_refunds_them_with_one_short_pick_memo():
    o = order(line(1, "TEE", 2, allocated=2), line(2, "HAT", 1, allocated=1))
    out = step(o, ev("short_picked", line_id=1, units=1))
    ln = out.order_after.line(1)
    assert (ln.quantity, ln.cancelled, ln.short_picked, ln.allocated) == (1, 1, 1, 1)
    memos = [d for d in out.documents if isinstance(d, CreditMemo)]
    assert len(memos) == 1 and memos[0].type == "SHORT_PICK" and memos[0].reason_code == "SHORT_PICK"
    # 100.00 + 10.25 tax back; shipping stays free (149.00 of merchandise left)
    assert memos[0].total == usd("110.25")
    assert [r.amount for r in out.documents if isinstance(r, Refund)] == [usd("110.25")]
    assert ledger_problems(out.order_after.documents, "USD") == []
    assert len(out.notifications) == 1 and out.notifications[0].kind == "SHORT_PICKED"
    assert "USD 110.25" in out.notifications[0].body and "could not find 1 of Organic Tee" in out.notifications[0].body
    assert out.audit.financial_effect["documents"][0]["type"] == "SHORT_PICK"


def test_a_short_pick_of_the_whole_order_cancels_it():
    o = order(line(1, "TEE", 1, allocated=1))
    out = step(o, ev("short_picked", line_id=1, units=1))
    assert order_stage(out.order_after) == Stage.CANCELLED
    memo = [d for d in out.documents if isinstance(d, CreditMemo)]
    assert [m.type for m in memo] == ["SHORT_PICK"] and memo[0].total == usd("110.25")
    assert "now cancelled" in out.notifications[0].body


def test_keep_open_policy_keeps_the_short_units_and_moves_no_money():
    keep = POLICY.model_copy(update={"fulfilment": POLICY.fulfilment.model_copy(update={"short_pick": "keep_open"})})
    o = order(line(1, "TEE", 2, allocated=2))
    out = step(o, ev("short_picked", line_id=1, units=1), policy=keep)
    ln = out.order_after.line(1)
    assert (ln.quantity, ln.short_picked, ln.allocated, ln.cancelled) == (2, 1, 1, 0)
    assert out.documents == () and "back in stock" in out.notifications[0].body
    # the second short unit fits too, a third does not
    out2 = step(out.order_after, ev("short_picked", 2, line_id=1, units=1), policy=keep)
    refused = apply_event(out2.order_after, ev("short_picked", 3, line_id=1, units=1), ectx(policy=keep))
    assert refused.refusal.rule == "event.short_pick_exceeds"


def test_store_credit_first_routes_a_short_pick_to_store_credit():
    sc = POLICY.model_copy(update={"refunds": POLICY.refunds.model_copy(update={"route": "store_credit_first"})})
    out = step(order(line(1, "TEE", 2, allocated=2)), ev("short_picked", line_id=1, units=1), policy=sc)
    assert [d.amount for d in out.documents if isinstance(d, StoreCredit)] == [usd("110.25")]
    assert out.store_credit_issued == usd("110.25")


def test_a_backorder_keeps_the_line_open_and_an_allocation_clears_it():
    o = order(line(1, "BACK", 2, allocated=2))
    out = step(o, ev("backordered", line_id=1, units=2, expected="2026-12-10"))
    ln = out.order_after.line(1)
    assert (ln.quantity, ln.backordered, ln.allocated, str(ln.backorder_expected)) == (2, 2, 0, "2026-12-10")
    assert order_stage(out.order_after) == Stage.BOOKED and out.documents == ()
    assert "10 December 2026" in out.notifications[0].body
    o2 = step(out.order_after, ev("allocated", lines=[{"line_id": 1, "quantity": 1}])).order_after
    assert (o2.line(1).backordered, o2.line(1).allocated) == (1, 1) and o2.line(1).backorder_expected is not None
    o3 = step(o2, ev("allocated", 2)).order_after
    assert (o3.line(1).backordered, o3.line(1).backorder_expected) == (0, None)
    assert order_stage(o3) == Stage.AWAITING_PICK


def test_templates_escape_untrusted_values_in_html_and_leave_text_as_is():
    evil = CUSTOMER.model_copy(update={"name": "<script>alert(1)</script> Smith"})
    o = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1, dispatched=1))
    out = step(o, ev("delivery_failed", reason="<b>dog</b> & gate"), customer=evil)
    n = out.notifications[0]
    assert "&lt;b&gt;dog&lt;/b&gt; &amp; gate" in n.html and "<b>dog</b>" not in n.html
    assert "&lt;script&gt;" in n.html and "<script>" not in n.html
    assert "<b>dog</b> & gate" in n.body


def test_an_operators_template_replaces_the_shipped_one():
    mine = default_templates()["DELIVERED"].model_copy(update={"subject": "Delivered! ($order_ref)"})
    o = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1, dispatched=1))
    out = step(o, ev("delivered"), templates={"DELIVERED": mine})
    assert out.notifications[0].subject == "Delivered! (ON-100001)"


def test_a_template_with_an_unknown_placeholder_is_refused_naming_it():
    bad = MessageTemplate(subject="$tracking_number", text="", html="", sms="")
    with pytest.raises(TemplateError, match=r"subject of DELIVERED uses unknown placeholder\(s\) \$tracking_number"):
        check_template("DELIVERED", bad, "mine.subject")


def test_sms_goes_where_the_customer_agreed():
    both = CUSTOMER.model_copy(update={"preferences": CUSTOMER.preferences.model_copy(update={"sms": True})})
    o = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1))
    out = step(o, ev("dispatched", carrier="UPS", tracking="1Z"), customer=both)
    assert sorted(n.channel for n in out.notifications) == ["email", "sms"]
    sms = next(n for n in out.notifications if n.channel == "sms")
    assert sms.html == "" and len(sms.body) <= 320 and "1Z" in sms.body


@pytest.mark.parametrize("data, where", [
    ({"kind": "teleported"}, "kind 'teleported' is not an event kind"),
    ({"kind": "short-picked", "event_id": "E", "order_ref": "ON-1", "at": "2026-11-27T10:00:00Z", "line_id": 1},
     "units"),
    ({"kind": "picked", "event_id": "E", "order_ref": "ON-1", "at": "2026-11-27T10:00:00"}, "at: "),
    ({"kind": "dispatched", "event_id": "E", "order_ref": "ON-1", "at": "2026-11-27T10:00:00Z", "carrier": "UPS"},
     "tracking"),
    ("{not json", "not valid JSON"),
])
def test_malformed_events_name_the_field(data, where):
    with pytest.raises(EventInputError) as e:
        parse_event(data)
    assert where in str(e.value)


def test_an_amendment_message_has_an_html_part_with_the_same_words_escaped():
    from carecli.engine.commands import ChangeQuantity
    from carecli.engine.plan import plan

    from .factory import ctx

    evil = CUSTOMER.model_copy(update={"name": "<b>Dana</b> Whitfield"})
    p = plan(order(line(1, "TEE", 2)), [ChangeQuantity(line_id=1, quantity=1)], ctx(customer=evil))
    n = p.notifications[0]
    assert n.html.startswith("<!DOCTYPE html>") and "We have made these changes to your order ON-100001:" in n.html
    assert "Hello <b>Dana</b>," in n.body
    assert "Hello &lt;b&gt;Dana&lt;/b&gt;," in n.html and "<b>" not in n.html


def test_a_short_pick_on_a_partly_backordered_line_trims_the_backorder_to_what_is_left():
    # 3 live: 1 allocated, 2 backordered; 2 are short → 1 left, allocated, nothing backordered
    o = order(line(1, "TEE", 3, allocated=1, backordered=2, backorder_expected=AT.date()))
    ln = step(o, ev("short_picked", line_id=1, units=2)).order_after.line(1)
    assert (ln.quantity, ln.allocated, ln.backordered, ln.backorder_expected) == (1, 1, 0, None)
