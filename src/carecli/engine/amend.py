"""Applying staged amendments to an order, each checked against DOMAIN §3 on the order *as amended so
far* (so "add a line, then change its quantity" works in one session).

:func:`apply` never raises for bad input: every problem becomes a :class:`~.rules.Violation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

from .commands import (
    AddLine, Amendment, AppeasementCredit, AppeasementDiscount, CancelOrder, ChangeAddress,
    ChangePickupLocation, ChangeQuantity, ChangeShippingMethod, RemoveLine, ReplaceProduct,
    SwitchFulfilment,
)
from .context import PlanContext
from .model import ClickAndCollect, Discount, Fulfilment, HomeDelivery, Line, Order, Variant
from .money import Money
from .rules import Violation, address_problems, is_major_change, same_address


class Refused(Exception):
    """Raised inside an amendment's check; becomes a Violation."""

    def __init__(self, rule: str, message: str, line_id: int | None = None) -> None:
        super().__init__(message)
        self.rule, self.message, self.line_id = rule, message, line_id


@dataclass
class Working:
    """The order being amended: a mutable copy, frozen again at the end."""

    order: Order
    lines: list[Line]
    fulfilment: Fulfilment
    discounts: list[Discount]
    credits: list[AppeasementCredit] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    cancelled: bool = False
    kinds: set[str] = field(default_factory=set)
    demand: dict[str, int] = field(default_factory=dict)  # units of each sku this session takes from stock

    @classmethod
    def of(cls, order: Order) -> "Working":
        return cls(order, list(order.lines), order.fulfilment, list(order.discounts))

    # -- look-ups ----------------------------------------------------------------------------------
    def index(self, line_id: int) -> int:
        for i, ln in enumerate(self.lines):
            if ln.line_id == line_id:
                return i
        raise Refused("line.unknown", f"order {self.order.ref} has no line {line_id}", line_id)

    def live(self, line_id: int) -> tuple[int, Line]:
        i = self.index(line_id)
        ln = self.lines[i]
        if ln.quantity <= 0:
            raise Refused("line.cancelled", f"line {line_id} ({ln.description}) is already cancelled", line_id)
        return i, ln

    def total(self, bucket: str) -> int:
        return sum(getattr(ln, bucket) for ln in self.lines)

    def anything(self, *buckets: str) -> bool:
        return any(getattr(ln, b) > 0 for ln in self.lines for b in buckets)

    def freeze(self, version: int) -> Order:
        return self.order.model_copy(update={
            "lines": tuple(self.lines), "fulfilment": self.fulfilment,
            "discounts": tuple(self.discounts), "version": version,
        })


def _variant(w: "Working", ctx: PlanContext, sku: str, quantity: int, line_id: int | None = None, *,
             more: bool = False) -> Variant:
    """A sellable, priced variant with stock for ``quantity`` more units (counting what this session
    already took), or backorderable."""
    v = ctx.catalog.get(sku)
    if v is None:
        raise Refused("sku.unknown", f"{sku!r} is not a product in the catalog", line_id)
    if not v.sellable:
        raise Refused("sku.not_sellable", f"{v.description} ({sku}) is no longer sold", line_id)
    if w.order.currency not in v.prices:
        raise Refused("sku.no_price", f"{v.description} ({sku}) has no price in {w.order.currency}", line_id)
    left = v.available - w.demand.get(sku, 0)
    if left < quantity and not v.backorderable:
        raise Refused("sku.out_of_stock",
                      f"only {max(left, 0)}{' more' if more else ''} of {v.description} ({sku}) in stock, "
                      "and it cannot be backordered",
                      line_id)
    w.demand[sku] = w.demand.get(sku, 0) + quantity
    return v


def _quantity(ctx: PlanContext, q: int, line_id: int | None = None) -> None:
    mx = ctx.policy.amendments.max_quantity
    if isinstance(q, bool) or not isinstance(q, int) or q < 1 or q > mx:
        extra = "; to take a line off, remove it" if q == 0 else ""
        raise Refused("quantity.invalid", f"quantity must be a whole number from 1 to {mx}, not {q!r}{extra}", line_id)


