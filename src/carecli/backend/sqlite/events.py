"""Fulfilment events, the exceptions inbox, contact notes and declined charges over SQLite.

Functions take a ``sqlite3.Connection`` inside the transaction :class:`SqliteStore` opened for them
(``_write``: BEGIN IMMEDIATE; ``_read``: a snapshot). The engine decides (``engine.events``); these
functions read what it needs and write what it decided.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from ...engine.audit import GENESIS_HASH, canonical_json, make_record
from ...engine.events import EventContext, FulfilmentEvent, apply_event
from ...engine.model import Order, PickupLocation, Stage, order_stage
from ...engine.money import Money
from ...engine.notifications import MessageTemplate, Notification
from ...engine.policy import Policy
from ...engine.rules import Violation
from ..contract import (
    EventResult, ExceptionItem, NotFound, RejectedEvent, RuleViolations, TimelineEntry,
)
from .rows import document_columns, order_columns, order_json, order_row, order_total, read_order, read_party

NOTE_MAX = 2000
AUDIT_COLS = ("seq, at, actor, role, order_ref, version_before, version_after, command, reason_code, "
              "note, financial_effect, idempotency_key, prev_hash, hash")


@dataclass(frozen=True)
class Env:
    """What the store hands these functions: its policy, reference data, clock, role and templates."""

    policy: Policy
    locations: Mapping[str, PickupLocation]
    now: datetime
    role: str
    templates: Mapping[str, MessageTemplate] | None = None
    ids: Callable[[str], str] | None = None
    limit: int = 5000  # the inbox's page: a source need not return more than this many items


def _aware(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _order(c: sqlite3.Connection, row: tuple[Any, ...]) -> Order:
    return read_order(c, row[0], row[5])


def _audit_head(c: sqlite3.Connection) -> tuple[int, str]:
    head = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)


def write_audit(c: sqlite3.Connection, record: Any) -> None:
    a = record.model_dump(mode="json")
    c.execute(f"INSERT INTO audit({AUDIT_COLS}) VALUES ({','.join('?' * 14)})",
              (a["seq"], a["at"], a["actor"], a["role"], a["order_ref"], a["version_before"],
               a["version_after"], canonical_json(a["command"]), a["reason_code"], a["note"],
               canonical_json(a["financial_effect"]), a["idempotency_key"], a["prev_hash"], a["hash"]))
    c.execute("INSERT INTO meta(key, value) VALUES ('audit_head', ?) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (f"{a['seq']}:{a['hash']}",))


def write_notifications(c: sqlite3.Connection, order_id: int, notes: tuple[Notification, ...] | list) -> None:
    for n in notes:
        c.execute("INSERT INTO notifications(event_id, channel, order_id, created_at, json) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT(event_id, channel) DO NOTHING",
                  (n.event_id, n.channel, order_id, n.created_at.isoformat(), n.model_dump_json()))


def payload_hash(event: Any) -> str:
    """What "the same event" means: the same id, kind, order and fields. ``at`` is left out: a sender
    that retries often stamps the retry anew, and it is still the same event."""
    body = event.model_dump(mode="json", exclude={"at"})
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# Ingestion
# --------------------------------------------------------------------------------------------------


def _reject(c: sqlite3.Connection, event: Any, rule: str, reason: str, now: datetime) -> EventResult:
    text = canonical_json(event.model_dump(mode="json"))
    c.execute(
        "INSERT INTO rejected_events(event_id, payload_hash, order_ref, kind, rule, reason, payload, first_seen, "
        "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id, payload_hash) DO UPDATE SET "
        "attempts = attempts + 1, last_seen = excluded.last_seen, rule = excluded.rule, reason = excluded.reason",
        (event.event_id, payload_hash(event), event.order_ref, event.kind, rule, reason, text, now.isoformat(),
         now.isoformat()))
    return EventResult(event_id=event.event_id, order_ref=event.order_ref, kind=event.kind, status="refused",
                       rule=rule, reason=reason)


def ingest(c: sqlite3.Connection, event: FulfilmentEvent, env: Env) -> EventResult:
    """Take in one event inside the caller's write transaction (see ``Backend.ingest_event``)."""
    now = env.now
    seen = c.execute("SELECT json FROM events WHERE event_id = ?", (event.event_id,)).fetchone()
    if seen is not None:
        try:
            body = json.loads(seen[0])
            stored = body.pop("event_payload_hash", None)
            body.pop("event", None)
            first = EventResult.model_validate(body)
        except ValueError:
            first, stored = None, None
        if first is not None and stored == payload_hash(event):
            return first.model_copy(update={"status": "duplicate"})
        return _reject(c, event, "event.id_reused",
                       f"event id {event.event_id} was already taken in with other content; a new event "
                       "needs a new id", now)
    ref = event.order_ref.strip().upper()
    row = order_row(c, ref)
    if row is None:
        return _reject(c, event, "event.unknown_order", f"there is no order {ref}", now)
    oid, version, cust_id, acct_id = row[0], row[1], row[2], row[3]
    order = _order(c, row)
    customer, account = read_party(c, cust_id, acct_id)
    seq, prev = _audit_head(c)
    ctx = EventContext(policy=env.policy, locations=env.locations, customer=customer, account=account, now=now,
                       ids=env.ids or (lambda k: k), actor="warehouse", role="system", templates=env.templates,
                       audit_seq=seq, audit_prev_hash=prev)
    out = apply_event(order, event, ctx)
    if out.refusal is not None:
        return _reject(c, event, out.refusal.rule, out.refusal.message, now)
    new = out.order_after
    if new is not None:
        total = order_total(new, env.policy, env.locations)
        placed, stage, total_minor, currency, units, pc, pck = order_columns(new, total, env.locations)
        cur = c.execute("UPDATE orders SET version = ?, stage = ?, total_minor = ?, units = ?, postcode = ?, "
                        "postcode_key = ?, json = ? WHERE id = ? AND version = ?",
                        (new.version, stage, total_minor, units, pc, pck, order_json(new), oid, version))
        if cur.rowcount != 1:  # pragma: no cover - impossible under BEGIN IMMEDIATE
            raise RuntimeError("the order changed inside the transaction")
        for d in out.documents:
            doc_id, kind, amount, created, text = document_columns(d)
            c.execute("INSERT INTO documents(doc_id, order_id, account, kind, amount_minor, created_at, json) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)", (doc_id, oid, acct_id, kind, amount, created, text))
        issued = out.store_credit_issued
        if issued is not None and not issued.is_zero:
            acct = account.model_copy(update={"store_credit": account.store_credit + issued})
            c.execute("UPDATE accounts SET json = ? WHERE id = ?", (acct.model_dump_json(), acct_id))
        if out.audit is not None:
            write_audit(c, out.audit)
    else:
        stage = order_stage(order).value
    write_notifications(c, oid, out.notifications)
    result = EventResult(
        event_id=event.event_id, order_ref=order.ref, kind=event.kind, status="applied",
        version=new.version if new is not None else order.version, stage=stage,
        documents=list(out.documents), notifications=list(out.notifications),
        audit_seq=out.audit.seq if out.audit is not None else None)
    body = json.loads(result.model_dump_json())
    body["event"] = event.model_dump(mode="json")
    body["event_payload_hash"] = payload_hash(event)
    c.execute("INSERT INTO events(event_id, order_id, at, kind, title, detail, json) VALUES (?, ?, ?, ?, ?, ?, ?)",
              (event.event_id, oid, event.at.astimezone(timezone.utc).isoformat(), event.kind, out.title,
               out.detail, json.dumps(body, separators=(",", ":"))))
    c.execute("UPDATE rejected_events SET resolved_at = ? WHERE event_id = ? AND resolved_at IS NULL",
              (now.isoformat(), event.event_id))
    return result


