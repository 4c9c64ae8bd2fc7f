"""Users of a shared server (``carecli serve``): names, roles and hashed bearer tokens.

A token is 32 random bytes (``secrets``), URL-safe base64 with a ``cc_`` prefix; only its SHA-256 is
stored, so a copy of the store gives nobody a working token. Because the token is random and long, a
plain (unsalted, fast) hash is enough: there is nothing to guess from a dictionary.

Functions take a ``sqlite3.Connection``; :class:`~carecli.backend.sqlite.store.SqliteStore` runs them
in its read and write transactions.

Adding (or re-issuing) and revoking a user changes who may write, so each writes one record into the
store's hash-chained audit log in the same transaction: actor = who ran the command (``--by``, else
the operating-system user), role ``admin``, no order, the command (``user_add`` / ``user_revoke``:
the user's name, role and whether they may write — never the token or its hash).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import secrets
import sqlite3
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..errors import BadRequest, NotFound

TOKEN_PREFIX = "cc_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class User(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    role: Literal["agent", "supervisor"]
    can_write: bool
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def read_only(self) -> bool:
        return not self.can_write


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _user(row: tuple) -> User:
    return User(name=row[0], role=row[1], can_write=bool(row[2]), created_at=row[3], revoked_at=row[4])


_COLS = "name, role, can_write, created_at, revoked_at"

#: The role an audit record of user management carries: whoever can run ``carecli users`` on the store.
ADMIN_ROLE = "admin"


def os_user() -> str:
    """The operating-system user running this process (the default actor of user management)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a container without a passwd entry)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _actor(by: str | None) -> str:
    if by is None:
        return os_user()
    who = by.strip()
    if not who or len(who) > 200 or any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in who):
        raise BadRequest(f"--by {by!r}: name who is making the change (1-200 printable characters)")
    return who


def _audit(c: sqlite3.Connection, command: dict, actor: str, now: datetime) -> int:
    """One audit record for a change of users, chained after the last record; returns its sequence."""
    from ...engine.audit import make_record  # imported here: opening a store stays light (no engine)
    from .events import _audit_head, write_audit

    seq, prev = _audit_head(c)
    write_audit(c, make_record(seq=seq, at=now, actor=actor, role=ADMIN_ROLE, order_ref="", version_before=0,
                               version_after=0, command=[command], reason_code="", note="",
                               financial_effect={"settlement": "none (user management)"},
                               idempotency_key=f"{command['kind']}:{seq}", prev_hash=prev))
    return seq


def add_user(c: sqlite3.Connection, name: str, role: str, *, can_write: bool | None, now: datetime,
             by: str | None = None) -> str:
    """Create (or re-issue, for a revoked user) ``name``; returns the token, which is shown only once.

    ``can_write`` defaults to True for an agent and False for a supervisor (read-only by default).
    ``by`` is who makes the change (the operating-system user when not given); it is audited.
    """
    actor = _actor(by)
    if not NAME_RE.match(name or ""):
        raise BadRequest(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
                         "starting with a letter or digit")
    if role not in ("agent", "supervisor"):
        raise BadRequest(f"role {role!r}: must be agent or supervisor")
    write = (role == "agent") if can_write is None else bool(can_write)
    token = new_token()
    row = c.execute("SELECT revoked_at FROM users WHERE name = ?", (name,)).fetchone()
    if row is not None and row[0] is None:
        raise BadRequest(f"user {name!r} already exists and has a valid token; revoke it first "
                         f"(carecli users revoke {name}) to issue a new one", title="User exists")
    c.execute("INSERT INTO users(name, role, can_write, token_hash, created_at, revoked_at) "
              "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT(name) DO UPDATE SET role = excluded.role, "
              "can_write = excluded.can_write, token_hash = excluded.token_hash, "
              "created_at = excluded.created_at, revoked_at = NULL",
              (name, role, int(write), token_hash(token), now.isoformat()))
    _audit(c, {"kind": "user_add", "user": name, "role": role, "may_write": write, "reissued": row is not None},
           actor, now)
    return token


def list_users(c: sqlite3.Connection) -> list[User]:
    return [_user(r) for r in c.execute(f"SELECT {_COLS} FROM users ORDER BY name")]


def revoke_user(c: sqlite3.Connection, name: str, *, now: datetime, by: str | None = None) -> User:
    """Revoke ``name``'s token at once (audited, ``by`` as for :func:`add_user`). Revoking a user who is
    already revoked changes nothing and writes no record."""
    actor = _actor(by)
    row = c.execute(f"SELECT {_COLS} FROM users WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise NotFound(f"There is no user {name!r} (carecli users list shows them).", title="No such user")
    if row[4] is None:
        c.execute("UPDATE users SET revoked_at = ? WHERE name = ?", (now.isoformat(), name))
        _audit(c, {"kind": "user_revoke", "user": name, "role": row[1]}, actor, now)
    return _user(c.execute(f"SELECT {_COLS} FROM users WHERE name = ?", (name,)).fetchone())


def user_for_token(c: sqlite3.Connection, token: str) -> User | None:
    """The active user holding ``token``, or None (unknown, malformed or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = c.execute(f"SELECT {_COLS} FROM users WHERE token_hash = ? AND revoked_at IS NULL",
                    (token_hash(token),)).fetchone()
    return _user(row) if row else None
