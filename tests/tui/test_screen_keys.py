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
from carecli.screens.dialogs.returns import RefundDialog, SettleExchangeDialog
from carecli.screens.returns import ReturnsPane

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


# -- the order's tab row: Down goes into the tab; the Returns tab has no Tab stop of its own -------------


async def open_order_screen(pilot, ref: str) -> OrderScreen:
    screen = OrderScreen(ref)
    pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.session is not None and screen.is_current, f"order {ref}")
    await settled(pilot)
    return screen


def on_tab_row(app) -> bool:
    from textual.widgets import Tabs

    return isinstance(app.focused, Tabs) and app.focused.parent.id == "order-tabs"


@pytest.mark.asyncio
async def test_down_on_the_tab_row_moves_into_the_tab_shown(app_factory):
    from carecli.screens.order import TABS

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_order_screen(pilot, DELIVERED)
        tabs = screen.query_one("#order-tabs")
        assert on_tab_row(app), app.focused  # where the order opens
        expected = {"tab-lines": "lines", "tab-amend": "staged", "tab-timeline": "timeline",
                    "tab-returns": "ret-lines"}
        for n, (pane, label) in enumerate(TABS, 1):
            await pilot.press(str(n), "shift+tab")  # the tab shown, then back up to the tab row
            await settled(pilot)
            assert on_tab_row(app) and tabs.active == pane, (label, app.focused)
            assert screen.check_action("into_tab", ()) is True
            await pilot.press("down")
            await settled(pilot)
            assert tabs.active == pane, (label, tabs.active)  # the same tab, now with the focus in it
            assert app.focused is not None and tabs.get_pane(pane) in app.focused.ancestors_with_self, \
                (label, app.focused)
            if pane in expected:
                assert app.focused.id == expected[pane], (label, app.focused)
            else:  # Fulfilment, Money: their text, to scroll
                assert app.focused.__class__.__name__ == "VerticalScroll", (label, app.focused)
            # Down inside the tab is the table's own (the cursor), never this key again
            assert screen.check_action("into_tab", ()) is False
        # Left and Right on the tab row still change tabs
        await pilot.press("1", "shift+tab", "right")
        await settled(pilot)
        assert tabs.active == "tab-fulfilment" and on_tab_row(app)


@pytest.mark.asyncio
async def test_f1_on_the_tab_row_lists_down_and_a_table_keeps_its_own_down(app_factory):
    from carecli.screens.help import HelpScreen

    from .test_keys import help_text

    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_order_screen(pilot, DELIVERED)
        assert on_tab_row(app)
        await pilot.press("f1")
        await in_front(pilot, HelpScreen)
        assert "order.into_tab" in help_text(app)
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)
        await pilot.press("down")  # into the lines table: its cursor is on the first row
        await settled(pilot)
        lines = screen.query_one("#lines", DataTable)
        assert app.focused is lines and lines.cursor_row == 0
        await pilot.press("down")  # the table's own Down moves its cursor
        await settled(pilot)
        assert app.focused is lines and lines.cursor_row == 1
        await pilot.press("f1")
        await in_front(pilot, HelpScreen)
        assert "order.into_tab" not in help_text(app)