def rejected(c: sqlite3.Connection, limit: int, include_resolved: bool) -> list[RejectedEvent]:
    where = "" if include_resolved else "WHERE resolved_at IS NULL"
    rows = c.execute(f"SELECT event_id, order_ref, kind, rule, reason, payload, first_seen, last_seen, attempts, "
                     f"resolved_at FROM rejected_events {where} ORDER BY last_seen DESC, id DESC LIMIT ?",
                     (max(1, min(int(limit), 10_000)),)).fetchall()
    return [RejectedEvent(event_id=r[0], order_ref=r[1], kind=r[2], rule=r[3], reason=r[4], payload=r[5],
                          first_seen=_aware(r[6]), last_seen=_aware(r[7]), attempts=r[8],
                          resolved_at=_aware(r[9]) if r[9] else None) for r in rows]


# --------------------------------------------------------------------------------------------------
# Contact notes and declined charges
# --------------------------------------------------------------------------------------------------


def add_contact_note(c: sqlite3.Connection, ref: str, text: str, actor: str, env: Env) -> TimelineEntry:
    clean = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()
    if not clean:
        raise RuleViolations([Violation("note.empty", "write what was said or agreed; the note is empty")])
    if len(clean) > NOTE_MAX:
        raise RuleViolations([Violation("note.too_long", f"a note holds at most {NOTE_MAX} characters "
                                                         f"(this one has {len(clean)})")])
    row = order_row(c, ref)
    if row is None:
        raise NotFound(f"There is no order {ref or '(blank)'}.", title="Order not found")
    seq, prev = _audit_head(c)
    rec = make_record(seq=seq, at=env.now, actor=actor, role=env.role, order_ref=ref, version_before=row[1],
                      version_after=row[1], command=[{"kind": "contact_note"}], reason_code="", note=clean,
                      financial_effect={"settlement": "none (a note)"}, idempotency_key=f"note:{seq}",
                      prev_hash=prev)
    write_audit(c, rec)
    return TimelineEntry(at=env.now, kind="audit", title=f"Contact note by {actor} ({env.role}), #{seq}",
                         detail=clean)


