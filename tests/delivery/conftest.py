"""A small demo store with a handful of queued customer messages, for the deliverer's tests."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from carecli.demo import DEMO_NOW, SCENARIOS

NOW = DEMO_NOW + timedelta(minutes=5)

EVENTS = [
    {"kind": "dispatched", "order_ref": SCENARIOS["packed"], "carrier": "AusPost", "tracking": "AP1"},
    {"kind": "delivered", "order_ref": SCENARIOS["dispatched"]},  # e-mail and SMS
    {"kind": "collected", "order_ref": SCENARIOS["click_and_collect_ready"]},  # e-mail and SMS
    {"kind": "short_picked", "order_ref": SCENARIOS["chicago_jacket"], "line_id": 2, "units": 1},
    {"kind": "backordered", "order_ref": SCENARIOS["booked"], "line_id": 1, "units": 1, "expected": "2026-12-20"},
]


@pytest.fixture(scope="session")
def outbox_template(tmp_path_factory) -> Path:
    from carecli.backend.sqlite import SqliteStore
    from carecli.backend.sqlite.load import build_demo
    from carecli.engine.events import parse_event

    path = tmp_path_factory.mktemp("outbox") / "demo.db"
    build_demo(path, orders=40, seed=7, parallel=False)
    with SqliteStore.open(path, clock=lambda: NOW) as s:
        for i, e in enumerate(EVENTS):
            r = s.ingest_event(parse_event({"event_id": f"D-{i}", "at": (NOW - timedelta(minutes=1)).isoformat(), **e}))
            assert r.status == "applied", r
    return path


@pytest.fixture
def outbox_store_path(outbox_template, tmp_path) -> Path:
    path = tmp_path / "store.db"
    shutil.copy(outbox_template, path)
    return path
