"""Creating orders through the keys, over a real demo store, asserted on the app and on the store.

1. a new customer and a phone order end to end: search → F2 → F2 (new customer) → the new-order
   screen (address and card pre-filled) → add a line → Place → the order opens, placed once;
2. a duplicate e-mail offers the existing customer, and Ctrl+S starts the order for them;
3. a replacement from an order (a line dropped, a reason required) → linked both ways, nothing charged;
4. a re-order of a cancelled order, re-priced at today's catalog prices;
5. a double Place sends one request; the store holds one order;
6. read-only: F2, n and o do nothing, and the backend refuses anyway;
7. a declined card: the decline is told, the draft stays, nothing is placed.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from carecli.backend.contract import Forbidden, PlaceOrderRequest
from carecli.demo import SCENARIOS, SEED_CASE_REF
from carecli.screens.customer import CustomerDialog, NewCustomerDialog
from carecli.screens.dialogs import QuantityDialog, VariantDialog
from carecli.screens.new_order import NewOrderScreen, OrderDraft, PlaceDialog
from carecli.screens.order import OrderScreen
from carecli.screens.search import SearchScreen

from .conftest import in_front, open_order, paste, search_loaded, settled, until

WIDE = (120, 40)
CANCELLED_REF = SCENARIOS["cancelled"]


async def fill(pilot, dialog, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = dialog.query_one(f"#cust-{name}", Input)
        field.value = value
    await pilot.pause()


async def choose_reason(pilot, code: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, PlaceDialog)
    select = dialog.query_one("#reason", Select)
    codes = [r.code for r in dialog.reasons]
    select.focus()
    await pilot.pause()
    await pilot.press("enter", *["down"] * (codes.index(code) + 1), "enter")
    await pilot.pause()
    assert select.value == code, (select.value, codes)


async def place_it(pilot, reason: str | None = None) -> None:
    await pilot.press("ctrl+s")
    await in_front(pilot, PlaceDialog)
    if reason:
        await choose_reason(pilot, reason)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, OrderScreen) and pilot.app.screen.session is not None,
                "the placed order to open")
    await settled(pilot)


NEW_CUSTOMER = {"name": "Zephyrine Delgado", "email": "zephyrine.delgado@example.com", "phone": "+1 312 555 0177",
                "line1": "400 N Lake Shore Dr", "city": "Chicago", "region": "IL", "postcode": "60611",
                "country": "US", "brand": "Visa", "last4": "4242", "expiry": "11/29"}


@pytest.mark.asyncio
async def test_new_customer_and_phone_order_end_to_end(app_factory, open_store):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        await pilot.press("f2")
        await in_front(pilot, CustomerDialog)
        await paste(pilot, "zephyrine")
        await until(pilot, lambda: "No customer matches" in str(app.screen.query_one("#message").render()),
                    "no match for zephyrine")
        await pilot.press("f2")
        await in_front(pilot, NewCustomerDialog)
        assert app.screen.query_one("#cust-name", Input).value == "zephyrine"  # what was typed carries over
        await fill(pilot, app.screen, NEW_CUSTOMER)
        await pilot.press("ctrl+s")
        await in_front(pilot, NewOrderScreen)
        screen = app.screen
        d = screen.draft
        assert d.customer.name == "Zephyrine Delgado" and d.market == "US" and d.payment_method_id
        assert d.fulfilment is not None and d.fulfilment.address.city == "Chicago"
        await pilot.press("a")
        await in_front(pilot, VariantDialog)
        await paste(pilot, "JKT-ALP-M-NVY")
        await settled(pilot)
        quantity = app.screen.query_one("#add-quantity", Input)
        quantity.value = "2"
        await pilot.press("ctrl+s")
        await in_front(pilot, NewOrderScreen)
        assert [(ln.sku, ln.quantity) for ln in screen.draft.lines] == [("JKT-ALP-M-NVY", 2)]
        assert screen.placement is not None and screen.placement.ok
        total = screen.placement.totals.grand_total
        await pilot.press("q")
        await in_front(pilot, QuantityDialog)
        await pilot.press("escape")
        await in_front(pilot, NewOrderScreen)
        await place_it(pilot)
        ref = app.screen.ref
        assert app.screen.session.view.customer.name == "Zephyrine Delgado"
    store = open_store()
    view = store.get_order(ref)
    assert view.order.version == 1 and view.stage == "BOOKED" and view.order.channel == "phone"
    assert [d.doc for d in view.order.documents] == ["INVOICE", "PAYMENT"]
    assert view.order.documents[0].total == total
    assert store.find_customers("zephyrine.delgado@")[0].orders == 1


@pytest.mark.asyncio
async def test_a_duplicate_email_offers_the_existing_customer(app_factory):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        dana = app.backend.get_order(SEED_CASE_REF).customer
        await pilot.press("f2")
        await in_front(pilot, CustomerDialog)
        await pilot.press("f2")
        await in_front(pilot, NewCustomerDialog)
        await fill(pilot, app.screen, NEW_CUSTOMER | {"email": dana.email.upper()})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, NewCustomerDialog) and app.screen.existing is not None,
                    "the existing customer offered")
        assert "already exists" in str(app.screen.query_one("#message").render())
        await pilot.press("ctrl+s")
        await in_front(pilot, NewOrderScreen)
        assert app.screen.draft.customer.id == dana.id


@pytest.mark.asyncio
async def test_a_replacement_order_for_chosen_lines(app_factory, open_store):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        original = await open_order(pilot, SEED_CASE_REF)
        n_lines = len([ln for ln in original.session.view.order.lines if ln.quantity > 0])
        await pilot.press("n")
        await in_front(pilot, NewOrderScreen)
        screen = app.screen
        assert screen.draft.no_charge and screen.draft.link.order_ref == SEED_CASE_REF
        assert len(screen.draft.lines) == n_lines
        if n_lines > 1:
            await pilot.press("x")  # only the first line was lost
            await settled(pilot)
            assert len(screen.draft.lines) == n_lines - 1
        assert str(screen.placement.totals.grand_total).endswith(" 0.00")
        await pilot.press("ctrl+s")
        await in_front(pilot, PlaceDialog)
        await pilot.press("ctrl+s")  # a replacement needs a reason: refused in the dialog
        await pilot.pause()
        assert isinstance(app.screen, PlaceDialog) and "needs one" in str(app.screen.query_one("#message").render())
        await choose_reason(pilot, "LOST_IN_TRANSIT")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen) and app.screen.ref != SEED_CASE_REF
                    and app.screen.session is not None, "the replacement to open")
        await settled(pilot)
        new_ref = app.screen.ref
        assert "replaces" in str(app.screen.query_one("#order-title").render())
        await pilot.press("escape")  # back to the original, read again: it names its replacement
        await until(pilot, lambda: app.screen is original
                    and f"replaced by {new_ref}" in str(original.query_one("#order-title").render()),
                    "the original to name its replacement")
    store = open_store()
    assert [(x.kind, x.ref) for x in store.get_order(SEED_CASE_REF).links] == [("replacement", new_ref)]
    new = store.get_order(new_ref)
    assert [(d.doc, d.type) for d in new.order.documents] == [("INVOICE", "REPLACEMENT")]


@pytest.mark.asyncio
async def test_a_reorder_of_a_cancelled_order_is_repriced(app_factory, open_store):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        old = await open_order(pilot, CANCELLED_REF)
        assert old.session.view.stage == "CANCELLED"
        await pilot.press("n")  # no replacement of a cancelled order
        await pilot.pause()
        assert app.screen is old
        await pilot.press("o")
        await in_front(pilot, NewOrderScreen)
        screen = app.screen
        catalog = screen.draft.reference.catalog()
        cur = old.session.view.order.currency
        assert [ln.unit_price for ln in screen.placement.order.lines] == [
            catalog[ln.sku].prices[cur] for ln in screen.draft.lines]
        assert not screen.draft.no_charge and screen.draft.link.kind == "reorder"
        await place_it(pilot)
        new_ref = app.screen.ref
        assert "re-order of" in str(app.screen.query_one("#order-title").render())
    assert [(x.kind, x.direction) for x in open_store().get_order(CANCELLED_REF).links] == [("reorder", "from")]
    assert new_ref != CANCELLED_REF


@pytest.mark.asyncio
async def test_a_double_place_places_one_order(app_factory, open_store):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        await open_order(pilot, CANCELLED_REF)
        await pilot.press("o")
        await in_front(pilot, NewOrderScreen)
        screen = app.screen
        sent: list[PlaceOrderRequest] = []
        real = app.backend.place_order

        def counting(req):
            sent.append(req)
            return real(req)

        app.backend.place_order = counting  # the real store, watched (not replaced)
        screen._place_with(("", ""))
        screen._place_with(("", ""))  # a second Enter while the first is on its way
        await until(pilot, lambda: isinstance(app.screen, OrderScreen) and app.screen.ref != CANCELLED_REF,
                    "the placed order")
        await settled(pilot)
        placed_ref = app.screen.ref
    assert len(sent) == 1
    # and a retry of the same draft (a dropped answer) reuses the key: the store answers, nothing new
    again = screen.draft.request("", "", app.actor)
    assert again.idempotency_key == sent[0].idempotency_key
    store = open_store()
    replay = store.place_order(again)
    assert replay.replayed and replay.order.ref == placed_ref


@pytest.mark.asyncio
async def test_read_only_cannot_create(app_factory, open_store):
    app = app_factory(role="supervisor")
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        await open_order(pilot, SEED_CASE_REF)
        await pilot.press("n")
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OrderScreen) and app.screen.ref == SEED_CASE_REF
        view = app.backend.get_order(SEED_CASE_REF)
        draft = OrderDraft.from_order(view, app.backend.reference(), "replacement")
        with pytest.raises(Forbidden):
            app.backend.place_order(draft.request("LOST_IN_TRANSIT", "", "kim"))


@pytest.mark.asyncio
async def test_a_declined_card_says_so_and_places_nothing(app_factory, open_store):
    from carecli.engine.commands import AddLine

    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        view = app.backend.get_order(SCENARIOS["declining_card"])
        assert view.account.payment_methods[0].last4 == "0002"
        draft = OrderDraft.for_customer(view.customer, view.account, app.backend.reference(),
                                        market=view.order.market, address=None)
        draft.fulfilment = view.order.fulfilment
        screen = NewOrderScreen(draft)
        app.push_screen(screen)
        await in_front(pilot, NewOrderScreen)
        screen.change(AddLine(sku=view.order.lines[0].sku, quantity=1))
        await settled(pilot)
        before = {s.ref for s in app.backend.get_account(view.account.id).orders}
        await pilot.press("ctrl+s")
        await in_front(pilot, PlaceDialog)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(n.title == "Payment declined" for n in app._notifications),
                    "the decline to be told")
        assert app.screen is screen and not screen.placing  # still on the draft, free to try another card
    assert {s.ref for s in open_store().get_account(view.account.id).orders} == before


@pytest.mark.asyncio
async def test_a_second_replacement_offers_only_what_is_left(app_factory, open_store):
    """n after a replacement of everything: nothing left, so no draft (the agent is told why); on an
    order with a tee on a return, the draft offers only the tee that is not coming back."""
    from carecli.backend.contract import CreateReturnRequest
    from carecli.engine.returns import ReturnLineRequest

    delivered = SCENARIOS["delivered_in_window"]
    other = open_store()
    v = other.get_order(delivered)
    other.create_return(CreateReturnRequest(
        order_ref=delivered, expected_version=v.order.version, idempotency_key="tui-replace-after-return",
        actor="lee", lines=(ReturnLineRequest(line_id=2, quantity=1, reason_code="WRONG_SIZE",
                                              condition="unopened"),)))
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        original = await open_order(pilot, SEED_CASE_REF)
        live = [(ln.sku, ln.quantity) for ln in original.session.view.order.lines if ln.quantity > 0]
        await pilot.press("n")
        await in_front(pilot, NewOrderScreen)
        assert [(nl.sku, nl.quantity) for nl in app.screen.draft.lines] == live
        await place_it(pilot, "LOST_IN_TRANSIT")
        new_ref = app.screen.ref
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is original
                    and f"replaced by {new_ref}" in str(original.query_one("#order-title").render()),
                    "the original to name its replacement")
        await pilot.press("n")
        await until(pilot, lambda: bool(app._notifications), "the answer to n")
        note = list(app._notifications)[-1]
        assert note.title == "Nothing to replace" and SEED_CASE_REF in note.message
        assert app.screen is original

        await pilot.press("escape")
        await settled(pilot)
        await open_order(pilot, delivered)
        await pilot.press("n")
        await in_front(pilot, NewOrderScreen)
        tee = v.order.line(2)
        shoe = v.order.line(1)
        assert [(nl.sku, nl.quantity) for nl in app.screen.draft.lines] == [(shoe.sku, 1), (tee.sku, 1)]
        assert app.screen.placement is not None and app.screen.placement.ok
    store = open_store()
    assert [lk.ref for lk in store.get_order(SEED_CASE_REF).links if lk.kind == "replacement"] == [new_ref]