def record_declined(c: sqlite3.Connection, ref: str, actor: str, amount: Money, message: str,
                    now: datetime) -> None:
    row = order_row(c, ref)
    if row is None:
        return
    c.execute("INSERT INTO declined_charges(order_id, at, actor, amount_minor, currency, message) "
              "VALUES (?, ?, ?, ?, ?, ?)", (row[0], now.isoformat(), actor, amount.minor, amount.currency,
                                            message[:500]))


def describe_audit(command: list[Any]) -> str | None:
    """A timeline sentence for audit records that are not amendment sessions, else None."""
    if not command or not isinstance(command[0], dict):
        return None
    kind = command[0].get("kind")
    if kind == "contact_note":
        return "Contact note"
    if kind == "fulfilment_event":
        ev = command[0].get("event", {})
        return f"Fulfilment event {ev.get('kind', '?').replace('_', ' ')} ({ev.get('event_id', '')})"
    return None


# --------------------------------------------------------------------------------------------------
# The exceptions inbox: a union of sources
# --------------------------------------------------------------------------------------------------

Source = Callable[[sqlite3.Connection, Env], list[ExceptionItem]]
"""One kind of exception: (connection, env) → items. The inbox is the union of :data:`SOURCES`; one
more kind (e.g. returns waiting for verification) is one more function registered with
:func:`exception_source`."""

SOURCES: list[Source] = []


def exception_source(fn: Source) -> Source:
    SOURCES.append(fn)
    return fn


_ORDER_COLS = "o.ref, o.stage, cu.name, o.json"


def _limit(env: Env) -> int:
    return max(1, min(int(env.limit), 5000))


def _item(kind: str, ref: str, stage: str, name: str, since: datetime, title: str, detail: str, env: Env,
          line_id: int | None = None) -> ExceptionItem:
    return ExceptionItem(order_ref=ref, kind=kind, since=since, age_seconds=max(0, int((env.now - since).total_seconds())),
                         title=title, detail=detail, customer_name=name, stage=stage, line_id=line_id)


_SETTLED = ("DELIVERED", "COLLECTED", "CANCELLED")

