"""Returns and refunds (DOMAIN §7): eligibility per line, the return order and its states, and the
refund to the cent.

Pure, like the rest of the engine: the clock, ids, policy and who is acting come in through a
:class:`~.context.PlanContext`. Each step is a function ``plan_…(…) -> ReturnPlan`` that either refuses
(``violations``) or says exactly what to write: the order with its buckets moved (and its version + 1),
the return order in its new state, the ledger documents, the notifications and the audit record.

The refund of a return is cent-exact and path independent. Each line's charged amount (its net ex tax
after every discount allocated to it, and its tax) is split over the line's live units once, by
largest remainder (:meth:`Money.allocate`), and a return refunds the next units of that *fixed*
split, in the order units come back: the k-th … m-th units returned get parts k … m. Returning units
one at a time therefore sums to exactly what returning them together gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from .audit import AuditRecord, make_record
from .context import PlanContext
from .model import (
    CreditMemo, Document, DocumentItem, Invoice, Line, Order, Payment, PickupLocation, Refund, Stage,
    StoreCredit, Variant, order_stage,
)
from .placing import NewLine, NewOrder, OrderLink
from .money import Money
from .notifications import Notification, render_template
from .policy import Policy
from .pricing import PricingError, Totals, price
from .rules import Violation, card_expired
from .settlement import Charge, ledger_sums, order_invoice_id, refundable

ReturnState = Literal["CREATED", "AWAITING_RECEIPT", "RECEIVED", "VERIFIED", "REFUNDED", "CLOSED"]
Verdict = Literal["PENDING", "ACCEPTED", "REJECTED"]
RefundTo = Literal["ORIGINAL_PAYMENT", "STORE_CREDIT"]

#: The transitions a return order may make; anything else is refused (``return.state``).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "CREATED": ("AWAITING_RECEIPT",),
    "AWAITING_RECEIPT": ("RECEIVED",),
    "RECEIVED": ("VERIFIED",),
    "VERIFIED": ("REFUNDED", "CLOSED"),  # CLOSED straight away only when every line was rejected
    "REFUNDED": ("CLOSED",),
    "CLOSED": (),
}

#: Conditions a returned item can be in, when policy names no restocking fees at all.
DEFAULT_CONDITIONS = ("unopened", "opened", "used", "damaged")

#: Rules an agent may override (with a reason, if policy lets the role): the ones about time and
#: merchandising. What is physically not there to return (not delivered, already returned) never is.
OVERRIDABLE = frozenset({"return.window_closed", "return.final_sale", "return.no_delivery_date"})


class _M(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------------
# The return order
# --------------------------------------------------------------------------------------------------


class ReturnLineRequest(_M):
    """One line of a return as the agent asks for it."""

    line_id: int
    quantity: int = Field(ge=1, le=100_000)
    reason_code: str = Field(max_length=40)
    condition: str = Field(max_length=20)
    comment: str = Field("", max_length=1000)


class Override(_M):
    """A failed rule the agent overrode on one line, with why (audited with the return)."""

    rule: str
    line_id: int
    reason: str = Field(max_length=500)
    actor: str = ""


class ReturnLine(_M):
    line_id: int
    sku: str
    description: str
    quantity: int
    reason_code: str
    condition: str
    comment: str = ""
    merchant_fault: bool = False
    verdict: Verdict = "PENDING"
    verdict_note: str = ""  # why it was accepted or rejected


class ReplacementLine(_M):
    """What an exchange sends instead: a sku and a quantity (at the catalog's current price)."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=100_000)


class StateChange(_M):
    state: ReturnState
    at: datetime
    actor: str


class ReturnOrder(_M):
    id: str  # RO-000001
    rma: str  # what the customer quotes: RMA-100005-1
    order_ref: str
    account_id: str
    currency: str
    state: ReturnState
    lines: tuple[ReturnLine, ...]
    overrides: tuple[Override, ...] = ()
    note: str = ""
    created_at: datetime
    history: tuple[StateChange, ...] = ()
    refund_to: RefundTo | None = None
    credit_memo_id: str | None = None
    refund_total: Money | None = None
    # An exchange: the replacement lines, the new order that ships them, and their value
    kind: Literal["RETURN", "EXCHANGE"] = "RETURN"
    replacements: tuple[ReplacementLine, ...] = ()
    exchange_order_ref: str | None = None
    replacement_value: Money | None = None  # merchandise + tax at the order's rate, no shipping
    even: bool | None = None  # an exchange at the same list price moves no money
    invoice_id: str | None = None  # the supplementary invoice when the replacement costs more
    charge_total: Money | None = None  # what that invoice charged (an exchange's extra charge)

    def line(self, line_id: int) -> ReturnLine | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)

    @property
    def units(self) -> int:
        return sum(ln.quantity for ln in self.lines)


class LineVerdict(_M):
    line_id: int
    accepted: bool
    note: str = Field("", max_length=500)


# --------------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------------


class LineEligibility(_M):
    """Whether a line can be returned now, and the rule that decided it."""

    line_id: int
    description: str
    delivered: int
    available: int  # delivered − return-initiated − returned
    returnable: bool
    rule: str  # "return.ok" when returnable, else the first rule that failed
    message: str
    overridable: bool = False
    window_ends: date | None = None  # the last day (UTC) a return is inside the window


def window_end(line: Line, policy: Policy) -> date | None:
    """The last day of the line's return window: the N-th calendar day (UTC) after the delivery day."""
    if line.delivered_at is None:
        return None
    at = line.delivered_at if line.delivered_at.tzinfo else line.delivered_at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).date() + timedelta(days=policy.returns.window_for(line.category))


