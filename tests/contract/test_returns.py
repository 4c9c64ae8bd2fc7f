"""The returns part of the backend contract (create, receive, verify, refund, close, list, get), written
only against :class:`carecli.backend.contract.Backend`, so every backend runs it.

Orders are the demo's named scenarios: ON-100005 delivered 10 days ago (trail shorts × 1, organic tee
× 2, Chicago), ON-100006 delivered 47 days ago, ON-100020 a mix (swimsuit past its 14-day window,
final-sale slides, a tee already on the demo's return in progress), ON-100008 cancelled, ON-100001
awaiting pick.
"""

from __future__ import annotations

import uuid

import pytest

from carecli.backend.contract import (
    CreateReturnRequest, Forbidden, IdempotencyMismatch, NotFound, RefundReturnRequest, ReturnStepRequest,
    RuleViolations, VerifyReturnRequest, VersionConflict,
)
from carecli.backend.ledger import ledger_problems
from carecli.demo import SCENARIOS, SEED_CASE_REF
from carecli.engine.model import CreditMemo, Refund, StoreCredit
from carecli.engine.money import Money
from carecli.engine.returns import LineVerdict, Override, ReturnLineRequest
from tests.contract.actors import recorded_actor

DELIVERED = SCENARIOS["delivered_in_window"]
OUT_OF_WINDOW = SCENARIOS["delivered_out_of_window"]
MIX = SCENARIOS["return_rules_mix"]
CANCELLED = SCENARIOS["cancelled"]


def key() -> str:
    return "ret-" + uuid.uuid4().hex


def create_req(b, ref=DELIVERED, lines=((1, 1),), *, reason="CHANGED_MIND", condition="unopened", version=None,
               overrides=(), k=None) -> CreateReturnRequest:
    v = version if version is not None else b.get_order(ref).order.version
    return CreateReturnRequest(
        order_ref=ref, expected_version=v, idempotency_key=k or key(), actor="agent.test", note="contract",
        lines=tuple(ReturnLineRequest(line_id=lid, quantity=q, reason_code=reason, condition=condition)
                    for lid, q in lines), overrides=tuple(overrides))


def step(ro_id: str) -> ReturnStepRequest:
    return ReturnStepRequest(return_id=ro_id, idempotency_key=key(), actor="agent.test")


def through_verify(b, ref=DELIVERED, lines=((1, 1),), **kw):
    r = b.create_return(create_req(b, ref, lines, **kw))
    ro = r.return_order.id
    b.receive_return(step(ro))
    v = b.verify_return(VerifyReturnRequest(return_id=ro, idempotency_key=key(), actor="agent.test",
                                            verdicts=tuple(LineVerdict(line_id=lid, accepted=True) for lid, _ in lines)))
    return v


def refund(b, ro_id, *, to="ORIGINAL_PAYMENT", version=None, ref=DELIVERED):
    v = version if version is not None else b.get_order(ref).order.version
    return b.refund_return(RefundReturnRequest(return_id=ro_id, idempotency_key=key(), actor="agent.test",
                                               expected_version=v, refund_to=to))


# -- eligibility -------------------------------------------------------------------------------------


def test_eligibility_names_the_deciding_rule_per_line(backend):
    assert {e.rule for e in backend.return_eligibility(DELIVERED).lines} == {"return.ok"}
    assert {e.rule for e in backend.return_eligibility(OUT_OF_WINDOW).lines} == {"return.window_closed"}
    # the tee of the mix is on the demo's return in progress (received, awaiting verification)
    mix = {e.description.split(" (")[0]: e.rule for e in backend.return_eligibility(MIX).lines}
    assert sorted(mix.values()) == ["return.final_sale", "return.none_left", "return.window_closed"]
    assert [(r.rma, r.state) for r in backend.list_returns(MIX)] == [("RMA-100020-1", "RECEIVED")]
    assert {e.rule for e in backend.return_eligibility(CANCELLED).lines} == {"return.order_cancelled"}
    assert {e.rule for e in backend.return_eligibility(SEED_CASE_REF).lines} == {"return.not_delivered"}
    with pytest.raises(NotFound):
        backend.return_eligibility("ON-999999")


