"""The backend contract (carecli.backend.contract.Backend), against every backend in conftest.

Scenario orders are the demo's named ones (carecli.demo.SCENARIOS), the same in every demo store.
"""

from __future__ import annotations

import uuid

import pytest

from carecli.backend.contract import (
    AccountView, Backend, BackendError, CommitRequest, CommitResult, Forbidden, IdempotencyMismatch,
    NotFound, OrderView, PaymentDeclined, RuleViolations, SearchPage, VersionConflict, error_from_json,
)
from carecli.backend.ledger import effect, ledger_problems
from carecli.demo import SCENARIOS, SEED_CASE_REF
from carecli.engine.commands import AppeasementCredit, ChangeQuantity, RemoveLine, ReplaceProduct
from carecli.engine.model import CreditMemo, Invoice, Payment, Refund, StoreCredit, order_stage
from carecli.engine.money import Money
from carecli.engine.notifications import channels_for

JACKET = SCENARIOS["chicago_jacket"]  # ON-100001, awaiting pick, card 4242, e-mail only
BOOKED_SMS = SCENARIOS["backordered"]  # ON-100003, booked, e-mail and SMS
DECLINING = SCENARIOS["declining_card"]  # ON-100011, awaiting pick, card 0002
DELIVERED = SCENARIOS["delivered_in_window"]  # ON-100005
GOODWILL = SCENARIOS["appeasement_store_credit"]  # ON-100012, 20.00 store credit


def key() -> str:
    return "test-" + uuid.uuid4().hex


def request(ref: str, version: int, *amendments, reason: str = "CUSTOMER_REQUEST", k: str | None = None,
            note: str = "contract test") -> CommitRequest:
    return CommitRequest(order_ref=ref, expected_version=version, amendments=tuple(amendments),
                         reason_code=reason, note=note, idempotency_key=k or key(), actor="agent.test")


def state(b: Backend, ref: str):
    """Everything a commit could have touched, as comparable values."""
    v = b.get_order(ref)
    acct = b.get_account(v.account.id)
    timeline = b.get_timeline(ref)
    return v.order, v.account, [e.document.id for e in acct.ledger], timeline


# -- search -------------------------------------------------------------------------------------------


def refs(page: SearchPage) -> list[str]:
    return [s.ref for s in page.items]


@pytest.mark.parametrize("query", [SEED_CASE_REF, SEED_CASE_REF.lower(), "100001", "on100001"])
def test_search_exact_ref_comes_first(backend, query):
    page = backend.search_orders(query)
    assert page.items[0].ref == SEED_CASE_REF
    assert page.items[0].matched == "ref"


def test_search_ref_prefix_is_ranked_and_paged(backend):
    page = backend.search_orders("ON-10001", limit=5)
    assert refs(page)[0] == "ON-10001" or refs(page)[0].startswith("ON-10001")
    assert all(r.startswith("ON-10001") for r in refs(page))
    assert refs(page) == sorted(refs(page))
    assert page.has_more and len(page.items) == 5
    nxt = backend.search_orders("ON-10001", limit=5, offset=5)
    assert not set(refs(page)) & set(refs(nxt))
    both = backend.search_orders("ON-10001", limit=10)
    assert refs(both) == refs(page) + refs(nxt)


def test_search_by_email(backend):
    v = backend.get_order(JACKET)
    page = backend.search_orders(v.customer.email.upper())
    assert JACKET in refs(page)
    assert {s.matched for s in page.items} == {"email"}
    assert all(s.email == v.customer.email for s in page.items)
    prefix = backend.search_orders(v.customer.email.split("@")[0] + "@")
    assert JACKET in refs(prefix)


