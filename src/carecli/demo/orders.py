"""Building demo orders: lines and their quantity buckets, fulfilment progress, and the money.

An order is first drafted (:class:`Draft`: lines with the fulfilment step each reached, an optional
promotional discount, and the financial events that happened to it), then finished by
:meth:`OrderFactory.finish`, which prices it, writes its invoice and capture, replays the events
(cancellation, quantity reduction, short pick, appeasement) as credit memos settled by refunds or
store credit, and derives every bucket from the steps. The random orders and the named scenarios go
through the same path.

Fulfilment steps per line (of its live quantity):
0 booked · 1 allocated · 2 picked · 3 packed · 4 dispatched (to the customer, or to the store) ·
5 ready for collection (click & collect only) · 6 delivered / collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from ..engine.model import (
    Address, ClickAndCollect, CreditMemo, Discount, HomeDelivery, Invoice, Line, Order, Payment,
    PickupLocation, Refund, StoreCredit, Variant,
)
from ..engine.money import Money
from ..engine.policy import Policy
from ._fast import MoneyCache, builder, maker, template
from .ledger import DocumentWriter, PromoDiscount, QuickPricer, Rate

build_line = builder(Line)
# Every Line field in order, with its default; line_id and ordered are set for each line.
_LINE_TEMPLATE = {**template(Line), "line_id": 0, "ordered": 0}
build_order = builder(Order)
build_discount = builder(Discount)
build_invoice = builder(Invoice)
build_payment = builder(Payment)
build_memo = builder(CreditMemo)
build_refund = builder(Refund)
build_store_credit = builder(StoreCredit)
make_home = maker(HomeDelivery)
make_collect = maker(ClickAndCollect)

BOOKED, ALLOCATED, PICKED, PACKED, DISPATCHED, READY, DELIVERED = range(7)


@dataclass(frozen=True, slots=True)
class VInfo:
    """What the generator needs of a variant, computed once."""

    sku: str
    product_id: str
    description: str
    category: str
    tax_category: str
    final_sale: bool
    exempt: bool  # tax category "exempt"
    prices: dict[str, int]  # minor units per currency
    money: dict[str, Money]
    sellable: bool
    in_stock: bool
    backorder_only: bool  # backorderable with nothing on hand
    line_templates: dict[str, dict]  # currency -> every Line field, in order: nothing done yet

    @classmethod
    def of(cls, v: Variant) -> "VInfo":
        templates = {}
        for cur, m in v.prices.items():
            t = _LINE_TEMPLATE.copy()
            t.update(sku=v.sku, description=v.description, unit_price=m,
                     tax_category=v.tax_category, category=v.category, final_sale=v.final_sale)
            templates[cur] = t
        return cls(
            sku=v.sku, product_id=v.product_id, description=v.description, category=v.category,
            tax_category=v.tax_category, final_sale=v.final_sale,
            exempt=v.tax_category == "exempt", prices={c: m.minor for c, m in v.prices.items()},
            money=dict(v.prices), sellable=v.sellable, in_stock=v.available > 0,
            backorder_only=v.backorderable and v.available == 0, line_templates=templates,
        )


@dataclass(slots=True)
class DLine:
    v: VInfo
    ordered: int
    step: int = BOOKED
    delivered_at: datetime | None = None
    backorder_expected: date | None = None  # set: the live units are backordered
    pick_off: int = -1  # seconds after placing when the line was (or will be) picked


@dataclass(frozen=True, slots=True)
class Event:
    """Something that changed the order's money after it was placed."""

    at: datetime
    kind: Literal["cancel", "reduce", "short", "appease"]
    line: int = -1  # index into the draft's lines
    units: int = 0  # units taken off (reduce, short); minor units (appease)
    reason: str = ""
    settle: Literal["refund", "store_credit"] = "refund"


@dataclass(slots=True)
class Draft:
    ref_no: int
    placed: datetime
    market: str
    currency: str
    inclusive: bool
    customer_id: str
    account_id: str
    payment_method_id: str
    fulfilment: HomeDelivery | ClickAndCollect
    rate: Rate
    ship: tuple[int, int | None] | None  # (fee, free over) in minor units; None for click & collect
    lines: list[DLine]
    channel: str = "web"
    promo: tuple[PromoDiscount, str] | None = None  # the discount and its label
    events: list[Event] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"ON-{self.ref_no}"

    @property
    def collect(self) -> bool:
        return self.ship is None