# -- the whole flow ----------------------------------------------------------------------------------


def test_create_receive_verify_refund_close(backend):
    before = backend.get_order(DELIVERED)
    created = backend.create_return(create_req(backend, lines=((2, 2),)))
    ro = created.return_order
    assert ro.state == "AWAITING_RECEIPT" and ro.rma == "RMA-100005-1" and ro.id.startswith("RO-")
    assert created.order.version == before.order.version + 1
    assert created.order.line(2).return_initiated == 2
    assert [n.kind for n in created.notifications] == ["RETURN_CREATED"] and ro.rma in created.notifications[0].body
    assert backend.get_return(ro.rma) == ro == backend.get_return(ro.id)
    assert backend.list_returns(DELIVERED) == [ro]

    received = backend.receive_return(step(ro.id))
    assert received.return_order.state == "RECEIVED" and received.order.version == created.order.version
    assert [n.kind for n in received.notifications] == ["RETURN_RECEIVED"]
    verified = backend.verify_return(VerifyReturnRequest(return_id=ro.id, idempotency_key=key(), actor="agent.test",
                                                         verdicts=(LineVerdict(line_id=2, accepted=True),)))
    assert verified.return_order.state == "VERIFIED"

    done = refund(backend, ro.id)
    memo = next(d for d in done.documents if isinstance(d, CreditMemo))
    assert memo.type == "RETURN" and done.return_order.refund_total == memo.total
    assert sum((i.amount for i in memo.items), Money.zero(memo.total.currency)) == memo.total
    paid = [d for d in done.documents if isinstance(d, Refund)]
    assert paid and sum((d.amount for d in paid), Money.zero(memo.total.currency)) == memo.total
    assert done.order.line(2).returned == 2 and done.order.line(2).return_initiated == 0
    assert [n.kind for n in done.notifications] == ["RETURN_REFUNDED"]

    closed = backend.close_return(step(ro.id))
    assert closed.return_order.state == "CLOSED"
    assert [h.state for h in closed.return_order.history] == [
        "CREATED", "AWAITING_RECEIPT", "RECEIVED", "VERIFIED", "REFUNDED", "CLOSED"]

    view = backend.get_order(DELIVERED)
    acct = backend.get_account(view.account.id)
    assert not ledger_problems([e.document for e in acct.ledger], view.order.currency)
    assert [r.id for r in acct.returns] == [ro.id]
    assert backend.verify_audit() is None
    titles = " | ".join(e.detail for e in backend.get_timeline(DELIVERED) if e.kind == "audit")
    assert f"Return {ro.id} ({ro.rma}) created" in titles and f"Return {ro.id} closed" in titles


def test_refund_as_store_credit_raises_the_balance(backend):
    v = through_verify(backend)
    acct_before = backend.get_order(DELIVERED).account.store_credit
    done = refund(backend, v.return_order.id, to="STORE_CREDIT")
    sc = [d for d in done.documents if isinstance(d, StoreCredit)]
    assert sc and backend.get_order(DELIVERED).account.store_credit == acct_before + sc[0].amount


def test_a_step_out_of_order_is_refused_and_changes_nothing(backend):
    ro = backend.create_return(create_req(backend)).return_order
    with pytest.raises(RuleViolations) as e:
        refund(backend, ro.id)
    assert [v.rule for v in e.value.violations] == ["return.state"]
    assert backend.get_return(ro.id).state == "AWAITING_RECEIPT"


# -- refusals ----------------------------------------------------------------------------------------


def test_a_second_return_of_the_same_units_is_refused(backend):
    backend.create_return(create_req(backend, lines=((1, 1),)))
    with pytest.raises(RuleViolations) as e:
        backend.create_return(create_req(backend, lines=((1, 1),)))
    assert [v.rule for v in e.value.violations] == ["return.none_left"]


