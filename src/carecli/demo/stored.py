"""The demo business as the store keeps it: each order's row, JSON and documents written straight
from the generator's data, without building the engine's models.

Building a million orders' pydantic models and turning them into JSON with ``model_dump_json`` cost
more than generating them. :class:`StoredWriter` has the methods of ``orders.ModelWriter`` (what
:meth:`OrderFactory.finish <carecli.demo.orders.OrderFactory.finish>` makes of an order) and writes
the JSON text pydantic would write for the same models, byte for byte: the same keys in the models'
field order, compact separators, non-ASCII text as UTF-8, money as ``{"amount": "12.34", "currency":
"USD"}``, datetimes in ISO 8601 with ``Z`` for UTC, dates as ``YYYY-MM-DD``, ``null`` for None. The
pieces that recur (a variant's line fields, money amounts, document items, a customer's delivery)
are written once and reused.

``tests/demo/test_stored.py`` compares every order, document, customer and account of demo
businesses with every stage and scenario against ``model_dump_json`` of the models; the fields of
each model written here are checked against the model when this module is imported, so a change to
the engine's models fails loudly rather than writing stale JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring as jstr  # a JSON string literal, non-ASCII kept (C)
from typing import Mapping, Sequence

from ..engine.model import (
    Address, BillingAccount, ClickAndCollect, CreditMemo, Customer, Discount, DocumentItem,
    HomeDelivery, Invoice, Line, NotificationPreferences, Order, Payment, PaymentMethod,
    PickupLocation, Refund, StoreCredit,
)
from ..engine.money import Money
from .ledger import DocumentWriter, PromoDiscount

# --------------------------------------------------------------------------------------------------
# The shapes written here, checked against the models at import
# --------------------------------------------------------------------------------------------------

_FIELDS = {
    Address: ("name", "line1", "line2", "city", "region", "postcode", "country", "phone"),
    NotificationPreferences: ("email", "sms"),
    Customer: ("id", "name", "email", "phone", "preferences", "billing_account_id"),
    PaymentMethod: ("id", "brand", "last4", "expiry"),
    BillingAccount: ("id", "customer_id", "currency", "payment_methods", "store_credit"),
    Discount: ("id", "line_id", "percent", "amount", "reason_code", "appeasement", "label"),
    HomeDelivery: ("kind", "address", "shipping_method"),
    ClickAndCollect: ("kind", "location_id"),
    Line: ("line_id", "sku", "description", "unit_price", "tax_category", "category", "final_sale",
           "ordered", "cancelled", "allocated", "picked", "packed", "short_picked", "backordered",
           "dispatched", "ready", "delivered", "return_initiated", "returned",
           "backorder_expected", "delivered_at"),
    DocumentItem: ("kind", "line_id", "description", "amount"),
    Invoice: ("doc", "id", "order_ref", "type", "items", "total", "created_at",
              "payment_method_id"),
    CreditMemo: ("doc", "id", "order_ref", "invoice_id", "type", "reason_code", "items", "total",
                 "created_at"),
    Payment: ("doc", "id", "order_ref", "invoice_id", "payment_method_id", "amount", "created_at"),
    Refund: ("doc", "id", "order_ref", "credit_memo_id", "payment_method_id", "amount",
             "created_at"),
    StoreCredit: ("doc", "id", "order_ref", "credit_memo_id", "amount", "created_at"),
    Order: ("ref", "version", "customer_id", "billing_account_id", "market", "currency", "tax_mode",
            "channel", "placed_at", "lines", "fulfilment", "discounts", "payment_method_id",
            "documents"),
}


def _check_fields() -> None:
    for model, names in _FIELDS.items():
        if tuple(model.model_fields) != names:
            raise RuntimeError(
                f"demo.stored writes {model.__name__} as {names}, but the model's fields are now "
                f"{tuple(model.model_fields)}: update the writer with the model")


_check_fields()

# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------


def opt(s: str | None) -> str:
    """An optional string field."""
    return "null" if s is None else jstr(s)


def dt_json(dt: datetime) -> str:
    """A datetime as pydantic writes it: ISO 8601, ``Z`` for a UTC offset of zero."""
    return _iso_json(dt.isoformat())


def _iso_json(iso: str) -> str:
    return f'"{iso[:-6]}Z"' if iso.endswith("+00:00") else f'"{iso}"'


def date_json(d: date | None) -> str:
    return "null" if d is None else f'"{d.isoformat()}"'


def money_json(m: Money) -> str:
    return f'{{"amount":"{m[0]}","currency":{jstr(m[1])}}}'


def address_json(a: Address) -> str:
    return (f'{{"name":{jstr(a.name)},"line1":{jstr(a.line1)},"line2":{jstr(a.line2)},'
            f'"city":{jstr(a.city)},"region":{jstr(a.region)},"postcode":{jstr(a.postcode)},'
            f'"country":{jstr(a.country)},"phone":{jstr(a.phone)}}}')


def _bool(b: bool) -> str:
    return "true" if b else "false"


def customer_json(c) -> str:
    """The :class:`Customer` of a generator's ``Cust``."""
    p = c.prefs
    return (f'{{"id":{jstr(c.id)},"name":{jstr(c.name)},"email":{jstr(c.email)},'
            f'"phone":{jstr(c.phone)},"preferences":{{"email":{_bool(p.email)},'
            f'"sms":{_bool(p.sms)}}},"billing_account_id":{jstr(c.account_id)}}}')