@pytest.mark.asyncio
async def test_the_returns_tab_has_no_tab_stop_of_its_own(app_factory):
    from carecli.screens.dialogs.returns import ReturnLineDialog

    app = app_factory()
    make_return(app.backend, 1)  # a return order in progress (the trail shoe)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_order_screen(pilot, DELIVERED)
        pane = screen.query_one(ReturnsPane)
        await pilot.press("6")
        await until(pilot, lambda: pane.eligibility is not None and pane.returns, "the returns tab read")
        await settled(pilot)
        assert app.focused.id == "ret-lines"
        # one tee on the draft: its refund preview pushes the return orders down the pane
        await pilot.press("down", "enter")
        await in_front(pilot, ReturnLineDialog)
        await pilot.press("end", "backspace", "1", "tab", "enter", "down", "enter", "ctrl+s")
        await until(pilot, lambda: 2 in pane.draft and isinstance(app.screen, OrderScreen), "the draft")
        await settled(pilot)
        assert app.focused.id == "ret-lines"
        visited = []
        for _ in range(6):  # Tab twice round: the lines, the return orders, the tab row
            await pilot.press("tab")
            await settled(pilot)
            visited.append("tab row" if on_tab_row(app) else app.focused.id)
            assert app.focused is not pane
        assert visited == ["ret-list", "tab row", "ret-lines"] * 2, visited
        for _ in range(3):
            await pilot.press("shift+tab")
            await settled(pilot)
            assert app.focused is not pane
        assert app.focused.id == "ret-lines"

        # The return order's detail (what to do next) comes into view with the focus: the pane is
        # not scrolled by keys any more, so its tables bring the text that explains them along.
        detail = pane.query_one("#ret-detail")
        assert not pane.region.contains_region(detail.region)  # below the fold at 80×24
        await pilot.press("tab")
        await settled(pilot)
        assert app.focused.id == "ret-list"
        await until(pilot, lambda: detail.region.height > 0 and pane.region.contains_region(detail.region),
                    "the return's detail to be in view")
        assert "next: e when the parcel arrives" in screen_text(app)
        await pilot.press("shift+tab")  # back to the lines: their explanation and the preview again
        await settled(pilot)
        preview = pane.query_one("#ret-preview")
        await until(pilot, lambda: pane.region.contains_region(pane.query_one("#ret-lines").region)
                    and pane.region.contains_region(preview.region), "the lines and the preview in view")


# -- F1 inside a dialog: its keys, then the app-wide keys that work there ---------------------------------


def help_rows(app) -> list[str]:
    from .test_keys import help_text

    return [line.strip() for line in help_text(app).splitlines() if line.strip()]


@pytest.mark.asyncio
async def test_f1_in_a_dialog_lists_the_app_wide_keys_below_the_dialogs(open_store):
    from carecli.screens.dialogs import QuantityDialog
    from carecli.screens.help import HelpScreen, help_entries

    settings = Settings(actor=ACTOR, keymap={"theme": "f8"})
    app = SteadyCareApp(open_store(), settings, clock=fixed_clock)
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_order_screen(pilot, DELIVERED)
        await pilot.press("1", "q")
        await in_front(pilot, QuantityDialog)
        dialog = app.screen
        entries = help_entries(dialog)
        sections = [e.section for e in entries]
        assert sections[0] == "Quantity" and sections[-1] == "Everywhere"
        assert sections == sorted(sections, key=lambda s: s == "Everywhere"), sections  # two groups, in order
        everywhere = {e.id: e for e in entries if e.section == "Everywhere"}
        assert set(everywhere) == {"dialog.help", "quit", "theme"}, everywhere
        assert everywhere["theme"].keys == ("f8",) and everywhere["quit"].keys == ("^q",)
        assert {e.id for e in entries if e.section == "Quantity"} >= {"dialog.submit", "dialog.cancel"}

        await pilot.press("f1")
        await in_front(pilot, HelpScreen)
        rows = help_rows(app)
        heading = rows.index("Everywhere")
        assert any("dialog.submit" in r for r in rows[:heading]), rows
        below = rows[heading + 1:]
        assert any(r.startswith("f1") and "dialog.help" in r for r in below), below
        assert any(r.startswith("^q") and "Leave carecli" in r and r.endswith("quit") for r in below), below
        assert any(r.startswith("f8") and "Switch to the next theme" in r for r in below), below
        assert not any("order.quantity" in r for r in rows)  # the order's keys do not work behind a dialog
        await pilot.press("escape")
        await in_front(pilot, QuantityDialog)

        # what is listed works there: the theme key changes the theme with the dialog open
        before = app.theme
        await pilot.press("f8")
        await settled(pilot)
        assert app.theme != before and app.screen is dialog
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)
