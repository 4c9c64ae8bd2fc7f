"""Snapshot of the OFFLINE badge: the app over the HTTP backend (a real server on loopback, the HTTP
tests' fixtures), the seed's order read, then the server stopped and the order read again — the
backend says it is unreachable and the app shows OFFLINE beside the order's title, keeping what it
read. 80×24 and 120×40, in carecli-dark and Textual's ansi-dark.

Deterministic: the HTTP tests' 60-order demo store, the demo's fixed clock, and the toasts that say
"offline" cleared before the picture (they are tested in tests/http/test_tui_http.py); the server's
port and the agent's token are nowhere on screen.

Update after an intended change: ``pytest tests/tui/test_offline_snapshot.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from carecli.backend.http import Journal
from carecli.config import Settings
from carecli.demo import SEED_CASE_REF
from tests.http.conftest import clock, gateway, http_template, served, store_copy  # noqa: F401

from .conftest import ACTOR, SteadyCareApp, fixed_clock, search_loaded, settled, until
from .test_snapshots import SIZES, open_order


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ["carecli-dark", "ansi-dark"])
def test_offline_badge_snapshot(theme, size, snap_compare, served, tmp_path):  # noqa: F811
    backend = served.client("agent", journal=Journal(tmp_path / "journal.db"), retries=1, connect_timeout=0.5)
    app = SteadyCareApp(backend, Settings(actor=ACTOR, theme=theme), clock=fixed_clock)
    app.animation_level = "none"

    async def run_before(pilot: Pilot) -> None:
        await search_loaded(pilot)
        screen = await open_order(pilot, SEED_CASE_REF)
        assert not app.offline
        served.stop()  # the server goes away
        await pilot.press("ctrl+r")  # the order read again: the backend cannot be reached
        await until(pilot, lambda: app.offline, "the app to notice it is offline")
        await settled(pilot)
        assert app.screen is screen and screen.session is not None  # what was read stays on screen
        badge = screen.query_one(".offline-badge")
        assert badge.display and badge.region.width > 0, "the OFFLINE badge is not drawn"
        app.clear_notifications()
        await settled(pilot)
        assert not app._notifications

    assert snap_compare(app, terminal_size=size, run_before=run_before)
