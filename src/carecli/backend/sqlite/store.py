"""The embedded store: the backend contract over one SQLite file.

Durability and concurrency (``docs/STORE.md`` says the same at more length):

* ``journal_mode=WAL``: readers never wait for the writer and the writer never waits for readers, so
  several agents on one support host can share a file;
* every write is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken up front, so two writers
  can never both read version 3 and both write version 4, and no write ever has to be retried half
  way. ``busy_timeout`` (5 s) makes SQLite wait for the lock; on top of that :meth:`SqliteStore._begin`
  retries a busy BEGIN with jittered back-off for up to 30 s, so "database is locked" never reaches an
  agent — a store held longer than that raises :class:`Unavailable`;
* ``synchronous=FULL``: every COMMIT is on disk (fsync of the WAL) before ``commit()`` returns. With
  WAL, ``NORMAL`` would be faster but could lose the last commits on a power cut — a credit memo the
  agent already read out to the customer. Money is worth an fsync;
* a store the user may only read, or one opened for a supervisor (read-only by default, DOMAIN §10),
  is opened with ``mode=ro`` *and* every write method raises :class:`Forbidden` before touching SQL.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, TypeVar

from ...engine.money import Money
from ..errors import (
    BackendError, Forbidden, IdempotencyMismatch, NotFound, PaymentDeclined, RuleViolations, StoreCorrupt,
    Unavailable, VersionConflict,
)
from ..connection import Connection, RecoveredCommit
from ..gateway import DemoGateway
from ..search_types import SearchPage
from . import search as _search
from .connect import (  # noqa: F401 - connect_rw and map_error are also this module's names
    LOCK_DEADLINE_S, _is_busy, begin_immediate, check_header, check_version, connect_ro, connect_rw, map_error,
)
from .schema import SCHEMA_VERSION, migrate, user_version

if TYPE_CHECKING:
    from ...engine.policy import Policy
    from ..contract import PaymentGateway, Role


# -- the engine, imported on first use ---------------------------------------------------------------
# Opening a store and searching it need none of the engine's commands, plans, settlement, returns,
# events or placing, nor the contract's result types built from them, nor pydantic: importing those
# is most of what a launch of the app would otherwise spend before its first results. Every method of
# SqliteStore but the few below (``_LIGHT``) loads them first (see the end of this module).
_ENGINE_LOADED = False
_ENGINE_LOCK = threading.Lock()


def _load_engine() -> None:
    """Import the engine and the store's modules that use it, into this module's names (once)."""
    with _ENGINE_LOCK:
        if not _ENGINE_LOADED:
            _import_engine()


def _import_engine() -> None:
    global _ENGINE_LOADED
    global GENESIS_HASH, AuditRecord, ChainProblem, canonical_json, verify_chain
    global PlanContext, BillingAccount, Customer, Document, Order, Payment
    global PickupLocation, Variant, MessageTemplate, plan, PricingError, price, Violation
    global AccountView, CommitRequest, CommitResult, CreateExchangeRequest, CreateReturnRequest
    global CustomerSummary, EventResult, ExceptionItem, LedgerEntry, NewCustomerRequest, OrderView
    global PlaceOrderRequest, PlaceOrderResult, ReferenceData, RefundReturnRequest
    global RejectedEvent, ReturnEligibility, ReturnResult, ReturnStepRequest, TimelineEntry
    global VerifyReturnRequest, ReturnOrder, effect, _events, _outbox, _placing, _returns
    global document_columns, order_columns, order_json, _DOCUMENT, TypeAdapter, ValidationError, _users
    global order_timeline
    from pydantic import TypeAdapter, ValidationError
    from ...engine.audit import GENESIS_HASH, AuditRecord, ChainProblem, canonical_json, verify_chain
    from ...engine.context import PlanContext
    from ...engine.model import (
        BillingAccount, Customer, Document, Order, Payment, PickupLocation, Variant,
    )
    from ...engine.notifications import MessageTemplate
    from ...engine.plan import plan
    from ...engine.pricing import PricingError, price
    from ...engine.rules import Violation
    from ..contract import (
        AccountView, CommitRequest, CommitResult, CreateExchangeRequest, CreateReturnRequest,
        CustomerSummary, EventResult, ExceptionItem, LedgerEntry, NewCustomerRequest, OrderView,
        PlaceOrderRequest, PlaceOrderResult, ReferenceData, RefundReturnRequest,
        RejectedEvent, ReturnEligibility, ReturnResult, ReturnStepRequest, TimelineEntry,
        VerifyReturnRequest,
    )
    from ...engine.returns import ReturnOrder
    from ..ledger import effect
    from . import events as _events
    from . import outbox as _outbox
    from . import placing as _placing
    from . import returns as _returns
    from . import users as _users
    from .rows import document_columns, order_columns, order_json
    from .timeline import order_timeline
    _DOCUMENT = TypeAdapter(Document)
    _ENGINE_LOADED = True


T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------------


class _TxnIds:
    """Document ids from the counters table, handed out inside the commit's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __call__(self, kind: str) -> str:
        row = self.conn.execute("UPDATE counters SET next = next + 1 WHERE kind = ? RETURNING next - 1",
                                (kind,)).fetchone()
        if row is None:
            self.conn.execute("INSERT INTO counters(kind, next) VALUES (?, 2)", (kind,))
            n = 1
        else:
            n = row[0]
        return f"{kind}-{n:06d}"


