"""Search speed on a large store: each query kind through the backend, next to the bare SQLite query.

Builds (or reuses) a demo store of ``--orders`` orders (1,000,000 by default), samples real values
from it (refs, e-mails, phones, postcodes, skus, names), and times, in the same run and interleaved:

* ``store``: ``SqliteStore.search_orders(text)`` — reading the text, every query it runs, merging,
  building the ``SearchPage`` of pydantic summaries;
* ``bare``: one hand-written SQL statement on the same index that returns the same page of rows,
  executed and fetched with ``sqlite3`` and nothing else (for a name reading of more than 500
  customers, which the store lists newest customer first, the bare query reads the index the same way).

Kinds: one per reading, and ``prefix`` — the first one to three letters of a surname, what an agent has
typed a moment after starting. Name and prefix samples are texts the store reads as a name only: a
text that is also the start of skus ("Sh", "Bo") runs the sku reading as well, which one bare query
does not (the sku kind measures that reading).

Prints p50 and p95 per kind for both and the ratio of the p95s. Targets (issue 3): p95 ≤ 20 ms and
≤ 3× the bare query.

    .venv/bin/python benchmarks/bench_search.py [--orders N] [--store PATH] [--repeat N] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from carecli.backend.sqlite import SqliteStore  # noqa: E402
from carecli.backend.sqlite.load import build_demo  # noqa: E402
from carecli.backend.sqlite.search import (  # noqa: E402
    COLS, MAX_RANKED, email_key, fts_query, name_tokens, phone_keys, read)

TARGET_P95_MS = 20.0
TARGET_RATIO = 3.0
PAGE = 50

_J = "JOIN customers c ON c.id = o.customer"
BARE = {
    "ref": f"SELECT {COLS} FROM orders o {_J} WHERE o.ref >= ? AND o.ref < ? ORDER BY o.ref LIMIT {PAGE + 1}",
    "email": f"SELECT {COLS} FROM customers c JOIN orders o ON o.customer = c.id WHERE c.email_key = ? "
             f"ORDER BY o.placed_at DESC LIMIT {PAGE + 1}",
    # the store brings in at most 200 customers per phone (the demo shares numbers among thousands)
    "phone": f"SELECT {COLS} FROM (SELECT id FROM customers WHERE phone_nat = ? LIMIT 200) m JOIN orders o "
             f"ON o.customer = m.id JOIN customers c ON c.id = m.id ORDER BY o.placed_at DESC LIMIT {PAGE + 1}",
    "postcode": f"SELECT {COLS} FROM orders o {_J} WHERE o.postcode_key = ? "
                f"ORDER BY o.placed_at DESC LIMIT {PAGE + 1}",
    "sku": f"SELECT {COLS} FROM order_skus s JOIN orders o ON o.id = s.order_id {_J} WHERE s.sku = ? "
           f"ORDER BY s.placed_at DESC LIMIT {PAGE + 1}",
    "name": f"SELECT {COLS} FROM (SELECT rowid AS id, rank FROM customer_names WHERE customer_names MATCH ? "
            f"ORDER BY rank LIMIT {PAGE + 1}) m JOIN orders o ON o.customer = m.id JOIN customers c "
            f"ON c.id = m.id ORDER BY m.rank, o.placed_at DESC LIMIT {PAGE + 1}",
    "recent": f"SELECT {COLS} FROM orders o {_J} ORDER BY o.placed_at DESC LIMIT {PAGE + 1}",
}
# A name reading that matches more than MAX_RANKED customers is not ranked: the store reads the newest
# customers first from the same FTS index, in rowid order. Its bare query does the same.
BARE_NEWEST = (f"SELECT {COLS} FROM (SELECT rowid AS id FROM customer_names WHERE customer_names MATCH ? "
               f"ORDER BY rowid DESC LIMIT {PAGE + 1}) m JOIN orders o ON o.customer = m.id JOIN customers c "
               f"ON c.id = m.id ORDER BY m.id DESC, o.placed_at DESC LIMIT {PAGE + 1}")
KINDS = [*BARE, "prefix"]  # prefix: the first one to three letters of a surname, as typed


def _next(s: str) -> str:
    return s[:-1] + chr(ord(s[-1]) + 1)


def samples(conn: sqlite3.Connection, n: int, rng: random.Random) -> dict[str, list[tuple[str, tuple]]]:
    """(search text, bare parameters) per kind, drawn from the store."""
    max_id = conn.execute("SELECT max(id) FROM orders").fetchone()[0]
    max_c = conn.execute("SELECT max(id) FROM customers").fetchone()[0]
    out: dict[str, list[tuple[str, tuple]]] = {k: [] for k in KINDS}
    skus = [sku for (sku,) in conn.execute("SELECT sku FROM variants ORDER BY sku")]
    for _ in range(n):
        ref, pc, = conn.execute("SELECT ref, postcode FROM orders WHERE id = ?",
                                (rng.randint(1, max_id),)).fetchone()
        out["ref"].append((ref, (ref, _next(ref))))
        out["postcode"].append((pc, (pc.replace(" ", "").upper(),)))
        name, email, phone = conn.execute("SELECT name, email, json_extract(json, '$.phone') FROM customers "
                                          "WHERE id = ?", (rng.randint(1, max_c),)).fetchone()
        out["email"].append((email, (email_key(email),)))
        nat = phone_keys(phone)[1]
        out["phone"].append((phone if rng.random() < 0.5 else nat, (nat,)))
        parts = name.split()
        # what an agent types: the full name, or a first name and the start of the surname
        text = name if rng.random() < 0.5 else f"{parts[0]} {parts[-1][:3]}"
        if read(text, skus).kinds == ("name",):
            out["name"].append((text, (fts_query(name_tokens(text)),)))
        short = parts[-1][:rng.randint(1, 3)]
        if read(short, skus).kinds == ("name",):  # "Sh", "Bo": also the start of skus (SH-…, BO-…)
            out["prefix"].append((short, (fts_query(name_tokens(short)),)))
        sku = conn.execute("SELECT sku FROM order_skus WHERE order_id = ? LIMIT 1",
                           (rng.randint(1, max_id),)).fetchone()
        if sku:
            out["sku"].append((sku[0], (sku[0],)))
        out["recent"].append(("", ()))
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--store", default=os.environ.get("CARECLI_BENCH_STORE", "/tmp/carecli-bench-1m.db"))
    ap.add_argument("--repeat", type=int, default=200, help="queries per kind (distinct sampled values)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    path = Path(args.store)
    if args.rebuild or not path.exists() or not _has_orders(path, args.orders):
        print(f"building a {args.orders:,}-order demo store at {path} …", flush=True)
        stats = build_demo(path, orders=args.orders, progress=_progress())
        print(f"\n  {stats.describe()}")
        print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in stats.phases.items()))
    print(f"store: {path} ({path.stat().st_size / 1e6:,.0f} MB), Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")

    store = SqliteStore.open(path, role="supervisor")
    bare = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    bare.execute("PRAGMA mmap_size = 1073741824")
    bare.execute("PRAGMA cache_size = -65536")
    rng = random.Random(args.seed)
    qs = samples(bare, args.repeat, rng)
    store.search_orders("warm up")

    def bare_sql(kind: str, params: tuple) -> str:
        if kind in ("name", "prefix"):
            broad = bare.execute("SELECT count(*) FROM (SELECT 1 FROM customer_names WHERE customer_names "
                                 "MATCH ? LIMIT ?)", (params[0], MAX_RANKED + 1)).fetchone()[0] > MAX_RANKED
            return BARE_NEWEST if broad else BARE["name"]
        return BARE[kind]

    print(f"\n{'kind':<10}{'store p50':>11}{'store p95':>11}{'bare p50':>10}{'bare p95':>10}{'ratio':>8}  result")
    ok_all = True
    for kind, items in qs.items():
        ts, tb = [], []
        sqls = [bare_sql(kind, params) for _, params in items]  # which query: decided before timing
        for i, (text, params) in enumerate(items):
            sql = sqls[i]
            # both once untimed (the first touch of a page reads the disk, whoever comes first), then
            # both timed, in alternating order
            store.search_orders(text, limit=PAGE)
            bare.execute(sql, params).fetchall()
            for first in ((0, 1) if i % 2 else (1, 0)):
                t = time.perf_counter()
                if first == 0:
                    page = store.search_orders(text, limit=PAGE)
                    ts.append((time.perf_counter() - t) * 1000)
                else:
                    rows = bare.execute(sql, params).fetchall()
                    tb.append((time.perf_counter() - t) * 1000)
            assert page.items or not rows, (kind, text)
        s50, s95, b50, b95 = pct(ts, 50), pct(ts, 95), pct(tb, 50), pct(tb, 95)
        ratio = s95 / b95 if b95 else float("inf")
        ok = s95 <= TARGET_P95_MS and ratio <= TARGET_RATIO
        ok_all &= ok
        broad = sum(q == BARE_NEWEST for q in sqls)
        print(f"{kind:<10}{s50:>9.2f}ms{s95:>9.2f}ms{b50:>8.2f}ms{b95:>8.2f}ms{ratio:>7.1f}×  "
              f"{'ok' if ok else 'MISSED'}" + (f"  ({broad} of {len(sqls)} newest-first)" if broad else ""))
    print(f"\ntargets: p95 ≤ {TARGET_P95_MS:.0f} ms and ≤ {TARGET_RATIO:.0f}× bare — "
          f"{'all met' if ok_all else 'not all met'}")
    store.close()
    return 0


def _has_orders(path: Path, n: int) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as c:
            return c.execute("SELECT value FROM meta WHERE key = 'demo_orders'").fetchone()[0] == str(n)
    except (sqlite3.Error, TypeError):
        return False


def _progress():
    from carecli.cli import ProgressBar

    return ProgressBar()


if __name__ == "__main__":
    sys.exit(main())
