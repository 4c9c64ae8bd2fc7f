"""What a no-charge replacement may still send, against every backend in conftest.

Written only against :class:`carecli.backend.contract.Backend`: a replacement sends at most what the
original has live, less what earlier replacements of it sent and what came back or is coming back on a
return. ON-100001 is the seed case (its jacket not yet delivered); ON-100005 is delivered (line 2: two
organic tees).
"""

from __future__ import annotations

import uuid

import pytest

from carecli.backend.contract import (
    Backend, CommitRequest, CreateReturnRequest, PlaceOrderRequest, PlaceOrderResult, RuleViolations,
)
from carecli.demo import SCENARIOS
from carecli.engine.commands import CancelOrder
from carecli.engine.placing import NewLine, NewOrder, OrderLink
from carecli.engine.returns import ReturnLineRequest

JACKET = SCENARIOS["chicago_jacket"]
DELIVERED = SCENARIOS["delivered_in_window"]


def key() -> str:
    return "test-" + uuid.uuid4().hex


def replacement(b: Backend, ref: str, *lines: tuple[str, int]) -> NewOrder:
    v = b.get_order(ref)
    return NewOrder(customer_id=v.customer.id, billing_account_id=v.account.id, market=v.order.market,
                    lines=tuple(NewLine(sku=s, quantity=q) for s, q in lines), fulfilment=v.order.fulfilment,
                    no_charge=True, link=OrderLink(kind="replacement", order_ref=ref))


def place(b: Backend, draft: NewOrder) -> PlaceOrderResult:
    return b.place_order(PlaceOrderRequest(draft=draft, idempotency_key=key(), actor="agent.test",
                                           reason_code="LOST_IN_TRANSIT"))


def replacements(b: Backend, ref: str) -> list[str]:
    return [lk.ref for lk in b.get_order(ref).links if lk.kind == "replacement" and lk.direction == "from"]


def test_the_same_units_cannot_be_replaced_twice(backend):
    line = backend.get_order(JACKET).order.lines[0]
    first = place(backend, replacement(backend, JACKET, (line.sku, line.quantity)))
    with pytest.raises(RuleViolations) as e:
        place(backend, replacement(backend, JACKET, (line.sku, 1)))
    (v,) = e.value.violations
    assert v.rule == "placing.replacement_lines" and f"already replaced by {first.order.ref}" in v.message
    assert replacements(backend, JACKET) == [first.order.ref]  # nothing placed the second time
    assert backend.verify_audit() is None


def test_a_cancelled_replacement_frees_its_units(backend):
    line = backend.get_order(JACKET).order.lines[0]
    first = place(backend, replacement(backend, JACKET, (line.sku, line.quantity)))
    backend.commit(CommitRequest(order_ref=first.order.ref, expected_version=first.order.version,
                                 amendments=(CancelOrder(),), reason_code="CUSTOMER_REQUEST",
                                 idempotency_key=key(), actor="agent.test"))
    again = place(backend, replacement(backend, JACKET, (line.sku, line.quantity)))
    assert replacements(backend, JACKET) == [first.order.ref, again.order.ref]


def test_units_on_a_return_are_not_replaced(backend):
    v = backend.get_order(DELIVERED)
    tee = v.order.line(2)
    assert tee.quantity == 2
    backend.create_return(CreateReturnRequest(
        order_ref=DELIVERED, expected_version=v.order.version, idempotency_key=key(), actor="agent.test",
        lines=(ReturnLineRequest(line_id=2, quantity=1, reason_code="WRONG_SIZE", condition="unopened"),)))
    with pytest.raises(RuleViolations) as e:
        place(backend, replacement(backend, DELIVERED, (tee.sku, 2)))
    assert "1 returned or on a return" in e.value.violations[0].message
    assert place(backend, replacement(backend, DELIVERED, (tee.sku, 1))).total.is_zero