def account_json(c, store_credit: Money) -> str:
    """The :class:`BillingAccount` of a generator's ``Cust`` holding ``store_credit``."""
    cards = ",".join(
        f'{{"id":{jstr(pm.id)},"brand":{jstr(pm.brand)},"last4":{jstr(pm.last4)},'
        f'"expiry":{jstr(pm.expiry)}}}' for pm in c.cards)
    return (f'{{"id":{jstr(c.account_id)},"customer_id":{jstr(c.id)},"currency":{jstr(c.currency)},'
            f'"payment_methods":[{cards}],"store_credit":{money_json(store_credit)}}}')


@dataclass(slots=True)
class StoredCustomer:
    """A customer and their billing account as the store's rows hold them (but for row ids)."""

    id: str
    name: str
    email: str
    phone: str
    json: str
    account_id: str
    currency: str
    account_json: str

    @classmethod
    def of(cls, c, store_credit: Money) -> "StoredCustomer":
        """From a generator's ``Cust`` and the store credit its orders issued."""
        return cls(c.id, c.name, c.email, c.phone, customer_json(c), c.account_id, c.currency,
                   account_json(c, store_credit))


# --------------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------------

# Stages as engine.model.order_stage derives them from the line buckets, with their rank.
_BOOKED, _AWAITING, _PICKING, _PACKED, _DISPATCHED, _READY, _DONE = range(1, 8)
_STAGE_NAMES = {_BOOKED: "BOOKED", _AWAITING: "AWAITING_PICK", _PICKING: "PICKING",
                _PACKED: "PACKED", _DISPATCHED: "DISPATCHED", _READY: "READY_FOR_COLLECTION"}


@dataclass(slots=True)
class StoredOrder:
    """An order as the store's rows hold it, but for the row ids (given by the loader)."""

    ref: str
    version: int
    placed_at: datetime
    stage: str  # engine.model.order_stage(order).value
    total: int  # grand total, minor units: Σ invoices − Σ non-appeasement credit memos
    currency: str
    units: int  # live units (ordered − cancelled) over the lines
    postcode: str  # of the delivery address, or of the click & collect store
    skus: tuple[str, ...]  # distinct, in line order
    json: str  # the order without its documents
    documents: list[tuple]  # (doc id, kind, amount minor, created_at isoformat, json), in order
    draft: object  # the Draft it was finished from (to build its models again, for a check)


