"""The seed's example, end to end in the engine, every figure checked by hand.

A Chicago customer bought the Alpine Shell Jacket in size M (189.00) and a Merino Beanie (49.00),
delivered to an outdated Chicago address (10.25 % combined sales tax). She now lives in Milwaukee, WI
(7.9 % combined). The agent swaps the jacket's size and corrects the address in one session.
"""

from carecli.engine.commands import ChangeAddress, ReplaceProduct
from carecli.engine.context import PlanContext
from carecli.engine.model import CreditMemo, Invoice, Payment, Refund, StoreCredit
from carecli.engine.plan import plan
from carecli.engine.settlement import ledger_problems

from .factory import MILWAUKEE, NOW, ctx, line, order, usd


def _order():
    return order(line(1, "JKT-M", allocated=1), line(2, "HAT", allocated=1))


def test_swap_to_a_dearer_size_and_move_to_milwaukee_is_one_supplementary_invoice():
    o = _order()
    p = plan(o, [ReplaceProduct(line_id=1, sku="JKT-L"), ChangeAddress(address=MILWAUKEE)],
             ctx(purpose="commit", reason_code="WRONG_SIZE", actor="agent.kim", idempotency_key="k-1"))
    assert p.ok, p.violations
    # Before: 189.00 + 49.00 = 238.00; tax 19.37 + 5.02 = 24.39 (Chicago 10.25 %); free shipping → 262.39
    assert p.totals_before.grand_total == usd("262.39")
    # After: 199.00 + 49.00 = 248.00; tax 199 × 7.9 % = 15.721 → 15.72 and 49 × 7.9 % = 3.871 → 3.87
    #        = 19.59 (Milwaukee); free shipping → 267.59
    assert p.totals_after.tax == usd("19.59")
    assert p.totals_after.grand_total == usd("267.59")
    assert p.delta == usd("5.20")
    # One supplementary invoice for 5.20: +10.00 on the jacket line, −4.80 of tax (24.39 → 19.59)
    invoices = [d for d in p.documents if isinstance(d, Invoice)]
    assert len(invoices) == 1 and not [d for d in p.documents if isinstance(d, CreditMemo)]
    inv = invoices[0]
    assert inv.type == "SUPPLEMENTARY" and inv.total == usd("5.20")
    assert [(i.kind, i.line_id, i.amount) for i in inv.items] == [("LINE", 1, usd("10.00")),
                                                                  ("TAX", None, usd("-4.80"))]
    pay = [d for d in p.documents if isinstance(d, Payment)]
    assert p.charge is not None and p.charge.amount == usd("5.20") and pay[0].amount == usd("5.20")
    # One notification (email only), one audit record, version 1 → 2
    assert len(p.notifications) == 1
    body = p.notifications[0].body
    assert "Milwaukee" in body and "USD 267.59" in body and "charged USD 5.20" in body
    assert p.audit.version_before == 1 and p.audit.version_after == 2 and p.order_after.version == 2
    assert p.audit.reason_code == "WRONG_SIZE" and p.audit.financial_effect["delta"]["amount"] == "5.20"
    assert ledger_problems(p.order_after.documents, "USD") == []


def test_swap_to_a_cheaper_size_and_move_is_one_credit_memo_refunded_to_the_card():
    o = _order()
    p = plan(o, [ReplaceProduct(line_id=1, sku="JKT-S"), ChangeAddress(address=MILWAUKEE)], ctx())
    assert p.ok, p.violations
    # After: 179.00 + 49.00 = 228.00; tax 179 × 7.9 % = 14.141 → 14.14, 3.87 → 18.01; total 246.01
    assert p.totals_after.grand_total == usd("246.01")
    assert p.delta == usd("-16.38")
    memos = [d for d in p.documents if isinstance(d, CreditMemo)]
    assert len(memos) == 1 and memos[0].type == "AMENDMENT" and memos[0].total == usd("16.38")
    # Items: jacket 189.00 → 179.00 = 10.00 credited; tax 24.39 → 18.01 = 6.38 credited
    assert [(i.kind, i.amount) for i in memos[0].items] == [("LINE", usd("10.00")), ("TAX", usd("6.38"))]
    refunds = [d for d in p.documents if isinstance(d, Refund)]
    assert [r.amount for r in refunds] == [usd("16.38")] and not [d for d in p.documents
                                                                  if isinstance(d, StoreCredit)]
    assert "refunding USD 16.38 to your Visa •••• 4242" in p.notifications[0].body
    assert ledger_problems(p.order_after.documents, "USD") == []


def test_preview_and_commit_compute_the_same_money():
    o = _order()
    cmds = [ReplaceProduct(line_id=1, sku="JKT-L"), ChangeAddress(address=MILWAUKEE)]
    preview = plan(o, cmds, ctx())
    commit = plan(o, cmds, PlanContext(**{**ctx().__dict__, "purpose": "commit", "reason_code": "WRONG_SIZE",
                                          "ids": lambda k: f"{k}-000001", "now": NOW}))
    assert preview.delta == commit.delta
    assert [d.doc for d in preview.documents] == [d.doc for d in commit.documents]
    assert commit.documents[0].id == "INV-000001" and preview.documents[0].id.startswith("INV-PREVIEW")
