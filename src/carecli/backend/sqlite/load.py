"""Bulk loading: a whole business (catalog, stores, customers, orders) into a new store file.

A store is built into a temporary file beside the target (``store.db.building-<pid>``) with the
settings of a bulk load — ``journal_mode=OFF``, ``synchronous=OFF``, an exclusive lock, the secondary
indexes and full-text triggers set aside — and only when it is complete (indexes built, search index
filled, ``ANALYZE`` run, switched to WAL, fsynced) is it renamed over the target. A build that dies half
way leaves a ``.building-…`` file that nothing opens, never a half-built store under the real name.

Turning a million engine orders into rows costs more than inserting them, so by default the
conversion runs in a child process that streams batches of ready rows to the parent, which does
nothing but ``executemany``: the two cores of a small host work at once.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ...engine.model import BillingAccount, Customer, Order, PickupLocation, Variant
from ...engine.policy import Policy, default_policy
from ...engine.pricing import PricingError, price
from ...engine.model import order_stage
from ...engine.money import minor_units
from .rows import order_json, order_total
from .schema import SCHEMA_VERSION, migrate, secondary_objects
from .search import email_key, phone_keys, postcode_key, to_micros

_SCALE: dict[str, int] = {}

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase "orders" (done/total orders), then "indexes", "search",
"finishing" (done/total steps)."""

Business = Iterable[tuple[Customer, BillingAccount, Sequence[Order]]]

BATCH_ORDERS = 5000  # orders per batch sent to the writer (and per transaction)
BLOCK_ORDERS = 20_000  # orders per forked serialiser (parallel demo build)


@dataclass
class BuildStats:
    path: Path
    orders: int = 0
    customers: int = 0
    documents: int = 0
    seconds: float = 0.0
    bytes: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase

    def describe(self) -> str:
        mb = self.bytes / 1_000_000
        return (f"{self.orders:,} orders, {self.customers:,} customers, {self.documents:,} documents: "
                f"{mb:,.1f} MB in {self.seconds:,.1f} s → {self.path}")


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------


class _Batch:
    __slots__ = ("customers", "accounts", "orders", "documents", "skus", "n_orders")

    def __init__(self) -> None:
        self.customers: list[tuple] = []
        self.accounts: list[tuple] = []
        self.orders: list[tuple] = []
        self.documents: list[tuple] = []
        self.skus: list[tuple] = []
        self.n_orders = 0

    def as_tuple(self) -> tuple:
        return (self.customers, self.accounts, self.orders, self.documents, self.skus, self.n_orders)