def line_eligibility(order: Order, line: Line, policy: Policy, now: datetime) -> LineEligibility:
    available = line.delivered - line.return_initiated - line.returned
    end = window_end(line, policy)

    def result(rule: str, message: str) -> LineEligibility:
        return LineEligibility(line_id=line.line_id, description=line.description, delivered=line.delivered,
                               available=max(available, 0), returnable=rule == "return.ok", rule=rule,
                               message=message, overridable=rule in OVERRIDABLE, window_ends=end)

    n = line.line_id
    if order_stage(order) == Stage.CANCELLED:
        return result("return.order_cancelled", f"order {order.ref} is cancelled; nothing on it can be returned")
    if line.delivered <= 0:
        return result("return.not_delivered", f"line {n} is not delivered yet; it can be returned once it arrives")
    if available <= 0:
        pending = f"{line.return_initiated} on a return in progress" if line.return_initiated else ""
        done = f"{line.returned} returned" if line.returned else ""
        what = " and ".join(p for p in (pending, done) if p)
        return result("return.none_left",
                      f"every delivered unit of line {n} is already coming back or returned ({what})")
    if line.final_sale:
        return result("return.final_sale", f"line {n} was sold as final sale and cannot be returned")
    if end is None:
        return result("return.no_delivery_date",
                      f"line {n} has no delivery date, so its return window cannot be checked")
    today = now.astimezone(timezone.utc).date()
    days = policy.returns.window_for(line.category)
    if today > end:
        return result("return.window_closed",
                      f"line {n}'s {days}-day return window ended on {end.isoformat()}")
    return result("return.ok", f"{available} of line {n} can be returned until the end of {end.isoformat()} (UTC)")


def eligibility(order: Order, policy: Policy, now: datetime) -> list[LineEligibility]:
    return [line_eligibility(order, ln, policy, now) for ln in order.lines]


def conditions(policy: Policy) -> tuple[str, ...]:
    return tuple(policy.returns.restocking_fee_percent) or DEFAULT_CONDITIONS


def check_request(order: Order, lines: Sequence[ReturnLineRequest], overrides: Sequence[Override],
                  ctx: PlanContext) -> list[Violation]:
    """Everything wrong with a return request, each with its rule (empty when it may be created)."""
    pol = ctx.policy
    out: list[Violation] = []
    if ctx.read_only:
        out.append(Violation("session.read_only", "this session is read-only; nothing can be changed"))
    if not lines:
        out.append(Violation("return.empty", "choose at least one line and quantity to return"))
    seen: set[int] = set()
    over = {(o.line_id, o.rule): o for o in overrides}
    may_override = ctx.role in pol.returns.override_roles
    for i, req in enumerate(lines):
        ln = order.line(req.line_id)
        if ln is None:
            out.append(Violation("return.line_unknown", f"order {order.ref} has no line {req.line_id}",
                                 req.line_id, i))
            continue
        if req.line_id in seen:
            out.append(Violation("return.line_twice", f"line {req.line_id} is on the return twice; give it once "
                                                      "with the whole quantity", req.line_id, i))
            continue
        seen.add(req.line_id)
        reason = pol.reason(req.reason_code)
        if reason is None or "return" not in reason.kinds:
            codes = ", ".join(r.code for r in pol.reasons_for("return"))
            out.append(Violation("return.reason_unknown", f"{req.reason_code!r} is not a return reason; use one "
                                                          f"of: {codes}", req.line_id, i))
        if req.condition not in conditions(pol):
            out.append(Violation("return.condition_unknown",
                                 f"{req.condition!r} is not a condition; use one of: {', '.join(conditions(pol))}",
                                 req.line_id, i))
        e = line_eligibility(order, ln, pol, ctx.now)
        if not e.returnable:
            o = over.get((ln.line_id, e.rule))
            if o is None or not e.overridable:
                out.append(Violation(e.rule, e.message, ln.line_id, i))
            elif not may_override:
                out.append(Violation("return.override_role",
                                     f"a {ctx.role} cannot override {e.rule} ({e.message}); policy lets "
                                     f"{', '.join(pol.returns.override_roles) or 'nobody'} do it", ln.line_id, i))
            elif not o.reason.strip():
                out.append(Violation("return.override_reason",
                                     f"overriding {e.rule} on line {ln.line_id} needs a reason", ln.line_id, i))
            else:
                avail = ln.delivered - ln.return_initiated - ln.returned
                if req.quantity > avail:
                    out.append(Violation("return.quantity", f"line {ln.line_id} has {max(avail, 0)} unit(s) that "
                                                            f"can be returned, not {req.quantity}", ln.line_id, i))
            continue
        if req.quantity > e.available:
            out.append(Violation("return.quantity",
                                 f"line {ln.line_id} has {e.available} unit(s) that can be returned, not {req.quantity}",
                                 ln.line_id, i))
    for o in overrides:
        if o.rule not in OVERRIDABLE:
            out.append(Violation("return.override_rule", f"{o.rule} cannot be overridden", o.line_id))
    return out


# --------------------------------------------------------------------------------------------------
# The refund
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRefund:
    line_id: int
    description: str
    quantity: int
    first_unit: int  # 0-based index of the first unit of the line's fixed split this refund takes
    merchandise: Money  # ex tax
    tax: Money
    restocking_fee: Money  # positive: what is kept back