def test_out_of_window_needs_an_override_by_a_role_policy_allows(backend_factory):
    agent = backend_factory()
    with pytest.raises(RuleViolations) as e:
        agent.create_return(create_req(agent, OUT_OF_WINDOW))
    assert [v.rule for v in e.value.violations] == ["return.window_closed"]
    over = [Override(rule="return.window_closed", line_id=1, reason="courier lost the first parcel")]
    with pytest.raises(RuleViolations) as e:
        agent.create_return(create_req(agent, OUT_OF_WINDOW, overrides=over))
    assert [v.rule for v in e.value.violations] == ["return.override_role"]
    supervisor = backend_factory(role="supervisor", read_only=False)
    r = supervisor.create_return(create_req(supervisor, OUT_OF_WINDOW, overrides=over))
    assert r.return_order.overrides[0].reason == "courier lost the first parcel"
    assert r.return_order.overrides[0].actor == recorded_actor(supervisor, "agent.test")


def test_cancelled_order_refused(backend):
    with pytest.raises(RuleViolations) as e:
        backend.create_return(create_req(backend, CANCELLED))
    assert "return.order_cancelled" in [v.rule for v in e.value.violations]


def test_two_agents_returning_the_same_line_at_once_one_wins(backend_factory):
    a, b = backend_factory(), backend_factory()
    version = a.get_order(DELIVERED).order.version
    first = a.create_return(create_req(a, lines=((2, 2),), version=version))
    with pytest.raises(VersionConflict) as e:
        b.create_return(create_req(b, lines=((2, 2),), version=version))
    assert e.value.current_version == first.order.version
    assert len(a.list_returns(DELIVERED)) == 1


def test_refund_on_a_stale_version_is_a_conflict(backend):
    v = through_verify(backend)
    with pytest.raises(VersionConflict):
        refund(backend, v.return_order.id, version=v.order.version - 1)
    assert backend.get_return(v.return_order.id).state == "VERIFIED"


def test_read_only_refuses_every_return_write(backend_factory):
    sup = backend_factory(role="supervisor")
    before = sup.get_order(DELIVERED).order
    with pytest.raises(Forbidden):
        sup.create_return(create_req(sup))
    with pytest.raises(Forbidden):
        sup.create_exchange(exchange_req(sup, "TEE-ORG-L-WHT"))
    with pytest.raises(Forbidden):
        sup.receive_return(step("RO-000001"))
    assert backend_factory().get_order(DELIVERED).order == before
    assert sup.list_returns(DELIVERED) == []


def test_idempotent_create(backend):
    k = key()
    req = create_req(backend, k=k)
    first = backend.create_return(req)
    again = backend.create_return(req)
    assert again.replayed and again.return_order == first.return_order
    assert len(backend.list_returns(DELIVERED)) == 1
    with pytest.raises(IdempotencyMismatch):
        backend.create_return(create_req(backend, lines=((2, 1),), k=k))


def test_unknown_return(backend):
    with pytest.raises(NotFound):
        backend.get_return("RO-999999")
    with pytest.raises(NotFound):
        backend.receive_return(step("RO-999999"))


# -- exchanges -----------------------------------------------------------------------------------------


def exchange_req(b, sku: str, *, lines=((2, 1),), reason="WRONG_SIZE", k=None):
    from carecli.backend.contract import CreateExchangeRequest
    from carecli.engine.returns import ReplacementLine

    base = create_req(b, DELIVERED, lines, reason=reason, k=k)
    return CreateExchangeRequest(**base.model_dump(), replacements=(ReplacementLine(sku=sku, quantity=1),))


def settle(b, ro_id, *, accepted=True, note=""):
    b.receive_return(step(ro_id))
    ro = b.get_return(ro_id)
    b.verify_return(VerifyReturnRequest(return_id=ro_id, idempotency_key=key(), actor="agent.test",
                                        verdicts=tuple(LineVerdict(line_id=rl.line_id, accepted=accepted, note=note)
                                                       for rl in ro.lines)))
    return refund(b, ro_id)


