"""Keys an agent notices: the Returns tab's `f` named for what it does (Refund, or Settle on an
exchange), Down from the order's tab row into the tab, the Returns tab without an extra Tab stop, and
F1 inside a dialog listing the app-wide keys too.

Over a real demo store (tests/tui/conftest.py); the returns and exchanges are made through the backend
contract before the app opens, so each test starts where the agent would be.
"""

from __future__ import annotations

import uuid

import pytest
from textual.widgets import DataTable

from carecli.backend.contract import (
    CreateExchangeRequest, CreateReturnRequest, ReturnStepRequest, VerifyReturnRequest,
)
from carecli.config import Settings
from carecli.demo import SCENARIOS
from carecli.engine.returns import LineVerdict, ReplacementLine, ReturnLineRequest
from carecli.screens.order import OrderScreen
from carecli.screens.returns import RefundDialog, ReturnsPane, SettleExchangeDialog

from .conftest import ACTOR, SteadyCareApp, fixed_clock, in_front, screen_text, settled, until
from .test_returns import open_returns

DELIVERED = SCENARIOS["delivered_in_window"]  # line 1 trail shoe × 1, line 2 organic tee × 2


def _key() -> str:
    return f"test-{uuid.uuid4().hex}"


def make_return(backend, line_id: int, *, exchange_sku: str | None = None) -> str:
    """A return (or, with ``exchange_sku``, an exchange) of one unit of ``line_id`` on DELIVERED."""
    version = backend.get_order(DELIVERED).order.version
    base = CreateReturnRequest(order_ref=DELIVERED, expected_version=version, idempotency_key=_key(), actor=ACTOR,
                               lines=(ReturnLineRequest(line_id=line_id, quantity=1, reason_code="WRONG_SIZE",
                                                        condition="unopened"),))
    if exchange_sku is None:
        return backend.create_return(base).return_order.id
    req = CreateExchangeRequest(**base.model_dump(), replacements=(ReplacementLine(sku=exchange_sku, quantity=1),))
    return backend.create_exchange(req).return_order.id


def receive_and_verify(backend, ro_id: str) -> None:
    backend.receive_return(ReturnStepRequest(return_id=ro_id, idempotency_key=_key(), actor=ACTOR))
    ro = backend.get_return(ro_id)
    backend.verify_return(VerifyReturnRequest(return_id=ro_id, idempotency_key=_key(), actor=ACTOR,
                                              verdicts=tuple(LineVerdict(line_id=rl.line_id, accepted=True)
                                                             for rl in ro.lines)))


def f_key(app, key: str = "f") -> tuple[str, str, bool] | None:
    """What the footer shows for ``key``: (label, id, enabled), or None when it shows nothing."""
    ab = app.screen.active_bindings.get(key)
    return None if ab is None else (ab.binding.description, ab.binding.id, ab.enabled)


async def highlight_return(pilot, pane: ReturnsPane, ro_id: str) -> None:
    table = pane.query_one("#ret-list", DataTable)
    table.focus()
    table.move_cursor(row=[r.id for r in pane.returns].index(ro_id))
    await settled(pilot)
    assert pane._current_return().id == ro_id


# -- the Returns tab's f: Refund on a return, Settle on an exchange ---------------------------------------


@pytest.mark.asyncio
async def test_f_is_labelled_settle_on_an_exchange_and_refund_on_a_return(app_factory):
    app = app_factory()
    backend = app.backend
    exchange = make_return(backend, 2, exchange_sku="TEE-ORG-L-BLK")  # another size of the tee
    plain = make_return(backend, 1)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_returns(pilot, DELIVERED)
        await until(pilot, lambda: len(pane.returns) == 2, "both returns listed")
        # Not yet verified: each is named for what it will do, and dimmed
        await highlight_return(pilot, pane, exchange)
        assert f_key(app) == ("Settle", "returns.refund", False)
        assert "f Settle" in screen_text(app) and "f Refund" not in screen_text(app)
        await highlight_return(pilot, pane, plain)
        assert f_key(app) == ("Refund", "returns.refund", False)
        assert "f Refund" in screen_text(app) and "f Settle" not in screen_text(app)
        await pilot.press("f")  # dimmed: nothing opens
        await settled(pilot)
        assert isinstance(app.screen, OrderScreen)

        receive_and_verify(backend, exchange)
        receive_and_verify(backend, plain)
        await pilot.press("ctrl+r")  # the order (and its returns) read again
        await until(pilot, lambda: {r.state for r in pane.returns} == {"VERIFIED"}, "both verified")
        await settled(pilot)
        await highlight_return(pilot, pane, exchange)
        assert f_key(app) == ("Settle", "returns.refund", True)
        await pilot.press("f")
        await in_front(pilot, SettleExchangeDialog)
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)
        await highlight_return(pilot, pane, plain)
        assert f_key(app) == ("Refund", "returns.refund", True)
        await pilot.press("f")
        await in_front(pilot, RefundDialog)
        assert not isinstance(app.screen, SettleExchangeDialog)
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)

        # with no return order at all the key reads Refund (dimmed), never both
        pane.returns = []
        pane._render_list()
        app.screen.refresh_bindings()
        await settled(pilot)
        assert f_key(app) == ("Refund", "returns.refund", False)


@pytest.mark.asyncio
async def test_remapping_returns_refund_moves_both_faces_of_the_key(open_store):
    backend = open_store()
    exchange = make_return(backend, 2, exchange_sku="TEE-ORG-L-BLK")
    plain = make_return(backend, 1)
    receive_and_verify(backend, exchange)
    receive_and_verify(backend, plain)
    app = SteadyCareApp(backend, Settings(actor=ACTOR, keymap={"returns.refund": "f9"}), clock=fixed_clock)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_returns(pilot, DELIVERED)
        await until(pilot, lambda: len(pane.returns) == 2, "both returns listed")
        for ro_id, label, dialog in ((exchange, "Settle", SettleExchangeDialog), (plain, "Refund", RefundDialog)):
            await highlight_return(pilot, pane, ro_id)
            assert f_key(app, "f") is None  # the old key is gone for both faces
            assert f_key(app, "f9") == (label, "returns.refund", True)
            await pilot.press("f")
            await settled(pilot)
            assert isinstance(app.screen, OrderScreen)
            await pilot.press("f9")
            await in_front(pilot, dialog)
            assert type(app.screen) is dialog
            await pilot.press("escape")
            await in_front(pilot, OrderScreen)
