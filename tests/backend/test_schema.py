"""Migrations, version checks, damaged and foreign files, missing folders."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3

import pytest

from carecli.backend.contract import BackendError, NotFound, StoreCorrupt, StoreTooNew
from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.load import Converter
from carecli.backend.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION, migrate
from tests.backend import business


def _schema(path) -> set[tuple[str, str, str]]:
    with sqlite3.connect(path) as c:
        return {(t, n, " ".join((s or "").split())) for t, n, s in
                c.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'")}


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_a_new_file_gets_the_current_schema(tmp_path):
    p = tmp_path / "new.db"
    with SqliteStore.open(p) as s:
        assert s.search_orders("").items == []
    with sqlite3.connect(p) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_version_1_file_is_migrated_and_backfilled(tmp_path):
    """A store written by schema 1 (no order_skus) opens, is migrated, and finds orders by sku."""
    old = tmp_path / "old.db"
    c = sqlite3.connect(old, isolation_level=None)
    c.execute("BEGIN")
    migrate(c, target=1)
    conv = Converter(business.POLICY, business.LOCMAP)
    for cust, acct, orders in business.business(5):
        conv.add(cust, acct, orders)
    customers, accounts, orders, documents, _skus, _ = conv.take()
    c.executemany("INSERT INTO variants VALUES (?, ?)", [(v.sku, v.model_dump_json()) for v in business.VARIANTS])
    c.executemany("INSERT INTO locations VALUES (?, ?)",
                  [(loc.id, loc.model_dump_json()) for loc in business.LOCATIONS])
    c.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", customers)
    c.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)", accounts)
    c.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
    c.executemany("INSERT INTO documents(id, doc_id, order_id, account, kind, amount_minor, created_at, json) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", documents)
    c.execute("COMMIT")
    assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    c.close()

    with SqliteStore.open(old) as s:
        page = s.search_orders("JKT-ALP-M")
        assert business.DANA_REF in [i.ref for i in page.items if i.matched == "sku"]
        assert s.get_order(business.DANA_REF).order.lines[0].sku == "JKT-ALP-M"
    fresh = tmp_path / "fresh.db"
    SqliteStore.open(fresh).close()
    assert _schema(old) == _schema(fresh)


def test_a_newer_file_is_refused_and_left_alone(store_path):
    with sqlite3.connect(store_path) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = _digest(store_path)
    with pytest.raises(StoreTooNew) as e:
        SqliteStore.open(store_path)
    assert e.value.found_version == SCHEMA_VERSION + 1 and e.value.supported_version == SCHEMA_VERSION
    assert "newer carecli" in e.value.message
    with pytest.raises(StoreTooNew):
        SqliteStore.open(store_path, role="supervisor")
    assert _digest(store_path) == before


@pytest.mark.parametrize("content", [b"hello, this is not a database" * 100,
                                     bytes(random.Random(7).randrange(256) for _ in range(8192)),
                                     b"SQLite format 2\x00" + b"\x00" * 4000], ids=["text", "noise", "sqlite2"])
def test_a_file_that_is_not_sqlite_is_store_corrupt(tmp_path, content):
    p = tmp_path / "junk.db"
    p.write_bytes(content)
    with pytest.raises(StoreCorrupt) as e:
        SqliteStore.open(p)
    assert "not a carecli store" in e.value.message
    assert p.read_bytes() == content


def test_a_foreign_sqlite_database_is_refused(tmp_path):
    p = tmp_path / "other.db"
    with sqlite3.connect(p) as c:
        c.execute("CREATE TABLE invoices(x)")
    before = _digest(p)
    with pytest.raises(StoreCorrupt):
        SqliteStore.open(p)
    assert _digest(p) == before


@pytest.mark.parametrize("where", ["cells", "headers"])
def test_a_damaged_store_raises_store_corrupt_not_a_traceback(store_path, where):
    data = bytearray(store_path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    rng = __import__("random").Random(5)
    for start in range(page * 2, len(data), page):  # every page after the schema's
        at = start + (page // 2 if where == "cells" else 0)
        data[at:at + 64] = bytes(rng.randrange(256) for _ in range(64))
    store_path.write_bytes(bytes(data))
    raised: list[Exception] = []
    try:
        with SqliteStore.open(store_path) as s:
            for call in (lambda: s.search_orders(""), lambda: s.search_orders("dana"),
                         lambda: s.get_order(business.DANA_REF), lambda: s.verify_audit(),
                         lambda: s.search_orders("JKT"), lambda: s.get_account("BA-000001"),
                         lambda: s.get_timeline("ON-100080"), lambda: s.reference()):
                try:
                    call()
                except Exception as e:  # noqa: BLE001 - what matters is the type
                    raised.append(e)
    except Exception as e:  # noqa: BLE001
        raised.append(e)
    assert raised, "a scribbled-over store should not read cleanly"
    assert all(isinstance(e, BackendError) for e in raised), raised
    assert any(isinstance(e, StoreCorrupt) for e in raised)


def test_a_truncated_store_is_store_corrupt(store_path):
    data = store_path.read_bytes()
    store_path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreCorrupt):
        with SqliteStore.open(store_path) as s:
            for _ in range(3):
                s.search_orders("")
                s.search_orders("JKT-ALP")
                s.get_order("ON-100080")


def test_missing_folders_are_created(tmp_path):
    p = tmp_path / "a" / "b" / "c" / "store.db"
    with SqliteStore.open(p) as s:
        assert s.search_orders("anything").items == []
    assert p.exists()


def test_read_only_open_of_a_missing_store_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        SqliteStore.open(tmp_path / "nope" / "store.db", role="supervisor")
    assert not (tmp_path / "nope").exists()


def test_an_empty_file_becomes_a_store(tmp_path):
    p = tmp_path / "empty.db"
    p.touch()
    with SqliteStore.open(p) as s:
        assert s.search_orders("").items == []


def test_a_folder_in_place_of_the_file(tmp_path):
    (tmp_path / "store.db").mkdir()
    with pytest.raises(BackendError):
        SqliteStore.open(tmp_path / "store.db")


def test_a_store_missing_a_table_is_store_corrupt(store_path):
    with sqlite3.connect(store_path) as c:
        c.execute("DROP TABLE order_skus")
    with SqliteStore.open(store_path) as s:
        with pytest.raises(StoreCorrupt):
            s.search_orders("JKT-ALP-M")
