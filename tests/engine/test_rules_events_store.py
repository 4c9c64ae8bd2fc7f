"""The two event rules the store checks before the engine sees an event (they need the store's data):
``event.unknown_order`` and ``event.id_reused``. Against a real SQLite store (a small demo)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecli.backend.sqlite.load import build_demo
from carecli.backend.sqlite.store import SqliteStore
from carecli.demo import DEMO_NOW, SCENARIOS
from carecli.engine.events import parse_event
from carecli.engine.rules import RULES

AT = DEMO_NOW + timedelta(minutes=1)
BOOKED = SCENARIOS["booked"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules-events") / "demo.db"
    build_demo(path, orders=30, seed=7, parallel=False)
    with SqliteStore.open(path, clock=lambda: AT) as s:
        yield s


def _event(kind: str, ref: str, eid: str):
    return parse_event({"kind": kind, "event_id": eid, "order_ref": ref, "at": AT.isoformat()})


def test_an_event_for_an_order_the_store_does_not_have_is_refused_and_kept(store):
    r = store.ingest_event(_event("picked", "ON-999999", "RULE-U1"))
    assert (r.status, r.rule) == ("refused", "event.unknown_order") and "ON-999999" in r.reason
    assert [x.rule for x in store.rejected_events() if x.event_id == "RULE-U1"] == ["event.unknown_order"]
    assert "event.unknown_order" in RULES


def test_an_event_id_again_with_other_content_is_refused_and_the_same_content_is_a_duplicate(store):
    first = store.ingest_event(_event("allocated", BOOKED, "RULE-R1"))
    assert first.status != "refused", first
    assert store.ingest_event(_event("allocated", BOOKED, "RULE-R1")).status == "duplicate"
    r = store.ingest_event(_event("picked", BOOKED, "RULE-R1"))
    assert (r.status, r.rule) == ("refused", "event.id_reused") and "RULE-R1" in r.reason
    assert "event.id_reused" in RULES
