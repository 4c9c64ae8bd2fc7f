"""The exceptions inbox and the timeline's messages: snapshots (80×24, 120×40; carecli-dark and
ansi-dark) and Pilot flows (keys, remedies, read-only) over a real demo store on the fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from carecli.delivery import FileSender, deliver_pass
from carecli.demo import DEMO_NOW, SCENARIOS
from carecli.engine.events import parse_event
from carecli.screens.dialogs import AppeasementDialog, VariantDialog
from carecli.screens.inbox import InboxScreen, NoteDialog, age_text
from carecli.screens.order import OrderScreen

from .conftest import in_front, search_loaded, settled, until

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SHORT = SCENARIOS["short_picked"]  # ON-100002: line 1 short picked (the demo's), refunded
PACKED = SCENARIOS["packed"]  # ON-100015


async def open_inbox(pilot: Pilot) -> InboxScreen:
    await search_loaded(pilot)
    await pilot.press("f5")
    await in_front(pilot, InboxScreen)
    screen = pilot.app.screen
    await until(pilot, lambda: screen.loaded, "the inbox read")
    await settled(pilot)
    return screen


def rows(screen: InboxScreen) -> list[tuple[str, str]]:
    return [(it.order_ref, it.kind) for it in screen.items]


def select(screen: InboxScreen, ref: str, kind: str) -> None:
    table = screen.query_one("#inbox", DataTable)
    table.move_cursor(row=rows(screen).index((ref, kind)))


def events_on_packed(env_store) -> None:
    """ON-100015 dispatched (its message delivered as a file), then a failed delivery (message queued)."""
    s = env_store()
    at = DEMO_NOW - timedelta(hours=2)
    s.ingest_event(parse_event({"kind": "dispatched", "event_id": "WMS-D1", "order_ref": PACKED,
                                "at": at.isoformat(), "carrier": "AusPost", "tracking": "AP 7731 0042"}))
    return s


# -- snapshots -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
def test_inbox_snapshot(theme, size, snap_compare, app_factory):
    async def run_before(pilot):
        screen = await open_inbox(pilot)
        assert (SHORT, "short_pick") in rows(screen)
        assert not pilot.app._notifications

    assert snap_compare(app_factory(theme=theme), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_inbox_read_only_snapshot(size, snap_compare, app_factory):
    async def run_before(pilot):
        await open_inbox(pilot)

    assert snap_compare(app_factory(role="supervisor"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_note_dialog_snapshot(size, snap_compare, app_factory):
    async def run_before(pilot):
        screen = await open_inbox(pilot)
        select(screen, SHORT, "short_pick")
        await pilot.press("n")
        await in_front(pilot, NoteDialog)

    assert snap_compare(app_factory(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
def test_timeline_with_messages_and_their_delivery_snapshot(theme, size, snap_compare, app_factory, open_store,
                                                            tmp_path):
    s = events_on_packed(open_store)
    deliver_pass(s, FileSender(tmp_path / "outbox"))  # the dispatch message is sent
    s.ingest_event(parse_event({"kind": "delivery_failed", "event_id": "CAR-F1", "order_ref": PACKED,
                                "at": (DEMO_NOW - timedelta(hours=1)).isoformat(),
                                "reason": "no one home", "carrier": "AusPost", "tracking": "AP 7731 0042"}))

    async def run_before(pilot):
        screen = OrderScreen(PACKED)
        pilot.app.push_screen(screen)
        await until(pilot, lambda: screen.session is not None and screen.is_current, PACKED)
        await settled(pilot)
        await pilot.press("right", "right", "right", "right")
        await settled(pilot)
        table = screen.query_one("#timeline", DataTable)
        cells = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert any("Your order ON-100015 is on its way" in c and "· sent 2026-11-27 15:00" in c for c in cells)
        assert any("We could not deliver your order ON-100015" in c and "· queued" in c for c in cells)

    assert snap_compare(app_factory(theme=theme), terminal_size=size, run_before=run_before)


# -- flows -----------------------------------------------------------------------------------------------


def test_age_reads_like_a_person_would_say_it():
    assert [age_text(s) for s in (0, 59, 60, 3600 + 120, 86400 * 3 + 3600 * 4 + 5, 86400 * 99 + 3600 * 23,
                                  86400 * 107 + 3600 * 14)] == [
        "now", "now", "1m", "1h 2m", "3d 4h", "99d 23h", "107d"]
    # every age fits the narrow layout's column (7)
    assert all(len(age_text(86400 * d + 3600 * 23)) <= 7 for d in range(0, 10_000, 7))


@pytest.mark.asyncio
async def test_the_inbox_is_reached_from_search_and_lists_oldest_first_and_enter_opens(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_inbox(pilot)
        assert [i.since for i in screen.items] == sorted(i.since for i in screen.items)
        assert {(SHORT, "short_pick"), (SCENARIOS["dispatched"], "delivery_failed"),
                (SCENARIOS["declining_card"], "payment_declined")} <= set(rows(screen))
        select(screen, SHORT, "short_pick")
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        assert pilot.app.screen.ref == SHORT
        await pilot.press("escape")
        await in_front(pilot, InboxScreen)


@pytest.mark.asyncio
async def test_the_command_palette_opens_the_inbox(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await search_loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "exceptions inbox":
            await pilot.press(ch if ch != " " else "space")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await in_front(pilot, InboxScreen)


@pytest.mark.asyncio
async def test_substitute_opens_the_replace_dialog_on_the_exceptions_line(app_factory, open_store):
    s = open_store()
    s.ingest_event(parse_event({"kind": "backordered", "event_id": "WMS-B1", "order_ref": SCENARIOS["chicago_jacket"],
                                "at": DEMO_NOW.isoformat(), "line_id": 1, "units": 1,
                                "expected": (DEMO_NOW + timedelta(days=1)).date().isoformat()}))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_inbox(pilot)
        select(screen, SCENARIOS["chicago_jacket"], "backorder")
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        order = pilot.app.screen_stack[-2]
        assert isinstance(order, OrderScreen) and order._line().line_id == 1


@pytest.mark.asyncio
async def test_cancel_line_stages_the_unshipped_units_with_their_refund_in_the_preview(app_factory, open_store):
    s = open_store()
    s.ingest_event(parse_event({"kind": "backordered", "event_id": "WMS-B2", "order_ref": SCENARIOS["chicago_jacket"],
                                "at": DEMO_NOW.isoformat(), "line_id": 1, "units": 1,
                                "expected": DEMO_NOW.date().isoformat()}))
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_inbox(pilot)
        select(screen, SCENARIOS["chicago_jacket"], "backorder")
        await pilot.press("x")
        await in_front(pilot, OrderScreen)
        order = pilot.app.screen
        await until(pilot, lambda: order.session is not None and order.session.staged, "the staged cancellation")
        assert [(a.kind, a.line_id) for a in order.session.staged] == [("remove_line", 1)]
        assert order.session.preview is not None and order.session.preview.delta.is_negative
        assert order.query_one("#order-tabs").active == "tab-amend"


@pytest.mark.asyncio
async def test_goodwill_opens_the_appeasement_dialog(app_factory):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_inbox(pilot)
        select(screen, SCENARIOS["dispatched"], "delivery_failed")
        await pilot.press("g")
        await in_front(pilot, AppeasementDialog)


@pytest.mark.asyncio
async def test_a_contact_note_is_saved_on_the_timeline_and_the_order_leaves_the_inbox(app_factory, open_store):
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_inbox(pilot)
        select(screen, SHORT, "short_pick")
        await pilot.press("n")
        await in_front(pilot, NoteDialog)
        pilot.app.screen.query_one("#note", Input).value = "Called her: keeps the rest, refund is fine."
        await pilot.press("enter")
        await in_front(pilot, InboxScreen)
        await until(pilot, lambda: (SHORT, "short_pick") not in rows(screen), "the inbox without the order")
    timeline = open_store().get_timeline(SHORT)
    assert any(t.title.startswith("Contact note by kim (agent)") and "keeps the rest" in t.detail for t in timeline)


@pytest.mark.asyncio
async def test_read_only_hides_the_remedies_and_changes_nothing(app_factory, open_store):
    app = app_factory(role="supervisor")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_inbox(pilot)
        for action in ("substitute", "cancel_line", "appease", "note"):
            assert screen.check_action(action, ()) is False
        select(screen, SHORT, "short_pick")
        await pilot.press("n", "g", "x", "r")
        await pilot.pause()
        assert pilot.app.screen is screen
    assert not any(t.title.startswith("Contact note") for t in open_store().get_timeline(SHORT))
