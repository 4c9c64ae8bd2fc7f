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


class ModelWriter:
    """What :meth:`OrderFactory.finish` makes of an order: the engine's models (built without
    validation). ``demo.stored.StoredWriter`` has the same methods and writes the store's rows and
    JSON instead; the finishing logic (money, documents, buckets) is the factory's, shared by both."""

    def __init__(self, money: MoneyCache) -> None:
        self.money = money
        self.docs = DocumentWriter(money)
        self.single: dict[tuple, tuple] = {}  # one-line orders: (grand total, invoice items)

    def invoice(self, inv_id: str, ref: str, items: tuple, total: int, cur: str, at: datetime,
                pm: str) -> Invoice:
        return build_invoice({
            "doc": "INVOICE", "id": inv_id, "order_ref": ref, "type": "ORDER", "items": items,
            "total": self.money(total, cur), "created_at": at, "payment_method_id": pm})

    def payment(self, pay_id: str, ref: str, inv_id: str, pm: str, amount: int, cur: str,
                at: datetime) -> Payment:
        return build_payment({
            "doc": "PAYMENT", "id": pay_id, "order_ref": ref, "invoice_id": inv_id,
            "payment_method_id": pm, "amount": self.money(amount, cur), "created_at": at})

    def memo(self, cm_id: str, ref: str, inv_id: str, mtype: str, reason: str, items: tuple,
             total: int, cur: str, at: datetime) -> CreditMemo:
        return build_memo({
            "doc": "CREDIT_MEMO", "id": cm_id, "order_ref": ref, "invoice_id": inv_id,
            "type": mtype, "reason_code": reason, "items": items,
            "total": self.money(total, cur), "created_at": at})

    def refund(self, rf_id: str, ref: str, cm_id: str, pm: str, amount: int, cur: str,
               at: datetime) -> Refund:
        return build_refund({
            "doc": "REFUND", "id": rf_id, "order_ref": ref, "credit_memo_id": cm_id,
            "payment_method_id": pm, "amount": self.money(amount, cur), "created_at": at})

    def store_credit(self, sc_id: str, ref: str, cm_id: str, amount: int, cur: str,
                     at: datetime) -> StoreCredit:
        return build_store_credit({
            "doc": "STORE_CREDIT", "id": sc_id, "order_ref": ref, "credit_memo_id": cm_id,
            "amount": self.money(amount, cur), "created_at": at})

    def line(self, v: VInfo, cur: str, b: tuple) -> Line:
        """``b``: the buckets (line_id, ordered, cancelled, short_picked, allocated, picked, packed,
        backordered, dispatched, ready, delivered, backorder_expected, delivered_at)."""
        # A copy of the variant's line template (every field, in order) with the buckets set:
        # a third of the cost of a 21-key dict literal.
        f = v.line_templates[cur].copy()
        (f["line_id"], f["ordered"], f["cancelled"], f["short_picked"], f["allocated"], f["picked"],
         f["packed"], f["backordered"], f["dispatched"], f["ready"], f["delivered"],
         f["backorder_expected"], f["delivered_at"]) = b
        return build_line(f)

    def discount(self, p: PromoDiscount, label: str, cur: str) -> Discount:
        return build_discount({
            "id": p.id, "line_id": None,
            "percent": Decimal(p.percent[0]) / Decimal(p.percent[1]) if p.percent else None,
            "amount": self.money(p.amount, cur) if p.amount is not None else None,
            "reason_code": "", "appeasement": False, "label": label})

    def order(self, d: "Draft", ref: str, version: int, lines: list, discounts: tuple,
              documents: list, total: int) -> Order:
        """``total``: the grand total in minor units (Σ invoices − Σ non-appeasement memos)."""
        return build_order({
            "ref": ref, "version": version, "customer_id": d.customer_id,
            "billing_account_id": d.account_id, "market": d.market, "currency": d.currency,
            "tax_mode": "INCLUSIVE" if d.inclusive else "EXCLUSIVE", "channel": d.channel,
            "placed_at": d.placed, "lines": tuple(lines), "fulfilment": d.fulfilment,
            "discounts": discounts, "payment_method_id": d.payment_method_id,
            "documents": tuple(documents)})