def _stage_words(ln: Line) -> str:
    """What of the line is in progress, as the warehouse counts it: "1 already picked", or
    "2 picked, 1 dispatched" — each bucket with its own count, never overstated."""
    parts = [(n, word) for n, word in ((ln.picked, "picked"), (ln.packed, "packed"),
                                       (ln.dispatched, "dispatched"), (ln.ready, "at the store"),
                                       (ln.delivered, "delivered")) if n]
    if not parts:
        return "nothing picked"
    if len(parts) == 1:
        n, word = parts[0]
        return f"{n} already {word}"
    # Nested buckets: name the most advanced distinct counts ("3 picked, 1 dispatched").
    shown: list[str] = []
    for n, word in parts:
        if shown and shown[-1].split(" ", 1)[0] == str(n):
            shown[-1] = f"{n} {word}"
        else:
            shown.append(f"{n} {word}")
    return ", ".join(shown)


# -- stage guards: one per rule of DOMAIN §3, shared by apply() and by what the screens show ------------


def guard_add_line(w: Working) -> None:
    if w.anything("packed", "dispatched", "ready", "delivered"):
        raise Refused("add_line.order_packed",
                      f"order {w.order.ref} is already packed; new items must go on a new order")


def guard_remove(w: Working, ln: Line) -> None:
    if ln.progressed:
        raise Refused("remove_line.picked",
                      f"line {ln.line_id} is being picked; it cannot be removed with {_stage_words(ln)}",
                      ln.line_id)
    if sum(1 for other in w.lines if other.quantity > 0) == 1:
        raise Refused("remove_line.last_line",
                      f"line {ln.line_id} is the last item on the order; cancel the order instead", ln.line_id)


def guard_replace(ln: Line) -> None:
    if ln.progressed:
        raise Refused("replace.picked",
                      f"line {ln.line_id} is being picked; its product cannot change with {_stage_words(ln)}",
                      ln.line_id)


def guard_minor_address(w: Working) -> None:
    if w.anything("dispatched", "ready", "delivered"):
        raise Refused("address.dispatched", "the parcel has left the warehouse; its address can no longer change")


def guard_major_address(w: Working) -> None:
    if w.anything("picked", "packed", "dispatched", "ready", "delivered"):
        raise Refused("address.major_picked",
                      "the order is already being picked; only the name, street line and phone can "
                      "change now, not the postcode, city, state or country")


def guard_shipping(w: Working) -> None:
    if w.anything("dispatched", "ready", "delivered"):
        raise Refused("shipping.dispatched",
                      "the parcel has left the warehouse; its shipping method can no longer change")


def guard_pickup(w: Working) -> None:
    if w.anything("dispatched", "ready", "delivered"):
        raise Refused("pickup.dispatched", "the parcel is on its way to the store; the store can no longer change")


def guard_switch(w: Working) -> None:
    if w.anything("picked", "packed", "dispatched", "ready", "delivered"):
        raise Refused("switch.picked",
                      "the order is already being picked; delivery and collection can no longer be switched")


def guard_cancel(w: Working) -> None:
    if w.anything("dispatched", "ready", "delivered"):
        raise Refused("cancel.dispatched", f"order {w.order.ref} has items on their way; cancel what is left "
                      "line by line, or start a return when they arrive")


def _why(check: Callable[[], None]) -> str | None:
    try:
        check()
    except Refused as r:
        return r.message
    return None


def order_locks(order: Order) -> dict[str, str | None]:
    """For each order-level amendment, None when the order's stage allows it, else the rule's sentence.

    (Whether a particular value is allowed — a sku, an address — is still for plan() to say.)
    """
    w = Working.of(order)
    if all(ln.quantity <= 0 for ln in order.lines):
        gone = f"order {order.ref} is cancelled; it can no longer be changed"
        return {k: gone for k in ("add_line", "address_minor", "address_major", "shipping_method",
                                  "pickup_location", "switch_fulfilment", "cancel_order")}
    home = isinstance(order.fulfilment, HomeDelivery)
    not_home = f"order {order.ref} is click & collect"
    not_collect = f"order {order.ref} is home delivery"
    return {
        "add_line": _why(lambda: guard_add_line(w)),
        "address_minor": _why(lambda: guard_minor_address(w)) if home else not_home,
        "address_major": _why(lambda: guard_major_address(w)) if home else not_home,
        "shipping_method": _why(lambda: guard_shipping(w)) if home else not_home,
        "pickup_location": _why(lambda: guard_pickup(w)) if not home else not_collect,
        "switch_fulfilment": _why(lambda: guard_switch(w)),
        "cancel_order": _why(lambda: guard_cancel(w)),
    }


