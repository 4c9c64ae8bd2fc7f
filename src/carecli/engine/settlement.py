"""Settlement: the money follows every change (DOMAIN §5).

``delta = grand total after − grand total before``:

* ``delta < 0`` → a credit memo for ``|delta|`` with an item per changed line, shipping and tax, settled
  by a refund to the original payment up to what it paid and is not yet refunded, the rest as store
  credit (or all store credit, by policy);
* ``delta > 0`` → a supplementary invoice for ``delta`` and a capture on the payment method on file
  (the caller charges it first; a decline refuses the whole commit);
* ``delta = 0`` → no document.

An appeasement credit is its own credit memo (type APPEASEMENT), settled where the agent chose.
Ledger invariant, per order, after every settlement:
``captured − refunded − store credit issued = Σ invoices − Σ credit memos``, ``refunded ≤ captured``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from .construct import builder
from .model import CreditMemo, Document, DocumentItem, Invoice, Order, Payment, Refund, StoreCredit
from .money import Money
from .pricing import Totals


@dataclass(frozen=True)
class Charge:
    """A payment to take before the commit is applied; a decline refuses the whole commit."""

    invoice_id: str
    payment_method_id: str
    amount: Money


@dataclass(frozen=True)
class LedgerSums:
    invoiced: Money
    credited: Money  # Σ credit memos
    captured: Money
    refunded: Money
    store_credit: Money
    credited_price: Money  # Σ credit memos but appeasement credits (those leave the price as it was)

    @property
    def balanced(self) -> bool:
        return (self.captured - self.refunded - self.store_credit) == (self.invoiced - self.credited)

    @property
    def ok(self) -> bool:
        """DOMAIN §5: balanced, refunded ≤ captured, no money balance below zero."""
        return (self.balanced and self.refunded <= self.captured and not self.refunded.is_negative
                and not self.store_credit.is_negative)


def ledger_sums(documents: Iterable[Document], currency: str) -> LedgerSums:
    z = Money.zero(currency)
    inv = cm = cm_price = cap = ref = sc = z
    for d in documents:
        if isinstance(d, Invoice):
            inv = inv + d.total
        elif isinstance(d, CreditMemo):
            cm = cm + d.total
            if d.type != "APPEASEMENT":
                cm_price = cm_price + d.total
        elif isinstance(d, Payment):
            cap = cap + d.amount
        elif isinstance(d, Refund):
            ref = ref + d.amount
        elif isinstance(d, StoreCredit):
            sc = sc + d.amount
    return LedgerSums(inv, cm, cap, ref, sc, cm_price)


def ledger_problems(documents: Sequence[Document], currency: str) -> list[str]:
    """What breaks DOMAIN §5's invariants in a set of documents (one order's, or one account's)."""
    s = ledger_sums(documents, currency)
    out = []
    if not s.balanced:
        out.append(f"captured {s.captured} − refunded {s.refunded} − store credit {s.store_credit} ≠ "
                   f"invoiced {s.invoiced} − credited {s.credited}")
    if s.refunded > s.captured:
        out.append(f"refunded {s.refunded} exceeds captured {s.captured}")
    for name, m in (("invoiced", s.invoiced), ("credited", s.credited), ("captured", s.captured),
                    ("refunded", s.refunded), ("store credit", s.store_credit)):
        if m.is_negative:
            out.append(f"{name} is below zero: {m}")
    return out


def refundable(order: Order, documents: Iterable[Document] = ()) -> Money:
    """What the original payment method paid on this order and has not had back yet."""
    pm = order.payment_method_id
    z = Money.zero(order.currency)
    if pm is None:
        return z
    cap = ref = z
    for d in (*order.documents, *documents):
        if isinstance(d, Payment) and d.payment_method_id == pm:
            cap = cap + d.amount
        elif isinstance(d, Refund) and d.payment_method_id == pm:
            ref = ref + d.amount
    return (cap - ref).max(z)


def order_invoice_id(order: Order) -> str | None:
    for d in order.documents:
        if isinstance(d, Invoice) and d.type == "ORDER":
            return d.id
    for d in order.documents:
        if isinstance(d, Invoice):
            return d.id
    return None


_build_item = builder(DocumentItem)


def _line_item(line_id: int, description: str, amount: Money) -> DocumentItem:
    """A LINE item built without re-validation from figures made here: a 2,000-line order has a
    changed item per line when an order discount moves, and validating each would dominate plan()."""
    return _build_item({"kind": "LINE", "line_id": line_id, "description": description, "amount": amount})