# An item is handled once a person acted on its order (an agent's commit or contact note) at or after it.
# The sources leave handled items out in SQL, so each needs only the inbox's page of rows, oldest first.
# Timestamps are compared as instants (julianday), as they are written both as "Z" and "+00:00".
_UNHANDLED = ("NOT EXISTS (SELECT 1 FROM audit a WHERE a.order_ref = o.ref AND a.role != 'system' "
              "AND julianday(a.at) >= julianday({at}))")


def _event_rows(c: sqlite3.Connection, kind: str, skip_stages: tuple[str, ...] = (), limit: int = 5000
                ) -> list[tuple[Any, ...]]:
    """Unhandled events of one kind on orders not in ``skip_stages``, oldest first (at most ``limit``)."""
    skip = ",".join("?" * len(skip_stages)) or "''"
    return c.execute(
        f"SELECT e.at, e.title, e.detail, e.json, {_ORDER_COLS} FROM events e JOIN orders o ON o.id = e.order_id "
        f"JOIN customers cu ON cu.id = o.customer WHERE e.kind = ? AND o.stage NOT IN ({skip}) "
        f"AND {_UNHANDLED.format(at='e.at')} ORDER BY e.at LIMIT ?", (kind, *skip_stages, limit)).fetchall()


@exception_source
def short_picks(c: sqlite3.Connection, env: Env) -> list[ExceptionItem]:
    """Short picks on orders not yet delivered or collected (once the rest has arrived there is nothing
    left to remedy on the order; a return or an appeasement starts from the customer)."""
    rows = c.execute(
        "SELECT e.at, e.detail, e.json ->> '$.event.line_id', o.ref, o.stage, cu.name FROM events e "
        "JOIN orders o ON o.id = e.order_id JOIN customers cu ON cu.id = o.customer "
        f"WHERE e.kind = 'short_picked' AND o.stage NOT IN (?, ?) AND {_UNHANDLED.format(at='e.at')} "
        "ORDER BY e.at LIMIT ?", (*_SETTLED[:2], _limit(env)))
    return [_item("short_pick", ref, stage, name, _aware(at), "Short pick", detail, env, line_id)
            for at, detail, line_id, ref, stage, name in rows]


@exception_source
def backorders(c: sqlite3.Connection, env: Env) -> list[ExceptionItem]:
    """Lines still backordered whose expected date is within ``fulfilment.backorder_inbox_days``, or past."""
    horizon = env.now.date() + timedelta(days=env.policy.fulfilment.backorder_inbox_days)
    # The event's line, found and filtered in SQL (the order's JSON is not parsed in Python row by row):
    # still backordered, with an expected date within the horizon (ISO dates compare as text), not
    # cancelled in full. A line's expected date is only ever set by a backordered event of that line
    # (engine/events.py; an amendment clears it), so orders none of whose events for the line expects
    # it by the horizon are skipped before their (large) JSON is read.
    rows = c.execute(
        "SELECT e.at, j.value ->> 'line_id', j.value ->> 'backordered', j.value ->> 'description', "
        "j.value ->> 'backorder_expected', o.ref, o.stage, cu.name FROM events e "
        "JOIN orders o ON o.id = e.order_id JOIN customers cu ON cu.id = o.customer "
        "JOIN json_each(o.json, '$.lines') j ON j.value ->> 'line_id' = e.json ->> '$.event.line_id' "
        "WHERE e.kind = 'backordered' AND o.stage NOT IN (?, ?, ?) "
        "AND EXISTS (SELECT 1 FROM events b WHERE b.order_id = e.order_id AND b.kind = 'backordered' "
        "AND b.json ->> '$.event.line_id' = e.json ->> '$.event.line_id' AND b.json ->> '$.event.expected' <= ?) "
        "AND coalesce(j.value ->> 'backordered', 0) > 0 AND j.value ->> 'backorder_expected' <= ? "
        "AND j.value ->> 'ordered' - coalesce(j.value ->> 'cancelled', 0) > 0 "
        f"AND {_UNHANDLED.format(at='e.at')} ORDER BY e.at LIMIT ?",
        (*_SETTLED, horizon.isoformat(), horizon.isoformat(), _limit(env)))
    out = []
    for at, line_id, units, description, expected_text, ref, stage, name in rows:
        expected = date.fromisoformat(expected_text)
        due = "past its date" if expected < env.now.date() else "due"
        out.append(_item("backorder", ref, stage, name, _aware(at), f"Backorder {due}",
                         f"line {line_id}: {units} × {description or ''}, expected {expected.isoformat()}",
                         env, line_id))
    return out


