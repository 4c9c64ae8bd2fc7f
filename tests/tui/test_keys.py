"""Keys as an agent lives with them: remapping by binding id, the command palette, F1 help, themes."""

from __future__ import annotations

import pytest

from carecli.config import Settings
from carecli.demo import SEED_CASE_REF
from carecli.screens.dialogs import QuantityDialog
from carecli.screens.help import HelpScreen
from carecli.screens.order import OrderScreen

from .conftest import ACTOR, SteadyCareApp, fixed_clock, in_front, screen_text, search_loaded, settled, until

WIDE = (120, 40)


@pytest.mark.asyncio
async def test_a_key_remapped_in_settings_by_its_id_works(open_store):
    settings = Settings(actor=ACTOR, keymap={"order.quantity": "f5"})
    app = SteadyCareApp(open_store(), settings, clock=fixed_clock)
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        app.push_screen(OrderScreen(SEED_CASE_REF))
        await until(pilot, lambda: getattr(app.screen, "session", None) is not None, "the order")
        await settled(pilot)
        await pilot.press("q")  # the old key no longer opens the dialog
        await pilot.pause()
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("f5")
        await in_front(pilot, QuantityDialog)


@pytest.mark.asyncio
async def test_the_command_palette_opens_an_order_by_its_ref(app_factory):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "100001":
            await pilot.press(ch)
        await until(pilot, lambda: "Open order ON-100001" in str(app.screen.query("CommandList").first().
                                                               get_option_at_index(0).prompt)
                    if app.screen.query("CommandList") and app.screen.query("CommandList").first().option_count
                    else False, "the palette's hit")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the order screen")
        assert app.screen.ref == "ON-100001"


@pytest.mark.asyncio
async def test_f1_lists_the_keys_of_the_screen_in_front_with_their_ids(app_factory):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        app.push_screen(OrderScreen(SEED_CASE_REF))
        await until(pilot, lambda: getattr(app.screen, "session", None) is not None, "the order")
        await pilot.press("f1")
        await in_front(pilot, HelpScreen)
        await settled(pilot)
        shown = screen_text(app)
        assert "order.quantity" in shown and "Change the highlighted line's quantity" in shown
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)


@pytest.mark.asyncio
async def test_an_unknown_theme_in_settings_is_named_and_the_app_opens(open_store):
    app = SteadyCareApp(open_store(), Settings(actor=ACTOR, theme="nope"), clock=fixed_clock)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await search_loaded(pilot)
        assert app.theme == "carecli-dark"
        assert any("key theme" in n.message and "nope" in n.message for n in app._notifications)
