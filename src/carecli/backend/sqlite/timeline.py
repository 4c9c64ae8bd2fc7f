"""An order's timeline in words, from the rows the store keeps about it (``SqliteStore.get_timeline``).

Imported with the engine (``store._import_engine``): a launch reads no timeline.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ...engine.commands import AMENDMENTS, describe
from ...engine.model import CreditMemo, Invoice, Order
from ...engine.money import Money
from ...engine.notifications import Notification
from ...engine.returns import describe_command
from ..contract import TimelineEntry
from . import events as _events
from . import outbox as _outbox
from . import placing as _placing


def _money_text(m: dict[str, str]) -> str:
    try:
        return str(Money(m["amount"], m["currency"]))
    except Exception:  # noqa: BLE001 - shown as is
        return f"{m.get('currency', '')} {m.get('amount', '')}"


_DOC_TITLES = {
    "INVOICE": "Invoice {id} issued", "PAYMENT": "Payment {id} captured", "CREDIT_MEMO": "Credit memo {id} issued",
    "REFUND": "Refund {id} to the card", "STORE_CREDIT": "Store credit {id} issued",
}


def order_timeline(order: Order, events: list, notes: list, audits: list) -> list[TimelineEntry]:
    """The order's timeline, oldest first: its placing, documents, deliveries, the events recorded for
    it, the notifications sent (with their delivery state) and the audit records of its changes, each
    in words. ``events``, ``notes`` and ``audits`` are the rows :meth:`SqliteStore.get_timeline` reads."""
    out: list[tuple[datetime, int, int, TimelineEntry]] = []
    n = 0

    def add(at: datetime, rank: int, entry: TimelineEntry) -> None:
        nonlocal n
        if at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)
        n += 1
        out.append((at, rank, n, entry))

    add(order.placed_at, 0, TimelineEntry(
        at=order.placed_at, kind="event", title="Order placed",
        detail=f"{order.market} market, via {order.channel}"))
    for d in order.documents:
        amount = d.total if isinstance(d, (Invoice, CreditMemo)) else d.amount
        kind = getattr(d, "type", "")
        detail = f"{amount}" + (f" · {kind.replace('_', ' ').lower()}" if kind else "")
        if isinstance(d, CreditMemo) and d.reason_code:
            detail += f" · reason {d.reason_code}"
        add(d.created_at, 1, TimelineEntry(at=d.created_at, kind="event",
                                           title=_DOC_TITLES[d.doc].format(id=d.id), detail=detail))
    delivered: dict[datetime, list[str]] = {}
    for ln in order.lines:
        if ln.delivered_at is not None and ln.delivered:
            delivered.setdefault(ln.delivered_at, []).append(f"{ln.delivered} × {ln.description}")
    for at, what in delivered.items():
        title = "Collected" if order.fulfilment.kind == "CLICK_AND_COLLECT" else "Delivered"
        add(at, 1, TimelineEntry(at=at, kind="event", title=title, detail="; ".join(what)))
    for at, title, detail in events:
        t = datetime.fromisoformat(at)
        add(t, 1, TimelineEntry(at=t, kind="event", title=title, detail=detail))
    for text, *delivery in notes:
        nt = Notification.model_validate_json(text)
        add(nt.created_at, 3, TimelineEntry(at=nt.created_at, kind="notification", title=nt.subject,
                                            detail=f"{nt.channel} to {nt.to}",
                                            delivery=_outbox.state_text(*delivery)))
    for seq, at, actor, role, vb, va, command, reason, note, effect_json in audits:
        t = datetime.fromisoformat(at.replace("Z", "+00:00"))
        try:
            special = _events.describe_audit(json.loads(command))
        except ValueError:
            special = None
        try:
            if special is not None:
                what = special
            else:
                cmds = AMENDMENTS.validate_json(command)
                what = "; ".join(describe(cmd) for cmd in cmds)
        except Exception:  # noqa: BLE001 - an old or unknown command still shows
            what = _placing.describe_command(command)
            if not what:
                raw = json.loads(command)
                steps = [describe_command(x) for x in raw] if isinstance(raw, list) and raw else [None]
                what = "; ".join(s for s in steps if s) if all(steps) else command
        eff = json.loads(effect_json)
        delta = eff.get("delta")
        parts = [what]
        if reason:
            parts.append(f"reason {reason}")
        if isinstance(delta, dict):
            parts.append(f"delta {_money_text(delta)}")
        if note:
            parts.append(f"note: {note}")
        title = (f"Version {vb} → {va} by {actor} ({role}), #{seq}" if special != "Contact note"
                 else f"Contact note by {actor} ({role}), #{seq}")
        add(t, 2, TimelineEntry(at=t, kind="audit", title=title,
                                detail=note if special == "Contact note" else " · ".join(parts)))
    out.sort(key=lambda x: (x[0], x[1], x[2]))
    return [e for *_, e in out]
