"""The amend session's dialogs, driven through the keys in a tiny host app at 80×24.

Each test pushes one dialog with data from ``tests/engine/factory.py``, presses keys, and asserts on the
value the dialog dismissed with (captured by the push_screen callback) or, when it refuses, on the
message it shows while it stays open.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static

from carecli.backend.contract import ReferenceData, VersionConflict
from carecli.engine.commands import (
    AddLine, AppeasementCredit, AppeasementDiscount, ChangeAddress, ChangePickupLocation, ChangeQuantity,
    ChangeShippingMethod, ReplaceProduct, SwitchFulfilment,
)
from carecli.engine.model import ClickAndCollect, Discount, HomeDelivery
from carecli.engine.money import Money
from carecli.screens.dialogs import (
    MAJOR_TEXT, MINOR_TEXT, AddressDialog, AppeasementDialog, CommitDialog, ConfirmDialog, ConflictDialog,
    PickupDialog, QuantityDialog, ShippingDialog, SwitchDialog, VariantDialog, hours_text, money_effect,
)
from tests.engine.factory import CATALOG, CHICAGO, LOCATIONS, MILWAUKEE, POLICY, collect, line, order, variant

REFERENCE = ReferenceData(variants=list(CATALOG.values()), locations=list(LOCATIONS.values()), policy=POLICY)
SIZE = (80, 24)
NOT_DISMISSED = object()
HOSTILE = "Evil [@click=app.quit] \x1b]52;c;SGVsbG8=\x07Jacket"


class Host(App[None]):
    """Pushes one dialog and keeps what it dismissed with."""

    def __init__(self, dialog: Any) -> None:
        super().__init__()
        self.dialog = dialog
        self.result: Any = NOT_DISMISSED

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self._done)

    def _done(self, result: Any) -> None:
        self.result = result


def seed_order():
    return order(line(1, "JKT-M", allocated=1), line(2, "HAT", allocated=1))


async def run(dialog: Any, *keys: str, check=None) -> Any:
    """Push ``dialog``, press ``keys``, run ``check(app, pilot)`` (may be async); the dismissed value."""
    app = Host(dialog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
        if check is not None:
            out = check(app, pilot)
            if hasattr(out, "__await__"):
                await out
        return app.result


async def fill(pilot: Pilot, selector: str, value: str) -> None:
    """Focus an input, clear it with the keys, type ``value`` (a long one is pasted, as the terminal's
    bracketed paste delivers it: one event, so the file stays fast)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    await pilot.press("end", "ctrl+u")
    if len(value) <= 4:
        await pilot.press(*value)
    else:
        field.post_message(events.Paste(value))
    await pilot.pause()


def message(app: App, selector: str = "#message") -> str:
    return str(app.screen.query_one(selector, Static).render())


def screen_text(app: App) -> str:
    """Everything painted on the terminal, as text (control segments such as cursor moves left out)."""
    console = Console(width=SIZE[0], height=SIZE[1], file=io.StringIO(), record=True, force_terminal=True,
                      color_system="truecolor")
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def painted_segments(app: App) -> str:
    update = app.screen._compositor.render_update(full=True)
    segments = update.__rich_console__(app.console, app.console.options)
    return "".join(s.text for s in segments if not s.control)


# -- 1. quantity ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_quantity_valid_is_staged():
    ln = line(1, "TEE", 3, allocated=3, picked=2)

    async def go(app, pilot):
        await fill(pilot, "#quantity", "5")
        await pilot.press("enter")

    assert await run(QuantityDialog(ln, 2, 99), check=go) == ChangeQuantity(line_id=1, quantity=5)


