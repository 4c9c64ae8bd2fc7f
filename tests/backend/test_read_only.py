"""A store file the user may only read is opened read-only and works; a supervisor cannot write.

Root ignores file permissions, so when the suite runs as root the checks run in a forked child that
has dropped to the ``nobody`` user (every module is imported before the fork).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import traceback
from pathlib import Path

import pytest

from carecli.backend.contract import Forbidden
from carecli.backend.sqlite import SqliteStore
from carecli.engine.commands import ChangeQuantity
from tests.backend import business
from tests.backend.helpers import request

NOBODY = 65534


def _checks(path: str) -> dict:
    out: dict = {}
    with SqliteStore.open(path) as s:  # an agent asks for a writable store
        out["read_only"] = s.read_only
        out["search"] = [i.ref for i in s.search_orders("dana").items]
        out["order"] = s.get_order(business.DANA_REF).order.ref
        out["verify"] = s.verify_audit() is None
        try:
            s.commit(request(business.DANA_REF, 1, ChangeQuantity(line_id=1, quantity=1)))
            out["commit"] = "written"
        except Forbidden as e:
            out["commit"] = "forbidden: " + e.message
    return out


def _run_as_reader(path: Path) -> dict:
    if os.geteuid() != 0:
        return _checks(str(path))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            data = json.dumps(_checks(str(path)))
        except BaseException:  # noqa: BLE001
            data = json.dumps({"error": traceback.format_exc()})
        os.write(w, data.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    result = json.loads(b"".join(chunks))
    assert "error" not in result, result.get("error")
    return result


@pytest.fixture
def shared_dir(small_template):
    d = Path(tempfile.mkdtemp(prefix="carecli-ro-", dir="/tmp"))
    shutil.copy(small_template, d / "store.db")
    yield d
    os.chmod(d, 0o755)
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("folder_writable", [True, False])
def test_a_read_only_file_opens_read_only_and_reads(shared_dir, folder_writable):
    path = shared_dir / "store.db"
    before = path.read_bytes()
    os.chmod(path, 0o444)
    os.chmod(shared_dir, 0o777 if folder_writable else 0o555)
    result = _run_as_reader(path)
    assert result["read_only"] is True
    assert business.DANA_REF in result["search"]
    assert result["order"] == business.DANA_REF and result["verify"]
    assert result["commit"].startswith("forbidden")
    assert "may only be read" in result["commit"]
    assert path.read_bytes() == before


def test_supervisor_store_is_opened_read_only_at_the_sqlite_level(store_path):
    with SqliteStore.open(store_path, role="supervisor") as s:
        assert s.read_only
        with pytest.raises(Forbidden):
            s.commit(request(business.DANA_REF, 1, ChangeQuantity(line_id=1, quantity=1)))
        # even bypassing the backend's check, the connection itself cannot write
        import sqlite3
        with pytest.raises(sqlite3.OperationalError):
            s._conn.execute("UPDATE orders SET version = 99")
    mode = stat.S_IMODE(os.stat(store_path).st_mode)
    assert mode & stat.S_IWUSR