@pytest.mark.parametrize("form", ["as stored", "spaced", "national", "last digits typed in full"])
def test_search_by_phone(backend, form):
    v = backend.get_order(JACKET)
    phone = v.customer.phone  # +13125550147
    digits = "".join(ch for ch in phone if ch.isdigit())
    query = {"as stored": phone, "spaced": f"+{digits[0]} {digits[1:4]} {digits[4:7]} {digits[7:]}",
             "national": f"({digits[1:4]}) {digits[4:7]}-{digits[7:]}",
             "last digits typed in full": digits[1:]}[form]
    page = backend.search_orders(query)
    assert page.items and page.items[0].ref in {JACKET} | {s.ref for s in page.items if s.matched == "phone"}
    assert JACKET in [s.ref for s in page.items if s.matched == "phone"]


def test_search_by_postcode(backend):
    v = backend.get_order(JACKET)
    pc = v.order.fulfilment.address.postcode
    page = backend.search_orders(pc, limit=200)
    hits = [s for s in page.items if s.matched == "postcode"]
    assert JACKET in [s.ref for s in hits]
    assert all(s.postcode.replace(" ", "") == pc for s in hits)
    placed = [s.placed_at for s in hits]
    assert placed == sorted(placed, reverse=True)  # recent first


def test_search_by_sku_exact_and_prefix(backend):
    v = backend.get_order(JACKET)
    sku = v.order.lines[0].sku  # JKT-ALP-M-NVY
    page = backend.search_orders(sku, limit=200)
    assert JACKET in refs(page)
    assert page.items[0].matched == "sku"
    prefix = backend.search_orders(sku.rsplit("-", 2)[0].lower(), limit=200)  # "jkt-alp"
    assert JACKET in [s.ref for s in prefix.items if s.matched == "sku"]


@pytest.mark.parametrize("query", ["Dana Whitfield", "dana whit", "WHITFIELD", "whitf dan"])
def test_search_by_name_prefix(backend, query):
    page = backend.search_orders(query)
    assert page.items[0].customer_name == "Dana Whitfield"
    assert page.items[0].matched == "name"


def test_search_by_name_ignores_accents(backend):
    page = backend.search_orders("siobhan o'brien")
    assert SCENARIOS["short_picked"] in refs(page)


def test_empty_search_is_most_recent_first(backend):
    page = backend.search_orders("", limit=30)
    placed = [s.placed_at for s in page.items]
    assert len(placed) == 30 and placed == sorted(placed, reverse=True)
    assert page.has_more


def test_search_stage_filter(backend):
    name = backend.search_orders("", stage="DELIVERED", limit=1).items[0].customer_name
    for query in ("", "ON-1000", name):
        page = backend.search_orders(query, stage="DELIVERED", limit=50)
        assert page.items
        assert {s.stage for s in page.items} == {"DELIVERED"}


def test_search_summary_matches_the_order(backend):
    s = backend.search_orders(JACKET).items[0]
    v = backend.get_order(JACKET)
    assert s.customer_name == v.customer.name and s.email == v.customer.email
    assert s.stage == v.stage == order_stage(v.order).value
    assert s.items == sum(max(ln.quantity, 0) for ln in v.order.lines)
    assert s.placed_at == v.order.placed_at
    assert s.total.currency == v.order.currency


@pytest.mark.parametrize("text", [
    '"', "'", '""', 'dana"', '"dana', "NEAR(dana whit)", "dana NEAR whit", "*", "**", "dana*", "-dana", "- -",
    "dana OR whit", "AND", "NOT", "(", ")", "{name}: dana", "name:dana", "^dana", "x" * 10_000,
    "dana " * 2000, "\x00", "dana\x00whit", "\x1b[31mred\x1b[0m", "\t\n\r", "\u202e\u200b", "%", "_", "'; DROP TABLE orders; --",
    "@", "@@", "+", "++1", "ON-", "ON--1", "0" * 500, "🙂", "ß", "İ", "\ud800" if False else "\ufffd",
])
def test_hostile_search_text_never_raises(backend, text):
    page = backend.search_orders(text)
    assert isinstance(page, SearchPage)
    assert len(page.items) <= page.limit


def test_search_limits_are_clamped(backend):
    assert len(backend.search_orders("", limit=0).items) <= 1
    assert backend.search_orders("", offset=-5).offset == 0


