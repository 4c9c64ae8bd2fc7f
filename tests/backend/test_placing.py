"""Placing orders in the embedded store: one transaction, the idempotency key, refs, customers.

Runs on a fresh copy of the small hand-made store (tests/backend/business.py): Dana (card 4242) has
ON-100001 booked; Casey's card ends 0002, which the demo gateway declines.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from carecli.backend.contract import (
    DuplicateCustomer, Forbidden, IdempotencyMismatch, NewCard, NewCustomerRequest, NotFound, PaymentDeclined,
    PlaceOrderRequest, RuleViolations, Unavailable,
)
from carecli.backend.gateway import DemoGateway
from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.placing import insert_order, link_orders, next_order_ref
from carecli.engine.model import Address, HomeDelivery
from carecli.engine.placing import NewLine, NewOrder, OrderLink, place
from carecli.engine.context import PlanContext

from tests.backend import business

TABLES = ("orders", "order_skus", "documents", "notifications", "audit", "idempotency", "order_links",
          "customers", "accounts", "customer_addresses")


def counts(path) -> dict[str, object]:
    with sqlite3.connect(path) as c:
        out: dict[str, object] = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        out["counters"] = sorted(c.execute("SELECT kind, next FROM counters").fetchall())
        out["audit_head"] = c.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
    return out


def dana_draft(**kw) -> NewOrder:
    base = dict(customer_id="C-000001", billing_account_id="BA-000001", market="US",
                lines=(NewLine(sku="HAT-MER", quantity=2),),
                fulfilment=HomeDelivery(address=business._addr("Dana Whitfield", "Chicago", "IL", "60614"),
                                        shipping_method="STANDARD"),
                payment_method_id="PM-000001")
    base.update(kw)
    return NewOrder(**base)


def req(draft: NewOrder, key: str | None = None, **kw) -> PlaceOrderRequest:
    return PlaceOrderRequest(draft=draft, idempotency_key=key or "k-" + uuid.uuid4().hex, actor="agent.test", **kw)


@pytest.fixture
def gateway():
    return DemoGateway()


@pytest.fixture
def agent(store_path, gateway):
    s = SqliteStore.open(store_path, clock=lambda: business.NOW, gateway=gateway)
    yield s
    s.close()


def test_placing_writes_the_order_its_ledger_confirmation_and_audit(agent, store_path, gateway):
    before = counts(store_path)
    r = agent.place_order(req(dana_draft(), reason_code="", note="phoned in"))
    # 2 × 49.00 = 98.00 < 100.00: STANDARD 7.95; tax 10.045 → 10.05 and 0.814875 → 0.81 → 116.81
    assert str(r.total) == "USD 116.81" and not r.replayed
    view = agent.get_order(r.order.ref)
    assert view.order.version == 1 and view.stage == "BOOKED" and view.order.channel == "phone"
    assert [d.id for d in view.order.documents] == [d.id for d in r.documents]
    with sqlite3.connect(store_path) as c:
        total_minor, stage = c.execute("SELECT total_minor, stage FROM orders WHERE ref = ?", (r.order.ref,)).fetchone()
        gw = c.execute("SELECT gateway_ref FROM documents WHERE kind = 'PAYMENT' AND doc_id = ?",
                       (r.documents[1].id,)).fetchone()[0]
        audit = c.execute("SELECT version_before, version_after, note FROM audit WHERE order_ref = ?",
                          (r.order.ref,)).fetchall()
    assert (total_minor, stage) == (11681, "BOOKED")
    assert gw and gw.startswith("cap_") and len(gateway.captures) == 1
    assert audit == [(0, 1, "phoned in")]
    after = counts(store_path)
    for t, n in (("orders", 1), ("order_skus", 1), ("documents", 2), ("notifications", 1), ("audit", 1),
                 ("idempotency", 1), ("order_links", 0)):
        assert after[t] == before[t] + n, t
    assert agent.verify_audit() is None
    assert agent.search_orders(r.order.ref).items[0].ref == r.order.ref
    assert any(s.ref == r.order.ref for s in agent.search_orders("HAT-MER", limit=200).items)
    assert any(e.title.startswith("Version 0 → 1") for e in agent.get_timeline(r.order.ref))


def test_refs_continue_above_the_highest_and_skip_taken_ones(agent, store_path):
    with sqlite3.connect(store_path) as c:
        (top,) = c.execute("SELECT max(CAST(substr(ref, 4) AS INTEGER)) FROM orders").fetchone()
        (ctr,) = c.execute("SELECT next FROM counters WHERE kind = 'ON'").fetchone()
    assert ctr == top + 1  # the loader writes the counter above its own refs
    first = agent.place_order(req(dana_draft())).order.ref
    assert first == f"ON-{top + 1}"
    # a ref taken behind the counter's back is skipped, and a missing counter row starts above the highest
    with sqlite3.connect(store_path) as c:
        c.execute("UPDATE counters SET next = ? WHERE kind = 'ON'", (top,))
    assert agent.place_order(req(dana_draft())).order.ref == f"ON-{top + 2}"
    with sqlite3.connect(store_path) as c:
        c.execute("DELETE FROM counters WHERE kind = 'ON'")
        assert next_order_ref(c) == f"ON-{top + 3}"
        c.rollback()


def test_a_failure_at_the_audit_insert_leaves_nothing(agent, store_path, gateway):
    with sqlite3.connect(store_path) as c:  # a real trigger in the real file makes the audit insert fail
        c.execute("CREATE TRIGGER fail_audit BEFORE INSERT ON audit WHEN NEW.version_before = 0 "
                  "BEGIN SELECT RAISE(ABORT, 'audit insert failed'); END")
    before = counts(store_path)
    k = "k-" + uuid.uuid4().hex
    with pytest.raises(Unavailable) as e:
        agent.place_order(req(dana_draft(), key=k))
    assert "nothing was changed" in e.value.message
    assert counts(store_path) == before  # no order, document, notification, counter move or key
    with sqlite3.connect(store_path) as c:
        c.execute("DROP TRIGGER fail_audit")
    # the same key is a new attempt after a failure, and now goes through once
    r = agent.place_order(req(dana_draft(), key=k))
    assert not r.replayed and agent.get_order(r.order.ref).order.version == 1


def test_a_failure_at_the_link_leaves_nothing_either(agent, store_path):
    with sqlite3.connect(store_path) as c:
        c.execute("CREATE TRIGGER fail_link BEFORE INSERT ON order_links BEGIN SELECT RAISE(ABORT, 'no'); END")
    before = counts(store_path)
    d = dana_draft(lines=(NewLine(sku="HAT-MER", quantity=1),), no_charge=True, payment_method_id=None,
                   link=OrderLink(kind="replacement", order_ref=business.DANA_REF))
    with pytest.raises(Unavailable):
        agent.place_order(req(d, reason_code="LOST_IN_TRANSIT"))
    assert counts(store_path) == before


def test_double_submit_places_one_order(agent, store_path, gateway):
    k = "k-" + uuid.uuid4().hex
    before = counts(store_path)
    first = agent.place_order(req(dana_draft(), key=k))
    again = agent.place_order(req(dana_draft(), key=k))
    assert again.replayed and not first.replayed
    assert again.order == first.order and again.documents == first.documents
    after = counts(store_path)
    assert after["orders"] == before["orders"] + 1 and after["audit"] == before["audit"] + 1
    assert len(gateway.captures) == 1
    with pytest.raises(IdempotencyMismatch):
        agent.place_order(req(dana_draft(lines=(NewLine(sku="HAT-MER", quantity=1),)), key=k))
    assert counts(store_path)["orders"] == after["orders"]


def test_two_stores_on_one_file_with_one_key_place_one_order(store_path, gateway):
    k = "k-" + uuid.uuid4().hex
    a = SqliteStore.open(store_path, clock=lambda: business.NOW, gateway=gateway)
    b = SqliteStore.open(store_path, clock=lambda: business.NOW, gateway=gateway)
    try:
        ra, rb = a.place_order(req(dana_draft(), key=k)), b.place_order(req(dana_draft(), key=k))
        assert ra.order.ref == rb.order.ref and rb.replayed
    finally:
        a.close()
        b.close()


def test_a_declined_card_creates_nothing(agent, store_path):
    before = counts(store_path)
    d = NewOrder(customer_id="C-000002", billing_account_id="BA-000002", market="US",
                 lines=(NewLine(sku="SOCK-TRL", quantity=1),),
                 fulfilment=HomeDelivery(address=business._addr("Casey Declined", "Milwaukee", "WI", "53202"),
                                         shipping_method="STANDARD"),
                 payment_method_id="PM-000002")
    with pytest.raises(PaymentDeclined) as e:
        agent.place_order(req(d))
    assert "0002" in e.value.message and "nothing" in e.value.message
    assert counts(store_path) == before


def test_refusals_are_rule_violations_and_unknown_parties_not_found(agent, store_path):
    before = counts(store_path)
    with pytest.raises(RuleViolations) as e:
        agent.place_order(req(dana_draft(lines=(NewLine(sku="NOPE", quantity=1), NewLine(sku="HAT-MER", quantity=99)))))
    assert {v.rule for v in e.value.violations} == {"sku.unknown", "sku.out_of_stock"}
    with pytest.raises(NotFound):
        agent.place_order(req(dana_draft(customer_id="C-999999")))
    with pytest.raises(NotFound):
        agent.place_order(req(dana_draft(billing_account_id="BA-000002")))  # Casey's account, not Dana's
    with pytest.raises(NotFound):
        agent.place_order(req(dana_draft(link=OrderLink(kind="reorder", order_ref="ON-999999"))))
    assert counts(store_path) == before


def test_a_replacement_is_linked_both_ways_at_no_charge(agent, gateway):
    d = dana_draft(lines=(NewLine(sku="JKT-ALP-M", quantity=1),), no_charge=True, payment_method_id=None,
                   link=OrderLink(kind="replacement", order_ref=business.DANA_REF.lower()))
    with pytest.raises(RuleViolations) as e:
        agent.place_order(req(d))
    assert e.value.violations[0].rule == "session.reason_required"
    r = agent.place_order(req(d, reason_code="LOST_IN_TRANSIT"))
    assert str(r.total) == "USD 0.00" and [x.doc for x in r.documents] == ["INVOICE"] and not gateway.captures
    assert r.link is not None and r.link.order_ref == business.DANA_REF
    orig, new = agent.get_order(business.DANA_REF), agent.get_order(r.order.ref)
    assert [(x.kind, x.ref, x.direction) for x in orig.links] == [("replacement", r.order.ref, "from")]
    assert [(x.kind, x.ref, x.direction) for x in new.links] == [("replacement", business.DANA_REF, "to")]


def test_insert_order_and_link_run_inside_the_callers_transaction(agent, store_path):
    """An exchange writes its new order inside its own transaction: a rollback takes it all back."""
    view = agent.get_order(business.DANA_REF)
    ref_data = agent.reference()
    conn = sqlite3.connect(store_path, isolation_level=None)
    try:
        before = counts(store_path)
        for outcome in ("ROLLBACK", "COMMIT"):
            conn.execute("BEGIN IMMEDIATE")
            ref = next_order_ref(conn)
            ctx = PlanContext(policy=agent.policy, catalog=ref_data.catalog(), locations=ref_data.location_map(),
                              customer=view.customer, account=view.account, now=business.NOW)
            p = place(dana_draft(ref=ref, link=OrderLink(kind="exchange", order_ref=business.DANA_REF)), ctx)
            assert p.ok, p.violations
            rec = insert_order(conn, p.order, p.documents, p.notifications, actor="agent.test", role="agent",
                               reason_code="WRONG_SIZE", note="", key="exchange-1")
            link_orders(conn, business.DANA_REF, ref, "exchange")
            assert rec.version_before == 0 and rec.order_ref == ref
            conn.execute(outcome)
            if outcome == "ROLLBACK":
                assert counts(store_path) == before
    finally:
        conn.close()
    assert agent.get_order(ref).links[0].ref == business.DANA_REF
    assert agent.verify_audit() is None


def test_read_only_refuses_placing_and_creating(store_path):
    s = SqliteStore.open(store_path, role="supervisor", clock=lambda: business.NOW)
    try:
        with pytest.raises(Forbidden):
            s.place_order(req(dana_draft()))
        with pytest.raises(Forbidden):
            s.create_customer(NewCustomerRequest(name="A B", email="a@b.co", address=business._addr(
                "A B", "Chicago", "IL", "60614")))
        assert s.find_customers("dana")[0].customer_id == "C-000001"  # reads still work
    finally:
        s.close()


# -- customers ------------------------------------------------------------------------------------------


def ann(**kw) -> NewCustomerRequest:
    base = dict(name="Ann  Lee", email=" Ann.Lee@Example.com", phone="+1 312 555 0199",
                address=Address(name="Ann Lee", line1="1 Main St", city="Chicago", region="IL", postcode="60614",
                                country="US"),
                card=NewCard(brand="Visa", last4="4242", expiry="12/29"))
    base.update(kw)
    return NewCustomerRequest(**base)


def test_create_customer_with_an_account_in_the_address_market(agent, store_path):
    c = agent.create_customer(ann())
    # CUS-/BA- numbers skip those whose account id is taken (BA-000001…3 are the hand-made customers')
    assert (c.id, c.billing_account_id) == ("CUS-000004", "BA-000004")
    assert c.name == "Ann Lee" and c.email == "Ann.Lee@Example.com"
    acct = agent.get_account(c.billing_account_id)
    assert acct.account.currency == "USD" and acct.account.payment_methods[0].label() == "Visa •••• 4242"
    assert acct.orders == [] and str(acct.balance) == "USD 0.00"
    (found,) = agent.find_customers("ann.lee@")
    assert (found.customer_id, found.market, found.matched, found.orders) == (c.id, "US", "email", 0)
    assert found.address is not None and found.address.city == "Chicago"
    assert agent.find_customers("ann le")[0].customer_id == c.id
    assert agent.find_customers("312 555 0199")[0].customer_id == c.id
    au = agent.create_customer(ann(email="kim@example.au", address=Address(
        name="Kim", line1="1 Pitt St", city="Sydney", region="NSW", postcode="2000", country="AU"), card=None))
    assert au.id == "CUS-000005" and agent.get_account(au.billing_account_id).account.currency == "AUD"
    # and the new customer can order at once
    r = agent.place_order(req(NewOrder(customer_id=c.id, billing_account_id=c.billing_account_id, market="US",
                                       lines=(NewLine(sku="TEE-ORG-M", quantity=1),),
                                       fulfilment=HomeDelivery(address=found.address, shipping_method="EXPRESS"),
                                       payment_method_id="PM-000004-1")))
    assert agent.find_customers("ann.lee@")[0].orders == 1 and r.order.customer_id == c.id


def test_a_duplicate_email_is_refused_with_the_existing_customer(agent, store_path):
    before = counts(store_path)
    with pytest.raises(DuplicateCustomer) as e:
        agent.create_customer(ann(email="DANA.WHITFIELD@example.com"))
    assert e.value.existing_customer_id == "C-000001" and "Dana Whitfield" in e.value.message
    assert e.value.to_json()["existing_customer_id"] == "C-000001"
    assert counts(store_path) == before


def test_bad_customer_details_are_named(agent, store_path):
    before = counts(store_path)
    with pytest.raises(RuleViolations) as e:
        agent.create_customer(ann(name=" ", email="nope", phone="call me",
                                  card=NewCard(brand="Visa", last4="4242", expiry="01/20")))
    msgs = [v.message for v in e.value.violations]
    assert [m.split(":")[0] for m in msgs] == ["name", "email", "phone", "card"]
    with pytest.raises(RuleViolations) as e:
        agent.create_customer(ann(address=Address(name="X", line1="1 Rue", city="Paris", postcode="75001",
                                                  country="FR")))
    assert "no market" in e.value.message
    assert counts(store_path) == before


def test_find_customers_never_raises_on_odd_text(agent):
    for q in ("", "   ", '"', "*", "NEAR(", "\x1b[31m", "@", "+", "a" * 5000, "-- drop"):
        assert isinstance(agent.find_customers(q), list)


def test_the_timeline_tells_how_the_order_was_placed(agent):
    r = agent.place_order(req(dana_draft()))
    audit = [e for e in agent.get_timeline(r.order.ref) if e.kind == "audit"]
    assert [e.detail for e in audit] == ["Order placed by phone: 1 line(s) · delta USD 116.81"]
    d = dana_draft(lines=(NewLine(sku="HAT-MER", quantity=1),), no_charge=True, payment_method_id=None,
                   link=OrderLink(kind="replacement", order_ref=business.DANA_REF))
    rep = agent.place_order(req(d, reason_code="DAMAGED"))
    (entry,) = [e for e in agent.get_timeline(rep.order.ref) if e.kind == "audit"]
    assert entry.detail == f"Replacement of {business.DANA_REF}: 1 line(s), no charge · reason DAMAGED · delta USD 0.00"
    assert entry.title.startswith("Version 0 → 1 by agent.test")
