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


# -- F1 shows the keys of the screen (and the tab) in front; every tab has its own key -----------------


def help_text(app) -> str:
    """The help's table of keys as plain text (all of it, scrolled or not)."""
    import io

    from rich.console import Console

    help_screen = app.screen
    assert isinstance(help_screen, HelpScreen)
    console = Console(width=160, file=io.StringIO(), record=True, color_system=None)
    console.print(help_screen.keys_table())
    return console.export_text()


def footer_keys(app) -> list[tuple[str, object]]:
    """The keys the footer of the screen in front shows (enabled or dimmed), as the footer draws them."""
    return [(key, ab.binding) for key, ab in app.screen.active_bindings.items()
            if ab.binding.show and not ab.binding.system]


async def help_lists_the_footer(pilot, where: str) -> str:
    app = pilot.app
    shown = footer_keys(app)
    assert shown, f"{where}: the footer shows no key"
    front = app.screen
    await pilot.press("f1")
    await in_front(pilot, HelpScreen)
    listed = help_text(app)
    for key, binding in shown:
        label = app.get_key_display(binding)
        assert label in listed, f"{where}: key {label} ({binding.action}) is in the footer, not in F1:\n{listed}"
        what = binding.tooltip or binding.description
        assert what in listed, f"{where}: {what!r} ({label}) is not in F1:\n{listed}"
        if binding.id:
            assert binding.id in listed, f"{where}: id {binding.id} is not in F1"
    await pilot.press("escape")
    await until(pilot, lambda: app.screen is front, f"back to {where}")
    return listed


@pytest.mark.asyncio
async def test_f1_on_every_screen_lists_every_key_its_footer_shows_and_the_returns_tabs_keys(app_factory):
    from carecli.demo import SCENARIOS
    from carecli.screens.account import AccountScreen
    from carecli.screens.inbox import InboxScreen
    from carecli.screens.new_order import NewOrderScreen

    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        await help_lists_the_footer(pilot, "search")
        await pilot.press("f5")
        await in_front(pilot, InboxScreen)
        await help_lists_the_footer(pilot, "inbox")
        await pilot.press("escape")
        await search_loaded(pilot)

        app.push_screen(OrderScreen(SCENARIOS["delivered_in_window"]))
        await until(pilot, lambda: getattr(app.screen, "session", None) is not None, "the order")
        await settled(pilot)
        on_lines = await help_lists_the_footer(pilot, "order, lines tab")
        assert "returns.create" not in on_lines  # the Returns tab's keys only while it is in front
        assert "order.tab_returns" in on_lines and "Show the Returns tab" in on_lines
        await pilot.press("6")
        await settled(pilot)
        assert app.screen.query_one("#order-tabs").active == "tab-returns"
        on_returns = await help_lists_the_footer(pilot, "order, returns tab")
        for binding_id in ("returns.create", "returns.exchange", "returns.receive", "returns.verify",
                           "returns.refund", "returns.close"):
            assert binding_id in on_returns, binding_id
        # The tab's own keys come first, under their own heading, then the order's, then the app's.
        assert on_returns.index("Returns tab") < on_returns.index("returns.create") < on_returns.index("Order") \
            < on_returns.index("order.quantity") < on_returns.index("Everywhere")
        await pilot.press("1")
        await settled(pilot)

        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None,
                    "the billing account")
        await settled(pilot)
        await help_lists_the_footer(pilot, "billing account")
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)

        await pilot.press("n")  # a replacement of this order: the new-order screen
        await in_front(pilot, NewOrderScreen)
        await help_lists_the_footer(pilot, "new order")


@pytest.mark.asyncio
async def test_f1_leaves_out_what_read_only_hides(app_factory):
    app = app_factory(role="supervisor")
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        app.push_screen(OrderScreen(SEED_CASE_REF))
        await until(pilot, lambda: getattr(app.screen, "session", None) is not None, "the order")
        await settled(pilot)
        listed = await help_lists_the_footer(pilot, "read-only order")
        assert "order.account" in listed and "order.commit" not in listed and "order.quantity" not in listed


