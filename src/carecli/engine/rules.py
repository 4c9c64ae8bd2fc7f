"""The rule book: every refusal's stable id, and the checks that are not specific to one amendment.

A refusal is a :class:`Violation`: the rule id (stable: tests, logs and the HTTP API key on it), the
line it concerns, which staged amendment raised it, and a sentence an agent can read to a customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .model import Address, PaymentMethod


@dataclass(frozen=True)
class Violation:
    """A refusal: a stable rule id, the line it concerns, and a sentence to read to the customer."""

    rule: str
    message: str
    line_id: int | None = None
    index: int | None = None  # which staged amendment (0-based); None for the session as a whole


# Every rule id the engine can return, with what it guards. docs/RULES.md is generated from nothing:
# this table *is* the list, and a test checks that every id used in the code is here.
RULES: dict[str, str] = {
    "session.read_only": "read-only users (supervisors by default) change nothing",
    "session.empty": "a commit needs at least one staged amendment",
    "session.reason_required": "a commit needs a reason code",
    "session.reason_unknown": "the reason code must be one of policy's codes for the kind of change",
    "order.cancelled": "a cancelled order cannot be amended or appeased",
    "order.unpriceable": "the order as stored cannot be priced (e.g. no tax rate for its destination)",
    "input.invalid": "an amendment whose values are malformed",
    "line.unknown": "the amendment names a line the order does not have",
    "line.cancelled": "the line has no live quantity left",
    "sku.unknown": "the sku is not in the catalog",
    "sku.not_sellable": "the sku is withdrawn from sale",
    "sku.no_price": "the sku has no price in the order's currency",
    "sku.out_of_stock": "not enough stock and the sku cannot be backordered",
    "quantity.invalid": "quantities are whole numbers from 1 to policy's maximum",
    "quantity.unchanged": "the line already has that quantity",
    "quantity.below_progress": "a quantity cannot go below what is picked, dispatched or delivered",
    "add_line.order_packed": "lines can be added only while nothing of the order is packed or dispatched",
    "remove_line.picked": "a line can be removed only while nothing of it is picked",
    "remove_line.last_line": "removing the last live line is cancelling the order",
    "replace.picked": "a product can be replaced only while nothing of its line is picked",
    "replace.same_sku": "the replacement is the product the line already has",
    "address.not_delivery": "an address belongs to a home-delivery order",
    "address.invalid": "the address is malformed",
    "address.unchanged": "the address is the one the order already has",
    "address.other_market": "an order ships within its market's country",
    "address.no_tax_jurisdiction": "no tax rate is set up for the destination",
    "address.dispatched": "a minor address change (name, street, phone) needs nothing dispatched",
    "address.major_picked": "a major address change (postcode, city, region, country) needs nothing picked",
    "shipping.not_delivery": "a shipping method belongs to a home-delivery order",
    "shipping.unknown_method": "the shipping method is not offered",
    "shipping.unchanged": "the order already ships that way",
    "shipping.dispatched": "the shipping method can change only while nothing is dispatched",
    "pickup.not_collect": "a pickup location belongs to a click & collect order",
    "pickup.unknown_location": "the store is not a pickup location",
    "pickup.other_market": "the store must be in the order's market",
    "pickup.unchanged": "the order is already collected there",
    "pickup.dispatched": "the pickup store can change only while nothing is dispatched to the store",
    "switch.same_kind": "the order already has that kind of fulfilment",
    "switch.picked": "switching home delivery and click & collect needs nothing picked",
    "cancel.dispatched": "an order can be cancelled only while nothing is dispatched",
    "appeasement.reason": "an appeasement needs an appeasement reason code",
    "appeasement.amount": "an appeasement amount is positive and in the order's currency",
    "appeasement.shape": "an appeasement discount is a percentage (0-100] or an amount, exactly one",
    "appeasement.limit": "cumulative appeasements on an order stay within the role's limit",
    "appeasement.exceeds_paid": "credits on an order never exceed what the customer is charged for it",
    "payment.no_method": "an extra charge needs a payment method on file",
    "payment.expired": "an extra charge needs a payment method that has not expired",
    "tax.no_jurisdiction": "no tax rate is set up for the destination",
    "shipping.currency": "the shipping method has no fee in the order's currency",
    # returns (engine/returns.py, DOMAIN §7)
    "return.order_cancelled": "nothing on a cancelled order can be returned",
    "return.not_delivered": "only delivered units can be returned",
    "return.none_left": "every delivered unit of the line is already on a return or returned",
    "return.final_sale": "a final-sale item cannot be returned (overridable)",
    "return.no_delivery_date": "a line with no delivery date cannot be checked against its window (overridable)",
    "return.window_closed": "returns are accepted until the end of the N-th day (UTC) after delivery (overridable)",
    "return.quantity": "a return takes at most the units delivered and not yet returned or on a return",
    "return.empty": "a return needs at least one line",
    "return.line_unknown": "the return names a line the order (or the return) does not have",
    "return.line_twice": "a line appears once on a return (and gets one verdict)",
    "return.reason_unknown": "a return line needs one of policy's return reason codes",
    "return.condition_unknown": "a return line's condition is one of policy's conditions",
    "return.override_role": "only the roles policy names may override a failed return rule",
    "return.override_reason": "an override needs a reason",
    "return.override_rule": "only the window, final-sale and missing-delivery-date rules can be overridden",
    "return.state": "a return order moves CREATED → AWAITING_RECEIPT → RECEIVED → VERIFIED → REFUNDED → CLOSED",
    "return.verdict_missing": "verifying a return gives every line a verdict",
    "return.verdict_reason": "a rejected line needs a reason",
    "return.nothing_accepted": "a return with no accepted line is closed, not refunded",
    "return.refund_first": "a return with accepted lines (or an exchange) is refunded or settled before it is closed",
    "exchange.empty": "an exchange sends at least one replacement line",
    # placing a new order (engine/placing.py)
    "placing.customer": "a new order's billing account is its customer's own",
    "placing.empty": "a new order has at least one line",
    "placing.market": "a new order is in one of policy's markets",
    "placing.no_charge": "no charge is for a replacement, and a replacement is at no charge",
    "placing.link": "a linked order is the same customer's; a re-order is of a cancelled order, a replacement of one that is not",
    "placing.replacement_lines": "a replacement sends at most what the original order has left to replace, sku by sku "
                                 "(less what came back and what earlier replacements sent)",
    "placing.price_override": "a price other than today's catalog price only on a replacement or an exchange",
    "payment.currency": "the billing account pays in the market's currency",
    "customer.invalid": "a new customer's name, e-mail and phone are well formed",
    # fulfilment events (engine/events.py)
    "event.wrong_order": "an event applies to the order it names",
    "event.order_cancelled": "no fulfilment event applies to a cancelled order",
    "event.before_order": "an event cannot be dated before the order was placed",
    "event.unknown_line": "the event names a line the order does not have",
    "event.line_twice": "an event names each line at most once",
    "event.line_cancelled": "the event names a line with no live quantity",
    "event.nothing_to_move": "an event for all lines needs at least one unit that can take its step",
    "event.allocate_exceeds": "allocated units never exceed the line's live quantity",
    "event.pick_exceeds": "picked units never exceed the allocated units (nor so the ordered ones)",
    "event.pack_exceeds": "packed units never exceed the picked units",
    "event.dispatch_exceeds": "dispatched units never exceed the packed units",
    "event.ready_exceeds": "units ready for collection never exceed the units dispatched to the store",
    "event.collect_exceeds": "collected units never exceed the units ready at the store",
    "event.deliver_exceeds": "delivered units never exceed the dispatched units",
    "event.short_pick_exceeds": "a short pick names at most the line's unpicked units",
    "event.backorder_exceeds": "backordered units never exceed the line's unpicked, not yet backordered units",
    "event.backorder_date": "a backorder's expected date is not before the event",
    "event.not_collect": "ready for collection and collected belong to click & collect orders",
    "event.not_delivery": "delivered belongs to home-delivery orders (click & collect is collected)",
    "event.not_dispatched": "a delivery can fail only while something is out for delivery",
    # Checked by the store before the engine sees the event (backend/sqlite/events.py): they need the store.
    "event.unknown_order": "an event names an order the store has (else it is refused and kept)",
    "event.id_reused": "an event id taken in once cannot come again with other content",
}

# -- addresses -------------------------------------------------------------------------------------

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)
AU_STATES = frozenset("NSW VIC QLD WA SA TAS ACT NT".split())
REGIONS = {"US": US_STATES, "AU": AU_STATES}
POSTCODES = {
    "US": (re.compile(r"^\d{5}(-\d{4})?$"), "a US ZIP code (5 digits, or ZIP+4)"),
    "AU": (re.compile(r"^\d{4}$"), "an Australian postcode (4 digits)"),
    "DE": (re.compile(r"^\d{5}$"), "a German postcode (5 digits)"),
    "FR": (re.compile(r"^\d{5}$"), "a French postcode (5 digits)"),
    "JP": (re.compile(r"^\d{3}-?\d{4}$"), "a Japanese postcode (123-4567)"),
    "BH": (re.compile(r"^\d{3,4}$"), "a Bahraini block number (3 or 4 digits)"),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
_LIMITS = {"name": 100, "line1": 100, "line2": 100, "city": 60, "region": 3, "postcode": 10,
           "country": 2, "phone": 20}
_LABELS = {"name": "name", "line1": "street", "line2": "second street line", "city": "city",
           "region": "state", "postcode": "postcode", "country": "country", "phone": "phone"}


def address_problems(a: Address) -> list[tuple[str, str]]:
    """(field, problem) for each thing wrong with an address; empty when it is good."""
    out: list[tuple[str, str]] = []
    for f, limit in _LIMITS.items():
        v = getattr(a, f)
        if _CONTROL.search(v):
            out.append((f, f"the {_LABELS[f]} contains control or direction characters"))
        elif len(v) > limit:
            out.append((f, f"the {_LABELS[f]} is longer than {limit} characters"))
    for f in ("name", "line1", "city", "postcode", "country"):
        if not getattr(a, f).strip():
            out.append((f, f"the {_LABELS[f]} is missing"))
    if out:
        return out
    if a.country not in POSTCODES:
        out.append(("country", f"{a.country!r} is not a country carecli ships to"))
        return out
    rx, what = POSTCODES[a.country]
    if not rx.match(a.postcode.strip()):
        out.append(("postcode", f"{a.postcode!r} is not {what}"))
    regions = REGIONS.get(a.country)
    if regions is not None and a.region.upper() not in regions:
        out.append(("region", f"{a.region!r} is not a state of {a.country}" if a.region
                    else "the state is missing"))
    if a.phone and not _PHONE.match(a.phone):
        out.append(("phone", f"{a.phone!r} is not a phone number"))
    return out


def _norm(s: str) -> str:
    return " ".join(s.split()).casefold()


def is_major_change(old: Address, new: Address) -> bool:
    """Postcode, city, region or country: it moves the parcel to another place (re-rate, re-source).

    City counts as major although DOMAIN names postcode, region and country: carecli's tax
    jurisdictions are per city, so a city change can change the rate.
    """
    return any(_norm(getattr(old, f)) != _norm(getattr(new, f)) for f in ("postcode", "city", "region", "country"))


def same_address(a: Address, b: Address) -> bool:
    return all(_norm(getattr(a, f)) == _norm(getattr(b, f)) for f in _LIMITS)


# -- payment methods -------------------------------------------------------------------------------


def card_expired(pm: PaymentMethod, now: datetime) -> bool:
    """A card is good through the last day of its expiry month."""
    mm, yy = pm.expiry.split("/")
    return (now.year, now.month) > (2000 + int(yy), int(mm))
