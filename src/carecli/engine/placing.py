"""Placing a new order: a phone order, a no-charge replacement, a re-order (or an exchange's new order).

``place(new, ctx) -> Placement`` is to order creation what :func:`carecli.engine.plan.plan` is to an
amendment: one pure function behind the live preview and the store's commit. It checks the draft
against the same rules as amendments (sku sellable, priced, in stock or backorderable; quantities;
address, shipping method, pickup store in the market; appeasement reason codes and the role's
cumulative limit), builds the order at version 1 (stage BOOKED), prices it with
:func:`carecli.engine.pricing.price` — the one pricing path — and returns the ledger documents (the
ORDER invoice and its capture; a zero-value REPLACEMENT invoice for a no-charge replacement), the
confirmation notification and the audit record; or the list of refusals. It reads no clock and makes
no ids of its own: the ref comes in the draft, the rest from ``ctx`` (:class:`~.context.PlanContext`).

A no-charge replacement prices every line at zero: the order's grand total, its invoice and anything a
later change credits are then all zero, so cancelling or returning a free replacement never refunds
money that was never paid. (It ships free: see :func:`~.pricing.price`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from .amend import Refused, _location, _variant
from .audit import AuditRecord, make_record
from .context import PlanContext
from .model import (
    Address, ClickAndCollect, Discount, Document, DocumentItem, Fulfilment, HomeDelivery, Invoice, Line,
    Order, Payment, Stage, order_stage,
)
from .money import Money
from .notifications import Notification, render_template
from .pricing import PricingError, Totals, price
from .rules import Violation, address_problems, card_expired
from .settlement import Charge, change_items

__all__ = ["NewLine", "NewOrder", "OrderLink", "Placement", "place", "placement_audit", "LinkKind", "replaceable",
           "customer_problems", "reason_kind_for", "placement_effect"]

LinkKind = Literal["replacement", "exchange", "reorder"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OrderLink(_Frozen):
    """How a new order relates to an earlier one: a replacement of, an exchange for, a re-order of."""

    kind: LinkKind
    order_ref: str = Field(min_length=1, max_length=64)  # the original order


class NewLine(_Frozen):
    sku: str = Field(min_length=1, max_length=64)
    quantity: StrictInt
    unit_price: Money | None = None  # None: today's catalog price in the market's currency


class NewOrder(_Frozen):
    """A draft order. ``ref`` is empty in a draft; the store gives it (``next_order_ref``)."""

    ref: str = Field("", max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    billing_account_id: str = Field(min_length=1, max_length=64)
    market: str = Field(min_length=1, max_length=8)  # policy market code: US, AU, DE
    lines: tuple[NewLine, ...] = Field(max_length=200)
    fulfilment: Fulfilment
    discounts: tuple[Discount, ...] = Field((), max_length=20)
    payment_method_id: str | None = None
    channel: str = Field("phone", min_length=1, max_length=32)
    no_charge: bool = False  # a replacement: zero-value REPLACEMENT invoice, no capture
    link: OrderLink | None = None


@dataclass(frozen=True)
class Placement:
    new: NewOrder
    violations: tuple[Violation, ...]
    order: Order | None  # version 1, stage BOOKED, with its documents
    totals: Totals | None
    documents: tuple[Document, ...]  # invoice (+ payment), in the order they are written
    charge: Charge | None  # the capture to take before writing; None when nothing is charged
    notifications: tuple[Notification, ...]
    audit: AuditRecord | None
    command: dict[str, Any] | None  # the canonical command of the audit record
    financial_effect: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return not self.violations


def _refused(new: NewOrder, violations: list[Violation], totals: Totals | None = None) -> Placement:
    return Placement(new, tuple(violations), None, totals, (), None, (), None, None, None)


def reason_kind_for(new: NewOrder) -> str | None:
    """The policy reason kind a draft needs: ``replacement`` for a replacement, else none required."""
    if new.link is not None and new.link.kind == "replacement":
        return "replacement"
    return None


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def _session(new: NewOrder, ctx: PlanContext) -> list[Violation]:
    out: list[Violation] = []
    if ctx.read_only:
        out.append(Violation("session.read_only", "this session is read-only; no order can be placed"))
    if new.customer_id != ctx.customer.id or new.billing_account_id != ctx.account.id \
            or ctx.account.customer_id != ctx.customer.id:
        out.append(Violation("placing.customer",
                             f"billing account {new.billing_account_id} is not the account of customer "
                             f"{new.customer_id}"))
    if not new.lines:
        out.append(Violation("placing.empty", "the order has no lines; add at least one product"))
    replacement = new.link is not None and new.link.kind == "replacement"
    if new.no_charge and not replacement:
        out.append(Violation("placing.no_charge",
                             "only a replacement of an earlier order can be placed at no charge"))
    if replacement and not new.no_charge:
        out.append(Violation("placing.no_charge", "a replacement order is placed at no charge"))
    if new.link is not None and new.link.order_ref.strip().upper() == new.ref.strip().upper() and new.ref:
        out.append(Violation("placing.link", f"order {new.ref} cannot be linked to itself"))
    kind = reason_kind_for(new)
    code = ctx.reason_code
    if kind is not None and ctx.purpose == "commit" and not code:
        out.append(Violation("session.reason_required", f"choose a reason code for this {kind}"))
    elif code:
        reason = ctx.policy.reason(code)
        if reason is None or (kind is not None and kind not in reason.kinds):
            codes = ", ".join(r.code for r in (ctx.policy.reasons_for(kind) if kind else ctx.policy.reason_codes))
            out.append(Violation("session.reason_unknown",
                                 f"{code!r} is not a reason code for {'a ' + kind if kind else 'this'}; "
                                 f"use one of: {codes}"))
    return out


def _lines(new: NewOrder, currency: str, market: str, ctx: PlanContext) -> tuple[list[Line], list[Violation]]:
    out: list[Line] = []
    violations: list[Violation] = []
    # _variant (amend.py) counts stock across the session: two lines of one sku need stock for both.
    stock = SimpleNamespace(order=SimpleNamespace(currency=currency, market=market), demand={})
    mx = ctx.policy.amendments.max_quantity
    override_ok = new.link is not None and new.link.kind in ("replacement", "exchange")
    for i, nl in enumerate(new.lines, start=1):
        q = nl.quantity
        if q < 1 or q > mx:
            violations.append(Violation("quantity.invalid",
                                        f"line {i}: quantity must be a whole number from 1 to {mx}, not {q}", i, i - 1))
            continue
        try:
            v = _variant(stock, ctx, nl.sku, q, i)  # type: ignore[arg-type]
        except Refused as r:
            violations.append(Violation(r.rule, f"line {i}: {r.message}", i, i - 1))
            continue
        unit = v.prices[currency]
        if nl.unit_price is not None and nl.unit_price != unit:
            if not override_ok:
                violations.append(Violation(
                    "placing.price_override",
                    f"line {i}: {v.description} sells at {unit} today; only a replacement or an exchange "
                    "may carry another price (use a discount within your limit instead)", i, i - 1))
                continue
            if nl.unit_price.currency != currency or nl.unit_price.is_negative:
                violations.append(Violation("placing.price_override",
                                            f"line {i}: a price is an amount of at least zero in {currency}, "
                                            f"not {nl.unit_price}", i, i - 1))
                continue
            unit = nl.unit_price
        if new.no_charge:
            unit = Money.zero(currency)
        out.append(Line(line_id=i, sku=v.sku, description=v.description, unit_price=unit,
                        tax_category=v.tax_category, category=v.category, final_sale=v.final_sale, ordered=q))
    return out, violations


def _fulfilment(new: NewOrder, currency: str, market: str, country: str, ctx: PlanContext) -> list[Violation]:
    f = new.fulfilment
    shim = SimpleNamespace(order=SimpleNamespace(currency=currency, market=market), demand={})
    if isinstance(f, HomeDelivery):
        problems = address_problems(f.address)
        if problems:
            return [Violation("address.invalid", "; ".join(p for _, p in problems))]
        if f.address.country != country:
            return [Violation("address.other_market", f"an order in the {market} market ships within {country} only")]
        if ctx.policy.tax_for(f.address.country, f.address.region, f.address.city) is None:
            return [Violation("address.no_tax_jurisdiction", f"no tax rate is set up for {f.address.one_line()}")]
        m = ctx.policy.shipping_method(f.shipping_method)
        if m is None or currency not in m.fee:
            return [Violation("shipping.unknown_method",
                              f"{f.shipping_method!r} is not a shipping method offered in {market}")]
        return []
    try:
        _location(shim, ctx, f.location_id)  # type: ignore[arg-type]
    except Refused as r:
        return [Violation(r.rule, r.message)]
    return []


def _discounts(new: NewOrder, currency: str, n_lines: int, ctx: PlanContext) -> tuple[list[Discount], list[Violation]]:
    """Care's discounts on a new order are appeasements: an appeasement reason code, a percentage or an
    amount, and (checked after pricing) the role's limit. Each gets a real id from ``ctx.ids``."""
    out: list[Discount] = []
    violations: list[Violation] = []
    codes = ", ".join(x.code for x in ctx.policy.reasons_for("appeasement"))
    for k, d in enumerate(new.discounts, start=1):
        r = ctx.policy.reason(d.reason_code)
        if r is None or "appeasement" not in r.kinds:
            violations.append(Violation("appeasement.reason", f"discount {k} needs one of these reason codes: {codes}"))
            continue
        if (d.percent is None) == (d.amount is None):
            violations.append(Violation("appeasement.shape",
                                        f"discount {k}: give a percentage or an amount, not both or neither"))
            continue
        if d.percent is not None and not (Decimal(0) < d.percent <= Decimal(100)):
            violations.append(Violation("appeasement.shape",
                                        f"discount {k}: a percentage is above 0 and at most 100, not {d.percent}"))
            continue
        if d.amount is not None and (d.amount.currency != currency or not d.amount.is_positive):
            violations.append(Violation("appeasement.amount",
                                        f"discount {k}: a positive amount in {currency}, not {d.amount}"))
            continue
        if d.line_id is not None and not (1 <= d.line_id <= n_lines):
            violations.append(Violation("line.unknown", f"discount {k} names line {d.line_id}; the order has "
                                                        f"lines 1 to {n_lines}", d.line_id))
            continue
        label = d.label or (f"Appeasement {d.percent}%" if d.percent is not None else f"Appeasement {d.amount}")
        out.append(d.model_copy(update={"id": ctx.ids("DSC"), "appeasement": True, "label": label}))
    return out, violations