def line_locks(order: Order, line_id: int) -> dict[str, str | None]:
    """For one line: None where its stage allows the amendment, else the rule's sentence; and
    ``min_quantity``, the lowest quantity it may go to (as text)."""
    w = Working.of(order)
    ln = order.line(line_id)
    if ln is None or ln.quantity <= 0:
        gone = f"line {line_id} is cancelled"
        return {"quantity": gone, "remove": gone, "replace": gone, "min_quantity": None}
    low = max(1, ln.progressed)
    return {
        "quantity": None,
        "remove": _why(lambda: guard_remove(w, ln)),
        "replace": _why(lambda: guard_replace(ln)),
        "min_quantity": str(low),
    }


# -- one function per amendment ------------------------------------------------------------------------


def _add_line(w: Working, c: AddLine, ctx: PlanContext) -> None:
    _quantity(ctx, c.quantity)
    guard_add_line(w)
    v = _variant(w, ctx, c.sku, c.quantity)
    new_id = max((ln.line_id for ln in w.lines), default=0) + 1
    w.lines.append(Line(
        line_id=new_id, sku=v.sku, description=v.description, unit_price=v.prices[w.order.currency],
        tax_category=v.tax_category, category=v.category, final_sale=v.final_sale, ordered=c.quantity,
    ))
    w.changes.append(f"Added line {new_id}: {c.quantity} × {v.description} at {v.prices[w.order.currency]} each")


def _change_quantity(w: Working, c: ChangeQuantity, ctx: PlanContext) -> None:
    i, ln = w.live(c.line_id)
    q = ln.quantity
    if ln.progressed and isinstance(c.quantity, int) and not isinstance(c.quantity, bool) and c.quantity < ln.progressed:
        words = _stage_words(ln)
        floor = f"the {words}" if "," not in words else f"{ln.progressed} ({words})"
        raise Refused("quantity.below_progress",
                      f"line {c.line_id} is being fulfilled; its quantity cannot go below {floor}", c.line_id)
    _quantity(ctx, c.quantity, c.line_id)
    if c.quantity == q:
        raise Refused("quantity.unchanged", f"line {c.line_id} already has quantity {q}", c.line_id)
    if c.quantity > q:
        _variant(w, ctx, ln.sku, c.quantity - q, c.line_id, more=True)
        w.lines[i] = ln.model_copy(update={"ordered": ln.ordered + (c.quantity - q)})
    else:
        w.lines[i] = ln.model_copy(update={
            "cancelled": ln.cancelled + (q - c.quantity),
            "allocated": min(ln.allocated, c.quantity), "backordered": min(ln.backordered, c.quantity),
        })
    w.changes.append(f"Line {c.line_id} ({ln.description}): quantity {q} → {c.quantity}")


def _remove_line(w: Working, c: RemoveLine, ctx: PlanContext) -> None:
    i, ln = w.live(c.line_id)
    guard_remove(w, ln)
    w.lines[i] = ln.model_copy(update={"cancelled": ln.ordered, "allocated": 0, "backordered": 0})
    w.changes.append(f"Removed line {c.line_id}: {ln.quantity} × {ln.description}")


def _replace(w: Working, c: ReplaceProduct, ctx: PlanContext) -> None:
    i, ln = w.live(c.line_id)
    guard_replace(ln)
    if c.sku == ln.sku:
        raise Refused("replace.same_sku", f"line {c.line_id} already is {ln.description}", c.line_id)
    v = _variant(w, ctx, c.sku, ln.quantity, c.line_id)
    price = v.prices[w.order.currency]
    w.lines[i] = ln.model_copy(update={
        "sku": v.sku, "description": v.description, "unit_price": price, "tax_category": v.tax_category,
        "category": v.category, "final_sale": v.final_sale, "ordered": ln.quantity, "cancelled": 0,
        "allocated": 0, "backordered": 0, "backorder_expected": None,
    })
    w.changes.append(f"Line {c.line_id}: {ln.description} → {v.description} "
                     f"({ln.unit_price} → {price} each)")


def _market_country(w: Working, ctx: PlanContext) -> str:
    m = ctx.policy.market(w.order.market)
    return m.country if m else w.order.market