class Converter:
    """Engine models → rows, with the integer row ids assigned here (so it can run in another process)."""

    CHECK_EVERY = 97  # price one order in this many and compare with its ledger total

    def __init__(self, policy: Policy, locations: Mapping[str, PickupLocation], first_customer: int = 1,
                 first_order: int = 1, first_doc: int = 1) -> None:
        self.policy = policy
        self.trust_ledger = True
        self.locations = dict(locations)
        self.next_customer = first_customer
        self.next_order = first_order
        self.next_doc = first_doc
        self.max_ids: dict[str, int] = {}
        self.batch = _Batch()

    def _note_id(self, ident: str) -> None:
        kind, sep, num = ident.partition("-")
        if sep and num.isdigit() and kind.isalpha():
            n = int(num)
            if n > self.max_ids.get(kind, 0):
                self.max_ids[kind] = n

    def add(self, customer: Customer, account: BillingAccount, orders: Sequence[Order]) -> None:
        """Rows for one customer, their account and orders. Written for speed: a million orders go
        through here; ``rows.order_columns`` and ``rows.document_columns`` are the plain versions (used
        by commits) and ``tests/backend/test_load.py`` checks both give the same rows."""
        b = self.batch
        cid = self.next_customer
        self.next_customer += 1
        pk, pn = phone_keys(customer.phone)
        b.customers.append((cid, customer.id, customer.name, customer.email, email_key(customer.email), pk, pn,
                            customer.model_dump_json(warnings=False)))
        b.accounts.append((cid, account.id, cid, account.currency, account.model_dump_json(warnings=False)))
        self._note_id(customer.id)  # the CUS counter: customers created later take the next numbers
        docs_out = b.documents.append
        skus_out = b.skus.append
        note = self._note_id
        locations = self.locations
        for order in orders:
            oid = self.next_order
            self.next_order += 1
            cur = order.currency
            mu = _SCALE.get(cur)
            if mu is None:
                mu = _SCALE[cur] = minor_units(cur)
            # documents, and the ledger total in minor units on the way
            ledger = 0
            invoiced = False
            did = self.next_doc
            for d in order.documents:
                kind = d.doc
                if kind == "INVOICE" or kind == "CREDIT_MEMO":
                    minor = int(d.total.amount.scaleb(mu))
                    if kind == "INVOICE":
                        ledger += minor
                        invoiced = True
                    elif d.type != "APPEASEMENT":
                        ledger -= minor
                else:
                    minor = int(d.amount.amount.scaleb(mu))
                ident = d.id
                docs_out((did, ident, oid, cid, kind, minor, d.created_at.isoformat(),
                          d.model_dump_json(warnings=False)))
                did += 1
                note(ident)
            self.next_doc = did
            note(order.ref)  # the ON counter: orders placed later take the next refs
            for disc in order.discounts:
                note(disc.id)
            total = ledger if invoiced else None
            if total is None or not self.trust_ledger or oid % self.CHECK_EVERY == 0:
                total = self._total(order, total)
            f = order.fulfilment
            if f.kind == "HOME_DELIVERY":
                pc = f.address.postcode
            else:
                loc = locations.get(f.location_id)
                pc = loc.address.postcode if loc else ""
            units = 0
            skus = set()
            for ln in order.lines:
                q = ln.ordered - ln.cancelled
                if q > 0:
                    units += q
                skus.add(ln.sku)
            placed = to_micros(order.placed_at)
            b.orders.append((oid, order.ref, order.version, cid, cid, placed, order_stage(order).value, total,
                             cur, units, pc, postcode_key(pc), order_json(order)))
            for sku in skus:
                skus_out((sku, placed, oid))
            b.n_orders += 1

    def _total(self, order: Order, ledger: int | None) -> int:
        """The grand total in minor units. Pricing every order costs more than the rest of its
        conversion, so the ledger total (Σ invoices − Σ non-appeasement credit memos, equal to the
        price for a business whose ledger is complete) is used, and one order in CHECK_EVERY is priced
        to prove it; at the first difference every later order is priced."""
        if ledger is not None and self.trust_ledger:
            try:
                if price(order, self.policy, self.locations).grand_total.minor == ledger:
                    return ledger
            except PricingError:
                return ledger
            self.trust_ledger = False
        return order_total(order, self.policy, self.locations).minor

    def take(self) -> tuple:
        out = self.batch.as_tuple()
        self.batch = _Batch()
        return out


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------

_INSERTS = (
    "INSERT INTO customers(id, customer_id, name, email, email_key, phone_key, phone_nat, json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO accounts(id, account_id, customer, currency, json) VALUES (?, ?, ?, ?, ?)",
    "INSERT INTO orders(id, ref, version, customer, account, placed_at, stage, total_minor, currency, units, "
    "postcode, postcode_key, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO documents(id, doc_id, order_id, account, kind, amount_minor, created_at, json) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT OR IGNORE INTO order_skus(sku, placed_at, order_id) VALUES (?, ?, ?)",
)


def _write_batch(conn: sqlite3.Connection, batch: tuple) -> int:
    conn.execute("BEGIN")
    for sql, rows in zip(_INSERTS, batch[:5]):
        if rows:
            conn.executemany(sql, rows)
    conn.execute("COMMIT")
    return batch[5]


def _advance(ids: tuple[int, int, int], items: Sequence[tuple[Any, Any, Sequence[Order]]]) -> tuple[int, int, int]:
    c, o, d = ids
    for _, _, orders in items:
        c += 1
        o += len(orders)
        d += sum(len(x.documents) for x in orders)
    return c, o, d


def _serialise(send: Any, items: list, ids: tuple[int, int, int], policy: Policy,
               locations: Mapping[str, PickupLocation]) -> None:
    """In a forked serialiser: convert one block of the business and send it on its lane, in batches."""
    conv = Converter(policy, locations, *ids)
    for customer, account, orders in items:
        conv.add(customer, account, orders)
        if conv.batch.n_orders >= BATCH_ORDERS:
            send.send(("rows", conv.take()))
    send.send(("rows", conv.take()))
    send.send(("end", (conv.max_ids, time.process_time())))


