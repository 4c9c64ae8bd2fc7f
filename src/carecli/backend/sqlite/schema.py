"""The store's schema, as numbered migrations (``PRAGMA user_version``).

A new, empty file is brought to :data:`SCHEMA_VERSION` by running every migration in order; an older
file runs the ones it has not had, in one ``BEGIN IMMEDIATE`` transaction; a file with a higher
``user_version`` is refused (:class:`~carecli.backend.contract.StoreTooNew`). There is one definition
of the schema — these migrations — and the demo builder reuses it: it runs them on an empty file,
sets the secondary indexes and full-text triggers aside while it bulk-loads, and puts them back
(see :func:`secondary_objects`).

Conventions: times are stored as UTC ISO-8601 text, except ``placed_at`` on orders and order_skus,
which is integer microseconds since the epoch (it is sorted on by every search); money is the engine's
JSON inside the ``json`` columns, plus integer minor units where a column is sorted or summed; each
table keeps an ``INTEGER PRIMARY KEY`` row id that other tables refer to, and the business id
(``ON-100234``, ``C-…``) in a UNIQUE column.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

APPLICATION_ID = 0x43415245  # "CARE": marks a SQLite file as a carecli store

GENESIS = "0" * 64

V1 = f"""
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    email_key   TEXT NOT NULL,          -- lower-cased, trimmed
    phone_key   TEXT NOT NULL,          -- every digit of the phone number, country code included
    phone_nat   TEXT NOT NULL,          -- the digits after the +country code (national number)
    json        TEXT NOT NULL           -- engine.model.Customer
);
CREATE INDEX customers_email ON customers(email_key);
CREATE INDEX customers_phone ON customers(phone_key);
CREATE INDEX customers_phone_nat ON customers(phone_nat);

CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL UNIQUE,
    customer   INTEGER NOT NULL REFERENCES customers(id),
    currency   TEXT NOT NULL,
    json       TEXT NOT NULL            -- engine.model.BillingAccount (store-credit balance in it)
);

CREATE TABLE variants (
    sku  TEXT PRIMARY KEY,
    json TEXT NOT NULL                  -- engine.model.Variant
) WITHOUT ROWID;

CREATE TABLE locations (
    location_id TEXT PRIMARY KEY,
    json        TEXT NOT NULL           -- engine.model.PickupLocation
) WITHOUT ROWID;

CREATE TABLE orders (
    id           INTEGER PRIMARY KEY,
    ref          TEXT NOT NULL UNIQUE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    customer     INTEGER NOT NULL REFERENCES customers(id),
    account      INTEGER NOT NULL REFERENCES accounts(id),  -- one account per customer (DOMAIN §1)
    placed_at    INTEGER NOT NULL,      -- µs since the epoch, UTC
    stage        TEXT NOT NULL,         -- derived (engine.model.order_stage) when written
    total_minor  INTEGER NOT NULL,      -- grand total in minor units
    currency     TEXT NOT NULL,
    units        INTEGER NOT NULL,      -- live units
    postcode     TEXT NOT NULL,         -- as written on the address / store
    postcode_key TEXT NOT NULL,         -- upper-cased, spaces and dashes removed
    json         TEXT NOT NULL          -- engine.model.Order WITHOUT its documents (see documents)
);
CREATE INDEX orders_recent ON orders(placed_at);
CREATE INDEX orders_stage ON orders(stage, placed_at);
CREATE INDEX orders_customer ON orders(customer, placed_at);
CREATE INDEX orders_postcode ON orders(postcode_key, placed_at DESC);

-- The ledger: one row per immutable document, in the order written (id). An order's documents are
-- these rows, not a copy inside orders.json.
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    doc_id      TEXT NOT NULL UNIQUE,
    order_id    INTEGER NOT NULL REFERENCES orders(id),
    account     INTEGER NOT NULL REFERENCES accounts(id),
    kind        TEXT NOT NULL,          -- INVOICE, CREDIT_MEMO, PAYMENT, REFUND, STORE_CREDIT
    amount_minor INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    gateway_ref TEXT,                   -- the payment gateway's capture id, for payments it took
    json        TEXT NOT NULL           -- engine.model.Document
);
CREATE INDEX documents_order ON documents(order_id);
CREATE TRIGGER documents_immutable BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'ledger documents are immutable'); END;
CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'ledger documents are immutable'); END;

-- Fulfilment and other order events (written by the fulfilment API; "placed" is derived).
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    title    TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT '',
    json     TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX events_order ON events(order_id);

