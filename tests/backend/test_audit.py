"""The audit table is append-only at the SQL level, and verify finds any edit, deletion or reordering."""

from __future__ import annotations

import sqlite3

import pytest

from carecli.cli import main
from carecli.engine.commands import AppeasementCredit, ChangeQuantity
from carecli.engine.money import Money
from tests.backend import business
from tests.backend.helpers import request


@pytest.fixture
def audited(store, store_path):
    """A store with five audit records."""
    v = store.get_order(business.DANA_REF).order.version
    for q in (1, 2, 1):
        v = store.commit(request(business.DANA_REF, v, ChangeQuantity(line_id=1, quantity=q))).order.version
    store.commit(request(business.DECLINE_REF, 1, ChangeQuantity(line_id=1, quantity=1)))
    store.commit(request(business.NOAH_REF, 1, AppeasementCredit(amount=Money("10.00", "AUD"),
                                                                 reason_code="LATE_DELIVERY"),
                         reason="LATE_DELIVERY"))
    assert store.audit_count() == 5 and store.verify_audit() is None
    return store_path


def _raw(path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


@pytest.mark.parametrize("sql", [
    "UPDATE audit SET note = 'tampered' WHERE seq = 2",
    "UPDATE audit SET hash = hash",
    "DELETE FROM audit WHERE seq = 5",
    "DELETE FROM audit",
    "INSERT INTO audit SELECT seq + 10, at, actor, role, order_ref, version_before, version_after, command, "
    "reason_code, note, financial_effect, idempotency_key, prev_hash, hash FROM audit WHERE seq = 1",
    "INSERT OR REPLACE INTO audit SELECT * FROM audit WHERE seq = 1",
])
def test_audit_rows_cannot_be_changed_with_sql(audited, sql):
    c = _raw(audited)
    with pytest.raises(sqlite3.DatabaseError) as e:
        c.execute(sql)
    assert "audit records" in str(e.value)
    assert c.execute("SELECT count(*) FROM audit").fetchone()[0] == 5


def test_ledger_documents_cannot_be_changed_with_sql(audited):
    c = _raw(audited)
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        c.execute("UPDATE documents SET amount_minor = 0")
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        c.execute("DELETE FROM documents")


def _tamper(path, *sql: str) -> None:
    c = _raw(path)
    c.execute("DROP TRIGGER audit_no_update")
    c.execute("DROP TRIGGER audit_no_delete")
    c.execute("DROP TRIGGER audit_chain")
    for s in sql:
        c.execute(s)
    c.close()


@pytest.mark.parametrize("sql, seq", [
    (["UPDATE audit SET note = 'nothing to see' WHERE seq = 3"], 3),
    (["UPDATE audit SET financial_effect = replace(financial_effect, '-', '') WHERE seq = 2"], 2),
    (["UPDATE audit SET actor = 'someone.else' WHERE seq = 5"], 5),
    (["DELETE FROM audit WHERE seq = 2"], 2),
    (["DELETE FROM audit WHERE seq = 5"], 5),  # the last one: the chain is valid but shorter than its head
    (["DELETE FROM audit WHERE seq >= 4"], 4),
    (["UPDATE audit SET seq = 99 WHERE seq = 2", "UPDATE audit SET seq = 2 WHERE seq = 3",
      "UPDATE audit SET seq = 3 WHERE seq = 99"], 2),
])
def test_verify_finds_the_first_bad_record(audited, sql, seq):
    from carecli.backend.sqlite import SqliteStore

    _tamper(audited, *sql)
    with SqliteStore.open(audited, role="supervisor") as s:
        problem = s.verify_audit()
    assert problem is not None and problem.seq == seq


def test_cli_audit_verify(audited, capsys):
    assert main(["audit", "verify", "--store", str(audited)]) == 0
    assert "audit chain ok (5 records)" in capsys.readouterr().out
    _tamper(audited, "UPDATE audit SET note = 'x' WHERE seq = 4")
    assert main(["audit", "verify", "--store", str(audited)]) == 1
    out = capsys.readouterr().out
    assert "record 4" in out and "edited" in out


def test_cli_audit_verify_uses_the_environment(audited, capsys, monkeypatch):
    monkeypatch.setenv("CARECLI_STORE", str(audited))
    assert main(["audit", "verify"]) == 0
    assert "5 records" in capsys.readouterr().out


def test_cli_audit_verify_on_a_missing_store(tmp_path, capsys):
    assert main(["audit", "verify", "--store", str(tmp_path / "none.db")]) == 2
    assert "no store" in capsys.readouterr().err.lower()