def test_even_exchange_ships_a_linked_order_and_moves_no_money(backend):
    # ON-100005 line 2 is an Organic Cotton Tee (White / M) at 28.00; the L in white is the same price.
    before = backend.get_order(DELIVERED)
    docs_before = len(before.order.documents)
    r = backend.create_exchange(exchange_req(backend, "TEE-ORG-L-WHT"))
    ro, new = r.return_order, r.exchange_order
    assert ro.kind == "EXCHANGE" and ro.even and new is not None and ro.exchange_order_ref == new.ref
    assert [ln.sku for ln in new.lines] == ["TEE-ORG-L-WHT"]
    assert new.documents[0].total.is_zero  # the replacement ships at no charge
    assert any(lk.ref == new.ref and lk.kind == "exchange" for lk in backend.get_order(DELIVERED).links)
    assert any(lk.ref == DELIVERED and lk.kind == "exchange" for lk in backend.get_order(new.ref).links)
    done = settle(backend, ro.id)
    assert done.documents == [] and done.return_order.state == "REFUNDED"
    after = backend.get_order(DELIVERED).order
    assert len(after.documents) == docs_before and after.line(2).returned == 1
    assert backend.close_return(step(ro.id)).return_order.state == "CLOSED"
    assert backend.verify_audit() is None


def test_uneven_exchange_charges_the_difference_to_the_card(backend_factory):
    from carecli.engine.model import Invoice, Payment

    backend = backend_factory()
    # A Merino Crew Tee at 59.00 for the 28.00 organic tee: the customer pays the difference, with tax.
    r = backend.create_exchange(exchange_req(backend, "TEE-MER-M-BLK"))
    ro = r.return_order
    assert not ro.even and ro.replacement_value > Money("59.00", "USD")  # tax at the order's rate on top
    done = settle(backend, ro.id)
    inv = next(d for d in done.documents if isinstance(d, Invoice))
    pay = next(d for d in done.documents if isinstance(d, Payment))
    assert inv.type == "SUPPLEMENTARY" and pay.amount == inv.total
    assert sum((i.amount for i in inv.items), Money.zero("USD")) == inv.total
    order = backend.get_order(DELIVERED).order
    # the returned tee's value is what it was charged: its split of line 2 (28.00 and its tax)
    lp_total = ro.replacement_value - inv.total
    assert lp_total.is_positive
    assert any(k.endswith(inv.id) for k in backend_factory.gateway.captures)
    view = backend.get_order(DELIVERED)
    acct = backend.get_account(view.account.id)
    assert not ledger_problems([e.document for e in acct.ledger], order.currency)


def test_cheaper_exchange_refunds_the_difference(backend):
    # The 129.00 trail shoe (line 1) for a 28.00 tee: the customer gets the difference back.
    r = backend.create_exchange(exchange_req(backend, "TEE-ORG-M-BLK", lines=((1, 1),)))
    done = settle(backend, r.return_order.id)
    memo = next(d for d in done.documents if isinstance(d, CreditMemo))
    assert memo.type == "RETURN" and memo.total == done.return_order.refund_total
    assert sum((i.amount for i in memo.items), Money.zero("USD")) == memo.total
    assert any(isinstance(d, Refund) for d in done.documents)


def test_exchange_with_a_rejected_line_charges_the_replacement(backend):
    from carecli.engine.model import Invoice

    r = backend.create_exchange(exchange_req(backend, "TEE-ORG-L-WHT"))
    done = settle(backend, r.return_order.id, accepted=False, note="worn")
    inv = next(d for d in done.documents if isinstance(d, Invoice))
    assert inv.total == r.return_order.replacement_value  # nothing came back: the replacement is paid for


def test_exchange_refusals_change_nothing(backend):
    before = backend.get_order(DELIVERED).order
    with pytest.raises(RuleViolations) as e:
        backend.create_exchange(exchange_req(backend, "NO-SUCH-SKU"))
    assert [v.rule for v in e.value.violations] == ["sku.unknown"]
    with pytest.raises(RuleViolations):
        backend.create_exchange(exchange_req(backend, "TEE-ORG-L-WHT", lines=((2, 5),)))
    assert backend.get_order(DELIVERED).order == before and backend.list_returns(DELIVERED) == []