# -- reads ----------------------------------------------------------------------------------------------


def test_get_order(backend):
    v = backend.get_order(JACKET)
    assert isinstance(v, OrderView)
    assert v.order.ref == JACKET and v.order.version >= 1
    assert v.customer.id == v.order.customer_id
    assert v.account.id == v.order.billing_account_id == v.customer.billing_account_id
    assert v.stage == order_stage(v.order).value
    assert any(isinstance(d, Invoice) for d in v.order.documents)
    assert backend.get_order(JACKET.lower()).order == v.order


@pytest.mark.parametrize("ref", ["ON-999999999", "", "   ", "x" * 10_000, "ON-100001\x00", "'"])
def test_unknown_order_is_not_found(backend, ref):
    with pytest.raises(NotFound) as e:
        backend.get_order(ref)
    assert e.value.message and e.value.title
    with pytest.raises(NotFound):
        backend.get_timeline(ref)


def test_account_ledger_running_balance(backend):
    v = backend.get_order(SCENARIOS["with_credit_memo"])
    a = backend.get_account(v.account.id)
    assert isinstance(a, AccountView)
    assert a.customer.id == v.customer.id
    kinds = [e.document.doc for e in a.ledger]
    assert "CREDIT_MEMO" in kinds and "REFUND" in kinds
    run = Money.zero(v.account.currency)
    for e in a.ledger:
        assert e.effect == effect(e.document)
        run = run + e.effect
        assert e.running_balance == run
    assert [e.document.created_at for e in a.ledger] == sorted(e.document.created_at for e in a.ledger)
    assert a.balance.is_zero  # settled: invoices paid, credit memos refunded
    assert ledger_problems([e.document for e in a.ledger], v.account.currency) == []
    assert v.order.ref in [s.ref for s in a.orders]


def test_account_sign_convention(backend):
    a = backend.get_account(backend.get_order(GOODWILL).account.id)
    for e in a.ledger:
        d = e.document
        amount = d.total if isinstance(d, (Invoice, CreditMemo)) else d.amount
        expected = {Invoice: amount, Payment: -amount, CreditMemo: -amount, Refund: amount,
                    StoreCredit: amount}[type(d)]
        assert e.effect == expected
    sc = sum((e.document.amount.amount for e in a.ledger if isinstance(e.document, StoreCredit)), 0)
    assert a.store_credit == a.account.store_credit
    assert a.store_credit.amount == sc and a.store_credit.is_positive
    assert a.balance.is_zero


def test_unknown_account_is_not_found(backend):
    with pytest.raises(NotFound):
        backend.get_account("BA-NOPE")


def test_timeline_is_in_time_order_and_starts_with_placement(backend):
    t = backend.get_timeline(SCENARIOS["with_credit_memo"])
    assert t[0].kind == "event" and "placed" in t[0].title.lower()
    assert [e.at for e in t] == sorted(e.at for e in t)
    assert any("Credit memo" in e.title for e in t)


def test_reference_data(backend):
    ref = backend.reference()
    skus = {v.sku for v in ref.variants}
    assert backend.get_order(JACKET).order.lines[0].sku in skus
    assert ref.locations and any(loc.hours for loc in ref.locations)
    assert ref.policy.shipping_methods and ref.policy.reason_codes
    assert ref.catalog()[next(iter(skus))].sku in skus
    assert backend.reference() == ref
    # prices differ by size for one product (a size swap moves money)
    jackets = {v.attributes.get("size"): v.prices["USD"] for v in ref.variants
               if v.product_id == ref.catalog()["JKT-ALP-M-NVY"].product_id and "USD" in v.prices}
    assert len(set(jackets.values())) > 1


# -- commit -----------------------------------------------------------------------------------------------


def _assert_settled(b: Backend, result: CommitResult) -> None:
    order = result.order
    assert ledger_problems(list(order.documents), order.currency) == []
    a = b.get_account(order.billing_account_id)
    assert ledger_problems([e.document for e in a.ledger], order.currency) == []
    assert a.balance.is_zero
    assert not a.store_credit.is_negative