@dataclass(frozen=True)
class RefundBreakdown:
    """Every figure of a return's refund, as the preview shows it and the credit memo carries it."""

    currency: str
    lines: tuple[LineRefund, ...]
    merchandise: Money  # Σ lines, ex tax
    tax: Money  # lines' tax + shipping tax
    shipping: Money  # ex tax; zero unless the whole order came back or the merchant was at fault
    shipping_tax: Money
    restocking_fee: Money
    capped_by: Money  # what was held back so credits never exceed what the customer paid
    total: Money
    to_payment: Money
    to_store_credit: Money
    shipping_why: str

    def items(self) -> tuple[DocumentItem, ...]:
        out: list[DocumentItem] = []
        for lr in self.lines:
            out.append(DocumentItem(kind="LINE", line_id=lr.line_id, description=f"{lr.quantity} × {lr.description}",
                                    amount=lr.merchandise))
        if not self.shipping.is_zero:
            out.append(DocumentItem(kind="SHIPPING", description="Shipping", amount=self.shipping))
        if not self.tax.is_zero:
            out.append(DocumentItem(kind="TAX", description="Tax", amount=self.tax))
        if not self.restocking_fee.is_zero:
            out.append(DocumentItem(kind="RESTOCKING_FEE", description="Restocking fee", amount=-self.restocking_fee))
        if not self.capped_by.is_zero:
            out.append(DocumentItem(kind="ADJUSTMENT", description="Already credited on this order",
                                    amount=-self.capped_by))
        return tuple(out)


def unit_split(totals: Totals, line: Line) -> tuple[list[Money], list[Money]]:
    """The line's fixed per-unit split: (merchandise ex tax per unit, tax per unit), by largest remainder."""
    lp = totals.line(line.line_id)
    q = max(line.quantity, 0)
    if lp is None or q == 0:
        z = Money.zero(totals.currency)
        return [z] * q, [z] * q
    ones = [1] * q
    return lp.net_ex_tax.allocate(ones), lp.tax.allocate(ones)


def preview_lines(order: Order, requests: Sequence[ReturnLineRequest], policy: Policy) -> list[ReturnLine]:
    """Return lines for a refund preview before the return exists (every line taken as accepted)."""
    out = []
    for req in requests:
        ln = order.line(req.line_id)
        if ln is None:
            continue
        reason = policy.reason(req.reason_code)
        out.append(ReturnLine(line_id=ln.line_id, sku=ln.sku, description=ln.description, quantity=req.quantity,
                              reason_code=req.reason_code, condition=req.condition,
                              merchant_fault=bool(reason and reason.merchant_fault), verdict="ACCEPTED"))
    return out


def _shipping_refunded(order: Order) -> bool:
    return any(isinstance(d, CreditMemo) and d.type == "RETURN" and any(i.kind == "SHIPPING" for i in d.items)
               for d in order.documents)


def refund_breakdown(order: Order, ret_lines: Sequence[ReturnLine], policy: Policy,
                     locations: Mapping[str, PickupLocation], refund_to: RefundTo = "ORIGINAL_PAYMENT",
                     *, restocking: bool = True, whole_order_shipping: bool = True) -> RefundBreakdown:
    """The refund for ``ret_lines`` (the accepted ones) returned next on ``order``, as it stands.

    The units already ``returned`` on each line have taken the first parts of its split; these take the
    next ones. Raises :class:`PricingError` when the order cannot be priced.
    """
    cur = order.currency
    z = Money.zero(cur)
    totals = price(order, policy, locations)
    fees = policy.returns.restocking_fee_percent
    lines: list[LineRefund] = []
    merch = tax = fee = z
    coming: dict[int, int] = {}
    any_fault = False
    for rl in ret_lines:
        ln = order.line(rl.line_id)
        if ln is None:
            continue
        ex, tx = unit_split(totals, ln)
        k = ln.returned
        m = min(k + rl.quantity, len(ex))
        part_ex = sum((x for x in ex[k:m]), z)
        part_tx = sum((x for x in tx[k:m]), z)
        pct = Decimal(0) if rl.merchant_fault or not restocking else Decimal(fees.get(rl.condition, 0))
        f = part_ex.multiply(pct / 100, policy.rounding) if pct else z
        lines.append(LineRefund(ln.line_id, ln.description, m - k, k, part_ex, part_tx, f))
        merch, tax, fee = merch + part_ex, tax + part_tx, fee + f
        coming[ln.line_id] = coming.get(ln.line_id, 0) + (m - k)
        any_fault = any_fault or rl.merchant_fault
    whole = whole_order_shipping and all(ln.returned + coming.get(ln.line_id, 0) >= ln.quantity
                                         for ln in order.lines if ln.quantity > 0)
    ship = ship_tax = z
    if _shipping_refunded(order):
        why = "shipping was already refunded by an earlier return"
    elif not (whole or any_fault):
        why = ("shipping is refunded only when the whole order comes back or the merchant was at fault"
               if whole_order_shipping else "shipping is credited on an exchange only for the merchant's fault")
    elif totals.shipping.is_zero:
        why = "the order shipped free"
    else:
        ship, ship_tax = totals.shipping_ex_tax, totals.shipping_tax
        why = "the whole order came back" if whole else "the merchant was at fault"
    tax = tax + ship_tax
    gross = merch + tax + ship - fee
    # Credits on an order never exceed what the customer was charged for it (invoices − credit memos).
    s = ledger_sums(order.documents, cur)
    paid = (s.invoiced - s.credited).max(z)
    capped = (gross - paid).max(z)
    total = gross - capped
    to_pay = total.min(refundable(order)) if refund_to == "ORIGINAL_PAYMENT" else z
    return RefundBreakdown(cur, tuple(lines), merch, tax, ship, ship_tax, fee, capped, total, to_pay,
                           total - to_pay, why)


# --------------------------------------------------------------------------------------------------
# Planning each step
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnPlan:
    violations: tuple[Violation, ...] = ()
    order_after: Order | None = None  # None when the step leaves the order as it was
    return_order: ReturnOrder | None = None
    documents: tuple[Document, ...] = ()
    notifications: tuple[Notification, ...] = ()
    audit: AuditRecord | None = None
    breakdown: RefundBreakdown | None = None
    store_credit_issued: Money | None = None
    charge: Charge | None = None  # an exchange's supplementary invoice: capture it before writing
    exchange: "ExchangeSettlement | None" = None  # an exchange's settlement, figure by figure

    @property
    def ok(self) -> bool:
        return not self.violations