@exception_source
def failed_deliveries(c: sqlite3.Connection, env: Env) -> list[ExceptionItem]:
    """A failed delivery with no delivery (or collection) event after it."""
    out = []
    for at, _title, detail, _body, ref, stage, name, _ in _event_rows(c, "delivery_failed", _SETTLED[:2], _limit(env)):
        later = c.execute("SELECT 1 FROM events e JOIN orders o ON o.id = e.order_id WHERE o.ref = ? AND "
                          "e.kind IN ('delivered', 'collected') AND e.at > ? LIMIT 1", (ref, at)).fetchone()
        if later is None and stage not in (Stage.DELIVERED.value, Stage.COLLECTED.value):
            out.append(_item("delivery_failed", ref, stage, name, _aware(at), "Delivery failed", detail, env))
    return out


@exception_source
def declined_charges(c: sqlite3.Connection, env: Env) -> list[ExceptionItem]:
    rows = c.execute(
        f"SELECT d.at, d.amount_minor, d.currency, d.message, d.actor, {_ORDER_COLS} FROM declined_charges d "
        f"JOIN orders o ON o.id = d.order_id JOIN customers cu ON cu.id = o.customer "
        f"WHERE {_UNHANDLED.format(at='d.at')} ORDER BY d.at LIMIT ?", (_limit(env),)).fetchall()
    out = []
    for at, minor, cur, message, actor, ref, stage, name, _ in rows:
        amount = Money.from_minor(minor, cur)
        out.append(_item("payment_declined", ref, stage, name, _aware(at), "Extra charge declined",
                         f"{amount} by {actor}: {message}", env))
    return out


def list_exceptions(c: sqlite3.Connection, env: Env, limit: int) -> list[ExceptionItem]:
    """Every source's items, without those a person has handled since (an agent's commit or contact note
    on the order after the exception), oldest first."""
    env = dataclasses.replace(env, limit=max(1, min(int(limit), 5000)))
    items = [it for src in SOURCES for it in src(c, env)]
    # When a person last acted on each of these orders: one query for all of them, not one per order.
    refs = json.dumps(sorted({it.order_ref for it in items}))
    handled: dict[str, datetime] = {
        ref: _aware(at) for ref, at in c.execute(
            "SELECT order_ref, max(at) FROM audit WHERE role != 'system' AND order_ref IN "
            "(SELECT value FROM json_each(?)) GROUP BY order_ref", (refs,)) if at}
    out = []
    for it in items:
        last = handled.get(it.order_ref)
        if last is not None and last >= it.since:
            continue
        out.append(it)
    out.sort(key=lambda it: (it.since, it.order_ref, it.kind))
    return out[:env.limit]


# --------------------------------------------------------------------------------------------------
# The demo's exceptions (the demo builder calls this once its orders are in)
# --------------------------------------------------------------------------------------------------


