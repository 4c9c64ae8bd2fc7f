"""The contract for placing orders and creating customers, against every backend in conftest.

Written only against :class:`carecli.backend.contract.Backend`. Scenario orders are the demo's named
ones: ON-100001 Dana Whitfield (Chicago, card 4242), ON-100008 cancelled, ON-100010 in AUD, ON-100011 a
customer whose card ends 0002 (declined by the demo gateway).
"""

from __future__ import annotations

import uuid

import pytest

from carecli.backend.contract import (
    Backend, DuplicateCustomer, Forbidden, IdempotencyMismatch, NewCard, NewCustomerRequest, NotFound,
    PaymentDeclined, PlaceOrderRequest, PlaceOrderResult, RuleViolations, error_from_json,
)
from carecli.backend.ledger import ledger_problems
from carecli.demo import SCENARIOS
from carecli.engine.model import Address, ClickAndCollect, HomeDelivery, Payment, Stage, order_stage
from carecli.engine.placing import NewLine, NewOrder, OrderLink

JACKET = SCENARIOS["chicago_jacket"]
CANCELLED = SCENARIOS["cancelled"]
DECLINING = SCENARIOS["declining_card"]
AU = SCENARIOS["au_inclusive"]


def key() -> str:
    return "test-" + uuid.uuid4().hex


def draft_like(b: Backend, ref: str, **kw) -> NewOrder:
    """A draft for the customer of ``ref``: one unit of its first sku, to its address (or store)."""
    v = b.get_order(ref)
    o = v.order
    live = next(ln for ln in o.lines)
    base = dict(customer_id=v.customer.id, billing_account_id=v.account.id, market=o.market,
                lines=(NewLine(sku=live.sku, quantity=1),), fulfilment=o.fulfilment,
                payment_method_id=v.account.payment_methods[0].id)
    base.update(kw)
    return NewOrder(**base)


def place(b: Backend, draft: NewOrder, k: str | None = None, **kw) -> PlaceOrderResult:
    return b.place_order(PlaceOrderRequest(draft=draft, idempotency_key=k or key(), actor="agent.test", **kw))


def test_a_phone_order_is_booked_invoiced_captured_and_confirmed(backend):
    r = place(backend, draft_like(backend, JACKET))
    v = backend.get_order(r.order.ref)
    assert v.order.version == 1 and v.stage == Stage.BOOKED.value == order_stage(v.order).value
    assert v.order.channel == "phone" and v.order.ref.startswith("ON-") and v.order.ref != JACKET
    kinds = [(d.doc, getattr(d, "type", None)) for d in v.order.documents]
    assert kinds == [("INVOICE", "ORDER"), ("PAYMENT", None)]
    assert v.order.documents[0].total == r.total == v.order.documents[1].amount and r.total.is_positive
    assert ledger_problems(v.order.documents, v.order.currency) == []
    assert r.notifications and all(n.kind == "ORDER_PLACED" for n in r.notifications)
    assert any(e.kind == "notification" for e in backend.get_timeline(r.order.ref))
    assert backend.search_orders(r.order.ref).items[0].ref == r.order.ref
    assert backend.verify_audit() is None
    acct = backend.get_account(v.account.id)
    assert r.order.ref in {s.ref for s in acct.orders}
    assert ledger_problems([e.document for e in acct.ledger], acct.account.currency) == []


def test_the_same_key_places_once(backend_factory):
    b = backend_factory()
    k = key()
    d = draft_like(b, JACKET)
    first, again = place(b, d, k), place(b, d, k)
    assert again.replayed and again.order.ref == first.order.ref
    assert b.search_orders(first.order.ref).items[0].ref == first.order.ref
    captures = [x for x in backend_factory.gateway.captures if x.startswith(k)]
    assert len(captures) == 1
    with pytest.raises(IdempotencyMismatch):
        place(b, d.model_copy(update={"channel": "email"}), k)


def test_a_declined_card_places_nothing(backend):
    d = draft_like(backend, DECLINING)
    assert backend.get_order(DECLINING).account.payment_methods[0].last4 == "0002"
    before = {s.ref for s in backend.get_account(d.billing_account_id).orders}
    with pytest.raises(PaymentDeclined):
        place(backend, d)
    assert {s.ref for s in backend.get_account(d.billing_account_id).orders} == before


def test_refusals_name_what_was_wrong(backend):
    d = draft_like(backend, JACKET, lines=(NewLine(sku="NO-SUCH-SKU", quantity=1),))
    with pytest.raises(RuleViolations) as e:
        place(backend, d)
    assert e.value.violations[0].rule == "sku.unknown" and "NO-SUCH-SKU" in e.value.message
    with pytest.raises(RuleViolations) as e:
        place(backend, draft_like(backend, JACKET, market="AU"))
    assert "payment.currency" in {v.rule for v in e.value.violations}
    with pytest.raises(NotFound):
        place(backend, draft_like(backend, JACKET, customer_id="CUS-999999"))
    back = error_from_json(e.value.to_json())
    assert isinstance(back, RuleViolations) and back.violations == e.value.violations


