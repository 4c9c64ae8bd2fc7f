"""plan(): the one pure function behind preview and commit.

``plan(order, amendments, ctx)`` answers, before anything is committed, whether every staged amendment
is allowed, what the order becomes, and exactly what money moves: the new order (version + 1), totals
before and after, the delta, the settlement documents, the customer notifications and the audit
record — or the list of refusals. The screens call it for the live preview; the stores call it inside
their commit transaction on the freshly read order. It reads no clock and makes no ids of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .amend import Working, apply, appeasement_money
from .audit import AuditRecord, make_record
from .commands import Amendment, AppeasementCredit, AppeasementDiscount
from .context import PlanContext
from .model import ClickAndCollect, Document, HomeDelivery, Order, Payment, Refund, StoreCredit, Stage, order_stage
from .money import Money
from .notifications import Notification, render_template
from .pricing import PricingError, Totals, price
from .rules import Violation, card_expired
from .settlement import Charge, appeasement_credited, ledger_sums, settle

__all__ = ["plan", "Plan", "Violation", "Charge"]


@dataclass(frozen=True)
class Plan:
    order_before: Order
    totals_before: Totals | None  # None only when the stored order cannot be priced
    violations: tuple[Violation, ...]
    order_after: Order | None  # version + 1, with the new documents appended
    totals_after: Totals | None
    delta: Money  # grand total after − before
    documents: tuple[Document, ...]  # new ledger documents, in the order they are written
    charge: Charge | None  # a supplementary invoice's capture, to take before applying
    store_credit_issued: Money
    notifications: tuple[Notification, ...]
    audit: AuditRecord | None
    changes: tuple[str, ...]  # one sentence per applied amendment

    @property
    def ok(self) -> bool:
        return not self.violations


def _refused(order: Order, totals: Totals | None, violations: list[Violation], changes=()) -> Plan:
    z = Money.zero(order.currency)
    return Plan(order, totals, tuple(violations), None, None, z, (), None, z, (), None, tuple(changes))


def reason_kind(amendments: Sequence[Amendment]) -> str:
    """Which list of policy reason codes a session's reason comes from: cancel, appeasement, amendment."""
    kinds = {a.kind for a in amendments}
    if "cancel_order" in kinds:
        return "cancel"
    if kinds and kinds <= {"appeasement_credit", "appeasement_discount"}:
        return "appeasement"
    return "amendment"


def _session_checks(order: Order, amendments: Sequence[Amendment], ctx: PlanContext) -> list[Violation]:
    out: list[Violation] = []
    if ctx.read_only:
        out.append(Violation("session.read_only", "this session is read-only; nothing can be changed"))
    if not amendments:
        out.append(Violation("session.empty", "nothing is staged; stage at least one change"))
    if ctx.purpose == "commit":
        kind = reason_kind(amendments)
        reason = ctx.policy.reason(ctx.reason_code) if ctx.reason_code else None
        if not ctx.reason_code:
            out.append(Violation("session.reason_required", "choose a reason code for this change"))
        elif reason is None or kind not in reason.kinds:
            codes = ", ".join(r.code for r in ctx.policy.reasons_for(kind))
            out.append(Violation("session.reason_unknown",
                                 f"{ctx.reason_code!r} is not a reason code for this kind of change ({kind}); "
                                 f"use one of: {codes}"))
    if order_stage(order) == Stage.CANCELLED:
        out.append(Violation("order.cancelled", f"order {order.ref} is cancelled; it can no longer be changed"))
    return out


def plan(order: Order, amendments: Sequence[Amendment], ctx: PlanContext) -> Plan:
    try:
        before = price(order, ctx.policy, ctx.locations)
    except PricingError as e:
        return _refused(order, None, [Violation("order.unpriceable", e.message)])
    violations = _session_checks(order, amendments, ctx)
    if violations:
        return _refused(order, before, violations)

    w = Working.of(order)
    for i, cmd in enumerate(amendments):
        v = apply(w, i, cmd, ctx)
        if v is not None:
            violations.append(v)
    if violations:
        return _refused(order, before, violations, w.changes)

    amended = w.freeze(order.version + 1)
    try:
        after = price(amended, ctx.policy, ctx.locations)
    except PricingError as e:
        return _refused(order, before, [Violation(e.rule, e.message)], w.changes)

    limit_violation = _appeasement_limit(order, amendments, w, before, after, ctx)
    if limit_violation:
        return _refused(order, before, [limit_violation], w.changes)

    descriptions = {ln.line_id: ln.description for ln in (*order.lines, *amended.lines)}
    s = settle(order, before, after, descriptions=descriptions, cancelled=w.cancelled,
               reason_code=ctx.reason_code, credits=[(c.amount, c.reason_code, c.settle_to) for c in w.credits],
               route=ctx.policy.refunds.route, ids=ctx.ids, now=ctx.now)
    # An appeasement credit gives back at most what the customer is charged for the order (after this
    # session's price change); goodwill granted earlier stays with the customer if the order is cancelled.
    net = ledger_sums((*order.documents, *s.documents), order.currency)
    if w.credits and (net.invoiced - net.credited).is_negative:
        owed = ledger_sums(order.documents, order.currency)
        return _refused(order, before, [Violation(
            "appeasement.exceeds_paid",
            f"credits on {order.ref} cannot exceed what the customer is charged for it; at most "
            f"{(owed.invoiced - owed.credited + (after.grand_total - before.grand_total).min(Money.zero(order.currency))).max(Money.zero(order.currency))} "
            "can still be credited", None, None)], w.changes)
    if s.charge is not None:
        pv = _payment_violation(order, ctx)
        if pv:
            return _refused(order, before, [pv], w.changes)

    new_order = amended.model_copy(update={"documents": order.documents + s.documents})
    delta = after.grand_total - before.grand_total
    notes = _notify(order, new_order, w, before, after, s.documents, ctx)
    record = _audit(order, new_order, amendments, before, after, s.documents, s.store_credit_issued, ctx)
    return Plan(order, before, (), new_order, after, delta, s.documents, s.charge, s.store_credit_issued,
                notes, record, tuple(w.changes))