class SqliteStore:
    """The backend contract over one SQLite file. Open it with :meth:`open`.

    Thread-safe: one connection, used under a lock (the screens call it from worker threads).
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, role: Role, read_only: bool,
                 policy: Policy | None, clock: Callable[[], datetime], gateway: PaymentGateway,
                 immutable: bool = False, why_read_only: str = "",
                 templates: Mapping[str, MessageTemplate] | None = None, policy_file: Path | None = None,
                 templates_dir: Path | None = None) -> None:
        self._templates = templates
        self._templates_dir = templates_dir if templates is None else None
        self._policy_file = policy_file
        self._conn = conn
        self._path = path
        self._role: Role = role
        self._read_only = read_only
        self._why_read_only = why_read_only
        self._policy_value = policy
        self._clock = clock
        self._gateway = gateway
        self._immutable = immutable
        self._lock = threading.RLock()
        self._ref: ReferenceData | None = None
        self._catalog: dict[str, Variant] = {}
        self._locations: dict[str, PickupLocation] = {}
        self._skus: list[str] = []
        self._search_skus: list[str] | None = None
        self._closed = False

    # -- opening ----------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, role: Role = "agent", read_only: bool | None = None,
             policy: Policy | None = None, clock: Callable[[], datetime] | None = None,
             gateway: PaymentGateway | None = None, create: bool = True,
             templates: Mapping[str, MessageTemplate] | None = None, policy_file: Path | None = None,
             templates_dir: Path | None = None) -> "SqliteStore":
        """Open (or create, migrate) the store at ``path``.

        The policy is ``policy``, else the operator's ``policy_file`` (read on first use), else the
        built-in one; the message templates likewise (``templates``, else ``templates_dir``'s files over
        the shipped ones, read on first use). :meth:`load_files` reads them at once.

        ``read_only`` defaults to True for a supervisor (DOMAIN §10) and False for an agent; a file (or
        folder) the user may not write is opened read-only whatever is asked. A missing folder is created
        when the store may be created. Raises :class:`StoreTooNew`, :class:`StoreCorrupt`,
        :class:`NotFound` (read-only and no file) or :class:`Unavailable`.
        """
        if role not in ("agent", "supervisor"):
            raise ValueError(f"unknown role {role!r}")
        p = Path(path).expanduser()
        want_ro = (role == "supervisor") if read_only is None else bool(read_only)
        folder = p.parent
        if p.is_dir():
            raise Unavailable(f"{p} is a folder, not a store file.")
        exists = p.exists() and p.stat().st_size > 0
        if not exists and (want_ro or not create):
            raise NotFound(f"There is no store at {p}. Build one with `carecli demo`.", title="No store")
        if not folder.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise Unavailable(f"The folder {folder} for the store cannot be created: "
                                  f"{e.strerror or e}.") from None
        if exists:
            check_header(p)
        can_write = os.access(folder, os.W_OK) and (not p.exists() or os.access(p, os.W_OK))
        if not exists and not can_write:
            raise Unavailable(f"The store {p} cannot be created: the folder {folder} is not writable.")
        why = ""
        immutable = False
        try:
            if can_write:
                conn = connect_rw(p)
                try:
                    _prepare(conn, p)
                except BaseException:
                    conn.close()
                    raise
                if want_ro:
                    conn.close()
                    conn, immutable = connect_ro(p)
                    why = "a supervisor works read-only" if role == "supervisor" else "opened read-only"
            else:
                conn, immutable = connect_ro(p)
                why = f"the file {p} (or its folder) may only be read by this user"
                try:
                    uv = check_version(conn, p)
                    if uv < SCHEMA_VERSION:
                        raise Unavailable(
                            f"The store {p} is from an older carecli (schema {uv}) and must be upgraded, "
                            "but this user may only read it. Open it once as a user who can write it.")
                except BaseException:
                    conn.close()
                    raise
        except sqlite3.Error as e:
            raise map_error(e, p) from None
        return cls(conn, p, role=role, read_only=want_ro or not can_write,
                   policy=policy, clock=clock or _utcnow,
                   gateway=gateway or DemoGateway(), immutable=immutable, why_read_only=why,
                   templates=templates, policy_file=policy_file, templates_dir=templates_dir)

    # -- properties -------------------------------------------------------------------------------
    @property
    def role(self) -> Role:
        return self._role

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def path(self) -> Path:
        return self._path

    @property
    def policy(self) -> Policy:
        """The pricing, limits and returns policy (read from the operator's file on first use)."""
        if self._policy_value is None:
            from ...engine.policy import default_policy, load_policy

            self._policy_value = load_policy(self._policy_file) if self._policy_file else default_policy()
        return self._policy_value

    @property
    def templates(self) -> Mapping[str, MessageTemplate] | None:
        """The message templates (None: the shipped ones), read from the operator's folder on first use."""
        if self._templates_dir is not None:
            from ..templates import load_templates

            self._templates = load_templates(self._templates_dir)
            self._templates_dir = None
        return self._templates

    def load_files(self) -> None:
        """Read the operator's policy and message templates now, if they were not yet: raises
        :class:`~carecli.engine.errors.PolicyError` or :class:`~carecli.engine.errors.TemplateError`.
        Opening a store reads neither, so that the app's first screen comes without them (nor
        pydantic); the app calls this once its first results are drawn. Reads only these files: the
        engine is loaded by the first call that needs it, as ever."""
        self.policy  # noqa: B018 - read for its errors
        self.templates  # noqa: B018

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> "SqliteStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def meta(self) -> dict[str, str]:
        """The store's meta table (demo seed, seed case ref, when it was built…)."""
        return self._read(lambda c: dict(c.execute("SELECT key, value FROM meta").fetchall()))

    # -- plumbing ---------------------------------------------------------------------------------
    def _read(self, fn: Callable[[sqlite3.Connection], T], *, snapshot: bool = False) -> T:
        """Run a read, in one read transaction when ``snapshot`` (a consistent view across queries)."""
        with self._lock:
            if self._closed:
                raise Unavailable("The store is closed.")
            deadline = time.monotonic() + LOCK_DEADLINE_S
            delay = 0.002
            while True:
                try:
                    if not snapshot:
                        return fn(self._conn)
                    self._conn.execute("BEGIN")
                    try:
                        return fn(self._conn)
                    finally:
                        self._conn.execute("COMMIT")
                except sqlite3.OperationalError as e:
                    if _is_busy(e) and time.monotonic() < deadline:
                        time.sleep(delay * (0.5 + random.random()))
                        delay = min(delay * 2, 0.1)
                        continue
                    raise map_error(e, self._path) from None
                except sqlite3.Error as e:
                    raise map_error(e, self._path) from None
                except (ValidationError, UnicodeDecodeError) as e:
                    raise StoreCorrupt(
                        f"A record in the store {self._path} is damaged and cannot be read "
                        f"({str(e).splitlines()[0]}). Restore the store from a backup.") from None

    def _forbid_if_read_only(self) -> None:
        if self._read_only:
            why = f" ({self._why_read_only})" if self._why_read_only else ""
            raise Forbidden(f"This store is read-only{why}; nothing was changed.")

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one BEGIN IMMEDIATE transaction: all of it, or (on any error) none of it."""
        self._forbid_if_read_only()
        with self._lock:
            if self._closed:
                raise Unavailable("The store is closed.")
            conn = self._conn
            try:
                begin_immediate(conn)
            except sqlite3.Error as e:
                raise map_error(e, self._path) from None
            try:
                out = fn(conn)
                conn.execute("COMMIT")
                return out
            except BaseException as e:
                try:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(e, sqlite3.Error):
                    raise map_error(e, self._path) from None
                raise

    # -- reference data ---------------------------------------------------------------------------
    def reference(self) -> ReferenceData:
        with self._lock:
            if self._ref is None:
                def load(c: sqlite3.Connection) -> ReferenceData:
                    variants = [Variant.model_validate_json(t) for (t,) in
                                c.execute("SELECT json FROM variants ORDER BY sku")]
                    locations = [PickupLocation.model_validate_json(t) for (t,) in
                                 c.execute("SELECT json FROM locations ORDER BY location_id")]
                    return ReferenceData(variants=variants, locations=locations, policy=self.policy,
                                         templates=dict(self.templates or {}))
                ref = self._read(load, snapshot=True)
                self._catalog = ref.catalog()
                self._locations = ref.location_map()
                self._skus = sorted(self._catalog)
                self._ref = ref
            return self._ref

    # -- search -----------------------------------------------------------------------------------
    def search_orders(self, query: str, *, stage: str | None = None, limit: int = 50,
                      offset: int = 0) -> SearchPage:
        if type(limit) is not int or not 0 < limit <= 500:
            limit = max(1, min(int(limit), 500))
        if type(offset) is not int or not 0 <= offset <= 100_000:
            offset = max(0, min(int(offset), 100_000))
        if _search.stored_ref(query):
            # a whole stored ref (ON-1234567): straight to its query, the lock held only for the query
            st = stage if stage else None
            return _search.ref_page(self._read(lambda c: _search.ref_rows(c, query, st, limit, offset)),
                                    offset, limit)
        if self._search_skus is None:
            # the catalog's skus, read once: the search needs only these, not the validated catalog
            self._search_skus = self._read(lambda c: [s for (s,) in c.execute(
                "SELECT sku FROM variants ORDER BY sku")])
        reading = _search.read(query if isinstance(query, str) else "", self._search_skus)
        stage = stage if stage else None
        hits, more = self._read(lambda c: _search.run(c, reading, stage, limit, offset))
        # built without re-validation: the summaries come from the store's own rows (see search.summary)
        return _search.page([_search.summary(h.row, h.kind) for h in hits], offset, limit, more, reading.kinds)

    # -- reads ------------------------------------------------------------------------------------
    @staticmethod
    def _norm_ref(ref: str) -> str:
        return ref.strip().upper() if isinstance(ref, str) else ""

    def _order_row(self, c: sqlite3.Connection, ref: str) -> tuple[Any, ...]:
        from .rows import order_row

        row = order_row(c, ref)
        if row is None:
            raise NotFound(f"There is no order {ref or '(blank)'}.", title="Order not found")
        return row

    @staticmethod
    def _order(c: sqlite3.Connection, row: tuple[Any, ...]) -> Order:
        from .rows import read_order

        return read_order(c, row[0], row[5])

    @staticmethod
    def _party(c: sqlite3.Connection, customer: int, account: int) -> tuple[Customer, BillingAccount]:
        from .rows import read_party

        return read_party(c, customer, account)

    def get_order(self, ref: str) -> OrderView:
        r = self._norm_ref(ref)

        def read(c: sqlite3.Connection) -> OrderView:
            row = self._order_row(c, r)
            order = self._order(c, row)
            cust, acct = self._party(c, row[2], row[3])
            (stage,) = c.execute("SELECT stage FROM orders WHERE id = ?", (row[0],)).fetchone()
            return OrderView(order=order, customer=cust, account=acct, stage=stage, links=_placing.links_of(c, r))

        return self._read(read, snapshot=True)

    def get_account(self, account_id: str) -> AccountView:
        aid = account_id.strip() if isinstance(account_id, str) else ""

        def read(c: sqlite3.Connection) -> AccountView:
            row = c.execute("SELECT id, customer, json FROM accounts WHERE account_id = ?", (aid,)).fetchone()
            if row is None:
                raise NotFound(f"There is no billing account {aid or '(blank)'}.", title="Account not found")
            acct = BillingAccount.model_validate_json(row[2])
            (cj,) = c.execute("SELECT json FROM customers WHERE id = ?", (row[1],)).fetchone()
            docs = c.execute(
                "SELECT o.ref, d.json FROM orders o JOIN documents d ON d.order_id = o.id "
                "WHERE o.customer = ? AND o.account = ? ORDER BY d.id", (row[1], row[0])).fetchall()
            orders = c.execute(
                f"SELECT {_search.COLS} FROM orders o JOIN customers c ON c.id = o.customer "
                "WHERE o.customer = ? AND o.account = ? ORDER BY o.placed_at DESC, o.id DESC LIMIT 500",
                (row[1], row[0])).fetchall()
            view = self._account_view(acct, Customer.model_validate_json(cj), docs, orders)
            return view.model_copy(update={"returns": _returns.account_returns(c, row[0])})

        return self._read(read, snapshot=True)

    @staticmethod
    def _account_view(acct: BillingAccount, cust: Customer, docs: list[tuple[str, str]],
                      orders: list[tuple[Any, ...]]) -> AccountView:
        adapter = _DOCUMENT
        parsed = [(ref, adapter.validate_json(j), i) for i, (ref, j) in enumerate(docs)]
        parsed.sort(key=lambda t: (t[1].created_at, t[2]))  # oldest first; written order breaks ties
        run = None
        ledger: list[LedgerEntry] = []
        for ref, d, _ in parsed:
            e = effect(d)
            run = e if run is None else run + e
            ledger.append(LedgerEntry(document=d, order_ref=ref, effect=e, running_balance=run))
        zero = Money.zero(acct.currency)
        return AccountView(
            account=acct, customer=cust, ledger=ledger, balance=run if run is not None else zero,
            store_credit=acct.store_credit,
            orders=[_search.summary(r, "recent") for r in orders],
        )

    def get_timeline(self, ref: str) -> list[TimelineEntry]:
        r = self._norm_ref(ref)

        def read(c: sqlite3.Connection) -> list[TimelineEntry]:
            row = self._order_row(c, r)
            order = self._order(c, row)
            events = c.execute("SELECT at, title, detail FROM events WHERE order_id = ? ORDER BY id",
                               (row[0],)).fetchall()
            notes = c.execute("SELECT n.json, d.state, d.attempts, d.sent_at, d.next_attempt_at, d.last_error "
                              "FROM notifications n LEFT JOIN deliveries d ON d.notification = n.id "
                              "WHERE n.order_id = ? ORDER BY n.id", (row[0],)).fetchall()
            audits = c.execute(
                "SELECT seq, at, actor, role, version_before, version_after, command, reason_code, note, "
                "financial_effect FROM audit WHERE order_ref = ? ORDER BY seq", (r,)).fetchall()
            return order_timeline(order, events, notes, audits)

        return self._read(read, snapshot=True)

    # -- audit ------------------------------------------------------------------------------------
    def audit_records(self) -> Iterator[AuditRecord]:
        """Every audit record, in sequence order (read in one snapshot)."""
        rows = self._read(lambda c: c.execute(f"SELECT {_AUDIT_COLS} FROM audit ORDER BY seq").fetchall(),
                          snapshot=True)
        for r in rows:
            yield AuditRecord.model_validate(_audit_dict(r))

    def verify_audit(self) -> ChainProblem | None:
        """The first record edited, deleted or reordered, or None. Besides the hash chain, the last
        record must be the head each commit writes to ``meta`` (``audit_head``): removing records from
        the end leaves a valid shorter chain, but not the recorded head."""
        def check(c: sqlite3.Connection) -> ChainProblem | None:
            cur = c.execute(f"SELECT {_AUDIT_COLS} FROM audit ORDER BY seq")
            problem = verify_chain(_audit_dict(r) for r in cur)
            if problem is not None:
                return problem
            head = c.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
            last = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            if head is None:
                return None if last is None else ChainProblem(
                    seq=last[0], problem="the store holds no record of its audit head")
            seq_s, _, hash_ = head[0].partition(":")
            seq = int(seq_s)
            if last is None or last[0] < seq:
                n = 0 if last is None else last[0]
                return ChainProblem(seq=n + 1, problem=f"record {n + 1} is missing (deleted): the chain ends "
                                                       f"at {n} but {seq} records were written")
            if last[0] > seq or last[1] != hash_:
                return ChainProblem(seq=seq + 1 if last[0] > seq else seq,
                                    problem=f"the chain does not end where the last commit left it "
                                            f"(record {seq})")
            return None

        return self._read(check, snapshot=True)

    def audit_count(self) -> int:
        return self._read(lambda c: c.execute("SELECT count(*) FROM audit").fetchone()[0])

    # -- shared deployments: connection state, recovery, users of a server ----------------------------
    def ping(self) -> Connection:
        try:
            self._read(lambda c: c.execute("SELECT 1").fetchone())
        except BackendError as e:
            return Connection(online=False, detail=e.message)
        return Connection(online=True)

    def recover(self) -> list[RecoveredCommit]:
        return []  # a commit is one local transaction: there is never an unanswered one

    def add_user(self, name: str, role: str, *, can_write: bool | None = None, by: str | None = None) -> str:
        """A new user of ``carecli serve``; returns the token (shown once, stored hashed). Audited, with
        ``by`` (else the operating-system user) as the actor."""
        return self._write(lambda c: _users.add_user(c, name, role, can_write=can_write, now=self._clock(),
                                                     by=by))

    def list_users(self) -> list[_users.User]:
        return self._read(_users.list_users)

    def revoke_user(self, name: str, *, by: str | None = None) -> _users.User:
        return self._write(lambda c: _users.revoke_user(c, name, now=self._clock(), by=by))

    def user_for_token(self, token: str) -> _users.User | None:
        return self._read(lambda c: _users.user_for_token(c, token))

    # -- commit -----------------------------------------------------------------------------------
    def commit(self, req: CommitRequest) -> CommitResult:
        if not isinstance(req, CommitRequest):
            raise TypeError("commit() takes a CommitRequest")
        self._forbid_if_read_only()
        self.reference()
        req_hash = req.request_hash()
        ref = self._norm_ref(req.order_ref)
        charge: dict[str, Any] = {}
        try:
            return self._write(lambda c: self._commit(c, req, req_hash, ref, charge))
        except PaymentDeclined as e:
            # After the rollback, in a transaction of its own: the exceptions inbox lists it.
            if "amount" in charge:
                now = self._clock()
                try:
                    self._write(lambda c: _events.record_declined(c, ref, req.actor, charge["amount"],
                                                                  e.message, now))
                except BackendError:  # the decline is what the agent must see, not this
                    pass
            raise

    def _commit(self, c: sqlite3.Connection, req: CommitRequest, req_hash: str, ref: str,
                charge: dict[str, Any] | None = None) -> CommitResult:
        # 1. Idempotency: the same key answers the same request once, whatever happened since.
        seen = c.execute("SELECT request_hash, response FROM idempotency WHERE key = ?",
                         (req.idempotency_key,)).fetchone()
        if seen is not None:
            if seen[0] != req_hash:
                raise IdempotencyMismatch(
                    "This change was already sent with the same request id but different content; it was "
                    "not applied again. Review the order and confirm the change as a new request.")
            return CommitResult.model_validate_json(seen[1]).model_copy(update={"replayed": True})
        # 2. The order, fresh, inside the write lock; a stale version never overwrites.
        row = self._order_row(c, ref)
        oid, version, cust_id, acct_id = row[0], row[1], row[2], row[3]
        if version != req.expected_version:
            raise VersionConflict(version, order_ref=ref, expected_version=req.expected_version)
        try:
            order = self._order(c, row)
            customer, account = self._party(c, cust_id, acct_id)
        except (ValidationError, UnicodeDecodeError) as e:
            raise StoreCorrupt(f"The stored order {ref} is damaged and cannot be changed "
                               f"({str(e).splitlines()[0]}); nothing was changed.") from None
        head = c.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        now = self._clock()
        ctx = PlanContext(
            policy=self.policy, catalog=self._catalog, locations=self._locations, customer=customer,
            account=account, now=now, ids=_TxnIds(c), actor=req.actor, role=self._role,
            read_only=self._read_only, purpose="commit", reason_code=req.reason_code, note=req.note,
            idempotency_key=req.idempotency_key, audit_seq=seq, audit_prev_hash=prev, templates=self.templates,
        )
        # 3. The engine decides; the store only writes what it decided.
        try:
            p = plan(order, req.amendments, ctx)
        except PricingError as e:
            raise RuleViolations([Violation(e.rule, e.message)]) from None
        if p.violations:
            raise RuleViolations(list(p.violations))
        if p.order_after is None or p.audit is None:  # pragma: no cover - plan() contract
            raise RuleViolations([Violation("session.refused", "the change could not be planned")])
        new = p.order_after
        # 4. Money first: a declined charge raises here and the transaction rolls back.
        capture: str | None = None
        if p.charge is not None:
            pm = next((m for m in account.payment_methods if m.id == p.charge.payment_method_id), None)
            if pm is None:
                raise PaymentDeclined(f"There is no payment method {p.charge.payment_method_id} on the "
                                      "account to charge; nothing was changed.")
            if charge is not None:
                charge["amount"] = p.charge.amount
            capture = self._gateway.charge(pm, p.charge.amount,
                                           f"{req.idempotency_key}/{p.charge.invoice_id}")
        # 5. Write it all.
        total = p.totals_after.grand_total if p.totals_after is not None else None
        if total is None:  # pragma: no cover
            total = price(new, self.policy, self._locations).grand_total
        placed, stage, total_minor, currency, units, pc, pck = order_columns(new, total, self._locations)
        cur = c.execute(
            "UPDATE orders SET version = ?, stage = ?, total_minor = ?, units = ?, postcode = ?, "
            "postcode_key = ?, json = ? WHERE id = ? AND version = ?",
            (new.version, stage, total_minor, units, pc, pck, order_json(new), oid, version))
        if cur.rowcount != 1:  # pragma: no cover - impossible under BEGIN IMMEDIATE
            raise VersionConflict(version, order_ref=ref, expected_version=req.expected_version)
        c.executemany("INSERT OR IGNORE INTO order_skus(sku, placed_at, order_id) VALUES (?, ?, ?)",
                      [(s, placed, oid) for s in {ln.sku for ln in new.lines}])
        for d in p.documents:
            doc_id, kind, amount, created, text = document_columns(d)
            gw = capture if (capture and isinstance(d, Payment) and p.charge is not None
                             and d.invoice_id == p.charge.invoice_id) else None
            c.execute("INSERT INTO documents(doc_id, order_id, account, kind, amount_minor, created_at, "
                      "gateway_ref, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (doc_id, oid, acct_id, kind, amount, created, gw, text))
        if not p.store_credit_issued.is_zero:
            new_acct = account.model_copy(update={"store_credit": account.store_credit + p.store_credit_issued})
            c.execute("UPDATE accounts SET json = ? WHERE id = ?", (new_acct.model_dump_json(), acct_id))
        for n in p.notifications:
            c.execute("INSERT INTO notifications(event_id, channel, order_id, created_at, json) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT(event_id, channel) DO NOTHING",
                      (n.event_id, n.channel, oid, n.created_at.isoformat(), n.model_dump_json()))
        a = p.audit.model_dump(mode="json")
        c.execute(f"INSERT INTO audit({_AUDIT_COLS}) VALUES ({','.join('?' * 14)})",
                  (a["seq"], a["at"], a["actor"], a["role"], a["order_ref"], a["version_before"],
                   a["version_after"], canonical_json(a["command"]), a["reason_code"], a["note"],
                   canonical_json(a["financial_effect"]), a["idempotency_key"], a["prev_hash"], a["hash"]))
        c.execute("INSERT INTO meta(key, value) VALUES ('audit_head', ?) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (f"{a['seq']}:{a['hash']}",))
        result = CommitResult(order=new, documents=list(p.documents), notifications=list(p.notifications),
                              audit_seq=p.audit.seq, delta=p.delta, changes=p.changes, replayed=False)
        c.execute("INSERT INTO idempotency(key, request_hash, order_ref, created_at, response) "
                  "VALUES (?, ?, ?, ?, ?)",
                  (req.idempotency_key, req_hash, ref, now.isoformat(), result.model_dump_json()))
        return result

    # -- returns and refunds (backend/sqlite/returns.py does the work) --------------------------------
    def _returns_env(self) -> "_returns.Env":
        self.reference()
        return _returns.Env(policy=self.policy, catalog=self._catalog, locations=self._locations,
                            now=self._clock(), role=self._role, read_only=self._read_only, gateway=self._gateway,
                            templates=self.templates)

    def return_eligibility(self, ref: str) -> ReturnEligibility:
        env = self._returns_env()
        return self._read(lambda c: _returns.return_eligibility(c, self._norm_ref(ref), env), snapshot=True)

    def list_returns(self, order_ref: str) -> list[ReturnOrder]:
        return self._read(lambda c: _returns.list_returns(c, self._norm_ref(order_ref)), snapshot=True)

    def get_return(self, return_id: str) -> ReturnOrder:
        return self._read(lambda c: _returns.get_return(c, return_id), snapshot=True)

    def create_return(self, req: CreateReturnRequest) -> ReturnResult:
        if not isinstance(req, CreateReturnRequest):
            raise TypeError("create_return() takes a CreateReturnRequest")
        self._forbid_if_read_only()
        env = self._returns_env()
        return self._write(lambda c: _returns.create_return(c, req, env))

    def create_exchange(self, req: CreateExchangeRequest) -> ReturnResult:
        if not isinstance(req, CreateExchangeRequest):
            raise TypeError("create_exchange() takes a CreateExchangeRequest")
        self._forbid_if_read_only()
        env = self._returns_env()
        return self._write(lambda c: _returns.create_exchange(c, req, env))

    def receive_return(self, req: ReturnStepRequest) -> ReturnResult:
        self._forbid_if_read_only()
        env = self._returns_env()
        return self._write(lambda c: _returns.receive_return(c, req, env))

    def verify_return(self, req: VerifyReturnRequest) -> ReturnResult:
        if not isinstance(req, VerifyReturnRequest):
            raise TypeError("verify_return() takes a VerifyReturnRequest")
        self._forbid_if_read_only()
        env = self._returns_env()
        return self._write(lambda c: _returns.verify_return(c, req, env))

    def refund_return(self, req: RefundReturnRequest) -> ReturnResult:
        if not isinstance(req, RefundReturnRequest):
            raise TypeError("refund_return() takes a RefundReturnRequest")
        self._forbid_if_read_only()
        env = self._returns_env()
        return self._write(lambda c: _returns.refund_return(c, req, env))

    def close_return(self, req: ReturnStepRequest) -> ReturnResult:
        self._forbid_if_read_only()
        env = self._returns_env()
        return self._write(lambda c: _returns.close_return(c, req, env))
    # -- placing orders, creating customers (backend/sqlite/placing.py) ---------------------------
    def place_order(self, req: PlaceOrderRequest) -> PlaceOrderResult:
        if not isinstance(req, PlaceOrderRequest):
            raise TypeError("place_order() takes a PlaceOrderRequest")
        self._forbid_if_read_only()
        self.reference()
        return self._write(lambda c: _placing.place_order(
            c, req, policy=self.policy, catalog=self._catalog, locations=self._locations, role=self._role,
            read_only=self._read_only, now=self._clock(), gateway=self._gateway, ids=_TxnIds(c),
            templates=self.templates))

    def create_customer(self, req: NewCustomerRequest) -> Customer:
        if not isinstance(req, NewCustomerRequest):
            raise TypeError("create_customer() takes a NewCustomerRequest")
        return self._write(lambda c: _placing.create_customer(c, req, policy=self.policy, now=self._clock()))

    def find_customers(self, query: str, *, limit: int = 20) -> list[CustomerSummary]:
        return self._read(lambda c: _placing.find_customers(c, query, policy=self.policy, limit=limit),
                          snapshot=True)


    # -- fulfilment events, exceptions inbox, contact notes (backend/sqlite/events.py) -------------
    def _env(self, **kw: Any) -> _events.Env:
        self.reference()
        return _events.Env(policy=self.policy, locations=self._locations, now=self._clock(), role=self._role,
                           templates=self.templates, **kw)

    def ingest_event(self, event: Any) -> EventResult:
        from ...engine.events import EVENT

        if not isinstance(event, (dict, str, bytes)):
            event = EVENT.validate_python(event.model_dump()) if hasattr(event, "model_dump") else event
        else:
            from ...engine.events import parse_event
            event = parse_event(event)
        self._forbid_if_read_only()
        self.reference()
        return self._write(lambda c: _events.ingest(c, event, self._env(ids=_TxnIds(c))))

    def rejected_events(self, *, limit: int = 100, include_resolved: bool = False) -> list[RejectedEvent]:
        return self._read(lambda c: _events.rejected(c, limit, include_resolved), snapshot=True)

    def list_exceptions(self, *, limit: int = 200) -> list[ExceptionItem]:
        env = self._env()
        return self._read(lambda c: _events.list_exceptions(c, env, limit), snapshot=True)

    def add_contact_note(self, ref: str, text: str, *, actor: str) -> TimelineEntry:
        r = self._norm_ref(ref)
        self._forbid_if_read_only()
        if not isinstance(text, str):
            raise TypeError("a note is text")
        self.reference()
        return self._write(lambda c: _events.add_contact_note(c, r, text, actor, self._env()))

    # -- the outbox (backend/sqlite/outbox.py; used by carecli deliver, not part of the contract) ----
    def claim_deliveries(self, transport: str, *, limit: int = 50, claimer: str = "",
                         alive: Callable[[str], bool] | None = None,
                         domain: str = "carecli.invalid") -> list[_outbox.Claim]:
        now = self._clock()
        return self._write(lambda c: _outbox.claim(c, transport, now, limit, claimer, alive, domain))

    def finish_delivery(self, claim: _outbox.Claim, *, error: str = "", target: str = "",
                        retry: _outbox.Backoff | None = None) -> None:
        now = self._clock()
        self._write(lambda c: _outbox.finish(c, claim, now, error=error, target=target,
                                             retry=retry or _outbox.Backoff()))

    def outbox_status(self, *, limit: int = 50) -> _outbox.Status:
        return self._read(lambda c: _outbox.status(c, limit), snapshot=True)

    def requeue_uncertain(self) -> int:
        now = self._clock()
        return self._write(lambda c: _outbox.requeue_uncertain(c, now))


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------

_AUDIT_COLS = ("seq, at, actor, role, order_ref, version_before, version_after, command, reason_code, "
               "note, financial_effect, idempotency_key, prev_hash, hash")


def _audit_dict(r: tuple[Any, ...]) -> dict[str, Any]:
    import json  # here, not at the top: a launch reads no audit record

    return {
        "seq": r[0], "at": r[1], "actor": r[2], "role": r[3], "order_ref": r[4], "version_before": r[5],
        "version_after": r[6], "command": json.loads(r[7]), "reason_code": r[8], "note": r[9],
        "financial_effect": json.loads(r[10]), "idempotency_key": r[11], "prev_hash": r[12], "hash": r[13],
    }


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Check the file is ours and not too new; migrate it if older; WAL."""
    uv = check_version(conn, path)
    if uv < SCHEMA_VERSION:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if uv == 0 and mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        begin_immediate(conn)
        try:
            if user_version(conn) < SCHEMA_VERSION:  # another process may have just done it
                migrate(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        deadline = time.monotonic() + LOCK_DEADLINE_S
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as e:
                if not _is_busy(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


_LIGHT = {"__init__", "open", "close", "__enter__", "__exit__", "meta", "_read", "_forbid_if_read_only",
          "_write", "search_orders", "ping", "recover", "load_files"}


def _with_engine(fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        if not _ENGINE_LOADED:
            _load_engine()
        return fn(*args, **kwargs)
    return call


for _name, _member in list(vars(SqliteStore).items()):
    if _name in _LIGHT:
        continue
    if inspect.isfunction(_member):
        setattr(SqliteStore, _name, _with_engine(_member))
    elif isinstance(_member, staticmethod):
        setattr(SqliteStore, _name, staticmethod(_with_engine(_member.__func__)))
del _name, _member


__all__ = ["SqliteStore", "map_error", "connect_rw", "connect_ro", "begin_immediate"]
