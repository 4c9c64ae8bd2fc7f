"""Building stores: the demo builder, its atomic rename, its determinism, and `carecli demo`."""

from __future__ import annotations

import sqlite3
from itertools import islice

import pytest

from carecli import demo
from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.load import build_demo
from carecli.cli import main
from carecli.engine.model import Order


def _dump(path) -> list:
    c = sqlite3.connect(path)
    out = []
    for table, cols in (("customers", "id, customer_id, name, email, phone_key, json"),
                        ("accounts", "id, account_id, json"),
                        ("orders", "id, ref, version, customer, placed_at, stage, total_minor, units, json"),
                        ("documents", "id, doc_id, order_id, kind, amount_minor, json"),
                        ("order_skus", "sku, placed_at, order_id"),
                        ("counters", "kind, next"), ("variants", "sku, json")):
        out.append(c.execute(f"SELECT {cols} FROM {table} ORDER BY 1, 2").fetchall())
    out.append(c.execute("SELECT rowid, name FROM customer_names WHERE customer_names MATCH 'a*' "
                         "ORDER BY rowid").fetchall())
    c.close()
    return out


def test_small_demo_store_holds_the_demo_business(tmp_path):
    p = tmp_path / "demo.db"
    stats = build_demo(p, orders=120, seed=7, parallel=False)
    assert stats.orders == 120 and stats.bytes == p.stat().st_size and stats.seconds > 0
    assert not list(tmp_path.glob("*.building-*"))
    with SqliteStore.open(p) as s:
        meta = s.meta()
        assert meta["demo_seed"] == "7" and meta["seed_case_ref"] == demo.SEED_CASE_REF
        in_return = demo.SCENARIOS["return_rules_mix"]  # the demo's return in progress, made after loading
        for dc, orders in islice(demo.generate(120, 7), 30):
            for o in orders:
                v = s.get_order(o.ref)
                want = Order.model_validate_json(o.model_dump_json())
                if o.ref == in_return:  # one tee is on its way back: return-initiated, one version more
                    want = want.model_copy(update={"version": 2, "lines": tuple(
                        ln.model_copy(update={"return_initiated": 1}) if ln.sku.startswith("TEE-") else ln
                        for ln in want.lines)})
                    assert [r.state for r in s.list_returns(o.ref)] == ["RECEIVED"]
                assert v.order == want
                assert v.customer == dc.customer and v.account == dc.account
        assert s.search_orders(demo.SEED_CASE_REF).items[0].ref == demo.SEED_CASE_REF


def test_parallel_build_equals_serial_build(tmp_path):
    a, b = tmp_path / "serial.db", tmp_path / "parallel.db"
    build_demo(a, orders=2500, seed=11, parallel=False)
    build_demo(b, orders=2500, seed=11, parallel=True, block=700)
    assert _dump(a) == _dump(b)


def test_the_same_seed_gives_the_same_store_with_one_worker_or_several(tmp_path):
    """Workers take units of the plan in turn; the store must not depend on how many there are, nor
    on how the plan is cut into units."""
    from carecli.backend.sqlite.load import work_units

    orders, seed = 7000, 5
    units = work_units(demo.plan(orders, seed), 700)
    assert len(units) >= 4  # so that two workers each take several units, interleaved
    dumps = []
    for name, workers, block in (("one", 1, 700), ("two", 2, 700), ("three", 3, 3000)):
        p = tmp_path / f"{name}.db"
        stats = build_demo(p, orders=orders, seed=seed, parallel=True, workers=workers, block=block)
        assert stats.orders == orders
        dumps.append(_dump(p))
    assert dumps[0] == dumps[1] == dumps[2]
    serial = tmp_path / "serial.db"
    stats = build_demo(serial, orders=orders, seed=seed, parallel=False)
    assert _dump(serial) == dumps[0]
    with sqlite3.connect(serial) as c:
        assert c.execute("SELECT count(*) FROM orders").fetchone()[0] == orders
        assert c.execute("SELECT count(*) FROM documents").fetchone()[0] == stats.documents
        # row ids as a serial build gives them: orders by ref, documents in order, no gaps
        assert c.execute("SELECT min(id), max(id) FROM documents").fetchone() == (1, stats.documents)
        assert c.execute("SELECT count(*) FROM orders WHERE id != CAST(substr(ref, 4) AS INTEGER) - 100000"
                         ).fetchone()[0] == 0


def test_work_units_cover_the_plan_once_in_order():
    from carecli.backend.sqlite.load import work_units

    p = demo.plan(9000, 3)
    for block in (1, 700, 5000, 10**9):
        units = work_units(p, block)
        assert [u[0] for u in units] == [p.scenarios] + [0] * (len(units) - 1)
        assert [b for _, bs in units for b in bs] == list(p.blocks)
        assert all(bs for _, bs in units[1:])
    assert work_units(demo.plan(12, 3), 700) == [(12, ())]


def test_a_worker_that_fails_fails_the_build_and_leaves_nothing(tmp_path):
    """A failure inside a worker (here: a policy with no German tax rates) reaches the caller with the
    worker's own message; the build's temporary file is removed."""
    from carecli.engine.policy import default_policy

    pol = default_policy()
    pol = pol.model_copy(update={"tax": tuple(j for j in pol.tax if j.country != "DE")})
    p = tmp_path / "store.db"
    with pytest.raises(RuntimeError, match=r"demo worker \d failed(.|\n)*no tax rate for"):
        build_demo(p, orders=3000, seed=1, parallel=True, workers=2, block=700, policy=pol)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_build_leaves_the_old_store_alone(tmp_path):
    p = tmp_path / "store.db"
    build_demo(p, orders=40, parallel=False)
    before = p.read_bytes()

    def boom(phase, done, total):
        if phase == "indexes":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_demo(p, orders=60, seed=3, progress=boom, parallel=False)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["store.db"]