def test_a_replacement_is_free_and_linked_both_ways(backend):
    with pytest.raises(RuleViolations):
        place(backend, draft_like(backend, JACKET, no_charge=True, link=OrderLink(kind="replacement",
                                                                                  order_ref=JACKET)))
    r = place(backend, draft_like(backend, JACKET, no_charge=True, payment_method_id=None,
                                  link=OrderLink(kind="replacement", order_ref=JACKET)),
              reason_code="LOST_IN_TRANSIT", note="carrier confirmed loss")
    assert r.total.is_zero and [(d.doc, d.type) for d in r.documents] == [("INVOICE", "REPLACEMENT")]
    assert not any(isinstance(d, Payment) for d in r.documents)
    assert [(x.kind, x.ref, x.direction) for x in backend.get_order(JACKET).links] == [("replacement", r.order.ref, "from")]
    assert [(x.kind, x.ref, x.direction) for x in backend.get_order(r.order.ref).links] == [("replacement", JACKET, "to")]


def test_a_reorder_of_a_cancelled_order_is_repriced_today(backend):
    old = backend.get_order(CANCELLED)
    assert old.stage == "CANCELLED"
    cat = backend.reference().catalog()
    lines = tuple(NewLine(sku=ln.sku, quantity=ln.ordered) for ln in old.order.lines)
    d = NewOrder(customer_id=old.customer.id, billing_account_id=old.account.id, market=old.order.market,
                 lines=lines, fulfilment=old.order.fulfilment, payment_method_id=old.order.payment_method_id,
                 link=OrderLink(kind="reorder", order_ref=CANCELLED))
    r = place(backend, d)
    assert [ln.unit_price for ln in r.order.lines] == [cat[ln.sku].prices[old.order.currency] for ln in lines]
    assert [(x.kind, x.direction) for x in backend.get_order(r.order.ref).links] == [("reorder", "to")]
    with pytest.raises(RuleViolations) as e:  # a live order is not re-ordered
        place(backend, draft_like(backend, JACKET, link=OrderLink(kind="reorder", order_ref=JACKET)))
    assert e.value.violations[0].rule == "placing.link"


def test_click_and_collect_in_aud(backend):
    v = backend.get_order(AU)
    stores = [loc for loc in backend.reference().locations if loc.address.country == "AU" and loc.active]
    r = place(backend, draft_like(backend, AU, fulfilment=ClickAndCollect(location_id=stores[0].id)))
    assert r.order.currency == "AUD" and r.order.tax_mode == "INCLUSIVE" and v.order.currency == "AUD"


def test_customers_are_created_found_and_not_doubled(backend):
    addr = Address(name="Ada Quill", line1="12 Elm St", city="Chicago", region="IL", postcode="60614",
                   country="US", phone="+1 312 555 0142")
    c = backend.create_customer(NewCustomerRequest(name="Ada Quill", email="ada.quill@example.com",
                                                   phone="+1 312 555 0142", address=addr,
                                                   card=NewCard(brand="Visa", last4="4242", expiry="12/30")))
    found = backend.find_customers("ada.quill@example.com")
    assert [f.customer_id for f in found] == [c.id] and found[0].market == "US" and found[0].address == addr
    assert c.id in {f.customer_id for f in backend.find_customers("ada qui")}
    with pytest.raises(DuplicateCustomer) as e:
        backend.create_customer(NewCustomerRequest(name="Ada Q", email="ADA.QUILL@example.com", address=addr))
    assert e.value.existing_customer_id == c.id
    back = error_from_json(e.value.to_json())
    assert isinstance(back, DuplicateCustomer) and back.existing_customer_id == c.id
    acct = backend.get_account(c.billing_account_id)
    r = place(backend, NewOrder(customer_id=c.id, billing_account_id=c.billing_account_id, market="US",
                                lines=(NewLine(sku=backend.get_order(JACKET).order.lines[0].sku, quantity=1),),
                                fulfilment=HomeDelivery(address=addr, shipping_method="STANDARD"),
                                payment_method_id=acct.account.payment_methods[0].id))
    assert backend.find_customers("ada.quill@")[0].orders == 1 and r.order.customer_id == c.id


def test_bad_customer_details_are_refused(backend):
    addr = Address(name="X", line1="1 St", city="Chicago", region="IL", postcode="6061", country="US")
    with pytest.raises(RuleViolations) as e:
        backend.create_customer(NewCustomerRequest(name="", email="x", address=addr))
    assert {"customer.invalid", "address.invalid"} <= {v.rule for v in e.value.violations}


@pytest.mark.parametrize("role,read_only", [("supervisor", None), ("agent", True)])
def test_read_only_refuses_placing_and_creating(backend_factory, role, read_only):
    agent = backend_factory()
    d = draft_like(agent, JACKET)
    ro = backend_factory(role=role, read_only=read_only)
    with pytest.raises(Forbidden):
        place(ro, d)
    with pytest.raises(Forbidden):
        ro.create_customer(NewCustomerRequest(name="A B", email="ab@example.com", address=Address(
            name="A B", line1="1 St", city="Chicago", region="IL", postcode="60614", country="US")))
    assert ro.find_customers("whitfield")  # reading works
    assert agent.get_order(JACKET).links == ()
