"""The client's commit journal: a small SQLite file in the user data dir (``journal.db``).

Before a commit is sent the first time, its idempotency key, the server, the path, the headers that
matter (never the token) and the exact body bytes are written here and fsynced. When the answer comes
(applied, or refused for good) the entry is closed. An entry still open at the next start means the
answer never arrived (the app was killed, the connection dropped): it is sent again, with the same key
and the same bytes, so the server either applies it once or replays its first answer. Money is never
re-sent with a new key.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

_DDL = """
CREATE TABLE IF NOT EXISTS commits (
    key         TEXT PRIMARY KEY,
    server      TEXT NOT NULL,
    order_ref   TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    headers     TEXT NOT NULL,     -- JSON: If-Match, Idempotency-Key, Content-Type (never the token)
    body        BLOB NOT NULL,     -- the exact bytes sent, and re-sent
    created_at  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    status      INTEGER,           -- the HTTP status of the answer, once there is one
    answer      TEXT,              -- its body
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS commits_pending ON commits(server, state);
"""


@dataclass(frozen=True)
class Entry:
    key: str
    server: str
    order_ref: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    created_at: str
    state: str
    status: int | None = None
    answer: str | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")  # the entry is on disk before the first send
        for stmt in _DDL.split(";"):
            if stmt.strip():
                self._conn.execute(stmt)

    def record(self, *, key: str, server: str, order_ref: str, method: str, path: str,
               headers: dict[str, str], body: bytes) -> Entry:
        """Write the entry before the first send; an entry already there (a retry) is returned as it is."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO commits(key, server, order_ref, method, path, headers, body, created_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT(key) DO NOTHING",
                (key, server, order_ref, method, path, json.dumps(headers, sort_keys=True), body, _now()))
            return self._get(key)  # type: ignore[return-value]

    def resolve(self, key: str, status: int, answer: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE commits SET state = 'done', status = ?, answer = ?, resolved_at = ? "
                               "WHERE key = ?", (status, answer, _now(), key))

    def get(self, key: str) -> Entry | None:
        with self._lock:
            return self._get(key)

    def _get(self, key: str) -> Entry | None:
        row = self._conn.execute("SELECT key, server, order_ref, method, path, headers, body, created_at, "
                                 "state, status, answer FROM commits WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def pending(self, server: str) -> list[Entry]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, server, order_ref, method, path, headers, body, created_at, state, status, "
                "answer FROM commits WHERE server = ? AND state = 'pending' ORDER BY created_at, key",
                (server,)).fetchall()
        return [_entry(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _entry(row: tuple) -> Entry:
    return Entry(key=row[0], server=row[1], order_ref=row[2], method=row[3], path=row[4],
                 headers=json.loads(row[5]), body=bytes(row[6]), created_at=row[7], state=row[8],
                 status=row[9], answer=row[10])