class OrderFactory:
    """Prices and finishes drafts. One per generation run (it caches shared immutable pieces)."""

    def __init__(self, policy: Policy, variants: tuple[Variant, ...],
                 locations: tuple[PickupLocation, ...]) -> None:
        self.policy = policy
        self.pricer = QuickPricer(policy)
        self.money = MoneyCache()
        self.docs = DocumentWriter(self.money)
        self.variants = {v.sku: VInfo.of(v) for v in variants}
        self.locations = {loc.id: loc for loc in locations}
        self._collect: dict[str, tuple] = {}
        self._single: dict[tuple, tuple] = {}  # one-line orders: (grand total, invoice items)

    # -- fulfilment choices ------------------------------------------------------------------------
    def rate_for(self, address: Address) -> Rate:
        r = self.pricer.rate(address.country, address.region, address.city)
        if r is None:
            raise ValueError(f"the policy has no tax rate for {address.one_line()}")
        return r

    def home(self, address: Address, method: str, currency: str):
        return (make_home(kind="HOME_DELIVERY", address=address, shipping_method=method),
                self.rate_for(address), self.pricer.shipping(method, currency))

    def collect_at(self, location_id: str):
        got = self._collect.get(location_id)
        if got is None:
            loc = self.locations[location_id]
            got = self._collect[location_id] = (
                make_collect(kind="CLICK_AND_COLLECT", location_id=location_id),
                self.rate_for(loc.address), None)
        return got

    # -- finishing ---------------------------------------------------------------------------------
    def finish(self, d: Draft) -> tuple[Order, int]:
        """The order, and the store credit (minor units) it issued to the customer's account."""
        cur = d.currency
        money = self.money
        n = d.ref_no
        ref = f"ON-{n}"
        lines = d.lines
        vs = []
        units = []
        exempt = []
        qtys = []
        for ln in lines:
            v = ln.v
            vs.append(v)
            units.append(v.prices[cur])
            exempt.append(v.exempt)
            qtys.append(ln.ordered)
        promos = (d.promo[0],) if d.promo else ()
        tax_label = d.rate.label_inclusive if d.inclusive else d.rate.label_exclusive
        # Nearly half the orders are one line with nothing taken off: their price and invoice items
        # depend only on (variant, quantity, place, delivery), so they are computed once and shared.
        key = None
        if len(lines) == 1 and not promos and not d.events:
            key = (vs[0].sku, qtys[0], cur, id(d.rate), d.inclusive, d.ship)
            hit = self._single.get(key)
        if key is None or hit is None:
            before = self.pricer.price(units, qtys, exempt, promos, d.rate, d.inclusive, d.ship)
            grand = Money.from_minor(before.grand, cur)
            items = self.docs.invoice_items(before, vs, qtys, cur, tax_label)
            if key is not None:
                if len(self._single) > 100_000:
                    self._single.clear()
                self._single[key] = (grand, items)
        else:
            grand, items = hit
            before = None  # not needed: a cached order has no money events
        inv_id = f"INV-{n}"
        pm = d.payment_method_id
        placed = d.placed
        documents: list = [
            build_invoice({
                "doc": "INVOICE", "id": inv_id, "order_ref": ref, "type": "ORDER", "items": items,
                "total": grand, "created_at": placed, "payment_method_id": pm}),
            build_payment({
                "doc": "PAYMENT", "id": f"PAY-{n}", "order_ref": ref, "invoice_id": inv_id,
                "payment_method_id": pm, "amount": grand, "created_at": placed}),
        ]
        version = 1
        store_credit = 0
        cancelled = short = None
        if d.events:
            cancelled = [0] * len(lines)
            short = [0] * len(lines)
            version, store_credit = self._replay(d, ref, inv_id, before, units, exempt, promos,
                                                 tax_label, documents, cancelled, short)

        collect = d.collect
        out_lines = []
        for i, (ln, v) in enumerate(zip(lines, vs)):
            # A copy of the variant's line template (every field, in order) with the buckets set:
            # a third of the cost of a 21-key dict literal.
            f = v.line_templates[cur].copy()
            f["line_id"] = i + 1
            f["ordered"] = q = ln.ordered
            if cancelled is not None and cancelled[i]:
                f["cancelled"] = cancelled[i]
                f["short_picked"] = short[i]
                q -= cancelled[i]
            if q > 0:
                step = ln.step
                if ln.backorder_expected is not None:
                    f["backordered"] = q
                    f["backorder_expected"] = ln.backorder_expected
                elif step >= ALLOCATED:
                    f["allocated"] = q
                    if step >= PICKED:
                        f["picked"] = q
                        if step >= PACKED:
                            f["packed"] = q
                            if step >= DISPATCHED:
                                f["dispatched"] = q
                                if collect and step >= READY:
                                    f["ready"] = q
                                if step >= DELIVERED:
                                    f["delivered"] = q
                                    f["delivered_at"] = ln.delivered_at
            out_lines.append(build_line(f))
        discounts: tuple = ()
        if d.promo:
            p, label = d.promo
            discounts = (build_discount({
                "id": p.id, "line_id": None,
                "percent": Decimal(p.percent[0]) / Decimal(p.percent[1]) if p.percent else None,
                "amount": money(p.amount, cur) if p.amount is not None else None,
                "reason_code": "", "appeasement": False, "label": label}),)
        order = build_order({
            "ref": ref, "version": version, "customer_id": d.customer_id,
            "billing_account_id": d.account_id, "market": d.market, "currency": cur,
            "tax_mode": "INCLUSIVE" if d.inclusive else "EXCLUSIVE", "channel": d.channel,
            "placed_at": placed, "lines": tuple(out_lines), "fulfilment": d.fulfilment,
            "discounts": discounts, "payment_method_id": pm, "documents": tuple(documents)})
        return order, store_credit

    def _replay(self, d: Draft, ref: str, inv_id: str, before, units, exempt, promos, tax_label,
                documents: list, cancelled: list[int], short: list[int]) -> tuple[int, int]:
        """Apply the draft's money events in order: a credit memo each, settled; the units taken off
        each line are added up in ``cancelled`` (and ``short`` for short picks)."""
        cur = d.currency
        money = self.money
        docs = self.docs
        lines = d.lines
        n = d.ref_no
        vs = [ln.v for ln in lines]
        version = 1
        captured = before.grand
        refunded = 0
        store_credit = 0
        for k, ev in enumerate(d.events, start=1):
            if ev.kind == "appease":
                amount = ev.units
                items = (docs.item("APPEASEMENT", None, _APPEASE_TEXT.get(ev.reason, ev.reason),
                                   amount, cur),)
                mtype = "APPEASEMENT"
            else:
                removed = [0] * len(lines)
                if ev.kind == "cancel":
                    for i, ln in enumerate(lines):
                        removed[i] = ln.ordered - cancelled[i]
                else:
                    removed[ev.line] = ev.units
                for i in range(len(lines)):
                    cancelled[i] += removed[i]
                    if ev.kind == "short":
                        short[i] += removed[i]
                live = [ln.ordered - c for ln, c in zip(lines, cancelled)]
                after = self.pricer.price(units, live, exempt, promos, d.rate, d.inclusive, d.ship)
                amount = before.grand - after.grand
                if amount <= 0:
                    raise ValueError(f"{ref}: {ev.kind} would not lower the total")
                items = docs.memo_items(before, after, vs, removed, cur, tax_label)
                mtype = _MEMO_TYPE[ev.kind]
                before = after
            cm_id = f"CM-{n}-{k}"
            documents.append(build_memo({
                "doc": "CREDIT_MEMO", "id": cm_id, "order_ref": ref, "invoice_id": inv_id,
                "type": mtype, "reason_code": ev.reason, "items": items,
                "total": money(amount, cur), "created_at": ev.at}))
            # Settle: the original payment first, up to what it paid and is not yet refunded.
            to_card = min(amount, captured - refunded) if ev.settle == "refund" else 0
            if to_card:
                refunded += to_card
                documents.append(build_refund({
                    "doc": "REFUND", "id": f"RF-{n}-{k}", "order_ref": ref,
                    "credit_memo_id": cm_id, "payment_method_id": d.payment_method_id,
                    "amount": money(to_card, cur), "created_at": ev.at}))
            rest = amount - to_card
            if rest:
                store_credit += rest
                documents.append(build_store_credit({
                    "doc": "STORE_CREDIT", "id": f"SC-{n}-{k}", "order_ref": ref,
                    "credit_memo_id": cm_id, "amount": money(rest, cur), "created_at": ev.at}))
            version += 1
        return version, store_credit


_MEMO_TYPE = {"cancel": "CANCELLATION", "reduce": "AMENDMENT", "short": "SHORT_PICK"}
_APPEASE_TEXT = {
    "LATE_DELIVERY": "Goodwill credit: delivery later than promised",
    "SERVICE_RECOVERY": "Goodwill credit: service recovery",
    "DAMAGED": "Goodwill credit: arrived damaged",
}


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