def change_items(before: Totals, after: Totals, descriptions: dict[int, str], sign: int = 1) -> list[DocumentItem]:
    """Items of the change: one per changed line, shipping, tax. ``sign`` 1 signs them as a credit
    (before − after, for a credit memo), −1 as a charge (after − before, for an invoice)."""
    cur = before.currency
    items: list[DocumentItem] = []
    zero = Money.zero(cur).amount
    b_by = {lp.line_id: lp for lp in before.lines}
    a_by = {lp.line_id: lp for lp in after.lines}
    ids = list(b_by) + [i for i in a_by if i not in b_by]
    tax = zero
    for lid in ids:
        b, a = b_by.get(lid), a_by.get(lid)
        b_tax, a_tax = (b.tax_d if b else zero), (a.tax_d if a else zero)
        b_ex = b.total_d - b_tax if b else zero
        a_ex = a.total_d - a_tax if a else zero
        tax += b_tax - a_tax
        if b_ex != a_ex:
            items.append(_line_item(lid, descriptions.get(lid, f"line {lid}"),
                                    Money._exact(sign * (b_ex - a_ex), cur)))
    ship = before.shipping_ex_tax.amount - after.shipping_ex_tax.amount
    if ship:
        items.append(DocumentItem(kind="SHIPPING", description="Shipping", amount=Money._exact(sign * ship, cur)))
    tax += before.shipping_tax.amount - after.shipping_tax.amount
    if tax:
        items.append(DocumentItem(kind="TAX", description="Tax", amount=Money._exact(sign * tax, cur)))
    return items


def _route(amount: Money, order: Order, written: list[Document], to_payment: bool,
           ids, now: datetime, memo_id: str) -> list[Document]:
    """Refund to the original payment (up to what is refundable) and the rest as store credit."""
    out: list[Document] = []
    refund = amount.min(refundable(order, written)) if to_payment else Money.zero(amount.currency)
    if refund.is_positive:
        out.append(Refund(id=ids("RF"), order_ref=order.ref, credit_memo_id=memo_id,
                          payment_method_id=order.payment_method_id, amount=refund, created_at=now))
    rest = amount - refund
    if rest.is_positive:
        out.append(StoreCredit(id=ids("SC"), order_ref=order.ref, credit_memo_id=memo_id, amount=rest,
                               created_at=now))
    return out


@dataclass(frozen=True)
class Settlement:
    documents: tuple[Document, ...]
    charge: Charge | None
    store_credit_issued: Money


def settle(
    order: Order, before: Totals, after: Totals, *, descriptions: dict[int, str], cancelled: bool,
    reason_code: str, credits: Sequence[tuple[Money, str, str]], route: str, ids, now: datetime,
) -> Settlement:
    """Documents for a priced change. ``credits`` are appeasement credits: (amount, reason, settle_to)."""
    cur = order.currency
    docs: list[Document] = []
    charge: Charge | None = None
    delta = after.grand_total - before.grand_total
    invoice_id = order_invoice_id(order)
    payment_first = route == "original_payment_first"
    if delta.is_negative:
        items = change_items(before, after, descriptions)
        memo = CreditMemo(id=ids("CM"), order_ref=order.ref, invoice_id=invoice_id,
                          type="CANCELLATION" if cancelled else "AMENDMENT", reason_code=reason_code,
                          items=tuple(items), total=-delta, created_at=now)
        docs.append(memo)
        docs.extend(_route(-delta, order, docs, payment_first, ids, now, memo.id))
    elif delta.is_positive:
        items = change_items(before, after, descriptions, sign=-1)
        inv = Invoice(id=ids("INV"), order_ref=order.ref, type="SUPPLEMENTARY", items=tuple(items), total=delta,
                      created_at=now, payment_method_id=order.payment_method_id)
        pay = Payment(id=ids("PAY"), order_ref=order.ref, invoice_id=inv.id,
                      payment_method_id=order.payment_method_id or "", amount=delta, created_at=now)
        docs.extend((inv, pay))
        charge = Charge(invoice_id=inv.id, payment_method_id=pay.payment_method_id, amount=delta)
    for amount, reason, settle_to in credits:
        memo = CreditMemo(id=ids("CM"), order_ref=order.ref, invoice_id=invoice_id, type="APPEASEMENT",
                          reason_code=reason, total=amount, created_at=now,
                          items=(DocumentItem(kind="APPEASEMENT", description=f"Appeasement ({reason})",
                                              amount=amount),))
        docs.append(memo)
        to_payment = settle_to == "ORIGINAL_PAYMENT"
        docs.extend(_route(amount, order, docs, to_payment, ids, now, memo.id))
    issued = Money.zero(cur)
    for d in docs:
        if isinstance(d, StoreCredit):
            issued = issued + d.amount
    return Settlement(tuple(docs), charge, issued)


def appeasement_credited(order: Order) -> Money:
    """Appeasement credits already granted on the order (items of kind APPEASEMENT)."""
    acc = Money.zero(order.currency)
    for d in order.documents:
        if isinstance(d, CreditMemo):
            for it in d.items:
                if it.kind == "APPEASEMENT":
                    acc = acc + it.amount
    return acc
