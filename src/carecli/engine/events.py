"""Fulfilment events: what the warehouse, the stores and the carriers tell carecli (DOMAIN §2, §8).

``apply_event(order, event, ctx) -> EventOutcome`` is pure, like ``plan()``: it answers whether the
event fits the order as it stands and, if it does, the order it becomes (version + 1, quantity buckets
moved), the settlement documents (a short pick cancels and refunds the short units), the customer
notifications, and the audit record — or a refusal with a stable rule id and a sentence.

Buckets nest (``allocated ⊇ picked ⊇ packed ⊇ dispatched ⊇ ready ⊇ delivered``) and the stage is
derived from them (``model.order_stage``), so each event checks the step before it:

========================  =====================================================================
event                      moves
========================  =====================================================================
allocated                 ``allocated`` (≤ live quantity); clears that many backordered units
picking_started           nothing (recorded on the timeline; the stage becomes PICKING at the first
                          picked unit, since no bucket counts "being picked")
picked                    ``picked`` (≤ allocated)
short_picked (k)          policy ``fulfilment.short_pick``: ``cancel_and_refund`` cancels k units
                          (``cancelled``, ``short_picked``) and settles them as in §5 with one
                          ``SHORT_PICK`` credit memo; ``keep_open`` counts them ``short_picked`` and
                          releases their allocation, no money moves
backordered (k, date)     ``backordered`` (≤ live − picked), ``backorder_expected``; allocation trimmed
packed                    ``packed`` (≤ picked)
dispatched                ``dispatched`` (≤ packed), with carrier and tracking
ready_for_collection      ``ready`` (≤ dispatched; click & collect only)
collected                 ``delivered`` (≤ ready; click & collect only)
delivered                 ``delivered`` (≤ dispatched; home delivery only), ``delivered_at``
delivery_failed           nothing (an exception for the inbox; needs something out for delivery)
========================  =====================================================================

An event with no ``lines`` moves every unit that can take that step. Every event on a cancelled order
is refused. Events that move nothing do not change the order's version and write no audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from .audit import GENESIS_HASH, AuditRecord, make_record
from .context import IdSource, PreviewIds
from .model import (
    BillingAccount, ClickAndCollect, CreditMemo, Customer, Document, Line, Order, PickupLocation, Refund,
    Stage, StoreCredit, order_stage,
)
from .money import Money
from .notifications import MessageTemplate, Notification, render_template
from .policy import Policy
from .pricing import PricingError, price
from .rules import Violation
from .settlement import settle

# --------------------------------------------------------------------------------------------------
# Event models
# --------------------------------------------------------------------------------------------------


class LineQuantity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=100_000)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(min_length=1, max_length=200)
    order_ref: str = Field(min_length=1, max_length=64)
    at: datetime

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-11-27T15:00:00Z)")
        return v

    @field_validator("event_id", "order_ref")
    @classmethod
    def _printable(cls, v: str) -> str:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in v) or not v.strip():
            raise ValueError("must be printable text")
        return v.strip()


class _LinesEvent(_Event):
    lines: tuple[LineQuantity, ...] = ()  # empty: every unit that can take this step


class Allocated(_LinesEvent):
    kind: Literal["allocated"] = "allocated"


class PickingStarted(_Event):
    kind: Literal["picking_started"] = "picking_started"


class Picked(_LinesEvent):
    kind: Literal["picked"] = "picked"


class ShortPicked(_Event):
    kind: Literal["short_picked"] = "short_picked"
    line_id: int = Field(ge=1)
    units: int = Field(ge=1, le=100_000)


class Backordered(_Event):
    kind: Literal["backordered"] = "backordered"
    line_id: int = Field(ge=1)
    units: int = Field(ge=1, le=100_000)
    expected: date


class Packed(_LinesEvent):
    kind: Literal["packed"] = "packed"


class Dispatched(_LinesEvent):
    kind: Literal["dispatched"] = "dispatched"
    carrier: str = Field(min_length=1, max_length=100)
    tracking: str = Field(min_length=1, max_length=100)


class ReadyForCollection(_LinesEvent):
    kind: Literal["ready_for_collection"] = "ready_for_collection"


class Collected(_LinesEvent):
    kind: Literal["collected"] = "collected"


class Delivered(_LinesEvent):
    kind: Literal["delivered"] = "delivered"


class DeliveryFailed(_Event):
    kind: Literal["delivery_failed"] = "delivery_failed"
    reason: str = Field(min_length=1, max_length=500)
    carrier: str = Field("", max_length=100)
    tracking: str = Field("", max_length=100)


FulfilmentEvent = Annotated[
    Union[Allocated, PickingStarted, Picked, ShortPicked, Backordered, Packed, Dispatched,
          ReadyForCollection, Collected, Delivered, DeliveryFailed],
    Field(discriminator="kind"),
]
EVENT: TypeAdapter[FulfilmentEvent] = TypeAdapter(FulfilmentEvent)

EVENT_KINDS: tuple[str, ...] = (
    "allocated", "picking_started", "picked", "short_picked", "backordered", "packed", "dispatched",
    "ready_for_collection", "collected", "delivered", "delivery_failed",
)

# The customer message each kind sends (DOMAIN §8's milestones and exceptions); None: no message.
MESSAGE_KIND: dict[str, str | None] = {
    "allocated": None, "picking_started": None, "picked": None, "packed": None,
    "short_picked": "SHORT_PICKED", "backordered": "BACKORDERED", "dispatched": "DISPATCHED",
    "ready_for_collection": "READY_FOR_COLLECTION", "collected": "COLLECTED", "delivered": "DELIVERED",
    "delivery_failed": "DELIVERY_FAILED",
}


class EventInputError(ValueError):
    """An event that is not well formed; the message names the field and what was expected."""


def parse_event(data: Any) -> FulfilmentEvent:
    """An event from a JSON value (dict) or JSON text; ``kind`` may use dashes (``short-picked``)."""
    try:
        if isinstance(data, (str, bytes)):
            import json

            data = json.loads(data)
        if isinstance(data, dict) and isinstance(data.get("kind"), str):
            data = {**data, "kind": data["kind"].strip().lower().replace("-", "_").replace(" ", "_")}
        if isinstance(data, dict) and data.get("kind") not in EVENT_KINDS:
            raise EventInputError(f"kind {data.get('kind')!r} is not an event kind; use one of: "
                                  f"{', '.join(EVENT_KINDS)}")
        return EVENT.validate_python(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"][1:] if p != "kind") or ".".join(str(p) for p in err["loc"])
        more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
        raise EventInputError(f"{loc}: {err['msg'].removeprefix('Value error, ')}{more}") from None
    except ValueError as e:
        if isinstance(e, EventInputError):
            raise
        raise EventInputError(f"not valid JSON: {e}") from None


def describe_event(ev: FulfilmentEvent) -> tuple[str, str]:
    """(title, detail) of an event for the timeline."""
    def lines(ls: tuple[LineQuantity, ...]) -> str:
        return ", ".join(f"line {q.line_id} × {q.quantity}" for q in ls) if ls else "all lines"

    k = ev.kind
    if isinstance(ev, ShortPicked):
        return "Short picked", f"line {ev.line_id}: {ev.units} unit(s) not found"
    if isinstance(ev, Backordered):
        return "Backordered", f"line {ev.line_id}: {ev.units} unit(s), expected {ev.expected.isoformat()}"
    if isinstance(ev, Dispatched):
        return "Dispatched", f"{ev.carrier} {ev.tracking} · {lines(ev.lines)}"
    if isinstance(ev, DeliveryFailed):
        carrier = f"{ev.carrier} {ev.tracking}".strip()
        return "Delivery failed", ev.reason + (f" · {carrier}" if carrier else "")
    if isinstance(ev, PickingStarted):
        return "Picking started", ""
    title = k.replace("_", " ").capitalize()
    return title, lines(getattr(ev, "lines", ()))


# --------------------------------------------------------------------------------------------------
# Context and outcome
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventContext:
    policy: Policy
    locations: Mapping[str, PickupLocation]
    customer: Customer
    account: BillingAccount
    now: datetime  # when carecli takes the event in (documents and the audit record carry it)
    ids: IdSource = field(default_factory=PreviewIds)
    actor: str = "warehouse"
    role: str = "system"
    templates: Mapping[str, MessageTemplate] | None = None
    audit_seq: int = 1
    audit_prev_hash: str = GENESIS_HASH


@dataclass(frozen=True)
class EventOutcome:
    event: Any  # the FulfilmentEvent
    order_before: Order
    refusal: Violation | None
    order_after: Order | None  # None: refused, or an event that moves no bucket (no new version)
    documents: tuple[Document, ...] = ()
    store_credit_issued: Money | None = None
    notifications: tuple[Notification, ...] = ()
    audit: AuditRecord | None = None
    title: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.refusal is None


class Refused(Exception):
    """Raised inside an event's check; becomes the outcome's refusal."""

    def __init__(self, rule: str, message: str, line_id: int | None = None) -> None:
        super().__init__(message)
        self.violation = Violation(rule, message, line_id)


# The refusal when an event names more units than can take its step ("picking more than allocated",
# "dispatching unpacked units").
_EXCEEDS = {
    "allocated": "event.allocate_exceeds", "picked": "event.pick_exceeds", "packed": "event.pack_exceeds",
    "dispatched": "event.dispatch_exceeds", "ready": "event.ready_exceeds", "collected": "event.collect_exceeds",
    "delivered": "event.deliver_exceeds",
}


# --------------------------------------------------------------------------------------------------
# Applying an event
# --------------------------------------------------------------------------------------------------


def _plural(n: int, what: str = "unit") -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _targets(order: Order, ev: Any, room: Any, step: str) -> dict[int, int]:
    """line id → units to move. ``room(line)`` is how many units of the line may take the step."""
    out: dict[int, int] = {}
    if not ev.lines:
        for ln in order.lines:
            r = room(ln)
            if r > 0:
                out[ln.line_id] = r
        if not out:
            raise Refused("event.nothing_to_move", f"nothing on order {order.ref} can be {step} now")
        return out
    for q in ev.lines:
        ln = order.line(q.line_id)
        if ln is None:
            raise Refused("event.unknown_line", f"order {order.ref} has no line {q.line_id}", q.line_id)
        if ln.quantity <= 0:
            raise Refused("event.line_cancelled", f"line {q.line_id} of {order.ref} is cancelled", q.line_id)
        if q.line_id in out:
            raise Refused("event.line_twice", f"line {q.line_id} is named twice in the event", q.line_id)
        r = room(ln)
        if q.quantity > r:
            raise Refused(_EXCEEDS[step], _exceeds(step, ln, q.quantity, r), q.line_id)
        out[q.line_id] = q.quantity
    return out


def _exceeds(step: str, ln: Line, want: int, room: int) -> str:
    before = {"allocated": f"{ln.quantity} live, {ln.allocated} already allocated",
              "picked": f"{ln.allocated} allocated, {ln.picked} already picked",
              "packed": f"{ln.picked} picked, {ln.packed} already packed",
              "dispatched": f"{ln.packed} packed, {ln.dispatched} already dispatched",
              "ready": f"{ln.dispatched} dispatched to the store, {ln.ready} already ready",
              "collected": f"{ln.ready} ready at the store, {ln.delivered} already collected",
              "delivered": f"{ln.dispatched} dispatched, {ln.delivered} already delivered"}[step]
    return (f"line {ln.line_id} cannot have {_plural(want)} {step}: only {room} can be ({before})")


def _bump(order: Order, moved: dict[int, int], update: Any) -> Order:
    lines = tuple(update(ln, moved[ln.line_id]) if ln.line_id in moved else ln for ln in order.lines)
    return order.model_copy(update={"lines": lines, "version": order.version + 1})


def _move(order: Order, ev: Any) -> Order | None:
    """The order after a bucket-moving event (not short pick), or None for an event that moves nothing."""
    collect = isinstance(order.fulfilment, ClickAndCollect)
    k = ev.kind
    if k == "picking_started":
        if not any(ln.allocated > ln.picked for ln in order.lines if ln.quantity > 0):
            raise Refused("event.nothing_to_move", f"nothing on order {order.ref} is allocated and waiting "
                                                     "to be picked")
        return None
    if k == "delivery_failed":
        if not any(ln.dispatched > ln.delivered for ln in order.lines if ln.quantity > 0):
            raise Refused("event.not_dispatched", f"nothing of order {order.ref} is out for delivery, so a "
                                                  "delivery cannot have failed")
        return None
    if k == "allocated":
        t = _targets(order, ev, lambda ln: ln.quantity - ln.allocated, "allocated")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={
            "allocated": ln.allocated + n, "backordered": max(0, ln.backordered - n),
            "backorder_expected": ln.backorder_expected if ln.backordered - n > 0 else None}))
    if k == "picked":
        t = _targets(order, ev, lambda ln: ln.allocated - ln.picked, "picked")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={"picked": ln.picked + n}))
    if k == "packed":
        t = _targets(order, ev, lambda ln: ln.picked - ln.packed, "packed")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={"packed": ln.packed + n}))
    if k == "dispatched":
        t = _targets(order, ev, lambda ln: ln.packed - ln.dispatched, "dispatched")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={"dispatched": ln.dispatched + n}))
    if k == "ready_for_collection":
        if not collect:
            raise Refused("event.not_collect", f"order {order.ref} is for home delivery; it cannot be ready "
                                               "for collection")
        t = _targets(order, ev, lambda ln: ln.dispatched - ln.ready, "ready")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={"ready": ln.ready + n}))
    if k == "collected":
        if not collect:
            raise Refused("event.not_collect", f"order {order.ref} is for home delivery; it cannot be "
                                               "collected")
        t = _targets(order, ev, lambda ln: ln.ready - ln.delivered, "collected")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={"delivered": ln.delivered + n,
                                                                   "delivered_at": ev.at}))
    if k == "delivered":
        if collect:
            raise Refused("event.not_delivery", f"order {order.ref} is click & collect; it is collected, not "
                                                "delivered")
        t = _targets(order, ev, lambda ln: ln.dispatched - ln.delivered, "delivered")
        return _bump(order, t, lambda ln, n: ln.model_copy(update={"delivered": ln.delivered + n,
                                                                   "delivered_at": ev.at}))
    if k == "backordered":
        ln = _live_line(order, ev.line_id)
        room = ln.quantity - ln.picked - ln.backordered
        if ev.units > room:
            raise Refused("event.backorder_exceeds",
                          f"line {ln.line_id} cannot have {_plural(ev.units)} backordered: only {room} can be "
                          f"({ln.quantity} live, {ln.picked} picked, {ln.backordered} already backordered)",
                          ln.line_id)
        if ev.expected < ev.at.date():
            raise Refused("event.backorder_date", f"the expected date {ev.expected.isoformat()} is before the "
                                                  f"event itself ({ev.at.date().isoformat()})", ln.line_id)
        bo = ln.backordered + ev.units
        return _bump(order, {ln.line_id: ev.units}, lambda ln, n: ln.model_copy(update={
            "backordered": bo, "backorder_expected": ev.expected,
            "allocated": max(ln.picked, min(ln.allocated, ln.quantity - bo))}))
    raise AssertionError(f"unhandled event kind {k!r}")  # pragma: no cover


def _live_line(order: Order, line_id: int) -> Line:
    ln = order.line(line_id)
    if ln is None:
        raise Refused("event.unknown_line", f"order {order.ref} has no line {line_id}", line_id)
    if ln.quantity <= 0:
        raise Refused("event.line_cancelled", f"line {line_id} of {order.ref} is cancelled", line_id)
    return ln


def _short_pick(order: Order, ev: ShortPicked, ctx: EventContext) -> tuple[Order, tuple[Document, ...], Money, str]:
    ln = _live_line(order, ev.line_id)
    room = ln.quantity - ln.picked - ln.short_picked
    if ctx.policy.fulfilment.short_pick == "cancel_and_refund":
        room = ln.quantity - ln.picked
    if ev.units > room:
        raise Refused("event.short_pick_exceeds",
                      f"line {ln.line_id} cannot be short {_plural(ev.units)}: only {room} unpicked "
                      f"({ln.quantity} live, {ln.picked} picked)", ln.line_id)
    zero = Money.zero(order.currency)
    if ctx.policy.fulfilment.short_pick == "keep_open":
        new = _bump(order, {ln.line_id: ev.units}, lambda l_, n: l_.model_copy(update={
            "short_picked": l_.short_picked + n,
            "allocated": max(l_.picked, l_.allocated - n)}))
        return new, (), zero, (f"The {_plural(ev.units)} will be sent as soon as they are back in stock; "
                               "you can also ask us to cancel them and refund you.")
    q = ln.quantity - ev.units
    alloc = min(ln.allocated, q)
    bo = min(ln.backordered, q - alloc)  # backordered units are unallocated ones
    new = _bump(order, {ln.line_id: ev.units}, lambda l_, n: l_.model_copy(update={
        "cancelled": l_.cancelled + n, "short_picked": l_.short_picked + n, "allocated": alloc,
        "backordered": bo, "backorder_expected": l_.backorder_expected if bo > 0 else None}))
    try:
        before = price(order, ctx.policy, ctx.locations)
        after = price(new, ctx.policy, ctx.locations)
    except PricingError as e:
        raise Refused("order.unpriceable", e.message) from None
    s = settle(order, before, after, descriptions={l_.line_id: l_.description for l_ in order.lines},
               cancelled=order_stage(new) == Stage.CANCELLED, reason_code="SHORT_PICK", credits=(),
               route=ctx.policy.refunds.route, ids=ctx.ids, now=ctx.now)
    docs = tuple(d.model_copy(update={"type": "SHORT_PICK"}) if isinstance(d, CreditMemo) else d
                 for d in s.documents)
    labels = {p.id: p.label() for p in ctx.account.payment_methods}
    money = []
    for d in docs:
        if isinstance(d, Refund):
            money.append(f"We are refunding {d.amount} to your {labels.get(d.payment_method_id, 'card')}; "
                         "it can take 3-5 business days to appear.")
        elif isinstance(d, StoreCredit):
            money.append(f"{d.amount} has been added to your store credit.")
    step = (f"We have cancelled {'it' if ev.units == 1 else 'them'} and the rest of your order will be sent "
            "as planned." if order_stage(new) != Stage.CANCELLED else
            "Nothing else was left on the order, so it is now cancelled.")
    next_steps = " ".join([step, *money]) if money else step
    return new.model_copy(update={"documents": order.documents + docs}), docs, s.store_credit_issued, next_steps


def _items(order: Order, moved: Mapping[int, int]) -> str:
    return "\n".join(f"- {n} × {ln.description}" for ln in order.lines if (n := moved.get(ln.line_id, 0)))


def _moved(before: Order, after: Order, bucket: str) -> dict[int, int]:
    b = {ln.line_id: getattr(ln, bucket) for ln in before.lines}
    return {ln.line_id: getattr(ln, bucket) - b.get(ln.line_id, 0) for ln in after.lines
            if getattr(ln, bucket) - b.get(ln.line_id, 0) > 0}


def apply_event(order: Order, event: Any, ctx: EventContext) -> EventOutcome:
    """The outcome of one fulfilment event on ``order`` (see the module docstring)."""
    title, detail = describe_event(event)
    try:
        if event.order_ref.strip().upper() != order.ref.upper():
            raise Refused("event.wrong_order", f"the event is for {event.order_ref}, not {order.ref}")
        if order_stage(order) == Stage.CANCELLED:
            raise Refused("event.order_cancelled",
                          f"order {order.ref} is cancelled; a {title.lower()} event cannot apply to it")
        if event.at < order.placed_at:
            raise Refused("event.before_order", f"the event is dated {event.at.isoformat()}, before order "
                                                f"{order.ref} was placed ({order.placed_at.isoformat()})")
        docs: tuple[Document, ...] = ()
        issued = Money.zero(order.currency)
        values: dict[str, str] = {}
        if isinstance(event, ShortPicked):
            new, docs, issued, next_steps = _short_pick(order, event, ctx)
            ln = order.line(event.line_id)
            values = {"item": ln.description if ln else f"line {event.line_id}", "units": str(event.units),
                      "next_steps": next_steps}
        else:
            new = _move(order, event)
            values = _values(order, new, event, ctx)
    except Refused as r:
        return EventOutcome(event, order, r.violation, None, title=title, detail=detail)
    kind = MESSAGE_KIND[event.kind]
    notes: tuple[Notification, ...] = ()
    if kind is not None:
        notes = render_template(kind=kind, event_id=f"{order.ref}/event/{event.event_id}", order_ref=order.ref,
                                customer=ctx.customer, values=values, at=ctx.now, templates=ctx.templates)
    record = None
    if new is not None:
        record = make_record(
            seq=ctx.audit_seq, at=ctx.now, actor=ctx.actor, role=ctx.role, order_ref=order.ref,
            version_before=order.version, version_after=new.version,
            command=[{"kind": "fulfilment_event", "event": event.model_dump(mode="json")}],
            reason_code="SHORT_PICK" if isinstance(event, ShortPicked) and docs else "", note="",
            financial_effect={
                "documents": [{"id": d.id, "doc": d.doc, "type": getattr(d, "type", None),
                               "amount": (d.total if hasattr(d, "total") else d.amount).to_json()} for d in docs],
                "store_credit_issued": issued.to_json(),
                "settlement": "documents issued" if docs else "none (no change in price)",
            },
            idempotency_key=f"event:{event.event_id}", prev_hash=ctx.audit_prev_hash,
        )
    return EventOutcome(event, order, None, new, docs, issued, notes, record, title, detail)


def _values(order: Order, new: Order | None, ev: Any, ctx: EventContext) -> dict[str, str]:
    k = ev.kind
    if k == "backordered":
        ln = order.line(ev.line_id)
        return {"item": ln.description if ln else "", "units": str(ev.units),
                "expected": ev.expected.strftime("%-d %B %Y")}
    if k == "dispatched" and new is not None:
        return {"carrier": ev.carrier, "tracking": ev.tracking, "items": _items(new, _moved(order, new, "dispatched"))}
    if k in ("ready_for_collection", "collected") and new is not None:
        loc = ctx.locations.get(order.fulfilment.location_id) if isinstance(order.fulfilment, ClickAndCollect) else None
        bucket = "ready" if k == "ready_for_collection" else "delivered"
        return {"store": loc.name if loc else "the store", "store_address": loc.address.one_line() if loc else "",
                "items": _items(new, _moved(order, new, bucket))}
    if k == "delivered" and new is not None:
        return {"items": _items(new, _moved(order, new, "delivered"))}
    if k == "delivery_failed":
        return {"reason": ev.reason, "carrier": ev.carrier or "The carrier", "tracking": ev.tracking or "-"}
    return {}


__all__ = [
    "Allocated", "Backordered", "Collected", "Delivered", "DeliveryFailed", "Dispatched", "EVENT",
    "EVENT_KINDS", "EventContext", "EventInputError", "EventOutcome", "FulfilmentEvent", "LineQuantity",
    "MESSAGE_KIND", "Packed", "Picked", "PickingStarted", "ReadyForCollection", "ShortPicked", "apply_event",
    "describe_event", "parse_event",
]