def test_commit_reduction_writes_one_credit_memo_one_notification_per_channel_one_audit(backend):
    before = backend.get_order(BOOKED_SMS)
    n_audit = sum(e.kind == "audit" for e in backend.get_timeline(BOOKED_SMS))
    result = backend.commit(request(BOOKED_SMS, before.order.version, RemoveLine(line_id=2)))
    assert isinstance(result, CommitResult) and not result.replayed
    assert result.order.version == before.order.version + 1
    assert result.delta.is_negative
    memos = [d for d in result.documents if isinstance(d, CreditMemo)]
    assert len(memos) == 1 and memos[0].total == -result.delta
    assert not any(isinstance(d, Invoice) for d in result.documents)
    channels = [n.channel for n in result.notifications]
    assert sorted(channels) == sorted(c for c, _ in channels_for(before.customer))
    assert len(set(channels)) == len(channels) == 2  # e-mail and SMS, one each
    after = backend.get_order(BOOKED_SMS)
    assert after.order == result.order
    assert after.order.documents[: len(before.order.documents)] == before.order.documents
    timeline = backend.get_timeline(BOOKED_SMS)
    assert sum(e.kind == "audit" for e in timeline) == n_audit + 1
    assert sum(e.kind == "notification" for e in timeline) >= 2
    assert result.audit_seq >= 1
    _assert_settled(backend, result)
    assert backend.verify_audit() is None


def test_commit_size_swap_charges_one_invoice(backend_factory):
    backend = backend_factory()
    before = backend.get_order(JACKET)
    result = backend.commit(request(JACKET, before.order.version,
                                    ReplaceProduct(line_id=1, sku="JKT-ALP-L-NVY"), reason="WRONG_SIZE"))
    assert result.delta.is_positive
    invoices = [d for d in result.documents if isinstance(d, Invoice)]
    payments = [d for d in result.documents if isinstance(d, Payment)]
    assert len(invoices) == 1 and invoices[0].total == result.delta
    assert len(payments) == 1 and payments[0].amount == result.delta
    assert result.order.lines[0].sku == "JKT-ALP-L-NVY"
    assert len(backend_factory.gateway.captures) == 1
    _assert_settled(backend, result)
    assert backend.verify_audit() is None


def test_appeasement_to_store_credit_raises_the_balance(backend):
    v = backend.get_order(JACKET)
    before = backend.get_account(v.account.id)
    credit = Money("10.00", v.order.currency)
    result = backend.commit(request(JACKET, v.order.version, AppeasementCredit(
        amount=credit, reason_code="LATE_DELIVERY", settle_to="STORE_CREDIT"), reason="LATE_DELIVERY"))
    assert result.delta.is_zero  # the price is unchanged
    assert [d.doc for d in result.documents] == ["CREDIT_MEMO", "STORE_CREDIT"]
    after = backend.get_account(v.account.id)
    assert after.store_credit == before.store_credit + credit == after.account.store_credit
    assert backend.get_order(JACKET).account.store_credit == after.store_credit
    assert after.balance.is_zero
    _assert_settled(backend, result)


def test_commit_result_is_json_round_trippable(backend):
    v = backend.get_order(BOOKED_SMS)
    result = backend.commit(request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2)))
    assert CommitResult.model_validate_json(result.model_dump_json()) == result
    assert OrderView.model_validate_json(v.model_dump_json()) == v


def test_stale_version_is_a_conflict_with_the_current_version(backend):
    v = backend.get_order(BOOKED_SMS)
    backend.commit(request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2)))
    snap = state(backend, BOOKED_SMS)
    with pytest.raises(VersionConflict) as e:
        backend.commit(request(BOOKED_SMS, v.order.version, ChangeQuantity(line_id=1, quantity=2)))
    assert e.value.current_version == v.order.version + 1
    assert str(v.order.version + 1) in e.value.message
    assert state(backend, BOOKED_SMS) == snap


