"""The OFFLINE badge on the exceptions inbox and on the new-order screen, as on search and the order:
the app over the HTTP backend (a real server on loopback, the HTTP tests' fixtures), the screen read,
then the server stopped and the next call to it fails — the app shows OFFLINE in the screen's header
and keeps what it read. Snapshots at 80×24 and 120×40, in carecli-dark and Textual's ansi-dark.

Deterministic as tests/tui/test_offline_snapshot.py: the HTTP tests' 60-order demo store, the demo's
fixed clock, and the toasts that say "offline" cleared before the picture.

Update after an intended change: ``pytest tests/tui/test_offline_screens.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from carecli.backend.http import Journal
from carecli.config import Settings
from carecli.demo import SEED_CASE_REF
from carecli.screens.inbox import InboxScreen
from carecli.screens.new_order import NewOrderScreen, PlaceDialog
from tests.http.conftest import clock, gateway, http_template, served, store_copy  # noqa: F401

from .conftest import ACTOR, SteadyCareApp, fixed_clock, in_front, open_order, search_loaded, settled, until
from .test_placing import choose_reason
from .test_snapshots import SIZES


def http_app(served, tmp_path, theme: str = "carecli-dark") -> SteadyCareApp:  # noqa: F811
    backend = served.client("agent", journal=Journal(tmp_path / "journal.db"), retries=1, connect_timeout=0.5)
    app = SteadyCareApp(backend, Settings(actor=ACTOR, theme=theme), clock=fixed_clock)
    app.animation_level = "none"
    return app


def badge_drawn(screen) -> bool:
    badge = screen.query_one(".offline-badge")
    return bool(badge.display and badge.region.width > 0)


async def clear_toasts(pilot: Pilot) -> None:
    pilot.app.clear_notifications()
    await settled(pilot)
    assert not pilot.app._notifications


async def inbox_offline(pilot: Pilot, served) -> InboxScreen:  # noqa: F811
    app = pilot.app
    await search_loaded(pilot)
    await pilot.press("f5")
    await in_front(pilot, InboxScreen)
    screen = app.screen
    await until(pilot, lambda: screen.loaded, "the inbox read")
    assert screen.items, "the demo's inbox is empty: nothing to keep on screen"
    assert not badge_drawn(screen)  # online: no badge
    served.stop()  # the server goes away
    await pilot.press("ctrl+r")  # the inbox read again: the backend cannot be reached
    await until(pilot, lambda: app.offline, "the app to notice it is offline")
    await settled(pilot)
    assert app.screen is screen and screen.items  # what was read stays on screen
    assert badge_drawn(screen), "the OFFLINE badge is not drawn on the inbox"
    return screen


async def new_order_offline(pilot: Pilot, served) -> NewOrderScreen:  # noqa: F811
    """A replacement of the seed's order drafted online; the server stops; placing it fails as offline."""
    app = pilot.app
    await search_loaded(pilot)
    await open_order(pilot, SEED_CASE_REF)
    await pilot.press("n")
    await in_front(pilot, NewOrderScreen)
    screen = app.screen
    assert not badge_drawn(screen)
    served.stop()
    await pilot.press("ctrl+s")
    await in_front(pilot, PlaceDialog)
    await choose_reason(pilot, "LOST_IN_TRANSIT")
    await pilot.press("ctrl+s")
    await until(pilot, lambda: app.offline and app.screen is screen and not screen.placing,
                "the placing to fail as offline")
    await settled(pilot)
    assert screen.result is None and screen.draft.lines  # nothing placed; the draft is kept
    assert badge_drawn(screen), "the OFFLINE badge is not drawn on the new-order screen"
    return screen


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
def test_inbox_offline_snapshot(theme, size, snap_compare, served, tmp_path):  # noqa: F811
    app = http_app(served, tmp_path, theme)

    async def run_before(pilot: Pilot) -> None:
        await inbox_offline(pilot, served)
        await clear_toasts(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
def test_new_order_offline_snapshot(theme, size, snap_compare, served, tmp_path):  # noqa: F811
    app = http_app(served, tmp_path, theme)

    async def run_before(pilot: Pilot) -> None:
        await new_order_offline(pilot, served)
        await clear_toasts(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.asyncio
async def test_placing_is_refused_while_offline_and_the_draft_is_kept(served, tmp_path):  # noqa: F811
    """Once the app knows it is offline, Ctrl+S on a draft says so at once and opens no dialog: an order
    is not sent blind (the journal would send it again later, placing it behind the agent's back)."""
    app = http_app(served, tmp_path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await new_order_offline(pilot, served)
        pending = len(Journal(tmp_path / "journal.db").pending(served.url))
        await clear_toasts(pilot)
        lines = list(screen.draft.lines)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen, app.screen  # no place dialog
        assert any("cannot be placed now" in n.message for n in app._notifications), \
            [n.message for n in app._notifications]
        assert screen.draft.lines == lines and screen.result is None
        assert len(Journal(tmp_path / "journal.db").pending(served.url)) == pending  # nothing more journalled