-- The notifications outbox: one row per event and channel, whatever happens twice.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL,
    channel    TEXT NOT NULL,
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    created_at TEXT NOT NULL,
    sent_at    TEXT,                    -- set by the sender that drains the outbox
    json       TEXT NOT NULL,           -- engine.notifications.Notification
    UNIQUE (event_id, channel)
);
CREATE INDEX notifications_order ON notifications(order_id);
CREATE INDEX notifications_unsent ON notifications(id) WHERE sent_at IS NULL;

-- The audit trail: append-only, hash-chained (engine.audit). The triggers refuse any edit or delete,
-- and any insert that does not extend the chain by exactly one record.
CREATE TABLE audit (
    seq              INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    actor            TEXT NOT NULL,
    role             TEXT NOT NULL,
    order_ref        TEXT NOT NULL,
    version_before   INTEGER NOT NULL,
    version_after    INTEGER NOT NULL,
    command          TEXT NOT NULL,     -- canonical JSON
    reason_code      TEXT NOT NULL,
    note             TEXT NOT NULL,
    financial_effect TEXT NOT NULL,     -- canonical JSON
    idempotency_key  TEXT NOT NULL,
    prev_hash        TEXT NOT NULL,
    hash             TEXT NOT NULL
);
CREATE INDEX audit_order ON audit(order_ref);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_chain BEFORE INSERT ON audit
WHEN NEW.seq IS NOT COALESCE((SELECT max(seq) FROM audit), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit WHERE seq = NEW.seq - 1), '{GENESIS}')
BEGIN SELECT RAISE(ABORT, 'audit records must extend the chain'); END;

-- Idempotency: one row per key, with the canonical request's hash and the first answer.
CREATE TABLE idempotency (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    order_ref    TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    response     TEXT NOT NULL          -- contract.CommitResult as JSON
) WITHOUT ROWID;

-- Id counters for documents and discounts ("CM" -> the next number), advanced inside commits.
CREATE TABLE counters (
    kind TEXT PRIMARY KEY,
    next INTEGER NOT NULL
) WITHOUT ROWID;

-- Customer names for search: FTS5 over customers.name, kept in step by triggers.
CREATE VIRTUAL TABLE customer_names USING fts5(
    name, content='customers', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
);
CREATE TRIGGER customers_fts_ai AFTER INSERT ON customers BEGIN
    INSERT INTO customer_names(rowid, name) VALUES (NEW.id, NEW.name);
END;
CREATE TRIGGER customers_fts_ad AFTER DELETE ON customers BEGIN
    INSERT INTO customer_names(customer_names, rowid, name) VALUES ('delete', OLD.id, OLD.name);
END;
CREATE TRIGGER customers_fts_au AFTER UPDATE OF name ON customers BEGIN
    INSERT INTO customer_names(customer_names, rowid, name) VALUES ('delete', OLD.id, OLD.name);
    INSERT INTO customer_names(rowid, name) VALUES (NEW.id, NEW.name);
END;
"""

V2 = """
-- Search by sku: one row per (sku, order), newest first per sku.
CREATE TABLE order_skus (
    sku       TEXT NOT NULL,
    placed_at INTEGER NOT NULL,
    order_id  INTEGER NOT NULL,
    PRIMARY KEY (sku, placed_at DESC, order_id)
) WITHOUT ROWID;
"""


def _v2_backfill(conn: sqlite3.Connection) -> None:
    """Fill order_skus from the orders already in a version-1 store."""
    import json  # here, not at the top: only a migration needs it, not a launch

    rows = conn.execute("SELECT id, placed_at, json FROM orders")
    batch: list[tuple[str, int, int]] = []
    for oid, placed, text in rows:
        skus = {ln["sku"] for ln in json.loads(text).get("lines", ())}
        batch.extend((s, placed, oid) for s in skus)
        if len(batch) >= 50_000:
            conn.executemany("INSERT OR IGNORE INTO order_skus VALUES (?, ?, ?)", batch)
            batch.clear()
    conn.executemany("INSERT OR IGNORE INTO order_skus VALUES (?, ?, ?)", batch)


V3_ORDER_LINKS = """
-- Orders placed from an earlier one: a no-charge replacement, an exchange's new order, a re-order.
CREATE TABLE order_links (
    id           INTEGER PRIMARY KEY,
    original_ref TEXT NOT NULL,         -- the earlier order
    new_ref      TEXT NOT NULL,         -- the order placed from it
    kind         TEXT NOT NULL CHECK (kind IN ('replacement', 'exchange', 'reorder')),
    UNIQUE (original_ref, new_ref)
);
CREATE INDEX order_links_new ON order_links(new_ref);