def demo_exception_rows(c: sqlite3.Connection, declined_ref: str | None, failed_ref: str | None,
                        now: datetime) -> int:
    """Events rows for the demo's short picks and backorders (the demo writes them into its orders
    directly), a failed delivery on ``failed_ref`` and a declined extra charge on ``declined_ref``, so
    the exceptions inbox has realistic content. Returns the number of rows written."""
    n = 0
    # Candidates without parsing every order's JSON: the orders with a SHORT_PICK credit memo (the demo
    # settles every short pick), and the recent orders (the demo backorders only orders of its last ten
    # days; thirty are looked at) whose text has a backordered line.
    recent = int((now - timedelta(days=30)).timestamp() * 1_000_000)
    rows = c.execute(
        "WITH hit AS MATERIALIZED (SELECT order_id AS id FROM documents WHERE kind = 'CREDIT_MEMO' "
        "AND json GLOB '*\"type\":\"SHORT_PICK\"*' UNION SELECT id FROM orders WHERE placed_at >= ? "
        "AND json GLOB '*\"backordered\":[1-9]*') "
        "SELECT o.id, o.ref, o.placed_at, j.value ->> 'line_id', j.value ->> 'short_picked', "
        "j.value ->> 'backordered', j.value ->> 'backorder_expected', j.value ->> 'description' "
        "FROM hit JOIN orders o ON o.id = hit.id, json_each(o.json, '$.lines') j "
        "WHERE (j.value ->> 'short_picked') > 0 OR (j.value ->> 'backordered') > 0", (recent,)).fetchall()
    for oid, ref, placed, line_id, short, back, expected, desc in rows:
        placed_at = datetime.fromtimestamp(placed / 1_000_000, tz=timezone.utc)
        if short:
            memo = c.execute("SELECT created_at FROM documents WHERE order_id = ? AND kind = 'CREDIT_MEMO' AND "
                             "json ->> 'type' = 'SHORT_PICK' ORDER BY id LIMIT 1", (oid,)).fetchone()
            at = memo[0] if memo else placed_at.isoformat()
            ev = {"kind": "short_picked", "event_id": f"demo/{ref}/short/{line_id}", "order_ref": ref,
                  "at": at, "line_id": line_id, "units": short}
            c.execute("INSERT OR IGNORE INTO events(event_id, order_id, at, kind, title, detail, json) "
                      "VALUES (?, ?, ?, 'short_picked', 'Short picked', ?, ?)",
                      (ev["event_id"], oid, _aware(at).isoformat(), f"line {line_id}: {short} unit(s) not found",
                       json.dumps({"event": ev})))
            n += 1
        if back and expected:
            at = (placed_at + timedelta(hours=2)).isoformat()
            ev = {"kind": "backordered", "event_id": f"demo/{ref}/backorder/{line_id}", "order_ref": ref,
                  "at": at, "line_id": line_id, "units": back, "expected": expected}
            c.execute("INSERT OR IGNORE INTO events(event_id, order_id, at, kind, title, detail, json) "
                      "VALUES (?, ?, ?, 'backordered', 'Backordered', ?, ?)",
                      (ev["event_id"], oid, at, f"line {line_id}: {back} unit(s), expected {expected}",
                       json.dumps({"event": ev})))
            n += 1
    if failed_ref:
        row = order_row(c, failed_ref)
        if row is not None:
            at = (now - timedelta(hours=20)).isoformat()
            ev = {"kind": "delivery_failed", "event_id": f"demo/{failed_ref}/failed", "order_ref": failed_ref,
                  "at": at, "reason": "no one home; parcel back at the depot", "carrier": "FedEx",
                  "tracking": "7946 1290 3345"}
            c.execute("INSERT OR IGNORE INTO events(event_id, order_id, at, kind, title, detail, json) "
                      "VALUES (?, ?, ?, 'delivery_failed', 'Delivery failed', ?, ?)",
                      (ev["event_id"], row[0], at, f"{ev['reason']} · FedEx 7946 1290 3345",
                       json.dumps({"event": ev})))
            n += 1
    if declined_ref:
        row = order_row(c, declined_ref)
        if row is not None:
            cur = json.loads(row[5]).get("currency", "USD")
            c.execute("INSERT INTO declined_charges(order_id, at, actor, amount_minor, currency, message) "
                      "VALUES (?, ?, 'demo.agent', ?, ?, ?)",
                      (row[0], (now - timedelta(hours=3)).isoformat(), 1000, cur,
                       "The card was declined by the issuer; nothing was changed."))
            n += 1
    return n


__all__ = ["Env", "SOURCES", "exception_source", "ingest", "rejected", "add_contact_note", "record_declined",
           "list_exceptions", "describe_audit", "demo_exception_rows", "write_audit", "write_notifications"]
