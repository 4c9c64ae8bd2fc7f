"""Turning engine models into the store's rows and back (shared by the bulk loader, commits, events,
returns and placing)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Mapping

from ...engine.model import (
    BillingAccount, ClickAndCollect, CreditMemo, Customer, Invoice, Order, PickupLocation, order_stage,
)
from ...engine.money import Money
from ...engine.policy import Policy
from ...engine.pricing import PricingError, price
from ..ledger import doc_amount
from .search import postcode_key, to_micros

_ID = re.compile(r"^([A-Z]+)-(\d+)$")

ORDER_ROW = "SELECT id, version, customer, account, placed_at, json FROM orders WHERE ref = ?"
"""An order's row: (row id, version, customer row, account row, placed_at, json)."""


def order_row(c: sqlite3.Connection, ref: str) -> tuple[Any, ...] | None:
    return c.execute(ORDER_ROW, (ref,)).fetchone()


def read_order(c: sqlite3.Connection, order_id: int, text: str) -> Order:
    """The order of row ``order_id`` (its ``json``) with its documents, which live in their own table."""
    docs = c.execute("SELECT json FROM documents WHERE order_id = ? ORDER BY id", (order_id,)).fetchall()
    return Order.model_validate_json(text[:-1] + ',"documents":[' + ",".join(d for (d,) in docs) + "]}")


def read_party(c: sqlite3.Connection, customer: int, account: int) -> tuple[Customer, BillingAccount]:
    """The customer and billing account of an order's row."""
    (cj,) = c.execute("SELECT json FROM customers WHERE id = ?", (customer,)).fetchone()
    (aj,) = c.execute("SELECT json FROM accounts WHERE id = ?", (account,)).fetchone()
    return Customer.model_validate_json(cj), BillingAccount.model_validate_json(aj)


def order_postcode(order: Order, locations: Mapping[str, PickupLocation]) -> str:
    f = order.fulfilment
    if isinstance(f, ClickAndCollect):
        loc = locations.get(f.location_id)
        return loc.address.postcode if loc else ""
    return f.address.postcode


def ledger_total(order: Order) -> Money | None:
    """Σ invoices − Σ credit memos other than appeasement credits: the order's grand total when its
    ledger is complete (DOMAIN §5, §6: an appeasement credit leaves the price unchanged). None when
    the order has no invoice."""
    acc = Money.zero(order.currency)
    seen = False
    for d in order.documents:
        if isinstance(d, Invoice):
            acc = acc + d.total
            seen = True
        elif isinstance(d, CreditMemo) and d.type != "APPEASEMENT":
            acc = acc - d.total
    return acc if seen else None


def order_total(order: Order, policy: Policy, locations: Mapping[str, PickupLocation]) -> Money:
    """The grand total as priced now; for an order that cannot be priced, its ledger total."""
    try:
        return price(order, policy, locations).grand_total
    except PricingError:
        t = ledger_total(order)
        return t if t is not None else Money.zero(order.currency)


def order_columns(order: Order, total: Money, locations: Mapping[str, PickupLocation]) -> tuple:
    """(placed_at µs, stage, total minor, currency, units, postcode, postcode key)."""
    pc = order_postcode(order, locations)
    units = sum(q for q in (ln.ordered - ln.cancelled for ln in order.lines) if q > 0)
    return (to_micros(order.placed_at), order_stage(order).value, total.minor, order.currency, units,
            pc, postcode_key(pc))


_NO_DOCS = {"documents"}


def order_json(order: Order) -> str:
    """The order without its documents: they are rows of their own (see documents)."""
    # warnings=False: models built by the demo's fast constructor skip validation, and pydantic's
    # type checks on them cost half the serialisation time; the values are the engine's own.
    return order.model_dump_json(exclude=_NO_DOCS, warnings=False)


def document_columns(doc) -> tuple:
    """(doc id, kind, amount minor, created_at, json)."""
    return (doc.id, doc.doc, doc_amount(doc).minor, doc.created_at.isoformat(),
            doc.model_dump_json(warnings=False))


def id_number(ident: str) -> tuple[str, int] | None:
    """("CM", 123) for "CM-000123"; None for ids of another shape."""
    m = _ID.match(ident)
    return (m.group(1), int(m.group(2))) if m else None