@pytest.mark.asyncio
async def test_quantity_below_what_is_picked_is_refused_in_place():
    ln = line(1, "TEE", 3, allocated=3, picked=2)

    async def go(app, pilot):
        assert "2 already picked" in message(app)  # the limit and why, before anything is typed
        await fill(pilot, "#quantity", "1")
        assert "Not below 2: 2 already picked" in message(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is NOT_DISMISSED
        assert isinstance(app.screen, QuantityDialog)
        assert app.screen.query_one("#quantity", Input).has_class("-invalid")
        assert "Not below 2" in message(app)
        await fill(pilot, "#quantity", "3")  # the quantity it already has
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is NOT_DISMISSED
        assert "already has quantity 3" in message(app)
        await fill(pilot, "#quantity", "100")
        assert "Not above 99" in message(app)

    assert await run(QuantityDialog(ln, 2, 99), check=go) is NOT_DISMISSED


@pytest.mark.asyncio
async def test_escape_dismisses_none():
    assert await run(QuantityDialog(line(1, "TEE", 2), 1, 99), "escape") is None


# -- 2. variants ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_replace_lists_the_other_sizes_first_and_picks_the_l_jacket():
    o = seed_order()

    async def go(app, pilot):
        table = app.screen.query_one("#variants")
        assert [str(k.value) for k in table.rows] == ["JKT-L", "JKT-S"]  # same product, not the line's own
        text = screen_text(app)
        assert "+10.00" in text and "−10.00" in text  # price difference vs the line's unit price
        await pilot.press("enter")

    assert await run(VariantDialog(o, REFERENCE, o.lines[0]), check=go) == ReplaceProduct(line_id=1, sku="JKT-L")


def test_a_size_swap_lists_the_same_colour_first():
    def v(size, colour, price="189.00"):
        return variant(f"PRK-{size}-{colour}", "Parka", price, attributes={"size": size, "colour": colour})

    variants = [v("L", "Black"), v("L", "Navy", "199.00"), v("M", "Black"), v("M", "Navy"), v("S", "Navy")]
    ref = ReferenceData(variants=variants, locations=[], policy=POLICY)
    ln = line(1, "HAT").model_copy(update={"sku": "PRK-M-Navy", "description": "Parka (Navy / M)"})
    dialog = VariantDialog(order(line(1, "HAT")), ref, ln)
    assert [x.sku for x in dialog.same_product] == ["PRK-L-Navy", "PRK-S-Navy", "PRK-M-Black", "PRK-L-Black"]


@pytest.mark.asyncio
async def test_replace_through_the_catalog_filter():
    o = seed_order()

    async def go(app, pilot):
        await pilot.press("f2", *"jkt-s", "enter")

    assert await run(VariantDialog(o, REFERENCE, o.lines[0]), check=go) == ReplaceProduct(line_id=1, sku="JKT-S")


@pytest.mark.asyncio
async def test_add_line_with_quantity_two_and_refusals_in_place():
    o = seed_order()

    async def go(app, pilot):
        await pilot.press(*"belt")  # Euro-only Belt: no USD price
        await pilot.pause()
        assert "no price in USD" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is NOT_DISMISSED and "no price in USD" in message(app)
        await fill(pilot, "#filter", "socks")
        await pilot.press("down")  # from the filter into the list
        await pilot.pause()
        assert app.screen.focused is app.screen.query_one("#variants")
        await fill(pilot, "#add-quantity", "2")
        await pilot.press("enter")

    assert await run(VariantDialog(o, REFERENCE, None), check=go) == AddLine(sku="SOCK", quantity=2)


# -- 3. address ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_address_major_change_is_told_and_staged():
    async def go(app, pilot):
        assert "No change yet" in message(app, "#address-kind")
        await fill(pilot, "#addr-line1", MILWAUKEE.line1)
        assert MINOR_TEXT in message(app, "#address-kind")
        assert "minor change (name, street, phone): allowed until dispatch" in message(app, "#address-kind")
        await fill(pilot, "#addr-city", MILWAUKEE.city)
        await fill(pilot, "#addr-region", "wi")  # upper-cased for the engine
        await fill(pilot, "#addr-postcode", MILWAUKEE.postcode)
        kind = message(app, "#address-kind")
        assert MAJOR_TEXT in kind
        assert "major change (postcode, city, state, country): re-rates tax and shipping" in kind
        await pilot.press("ctrl+s")

    assert await run(AddressDialog(seed_order(), REFERENCE), check=go) == ChangeAddress(address=MILWAUKEE)


@pytest.mark.asyncio
async def test_address_minor_change_submits_with_enter_on_the_last_field():
    async def go(app, pilot):
        await fill(pilot, "#addr-phone", "+1 414 555 0199")
        assert "minor change" in message(app, "#address-kind")
        await pilot.press("enter")

    result = await run(AddressDialog(seed_order(), REFERENCE), check=go)
    assert result == ChangeAddress(address=CHICAGO.model_copy(update={"phone": "+1 414 555 0199"}))


@pytest.mark.asyncio
async def test_an_invalid_zip_blocks_submit_and_names_the_postcode():
    async def go(app, pilot):
        await fill(pilot, "#addr-postcode", "6060")
        problem = app.screen.query_one("#addr-postcode-problem", Static)
        assert problem.display and "Postcode" in str(problem.render()) and "US ZIP" in str(problem.render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_DISMISSED
        assert "Postcode" in message(app) and "6060" in message(app)
        assert app.screen.focused is app.screen.query_one("#addr-postcode")
        await pilot.press("enter")  # Enter on another field moves on, never submits
        await pilot.pause()
        assert app.result is NOT_DISMISSED

    assert await run(AddressDialog(seed_order(), REFERENCE), check=go) is NOT_DISMISSED


@pytest.mark.asyncio
async def test_unchanged_address_is_refused_in_place():
    async def go(app, pilot):
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "unchanged" in message(app)

    assert await run(AddressDialog(seed_order(), REFERENCE), check=go) is NOT_DISMISSED


@pytest.mark.asyncio
async def test_switch_from_click_and_collect_to_home_delivery():
    o = order(line(1, "HAT"), fulfilment=collect("ST-CHI"))

    async def go(app, pilot):
        assert isinstance(app.screen, AddressDialog)
        assert app.screen.query_one("#addr-country", Input).value == "US"  # the market's country
        assert app.screen.query_one("#addr-name", Input).value == ""
        for name, value in (("name", MILWAUKEE.name), ("line1", MILWAUKEE.line1), ("city", MILWAUKEE.city),
                            ("region", MILWAUKEE.region), ("postcode", MILWAUKEE.postcode)):
            await fill(pilot, f"#addr-{name}", value)
        await pilot.press("ctrl+s")

    result = await run(SwitchDialog(o, REFERENCE), check=go)
    expected = MILWAUKEE.model_copy(update={"phone": ""})
    assert result == SwitchFulfilment(fulfilment=HomeDelivery(address=expected, shipping_method="STANDARD"))


# -- 4. shipping ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_shipping_method_choice_with_re_rated_fees():
    async def go(app, pilot):
        text = screen_text(app)
        assert "free (over USD 100.00)" in text and "(current)" in text  # 238.00 of goods ship free
        assert "USD 14.95" in text
        await pilot.press("enter")  # the current one
        await pilot.pause()
        assert app.result is NOT_DISMISSED and "already ships by Standard" in message(app)
        await pilot.press("down", "enter")

    result = await run(ShippingDialog(seed_order(), REFERENCE), check=go)
    assert result == ChangeShippingMethod(method="EXPRESS")


# -- 5. pickup -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pickup_choice_lists_the_market_s_stores_with_hours():
    o = order(line(1, "HAT"), fulfilment=collect("ST-CHI"))

    async def go(app, pilot):
        text = screen_text(app)
        assert "Chicago State St" in text and "Milwaukee Third Ward" in text
        assert "Sydney" not in text  # another market's store
        assert "Mon 10:00–20:00" in text and "(current)" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is NOT_DISMISSED and "already collected there" in message(app)
        await pilot.press("down", "enter")

    assert await run(PickupDialog(o, REFERENCE), check=go) == ChangePickupLocation(location_id="ST-MKE")


@pytest.mark.asyncio
async def test_switch_from_home_delivery_to_click_and_collect():
    result = await run(SwitchDialog(seed_order(), REFERENCE), "enter")
    assert result == SwitchFulfilment(fulfilment=ClickAndCollect(location_id="ST-CHI"))


def test_opening_hours_are_grouped_monday_to_sunday():
    hours = LOCATIONS["ST-CHI"].hours
    assert hours_text(hours) == "Mon 10:00–20:00 · Tue–Sun closed"
    assert hours_text(()) == "opening hours not known"


# -- 7. confirm ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("key, expected", [("y", True), ("enter", True), ("n", False), ("escape", False)])
async def test_confirm_yes_and_no(key, expected):
    assert await run(ConfirmDialog("Cancel order ON-1?", "Nothing happens until you commit."), key) is expected


# -- 8. appeasement ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_appeasement_credit_needs_a_reason_and_is_staged():
    async def go(app, pilot):
        text = screen_text(app)
        assert "Already granted on this order: USD 0.00" in text
        assert "Your limit (agent): USD 50.00" in text and "remaining USD 50.00" in text
        await fill(pilot, "#amount", "10.00")
        assert "USD 40.00 of your limit would be left" in message(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_DISMISSED and "reason" in message(app)
        assert app.screen.focused is app.screen.query_one("#reason")
        await pilot.press("enter", "down", "enter")  # open the list, the first reason, choose it
        await pilot.pause()
        await pilot.press("ctrl+s")

    result = await run(AppeasementDialog(seed_order(), REFERENCE, "agent"), check=go)
    assert result == AppeasementCredit(amount=Money("10.00", "USD"), reason_code="LATE_DELIVERY",
                                       settle_to="STORE_CREDIT")


@pytest.mark.asyncio
async def test_appeasement_percent_discount_validates_and_counts_what_was_granted():
    prior = Discount(id="D-1", amount=Money("5.00", "USD"), appeasement=True, reason_code="LATE_DELIVERY")
    o = seed_order().model_copy(update={"discounts": (prior,)})

    async def go(app, pilot):
        assert "Already granted on this order: USD 5.00" in screen_text(app)
        assert "remaining USD 45.00" in screen_text(app)
        await pilot.press("down", "down", "enter")  # third kind: a percentage off
        await pilot.pause()
        assert app.screen.query_one("#on-row").display
        await fill(pilot, "#amount", "150")
        assert "at most 100" in message(app)
        await fill(pilot, "#amount", "10")
        assert "Worth USD 23.30" in message(app)  # 10 % of 233.00 left after the 5.00
        app.screen.query_one("#reason").focus()
        await pilot.press("enter", "down", "down", "enter")
        await pilot.pause()
        await pilot.press("ctrl+s")

    result = await run(AppeasementDialog(o, REFERENCE, "agent"), check=go)
    assert result == AppeasementDiscount(reason_code="SERVICE_RECOVERY", percent=Decimal("10"))


@pytest.mark.asyncio
async def test_appeasement_amount_in_minor_units_of_the_currency():
    async def go(app, pilot):
        await pilot.press("down", "down", "down", "enter")  # an amount off
        await fill(pilot, "#amount", "10.005")
        assert "USD has at most 2 decimals" in message(app)
        await fill(pilot, "#amount", "0")
        assert "above 0" in message(app)

    assert await run(AppeasementDialog(seed_order(), REFERENCE, "agent"), check=go) is NOT_DISMISSED


# -- 9. commit -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_commit_requires_a_reason_then_returns_reason_and_note():
    reasons = list(POLICY.reasons_for("amendment"))
    dialog = CommitDialog(reasons, ["Replace line 1 with JKT-L", "Deliver to Dana Whitfield"], Money("-16.38", "USD"))

    async def go(app, pilot):
        text = screen_text(app)
        assert "The customer gets USD 16.38 back." in text
        assert "1. Replace line 1 with JKT-L" in text
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is NOT_DISMISSED
        assert "Choose a reason code first" in message(app)
        await pilot.press("enter", "down", "enter")  # CUSTOMER_REQUEST
        await fill(pilot, "#note", "moved to Milwaukee")
        await pilot.press("enter")  # Enter in the note goes to the Commit button …
        await pilot.pause()
        assert app.result is NOT_DISMISSED
        await pilot.press("enter")  # … and Enter on it commits

    assert await run(dialog, check=go) == ("CUSTOMER_REQUEST", "moved to Milwaukee")


def test_money_effect_in_words():
    assert money_effect(Money("-16.38", "USD")) == "The customer gets USD 16.38 back."
    assert money_effect(Money("5.20", "USD")) == "The customer is charged USD 5.20 more."
    assert money_effect(Money("0.00", "USD")) == "No money moves."


# -- 10. conflict --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_conflict_explains_and_closes_with_enter():
    error = VersionConflict(4, order_ref="ON-100001", expected_version=3)

    async def go(app, pilot):
        text = message(app, "#body")
        assert "Order ON-100001 was changed by someone else (version 3 → 4)" in text
        assert "Check the preview, then commit again." in text
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConflictDialog)

    assert await run(ConflictDialog("ON-100001", error), check=go) is None


# -- untrusted text ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_hostile_product_name_renders_literally():
    evil = variant("EVL-M", HOSTILE, "20.00", attributes={"size": "M"})
    evil_l = variant("EVL-L", HOSTILE, "25.00", attributes={"size": "L"})
    ref = ReferenceData(variants=[*CATALOG.values(), evil, evil_l], locations=list(LOCATIONS.values()),
                        policy=POLICY)
    ln = line(1, "HAT").model_copy(update={"sku": "EVL-M", "description": evil.description})
    o = order(ln)

    async def go(app, pilot):
        for dialog in (VariantDialog(o, ref, ln), VariantDialog(o, ref, None)):
            app.push_screen(dialog)
            await pilot.pause()
            if dialog.line is None:
                await pilot.press(*"evl")
                await pilot.pause()
            text = screen_text(app)
            assert "[@click=app.quit]" in text
            painted = painted_segments(app)
            assert "\x1b" not in painted and "\x07" not in painted and "52;c;SGVsbG8" not in painted
            await pilot.click(offset=(10, 6))
            assert app.is_running
            app.pop_screen()
            await pilot.pause()

    await run(ConfirmDialog("x", "y"), check=go)


@pytest.mark.asyncio
async def test_hostile_customer_name_renders_literally_and_cannot_be_kept():
    hostile = CHICAGO.model_copy(update={"name": f"O'Brien [VIP] {HOSTILE}"})
    o = order(line(1, "HAT"), fulfilment=HomeDelivery(address=hostile, shipping_method="STANDARD"))

    async def go(app, pilot):
        name = app.screen.query_one("#addr-name", Input).value
        assert name.startswith("O'Brien [VIP] Evil [@click=app.quit]")
        assert "\x1b" not in name and "\x07" not in name  # cleaned before it is shown
        assert "[@click=app.quit]" in screen_text(app)
        assert "\x1b" not in painted_segments(app)
        # a pasted escape sequence is refused by the field
        await pilot.press("end")
        app.screen.query_one("#addr-name", Input).post_message(events.Paste("\x1b]52;c;SGVsbG8=\x07"))
        await pilot.pause()
        assert "\x1b" not in app.screen.query_one("#addr-name", Input).value
        assert app.is_running
        await pilot.press("ctrl+s")  # the cleaned name is the fix on offer: a minor change

    result = await run(AddressDialog(o, REFERENCE), check=go)
    assert isinstance(result, ChangeAddress)
    assert result.address.name == "O'Brien [VIP] Evil [@click=app.quit] Jacket"


def test_every_binding_has_an_id_and_a_tooltip():
    import inspect

    from carecli.screens import dialogs

    classes = [c for _, c in inspect.getmembers(dialogs, inspect.isclass) if c.__module__.startswith(dialogs.__name__)]
    bindings = [(c.__name__, b) for c in classes for b in c.__dict__.get("BINDINGS", [])]
    assert len(bindings) >= 8
    for owner, b in bindings:
        assert b.id and b.tooltip, (owner, b)