@pytest.mark.asyncio
async def test_each_order_tab_has_a_key_and_tab_gets_from_a_table_back_to_the_tab_row(app_factory):
    from textual.widgets import DataTable
    from textual.widgets._tabbed_content import ContentTabs

    from carecli.screens.order import TABS

    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        screen = OrderScreen(SEED_CASE_REF)
        app.push_screen(screen)
        await until(pilot, lambda: screen.session is not None and screen.is_current, "the order")
        await settled(pilot)
        tabs = screen.query_one("#order-tabs")
        for n, (pane, label) in reversed(list(enumerate(TABS, 1))):
            await pilot.press(str(n))
            await settled(pilot)
            assert tabs.active == pane, (n, label, tabs.active)
            # the focus is in the tab shown (its table, or its text to scroll), not left behind
            assert app.focused is not None and tabs.get_pane(pane) in app.focused.ancestors_with_self, \
                (label, app.focused)
        assert isinstance(app.focused, DataTable) and app.focused.id == "lines"
        await pilot.press("tab")
        assert isinstance(app.focused, ContentTabs), app.focused
        await pilot.press("tab")
        assert app.focused.id == "lines"
        await pilot.press("shift+tab")
        assert isinstance(app.focused, ContentTabs), app.focused
        await pilot.press("4", "shift+tab")  # from the staged changes back to the tab row
        assert tabs.active == "tab-amend" and isinstance(app.focused, ContentTabs), app.focused
        await pilot.press("6", "tab", "tab")  # the Returns tab: its two tables, then the tab row
        assert tabs.active == "tab-returns" and isinstance(app.focused, ContentTabs), app.focused


@pytest.mark.asyncio
async def test_a_tab_key_remapped_in_settings_by_its_id_works_and_f1_shows_it(open_store):
    settings = Settings(actor=ACTOR, keymap={"order.tab_returns": "f6"})
    app = SteadyCareApp(open_store(), settings, clock=fixed_clock)
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        screen = OrderScreen(SEED_CASE_REF)
        app.push_screen(screen)
        await until(pilot, lambda: screen.session is not None and screen.is_current, "the order")
        await settled(pilot)
        await pilot.press("6")
        await settled(pilot)
        assert screen.query_one("#order-tabs").active == "tab-lines"  # the old key no longer does it
        await pilot.press("f1")
        await in_front(pilot, HelpScreen)
        row = next(line for line in help_text(app).splitlines() if "order.tab_returns" in line)
        assert row.split()[0] == "f6", row
        await pilot.press("escape")
        await in_front(pilot, OrderScreen)
        await pilot.press("f6")
        await settled(pilot)
        assert screen.query_one("#order-tabs").active == "tab-returns"


@pytest.mark.asyncio
async def test_f1_in_a_dialog_lists_the_dialogs_keys(app_factory):
    from carecli.screens.account import AccountScreen, DocumentDialog
    from carecli.screens.dialogs import ShippingDialog, VariantDialog

    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        app.push_screen(OrderScreen(SEED_CASE_REF))
        await until(pilot, lambda: getattr(app.screen, "session", None) is not None, "the order")
        await settled(pilot)
        for key, kind, ids in (("q", QuantityDialog, ("dialog.submit", "dialog.cancel")),
                               ("a", VariantDialog, ("dialog.submit", "dialog.filter", "dialog.cancel")),
                               ("s", ShippingDialog, ("dialog.cancel",))):
            await pilot.press(key)
            await in_front(pilot, kind)
            listed = await help_lists_the_footer(pilot, kind.__name__)
            assert all(i in listed for i in ids), (kind.__name__, listed)
            assert "order.quantity" not in listed  # the order's keys do not work behind a dialog
            await pilot.press("escape")
            await in_front(pilot, OrderScreen)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None,
                    "the billing account")
        await settled(pilot)
        await pilot.press("enter")
        await in_front(pilot, DocumentDialog)
        listed = await help_lists_the_footer(pilot, "document")
        assert "document.close" in listed and "document.page_down" in listed
