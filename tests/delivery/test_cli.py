"""carecli event / events rejected / deliver, as a warehouse system or an operator runs them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.cli import main
from carecli.demo import SCENARIOS


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_one_event_from_the_command_line_and_the_same_id_again(outbox_store_path, capsys):
    args = ["event", "dispatched", "--order", SCENARIOS["partly_dispatched"], "--line", "3:1", "--carrier", "UPS",
            "--tracking", "1Z9", "--id", "WMS-42", "--store", str(outbox_store_path)]
    rc, out, _ = run(capsys, *args)
    assert rc == 0 and out.startswith("ok WMS-42 (ON-100004 v2 DISPATCHED, 1 message(s))"), out
    rc, out, _ = run(capsys, *args)  # sent again (a new --at each time): the first result
    assert rc == 0 and out.startswith("duplicate WMS-42 (ON-100004 v2 DISPATCHED"), out


def test_a_batch_reports_every_line_and_fails_when_any_line_is_refused_or_malformed(outbox_store_path, capsys,
                                                                                  monkeypatch):
    lines = [
        {"kind": "allocated", "event_id": "B1", "order_ref": SCENARIOS["booked"], "at": "2026-11-27T15:01:00Z"},
        {"kind": "delivered", "event_id": "B2", "order_ref": SCENARIOS["cancelled"], "at": "2026-11-27T15:01:00Z"},
        "this is not json",
        {"kind": "picked", "event_id": "B1", "order_ref": SCENARIOS["booked"], "at": "2026-11-27T15:01:00Z"},
        {"kind": "allocated", "event_id": "B1", "order_ref": SCENARIOS["booked"], "at": "2026-11-27T15:09:00Z"},
        {"kind": "packed", "order_ref": SCENARIOS["booked"]},
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    rc, out, _ = run(capsys, "event", "--file", "-", "--store", str(outbox_store_path))
    got = out.splitlines()
    assert rc == 1
    assert got[0].startswith("line 1: ok B1 (ON-100013 v3 AWAITING_PICK")
    assert got[1].startswith("line 2: refused B2 (ON-100008): event.order_cancelled: order ON-100008 is cancelled")
    assert got[2].startswith("line 3: malformed: not valid JSON")
    assert got[3].startswith("line 4: refused B1 (ON-100013): event.id_reused")
    assert got[4].startswith("line 5: duplicate B1 (ON-100013 v3")
    assert got[5].startswith("line 6: malformed: event_id: Field required")
    rc, out, _ = run(capsys, "events", "rejected", "--store", str(outbox_store_path))
    assert rc == 0 and "B2  delivered  ON-100008  event.order_cancelled" in out and "event.id_reused" in out
    rc, out, _ = run(capsys, "events", "rejected", "--json", "--store", str(outbox_store_path))
    assert {json.loads(x)["event_id"] for x in out.splitlines()} == {"B1", "B2"}


def test_a_batch_file_that_is_missing_is_named(outbox_store_path, capsys, tmp_path):
    rc, _, err = run(capsys, "event", "--file", str(tmp_path / "nope.jsonl"), "--store", str(outbox_store_path))
    assert rc == 2 and "cannot read" in err and "nope.jsonl" in err


def test_bad_command_line_fields_are_named(outbox_store_path, capsys):
    rc, _, err = run(capsys, "event", "picked", "--order", "ON-100001", "--line", "1", "--store", str(outbox_store_path))
    assert rc == 2 and "--line 1: write LINE:QTY" in err
    rc, _, err = run(capsys, "event", "backordered", "--order", "ON-100001", "--line", "1", "--units", "1",
                     "--store", str(outbox_store_path))
    assert rc == 2 and "expected" in err


def test_an_operators_template_is_used_and_a_broken_one_stops_before_anything_is_taken_in(outbox_store_path, capsys):
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "carecli" / "templates"
    folder.mkdir(parents=True)
    (folder / "delivered.subject").write_text("Delivered: $order_ref, with love\n")
    rc, out, _ = run(capsys, "event", "delivered", "--order", SCENARIOS["partly_dispatched"], "--line", "1:1",
                     "--store", str(outbox_store_path))
    assert rc == 0, out
    with SqliteStore.open(outbox_store_path, read_only=True) as s:
        assert "Delivered: ON-100004, with love" in [t.title for t in s.get_timeline("ON-100004")]
    (folder / "dispatched.html").write_text("<p>$tracking_no</p>")
    rc, _, err = run(capsys, "event", "delivered", "--order", SCENARIOS["partly_dispatched"], "--line", "2:1",
                     "--store", str(outbox_store_path))
    assert rc == 2 and "dispatched.html" in err and "$tracking_no" in err and "no event was taken in" in err


def test_deliver_writes_eml_files_and_status_shows_the_outbox(outbox_store_path, capsys):
    rc, out, _ = run(capsys, "deliver", "--store", str(outbox_store_path))
    assert rc == 0 and out.strip().endswith("7 sent, 0 failed (will retry), 0 given up")
    outbox = Path(os.environ["XDG_DATA_HOME"]) / "carecli" / "outbox"
    assert len(list((outbox / "email").glob("*.eml"))) == 5
    rc, out, _ = run(capsys, "deliver", "--status", "--store", str(outbox_store_path))
    assert rc == 0 and out.startswith("pending 0  claimed 0  sent 7  failed 0  dead 0  uncertain 0")


def test_deliver_over_smtp_without_a_host_says_what_to_set(outbox_store_path, capsys):
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "carecli"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "config.toml").write_text('[delivery]\ntransport = "smtp"\n')
    rc, _, err = run(capsys, "deliver", "--store", str(outbox_store_path))
    assert rc == 2 and "delivery.smtp_host is not set" in err


def test_the_event_command_never_imports_textual(outbox_store_path):
    code = ("import sys; from carecli.cli import main; "
            f"rc = main(['event', 'allocated', '--order', 'ON-100013', '--store', {str(outbox_store_path)!r}]); "
            "print(rc, 'textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("0 False"), out


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch):
    monkeypatch.delenv("CARECLI_STORE", raising=False)


def test_a_malformed_policy_file_is_named_and_nothing_is_taken_in(outbox_store_path, capsys):
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "carecli"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "policy.toml").write_text('[fulfilment]\nshort_pick = "shrug"\n')
    rc, _, err = run(capsys, "event", "allocated", "--order", "ON-100013", "--store", str(outbox_store_path))
    assert rc == 2 and "Policy file refused" in err and "fulfilment.short_pick" in err
    with SqliteStore.open(outbox_store_path, read_only=True) as s:
        assert s.get_order("ON-100013").order.version == 2  # as the fixture left it
