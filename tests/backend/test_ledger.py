"""The ledger sign convention and the DOMAIN §5 invariant checks."""

from __future__ import annotations

from datetime import UTC, datetime

from carecli.backend.ledger import balance, effect, ledger_problems
from carecli.engine.model import CreditMemo, Invoice, Payment, Refund, StoreCredit
from carecli.engine.money import Money

T = datetime(2026, 1, 1, tzinfo=UTC)


def usd(a: str) -> Money:
    return Money(a, "USD")


INV = Invoice(id="INV-1", order_ref="ON-1", type="ORDER", total=usd("100.00"), created_at=T)
PAY = Payment(id="PAY-1", order_ref="ON-1", invoice_id="INV-1", payment_method_id="PM-1", amount=usd("100.00"),
              created_at=T)
CM = CreditMemo(id="CM-1", order_ref="ON-1", invoice_id="INV-1", type="AMENDMENT", reason_code="X", items=(),
                total=usd("30.00"), created_at=T)
RF = Refund(id="RF-1", order_ref="ON-1", credit_memo_id="CM-1", payment_method_id="PM-1", amount=usd("20.00"),
            created_at=T)
SC = StoreCredit(id="SC-1", order_ref="ON-1", credit_memo_id="CM-1", amount=usd("10.00"), created_at=T)


def test_signs():
    assert [effect(d) for d in (INV, PAY, CM, RF, SC)] == \
        [usd("100.00"), usd("-100.00"), usd("-30.00"), usd("20.00"), usd("10.00")]


def test_settled_is_zero_and_clean():
    docs = [INV, PAY, CM, RF, SC]
    assert balance(docs, "USD").is_zero
    assert ledger_problems(docs, "USD") == []


def test_unsettled_and_over_refunded_are_named():
    assert balance([INV], "USD") == usd("100.00")
    assert ledger_problems([INV], "USD")
    over = RF.model_copy(update={"amount": usd("130.00")})
    problems = ledger_problems([INV, PAY, CM, over, SC.model_copy(update={"amount": usd("-100.00")})], "USD")
    assert any("exceeds captured" in p for p in problems)
    assert any("settled" in p or "negative" in p for p in problems)