def _change_address(w: Working, c: ChangeAddress, ctx: PlanContext) -> None:
    f = w.fulfilment
    if not isinstance(f, HomeDelivery):
        raise Refused("address.not_delivery", f"order {w.order.ref} is click & collect; it has no delivery address")
    problems = address_problems(c.address)
    if problems:
        raise Refused("address.invalid", "; ".join(p for _, p in problems))
    if same_address(f.address, c.address):
        raise Refused("address.unchanged", "the order already goes to that address")
    country = _market_country(w, ctx)
    if c.address.country != country:
        raise Refused("address.other_market", f"order {w.order.ref} ships within {country} only")
    major = is_major_change(f.address, c.address)
    if major:
        if ctx.policy.tax_for(c.address.country, c.address.region, c.address.city) is None:
            raise Refused("address.no_tax_jurisdiction", f"no tax rate is set up for {c.address.one_line()}")
        guard_major_address(w)
        # A new destination is re-sourced: allocations are released for the warehouse to redo.
        w.lines = [ln.model_copy(update={"allocated": 0}) if ln.allocated else ln for ln in w.lines]
    else:
        guard_minor_address(w)
    w.fulfilment = f.model_copy(update={"address": c.address})
    w.changes.append(f"Delivery address ({'major' if major else 'minor'} change): "
                     f"{f.address.one_line()} → {c.address.name}, {c.address.one_line()}")


def _change_method(w: Working, c: ChangeShippingMethod, ctx: PlanContext) -> None:
    f = w.fulfilment
    if not isinstance(f, HomeDelivery):
        raise Refused("shipping.not_delivery", f"order {w.order.ref} is click & collect; it is not shipped")
    m = ctx.policy.shipping_method(c.method)
    if m is None or w.order.currency not in m.fee:
        raise Refused("shipping.unknown_method", f"{c.method!r} is not a shipping method offered in {w.order.market}")
    if c.method == f.shipping_method:
        raise Refused("shipping.unchanged", f"the order already ships {m.name}")
    guard_shipping(w)
    old = ctx.policy.shipping_method(f.shipping_method)
    w.fulfilment = f.model_copy(update={"shipping_method": c.method})
    w.changes.append(f"Shipping method: {old.name if old else f.shipping_method} → {m.name}")


def _location(w: Working, ctx: PlanContext, location_id: str):
    loc = ctx.locations.get(location_id)
    if loc is None or not loc.active:
        raise Refused("pickup.unknown_location", f"{location_id!r} is not a store that offers click & collect")
    country = _market_country(w, ctx)
    if loc.address.country != country:
        raise Refused("pickup.other_market", f"{loc.name} is not in {country}, the order's market")
    return loc


def _change_pickup(w: Working, c: ChangePickupLocation, ctx: PlanContext) -> None:
    f = w.fulfilment
    if not isinstance(f, ClickAndCollect):
        raise Refused("pickup.not_collect", f"order {w.order.ref} is home delivery; it has no pickup store")
    loc = _location(w, ctx, c.location_id)
    if c.location_id == f.location_id:
        raise Refused("pickup.unchanged", f"the order is already to be collected at {loc.name}")
    guard_pickup(w)
    old = ctx.locations.get(f.location_id)
    w.fulfilment = ClickAndCollect(location_id=c.location_id)
    w.changes.append(f"Pickup store: {old.name if old else f.location_id} → {loc.name}")


def _switch(w: Working, c: SwitchFulfilment, ctx: PlanContext) -> None:
    new = c.fulfilment
    if new.kind == w.fulfilment.kind:
        raise Refused("switch.same_kind", f"order {w.order.ref} already is {new.kind.replace('_', ' ').lower()}")
    guard_switch(w)
    if isinstance(new, HomeDelivery):
        problems = address_problems(new.address)
        if problems:
            raise Refused("address.invalid", "; ".join(p for _, p in problems))
        country = _market_country(w, ctx)
        if new.address.country != country:
            raise Refused("address.other_market", f"order {w.order.ref} ships within {country} only")
        if ctx.policy.tax_for(new.address.country, new.address.region, new.address.city) is None:
            raise Refused("address.no_tax_jurisdiction", f"no tax rate is set up for {new.address.one_line()}")
        m = ctx.policy.shipping_method(new.shipping_method)
        if m is None or w.order.currency not in m.fee:
            raise Refused("shipping.unknown_method", f"{new.shipping_method!r} is not a shipping method offered")
        text = f"Switched to home delivery ({m.name}) to {new.address.name}, {new.address.one_line()}"
    else:
        loc = _location(w, ctx, new.location_id)
        text = f"Switched to click & collect at {loc.name}"
    w.fulfilment = new
    w.lines = [ln.model_copy(update={"allocated": 0}) if ln.allocated else ln for ln in w.lines]
    w.changes.append(text)


def _cancel(w: Working, c: CancelOrder, ctx: PlanContext) -> None:
    guard_cancel(w)
    # Picked stock goes back to the shelf: the fulfilment buckets empty with the cancellation.
    w.lines = [ln.model_copy(update={"cancelled": ln.ordered, "allocated": 0, "picked": 0, "packed": 0,
                                     "backordered": 0, "backorder_expected": None}) for ln in w.lines]
    w.cancelled = True
    w.changes.append(f"Cancelled order {w.order.ref}")


