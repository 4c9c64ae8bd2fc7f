"""Opening a store file: the connection's settings, the checks before it is used, the write lock,
and SQLite's errors as the contract's (``docs/STORE.md``, "Durability and concurrency")."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from ..errors import BackendError, Forbidden, StoreCorrupt, StoreTooNew, Unavailable
from .schema import APPLICATION_ID, SCHEMA_VERSION, user_version


BUSY_TIMEOUT_MS = 5000
LOCK_DEADLINE_S = 30.0
SQLITE_MAGIC = b"SQLite format 3\x00"


# --------------------------------------------------------------------------------------------------
# SQLite errors → contract errors
# --------------------------------------------------------------------------------------------------


def _errname(e: BaseException) -> str:
    return getattr(e, "sqlite_errorname", "") or ""


def _is_busy(e: BaseException) -> bool:
    name = _errname(e)
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(e) \
        or "database table is locked" in str(e)


def map_error(e: sqlite3.Error, path: Path | str = "") -> BackendError:
    name, text = _errname(e), str(e)
    where = f" ({path})" if path else ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text \
            or "not a database" in text or text.startswith(("no such table", "no such column")):
        return StoreCorrupt(f"The store{where} is damaged or is not a carecli store ({text}). Restore it "
                            "from a backup, or build a new demo store with `carecli demo`.")
    if name.startswith("SQLITE_FULL") or "database or disk is full" in text:
        return Unavailable(f"The disk holding the store{where} is full; nothing was changed. Free some "
                           "space and try again.", title="Disk full")
    if _is_busy(e):
        return Unavailable(f"The store{where} is busy with another agent's change; nothing was changed. "
                           "Try again in a moment.", title="Store busy")
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return Forbidden(f"The store{where} can only be read here; nothing was changed.")
    if name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) or "disk I/O error" in text:
        return Unavailable(f"The store{where} could not be read or written ({text}); nothing was changed.")
    return Unavailable(f"The store{where} could not complete the request ({text}); nothing was changed.")


# --------------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------------


def _pragmas(conn: sqlite3.Connection, *, read_only: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -65536")  # 64 MiB
    conn.execute("PRAGMA mmap_size = 1073741824")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    else:
        # FULL: a COMMIT is on disk before it returns (see the module docstring).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")


def _uri(path: Path, **params: str) -> str:
    q = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{quote(str(path.resolve()))}?{q}"


def connect_rw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(_uri(path, mode="rwc"), uri=True, isolation_level=None,
                           check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    _pragmas(conn, read_only=False)
    return conn


def connect_ro(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection; ``immutable`` when even the WAL index cannot be created (the directory
    is read-only too). Returns (connection, immutable)."""
    for immutable in (False, True):
        params = {"mode": "ro"} | ({"immutable": "1"} if immutable else {})
        conn = sqlite3.connect(_uri(path, **params), uri=True, isolation_level=None,
                               check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as e:
            conn.close()
            if not immutable and _errname(e).startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
                continue
            raise
        _pragmas(conn, read_only=True)
        return conn, immutable
    raise AssertionError("unreachable")  # pragma: no cover


def check_header(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except PermissionError:
        raise Unavailable(f"The store {path} cannot be read: permission denied.") from None
    except OSError as e:
        raise Unavailable(f"The store {path} cannot be read: {e.strerror}.") from None
    if head and head != SQLITE_MAGIC:
        raise StoreCorrupt(f"{path} is not a carecli store: it is not a SQLite database. Point "
                           "CARECLI_STORE or --store at the right file, or build one with `carecli demo`.")


def check_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version; refuses a newer one and a SQLite file that is not a carecli store."""
    uv = user_version(conn)
    app = int(conn.execute("PRAGMA application_id").fetchone()[0])
    if uv > SCHEMA_VERSION:
        raise StoreTooNew(uv, SCHEMA_VERSION,
                          f"The store {path} was written by a newer carecli (schema version {uv}; this "
                          f"carecli reads up to version {SCHEMA_VERSION}). Upgrade carecli to open it; "
                          "the file was not changed.")
    if app != APPLICATION_ID:
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if uv != 0 or has_tables:
            raise StoreCorrupt(f"{path} is a SQLite database but not a carecli store; it was not changed.")
    return uv


def begin_immediate(conn: sqlite3.Connection, deadline_s: float = LOCK_DEADLINE_S) -> None:
    """BEGIN IMMEDIATE, retried with jittered back-off while another writer holds the lock."""
    deadline = time.monotonic() + deadline_s
    delay = 0.002
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if not _is_busy(e) or time.monotonic() >= deadline:
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.1)
