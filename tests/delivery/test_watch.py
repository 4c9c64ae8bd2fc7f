"""``carecli deliver --watch`` in its own process: it keeps delivering pass after pass (a message queued
while it runs goes out on a later pass), and SIGTERM or Ctrl+C (SIGINT) stops it cleanly — exit 0,
"stopped", every message sent exactly once, none left claimed or uncertain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.demo import SCENARIOS
from carecli.engine.events import parse_event

from .conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
RUN = "import sys; from carecli.cli import main; sys.exit(main(sys.argv[1:]))"


def _wait_for(predicate, what: str, proc: subprocess.Popen, limit: float = 60.0) -> None:
    """Poll until ``predicate()``; a generous limit only so a broken build fails instead of hanging."""
    end = time.monotonic() + limit
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"the deliverer exited ({proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"no {what} within {limit:g} s")
        time.sleep(0.05)


def _sent(path: Path) -> int:
    with SqliteStore.open(path, read_only=True) as s:
        return s.outbox_status().counts.get("sent", 0)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_watch_delivers_on_each_pass_and_stops_cleanly_on_a_signal(outbox_store_path, tmp_path, sig):
    outbox = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "CARECLI_DELIVERY__OUTBOX_DIR": str(outbox),
           "CARECLI_DELIVERY__WATCH_INTERVAL_SECONDS": "0.2"}
    proc = subprocess.Popen([sys.executable, "-c", RUN, "deliver", "--watch", "--store", str(outbox_store_path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _sent(outbox_store_path) == 7, "first pass (7 messages)", proc)
        # A message queued while the deliverer waits goes out on a later pass.
        with SqliteStore.open(outbox_store_path, clock=lambda: NOW) as s:
            r = s.ingest_event(parse_event({
                "kind": "dispatched", "event_id": "W-1", "order_ref": SCENARIOS["partly_dispatched"],
                "at": (NOW - timedelta(seconds=30)).isoformat(), "carrier": "UPS", "tracking": "1ZW",
                "lines": [{"line_id": 3, "quantity": 1}]}))
            assert r.status == "applied", r
            queued = 7 + len(r.notifications)
        assert queued > 7
        _wait_for(lambda: _sent(outbox_store_path) == queued, "later pass", proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "carecli deliver: stopped" in err and "Traceback" not in err
    sent_lines = [ln for ln in out.splitlines() if ln.startswith("sent ")]
    ids = [ln.split()[1] for ln in sent_lines]
    assert len(ids) == queued and len(set(ids)) == queued  # every message once, across the passes
    assert any(i.startswith(f"{SCENARIOS['partly_dispatched']}/event/W-1/") for i in ids)
    with SqliteStore.open(outbox_store_path, read_only=True) as s:
        counts = s.outbox_status().counts
    assert counts.get("sent") == queued
    assert not any(counts.get(k) for k in ("pending", "claimed", "failed", "uncertain", "dead")), counts
    files = list(outbox.rglob("*.eml")) + list(outbox.rglob("*.txt"))
    assert len(files) == queued
