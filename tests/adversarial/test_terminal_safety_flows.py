"""Terminal safety of the remaining screens and dialogs: fulfilment, commit and conflict, new orders,
replacements and re-orders, the exceptions inbox's remedies and the returns dialogs.

The store is poisoned as in ``test_terminal_safety.py`` (every customer name, address field, line
description, catalog title, store name, store address and opening hour by direct SQL; a note, event
payloads and a return's note through the contract). The policy the store runs with is poisoned too:
every shipping method's name and carrier, every reason code's label and every tax jurisdiction's name carry the same hostile text
(an operator's policy file is text from outside the program as well).

Each dialog is opened with the agent's key from the screen in front, at 80×24 and 120×40 (in CI, at
``CARECLI_STRESS_SCALE`` < 1, each flow runs at one of the two: three at 80×24, two at 120×40), and the
compositor's rendered strips are checked segment by segment (``check_screen``): no ESC, C0/C1
control, NUL or bidi control; no link and no hostile ``@click`` action; no line wider than the screen.
Where a dialog shows a hostile value, the test also asserts it is on screen literally (so a dialog that
showed nothing at all would not pass for a safe one).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Input, Select

from carecli.backend.contract import CommitRequest, ReturnStepRequest, VerifyReturnRequest
from carecli.backend.sqlite import SqliteStore
from carecli.config import Settings
from carecli.demo import DEMO_NOW, SCENARIOS, SEED_CASE_NEW_ADDRESS, SEED_CASE_REF
from carecli.engine.commands import AddLine, ChangeAddress, ChangeQuantity, ChangeShippingMethod, SwitchFulfilment
from carecli.engine.events import parse_event
from carecli.engine.model import ClickAndCollect, HomeDelivery
from carecli.engine.policy import default_policy
from carecli.engine.returns import LineVerdict, ReturnLineRequest
from tests.tui.conftest import ACTOR, SteadyCareApp, fixed_clock, in_front, paste, search_loaded, settled, until

from .test_terminal_safety import HOSTILE, RETURNABLE, check_screen, sizes, poison_store, write_through_contract

pytestmark = [pytest.mark.slow, pytest.mark.asyncio]

MARK = "[b]Zoë"  # the start of the hostile text, shown literally wherever the hostile text is shown
COLLECT = SCENARIOS["promo_discount"]  # awaiting pick in the US: switched to collection in Chicago below
RETURN_MIX = SCENARIOS["return_rules_mix"]  # has a return waiting for verification
CANCELLED = SCENARIOS["cancelled"]
BACKORDERED = SCENARIOS["au_inclusive"]  # awaiting pick; its line 1 is backordered below


def hostile_policy():
    p = default_policy()
    methods = tuple(m.model_copy(update={"name": f"{HOSTILE} {m.code}", "carrier": HOSTILE})
                    for m in p.shipping_methods)
    reasons = tuple(r.model_copy(update={"label": HOSTILE}) for r in p.reason_codes)
    tax = tuple(j.model_copy(update={"name": HOSTILE}) for j in p.tax)
    return p.model_copy(update={"shipping_methods": methods, "reason_codes": reasons, "tax": tax})


@pytest.fixture()
def hostile(store_path):
    """``hostile(role=...)``: an app over the poisoned store copy, run with the poisoned policy."""
    poison_store(store_path)
    policy = hostile_policy()
    opened: list[SqliteStore] = []

    def store(role: str = "agent") -> SqliteStore:
        s = SqliteStore.open(store_path, role=role, clock=fixed_clock, policy=policy)
        opened.append(s)
        return s

    s = store()
    write_through_contract(s)
    # A collection order whose store may still change, and a backorder for the inbox's remedies.
    order = s.get_order(COLLECT).order
    s.commit(CommitRequest(order_ref=COLLECT, expected_version=order.version,
                           amendments=(SwitchFulfilment(fulfilment=ClickAndCollect(location_id="ST-CHI")),),
                           reason_code="CUSTOMER_REQUEST", note=HOSTILE, idempotency_key="adv-collect-1",
                           actor="lee"))
    r = s.ingest_event(parse_event({"kind": "backordered", "event_id": "ADV-B1", "order_ref": BACKORDERED,
                                    "at": DEMO_NOW.isoformat(), "line_id": 1, "units": 1,
                                    "expected": (DEMO_NOW + timedelta(days=1)).date().isoformat()}))
    assert r.status == "applied", r.reason

    def factory(role: str = "agent") -> SteadyCareApp:
        app = SteadyCareApp(store(role), Settings(actor=ACTOR, theme="carecli-dark", role=role), clock=fixed_clock)
        app.animation_level = "none"
        return app

    factory.store = store  # type: ignore[attr-defined]
    yield factory
    for x in opened:
        x.close()


# -- driving ---------------------------------------------------------------------------------------------


async def open_order(pilot, ref: str):
    from carecli.screens.order import OrderScreen

    screen = OrderScreen(ref)
    pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.session is not None and screen.is_current, f"order {ref}")
    await settled(pilot)
    return screen


async def shown(pilot, kind: type, where: str, *, literal: bool = True) -> str:
    """Wait for ``kind`` in front, check what is painted, and (``literal``) that the hostile text is there."""
    await in_front(pilot, kind, where)
    out = check_screen(pilot.app, where)
    if literal:
        assert MARK in out, f"{where}: the hostile text is not shown at all:\n{out}"
    return out


async def closed(pilot, kind: type, key: str = "escape") -> None:
    await pilot.press(key)
    await until(pilot, lambda: not isinstance(pilot.app.screen, kind), f"{kind.__name__} closed")
    await settled(pilot)


async def open_select(pilot, selector: str, where: str) -> str:
    """Open a Select's overlay (its options are drawn then), check the screen, close it again."""
    select = pilot.app.screen.query_one(selector, Select)
    select.focus()
    await settled(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: select.expanded, f"{where}: the list open")
    await settled(pilot)
    out = check_screen(pilot.app, where)
    await pilot.press("escape")
    await until(pilot, lambda: not select.expanded, f"{where}: the list closed")
    return out


