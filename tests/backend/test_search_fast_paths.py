"""The search's fast paths give the answers the general rules give.

* A name reading that matches more customers than it can usefully rank lists the newest customers
  first. The small store has a few dozen customers, so the threshold (``MAX_RANKED``) is lowered for
  these tests; the rule is the same at 2,000 on a million orders.
* A ref typed as the store writes it (``ON-100001``) skips the cleaning steps and reads the same.
"""

from __future__ import annotations

import pytest

from pydantic import TypeAdapter

from carecli.backend.search_types import SearchPage
from carecli.backend.sqlite import search

PAGE = TypeAdapter(SearchPage)


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setattr(search, "MAX_RANKED", 2)


def _expected(store, word: str, stage: str | None = None) -> list[str]:
    """Every order of a customer with a name word starting with ``word``: newest customer first, then
    each customer's orders most recent first (computed here without FTS, from the customers table)."""
    rows = store._conn.execute(
        "SELECT o.ref, c.id, o.placed_at, o.id, c.name, o.stage FROM orders o JOIN customers c "
        "ON c.id = o.customer").fetchall()
    hit = [r for r in rows if any(w.casefold().startswith(word) for w in r[4].replace("-", " ").split())
           and (stage is None or r[5] == stage)]
    hit.sort(key=lambda r: (-r[1], -r[2], -r[3]))
    return [r[0] for r in hit]


def test_broad_name_lists_newest_customers_first(store, low_threshold):
    want = _expected(store, "garcia")
    assert len(want) >= 6
    page = store.search_orders("garcia", limit=50)
    assert [i.ref for i in page.items] == want
    assert page.kinds == ("name",) and {i.matched for i in page.items} == {"name"}


def test_broad_name_pages_tile_the_list(store, low_threshold):
    want = _expected(store, "garcia")
    got: list[str] = []
    for off in range(0, len(want) + 3, 2):
        page = store.search_orders("garcia", limit=2, offset=off)
        got += [i.ref for i in page.items]
        assert page.has_more == (off + 2 < len(want))
    assert got == want


def test_broad_name_honours_the_stage_filter(store, low_threshold):
    stages = [s for (s,) in store._conn.execute("SELECT DISTINCT stage FROM orders")]
    checked = 0
    for stage in stages:
        want = _expected(store, "garcia", stage)
        page = store.search_orders("garcia", stage=stage, limit=50)
        assert [i.ref for i in page.items] == want
        assert all(i.stage == stage for i in page.items)
        checked += bool(want)
    assert checked >= 1


def test_batches_reach_customers_beyond_the_first_batch(store, low_threshold, monkeypatch):
    """With a one-customer first batch the walk goes through several batches and is still exact."""
    monkeypatch.setattr(search, "NAME_BATCH", 1)
    calls = []

    class Spy:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, sql, params=()):
            if sql == search._NEWEST_NAMES:
                calls.append(params)
            return self.conn.execute(sql, params)

    want = _expected(store, "garcia")
    hits = search.search_name(Spy(store._conn), ["garcia"], None, len(want) + 1)
    assert [h.row[1] for h in hits] == want
    assert len(calls) >= 3 and [c[2] for c in calls[:3]] == [1, 4, 16]


def test_narrow_name_is_still_ranked(store):
    """Under the threshold nothing changes: bm25 rank, the seed customer first for her surname."""
    page = store.search_orders("whitfield")
    assert page.items and page.items[0].customer_name.endswith("Whitfield")


@pytest.mark.parametrize("ref", ["ON-100001", "ON-1", "ON-1000000", "ON-0", "ON-" + "1" * 197,
                                 "ON-" + "1" * 400])
def test_a_stored_ref_reads_as_the_general_path_reads_it(ref):
    """An exact ``ON-digits`` text skips the cleaning steps; the reading is the one they would give."""
    fast = search.read(ref, ["JKT-1", "ON-SKU"])
    slow = search.read(f" {ref} ", ["JKT-1", "ON-SKU"])  # spaces: not the fast form, cleaned to it
    assert fast == slow and fast.kinds == ("ref",)


def test_a_stored_ref_gives_the_page_the_general_path_gives(store):
    """``ON-digits`` goes straight to its query and builds the page from the rows (no reading, no
    hits); the page is the one the text read the general way gives (a space in front defeats the fast
    path and is cleaned away): same summaries, same paging, same stage filter."""
    refs = [r for (r,) in store._conn.execute("SELECT ref FROM orders ORDER BY id")]
    stages = [None, *sorted({s for (s,) in store._conn.execute("SELECT stage FROM orders")})]
    texts = [refs[0], refs[len(refs) // 2], refs[-1], refs[0][:-1], refs[0][:-2], refs[0][:-3], "ON-1",
             "ON-9999999", "ON-0"]
    compared = 0
    for text in texts:
        assert search.stored_ref(text) and not search.stored_ref(" " + text)
        for stage in stages:
            n = len(store.search_orders(" " + text, stage=stage, limit=500).items)
            # pages that end on the last order exactly, one short of it, and past it
            for limit, offset in ((50, 0), (2, 0), (2, 3), (1, 1), (500, 0), (max(n, 1), 0), (1, max(n - 1, 0)),
                                  (2, max(n - 2, 0)), (2, max(n - 3, 0)), (3, n)):
                fast = store.search_orders(text, stage=stage, limit=limit, offset=offset)
                slow = store.search_orders(" " + text, stage=stage, limit=limit, offset=offset)
                assert fast == slow, (text, stage, limit, offset)
                assert PAGE.dump_json(fast) == PAGE.dump_json(slow)  # as the HTTP server sends it
                compared += bool(fast.items)
    assert compared >= 20
    many = store.search_orders(refs[0][:-2], limit=2)  # a ref prefix: several orders, paged
    assert many.has_more and [i.ref for i in many.items] == sorted(i.ref for i in many.items)
