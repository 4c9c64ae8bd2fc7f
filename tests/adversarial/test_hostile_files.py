"""Hostile files: what tests/test_config.py, tests/backend/test_schema.py, tests/backend/test_read_only.py,
tests/backend/test_concurrency.py and tests/delivery/test_cli.py do not already cover.

* theme files that are binary or huge: a warning naming the file, the theme skipped;
* a policy file that is huge (sparse, so nothing is written): refused by its size, before reading it;
* an event JSONL file with a huge line, NUL bytes, binary garbage and invalid UTF-8 among good lines:
  each line reported by number, the good ones taken in, no traceback;
* the command line on a store from a newer schema version and on a store in a missing folder: a clear
  message, exit status 2, no traceback, the file untouched;
* a really full disk (a 1 MB tmpfs, mounted when the tests run as root): the commit is refused with a
  message saying the disk is full, nothing half-written, and it goes through once space is freed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from carecli.backend.contract import CommitRequest, Unavailable
from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.load import build_demo
from carecli.demo import DEMO_NOW, SCENARIOS
from carecli.engine.commands import ChangeAddress
from carecli.engine.model import Address
from carecli.engine.policy import PolicyError, load_policy
from carecli.themes import user_themes

CARECLI = Path(sys.executable).parent / "carecli"


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "demo.db"
    build_demo(path, orders=20, seed=7, parallel=False)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- themes and policy ---------------------------------------------------------------------------


def test_a_binary_theme_file_is_named_in_the_warning(tmp_path):
    p = tmp_path / "evil.toml"
    p.write_bytes(b"\x00\xff\xfe\x1b[2J not a theme")
    themes, warnings = user_themes([p])
    assert themes == [] and len(warnings) == 1
    assert str(p) in warnings[0] and "UTF-8" in warnings[0], warnings


def test_a_huge_theme_file_is_refused_by_its_size(tmp_path):
    p = tmp_path / "huge.toml"
    with open(p, "wb") as f:
        f.truncate(512 * 1024 * 1024)  # sparse: 512 MB of nothing, never read
    themes, warnings = user_themes([p])
    assert themes == [] and len(warnings) == 1
    assert str(p) in warnings[0] and "larger than" in warnings[0], warnings


def test_a_huge_policy_file_is_refused_by_its_size_before_reading(tmp_path):
    p = tmp_path / "policy.toml"
    with open(p, "wb") as f:
        f.truncate(512 * 1024 * 1024)
    with pytest.raises(PolicyError) as e:
        load_policy(p)
    assert str(p) in str(e.value) and "larger than 1 MB" in str(e.value)


# -- event files ----------------------------------------------------------------------------------


def _event_args(store: Path, file: Path) -> argparse.Namespace:
    from carecli.cli import build_parser

    return build_parser().parse_args(["event", "--file", str(file), "--store", str(store)])


def test_an_event_file_full_of_garbage_reports_each_line_and_takes_the_good_ones(tiny_demo, tmp_path, capsys):
    from carecli.cli_events import cmd_event

    store = tmp_path / "store.db"
    shutil.copy(tiny_demo, store)
    booked = SCENARIOS["booked"]
    good = json.dumps({"kind": "allocated", "event_id": "HOSTILE-1", "order_ref": booked,
                       "at": DEMO_NOW.isoformat()})
    lines = [
        good.encode(),
        b'{"kind": "picked", "event_id": "' + b"x" * 5_000_000 + b'"}',  # one 5 MB line
        b'{"kind": "allocated\x00", "event_id": "N", "order_ref": "' + booked.encode() + b'"}',
        b"\x1b]52;c;SGVsbG8=\x07[@click=app.quit]",
        b"[1, 2, 3]",
        b'{"kind": "allocated", "event_id": "HOSTILE-1", "order_ref": "' + booked.encode() + b'", "at": "'
        + DEMO_NOW.isoformat().encode() + b'"}',  # the same event again: a duplicate
    ]
    f = tmp_path / "events.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    out = io.StringIO()
    rc = cmd_event(_event_args(store, f), out=out)
    text = out.getvalue()
    err = capsys.readouterr().err
    assert rc == 1, (text, err)
    assert "Traceback" not in text + err
    assert "line 1: ok HOSTILE-1" in text
    for n in (2, 3, 4, 5):
        assert f"line {n}: malformed" in text, (n, text[:2000])
    assert "line 6: duplicate HOSTILE-1" in text
    assert len(text) < 20_000, "the 5 MB line is not echoed back in full"
    with SqliteStore.open(store, role="supervisor") as s:
        assert s.get_order(booked).stage == "AWAITING_PICK"


def test_an_event_file_that_turns_binary_stops_with_a_message_and_reports_what_it_took(tiny_demo, tmp_path, capsys):
    from carecli.cli_events import cmd_event

    store = tmp_path / "store.db"
    shutil.copy(tiny_demo, store)
    booked = SCENARIOS["booked"]
    good = json.dumps({"kind": "allocated", "event_id": "HOSTILE-2", "order_ref": booked, "at": DEMO_NOW.isoformat()})
    f = tmp_path / "events.jsonl"
    f.write_bytes(good.encode() + b"\n" + b"\xff\xfe\x00\x01 binary" * 1000 + b"\n")
    out = io.StringIO()
    rc = cmd_event(_event_args(store, f), out=out)
    err = capsys.readouterr().err
    assert rc == 2 and "not UTF-8" in err and str(f) in err and "Traceback" not in err
    # The file is decoded a buffer at a time: a line before the bad bytes is taken in only if its buffer
    # decoded; what the report says and what the store holds agree either way.
    taken = "line 1: ok HOSTILE-2" in out.getvalue()
    with SqliteStore.open(store, role="supervisor") as s:
        assert (s.get_order(booked).stage == "AWAITING_PICK") == taken


# -- stores the command line is pointed at -------------------------------------------------------------


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARECLI_")}
    return subprocess.run([str(CARECLI), *argv], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def test_the_command_line_on_a_newer_store_says_so_and_leaves_it_alone(tiny_demo, tmp_path):
    store = tmp_path / "newer.db"
    shutil.copy(tiny_demo, store)
    con = sqlite3.connect(store)
    con.execute("PRAGMA user_version = 999")
    con.close()
    before = digest(store)
    for argv in (["audit", "verify", "--store", str(store)],
                 ["event", "allocated", "--order", SCENARIOS["booked"], "--store", str(store)]):
        r = _run(*argv, cwd=tmp_path)
        assert r.returncode == 2, (argv, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout
        assert "newer" in r.stderr.lower(), r.stderr
    assert digest(store) == before


def test_the_command_line_on_a_store_in_a_missing_folder_names_it(tmp_path):
    store = tmp_path / "no" / "such" / "folder" / "store.db"
    r = _run("audit", "verify", "--store", str(store), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr + r.stdout
    assert str(store) in r.stderr or "not found" in r.stderr.lower(), r.stderr
    assert not store.parent.exists(), "a read-only command created folders"


# -- a full disk -----------------------------------------------------------------------------------


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 2 MB tmpfs (root only; skipped elsewhere)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_really_full_disk_refuses_the_commit_and_loses_nothing(tiny_demo, tiny_disk):
    store = tiny_disk / "store.db"
    shutil.copy(tiny_demo, store)
    if store.stat().st_size > 1_500_000:
        pytest.skip("the demo store does not fit the small disk")
    ref = SCENARIOS["booked"]
    with SqliteStore.open(store, clock=lambda: DEMO_NOW) as s:
        s.get_order(ref)  # the WAL exists and is in use
        filler = tiny_disk / "filler"
        with open(filler, "wb", buffering=0) as f:  # fill what is left, to the last byte
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError:
                    pass
        o = s.get_order(ref).order
        addr = o.fulfilment.address
        failed = None
        for i in range(50):  # until the WAL needs a page the disk does not have
            try:
                o = s.commit(CommitRequest(
                    order_ref=ref, expected_version=o.version, reason_code="ADDRESS_CORRECTION",
                    amendments=(ChangeAddress(address=Address(**{**addr.model_dump(), "line1": f"{i} Full St"})),),
                    note="n" * 4000, idempotency_key=f"full-{uuid.uuid4().hex}", actor="kim")).order
            except Unavailable as e:
                failed = e
                break
        assert failed is not None, "the disk never filled"
        assert "full" in failed.message.lower(), failed.message
        assert s.get_order(ref).order.version == o.version, "the refused commit left a new version"
        assert s.verify_audit() is None
        filler.unlink()  # space again: the same change now goes through
        again = s.commit(CommitRequest(
            order_ref=ref, expected_version=o.version, reason_code="ADDRESS_CORRECTION",
            amendments=(ChangeAddress(address=Address(**{**addr.model_dump(), "line1": "After St"})),),
            idempotency_key=f"full-{uuid.uuid4().hex}", actor="kim"))
        assert again.order.version == o.version + 1
    con = sqlite3.connect(store)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