def _payment(new: NewOrder, total: Money, ctx: PlanContext) -> Violation | None:
    if not total.is_positive:
        return None
    pm = next((p for p in ctx.account.payment_methods if p.id == new.payment_method_id), None)
    if new.payment_method_id is None or pm is None:
        return Violation("payment.no_method",
                         f"choose a payment method on file for the {total} to charge"
                         if new.payment_method_id is None else
                         f"{new.payment_method_id} is not a payment method of account {ctx.account.id}")
    if card_expired(pm, ctx.now):
        return Violation("payment.expired", f"{pm.label()} expired {pm.expiry}; choose another payment method")
    return None


# --------------------------------------------------------------------------------------------------
# place()
# --------------------------------------------------------------------------------------------------


def replaceable(original: Order, earlier: Sequence[Order] = ()) -> dict[str, int]:
    """Units of each sku a no-charge replacement of ``original`` may still send: what the order has
    live, less what came back or is coming back on a return (returned, return initiated), less what the
    ``earlier`` replacements of it still send (their live units: a cancelled replacement sent nothing)."""
    left: dict[str, int] = {}
    for ln in original.lines:
        n = ln.quantity - ln.returned - ln.return_initiated
        if ln.quantity > 0:
            left[ln.sku] = left.get(ln.sku, 0) + max(n, 0)
    for o in earlier:
        for ln in o.lines:
            if ln.sku in left and ln.quantity > 0:
                left[ln.sku] = max(left[ln.sku] - ln.quantity, 0)
    return left