# -- the tests -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", sizes("80x24"))
async def test_fulfilment_commit_and_conflict_dialogs_show_hostile_text_inert(hostile, size):
    from carecli.screens.dialogs import (
        AddressDialog, CommitDialog, ConflictDialog, PickupDialog, ShippingDialog,
    )

    app = hostile()
    async with app.run_test(size=size, notifications=True) as pilot:
        await search_loaded(pilot)
        screen = await open_order(pilot, SEED_CASE_REF)
        for tab in ("fulfilment (the method's name)", "money (the tax's name)"):
            await pilot.press("right")
            await settled(pilot)
            assert MARK in check_screen(app, f"order tab {tab}"), tab
        await pilot.press("left", "left")
        await settled(pilot)
        await pilot.press("s")
        await shown(pilot, ShippingDialog, "shipping methods")
        await closed(pilot, ShippingDialog)
        await pilot.press("w")
        await shown(pilot, PickupDialog, "switch to collection: the stores")
        await closed(pilot, PickupDialog)

        # A staged change of method names the hostile method in the preview, the commit dialog's
        # change list and its reasons.
        current = screen.session.view.order.fulfilment.shipping_method
        other = next(m.code for m in screen.session.reference.policy.shipping_methods
                     if m.code != current and "USD" in m.fee)
        screen.stage(ChangeShippingMethod(method=other))
        await settled(pilot)
        assert screen.session.staged, [n.message for n in app._notifications]
        assert MARK in check_screen(app, "amend preview")
        await pilot.press("ctrl+s")
        await shown(pilot, CommitDialog, "commit dialog")
        await open_select(pilot, "#reason", "commit dialog: the reasons")

        # Another agent changes the order meanwhile: the conflict dialog says what changed.
        other_store = hostile.store()
        order = other_store.get_order(SEED_CASE_REF).order
        other_store.commit(CommitRequest(order_ref=SEED_CASE_REF, expected_version=order.version,
                                         amendments=(ChangeQuantity(line_id=2, quantity=2),),
                                         reason_code="CUSTOMER_REQUEST", note=HOSTILE,
                                         idempotency_key=f"adv-{uuid.uuid4().hex}", actor="lee"))
        pilot.app.screen.query_one("#reason", Select).value = \
            screen.session.reference.policy.reasons_for(screen.session.reason_kind)[0].code
        await pilot.press("ctrl+s")
        await shown(pilot, ConflictDialog, "conflict dialog", literal=False)
        await closed(pilot, ConflictDialog)
        app.pop_screen()
        await settled(pilot)

        # A collection order: its fulfilment tab (store, address, opening hours), the store picker,
        # and the switch back to home delivery (the hostile shipping methods in a Select).
        await open_order(pilot, COLLECT)
        await pilot.press("right")
        await settled(pilot)
        tab = check_screen(app, "collection order: fulfilment tab")
        assert MARK in tab
        await pilot.press("left")
        await pilot.press("l")
        await shown(pilot, PickupDialog, "pickup stores")
        await closed(pilot, PickupDialog)
        await pilot.press("w")
        await shown(pilot, AddressDialog, "switch to delivery", literal=False)
        out = await open_select(pilot, "#addr-method", "switch to delivery: the methods")
        assert MARK in out
        await closed(pilot, AddressDialog)