def _generator_main(control: Any, lanes: list, orders: int, seed: int, policy: Policy | None,
                    block: int) -> None:
    """The generator process (spawned, so single-threaded and safe to fork).

    It runs the demo generator and, every ``block`` orders, forks a serialiser that inherits the
    block's models copy-on-write — no pickling of models — converts them to rows and streams them to
    the writer on its own lane (pipe), while this process goes on generating. Block ``b`` uses lane
    ``b % len(lanes)``, whose previous serialiser has finished before the next one starts, so at most
    one serialiser per lane is alive and messages never interleave. Generator, serialisers and writer
    share the cores; the writer reads the blocks in order, so row ids are the same as a serial build's.
    """
    import traceback

    from ... import demo

    pol = policy or default_policy()
    locmap = {loc.id: loc for loc in demo.reference().locations}
    ids = (1, 1, 1)
    children: dict[int, tuple[int, list]] = {}  # lane -> (pid of its serialiser, the block it holds)
    n_block = 0

    def wait(lane: int) -> None:
        pid, block_items = children.pop(lane, (0, None))
        if pid:
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise RuntimeError("a serialiser process failed (see the message before this one)")
        # Only now let go of the block: while the serialiser ran, this process did not touch its
        # objects, so the serialiser (on the other core) paid for the copy-on-write copies, and the
        # pages it did not copy are this process's alone again — freeing them copies nothing.
        del block_items

    def fork(items: list, ids: tuple[int, int, int]) -> None:
        nonlocal n_block
        lane = n_block % len(lanes)
        wait(lane)
        # Keep the collector off the block: a collection writes to every object it visits, which
        # would copy their pages in both processes.
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the serialiser
            gc.disable()
            code = 0
            try:
                _serialise(lanes[lane], items, ids, pol, locmap)
            except BaseException as e:  # noqa: BLE001 - reported to the writer
                lanes[lane].send(("error", "".join(traceback.format_exception(e))))
                code = 1
            finally:
                os._exit(code)
        gc.unfreeze()
        children[lane] = (pid, items)
        control.send(("block", n_block))
        n_block += 1

    try:
        items: list = []
        n = 0
        for dc, os_ in demo.generate(orders, seed, policy=pol):
            items.append((dc.customer, dc.account, os_))
            n += len(os_)
            if n >= block:
                fork(items, ids)
                ids = _advance(ids, items)
                items, n = [], 0
        if items:
            fork(items, ids)
            ids = _advance(ids, items)
            items = []
        for lane in list(children):
            wait(lane)
        control.send(("done", (ids[0] - 1, ids[1] - 1, ids[2] - 1, time.process_time())))
    except BaseException as e:  # noqa: BLE001 - reported to the writer
        control.send(("error", "".join(traceback.format_exception(e))))
    finally:
        control.close()
        for lane in lanes:
            lane.close()
        os._exit(0)  # skip tearing down a heap of models nobody needs


def _batches_in_process(stream: Business, conv: Converter) -> Iterator[tuple]:
    for customer, account, orders in stream:
        conv.add(customer, account, orders)
        if conv.batch.n_orders >= BATCH_ORDERS:
            yield conv.take()
    yield conv.take()


def _batches_from_generator(orders: int, seed: int, policy: Policy | None, block: int,
                            result: dict[str, Any], lanes: int = 2) -> Iterator[tuple]:
    ctx = mp.get_context("spawn")
    c_recv, c_send = ctx.Pipe(duplex=False)
    pipes = [ctx.Pipe(duplex=False) for _ in range(lanes)]
    proc = ctx.Process(target=_generator_main,
                       args=(c_send, [w for _, w in pipes], orders, seed, policy, block),
                       name="carecli-demo-generator")
    proc.start()
    c_send.close()
    for _, w in pipes:
        w.close()
    max_ids: dict[str, int] = {}
    cpu_serialisers = 0.0

    def recv(conn: Any, what: str) -> tuple[str, Any]:
        try:
            return conn.recv()
        except EOFError:
            raise RuntimeError(f"the demo {what} ended without finishing") from None

    try:
        while True:
            kind, payload = recv(c_recv, "generator")
            if kind == "done":
                result["customers"], result["orders"], result["documents"], cpu = payload
                result["max_ids"] = max_ids
                result["cpu"] = {"generator": cpu, "serialisers": cpu_serialisers}
                return
            if kind == "error":
                raise RuntimeError(f"the demo generator failed:\n{payload}")
            lane = pipes[payload % lanes][0]
            while True:
                kind, data = recv(lane, "serialiser")
                if kind == "rows":
                    yield data
                elif kind == "end":
                    ids_seen, cpu = data
                    cpu_serialisers += cpu
                    for k, v in ids_seen.items():
                        max_ids[k] = max(v, max_ids.get(k, 0))
                    break
                else:
                    raise RuntimeError(f"a demo serialiser failed:\n{data}")
    finally:
        c_recv.close()
        for r, _ in pipes:
            r.close()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join()