def _refuse(*violations: Violation) -> ReturnPlan:
    return ReturnPlan(violations=tuple(violations))


def rma_for(order_ref: str, n: int) -> str:
    """The reference the customer quotes: the order's number and the return's ordinal on it."""
    digits = "".join(ch for ch in order_ref if ch.isdigit()) or order_ref
    return f"RMA-{digits}-{n}"


def _with_lines(order: Order, changes: Mapping[int, tuple[int, int]], docs: Sequence[Document] = ()) -> Order:
    """The order with (return_initiated, returned) moved per line, version + 1, documents appended."""
    lines = []
    for ln in order.lines:
        d = changes.get(ln.line_id)
        if d:
            ln = ln.model_copy(update={"return_initiated": ln.return_initiated + d[0], "returned": ln.returned + d[1]})
        lines.append(ln)
    return order.model_copy(update={"lines": tuple(lines), "version": order.version + 1,
                                    "documents": order.documents + tuple(docs)})


def _audit(order: Order, after: Order | None, command: dict, effect: dict, ctx: PlanContext,
           reason: str = "") -> AuditRecord:
    return make_record(
        seq=ctx.audit_seq, at=ctx.now, actor=ctx.actor, role=ctx.role, order_ref=order.ref,
        version_before=order.version, version_after=(after or order).version, command=[command],
        reason_code=reason, note=ctx.note, financial_effect=effect, idempotency_key=ctx.idempotency_key,
        prev_hash=ctx.audit_prev_hash,
    )


def _no_money(order: Order) -> dict:
    return {"settlement": "none (a return step that moves no money)", "documents": [],
            "delta": Money.zero(order.currency).to_json()}


def _notify(ret: ReturnOrder, kind: str, values: Mapping[str, str], ctx: PlanContext) -> tuple[Notification, ...]:
    return render_template(kind=kind, event_id=f"{ret.id}/{kind}", order_ref=ret.order_ref, customer=ctx.customer,
                           values={"rma": ret.rma, **values}, at=ctx.now, templates=ctx.templates)


def _step(ret: ReturnOrder, to: str, ctx: PlanContext) -> Violation | None:
    if ctx.read_only:
        return Violation("session.read_only", "this session is read-only; nothing can be changed")
    if to not in TRANSITIONS.get(ret.state, ()):
        allowed = ", ".join(TRANSITIONS.get(ret.state, ())) or "nothing (it is closed)"
        return Violation("return.state", f"return {ret.id} is {ret.state}; it can move to {allowed}, not {to}")
    return None


@dataclass(frozen=True)
class Exchange:
    """What an exchange adds to a return: the replacements and the new order that ships them."""

    replacements: tuple[ReplacementLine, ...]
    order_ref: str
    value: Money
    even: bool


def plan_create(order: Order, lines: Sequence[ReturnLineRequest], overrides: Sequence[Override], ctx: PlanContext,
                *, ro_id: str, ordinal: int, exchange: Exchange | None = None) -> ReturnPlan:
    """A new return order: CREATED, and at once AWAITING_RECEIPT (the customer gets the RMA). With
    ``exchange``, the return of an exchange whose replacement order is placed in the same change."""
    problems = check_request(order, lines, overrides, ctx)
    if problems:
        return _refuse(*problems)
    pol = ctx.policy
    rlines = []
    for req in lines:
        ln = order.line(req.line_id)
        assert ln is not None
        reason = pol.reason(req.reason_code)
        rlines.append(ReturnLine(line_id=ln.line_id, sku=ln.sku, description=ln.description, quantity=req.quantity,
                                 reason_code=req.reason_code, condition=req.condition, comment=req.comment.strip(),
                                 merchant_fault=bool(reason and reason.merchant_fault)))
    # Only overrides that overrode something are kept (and audited), stamped with who made them.
    failed = {(ln.line_id, line_eligibility(order, ln, pol, ctx.now).rule) for ln in order.lines}
    kept = tuple(o.model_copy(update={"actor": ctx.actor, "reason": o.reason.strip()})
                 for o in overrides if (o.line_id, o.rule) in failed)
    ret = ReturnOrder(
        id=ro_id, rma=rma_for(order.ref, ordinal), order_ref=order.ref, account_id=order.billing_account_id,
        currency=order.currency, state="AWAITING_RECEIPT", lines=tuple(rlines), overrides=kept, note=ctx.note,
        created_at=ctx.now,
        history=(StateChange(state="CREATED", at=ctx.now, actor=ctx.actor),
                 StateChange(state="AWAITING_RECEIPT", at=ctx.now, actor=ctx.actor)),
    )
    if exchange is not None:
        ret = ret.model_copy(update={"kind": "EXCHANGE", "replacements": exchange.replacements,
                                     "exchange_order_ref": exchange.order_ref, "replacement_value": exchange.value,
                                     "even": exchange.even})
    after = _with_lines(order, {rl.line_id: (rl.quantity, 0) for rl in rlines})
    items = [f"- {rl.quantity} × {rl.description}" for rl in rlines]
    if exchange is not None:
        items += ["", f"Your replacement ships now as order {exchange.order_ref}."
                  + (" It is an even exchange: no money moves." if exchange.even else
                     " We settle the difference in price when your return has been checked.")]
    notes = _notify(ret, "RETURN_CREATED", {"items": "\n".join(items), "units": str(ret.units)}, ctx)
    command = {"kind": "return_create", "return_id": ret.id, "rma": ret.rma,
               "lines": [r.model_dump(mode="json") for r in lines],
               "overrides": [o.model_dump(mode="json") for o in kept]}
    if exchange is not None:
        command["exchange"] = {"order_ref": exchange.order_ref, "value": exchange.value.to_json(),
                               "even": exchange.even,
                               "replacements": [r.model_dump(mode="json") for r in exchange.replacements]}
    reason = rlines[0].reason_code if len({r.reason_code for r in rlines}) == 1 else "MIXED"
    return ReturnPlan(order_after=after, return_order=ret, notifications=notes,
                      audit=_audit(order, after, command, _no_money(order), ctx, reason))