class StoredWriter:
    """``OrderFactory.finish_stored``'s writer: the same methods as ``orders.ModelWriter``, each
    returning JSON text (and what the store's columns need) instead of a model."""

    def __init__(self, locations: Mapping[str, PickupLocation]) -> None:
        self.locations = locations
        self._money: dict[str, dict[int, str]] = {}
        self.docs = DocumentWriter(None, self._item)  # type: ignore[arg-type]
        self.single: dict[tuple, tuple] = {}  # one-line orders: (grand total, invoice items)
        self._lines: dict[tuple[str, str], str] = {}  # (sku, currency) -> the variant's fields
        self._fulfilment: dict[int, tuple] = {}  # id(model) -> (model, json, postcode)
        self._at: dict[datetime, tuple[str, str]] = {}  # recent datetimes: (isoformat, json)

    # -- values ------------------------------------------------------------------------------------
    def money(self, units: int, cur: str) -> str:
        by = self._money.get(cur)
        if by is None:
            by = self._money[cur] = {}
        elif len(by) > 200_000:
            by.clear()
        s = by.get(units)
        if s is None:
            s = by[units] = money_json(Money.from_minor(units, cur))
        return s

    def _times(self, at: datetime) -> tuple[str, str]:
        """(isoformat, JSON) of a datetime: an order's documents and lines share a few. (Callers
        look in ``self._at`` first.) Keyed by value: the demo's datetimes all have a UTC offset of
        zero (``generate`` refuses any other ``now``), so equal ones are written alike."""
        got = self._at.get(at)
        if got is None:
            iso = at.isoformat()
            if len(self._at) > 4096:
                self._at.clear()
            got = self._at[at] = (iso, _iso_json(iso))
        return got

    def _item(self, kind: str, line_id: int | None, description: str, units: int, cur: str) -> str:
        lid = "null" if line_id is None else str(line_id)
        return (f'{{"kind":"{kind}","line_id":{lid},"description":{jstr(description)},'
                f'"amount":{self.money(units, cur)}}}')

    # -- documents: (doc id, kind, amount minor, created_at isoformat, json) -----------------------
    def invoice(self, inv_id: str, ref: str, items: Sequence[str], total: int, cur: str,
                at: datetime, pm: str | None) -> tuple:
        iso, js = self._at.get(at) or self._times(at)
        return (inv_id, "INVOICE", total, iso,
                f'{{"doc":"INVOICE","id":{jstr(inv_id)},"order_ref":{jstr(ref)},"type":"ORDER",'
                f'"items":[{",".join(items)}],"total":{self.money(total, cur)},"created_at":{js},'
                f'"payment_method_id":{opt(pm)}}}')

    def payment(self, pay_id: str, ref: str, inv_id: str, pm: str, amount: int, cur: str,
                at: datetime) -> tuple:
        iso, js = self._at.get(at) or self._times(at)
        return (pay_id, "PAYMENT", amount, iso,
                f'{{"doc":"PAYMENT","id":{jstr(pay_id)},"order_ref":{jstr(ref)},'
                f'"invoice_id":{jstr(inv_id)},"payment_method_id":{jstr(pm)},'
                f'"amount":{self.money(amount, cur)},"created_at":{js}}}')

    def memo(self, cm_id: str, ref: str, inv_id: str | None, mtype: str, reason: str,
             items: Sequence[str], total: int, cur: str, at: datetime) -> tuple:
        iso, js = self._at.get(at) or self._times(at)
        return (cm_id, "CREDIT_MEMO", total, iso,
                f'{{"doc":"CREDIT_MEMO","id":{jstr(cm_id)},"order_ref":{jstr(ref)},'
                f'"invoice_id":{opt(inv_id)},"type":{jstr(mtype)},"reason_code":{jstr(reason)},'
                f'"items":[{",".join(items)}],"total":{self.money(total, cur)},"created_at":{js}}}')

    def refund(self, rf_id: str, ref: str, cm_id: str, pm: str, amount: int, cur: str,
               at: datetime) -> tuple:
        iso, js = self._at.get(at) or self._times(at)
        return (rf_id, "REFUND", amount, iso,
                f'{{"doc":"REFUND","id":{jstr(rf_id)},"order_ref":{jstr(ref)},'
                f'"credit_memo_id":{jstr(cm_id)},"payment_method_id":{jstr(pm)},'
                f'"amount":{self.money(amount, cur)},"created_at":{js}}}')

    def store_credit(self, sc_id: str, ref: str, cm_id: str, amount: int, cur: str,
                     at: datetime) -> tuple:
        iso, js = self._at.get(at) or self._times(at)
        return (sc_id, "STORE_CREDIT", amount, iso,
                f'{{"doc":"STORE_CREDIT","id":{jstr(sc_id)},"order_ref":{jstr(ref)},'
                f'"credit_memo_id":{jstr(cm_id)},"amount":{self.money(amount, cur)},'
                f'"created_at":{js}}}')

    # -- the order -----------------------------------------------------------------------------
    def line(self, v, cur: str, b: tuple) -> tuple:
        """(json, live units, stage rank, sku) of a line; ``b`` as ``ModelWriter.line`` takes it."""
        fields = self._lines.get((v.sku, cur))
        if fields is None:
            fields = self._lines[(v.sku, cur)] = (
                f'"sku":{jstr(v.sku)},"description":{jstr(v.description)},'
                f'"unit_price":{money_json(v.money[cur])},"tax_category":{jstr(v.tax_category)},'
                f'"category":{jstr(v.category)},"final_sale":{_bool(v.final_sale)},')
        lid, ordered, c, s, al, pk, pa, bo, di, re, de, boe, dat = b
        delivered_at = "null" if dat is None else (self._at.get(dat) or self._times(dat))[1]
        js = (f'{{"line_id":{lid},{fields}"ordered":{ordered},"cancelled":{c},"allocated":{al},'
              f'"picked":{pk},"packed":{pa},"short_picked":{s},"backordered":{bo},'
              f'"dispatched":{di},"ready":{re},"delivered":{de},"return_initiated":0,'
              f'"returned":0,"backorder_expected":{"null" if boe is None else date_json(boe)},'
              f'"delivered_at":{delivered_at}}}')
        # engine.model.line_stage on the buckets: ``ready`` is only ever set for click & collect,
        # and the order tells DELIVERED from COLLECTED
        q = ordered - c
        if q <= 0:
            rank = 0  # cancelled: not live
        elif de >= q:
            rank = _DONE
        elif re >= q:
            rank = _READY
        elif di >= q:
            rank = _DISPATCHED
        elif pa >= q:
            rank = _PACKED
        elif pk > 0:
            rank = _PICKING
        elif al >= q:
            rank = _AWAITING
        else:
            rank = _BOOKED
        return js, q, rank, v.sku

    def discount(self, p: PromoDiscount, label: str, cur: str) -> str:
        pct = f'"{Decimal(p.percent[0]) / Decimal(p.percent[1])}"' if p.percent else "null"
        amt = self.money(p.amount, cur) if p.amount is not None else "null"
        return (f'{{"id":{jstr(p.id)},"line_id":null,"percent":{pct},"amount":{amt},'
                f'"reason_code":"","appeasement":false,"label":{jstr(label)}}}')

    def _delivery(self, f) -> tuple[str, str]:
        """(json, postcode) of a fulfilment model (shared by a customer's orders)."""
        got = self._fulfilment.get(id(f))
        if got is None or got[0] is not f:
            if f.kind == "HOME_DELIVERY":
                js = (f'{{"kind":"HOME_DELIVERY","address":{address_json(f.address)},'
                      f'"shipping_method":{jstr(f.shipping_method)}}}')
                pc = f.address.postcode
            else:
                js = f'{{"kind":"CLICK_AND_COLLECT","location_id":{jstr(f.location_id)}}}'
                loc = self.locations.get(f.location_id)
                pc = loc.address.postcode if loc else ""
            if len(self._fulfilment) > 50_000:
                self._fulfilment.clear()
            got = self._fulfilment[id(f)] = (f, js, pc)  # holds f: its id is not reused meanwhile
        return got[1], got[2]

    def order(self, d, ref: str, version: int, lines: list, discounts: tuple, documents: list,
              total: int) -> StoredOrder:
        delivery, postcode = self._delivery(d.fulfilment)
        units = 0
        rank = 99
        skus: list[str] = []
        for _, q, r, sku in lines:
            if q > 0:
                units += q
                if r < rank:
                    rank = r
            if sku not in skus:
                skus.append(sku)
        collect = d.ship is None
        if rank == 99:
            stage = "CANCELLED"
        elif rank == _DONE:
            stage = "COLLECTED" if collect else "DELIVERED"
        else:
            stage = _STAGE_NAMES[rank]
        _, placed = self._at.get(d.placed) or self._times(d.placed)
        js = (f'{{"ref":{jstr(ref)},"version":{version},"customer_id":{jstr(d.customer_id)},'
              f'"billing_account_id":{jstr(d.account_id)},"market":{jstr(d.market)},'
              f'"currency":{jstr(d.currency)},'
              f'"tax_mode":"{"INCLUSIVE" if d.inclusive else "EXCLUSIVE"}",'
              f'"channel":{jstr(d.channel)},"placed_at":{placed},'
              f'"lines":[{",".join(ln[0] for ln in lines)}],"fulfilment":{delivery},'
              f'"discounts":[{",".join(discounts)}],'
              f'"payment_method_id":{opt(d.payment_method_id)}}}')
        return StoredOrder(ref, version, d.placed, stage, total, d.currency, units, postcode,
                           tuple(skus), js, documents, d)


__all__ = ["StoredCustomer", "StoredOrder", "StoredWriter", "account_json", "customer_json",
           "dt_json"]