@pytest.mark.parametrize("size", sizes("120x40"))
async def test_a_new_order_from_finding_the_customer_to_placing_shows_hostile_text_inert(hostile, size):
    from carecli.screens.customer import CustomerDialog, NewCustomerDialog
    from carecli.screens.dialogs import AddressDialog, AppeasementDialog, PickupDialog, ShippingDialog, VariantDialog
    from carecli.screens.new_order import NewOrderScreen, PlaceDialog

    app = hostile()
    async with app.run_test(size=size, notifications=True) as pilot:
        await search_loaded(pilot)
        await pilot.press("f2")
        await in_front(pilot, CustomerDialog)
        await paste(pilot, HOSTILE)  # a paste with control characters is refused by the input
        await settled(pilot)
        check_screen(app, "customer search: hostile paste")
        assert pilot.app.screen.query_one("#find", Input).value == ""
        await paste(pilot, "dana.whitfield@")
        await until(pilot, lambda: len(pilot.app.screen.found) == 1, "Dana by e-mail")
        await settled(pilot)
        assert MARK in check_screen(app, "customer search: found")

        await pilot.press("f2")
        await in_front(pilot, NewCustomerDialog)
        await paste(pilot, HOSTILE)
        await settled(pilot)
        check_screen(app, "new customer: hostile paste")
        await closed(pilot, NewCustomerDialog)

        await pilot.press("enter")
        await shown(pilot, NewOrderScreen, "new order")
        screen = pilot.app.screen
        screen.change(AddLine(sku="JKT-ALP-L-NVY", quantity=1))  # as the catalog picker hands it over
        await settled(pilot)
        assert screen.draft.lines, [n.message for n in app._notifications]
        assert MARK in check_screen(app, "new order with a line")

        await pilot.press("a")
        await shown(pilot, VariantDialog, "catalog picker")
        await paste(pilot, "JKT-DWN-M")  # one product: its stock by store (hostile store names)
        await settled(pilot)
        assert MARK in check_screen(app, "catalog picker: stock by store")
        await closed(pilot, VariantDialog)
        # The customer's stored address is hostile, so no delivery is chosen yet: the store picker,
        # the address form and the discount first; then collection (the store's name in the details),
        # then delivery (the method's name) and its shipping methods.
        for key, kind, literal in (("l", PickupDialog, True), ("d", AddressDialog, False),
                                   ("g", AppeasementDialog, False)):
            await pilot.press(key)
            await shown(pilot, kind, f"new order: {kind.__name__}", literal=literal)
            await closed(pilot, kind)
        screen.change(SwitchFulfilment(fulfilment=ClickAndCollect(location_id="ST-CHI")))
        await settled(pilot)
        assert MARK in check_screen(app, "new order: collect at a hostile store")
        method = next(m.code for m in screen.draft.reference.policy.shipping_methods if "USD" in m.fee)
        screen.change(SwitchFulfilment(fulfilment=HomeDelivery(address=SEED_CASE_NEW_ADDRESS, shipping_method=method)))
        await settled(pilot)
        assert isinstance(screen.draft.fulfilment, HomeDelivery), [n.message for n in app._notifications]
        assert MARK in check_screen(app, "new order: deliver by a hostile method")
        await pilot.press("s")
        await shown(pilot, ShippingDialog, "new order: shipping methods")
        await closed(pilot, ShippingDialog)

        await pilot.press("ctrl+s")
        await shown(pilot, PlaceDialog, "place dialog", literal=False)
        assert MARK in await open_select(pilot, "#reason", "place dialog: the reasons")
        await closed(pilot, PlaceDialog)