def plan_receive(order: Order, ret: ReturnOrder, ctx: PlanContext) -> ReturnPlan:
    v = _step(ret, "RECEIVED", ctx)
    if v:
        return _refuse(v)
    new = ret.model_copy(update={"state": "RECEIVED",
                                 "history": ret.history + (StateChange(state="RECEIVED", at=ctx.now, actor=ctx.actor),)})
    notes = _notify(new, "RETURN_RECEIVED", {}, ctx)
    command = {"kind": "return_receive", "return_id": ret.id}
    return ReturnPlan(return_order=new, notifications=notes, audit=_audit(order, None, command, _no_money(order), ctx))


def plan_verify(order: Order, ret: ReturnOrder, verdicts: Sequence[LineVerdict], ctx: PlanContext) -> ReturnPlan:
    """Each line accepted or rejected, with why. A rejected line's units stop being "return initiated"
    (they go back to the customer); accepted ones stay initiated until the refund moves them to returned."""
    v = _step(ret, "VERIFIED", ctx)
    if v:
        return _refuse(v)
    by = {}
    out: list[Violation] = []
    for vd in verdicts:
        if ret.line(vd.line_id) is None:
            out.append(Violation("return.line_unknown", f"return {ret.id} has no line {vd.line_id}", vd.line_id))
        elif vd.line_id in by:
            out.append(Violation("return.line_twice", f"line {vd.line_id} has two verdicts", vd.line_id))
        else:
            by[vd.line_id] = vd
    for rl in ret.lines:
        vd = by.get(rl.line_id)
        if vd is None:
            out.append(Violation("return.verdict_missing", f"line {rl.line_id} of {ret.id} needs a verdict "
                                                           "(accepted or rejected)", rl.line_id))
        elif not vd.accepted and not vd.note.strip():
            out.append(Violation("return.verdict_reason", f"rejecting line {rl.line_id} needs a reason the "
                                                          "customer can be told", rl.line_id))
    if out:
        return _refuse(*out)
    lines = tuple(rl.model_copy(update={"verdict": "ACCEPTED" if by[rl.line_id].accepted else "REJECTED",
                                        "verdict_note": by[rl.line_id].note.strip()}) for rl in ret.lines)
    new = ret.model_copy(update={"state": "VERIFIED", "lines": lines,
                                 "history": ret.history + (StateChange(state="VERIFIED", at=ctx.now, actor=ctx.actor),)})
    rejected = {rl.line_id: (-rl.quantity, 0) for rl in lines if rl.verdict == "REJECTED"}
    after = _with_lines(order, rejected) if rejected else None
    command = {"kind": "return_verify", "return_id": ret.id,
               "verdicts": [by[rl.line_id].model_dump(mode="json") for rl in ret.lines]}
    return ReturnPlan(order_after=after, return_order=new, audit=_audit(order, after, command, _no_money(order), ctx))


def _credit(order: Order, reason: str, items: tuple[DocumentItem, ...], total: Money, to_payment: Money,
            to_store_credit: Money, ctx: PlanContext) -> list[Document]:
    """A RETURN credit memo and how it is settled: a refund to the order's card, store credit, or both."""
    memo = CreditMemo(id=ctx.ids("CM"), order_ref=order.ref, invoice_id=order_invoice_id(order), type="RETURN",
                      reason_code=reason, items=items, total=total, created_at=ctx.now)
    docs: list[Document] = [memo]
    if to_payment.is_positive:
        docs.append(Refund(id=ctx.ids("RF"), order_ref=order.ref, credit_memo_id=memo.id,
                           payment_method_id=order.payment_method_id or "", amount=to_payment, created_at=ctx.now))
    if to_store_credit.is_positive:
        docs.append(StoreCredit(id=ctx.ids("SC"), order_ref=order.ref, credit_memo_id=memo.id,
                                amount=to_store_credit, created_at=ctx.now))
    return docs


def plan_refund(order: Order, ret: ReturnOrder, refund_to: RefundTo, ctx: PlanContext) -> ReturnPlan:
    """The credit memo (type RETURN) for the accepted lines, settled to the card (up to what it paid and
    has not had back, the rest as store credit) or as store credit; the units move to ``returned``."""
    v = _step(ret, "REFUNDED", ctx)
    if v:
        return _refuse(v)
    if ret.kind == "EXCHANGE":
        return plan_exchange_settle(order, ret, refund_to, ctx)
    accepted = [rl for rl in ret.lines if rl.verdict == "ACCEPTED"]
    if not accepted:
        return _refuse(Violation("return.nothing_accepted",
                                 f"no line of {ret.id} was accepted; close it instead of refunding"))
    try:
        b = refund_breakdown(order, accepted, ctx.policy, ctx.locations, refund_to)
    except PricingError as e:
        return _refuse(Violation("order.unpriceable", e.message))
    cur = order.currency
    docs: list[Document] = []
    memo_id = None
    if b.total.is_positive:
        docs = _credit(order, accepted[0].reason_code, b.items(), b.total, b.to_payment, b.to_store_credit, ctx)
        memo_id = docs[0].id
    after = _with_lines(order, {rl.line_id: (-rl.quantity, rl.quantity) for rl in accepted}, docs)
    new = ret.model_copy(update={
        "state": "REFUNDED", "refund_to": refund_to, "credit_memo_id": memo_id, "refund_total": b.total,
        "history": ret.history + (StateChange(state="REFUNDED", at=ctx.now, actor=ctx.actor),)})
    labels = {p.id: p.label() for p in ctx.account.payment_methods}
    money = []
    if b.to_payment.is_positive:
        money.append(f"We are refunding {b.to_payment} to your {labels.get(order.payment_method_id or '', 'card')}; "
                     "it can take 3-5 business days to appear.")
    if b.to_store_credit.is_positive:
        money.append(f"{b.to_store_credit} has been added to your store credit.")
    rejected = [rl for rl in ret.lines if rl.verdict == "REJECTED"]
    items = [*(f"- accepted: {rl.quantity} × {rl.description}" for rl in accepted),
             *(f"- not accepted: {rl.quantity} × {rl.description} ({rl.verdict_note})" for rl in rejected)]
    notes = _notify(new, "RETURN_REFUNDED", {"items": "\n".join(items), "refund_total": str(b.total),
                                             "money_lines": "\n".join(money), "money": money[0] if money else ""}, ctx)
    issued = b.to_store_credit if memo_id else Money.zero(cur)
    effect = {
        "settlement": "documents issued" if docs else "none (nothing to refund)",
        "documents": [{"id": d.id, "doc": d.doc, "type": getattr(d, "type", None),
                       "amount": (d.total if isinstance(d, CreditMemo) else d.amount).to_json()} for d in docs],
        "refund_total": b.total.to_json(), "restocking_fee": b.restocking_fee.to_json(),
        "shipping": b.shipping.to_json(), "store_credit_issued": issued.to_json(),
        "delta": Money.zero(cur).to_json(),
    }
    command = {"kind": "return_refund", "return_id": ret.id, "refund_to": refund_to}
    return ReturnPlan(order_after=after, return_order=new, documents=tuple(docs), notifications=notes,
                      audit=_audit(order, after, command, effect, ctx, accepted[0].reason_code), breakdown=b,
                      store_credit_issued=issued)