def load_business(
    path: str | os.PathLike[str], *, variants: Sequence[Variant], locations: Sequence[PickupLocation],
    stream: Business | None = None, demo_args: tuple[int, int, int] | None = None,
    expected_orders: int | None = None, meta: Mapping[str, str] | None = None, policy: Policy | None = None,
    progress: Progress | None = None, finish: Callable[[sqlite3.Connection], Any] | None = None,
) -> BuildStats:
    """Build a complete store at ``path`` (replacing any file there, atomically) from a business.

    Give either ``stream`` (converted in this process) or ``demo_args`` = (orders, seed, block): the demo
    business generated and converted in other processes while this one writes (see
    :func:`_generator_main`).
    """
    if (stream is None) == (demo_args is None):
        raise ValueError("give exactly one of stream and demo_args")
    t0 = time.perf_counter()
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.building-{os.getpid()}")
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    policy = policy or default_policy()
    locmap = {loc.id: loc for loc in locations}
    total = expected_orders or 0
    stats = BuildStats(path=target)
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.execute("PRAGMA page_size = 8192")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -1048576")  # 1 GiB for the index builds
        conn.execute("PRAGMA threads = 2")  # CREATE INDEX sorts on two threads
        conn.execute("BEGIN")
        migrate(conn)
        conn.execute("COMMIT")
        aside = secondary_objects(conn)
        for typ, name, _ in aside:
            conn.execute(f"DROP {typ.upper()} {name}")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO variants(sku, json) VALUES (?, ?)",
                         [(v.sku, v.model_dump_json()) for v in variants])
        conn.executemany("INSERT INTO locations(location_id, json) VALUES (?, ?)",
                         [(loc.id, loc.model_dump_json()) for loc in locations])
        conn.execute("COMMIT")

        result: dict[str, Any] = {}
        if stream is not None:
            conv = Converter(policy, locmap)
            batches: Iterator[tuple] = _batches_in_process(stream, conv)
        else:
            assert demo_args is not None
            conv = None
            batches = _batches_from_generator(demo_args[0], demo_args[1], policy, demo_args[2], result)
        t_phase = time.perf_counter()
        cpu0 = time.process_time()
        stats.phases["setup"] = t_phase - t0
        done = 0
        for batch in batches:
            done += _write_batch(conn, batch)
            if progress:
                progress("orders", done, max(total, done))
        if conv is not None:
            result = {"max_ids": conv.max_ids, "customers": conv.next_customer - 1,
                      "orders": conv.next_order - 1, "documents": conv.next_doc - 1}
        stats.orders, stats.customers, stats.documents = result["orders"], result["customers"], result["documents"]
        for k, v in result.get("cpu", {}).items():
            stats.phases[f"cpu {k}"] = v
        stats.phases["cpu writer (orders)"] = time.process_time() - cpu0

        now_ = time.perf_counter()
        stats.phases["orders"], t_phase = now_ - t_phase, now_
        # Indexes after the data: one sort per index instead of a million random inserts.
        indexes = [a for a in aside if a[0] == "index"]
        for i, (_, _, sql) in enumerate(indexes):
            conn.execute(sql)
            if progress:
                progress("indexes", i + 1, len(indexes))
        now_ = time.perf_counter()
        stats.phases["indexes"], t_phase = now_ - t_phase, now_
        if progress:
            progress("search", 0, 1)
        conn.execute("INSERT INTO customer_names(customer_names) VALUES ('rebuild')")
        for typ, _, sql in aside:
            if typ == "trigger":
                conn.execute(sql)
        now_ = time.perf_counter()
        stats.phases["search"], t_phase = now_ - t_phase, now_
        if progress:
            progress("search", 1, 1)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO counters(kind, next) VALUES (?, ?)",
                         [(k, n + 1) for k, n in sorted(result["max_ids"].items())])
        info = {
            "schema_version": str(SCHEMA_VERSION),
            "built_at": datetime.now(timezone.utc).isoformat(),
            "orders": str(stats.orders),
            "customers": str(stats.customers),
            **(meta or {}),
        }
        conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", sorted(info.items()))
        if finish is not None:  # e.g. the demo's exceptions (events, a declined charge)
            finish(conn)
        conn.execute("COMMIT")
        if progress:
            progress("finishing", 0, 2)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA optimize")
        conn.execute("PRAGMA locking_mode = NORMAL")
        conn.execute("PRAGMA journal_mode = WAL")  # persistent in the file; also releases the lock
        conn.execute("PRAGMA synchronous = FULL")
        problems = conn.execute("PRAGMA quick_check").fetchone()[0] if stats.orders <= 100_000 else "ok"
        if problems != "ok":
            raise RuntimeError(f"the new store failed its check: {problems}")
        stats.meta = info
    except BaseException:
        conn.close()
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        raise
    conn.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(tmp, target)
    dfd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    if progress:
        progress("finishing", 2, 2)
    stats.phases["finishing"] = time.perf_counter() - t_phase
    stats.seconds = time.perf_counter() - t0
    stats.bytes = target.stat().st_size
    return stats