def _reason(ctx: PlanContext, code: str) -> None:
    r = ctx.policy.reason(code)
    if r is None or "appeasement" not in r.kinds:
        codes = ", ".join(x.code for x in ctx.policy.reasons_for("appeasement"))
        raise Refused("appeasement.reason", f"an appeasement needs one of these reason codes: {codes}")


def _credit(w: Working, c: AppeasementCredit, ctx: PlanContext) -> None:
    _reason(ctx, c.reason_code)
    if c.amount.currency != w.order.currency or not c.amount.is_positive:
        raise Refused("appeasement.amount",
                      f"an appeasement credit is a positive amount in {w.order.currency}, not {c.amount}")
    w.credits.append(c)
    dest = "store credit" if c.settle_to == "STORE_CREDIT" else "the original payment"
    w.changes.append(f"Appeasement credit of {c.amount} to {dest} ({c.reason_code})")


def _discount(w: Working, c: AppeasementDiscount, ctx: PlanContext) -> None:
    _reason(ctx, c.reason_code)
    if (c.percent is None) == (c.amount is None):
        raise Refused("appeasement.shape", "give the discount as a percentage or as an amount, not both or neither")
    if c.percent is not None and not (Decimal(0) < c.percent <= Decimal(100)):
        raise Refused("appeasement.shape", f"a discount percentage is above 0 and at most 100, not {c.percent}")
    if c.amount is not None and (c.amount.currency != w.order.currency or not c.amount.is_positive):
        raise Refused("appeasement.amount", f"a discount is a positive amount in {w.order.currency}, not {c.amount}")
    target = "the order"
    if c.line_id is not None:
        _, ln = w.live(c.line_id)
        target = f"line {c.line_id} ({ln.description})"
    d = Discount(id=ctx.ids("DSC"), line_id=c.line_id, percent=c.percent, amount=c.amount,
                 reason_code=c.reason_code, appeasement=True,
                 label=f"Appeasement {c.percent}%" if c.percent is not None else f"Appeasement {c.amount}")
    w.discounts.append(d)
    what = f"{c.percent}%" if c.percent is not None else str(c.amount)
    w.changes.append(f"Appeasement discount of {what} on {target} ({c.reason_code})")


_APPLY: dict[type, Callable[[Working, object, PlanContext], None]] = {
    AddLine: _add_line, ChangeQuantity: _change_quantity, RemoveLine: _remove_line,
    ReplaceProduct: _replace, ChangeAddress: _change_address, ChangeShippingMethod: _change_method,
    ChangePickupLocation: _change_pickup, SwitchFulfilment: _switch, CancelOrder: _cancel,
    AppeasementCredit: _credit, AppeasementDiscount: _discount,
}


def apply(w: Working, index: int, cmd: Amendment, ctx: PlanContext) -> Violation | None:
    """Check one amendment against the working order and apply it; a refusal leaves ``w`` unchanged."""
    if w.cancelled:
        return Violation("order.cancelled", f"order {w.order.ref} is cancelled by an earlier step of this change",
                         None, index)
    fn = _APPLY.get(type(cmd))
    if fn is None:
        return Violation("input.invalid", f"{type(cmd).__name__} is not an amendment", None, index)
    snapshot = (list(w.lines), w.fulfilment, list(w.discounts), len(w.credits), len(w.changes), dict(w.demand))
    try:
        fn(w, cmd, ctx)
        w.kinds.add(cmd.kind)
        return None
    except Refused as r:
        refusal = Violation(r.rule, r.message, r.line_id, index)
    except (ValueError, TypeError, ArithmeticError, AttributeError, KeyError):
        # malformed values inside a command that skipped validation (model_construct, a bad client)
        refusal = Violation("input.invalid", f"amendment {index + 1} ({getattr(cmd, 'kind', 'unknown')}) has "
                            "values that are not valid; it was not applied", None, index)
    w.lines, w.fulfilment, w.discounts = snapshot[0], snapshot[1], snapshot[2]
    del w.credits[snapshot[3]:]
    del w.changes[snapshot[4]:]
    w.demand = snapshot[5]
    return refusal


def appeasement_money(w: Working) -> Money:
    acc = Money.zero(w.order.currency)
    for c in w.credits:
        acc = acc + c.amount
    return acc