def plan_close(order: Order, ret: ReturnOrder, ctx: PlanContext) -> ReturnPlan:
    v = _step(ret, "CLOSED", ctx)
    if v:
        return _refuse(v)
    if ret.state == "VERIFIED" and (ret.kind == "EXCHANGE" or any(rl.verdict == "ACCEPTED" for rl in ret.lines)):
        return _refuse(Violation("return.refund_first", f"return {ret.id} has accepted lines; refund it before "
                                                        "closing it"))
    new = ret.model_copy(update={"state": "CLOSED",
                                 "history": ret.history + (StateChange(state="CLOSED", at=ctx.now, actor=ctx.actor),)})
    command = {"kind": "return_close", "return_id": ret.id}
    return ReturnPlan(return_order=new, audit=_audit(order, None, command, _no_money(order), ctx))


# --------------------------------------------------------------------------------------------------
# Exchanges
# --------------------------------------------------------------------------------------------------


def replacement_problems(order: Order, replacements: Sequence[ReplacementLine], catalog: Mapping[str, Variant]
                         ) -> list[Violation]:
    out: list[Violation] = []
    if not replacements:
        out.append(Violation("exchange.empty", "an exchange needs at least one replacement line"))
    for i, r in enumerate(replacements):
        v = catalog.get(r.sku)
        if v is None:
            out.append(Violation("sku.unknown", f"replacement {i + 1}: {r.sku!r} is not in the catalog", None, i))
        elif order.currency not in v.prices:
            out.append(Violation("sku.no_price", f"replacement {i + 1}: {v.description} has no price in "
                                                 f"{order.currency}", None, i))
    return out


def replacement_value(order: Order, replacements: Sequence[ReplacementLine], policy: Policy,
                      locations: Mapping[str, PickupLocation], catalog: Mapping[str, Variant]) -> Money:
    """What the replacement lines are worth: catalog price × quantity plus tax at the order's rate (the
    same destination), no shipping (an exchange ships free)."""
    lines = tuple(Line(line_id=i + 1, sku=r.sku, description=catalog[r.sku].description,
                       unit_price=catalog[r.sku].prices[order.currency], tax_category=catalog[r.sku].tax_category,
                       ordered=r.quantity) for i, r in enumerate(replacements))
    t = price(order.model_copy(update={"lines": lines, "discounts": (), "documents": ()}), policy, locations)
    return sum((lp.total for lp in t.lines), Money.zero(order.currency))


def is_even(order: Order, lines: Sequence[ReturnLine], replacements: Sequence[ReplacementLine],
            catalog: Mapping[str, Variant]) -> bool:
    """Even: the replacements' list price equals the returned units' price at purchase (a size swap)."""
    z = Money.zero(order.currency)
    back = sum((order.line(rl.line_id).unit_price * rl.quantity for rl in lines if order.line(rl.line_id)), z)
    out = sum((catalog[r.sku].prices[order.currency] * r.quantity for r in replacements), z)
    return back == out


def exchange_draft(order: Order, replacements: Sequence[ReplacementLine]) -> NewOrder:
    """The new order that ships the replacements: linked to the original (kind exchange), to the same
    place, each line at zero (the money is settled on the original order, so the new one ships free)."""
    return NewOrder(customer_id=order.customer_id, billing_account_id=order.billing_account_id, market=order.market,
                    lines=tuple(NewLine(sku=r.sku, quantity=r.quantity, unit_price=Money.zero(order.currency))
                                for r in replacements),
                    fulfilment=order.fulfilment, payment_method_id=order.payment_method_id, channel="exchange",
                    link=OrderLink(kind="exchange", order_ref=order.ref))


