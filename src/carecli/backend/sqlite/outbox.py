"""The notifications outbox over SQLite: claiming rows for a deliverer, recording what became of them.

A row of ``notifications`` is *pending* while its ``sent_at`` is empty. A deliverer claims it (a
``deliveries`` row: state ``claimed``, the claimer, attempts + 1, a Message-ID derived from the
notification id) in one transaction, sends it outside any transaction, and records the outcome in
another: ``sent`` (and ``notifications.sent_at``), or ``failed`` with the error and the time of the next
attempt (exponential back-off), or ``dead`` after the last attempt.

A claim whose claimer died (killed mid-run) is found by the next deliverer: its claimer is no longer
running (``alive`` says so) or the claim is older than the lease. For file transports (``eml``,
``sms-file``) the claim is handed out again and the deliverer checks whether the file already exists
(then it was sent, and is only marked); for SMTP the message may or may not have reached the server,
so it becomes ``uncertain`` and is never sent again automatically — an operator re-queues it
(``carecli deliver --requeue-uncertain``), and the receiver can drop a copy by its Message-ID. See
docs/NOTIFICATIONS.md for why SMTP is at-most-once.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from ...engine.notifications import Notification

LEASE = timedelta(hours=1)  # a claim older than this is orphaned, whoever holds it


@dataclass(frozen=True)
class Backoff:
    """Retry schedule: ``base · factor^(attempt-1)``, at most ``cap``; ``max_attempts`` then dead."""

    base_seconds: float = 60.0
    factor: float = 2.0
    cap_seconds: float = 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap_seconds, self.base_seconds * self.factor ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Claim:
    row_id: int
    notification: Notification
    transport: str  # eml, smtp, sms-file
    message_id: str
    attempts: int  # including this one
    reclaimed: bool = False  # an orphaned claim handed out again (a file transport checks its file)


@dataclass(frozen=True)
class StatusRow:
    row_id: int
    notification_id: str
    order_ref: str
    channel: str
    state: str
    attempts: int
    last_error: str
    next_attempt_at: str | None
    target: str


@dataclass(frozen=True)
class Status:
    counts: dict[str, int]  # pending, claimed, sent, failed, dead, uncertain
    problems: list[StatusRow] = field(default_factory=list)  # failed, dead, uncertain (and claimed)


def message_id(notification_id: str, domain: str = "carecli.invalid") -> str:
    """A Message-ID derived from the notification id: the same message always has the same one."""
    h = hashlib.sha256(notification_id.encode("utf-8")).hexdigest()[:32]
    return f"<{h}@{domain}>"


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat()


def claim(c: sqlite3.Connection, email_transport: str, now: datetime, limit: int, claimer: str = "",
          alive: Callable[[str], bool] | None = None, domain: str = "carecli.invalid") -> list[Claim]:
    """Claim up to ``limit`` due rows (inside the caller's write transaction)."""
    out: list[Claim] = []
    # 1. Orphaned claims: file transports are handed out again; SMTP becomes uncertain.
    for row_id, transport, claimed_by, claimed_at, attempts, mid, text in c.execute(
            "SELECT d.notification, d.transport, d.claimed_by, d.claimed_at, d.attempts, d.message_id, n.json "
            "FROM deliveries d JOIN notifications n ON n.id = d.notification WHERE d.state = 'claimed' "
            "ORDER BY d.notification").fetchall():
        stale = claimed_at is None or datetime.fromisoformat(claimed_at) < now - LEASE
        if not stale and claimed_by and alive is not None and alive(claimed_by):
            continue  # another deliverer is working on it right now
        if not stale and (alive is None or not claimed_by):
            continue
        if transport == "smtp":
            c.execute("UPDATE deliveries SET state = 'uncertain', last_error = ? WHERE notification = ?",
                      ("the deliverer stopped while sending; the server may or may not have it", row_id))
            continue
        if len(out) < limit:
            c.execute("UPDATE deliveries SET claimed_by = ?, claimed_at = ? WHERE notification = ?",
                      (claimer, _iso(now), row_id))
            out.append(Claim(row_id, Notification.model_validate_json(text), transport, mid, attempts, True))
    # 2. Rows never tried, and failed rows whose next attempt is due.
    rows = c.execute(
        "SELECT n.id, n.json, n.channel, d.attempts, d.message_id FROM notifications n "
        "LEFT JOIN deliveries d ON d.notification = n.id "
        "WHERE n.sent_at IS NULL AND (d.notification IS NULL OR (d.state = 'failed' AND d.next_attempt_at <= ?)) "
        "ORDER BY n.id LIMIT ?", (_iso(now), max(0, limit - len(out)))).fetchall()
    for row_id, text, channel, attempts, mid in rows:
        n = Notification.model_validate_json(text)
        transport = "sms-file" if channel == "sms" else email_transport
        mid = mid or message_id(n.id, domain)
        attempts = (attempts or 0) + 1
        c.execute(
            "INSERT INTO deliveries(notification, state, transport, message_id, attempts, claimed_at, claimed_by) "
            "VALUES (?, 'claimed', ?, ?, ?, ?, ?) ON CONFLICT(notification) DO UPDATE SET state = 'claimed', "
            "transport = excluded.transport, attempts = excluded.attempts, claimed_at = excluded.claimed_at, "
            "claimed_by = excluded.claimed_by",
            (row_id, transport, mid, attempts, _iso(now), claimer))
        out.append(Claim(row_id, n, transport, mid, attempts))
    return out


def finish(c: sqlite3.Connection, cl: Claim, now: datetime, *, error: str = "", target: str = "",
           retry: Backoff = Backoff()) -> str:
    """Record a claim's outcome; returns the new state."""
    if not error:
        c.execute("UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = '', target = ? "
                  "WHERE notification = ?", (_iso(now), target, cl.row_id))
        c.execute("UPDATE notifications SET sent_at = ? WHERE id = ?", (_iso(now), cl.row_id))
        return "sent"
    if cl.attempts >= retry.max_attempts:
        c.execute("UPDATE deliveries SET state = 'dead', last_error = ?, next_attempt_at = NULL, target = ? "
                  "WHERE notification = ?", (error[:1000], target, cl.row_id))
        return "dead"
    c.execute("UPDATE deliveries SET state = 'failed', last_error = ?, next_attempt_at = ?, target = ? "
              "WHERE notification = ?", (error[:1000], _iso(now + retry.delay(cl.attempts)), target, cl.row_id))
    return "failed"


def requeue_uncertain(c: sqlite3.Connection, now: datetime) -> int:
    cur = c.execute("UPDATE deliveries SET state = 'failed', next_attempt_at = ? WHERE state IN ('uncertain', 'dead')",
                    (_iso(now),))
    return cur.rowcount


def status(c: sqlite3.Connection, limit: int = 50) -> Status:
    counts = {"pending": 0, "claimed": 0, "sent": 0, "failed": 0, "dead": 0, "uncertain": 0}
    (pending,) = c.execute("SELECT count(*) FROM notifications n LEFT JOIN deliveries d ON d.notification = n.id "
                           "WHERE n.sent_at IS NULL AND d.notification IS NULL").fetchone()
    counts["pending"] = pending
    for state, n in c.execute("SELECT state, count(*) FROM deliveries GROUP BY state"):
        counts[state] = n
    rows = c.execute(
        "SELECT n.id, n.json, d.state, d.attempts, d.last_error, d.next_attempt_at, d.target FROM deliveries d "
        "JOIN notifications n ON n.id = d.notification WHERE d.state IN ('failed', 'dead', 'uncertain', 'claimed') "
        "ORDER BY n.id LIMIT ?", (limit,)).fetchall()
    problems = []
    for row_id, text, state, attempts, err, nxt, target in rows:
        n = Notification.model_validate_json(text)
        problems.append(StatusRow(row_id, n.id, n.order_ref, n.channel, state, attempts, err, nxt, target))
    return Status(counts, problems)


def state_text(state: str | None, attempts: int | None, sent_at: str | None, next_at: str | None,
               error: str | None) -> str:
    """A notification's delivery state in a few words, for the timeline."""
    if state is None:  # never claimed by a deliverer: queued, or sent before the outbox (the demo)
        return f"sent {sent_at[:16].replace('T', ' ')}" if sent_at else "queued"
    if state == "sent":
        return f"sent {sent_at[:16].replace('T', ' ')}" if sent_at else "sent"
    if state == "failed":
        when = f"; next try {next_at[:16].replace('T', ' ')}" if next_at else ""
        return f"failed ({attempts} attempt{'s' if attempts != 1 else ''}: {error}){when}"
    if state == "dead":
        return f"gave up after {attempts} attempts: {error}"
    if state == "uncertain":
        return "uncertain: the deliverer stopped while sending; an operator must re-queue it"
    return "sending"


__all__ = ["Backoff", "Claim", "LEASE", "Status", "StatusRow", "claim", "finish", "message_id",
           "requeue_uncertain", "state_text", "status"]