@pytest.mark.parametrize("size", sizes("80x24"))
async def test_replacement_and_reorder_show_hostile_text_inert(hostile, size):
    from carecli.screens.new_order import NewOrderScreen, PlaceDialog

    app = hostile()
    async with app.run_test(size=size, notifications=True) as pilot:
        await search_loaded(pilot)
        for ref, key in ((SEED_CASE_REF, "n"), (CANCELLED, "o")):
            await open_order(pilot, ref)
            await pilot.press(key)
            await shown(pilot, NewOrderScreen, f"{ref} {key!r}: the draft")
            draft = app.screen
            # The order's stored address is hostile (not a valid address), so the draft cannot be placed
            # until it has a real one.
            assert draft.placement is None or not draft.placement.ok
            draft.change(ChangeAddress(address=SEED_CASE_NEW_ADDRESS))
            await settled(pilot)
            assert draft.placement is not None and draft.placement.ok, (draft.placement, app._notifications)
            assert MARK in check_screen(app, f"{ref} {key!r}: the draft with an address")
            await pilot.press("ctrl+s")
            await shown(pilot, PlaceDialog, f"{ref} {key!r}: place dialog", literal=False)
            assert MARK in await open_select(pilot, "#reason", f"{ref} {key!r}: the reasons")
            await closed(pilot, PlaceDialog)
            app.pop_screen()  # the draft (its Escape asks first: the confirm dialog is pictured elsewhere)
            await settled(pilot)
            app.pop_screen()
            await settled(pilot)


@pytest.mark.parametrize("size", sizes("120x40"))
async def test_the_inbox_remedies_show_hostile_text_inert(hostile, size):
    from carecli.screens.dialogs import AppeasementDialog, ConfirmDialog, VariantDialog
    from carecli.screens.inbox import InboxScreen, NoteDialog
    from carecli.screens.order import OrderScreen

    app = hostile()
    async with app.run_test(size=size, notifications=True) as pilot:
        await search_loaded(pilot)
        await pilot.press("f5")
        await shown(pilot, InboxScreen, "inbox")
        inbox = pilot.app.screen
        await until(pilot, lambda: inbox.loaded, "the inbox read")

        def select(ref: str, kind: str) -> None:
            rows = [(it.order_ref, it.kind) for it in inbox.items]
            inbox.query_one("#inbox", DataTable).move_cursor(row=rows.index((ref, kind)))

        select(BACKORDERED, "backorder")
        await settled(pilot)
        await pilot.press("r")
        await shown(pilot, VariantDialog, "substitute: the variants")
        await closed(pilot, VariantDialog)
        await closed(pilot, OrderScreen)

        await pilot.press("x")
        await in_front(pilot, OrderScreen)
        order = pilot.app.screen
        await until(pilot, lambda: order.session is not None and bool(order.session.staged), "the staged cancellation")
        await settled(pilot)
        assert MARK in check_screen(app, "cancel line: the preview")
        await pilot.press("escape")
        await shown(pilot, ConfirmDialog, "leave without committing?", literal=False)
        await closed(pilot, ConfirmDialog, "y")
        await in_front(pilot, InboxScreen)

        select(SCENARIOS["booked"], "delivery_failed")  # its reason is the hostile text
        await settled(pilot)
        assert MARK in check_screen(app, "inbox: the failed delivery's detail")
        await pilot.press("g")
        await shown(pilot, AppeasementDialog, "goodwill", literal=False)
        assert MARK in await open_select(pilot, "#on", "goodwill: the lines")
        assert MARK in await open_select(pilot, "#reason", "goodwill: the reasons")
        await closed(pilot, AppeasementDialog)
        await pilot.press("escape")
        await in_front(pilot, InboxScreen)
        await pilot.press("n")
        await shown(pilot, NoteDialog, "contact note", literal=False)
        await paste(pilot, HOSTILE)
        await settled(pilot)
        check_screen(app, "contact note: hostile paste")
        assert pilot.app.screen.query_one("#note", Input).value == ""
        await closed(pilot, NoteDialog)


