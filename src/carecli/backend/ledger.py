"""The billing-account ledger: the effect of each document on the customer's balance.

Sign convention — the balance is what the customer owes the merchant (accounts receivable):

============  ======  ==========================================================
document      effect  why
============  ======  ==========================================================
INVOICE       ``+``   the customer owes the invoiced amount
PAYMENT       ``−``   a capture on the customer's card pays it
CREDIT_MEMO   ``−``   the merchant now owes the customer the credited amount
REFUND        ``+``   money returned to the card settles what the merchant owed
STORE_CREDIT  ``+``   store credit issued settles it too; the credit itself now
                      sits in the account's store-credit balance, shown apart
============  ======  ==========================================================

So a settled order (and a settled account) sits at zero: Σ effects = 0 is exactly DOMAIN §5's
``captured − refunded − store credit issued = Σ invoices − Σ credit memos``. A positive balance is
money still to collect; a negative one is money owed to the customer and not yet refunded or
credited. :func:`ledger_problems` checks the invariants of DOMAIN §5 over any set of documents.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

from ..engine.model import CreditMemo, Invoice, Payment, Refund, StoreCredit
from ..engine.money import Money
from ..engine.settlement import ledger_problems as _engine_problems

SIGN = {"INVOICE": 1, "PAYMENT": -1, "CREDIT_MEMO": -1, "REFUND": 1, "STORE_CREDIT": 1}


def doc_amount(doc) -> Money:
    """The document's own (positive) amount: ``total`` for invoices and memos, else ``amount``."""
    return doc.total if isinstance(doc, (Invoice, CreditMemo)) else doc.amount


def effect(doc) -> Money:
    """The document's effect on the customer's balance (see the module docstring)."""
    amt = doc_amount(doc)
    return amt if SIGN[doc.doc] > 0 else -amt


def balance(docs: Iterable, currency: str) -> Money:
    acc = Money.zero(currency)
    for d in docs:
        acc = acc + effect(d)
    return acc


def ledger_problems(docs: Sequence, currency: str) -> list[str]:
    """The DOMAIN §5 invariants broken by these documents (empty when they all hold): the engine's
    checks (captured − refunded − store credit = invoiced − credited; refunded ≤ captured; no sum below
    zero), and per payment method and per credit memo:

    * refunded ≤ captured on each payment method;
    * no credit memo refunded or credited beyond its total; no document with a negative amount.
    """
    zero = Money.zero(currency)
    out: list[str] = list(_engine_problems(docs, currency))
    cap_by_pm: dict[str, Money] = defaultdict(lambda: zero)
    ref_by_pm: dict[str, Money] = defaultdict(lambda: zero)
    settled_by_cm: dict[str, Money] = defaultdict(lambda: zero)
    cm_total: dict[str, Money] = {}
    for d in docs:
        if isinstance(d, CreditMemo):
            cm_total[d.id] = d.total
        elif isinstance(d, Payment):
            cap_by_pm[d.payment_method_id] = cap_by_pm[d.payment_method_id] + d.amount
        elif isinstance(d, Refund):
            ref_by_pm[d.payment_method_id] = ref_by_pm[d.payment_method_id] + d.amount
            settled_by_cm[d.credit_memo_id] = settled_by_cm[d.credit_memo_id] + d.amount
        elif isinstance(d, StoreCredit):
            settled_by_cm[d.credit_memo_id] = settled_by_cm[d.credit_memo_id] + d.amount
        if doc_amount(d).is_negative:
            out.append(f"{d.doc} {d.id} has a negative amount {doc_amount(d)}")
    for pm, r in ref_by_pm.items():
        if r > cap_by_pm[pm]:
            out.append(f"payment method {pm}: refunded {r} exceeds captured {cap_by_pm[pm]}")
    for cm_id, settled in settled_by_cm.items():
        if cm_id in cm_total and settled > cm_total[cm_id]:
            out.append(f"credit memo {cm_id}: settled {settled} exceeds its total {cm_total[cm_id]}")
    return out