def test_same_key_same_request_returns_the_first_result_and_changes_nothing(backend):
    v = backend.get_order(BOOKED_SMS)
    req = request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2))
    first = backend.commit(req)
    snap = state(backend, BOOKED_SMS)
    again = backend.commit(req)
    assert again.replayed and not first.replayed
    assert again.model_copy(update={"replayed": False}) == first
    assert state(backend, BOOKED_SMS) == snap


def test_same_key_different_request_is_refused(backend):
    v = backend.get_order(BOOKED_SMS)
    k = key()
    backend.commit(request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2), k=k))
    snap = state(backend, BOOKED_SMS)
    with pytest.raises(IdempotencyMismatch):
        backend.commit(request(BOOKED_SMS, v.order.version + 1, ChangeQuantity(line_id=1, quantity=2), k=k))
    with pytest.raises(IdempotencyMismatch):
        backend.commit(request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2), k=k, note="other"))
    assert state(backend, BOOKED_SMS) == snap


def test_declined_charge_refuses_everything(backend_factory):
    backend = backend_factory()
    v = backend.get_order(DECLINING)
    assert v.account.payment_methods[0].last4 == "0002"
    snap = state(backend, DECLINING)
    with pytest.raises(PaymentDeclined) as e:
        backend.commit(request(DECLINING, v.order.version, ChangeQuantity(line_id=1, quantity=2)))
    assert "0002" in e.value.message
    assert state(backend, DECLINING) == snap
    assert backend_factory.gateway.captures == {}
    assert backend.verify_audit() is None


def test_rule_violation_is_typed_and_writes_nothing(backend):
    v = backend.get_order(DELIVERED)
    snap = state(backend, DELIVERED)
    with pytest.raises(RuleViolations) as e:
        backend.commit(request(DELIVERED, v.order.version, RemoveLine(line_id=1)))
    assert e.value.violations and all(x.rule and x.message for x in e.value.violations)
    assert state(backend, DELIVERED) == snap


@pytest.mark.parametrize("role, read_only", [("supervisor", None), ("agent", True)])
def test_read_only_refuses_every_write(backend_factory, role, read_only):
    ro = backend_factory(role=role, read_only=read_only)
    agent = backend_factory()
    assert ro.read_only and ro.role == role
    v = ro.get_order(BOOKED_SMS)
    snap = state(agent, BOOKED_SMS)
    for req in (request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2)),
                request("ON-999999999", 1, RemoveLine(line_id=2))):
        with pytest.raises(Forbidden):
            ro.commit(req)
    assert state(agent, BOOKED_SMS) == snap
    assert ro.search_orders(BOOKED_SMS).items[0].ref == BOOKED_SMS  # reads work


def test_supervisor_may_write_when_not_read_only(backend_factory):
    sup = backend_factory(role="supervisor", read_only=False)
    assert not sup.read_only
    v = sup.get_order(BOOKED_SMS)
    assert sup.commit(request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2))).order.version == \
        v.order.version + 1


def test_commit_on_unknown_order_is_not_found(backend):
    with pytest.raises(NotFound):
        backend.commit(request("ON-999999999", 1, RemoveLine(line_id=1)))


def test_verify_audit_after_several_commits(backend):
    assert backend.verify_audit() is None
    v = backend.get_order(BOOKED_SMS)
    r = backend.commit(request(BOOKED_SMS, v.order.version, RemoveLine(line_id=2)))
    backend.commit(request(BOOKED_SMS, r.order.version, ChangeQuantity(line_id=1, quantity=2)))
    assert backend.verify_audit() is None


def test_errors_cross_a_wire(backend):
    with pytest.raises(BackendError) as e:
        backend.get_order("ON-999999999")
    back = error_from_json(e.value.to_json())
    assert type(back) is NotFound and back.message == e.value.message
    vc = error_from_json(VersionConflict(7, order_ref="ON-1").to_json())
    assert isinstance(vc, VersionConflict) and vc.current_version == 7