def test_new_ids_never_collide_with_demo_ids(tmp_path):
    from carecli.engine.commands import ChangeQuantity
    from tests.backend.helpers import request

    p = tmp_path / "demo.db"
    build_demo(p, orders=60, parallel=False)
    with SqliteStore.open(p, clock=lambda: demo.DEMO_NOW) as s:
        v = s.get_order(demo.SCENARIOS["chicago_jacket"])
        r = s.commit(request(v.order.ref, v.order.version, ChangeQuantity(line_id=1, quantity=2)))
        ids = [d.id for d in r.order.documents]
        assert len(ids) == len(set(ids))


def test_cli_demo_builds_and_protects_other_stores(tmp_path, capsys):
    p = tmp_path / "x" / "store.db"
    assert main(["demo", "--orders", "50", "--store", str(p), "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "50 orders" in out and "MB" in out and " s" in out
    assert main(["demo", "--orders", "30", "--store", str(p)]) == 0  # a demo store is rebuilt
    other = tmp_path / "mine.db"
    SqliteStore.open(other).close()
    assert main(["demo", "--orders", "30", "--store", str(other)]) == 1
    assert "not a demo store" in capsys.readouterr().err
    assert main(["demo", "--orders", "30", "--store", str(other), "--force"]) == 0
    assert main(["demo", "--orders", "0", "--store", str(other)]) == 2


def test_cli_without_a_command_opens_the_app_with_the_flags(monkeypatch):
    import carecli.tui

    seen = {}
    monkeypatch.setattr(carecli.tui, "run", lambda flags: seen.update(flags) or 0)
    assert main(["--role", "supervisor", "--theme", "ansi-dark", "--store", "/srv/x.db"]) == 0
    assert seen == {"store": "/srv/x.db", "backend": None, "role": "supervisor", "read_only": None,
                    "theme": "ansi-dark", "config": None}


def test_fast_rows_equal_the_plain_rows():
    """The bulk converter's inlined row building agrees with rows.py (used by commits)."""
    from carecli.backend.sqlite.load import Converter
    from carecli.backend.sqlite.rows import document_columns, order_columns, order_json, order_total
    from carecli.engine.policy import default_policy

    ref = demo.reference()
    locs = {loc.id: loc for loc in ref.locations}
    policy = default_policy()
    conv = Converter(policy, locs)
    orders = []
    for dc, os_ in demo.generate(400, 7):
        conv.add(dc.customer, dc.account, os_)
        orders += os_
    _, _, order_rows, doc_rows, _, _ = conv.take()
    docs = iter(doc_rows)
    for o, row in zip(orders, order_rows, strict=True):
        total = order_total(o, policy, locs)
        assert row[5:12] == order_columns(o, total, locs)
        assert row[12] == order_json(o)
        for d in o.documents:
            r = next(docs)
            assert (r[1], r[4], r[5], r[6], r[7]) == document_columns(d)
    assert conv.trust_ledger


def test_the_demo_written_without_models_is_the_store_the_models_give(tmp_path):
    """The demo builder writes each row's JSON straight from the generator (``demo.stored``); a store
    loaded from the same business as engine models (``load_business(stream=...)``, pydantic's
    ``model_dump_json``) must be the same, row for row and byte for byte: in this process and from
    worker processes."""
    from carecli.backend.sqlite.load import load_business

    orders, seed = 3000, 9
    ref = demo.reference()

    def models():
        for dc, os_ in demo.generate(orders, seed):
            yield dc.customer, dc.account, os_

    dumps = []
    for name, kwargs in (("models", {"stream": models()}),
                         ("stored", {"demo_args": (orders, seed, 700, 0)}),
                         ("workers", {"demo_args": (orders, seed, 700, 2)})):
        p = tmp_path / f"{name}.db"
        stats = load_business(p, variants=list(ref.variants), locations=list(ref.locations), **kwargs)
        assert stats.orders == orders
        dumps.append(_dump(p))
    assert dumps[0] == dumps[1] == dumps[2]


def test_a_stored_order_unlike_its_models_fails_the_build():
    """One order in CHECK_EVERY is built again as models: JSON that differs from pydantic's stops the
    load with the order's ref (a wrong row is never written in silence)."""
    from dataclasses import replace

    from carecli.backend.sqlite.load import Converter
    from carecli.engine.policy import default_policy

    ref = demo.reference()
    part = demo.PartGenerator(7)
    p = demo.plan(400, 7)
    conv = Converter(default_policy(), {loc.id: loc for loc in ref.locations})
    checked = 0
    for sc, os_ in part.stored(p.scenarios, p.blocks):
        oid = conv.next_order
        if any((oid + i) % Converter.CHECK_EVERY == 0 for i in range(len(os_))):
            checked += 1
            bad = [replace(o, json=o.json.replace('"channel":"', '"channel":"x')) for o in os_]
            with pytest.raises(RuntimeError, match=r"ON-\d+: the demo's stored JSON differs"):
                Converter(default_policy(), {loc.id: loc for loc in ref.locations},
                          first_customer=conv.next_customer, first_order=oid).add_stored(sc, bad, part.model)
        conv.add_stored(sc, os_, part.model)
    assert checked >= 3 and conv.trust_ledger