def _link(new: NewOrder, original: Order | None, earlier: Sequence[Order] = ()) -> list[Violation]:
    """A linked order against its original (when the caller has it: the store always passes it, and
    for a replacement the earlier replacements of the same original)."""
    if new.link is None or original is None:
        return []
    ref = original.ref
    if original.customer_id != new.customer_id:
        return [Violation("placing.link", f"order {ref} belongs to another customer")]
    stage = order_stage(original)
    if new.link.kind == "reorder" and stage != Stage.CANCELLED:
        return [Violation("placing.link", f"only a cancelled order is placed again; {ref} is {stage.value}")]
    if new.link.kind == "replacement":
        if stage == Stage.CANCELLED:
            return [Violation("placing.link", f"order {ref} is cancelled; there is nothing to replace")]
        had: dict[str, int] = {}
        for ln in original.lines:
            if ln.quantity > 0:
                had[ln.sku] = had.get(ln.sku, 0) + ln.quantity
        left = replaceable(original, earlier)
        want: dict[str, int] = {}
        for nl in new.lines:
            want[nl.sku] = want.get(nl.sku, 0) + nl.quantity
        out = []
        for sku, q in want.items():
            if sku not in had:
                out.append(Violation("placing.replacement_lines", f"{sku} is not on order {ref}; a replacement "
                                     "sends again what the order has"))
            elif q > left[sku]:
                gone = []
                back = sum(ln.returned + ln.return_initiated for ln in original.lines if ln.sku == sku)
                sent = sum(ln.quantity for o in earlier for ln in o.lines if ln.sku == sku and ln.quantity > 0)
                if back:
                    gone.append(f"{back} returned or on a return")
                if sent:
                    refs = ", ".join(o.ref for o in earlier if any(ln.sku == sku and ln.quantity > 0
                                                                   for ln in o.lines))
                    gone.append(f"{sent} already replaced by {refs}")
                why = f" ({'; '.join(gone)})" if gone else ""
                out.append(Violation("placing.replacement_lines",
                                     f"order {ref} has {left[sku]} of {sku} left to replace{why}; a replacement "
                                     f"cannot send {q}"))
        return out
    return []


