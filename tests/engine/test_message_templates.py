"""Every customer message of an amendment, a placement and a return renders from its template: the
shipped ones leave no placeholder unfilled and no hole, an operator's template (passed in through the
context as data) replaces a part, and values in the HTML part are escaped."""

from __future__ import annotations

import re

import pytest

from carecli.engine.commands import AppeasementCredit, CancelOrder, ChangeQuantity
from carecli.engine.notifications import PLACEHOLDERS, MessageTemplate, default_templates
from carecli.engine.placing import place
from carecli.engine.plan import plan
from carecli.engine.returns import ReturnLineRequest, plan_create, plan_receive

from .factory import CUSTOMER, ctx, line, order, usd
from .test_returns import c, run_return, worked_order
from .test_rules_placing import draft, replacement

EVIL = CUSTOMER.model_copy(update={"name": "<i>Dana</i> & co"})


def _messages(**kw):
    """One message of each new kind, rendered with the context's templates (``kw`` into the context)."""
    o = order(line(1, "TEE", 2))
    out = {
        "ORDER_AMENDED": plan(o, [ChangeQuantity(line_id=1, quantity=1)], c(**kw)),
        "ORDER_CANCELLED": plan(o, [CancelOrder()], c(**kw)),
        "APPEASEMENT_GRANTED": plan(o, [AppeasementCredit(amount=usd("5.00"), reason_code="LATE_DELIVERY")],
                                    c(**kw)),
        "ORDER_PLACED": place(draft(("JKT-M", 1)), ctx(**kw)),
        "REPLACEMENT_PLACED": place(replacement(("JKT-M", 1), payment_method_id=None),
                                    ctx(reason_code="LOST_IN_TRANSIT", **kw), order(line(1, "JKT-M"))),
    }
    w = worked_order()
    created = plan_create(w, [ReturnLineRequest(line_id=1, quantity=1, reason_code="CHANGED_MIND",
                                                condition="unopened")], [], c(**kw), ro_id="RO-1", ordinal=1)
    out["RETURN_CREATED"] = created
    out["RETURN_RECEIVED"] = plan_receive(created.order_after, created.return_order, c(**kw))
    return {k: p.notifications for k, p in out.items()}


def test_the_shipped_templates_fill_every_placeholder_and_leave_no_hole():
    for kind, notes in _messages().items():
        assert notes, kind  # every one of these is allowed, and the customer has an e-mail address
        n = notes[0]
        assert n.kind == kind and n.channel == "email"
        for part in (n.subject, n.body, n.html):
            assert not re.search(r"\$[{A-Za-z_]", part), (kind, part)  # no placeholder left unfilled
        assert "\n\n\n" not in n.body and "<p></p>" not in n.html, kind
        assert n.body.startswith("Hello Dana,\n\n") and n.body.endswith("Thank you for shopping with us."), kind


def test_every_kind_has_a_template_and_its_placeholders_listed():
    shipped = default_templates()
    for kind in ("ORDER_AMENDED", "ORDER_CANCELLED", "APPEASEMENT_GRANTED", "ORDER_PLACED", "REPLACEMENT_PLACED",
                 "RETURN_CREATED", "RETURN_RECEIVED", "RETURN_REFUNDED", "EXCHANGE_SETTLED"):
        assert kind in shipped and kind in PLACEHOLDERS


def test_the_amendment_message_reads_as_before():
    (n,) = _messages()["ORDER_AMENDED"][:1]
    lines = n.body.split("\n")
    assert lines[2] == "We have made these changes to your order ON-100001:"
    assert lines[3].startswith("- ") and lines[4] == "" and lines[5].startswith("New order total: ")
    assert any(ln.startswith("We are refunding ") for ln in lines)


@pytest.mark.parametrize("kind", ["ORDER_AMENDED", "ORDER_CANCELLED", "APPEASEMENT_GRANTED", "ORDER_PLACED",
                                  "REPLACEMENT_PLACED", "RETURN_CREATED", "RETURN_RECEIVED"])
def test_an_operator_template_replaces_the_shipped_one_and_escapes_html_values(kind):
    own = default_templates()[kind].model_copy(update={
        "subject": f"[{kind}] $order_ref", "text": "Dear $name: $order_ref", "html": "<p>Dear $name</p>"})
    notes = _messages(templates={kind: own}, customer=EVIL)[kind]
    n = notes[0]
    assert n.subject == f"[{kind}] {n.order_ref}"
    assert n.body == f"Dear <i>Dana</i> & co: {n.order_ref}"  # plain text keeps the name as written
    assert n.html == "<p>Dear &lt;i&gt;Dana&lt;/i&gt; &amp; co</p>"  # HTML escapes it
    # the other kinds keep the shipped templates
    other = _messages(templates={kind: own})
    assert all(ns[0].subject != f"[{kind}] {ns[0].order_ref}" for k, ns in other.items() if k != kind)


def test_a_return_refund_renders_from_its_template():
    own = MessageTemplate(subject="Refund $refund_total for $rma", text="$items|$money_lines", html="<p>$money</p>",
                          sms="$rma $refund_total")
    _, done = run_return(worked_order(), 1)
    assert done.notifications[0].kind == "RETURN_REFUNDED"
    # the same return, rendered with the operator's template, through the context
    import carecli.engine.returns as returns

    ret = done.return_order
    notes = returns._notify(ret, "RETURN_REFUNDED", {"items": "- accepted: 1 × Tee", "refund_total": "USD 1.00",
                                                     "money_lines": "a\nb", "money": "a <b>"},
                            c(templates={"RETURN_REFUNDED": own}))
    assert notes[0].subject == f"Refund USD 1.00 for {ret.rma}"
    assert notes[0].body == "- accepted: 1 × Tee|a\nb" and notes[0].html == "<p>a &lt;b&gt;</p>"
