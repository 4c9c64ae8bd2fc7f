"""Bulk loading: a whole business (catalog, stores, customers, orders) into a new store file.

A store is built into a temporary file beside the target (``store.db.building-<pid>``) with the
settings of a bulk load — ``journal_mode=OFF``, ``synchronous=OFF``, an exclusive lock, the secondary
indexes and full-text triggers set aside — and only when it is complete (indexes built, search index
filled, ``ANALYZE`` run, switched to WAL, fsynced) is it renamed over the target. A build that dies half
way leaves a ``.building-…`` file that nothing opens, never a half-built store under the real name.

Generating a million demo orders and turning them into rows costs more than inserting them, so a
large demo is generated and converted by worker processes (one per core), each taking every n-th
run of blocks of the demo's plan (:func:`carecli.demo.plan`) and sending batches of ready rows
(JSON text included) to this process, which does nothing but ``executemany`` — in plan order, so the
store is the same whatever the number of workers.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import queue as queue_mod
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
BLOCK_ORDERS = 20_000  # orders per unit of work handed to a worker (parallel demo build)
QUEUE_BATCHES = 6  # batches a worker may have waiting for the writer before it waits itself


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
    """Engine models → rows, with the customer and order row ids assigned here (so it can run in another
    process, on any run of the business, given the ids its first customer and order have). Documents
    get their row ids from the store, in the order they are written (their id in the row is None)."""

    CHECK_EVERY = 97  # price one order in this many and compare with its ledger total

    def __init__(self, policy: Policy, locations: Mapping[str, PickupLocation], first_customer: int = 1,
                 first_order: int = 1) -> None:
        self.policy = policy
        self.trust_ledger = True
        self.locations = dict(locations)
        self.next_customer = first_customer
        self.next_order = first_order
        self.documents = 0
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
            n_docs = 0
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
                docs_out((None, ident, oid, cid, kind, minor, d.created_at.isoformat(),
                          d.model_dump_json(warnings=False)))
                n_docs += 1
                note(ident)
            self.documents += n_docs
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

    def add_stored(self, customer: Any, orders: Sequence[Any], model: Callable[[Any], Order]) -> None:
        """Rows for one customer of the demo, their account and orders, as ``demo.stored`` wrote them
        (``StoredCustomer``, ``StoredOrder``: JSON text and columns made without the models).

        One order in CHECK_EVERY is built again as models (``model(stored_order)``): its JSON must be
        byte for byte ``model_dump_json``'s (else the build fails: the writer is wrong), and it is
        priced to prove its ledger total, as :meth:`add` does; after a price that differs from the
        ledger, every later order is built and priced."""
        b = self.batch
        cid = self.next_customer
        self.next_customer += 1
        pk, pn = phone_keys(customer.phone)
        b.customers.append((cid, customer.id, customer.name, customer.email, email_key(customer.email),
                            pk, pn, customer.json))
        b.accounts.append((cid, customer.account_id, cid, customer.currency, customer.account_json))
        note = self._note_id
        note(customer.id)
        max_ids = self.max_ids
        docs_out = b.documents.append
        skus_out = b.skus.append
        for o in orders:
            oid = self.next_order
            self.next_order += 1
            for ident, kind, minor, created, text in o.documents:
                docs_out((None, ident, oid, cid, kind, minor, created, text))
                # _note_id, inlined: the counters of ids of the shape KIND-digits
                k, _, num = ident.partition("-")
                if num.isdigit() and k.isalpha():
                    n = int(num)
                    if n > max_ids.get(k, 0):
                        max_ids[k] = n
            self.documents += len(o.documents)
            note(o.ref)
            total = o.total
            if not self.trust_ledger or oid % self.CHECK_EVERY == 0:
                m = model(o)
                if order_json(m) != o.json or [d.model_dump_json(warnings=False) for d in m.documents] != [
                        d[4] for d in o.documents]:
                    raise RuntimeError(f"{o.ref}: the demo's stored JSON differs from its models'")
                total = self._total(m, total)
            placed = to_micros(o.placed_at)
            pc = o.postcode
            b.orders.append((oid, o.ref, o.version, cid, cid, placed, o.stage, total, o.currency, o.units,
                             pc, postcode_key(pc), o.json))
            for sku in o.skus:
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


def _batches_in_process(stream: Business, conv: Converter) -> Iterator[tuple]:
    for customer, account, orders in stream:
        conv.add(customer, account, orders)
        if conv.batch.n_orders >= BATCH_ORDERS:
            yield conv.take()
    yield conv.take()


def _demo_batches_in_process(orders: int, seed: int, policy: Policy | None, conv: Converter) -> Iterator[tuple]:
    """The demo business as rows, generated in this process (what one worker does for every unit)."""
    from ... import demo

    plan = demo.plan(orders, seed)
    part = demo.PartGenerator(seed, policy=policy)
    for sc, os_ in part.stored(plan.scenarios, plan.blocks):
        conv.add_stored(sc, os_, part.model)
        if conv.batch.n_orders >= BATCH_ORDERS:
            yield conv.take()
    yield conv.take()


Unit = tuple[int, tuple[Any, ...]]
"""A unit of work: (how many named scenarios it starts with, the plan's blocks it holds)."""


def work_units(plan: Any, block: int) -> list[Unit]:
    """Consecutive runs of a demo plan's blocks of about ``block`` orders each (at least one block)."""
    units: list[Unit] = []
    run: list[Any] = []
    scenarios = plan.scenarios
    n = scenarios
    for blk in plan.blocks:
        run.append(blk)
        n += blk.orders
        if n >= block:
            units.append((scenarios, tuple(run)))
            run, n, scenarios = [], 0, 0
    if run or scenarios:
        units.append((scenarios, tuple(run)))
    return units


def _worker_main(out: Any, units: list[Unit], seed: int, policy: Policy | None, batch: int) -> None:
    """A worker process (spawned): generate its units of the demo and send them as rows, in order.

    Per unit: ``("rows", batch)`` messages, then ``("end", (max ids, customers, orders, documents))``;
    after the last unit ``("cpu", seconds)``; on a failure ``("error", traceback)``. ``out`` is a
    bounded queue: a worker that gets far ahead of the writer waits.
    """
    import traceback

    from ... import demo
    from ...demo.scenarios import FIRST_REF

    try:
        pol = policy or default_policy()
        ref = demo.reference()
        locmap = {loc.id: loc for loc in ref.locations}
        part = demo.PartGenerator(seed, policy=pol, ref=ref)
        model = part.model
        gc.freeze()  # the modules and reference data: never garbage, never scanned again
        # Every order allocates hundreds of objects and almost none are cyclic: collecting the young
        # generation every 10,000 allocations rather than 700 saves ~10 % of the worker's CPU.
        gc.set_threshold(10_000)
        for scenarios, blocks in units:
            first_c = 1 if scenarios else blocks[0].first_no
            first_o = 1 if scenarios else blocks[0].first_ref - FIRST_REF + 1
            conv = Converter(pol, locmap, first_c, first_o)
            for sc, os_ in part.stored(scenarios, blocks):
                conv.add_stored(sc, os_, model)
                if conv.batch.n_orders >= batch:
                    out.put(("rows", conv.take()))
            out.put(("rows", conv.take()))
            out.put(("end", (conv.max_ids, conv.next_customer - first_c, conv.next_order - first_o,
                             conv.documents)))
        out.put(("cpu", time.process_time()))
    except BaseException as e:  # noqa: BLE001 - reported to the writer
        out.put(("error", "".join(traceback.format_exception(e))))
    finally:
        out.close()
        out.join_thread()  # everything put is in the pipe before the process ends


def _batches_from_workers(orders: int, seed: int, policy: Policy | None, block: int, workers: int,
                          result: dict[str, Any]) -> Iterator[tuple]:
    """Batches of rows of the demo business, in plan order, from ``workers`` spawned processes.

    Unit ``u`` of the plan goes to worker ``u % workers``; the writer takes the units in order, so the
    rows (and the ids the store gives the documents) are the same as a build in one process.
    """
    from ... import demo

    units = work_units(demo.plan(orders, seed), block)
    workers = max(1, min(workers, len(units)))
    ctx = mp.get_context("spawn")
    queues = [ctx.Queue(maxsize=QUEUE_BATCHES) for _ in range(workers)]
    procs = [ctx.Process(target=_worker_main, args=(queues[w], units[w::workers], seed, policy, BATCH_ORDERS),
                         name=f"carecli-demo-worker-{w}", daemon=True) for w in range(workers)]
    for proc in procs:
        proc.start()

    def get(w: int) -> tuple[str, Any]:
        while True:
            try:
                kind, data = queues[w].get(timeout=1.0)
            except queue_mod.Empty:
                if not procs[w].is_alive():
                    try:
                        kind, data = queues[w].get(timeout=1.0)
                    except queue_mod.Empty:
                        raise RuntimeError(f"demo worker {w} ended without finishing") from None
                else:
                    continue
            if kind == "error":
                raise RuntimeError(f"demo worker {w} failed:\n{data}")
            return kind, data

    max_ids: dict[str, int] = {}
    customers = n_orders = documents = 0
    finished = False
    try:
        for u in range(len(units)):
            w = u % workers
            while True:
                kind, data = get(w)
                if kind == "rows":
                    yield data
                    continue
                ids_seen, c, o, d = data
                customers, n_orders, documents = customers + c, n_orders + o, documents + d
                for k, v in ids_seen.items():
                    max_ids[k] = max(v, max_ids.get(k, 0))
                break
        cpu = 0.0
        for w in range(workers):
            cpu += get(w)[1]
        result.update(customers=customers, orders=n_orders, documents=documents, max_ids=max_ids,
                      cpu={f"workers ({workers})": cpu})
        finished = True
    finally:
        for proc in procs:
            # After a failure a worker may be waiting on a full queue that nobody will read.
            proc.join(timeout=5 if finished else 0.1)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for q in queues:
            q.cancel_join_thread()
            q.close()


def load_business(
    path: str | os.PathLike[str], *, variants: Sequence[Variant], locations: Sequence[PickupLocation],
    stream: Business | None = None, demo_args: tuple[int, int, int, int] | None = None,
    expected_orders: int | None = None, meta: Mapping[str, str] | None = None, policy: Policy | None = None,
    progress: Progress | None = None, finish: Callable[[sqlite3.Connection], Any] | None = None,
) -> BuildStats:
    """Build a complete store at ``path`` (replacing any file there, atomically) from a business.

    Give either ``stream`` (converted in this process) or ``demo_args`` = (orders, seed, block, workers):
    the demo business generated and converted by worker processes while this one writes (see
    :func:`_batches_from_workers`), or with ``workers`` 0 in this process.
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
        elif demo_args is not None and demo_args[3] == 0:
            conv = Converter(policy, locmap)
            batches = _demo_batches_in_process(demo_args[0], demo_args[1], policy, conv)
        else:
            assert demo_args is not None
            conv = None
            batches = _batches_from_workers(demo_args[0], demo_args[1], policy, demo_args[2], demo_args[3],
                                            result)
        t_phase = time.perf_counter()
        cpu0 = time.process_time()
        stats.phases["setup"] = t_phase - t0
        done = 0
        gc_was = gc.isenabled()
        gc.disable()  # rows are tuples of text: nothing to collect, and millions to scan
        try:
            for batch in batches:
                done += _write_batch(conn, batch)
                batch = None
                if progress:
                    progress("orders", done, max(total, done))
        finally:
            if gc_was:
                gc.enable()
        if conv is not None:
            result = {"max_ids": conv.max_ids, "customers": conv.next_customer - 1,
                      "orders": conv.next_order - 1, "documents": conv.documents}
        stats.orders, stats.customers, stats.documents = result["orders"], result["customers"], result["documents"]
        for k, v in result.get("cpu", {}).items():
            stats.phases[f"cpu {k}"] = v
        key = "cpu writer" if conv is None else "cpu (one process)"
        stats.phases[key] = time.process_time() - cpu0

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
               parallel: bool | None = None, block: int = BLOCK_ORDERS,
               workers: int | None = None) -> BuildStats:
    """Build the deterministic demo business (:mod:`carecli.demo`) into a store at ``path``.

    ``parallel`` (default: from 50,000 orders on a host with more than one core) generates it in
    ``workers`` processes (default: one per core, two to four), ``block`` orders per unit of work; the
    store is the same either way, whatever the number of workers.
    """
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

    if parallel is None:
        parallel = orders >= 50_000 and (os.cpu_count() or 1) > 1
    if workers is None:
        # One per core; past four the writer (one core's worth of inserts) is what they wait for.
        workers = min(4, max(2, os.cpu_count() or 1))
    if workers < 1:
        raise ValueError("a parallel build needs at least one worker")
    demo_args = (orders, seed, block, workers if parallel else 0)

    def exceptions(conn: sqlite3.Connection) -> None:
        from .events import demo_exception_rows

        scenarios = getattr(demo, "SCENARIOS", {})
        demo_exception_rows(conn, scenarios.get("declining_card"), scenarios.get("dispatched"),
                            getattr(demo, "DEMO_NOW", datetime.now(timezone.utc)))

    stats = load_business(path, variants=list(ref.variants), locations=list(ref.locations),
                          expected_orders=orders, meta=meta, policy=policy, progress=progress,
                          finish=exceptions, demo_args=demo_args)
    _demo_return_in_progress(path, policy)
    stats.bytes = Path(path).stat().st_size
    return stats


def _demo_return_in_progress(path: str | os.PathLike[str], policy: Policy | None) -> None:
    """One return waiting for verification, made through the store as an agent would: the tee of the
    returns scenario (ON-100020), created and received on the demo's clock."""
    from ... import demo
    from ...engine.returns import ReturnLineRequest
    from ..contract import CreateReturnRequest, NotFound, ReturnStepRequest
    from .store import SqliteStore, connect_rw

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
    # Its messages are the demo's history, told to the customer before the store was handed over, as
    # every other order's were: they are not left in the outbox for a deliverer to send now.
    conn = connect_rw(Path(path))
    try:
        with conn:
            conn.execute("UPDATE notifications SET sent_at = ? WHERE sent_at IS NULL", (now.isoformat(),))
    finally:
        conn.close()