def place(new: NewOrder, ctx: PlanContext, original: Order | None = None,
          earlier: Sequence[Order] = ()) -> Placement:
    """Check, build and price a draft. ``ctx.ids`` gives INV, PAY and DSC ids; ``ctx.now`` the time.
    ``original`` is the order a linked draft (``new.link``) was placed from; ``earlier`` the
    replacements of it placed before (a replacement sends only what they have not)."""
    violations = _session(new, ctx)
    violations.extend(_link(new, original, earlier))
    market = ctx.policy.market(new.market)
    if market is None:
        known = ", ".join(m.code for m in ctx.policy.markets)
        violations.append(Violation("placing.market", f"{new.market!r} is not a market; use one of: {known}"))
        return _refused(new, violations)
    cur = market.currency
    if ctx.account.currency != cur:
        violations.append(Violation(
            "payment.currency",
            f"billing account {ctx.account.id} pays in {ctx.account.currency}; it cannot pay for an order in "
            f"the {market.code} market ({cur})"))
    lines, lv = _lines(new, cur, market.code, ctx)
    violations.extend(lv)
    violations.extend(_fulfilment(new, cur, market.code, market.country, ctx))
    discounts, dv = _discounts(new, cur, len(new.lines), ctx)
    violations.extend(dv)
    if violations:
        return _refused(new, violations)

    draft = Order(ref=new.ref or "ON-PREVIEW", version=1, customer_id=new.customer_id,
                  billing_account_id=new.billing_account_id, market=market.code, currency=cur,
                  tax_mode=market.tax_mode, channel=new.channel, placed_at=ctx.now, lines=tuple(lines),
                  fulfilment=new.fulfilment, discounts=tuple(discounts), payment_method_id=new.payment_method_id)
    try:
        totals = price(draft, ctx.policy, ctx.locations)
    except PricingError as e:
        return _refused(new, [Violation(e.rule, e.message)])

    granted = totals.appeasement_discount({d.id for d in discounts})
    limit = ctx.policy.appeasement.limit(ctx.role, cur)
    if granted > limit:
        return _refused(new, [Violation(
            "appeasement.limit",
            f"discounts on the new order would total {granted}, over the {ctx.role} limit of {limit}")], totals)
    pv = _payment(new, totals.grand_total, ctx)
    if pv is not None:
        return _refused(new, [pv], totals)

    documents, charge = _documents(draft, totals, new, ctx)
    order = draft.model_copy(update={"documents": documents})
    notes = _notify(order, totals, new, ctx)
    command = {"kind": "place_order", **new.model_dump(mode="json")}
    effect = placement_effect(order, totals)
    record = placement_audit(order, seq=ctx.audit_seq, prev_hash=ctx.audit_prev_hash, at=ctx.now, actor=ctx.actor,
                             role=ctx.role, reason_code=ctx.reason_code, note=ctx.note,
                             key=ctx.idempotency_key, command=command, financial_effect=effect)
    return Placement(new, (), order, totals, documents, charge, notes, record, command, effect)