-- The address a customer gave when care created them (the default delivery address of a new order).
CREATE TABLE customer_addresses (
    customer INTEGER PRIMARY KEY REFERENCES customers(id),
    json     TEXT NOT NULL              -- engine.model.Address
);
"""


V4_EVENTS = """
-- Fulfilment events: the inbox reads events by kind, oldest first.
CREATE INDEX events_kind ON events(kind, at);

-- Refused fulfilment events, for an operator: one row per (event id, content), however often sent.
CREATE TABLE rejected_events (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL,
    payload_hash TEXT NOT NULL,         -- SHA-256 of the canonical event JSON
    order_ref    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    rule         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    payload      TEXT NOT NULL,         -- the event as received (JSON)
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1,
    resolved_at  TEXT,                  -- the same event id was applied later
    UNIQUE (event_id, payload_hash)
);
CREATE INDEX rejected_events_recent ON rejected_events(last_seen);

-- Delivery of the notifications outbox: one row per notification once a deliverer has claimed it.
CREATE TABLE deliveries (
    notification    INTEGER PRIMARY KEY REFERENCES notifications(id),
    state           TEXT NOT NULL,      -- claimed, sent, failed (retry at next_attempt_at), dead, uncertain
    transport       TEXT NOT NULL,      -- eml, smtp, sms-file
    message_id      TEXT NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_at      TEXT,
    claimed_by      TEXT NOT NULL DEFAULT '',  -- host:pid of the deliverer holding the claim
    next_attempt_at TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         TEXT,
    target          TEXT NOT NULL DEFAULT ''  -- the file written, or the SMTP server
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);

-- Extra charges the payment gateway declined (the commit was refused; this row is written after
-- the rollback, in its own transaction), for the exceptions inbox.
CREATE TABLE declined_charges (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders(id),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    message      TEXT NOT NULL
);
CREATE INDEX declined_charges_order ON declined_charges(order_id, at);
"""


V5_USERS = """
-- Users of a shared server (carecli serve): bearer tokens are stored as their SHA-256 only.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
    can_write   INTEGER NOT NULL CHECK (can_write IN (0, 1)),
    token_hash  TEXT NOT NULL UNIQUE,   -- sha256 hex of the token; the token itself is never stored
    created_at  TEXT NOT NULL,
    revoked_at  TEXT                    -- NULL while the token is valid
);
"""


V6_RETURNS = """
-- Return orders (DOMAIN §7): one row per RO, its lines, verdicts and history in json.
CREATE TABLE return_orders (
    id         INTEGER PRIMARY KEY,
    ro_id      TEXT NOT NULL UNIQUE,    -- RO-000001
    rma        TEXT NOT NULL UNIQUE,    -- RMA-100005-1: what the customer quotes
    order_id   INTEGER NOT NULL REFERENCES orders(id),
    account    INTEGER NOT NULL REFERENCES accounts(id),
    state      TEXT NOT NULL,           -- CREATED … CLOSED (engine.returns.TRANSITIONS)
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    json       TEXT NOT NULL            -- engine.returns.ReturnOrder
);
CREATE INDEX return_orders_order ON return_orders(order_id);
CREATE INDEX return_orders_account ON return_orders(account, created_at);
"""


Step = Callable[[sqlite3.Connection], None]

# version -> (DDL, data step or None). Append only: never edit a migration that has shipped.
MIGRATIONS: dict[int, tuple[str, Step | None]] = {
    1: (V1, None),
    2: (V2, _v2_backfill),
    3: (V3_ORDER_LINKS, None),
    4: (V4_EVENTS, None),
    5: (V5_USERS, None),
    6: (V6_RETURNS, None),
}

SCHEMA_VERSION = max(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _exec_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; run statement by statement inside the caller's transaction.
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            stmt = buf.strip()
            if stmt and not all(ln.strip().startswith("--") or not ln.strip() for ln in stmt.splitlines()):
                conn.execute(stmt)
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()):
        conn.execute(buf)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the file to ``target`` inside the caller's write transaction. Returns the old version."""
    current = user_version(conn)
    if current == 0:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    for v in range(current + 1, target + 1):
        ddl, step = MIGRATIONS[v]
        _exec_script(conn, ddl)
        if step is not None:
            step(conn)
        conn.execute(f"PRAGMA user_version = {v}")
    return current


def secondary_objects(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(type, name, sql) of the secondary indexes and FTS triggers: what a bulk load sets aside."""
    return [
        (t, n, s) for t, n, s in conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
            "((type = 'index') OR (type = 'trigger' AND name LIKE 'customers_fts_%')) ORDER BY name"
        )
    ]
