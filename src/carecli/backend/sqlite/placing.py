"""Placing orders and creating customers in the embedded store.

Every function takes the caller's ``sqlite3.Connection`` and runs *inside the caller's transaction*
(``SqliteStore._write`` opens it with ``BEGIN IMMEDIATE``): another flow — an exchange — calls
:func:`insert_order` and :func:`link_orders` inside its own transaction, so its return and its new
order commit together or not at all.

Refs: new orders take ``ON-<n>`` from the ``counters`` row ``ON``. A store without that row (a demo
built before order creation existed) starts it above the highest ``ON-`` number in ``orders`` (and
never below ``ON-100001``: shorter numbers are read as postcodes by search); a ref that exists anyway is
skipped. Customers take ``CUS-<n>``/``BA-<n>``/``PM-<n>-1`` from the ``CUS`` row the same way.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from pydantic import ValidationError

from ...engine.audit import GENESIS_HASH, AuditRecord, canonical_json
from ...engine.context import IdSource, PlanContext
from ...engine.model import (
    Address, BillingAccount, Customer, Document, NotificationPreferences, Order, Payment, PaymentMethod,
    PickupLocation, Variant,
)
from ...engine.money import Money
from ...engine.notifications import MessageTemplate, Notification
from ...engine.placing import customer_problems, place, placement_audit
from ...engine.policy import Policy
from ...engine.rules import Violation, card_expired
from ..contract import (
    CustomerSummary, DuplicateCustomer, IdempotencyMismatch, NewCustomerRequest, NotFound, OrderLinkView,
    PaymentDeclined, PaymentGateway, PlaceOrderRequest, PlaceOrderResult, Role, RuleViolations, StoreCorrupt,
)
from .rows import document_columns, ledger_total, order_columns, order_json, order_row, read_order
from .search import MAX_CUSTOMERS, clean, email_key, fts_query, name_tokens, phone_keys

FIRST_REF = 100_001  # the demo's first ref; search reads bare numbers of 6 digits and more as refs


# --------------------------------------------------------------------------------------------------
# Numbering
# --------------------------------------------------------------------------------------------------


def _take(c: sqlite3.Connection, kind: str, start: Callable[[], int]) -> int:
    """The next number of ``kind`` from ``counters``; a missing row starts at ``start()``."""
    row = c.execute("UPDATE counters SET next = next + 1 WHERE kind = ? RETURNING next - 1", (kind,)).fetchone()
    if row is not None:
        return int(row[0])
    n = start()
    c.execute("INSERT INTO counters(kind, next) VALUES (?, ?)", (kind, n + 1))
    return n


def _after_max(c: sqlite3.Connection, sql: str, floor: int) -> Callable[[], int]:
    def start() -> int:
        (m,) = c.execute(sql).fetchone()
        return max(int(m or 0) + 1, floor)
    return start


def next_order_ref(c: sqlite3.Connection) -> str:
    """The next free ``ON-…`` ref (the counter moves inside the caller's transaction)."""
    start = _after_max(c, "SELECT max(CAST(substr(ref, 4) AS INTEGER)) FROM orders WHERE ref GLOB 'ON-[0-9]*'",
                       FIRST_REF)
    while True:
        ref = f"ON-{_take(c, 'ON', start)}"
        if c.execute("SELECT 1 FROM orders WHERE ref = ?", (ref,)).fetchone() is None:
            return ref


def _next_customer_no(c: sqlite3.Connection) -> int:
    start = _after_max(c, "SELECT max(CAST(substr(customer_id, 5) AS INTEGER)) FROM customers "
                          "WHERE customer_id GLOB 'CUS-[0-9]*'", 1)
    while True:
        n = _take(c, "CUS", start)
        if c.execute("SELECT 1 FROM customers WHERE customer_id = ?", (f"CUS-{n:06d}",)).fetchone() is None and \
                c.execute("SELECT 1 FROM accounts WHERE account_id = ?", (f"BA-{n:06d}",)).fetchone() is None:
            return n


# --------------------------------------------------------------------------------------------------
# Writing an order
# --------------------------------------------------------------------------------------------------


def _party_rows(c: sqlite3.Connection, customer_id: str, account_id: str) -> tuple[int, int]:
    row = c.execute("SELECT id FROM customers WHERE customer_id = ?", (customer_id,)).fetchone()
    if row is None:
        raise NotFound(f"There is no customer {customer_id or '(blank)'}.", title="Customer not found")
    arow = c.execute("SELECT id, customer FROM accounts WHERE account_id = ?", (account_id,)).fetchone()
    if arow is None or arow[1] != row[0]:
        raise NotFound(f"Customer {customer_id} has no billing account {account_id or '(blank)'}.",
                       title="Account not found")
    return row[0], arow[0]


def _locations(c: sqlite3.Connection, order: Order) -> dict[str, PickupLocation]:
    f = order.fulfilment
    if f.kind != "CLICK_AND_COLLECT":
        return {}
    row = c.execute("SELECT json FROM locations WHERE location_id = ?", (f.location_id,)).fetchone()
    return {f.location_id: PickupLocation.model_validate_json(row[0])} if row else {}


def append_audit(c: sqlite3.Connection, make: Callable[[int, str], AuditRecord]) -> AuditRecord:
    """Build the next audit record with ``make(seq, prev_hash)``, insert it and move ``meta.audit_head``."""
    head = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    record = make(seq, prev)
    a = record.model_dump(mode="json")
    c.execute("INSERT INTO audit(seq, at, actor, role, order_ref, version_before, version_after, command, "
              "reason_code, note, financial_effect, idempotency_key, prev_hash, hash) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              (a["seq"], a["at"], a["actor"], a["role"], a["order_ref"], a["version_before"], a["version_after"],
               canonical_json(a["command"]), a["reason_code"], a["note"], canonical_json(a["financial_effect"]),
               a["idempotency_key"], a["prev_hash"], a["hash"]))
    c.execute("INSERT INTO meta(key, value) VALUES ('audit_head', ?) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (f"{a['seq']}:{a['hash']}",))
    return record


def insert_order(
    c: sqlite3.Connection, order: Order, documents: Sequence[Document] | None = None,
    notifications: Sequence[Notification] = (), *, actor: str, role: str, reason_code: str = "",
    note: str = "", key: str = "", command: dict[str, Any] | None = None,
    financial_effect: dict[str, Any] | None = None, gateway_ref: str | None = None,
    total: Money | None = None, at: datetime | None = None,
) -> AuditRecord:
    """Write a new order inside the caller's transaction: the ``orders`` row (version as given, derived
    columns), ``order_skus``, its ledger ``documents`` (default: ``order.documents``; ``gateway_ref`` is
    the capture id of its payment), the ``notifications`` outbox rows and the audit record (version
    0 → the order's version; ``command``/``financial_effect`` default to the placement's). Returns the
    audit record. ``total`` is the order's grand total (default: its ledger total). Raises
    :class:`NotFound` for an unknown customer or account; a ref that exists is a SQLite constraint error.
    """
    docs = tuple(order.documents if documents is None else documents)
    cust, acct = _party_rows(c, order.customer_id, order.billing_account_id)
    with_docs = order.model_copy(update={"documents": docs})
    if total is None:
        total = ledger_total(with_docs)
        if total is None:
            total = Money.zero(order.currency)
    placed, stage, total_minor, currency, units, pc, pck = order_columns(order, total, _locations(c, order))
    cur = c.execute(
        "INSERT INTO orders(ref, version, customer, account, placed_at, stage, total_minor, currency, units, "
        "postcode, postcode_key, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (order.ref, order.version, cust, acct, placed, stage, total_minor, currency, units, pc, pck,
         order_json(order)))
    oid = cur.lastrowid
    c.executemany("INSERT OR IGNORE INTO order_skus(sku, placed_at, order_id) VALUES (?, ?, ?)",
                  [(s, placed, oid) for s in sorted({ln.sku for ln in order.lines})])
    for d in docs:
        doc_id, kind, amount, created, text = document_columns(d)
        gw = gateway_ref if isinstance(d, Payment) else None
        c.execute("INSERT INTO documents(doc_id, order_id, account, kind, amount_minor, created_at, gateway_ref, "
                  "json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (doc_id, oid, acct, kind, amount, created, gw, text))
    for n in notifications:
        c.execute("INSERT INTO notifications(event_id, channel, order_id, created_at, json) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT(event_id, channel) DO NOTHING",
                  (n.event_id, n.channel, oid, n.created_at.isoformat(), n.model_dump_json()))
    when = at or order.placed_at
    return append_audit(c, lambda seq, prev: placement_audit(
        with_docs, seq=seq, prev_hash=prev, at=when, actor=actor, role=role, reason_code=reason_code, note=note,
        key=key, command=command, financial_effect=financial_effect))


def link_orders(c: sqlite3.Connection, original_ref: str, new_ref: str, kind: str) -> None:
    """Record that ``new_ref`` was placed from ``original_ref`` (replacement, exchange or reorder)."""
    for ref in (original_ref, new_ref):
        if c.execute("SELECT 1 FROM orders WHERE ref = ?", (ref,)).fetchone() is None:
            raise NotFound(f"There is no order {ref or '(blank)'}.", title="Order not found")
    c.execute("INSERT OR IGNORE INTO order_links(original_ref, new_ref, kind) VALUES (?, ?, ?)",
              (original_ref, new_ref, kind))


def links_of(c: sqlite3.Connection, ref: str) -> tuple[OrderLinkView, ...]:
    """The order ``ref`` was placed from ("to"), then the orders placed from it ("from"), oldest first."""
    out = [OrderLinkView(kind=k, ref=r, direction="to") for k, r in c.execute(
        "SELECT kind, original_ref FROM order_links WHERE new_ref = ? ORDER BY id", (ref,))]
    out += [OrderLinkView(kind=k, ref=r, direction="from") for k, r in c.execute(
        "SELECT kind, new_ref FROM order_links WHERE original_ref = ? ORDER BY id", (ref,))]
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# place_order
# --------------------------------------------------------------------------------------------------


def replacements_of(c: sqlite3.Connection, ref: str) -> list[Order]:
    """The no-charge replacements placed for order ``ref`` so far, oldest first."""
    out = []
    for (new_ref,) in c.execute("SELECT new_ref FROM order_links WHERE original_ref = ? AND kind = 'replacement' "
                                "ORDER BY id", (ref,)).fetchall():
        o = _read_order(c, new_ref)
        if o is not None:
            out.append(o)
    return out


def _read_order(c: sqlite3.Connection, ref: str) -> Order | None:
    row = order_row(c, ref)
    return None if row is None else read_order(c, row[0], row[5])


def place_order(
    c: sqlite3.Connection, req: PlaceOrderRequest, *, policy: Policy, catalog: Mapping[str, Variant],
    locations: Mapping[str, PickupLocation], role: Role, read_only: bool, now: datetime,
    gateway: PaymentGateway, ids: IdSource, templates: Mapping[str, MessageTemplate] | None = None,
) -> PlaceOrderResult:
    """Place ``req`` inside the caller's write transaction; any error leaves the caller to roll back."""
    req_hash = req.request_hash()
    seen = c.execute("SELECT request_hash, response FROM idempotency WHERE key = ?",
                     (req.idempotency_key,)).fetchone()
    if seen is not None:
        if seen[0] != req_hash:
            raise IdempotencyMismatch(
                "This order was already sent with the same request id but different content; nothing was "
                "placed again. Review the draft and place it as a new request.")
        return PlaceOrderResult.model_validate_json(seen[1]).model_copy(update={"replayed": True})
    draft = req.draft
    cust_row = c.execute("SELECT id, json FROM customers WHERE customer_id = ?", (draft.customer_id,)).fetchone()
    if cust_row is None:
        raise NotFound(f"There is no customer {draft.customer_id or '(blank)'}.", title="Customer not found")
    acct_row = c.execute("SELECT customer, json FROM accounts WHERE account_id = ?",
                         (draft.billing_account_id,)).fetchone()
    if acct_row is None or acct_row[0] != cust_row[0]:
        raise NotFound(f"Customer {draft.customer_id} has no billing account {draft.billing_account_id}.",
                       title="Account not found")
    try:
        customer = Customer.model_validate_json(cust_row[1])
        account = BillingAccount.model_validate_json(acct_row[1])
        original = None
        if draft.link is not None:
            link_ref = draft.link.order_ref.strip().upper()
            original = _read_order(c, link_ref)
            if original is None:
                raise NotFound(f"There is no order {link_ref or '(blank)'} to link to.", title="Order not found")
            draft = draft.model_copy(update={"link": draft.link.model_copy(update={"order_ref": link_ref})})
        earlier = replacements_of(c, draft.link.order_ref) if draft.link is not None and \
            draft.link.kind == "replacement" else []
    except (ValidationError, UnicodeDecodeError) as e:
        raise StoreCorrupt(f"A stored record is damaged ({str(e).splitlines()[0]}); nothing was placed.") from None
    ref = next_order_ref(c)
    new = draft.model_copy(update={"ref": ref})
    head = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    ctx = PlanContext(policy=policy, catalog=catalog, locations=locations, customer=customer, account=account,
                      now=now, ids=ids, actor=req.actor, role=role, read_only=read_only, purpose="commit",
                      reason_code=req.reason_code, note=req.note, idempotency_key=req.idempotency_key,
                      audit_seq=seq, audit_prev_hash=prev, templates=templates)
    p = place(new, ctx, original, earlier)
    if p.violations or p.order is None or p.totals is None:
        raise RuleViolations(list(p.violations) or [Violation("placing.empty", "the order could not be placed")])
    capture: str | None = None
    if p.charge is not None:
        pm = next((m for m in account.payment_methods if m.id == p.charge.payment_method_id), None)
        if pm is None:  # pragma: no cover - place() checked it
            raise PaymentDeclined(f"There is no payment method {p.charge.payment_method_id}; nothing was placed.")
        capture = gateway.charge(pm, p.charge.amount, f"{req.idempotency_key}/{p.charge.invoice_id}")
    record = insert_order(c, p.order, p.documents, p.notifications, actor=req.actor, role=role,
                          reason_code=req.reason_code, note=req.note, key=req.idempotency_key, command=p.command,
                          financial_effect=p.financial_effect, gateway_ref=capture, total=p.totals.grand_total,
                          at=now)
    if new.link is not None:
        link_orders(c, new.link.order_ref, ref, new.link.kind)
    result = PlaceOrderResult(order=p.order, documents=list(p.documents), notifications=list(p.notifications),
                              audit_seq=record.seq, total=p.totals.grand_total, link=new.link)
    c.execute("INSERT INTO idempotency(key, request_hash, order_ref, created_at, response) VALUES (?, ?, ?, ?, ?)",
              (req.idempotency_key, req_hash, ref, now.isoformat(), result.model_dump_json()))
    return result


# --------------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------------


def create_customer(c: sqlite3.Connection, req: NewCustomerRequest, *, policy: Policy, now: datetime) -> Customer:
    """A new customer, their billing account (in the market of the address's country) and address."""
    problems = customer_problems(req.name, req.email, req.phone, req.address)
    market = next((m for m in policy.markets if m.country == req.address.country), None)
    if market is None and not any(v.rule == "address.invalid" for v in problems):
        problems.append(Violation("placing.market", f"address country: carecli sells in no market in "
                                                    f"{req.address.country!r}"))
    if req.card is not None:
        pm_probe = PaymentMethod(id="PM-NEW", brand=req.card.brand, last4=req.card.last4, expiry=req.card.expiry)
        if card_expired(pm_probe, now):
            problems.append(Violation("payment.expired", f"card: {pm_probe.label()} expired {req.card.expiry}"))
    if req.sms and not req.phone.strip():
        problems.append(Violation("customer.invalid", "phone: SMS needs a phone number"))
    if problems:
        raise RuleViolations(problems, title="Check the customer's details")
    assert market is not None
    ekey = email_key(req.email)
    dup = c.execute("SELECT customer_id, name FROM customers WHERE email_key = ? LIMIT 1", (ekey,)).fetchone()
    if dup is not None:
        raise DuplicateCustomer(dup[0], existing_name=dup[1])
    n = _next_customer_no(c)
    cid, aid = f"CUS-{n:06d}", f"BA-{n:06d}"
    name, email, phone = " ".join(req.name.split()), req.email.strip(), " ".join(req.phone.split())
    cards = ()
    if req.card is not None:
        cards = (PaymentMethod(id=f"PM-{n:06d}-1", brand=req.card.brand.strip(), last4=req.card.last4,
                               expiry=req.card.expiry),)
    customer = Customer(id=cid, name=name, email=email, phone=phone,
                        preferences=NotificationPreferences(email=True, sms=bool(req.sms and phone)),
                        billing_account_id=aid)
    account = BillingAccount(id=aid, customer_id=cid, currency=market.currency, payment_methods=cards,
                             store_credit=Money.zero(market.currency))
    pk, pn = phone_keys(phone)
    cur = c.execute("INSERT INTO customers(customer_id, name, email, email_key, phone_key, phone_nat, json) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", (cid, name, email, ekey, pk, pn, customer.model_dump_json()))
    row = cur.lastrowid
    c.execute("INSERT INTO accounts(account_id, customer, currency, json) VALUES (?, ?, ?, ?)",
              (aid, row, market.currency, account.model_dump_json()))
    c.execute("INSERT INTO customer_addresses(customer, json) VALUES (?, ?)", (row, req.address.model_dump_json()))
    return customer


_PHONEISH = re.compile(r"^\+?[\d\s\-().]+$")


def find_customers(c: sqlite3.Connection, query: str, *, policy: Policy, limit: int = 20) -> list[CustomerSummary]:
    """Customers by e-mail, phone or name, from the indexes search uses. Malformed text never raises."""
    text = clean(query if isinstance(query, str) else "")
    limit = max(1, min(int(limit) if isinstance(limit, int) else 20, MAX_CUSTOMERS))
    rows: list[tuple[int, str]] = []
    if not text:
        return []
    if "@" in text:
        k = email_key(text)
        rows = [(r, "email") for (r,) in c.execute(
            "SELECT id FROM customers WHERE email_key >= ? AND email_key < ? ORDER BY email_key LIMIT ?",
            (k, k + "\U0010ffff", limit))]
    elif _PHONEISH.match(text) and sum(ch.isdigit() for ch in text) >= 6:
        digits = re.sub(r"\D", "", text)
        found: dict[int, None] = {}
        for col in ("phone_key", "phone_nat"):
            for (r,) in c.execute(f"SELECT id FROM customers WHERE {col} >= ? AND {col} < ? ORDER BY {col} LIMIT ?",
                                  (digits, digits + ":", limit)):
                found.setdefault(r)
        rows = [(r, "phone") for r in list(found)[:limit]]
    else:
        toks = name_tokens(text)
        if toks:
            rows = [(r, "name") for (r,) in c.execute(
                "SELECT rowid FROM customer_names WHERE customer_names MATCH ? ORDER BY rank LIMIT ?",
                (fts_query(toks), limit))]
    by_currency = {m.currency: m.code for m in policy.markets}
    out: list[CustomerSummary] = []
    for rid, kind in rows:
        crow = c.execute("SELECT json FROM customers WHERE id = ?", (rid,)).fetchone()
        arow = c.execute("SELECT account_id, currency FROM accounts WHERE customer = ? ORDER BY id LIMIT 1",
                         (rid,)).fetchone()
        if crow is None or arow is None:
            continue
        cust = Customer.model_validate_json(crow[0])
        (count,) = c.execute("SELECT count(*) FROM orders WHERE customer = ?", (rid,)).fetchone()
        out.append(CustomerSummary(
            customer_id=cust.id, name=cust.name, email=cust.email, phone=cust.phone, account_id=arow[0],
            currency=arow[1], market=by_currency.get(arow[1], ""), address=customer_address(c, rid),
            orders=count, matched=kind))  # type: ignore[arg-type]
    return out


def customer_address(c: sqlite3.Connection, customer_row: int) -> Address | None:
    """The address given at creation, else the latest home delivery's address, else None."""
    row = c.execute("SELECT json FROM customer_addresses WHERE customer = ?", (customer_row,)).fetchone()
    if row is not None:
        return Address.model_validate_json(row[0])
    for (text,) in c.execute("SELECT json FROM orders WHERE customer = ? ORDER BY placed_at DESC LIMIT 5",
                             (customer_row,)):
        f = Order.model_validate_json(text).fulfilment
        if f.kind == "HOME_DELIVERY":
            return f.address
    return None


def describe_command(command: str) -> str | None:
    """A sentence for a placement's audit command (the timeline), or None for any other command."""
    try:
        cmds = json.loads(command)
        c = cmds[0]
        if c.get("kind") != "place_order":
            return None
        n = len(c.get("lines", ()))
        link = c.get("link") or {}
        what = {"replacement": "Replacement of", "reorder": "Re-order of", "exchange": "Exchange for"}.get(
            link.get("kind", ""), "")
        head = f"{what} {link.get('order_ref', '')}".strip() if what else f"Order placed by {c.get('channel', 'phone')}"
        return f"{head}: {n} line(s)" + (", no charge" if c.get("no_charge") else "")
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


__all__ = ["next_order_ref", "insert_order", "link_orders", "links_of", "place_order", "create_customer",
           "find_customers", "customer_address", "append_audit", "describe_command", "FIRST_REF"]