class OrderFactory:
    """Prices and finishes drafts. One per generation run (it caches shared immutable pieces)."""

    def __init__(self, policy: Policy, variants: tuple[Variant, ...],
                 locations: tuple[PickupLocation, ...]) -> None:
        self.policy = policy
        self.pricer = QuickPricer(policy)
        self.money = MoneyCache()
        self.models = ModelWriter(self.money)
        self.docs = self.models.docs
        self.variants = {v.sku: VInfo.of(v) for v in variants}
        self.locations = {loc.id: loc for loc in locations}
        self._collect: dict[str, tuple] = {}
        self._stored = None

    @property
    def stored(self):
        """The writer of :meth:`finish_stored` (``demo.stored.StoredWriter``), made on first use."""
        if self._stored is None:
            from .stored import StoredWriter

            self._stored = StoredWriter(self.locations)
        return self._stored

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
        return self.finish_with(d, self.models)

    def finish_stored(self, d: Draft):
        """The order as the store keeps it (``demo.stored.StoredOrder``: its row's columns, its JSON
        and its documents' rows), and the store credit it issued: what :meth:`finish` gives, written
        without building the models."""
        return self.finish_with(d, self.stored)

    def finish_with(self, d: Draft, w):
        """Price the draft, write its documents and lines through ``w`` (a :class:`ModelWriter` or a
        ``StoredWriter``), and return ``(w.order(...), store credit issued)``."""
        cur = d.currency
        n = d.ref_no
        ref = f"ON-{n}"
        lines = d.lines
        vs = [ln.v for ln in lines]
        qtys = [ln.ordered for ln in lines]
        promos = (d.promo[0],) if d.promo else ()
        tax_label = d.rate.label_inclusive if d.inclusive else d.rate.label_exclusive
        # Nearly half the orders are one line with nothing taken off: their price and invoice items
        # depend only on (variant, quantity, place, delivery), so they are computed once and shared.
        key = None
        if len(lines) == 1 and not promos and not d.events:
            key = (vs[0].sku, qtys[0], cur, id(d.rate), d.inclusive, d.ship)
            hit = w.single.get(key)
        units = exempt = ()
        if key is None or hit is None:
            units = [v.prices[cur] for v in vs]
            exempt = [v.exempt for v in vs]
            before = self.pricer.price(units, qtys, exempt, promos, d.rate, d.inclusive, d.ship)
            grand = before.grand
            items = w.docs.invoice_items(before, vs, qtys, cur, tax_label)
            if key is not None:
                if len(w.single) > 100_000:
                    w.single.clear()
                w.single[key] = (grand, items)
        else:
            grand, items = hit
            before = None  # not needed: a cached order has no money events
        inv_id = f"INV-{n}"
        pm = d.payment_method_id
        placed = d.placed
        documents: list = [
            w.invoice(inv_id, ref, items, grand, cur, placed, pm),
            w.payment(f"PAY-{n}", ref, inv_id, pm, grand, cur, placed),
        ]
        version = 1
        store_credit = 0
        total = grand
        cancelled = short = None
        if d.events:
            cancelled = [0] * len(lines)
            short = [0] * len(lines)
            version, store_credit, credited = self._replay(
                d, w, ref, inv_id, before, units, exempt, promos, tax_label, documents, cancelled,
                short)
            total -= credited

        collect = d.collect
        out_lines = []
        line = w.line
        for i, (ln, v) in enumerate(zip(lines, vs)):
            ordered = q = ln.ordered
            c = s = 0
            if cancelled is not None and cancelled[i]:
                c = cancelled[i]
                s = short[i]
                q -= c
            al = pk = pa = bo = di = re = de = 0
            boe = dat = None
            if q > 0:
                step = ln.step
                if ln.backorder_expected is not None:
                    bo = q
                    boe = ln.backorder_expected
                elif step >= ALLOCATED:
                    al = q
                    if step >= PICKED:
                        pk = q
                        if step >= PACKED:
                            pa = q
                            if step >= DISPATCHED:
                                di = q
                                if collect and step >= READY:
                                    re = q
                                if step >= DELIVERED:
                                    de = q
                                    dat = ln.delivered_at
            out_lines.append(line(v, cur, (i + 1, ordered, c, s, al, pk, pa, bo, di, re, de, boe,
                                           dat)))
        discounts: tuple = ()
        if d.promo:
            discounts = (w.discount(d.promo[0], d.promo[1], cur),)
        return w.order(d, ref, version, out_lines, discounts, documents, total), store_credit

    def _replay(self, d: Draft, w, ref: str, inv_id: str, before, units, exempt, promos,
                tax_label, documents: list, cancelled: list[int], short: list[int]
                ) -> tuple[int, int, int]:
        """Apply the draft's money events in order: a credit memo each, settled; the units taken off
        each line are added up in ``cancelled`` (and ``short`` for short picks). Returns the version,
        the store credit issued and the total of the memos that change the price (all but
        appeasements)."""
        cur = d.currency
        docs = w.docs
        lines = d.lines
        n = d.ref_no
        vs = [ln.v for ln in lines]
        version = 1
        captured = before.grand
        refunded = 0
        store_credit = 0
        credited = 0
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
                credited += amount
            cm_id = f"CM-{n}-{k}"
            documents.append(w.memo(cm_id, ref, inv_id, mtype, ev.reason, items, amount, cur,
                                    ev.at))
            # Settle: the original payment first, up to what it paid and is not yet refunded.
            to_card = min(amount, captured - refunded) if ev.settle == "refund" else 0
            if to_card:
                refunded += to_card
                documents.append(w.refund(f"RF-{n}-{k}", ref, cm_id, d.payment_method_id, to_card,
                                          cur, ev.at))
            rest = amount - to_card
            if rest:
                store_credit += rest
                documents.append(w.store_credit(f"SC-{n}-{k}", ref, cm_id, rest, cur, ev.at))
            version += 1
        return version, store_credit, credited


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