@dataclass(frozen=True)
class ExchangeSettlement:
    """Every figure of an exchange's settlement: what comes back, what goes out, and the net.

    The exchange dialog (before anything is created), the settle dialog and the settle step itself
    (:func:`plan_exchange_settle`) all take their figures from :func:`exchange_settlement`, so the
    screens show exactly what the store records.
    """

    currency: str
    back: RefundBreakdown  # the accepted returned units, as charged (no restocking fee on an exchange)
    returned_value: Money  # merchandise + tax + shipping (merchant's fault only) of what comes back
    replacement_value: Money  # the replacements at their catalog price, with tax at the order's rate
    even: bool  # same list price and every line accepted: no money moves, whatever the figures say
    delta: Money  # replacement − returned: > 0 the customer pays more, < 0 gets money back
    credit: Money  # the credit memo's total when money comes back (capped at what was paid)
    capped_by: Money  # what the cap held back ("already credited on this order")
    to_payment: Money  # of the credit: back to the original card
    to_store_credit: Money  # of the credit: as store credit
    charge: Money  # the supplementary invoice when the replacement costs more

    @property
    def outcome(self) -> Literal["even", "charge", "refund", "none"]:
        if self.even:
            return "even"
        if self.charge.is_positive:
            return "charge"
        return "refund" if self.credit.is_positive else "none"


def exchange_settlement(order: Order, accepted: Sequence[ReturnLine], replacement_value: Money, even: bool,
                        refund_to: RefundTo, policy: Policy, locations: Mapping[str, PickupLocation]
                        ) -> ExchangeSettlement:
    """The settlement of an exchange whose ``accepted`` lines came back, against replacements worth
    ``replacement_value``; ``even`` when the exchange was even and every line was accepted. Raises
    :class:`PricingError` when the order cannot be priced."""
    cur = order.currency
    z = Money.zero(cur)
    # The customer keeps a delivery (the replacement ships free), so the original shipping comes back
    # only for the merchant's fault; no restocking fee on an exchange.
    b = refund_breakdown(order, accepted, policy, locations, refund_to, restocking=False,
                         whole_order_shipping=False)
    gross = b.merchandise + b.tax + b.shipping  # what the returned units are worth, before any cap
    delta = z if even else replacement_value - gross
    credit = capped = to_pay = charge = z
    if delta.is_negative:
        s = ledger_sums(order.documents, cur)
        paid = (s.invoiced - s.credited).max(z)
        credit = (-delta).min(paid)
        capped = -delta - credit
        to_pay = credit.min(refundable(order)) if refund_to == "ORIGINAL_PAYMENT" else z
    elif delta.is_positive:
        charge = delta
    return ExchangeSettlement(cur, b, gross, replacement_value, even, delta, credit, capped, to_pay,
                              credit - to_pay, charge)


def exchange_terms(order: Order, lines: Sequence[ReturnLineRequest | ReturnLine],
                   replacements: Sequence[ReplacementLine], policy: Policy,
                   locations: Mapping[str, PickupLocation], catalog: Mapping[str, Variant]) -> tuple[Money, bool]:
    """(the replacements' value, whether the exchange is even), as an exchange is created with them.
    Raises :class:`PricingError` when the replacements cannot be priced."""
    value = replacement_value(order, replacements, policy, locations, catalog)
    even = all(order.line(r.line_id) for r in lines) and is_even(order, lines, replacements, catalog)  # type: ignore[arg-type]
    return value, bool(even)


def preview_exchange(order: Order, draft: Sequence[ReturnLineRequest], replacements: Sequence[ReplacementLine],
                     policy: Policy, locations: Mapping[str, PickupLocation], catalog: Mapping[str, Variant],
                     refund_to: RefundTo = "ORIGINAL_PAYMENT") -> ExchangeSettlement:
    """The settlement an exchange of ``draft`` for ``replacements`` will have if every line is accepted:
    the exchange's own terms (:func:`exchange_terms`) settled by :func:`exchange_settlement`."""
    value, even = exchange_terms(order, draft, replacements, policy, locations, catalog)
    return exchange_settlement(order, preview_lines(order, draft, policy), value, even, refund_to, policy, locations)


