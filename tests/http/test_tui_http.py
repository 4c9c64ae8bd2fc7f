"""The app over the HTTP backend (a real server on loopback): the conflict flow, offline, recovery."""

from __future__ import annotations

import pytest

from carecli.backend.contract import CommitRequest
from carecli.backend.http import Journal
from carecli.config import Settings
from carecli.demo import SEED_CASE_REF
from carecli.engine.commands import ChangeQuantity
from carecli.screens.dialogs import ConflictDialog, VariantDialog
from carecli.screens.order import OrderScreen
from carecli.server.app import create_app
from carecli.server.runner import ThreadedServer
from tests.tui.conftest import SteadyCareApp, fixed_clock, in_front, screen_text, settled, until
from tests.tui.test_flows import SEED_JACKET_L, WIDE, commit_by_keys, open_from_search


def make_app(served, tmp_path, who: str = "agent"):
    backend = served.client(who, journal=Journal(tmp_path / "journal.db"), retries=1, connect_timeout=0.5)
    app = SteadyCareApp(backend, Settings(actor="kim", theme="carecli-dark"), clock=fixed_clock)
    app.animation_level = "none"
    return app, backend


@pytest.mark.asyncio
async def test_conflict_flow_over_http(served, tmp_path):
    app, backend = make_app(served, tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        # another user commits first, through the server
        other = served.client("supervisor-rw")
        theirs = other.commit(CommitRequest(
            order_ref=SEED_CASE_REF, expected_version=1, amendments=(ChangeQuantity(line_id=2, quantity=2),),
            reason_code="CUSTOMER_REQUEST", idempotency_key="second-writer-http-1", actor="whoever"))
        assert theirs.order.version == 2
        await commit_by_keys(pilot, "WRONG_SIZE")
        await in_front(pilot, ConflictDialog)  # the server's 412 became the contract's VersionConflict
        assert "was changed by someone else (version 1 → 2)" in screen_text(app)
        await until(pilot, lambda: screen.session.view.order.version == 2, "the order to be read again")
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        await commit_by_keys(pilot, "WRONG_SIZE")
        await until(pilot, lambda: screen.session.view.order.version == 3, "version 3 to be read")
        final = other.get_order(SEED_CASE_REF).order
        assert final.lines[0].sku == SEED_JACKET_L and final.lines[1].quantity == 2
        audits = [e for e in other.get_timeline(SEED_CASE_REF) if e.kind == "audit"]
        assert len(audits) == 2
        assert "ana.agent" in audits[-1].title + audits[-1].detail  # the server records who signed in
        assert served.tokens["agent"] not in screen_text(app)


@pytest.mark.asyncio
async def test_offline_badge_refuses_commits_and_the_kept_change_is_sent_once_back_online(served, tmp_path):
    app, backend = make_app(served, tmp_path)
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        port = served.server.port
        served.stop()  # the server goes away
        await commit_by_keys(pilot, "WRONG_SIZE")  # the commit cannot get through
        await until(pilot, lambda: app.offline, "the app to notice it is offline")
        assert "OFFLINE" in app.sub_title
        text = screen_text(app)
        assert "OFFLINE" in text and "Dana Whitfield" in text  # what was read stays on screen
        assert len(Journal(tmp_path / "journal.db").pending(served.url)) == 1  # kept, same key
        await pilot.press("ctrl+s")  # refused at once while offline
        await pilot.pause()
        assert isinstance(app.screen, OrderScreen)
        assert any("nothing can be committed now" in n.message for n in app._notifications)
        # the server is back (same port); the probe finds it and the kept change is sent once
        again = ThreadedServer(create_app(served.path, clock=None), port=port).start()
        try:
            app._probe()
            await until(pilot, lambda: not app.offline, "the app to be back online")
            await settled(pilot)
            await until(pilot, lambda: not Journal(tmp_path / "journal.db").pending(served.url),
                        "the kept change to be sent")
            await until(pilot, lambda: any("has now been applied" in n.message for n in app._notifications),
                        "the agent to be told the kept change was applied")
            assert "OFFLINE" not in app.sub_title
            assert backend.get_order(SEED_CASE_REF).order.version == 2
            assert backend.get_order(SEED_CASE_REF).order.lines[0].sku == SEED_JACKET_L
        finally:
            again.stop()
        assert screen.session is not None
