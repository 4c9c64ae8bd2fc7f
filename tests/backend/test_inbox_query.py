"""The exceptions inbox's set-based queries: the page limit is applied per source in SQL and still gives
the oldest items overall; an item counts as handled only by a person's action at or after it (the
timestamps are compared as instants, whether written with "Z" or "+00:00")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecli.backend.sqlite import SqliteStore
from carecli.backend.sqlite.load import build_demo
from carecli.demo import DEMO_NOW, SCENARIOS
from carecli.engine.events import parse_event

NOW = DEMO_NOW + timedelta(minutes=5)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("inbox") / "demo.db"
    build_demo(path, orders=60, seed=7, parallel=False)
    return path


@pytest.fixture
def store(template, tmp_path):
    import shutil

    path = tmp_path / "demo.db"
    shutil.copy(template, path)
    with SqliteStore.open(path, clock=lambda: NOW) as s:
        yield s


def test_every_page_size_gives_the_oldest_items_of_the_full_list(store):
    full = store.list_exceptions(limit=5000)
    assert len(full) >= 3, full  # the demo has short picks, a failed delivery and a declined charge
    assert len({it.kind for it in full}) >= 3
    assert [(it.since, it.order_ref, it.kind) for it in full] == sorted((it.since, it.order_ref, it.kind) for it in full)
    for n in (1, 2, len(full) - 1):
        assert store.list_exceptions(limit=n) == full[:n]


def test_a_note_before_an_exception_does_not_hide_it_a_note_after_it_does(store):
    ref = SCENARIOS["booked"]
    store.add_contact_note(ref, "Told the customer it ships Monday.", actor="agent.t")  # at NOW ("Z")
    later = (NOW + timedelta(seconds=1)).isoformat()  # "+00:00"
    r = store.ingest_event(parse_event({"kind": "short_picked", "event_id": "IQ-1", "order_ref": ref, "at": later,
                                        "line_id": 1, "units": 1}))
    assert r.status == "applied", r
    assert (ref, "short_pick") in {(i.order_ref, i.kind) for i in store.list_exceptions()}
    with SqliteStore.open(store._path, clock=lambda: NOW + timedelta(seconds=1)) as s2:
        s2.add_contact_note(ref, "Offered a substitute.", actor="agent.t")  # the same instant as the event
    assert (ref, "short_pick") not in {(i.order_ref, i.kind) for i in store.list_exceptions()}


def test_a_backorder_is_in_the_inbox_only_when_expected_within_the_horizon(store):
    def backorder(ref: str, line_id: int, eid: str, expected: str):
        r = store.ingest_event(parse_event({"kind": "backordered", "event_id": eid, "order_ref": ref,
                                            "line_id": line_id, "units": 1, "expected": expected,
                                            "at": (NOW - timedelta(seconds=10)).isoformat()}))
        assert r.status == "applied", r

    far, soon = SCENARIOS["booked"], SCENARIOS["chicago_jacket"]
    backorder(far, 1, "IQ-B1", (NOW + timedelta(days=30)).date().isoformat())  # a month away
    backorder(soon, 2, "IQ-B2", NOW.date().isoformat())  # expected today
    items = {(i.order_ref, i.kind): i for i in store.list_exceptions()}
    assert (far, "backorder") not in items
    assert items[(soon, "backorder")].line_id == 2 and "expected " + NOW.date().isoformat() in items[(soon, "backorder")].detail