def plan_exchange_settle(order: Order, ret: ReturnOrder, refund_to: RefundTo, ctx: PlanContext) -> ReturnPlan:
    """Settle a verified exchange: even → no money moves; otherwise the replacements' value against the
    accepted returned units' refund value (no restocking fee on an exchange): a credit memo RETURN for
    what the customer gets back, or a supplementary invoice charged to the card on file (DOMAIN §5)."""
    cur = order.currency
    z = Money.zero(cur)
    accepted = [rl for rl in ret.lines if rl.verdict == "ACCEPTED"]
    value = ret.replacement_value if ret.replacement_value is not None else z
    even = bool(ret.even) and len(accepted) == len(ret.lines)
    try:
        st = exchange_settlement(order, accepted, value, even, refund_to, ctx.policy, ctx.locations)
    except PricingError as e:
        return _refuse(Violation("order.unpriceable", e.message))
    b, gross, delta = st.back, st.returned_value, st.delta
    docs: list[Document] = []
    charge = None
    memo_id = inv_id = None
    label = f"Replacement order {ret.exchange_order_ref}"
    if delta.is_negative:
        credit = st.credit
        items = [*(DocumentItem(kind="LINE", line_id=lr.line_id, description=f"{lr.quantity} × {lr.description}",
                                amount=lr.merchandise) for lr in b.lines)]
        if not b.shipping.is_zero:
            items.append(DocumentItem(kind="SHIPPING", description="Shipping", amount=b.shipping))
        if not b.tax.is_zero:
            items.append(DocumentItem(kind="TAX", description="Tax", amount=b.tax))
        items.append(DocumentItem(kind="ADJUSTMENT", description=label, amount=-value))
        if not st.capped_by.is_zero:
            items.append(DocumentItem(kind="ADJUSTMENT", description="Already credited on this order",
                                      amount=-st.capped_by))
        docs = _credit(order, accepted[0].reason_code if accepted else "", tuple(items), credit, st.to_payment,
                       st.to_store_credit, ctx)
        memo_id = docs[0].id
    elif delta.is_positive:
        pm = next((p for p in ctx.account.payment_methods if p.id == order.payment_method_id), None)
        if pm is None:
            return _refuse(Violation("payment.no_method", f"order {order.ref} has no payment method on file for the "
                                                          f"{delta} the replacement costs more"))
        if card_expired(pm, ctx.now):
            return _refuse(Violation("payment.expired", f"{pm.label()} expired {pm.expiry}; the {delta} the "
                                                        "replacement costs more cannot be taken"))
        items = (DocumentItem(kind="ADJUSTMENT", description=label, amount=value),
                 *(DocumentItem(kind="LINE", line_id=lr.line_id, description=f"{lr.quantity} × {lr.description} back",
                                amount=-lr.merchandise) for lr in b.lines),
                 *((DocumentItem(kind="SHIPPING", description="Shipping back", amount=-b.shipping),)
                   if not b.shipping.is_zero else ()),
                 *((DocumentItem(kind="TAX", description="Tax", amount=-b.tax),) if not b.tax.is_zero else ()))
        inv = Invoice(id=ctx.ids("INV"), order_ref=order.ref, type="SUPPLEMENTARY", items=items, total=delta,
                      created_at=ctx.now, payment_method_id=pm.id)
        pay = Payment(id=ctx.ids("PAY"), order_ref=order.ref, invoice_id=inv.id, payment_method_id=pm.id,
                      amount=delta, created_at=ctx.now)
        inv_id = inv.id
        docs.extend((inv, pay))
        charge = Charge(invoice_id=inv.id, payment_method_id=pm.id, amount=delta)
    after = _with_lines(order, {rl.line_id: (-rl.quantity, rl.quantity) for rl in accepted}, docs)
    moved = docs[0].total if docs else z  # type: ignore[union-attr]
    new = ret.model_copy(update={
        "state": "REFUNDED", "refund_to": refund_to if memo_id else None, "credit_memo_id": memo_id,
        "invoice_id": inv_id, "refund_total": (moved if memo_id else z), "charge_total": (delta if inv_id else None),
        "history": ret.history + (StateChange(state="REFUNDED", at=ctx.now, actor=ctx.actor),)})
    labels = {p.id: p.label() for p in ctx.account.payment_methods}
    card = labels.get(order.payment_method_id or "", "card")
    if memo_id:
        money = [f"The replacement costs less: we are giving back {moved}"
                 + (f" to your {card}." if refund_to == "ORIGINAL_PAYMENT" else " as store credit.")]
    elif inv_id:
        money = [f"The replacement costs {delta} more; we have charged it to your {card}."]
    else:
        money = ["It is an even exchange: no money moves."]
    notes = _notify(new, "EXCHANGE_SETTLED", {"exchange_ref": ret.exchange_order_ref or "", "money": money[0]}, ctx)
    issued = sum((d.amount for d in docs if isinstance(d, StoreCredit)), z)
    effect = {
        "settlement": "exchange: " + ("even, no money moves" if not docs else "documents issued"),
        "documents": [{"id": d.id, "doc": d.doc, "type": getattr(d, "type", None),
                       "amount": (d.total if isinstance(d, (CreditMemo, Invoice)) else d.amount).to_json()}
                      for d in docs],
        "replacement_value": value.to_json(), "returned_value": gross.to_json(), "delta": delta.to_json(),
        "store_credit_issued": issued.to_json(),
    }
    command = {"kind": "return_refund", "return_id": ret.id, "refund_to": refund_to, "exchange": True}
    return ReturnPlan(order_after=after, return_order=new, documents=tuple(docs), notifications=notes,
                      audit=_audit(order, after, command, effect, ctx, accepted[0].reason_code if accepted else ""),
                      breakdown=b, store_credit_issued=issued, charge=charge, exchange=st)


def describe_command(cmd: dict) -> str | None:
    """A return step's audit command in words (for the timeline); None when it is not one."""
    kind, rid = cmd.get("kind"), cmd.get("return_id", "")
    if kind == "return_create":
        units = sum(int(ln.get("quantity", 0)) for ln in cmd.get("lines", ()))
        over = f", overriding {', '.join(o.get('rule', '') for o in cmd['overrides'])}" if cmd.get("overrides") else ""
        ex = cmd.get("exchange")
        what = f"Exchange {rid} ({cmd.get('rma', '')}) created for {units} unit(s), replacement order " \
               f"{ex.get('order_ref', '')}" if isinstance(ex, dict) else \
               f"Return {rid} ({cmd.get('rma', '')}) created for {units} unit(s)"
        return what + over
    if kind == "return_receive":
        return f"Return {rid} received"
    if kind == "return_verify":
        verdicts = cmd.get("verdicts", ())
        ok = sum(1 for v in verdicts if v.get("accepted"))
        return f"Return {rid} verified: {ok} line(s) accepted, {len(verdicts) - ok} rejected"
    if kind == "return_refund" and cmd.get("exchange"):
        return f"Exchange {rid} settled"
    if kind == "return_refund":
        to = "store credit" if cmd.get("refund_to") == "STORE_CREDIT" else "the original payment"
        return f"Return {rid} refunded to {to}"
    if kind == "return_close":
        return f"Return {rid} closed"
    return None


__all__ = [
    "DEFAULT_CONDITIONS", "Exchange", "ExchangeSettlement", "ReplacementLine", "describe_command", "exchange_draft",
    "exchange_settlement", "exchange_terms", "is_even", "preview_exchange",
    "plan_exchange_settle", "replacement_problems", "replacement_value", "LineEligibility", "LineRefund", "LineVerdict", "OVERRIDABLE", "Override",
    "RefundBreakdown", "ReturnLine", "ReturnLineRequest", "ReturnOrder", "ReturnPlan", "StateChange",
    "TRANSITIONS", "check_request", "conditions", "eligibility", "line_eligibility", "plan_close",
    "plan_create", "plan_receive", "plan_refund", "plan_verify", "preview_lines", "refund_breakdown", "rma_for", "unit_split",
    "window_end",
]