def _appeasement_limit(order: Order, amendments: Sequence[Amendment], w: Working, before: Totals,
                       after: Totals, ctx: PlanContext) -> Violation | None:
    # Checked on every session, not only those that appease: a percentage appeasement discount grows
    # with the order, and must not grow past the limit through a later change either.
    idx = [i for i, a in enumerate(amendments) if isinstance(a, (AppeasementCredit, AppeasementDiscount))]
    prior = appeasement_credited(order)
    ids_before = {d.id for d in order.discounts if d.appeasement}
    ids_after = {d.id for d in w.discounts if d.appeasement}
    granted_before = prior + before.appeasement_discount(ids_before)
    granted_after = prior + appeasement_money(w) + after.appeasement_discount(ids_after)
    limit = ctx.policy.appeasement.limit(ctx.role, order.currency)
    if granted_after > limit and granted_after > granted_before:
        return Violation(
            "appeasement.limit",
            f"appeasements on {order.ref} would total {granted_after}, over the {ctx.role} limit of {limit} "
            f"({granted_before} already granted, {(limit - granted_before).max(Money.zero(order.currency))} left)",
            None, idx[-1] if idx else len(amendments) - 1,
        )
    return None


def _payment_violation(order: Order, ctx: PlanContext) -> Violation | None:
    pm = next((p for p in ctx.account.payment_methods if p.id == order.payment_method_id), None)
    if pm is None:
        return Violation("payment.no_method", f"order {order.ref} has no payment method on file for the extra charge")
    if card_expired(pm, ctx.now):
        return Violation("payment.expired", f"{pm.label()} expired {pm.expiry}; the extra charge cannot be taken")
    return None


def _money_lines(docs: Sequence[Document], ctx: PlanContext) -> list[str]:
    labels = {p.id: p.label() for p in ctx.account.payment_methods}
    out = []
    for d in docs:
        if isinstance(d, Refund):
            out.append(f"We are refunding {d.amount} to your {labels.get(d.payment_method_id, 'card')}; "
                       "it can take 3-5 business days to appear.")
        elif isinstance(d, StoreCredit):
            out.append(f"{d.amount} has been added to your store credit.")
        elif isinstance(d, Payment):
            out.append(f"We have charged {d.amount} to your {labels.get(d.payment_method_id, 'card')}.")
    return out


def _notify(order: Order, new: Order, w: Working, before: Totals, after: Totals,
            docs: Sequence[Document], ctx: PlanContext) -> tuple[Notification, ...]:
    appeasement_only = w.kinds <= {"appeasement_credit", "appeasement_discount"}
    if w.cancelled:
        kind = "ORDER_CANCELLED"
    elif appeasement_only:
        kind = "APPEASEMENT_GRANTED"
    else:
        kind = "ORDER_AMENDED"
    total_change = fulfilment_change = ""
    if not w.cancelled and before.grand_total != after.grand_total:
        total_change = f"New order total: {after.grand_total} (was {before.grand_total})."
    f = new.fulfilment
    if not w.cancelled and f != order.fulfilment:
        if isinstance(f, HomeDelivery):
            m = ctx.policy.shipping_method(f.shipping_method)
            fulfilment_change = (f"Delivery: {m.name if m else f.shipping_method} to {f.address.name}, "
                                 f"{f.address.one_line()}.")
        elif isinstance(f, ClickAndCollect):
            loc = ctx.locations.get(f.location_id)
            fulfilment_change = (f"Collect at: {loc.name if loc else f.location_id}, "
                                 f"{loc.address.one_line() if loc else ''}. We will tell you when it is ready.")
    money = _money_lines(docs, ctx)
    summary = [s for s in (total_change, fulfilment_change) if s] + money
    values = {
        "changes": "\n".join(f"- {c}" for c in w.changes), "summary": "\n".join(summary),
        "new_total": str(after.grand_total), "old_total": str(before.grand_total), "total_change": total_change,
        "fulfilment_change": fulfilment_change, "money_lines": "\n".join(money), "money": money[0] if money else "",
    }
    return render_template(kind=kind, event_id=f"{order.ref}/v{new.version}/{kind}", order_ref=order.ref,
                           customer=ctx.customer, values=values, at=ctx.now, templates=ctx.templates)


def _audit(order: Order, new: Order, amendments: Sequence[Amendment], before: Totals, after: Totals,
           docs: Sequence[Document], issued: Money, ctx: PlanContext) -> AuditRecord:
    effect = {
        "total_before": before.grand_total.to_json(),
        "total_after": after.grand_total.to_json(),
        "delta": (after.grand_total - before.grand_total).to_json(),
        "documents": [
            {"id": d.id, "doc": d.doc, "type": getattr(d, "type", None),
             "amount": (d.total if hasattr(d, "total") else d.amount).to_json()}
            for d in docs
        ],
        "store_credit_issued": issued.to_json(),
        "settlement": "none (no change in price)" if not docs else "documents issued",
    }
    return make_record(
        seq=ctx.audit_seq, at=ctx.now, actor=ctx.actor, role=ctx.role, order_ref=order.ref,
        version_before=order.version, version_after=new.version,
        command=[a.model_dump(mode="json") for a in amendments], reason_code=ctx.reason_code, note=ctx.note,
        financial_effect=effect, idempotency_key=ctx.idempotency_key, prev_hash=ctx.audit_prev_hash,
    )