@pytest.mark.parametrize("size", sizes("80x24"))
async def test_the_returns_dialogs_show_hostile_text_inert(hostile, size):
    from carecli.screens.dialogs.returns import ExchangeDialog, RefundDialog, ReturnLineDialog, VerifyDialog
    from carecli.screens.returns import ReturnsPane

    # The hostile return on RETURNABLE (made by write_through_contract), received and verified with a
    # hostile rejection note on nothing and a hostile step note, so the refund dialog can open.
    s = hostile.store()
    (ro,) = s.list_returns(RETURNABLE)
    s.receive_return(ReturnStepRequest(return_id=ro.id, note=HOSTILE, idempotency_key="adv-receive-1", actor="lee"))
    s.verify_return(VerifyReturnRequest(return_id=ro.id, note=HOSTILE, idempotency_key="adv-verify-1", actor="lee",
                                        verdicts=tuple(LineVerdict(line_id=ln.line_id, accepted=True)
                                                       for ln in ro.lines)))
    app = hostile()
    async with app.run_test(size=size, notifications=True) as pilot:
        await search_loaded(pilot)

        async def returns_tab(ref):
            screen = await open_order(pilot, ref)
            await pilot.press(*["right"] * 5)
            pane = screen.query_one(ReturnsPane)
            await until(pilot, lambda: pane.eligibility is not None, "the returns tab")
            await settled(pilot)
            return screen, pane

        screen, pane = await returns_tab(RETURNABLE)
        await pilot.press("down", "enter")  # line 2 (line 1's one unit is on the hostile return)
        await shown(pilot, ReturnLineDialog, "return line")
        await open_select(pilot, "#reason", "return line: the reasons")
        await closed(pilot, ReturnLineDialog)
        pane.draft[2] = ReturnLineRequest(line_id=2, quantity=1, reason_code="WRONG_SIZE", condition="unopened")
        pane.render_all()
        screen.refresh_bindings()
        await settled(pilot)
        await pilot.press("t")
        await shown(pilot, ExchangeDialog, "exchange")
        assert MARK in await open_select(pilot, "#rep-2", "exchange: the replacements")
        await closed(pilot, ExchangeDialog)
        pane.query_one("#ret-list", DataTable).focus()
        await settled(pilot)
        await pilot.press("f")
        await shown(pilot, RefundDialog, "refund", literal=False)
        await closed(pilot, RefundDialog)
        app.pop_screen()
        await settled(pilot)

        screen, pane = await returns_tab(RETURN_MIX)
        pane.query_one("#ret-list", DataTable).focus()
        await settled(pilot)
        await pilot.press("v")
        await shown(pilot, VerifyDialog, "verify")
        await closed(pilot, VerifyDialog)
        app.pop_screen()
        await settled(pilot)