def build_demo(path: str | os.PathLike[str], orders: int = 10_000, seed: int = 7,
               progress: Progress | None = None, policy: Policy | None = None,
               parallel: bool | None = None, block: int = BLOCK_ORDERS) -> BuildStats:
    """Build the deterministic demo business (:mod:`carecli.demo`) into a store at ``path``."""
    from ... import demo

    if orders < 1:
        raise ValueError("a demo store needs at least one order")
    ref = demo.reference()
    meta = {
        "demo_seed": str(seed),
        "demo_orders": str(orders),
        "seed_case_ref": str(getattr(demo, "SEED_CASE_REF", "")),
        "demo_now": getattr(demo, "DEMO_NOW", datetime.now(timezone.utc)).isoformat(),
    }

    def stream() -> Business:
        for dc, os_ in demo.generate(orders, seed, policy=policy):
            yield dc.customer, dc.account, os_

    if parallel is None:
        parallel = orders >= 50_000 and (os.cpu_count() or 1) > 1 and hasattr(os, "fork")
    kwargs: dict[str, Any] = {"demo_args": (orders, seed, block)} if parallel else {"stream": stream()}

    def exceptions(conn: sqlite3.Connection) -> None:
        from .events import demo_exception_rows

        scenarios = getattr(demo, "SCENARIOS", {})
        demo_exception_rows(conn, scenarios.get("declining_card"), scenarios.get("dispatched"),
                            getattr(demo, "DEMO_NOW", datetime.now(timezone.utc)))

    stats = load_business(path, variants=list(ref.variants), locations=list(ref.locations),
                          expected_orders=orders, meta=meta, policy=policy, progress=progress,
                          finish=exceptions, **kwargs)
    _demo_return_in_progress(path, policy)
    stats.bytes = Path(path).stat().st_size
    return stats


def _demo_return_in_progress(path: str | os.PathLike[str], policy: Policy | None) -> None:
    """One return waiting for verification, made through the store as an agent would: the tee of the
    returns scenario (ON-100020), created and received on the demo's clock."""
    from ... import demo
    from ...engine.returns import ReturnLineRequest
    from ..contract import CreateReturnRequest, NotFound, ReturnStepRequest
    from .store import SqliteStore

    ref = demo.SCENARIOS.get("return_rules_mix")
    now = demo.DEMO_NOW
    with SqliteStore.open(path, policy=policy, clock=lambda: now) as store:
        try:
            order = store.get_order(ref).order
        except NotFound:
            return  # a demo too small to hold the scenarios
        tee = next((ln for ln in order.lines if ln.sku.startswith("TEE-")), None)
        if tee is None:  # pragma: no cover - the scenario's shape
            return
        ro = store.create_return(CreateReturnRequest(
            order_ref=ref, expected_version=order.version, idempotency_key="demo-return-create", actor="demo",
            note="Customer dropped the parcel at the post office",
            lines=(ReturnLineRequest(line_id=tee.line_id, quantity=1, reason_code="CHANGED_MIND",
                                     condition="unopened", comment="too big"),))).return_order
        store.receive_return(ReturnStepRequest(return_id=ro.id, idempotency_key="demo-return-receive",
                                               actor="demo"))