def _documents(order: Order, totals: Totals, new: NewOrder, ctx: PlanContext
               ) -> tuple[tuple[Document, ...], Charge | None]:
    cur = order.currency
    zero = Money.zero(cur)
    if new.no_charge:
        # The record of what was sent: one zero item per line.
        items = tuple(DocumentItem(kind="LINE", line_id=ln.line_id, description=ln.description, amount=zero)
                      for ln in order.lines)
        inv = Invoice(id=ctx.ids("INV"), order_ref=order.ref, type="REPLACEMENT", items=items, total=zero,
                      created_at=ctx.now, payment_method_id=None)
        return (inv,), None
    empty = Totals(currency=cur, tax_mode=order.tax_mode, lines=(), subtotal=zero, discounts=zero, shipping=zero,
                   shipping_tax=zero, tax=zero, grand_total=zero, jurisdiction="", rate=Decimal(0),
                   discount_amounts=())
    descriptions = {ln.line_id: ln.description for ln in order.lines}
    items = tuple(change_items(empty, totals, descriptions, sign=-1))
    total = totals.grand_total
    inv = Invoice(id=ctx.ids("INV"), order_ref=order.ref, type="ORDER", items=items, total=total,
                  created_at=ctx.now, payment_method_id=new.payment_method_id if total.is_positive else None)
    if not total.is_positive:
        return (inv,), None
    pay = Payment(id=ctx.ids("PAY"), order_ref=order.ref, invoice_id=inv.id,
                  payment_method_id=new.payment_method_id or "", amount=total, created_at=ctx.now)
    return (inv, pay), Charge(invoice_id=inv.id, payment_method_id=pay.payment_method_id, amount=total)


def placement_effect(order: Order, totals: Totals | None = None) -> dict[str, Any]:
    """The audit record's financial effect of placing ``order`` (with its documents)."""
    zero = Money.zero(order.currency)
    total = totals.grand_total if totals is not None else sum(
        (d.total for d in order.documents if isinstance(d, Invoice)), zero)
    return {
        "total_before": zero.to_json(),
        "total_after": total.to_json(),
        "delta": total.to_json(),
        "documents": [
            {"id": d.id, "doc": d.doc, "type": getattr(d, "type", None),
             "amount": (d.total if hasattr(d, "total") else d.amount).to_json()}
            for d in order.documents
        ],
        "store_credit_issued": zero.to_json(),
        "settlement": "order placed" if total.is_positive else "order placed at no charge",
    }


def placement_audit(order: Order, *, seq: int, prev_hash: str, at: datetime, actor: str, role: str,
                    reason_code: str, note: str, key: str, command: dict[str, Any] | None = None,
                    financial_effect: dict[str, Any] | None = None) -> AuditRecord:
    """The audit record of a placed order (with its documents): version 0 → 1, the draft as its command."""
    return make_record(
        seq=seq, at=at, actor=actor, role=role, order_ref=order.ref, version_before=0,
        version_after=order.version, command=[command or {"kind": "place_order", "ref": order.ref}],
        reason_code=reason_code, note=note,
        financial_effect=financial_effect if financial_effect is not None else placement_effect(order),
        idempotency_key=key, prev_hash=prev_hash,
    )


# --------------------------------------------------------------------------------------------------
# The confirmation
# --------------------------------------------------------------------------------------------------


def _notify(order: Order, totals: Totals, new: NewOrder, ctx: PlanContext) -> tuple[Notification, ...]:
    replacement = new.no_charge
    kind = "REPLACEMENT_PLACED" if replacement else "ORDER_PLACED"
    items = [f"- {ln.quantity} × {ln.description}" + ("" if replacement else f" at {ln.unit_price} each")
             for ln in order.lines]
    summary: list[str] = []
    if not replacement:
        summary.append(f"Items {totals.subtotal}, discounts {totals.discounts}, shipping {totals.shipping}, "
                       f"tax {totals.tax}{' (included)' if order.tax_mode == 'INCLUSIVE' else ''}.")
        summary.append(f"Order total: {totals.grand_total}.")
    f = order.fulfilment
    if isinstance(f, HomeDelivery):
        m = ctx.policy.shipping_method(f.shipping_method)
        summary.append(f"Delivery: {m.name if m else f.shipping_method} to {f.address.name}, {f.address.one_line()}.")
    elif isinstance(f, ClickAndCollect):
        loc = ctx.locations.get(f.location_id)
        summary.append(f"Collect at: {loc.name if loc else f.location_id}"
                       f"{', ' + loc.address.one_line() if loc else ''}. We will tell you when it is ready.")
    labels = {p.id: p.label() for p in ctx.account.payment_methods}
    for d in order.documents:
        if isinstance(d, Payment):
            summary.append(f"We have charged {d.amount} to your {labels.get(d.payment_method_id, 'card')}.")
    original = new.link.order_ref if (replacement and new.link) else ""
    values = {"items": "\n".join(items), "summary": "\n".join(summary), "total": str(totals.grand_total),
              "original_ref": original, "replacing": f", replacing {original}" if original else ""}
    return render_template(kind=kind, event_id=f"{order.ref}/v1/{kind}", order_ref=order.ref, customer=ctx.customer,
                           values=values, at=ctx.now, templates=ctx.templates)


# --------------------------------------------------------------------------------------------------
# New customers
# --------------------------------------------------------------------------------------------------

import re as _re  # noqa: E402

_EMAIL = _re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_CONTROL = _re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PHONE = _re.compile(r"^\+?[0-9 ()\-]{6,20}$")


def customer_problems(name: str, email: str, phone: str, address: Address | None) -> list[Violation]:
    """What is wrong with a new customer's details, one Violation per field (field named first)."""
    out: list[Violation] = []
    if not name.strip():
        out.append(Violation("customer.invalid", "name: the name is missing"))
    elif len(name) > 100 or _CONTROL.search(name):
        out.append(Violation("customer.invalid", "name: at most 100 characters, no control characters"))
    if not _EMAIL.match(email.strip()) or len(email) > 254 or _CONTROL.search(email):
        out.append(Violation("customer.invalid", f"email: {email.strip()!r} is not an e-mail address"
                             if email.strip() else "email: the e-mail address is missing"))
    if phone.strip() and not _PHONE.match(phone.strip()):
        out.append(Violation("customer.invalid", f"phone: {phone.strip()!r} is not a phone number"))
    if address is not None:
        for fld, problem in address_problems(address):
            out.append(Violation("address.invalid", f"address {fld}: {problem}"))
    return out
