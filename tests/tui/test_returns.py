"""The Returns tab of an order, driven through the keys: a draft, create, receive, verify, refund, close;
overrides only for the roles policy names; read-only hides every write.

ON-100005 was delivered 10 days before the demo's clock (line 1 trail shoe × 1, line 2 organic tee × 2);
ON-100006 47 days before (past the 30-day window).
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from carecli.demo import SCENARIOS
from carecli.engine.model import CreditMemo
from carecli.engine.returns import preview_lines, refund_breakdown
from carecli.screens.dialogs import ConfirmDialog
from carecli.screens.order import OrderScreen
from carecli.screens.dialogs.returns import RefundDialog, ReturnLineDialog, VerifyDialog
from carecli.screens.returns import ReturnsPane

from .conftest import in_front, screen_text, settled, until

DELIVERED = SCENARIOS["delivered_in_window"]
OUT_OF_WINDOW = SCENARIOS["delivered_out_of_window"]


async def open_returns(pilot, ref: str) -> ReturnsPane:
    screen = OrderScreen(ref)
    pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.session is not None and screen.is_current, f"order {ref}")
    await settled(pilot)
    await pilot.press(*["right"] * 5)  # the tabs have the focus; Returns is the sixth
    await settled(pilot)
    pane = screen.query_one(ReturnsPane)
    await until(pilot, lambda: pane.eligibility is not None, "the returns tab read")
    assert pilot.app.focused is pane.query_one("#ret-lines", DataTable)
    return pane


def states(pane: ReturnsPane) -> list[str]:
    return [r.state for r in pane.returns]


async def receive_and_verify(pilot, pane: ReturnsPane) -> None:
    """On the return orders list: e (received), then v and Ctrl+S (every line accepted)."""
    pane.query_one("#ret-list", DataTable).focus()
    await pilot.press("e")
    await until(pilot, lambda: states(pane) == ["RECEIVED"], "the return received")
    await settled(pilot)
    await pilot.press("v")
    await in_front(pilot, VerifyDialog)
    await pilot.press("ctrl+s")  # every line accepted
    await until(pilot, lambda: states(pane) == ["VERIFIED"], "the return verified")
    await settled(pilot)


@pytest.mark.asyncio
async def test_a_return_from_draft_to_closed_through_the_keys(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_returns(pilot, DELIVERED)
        await pilot.press("down", "enter")  # line 2, the tees
        await in_front(pilot, ReturnLineDialog)
        await pilot.press("end", "backspace", "1")  # ... one of the two
        await pilot.press("tab", "enter", "down", "down", "enter")  # reason: the 2nd return reason (DAMAGED)
        await pilot.press("tab", "enter", "down", "down", "enter")  # condition: used
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the draft")
        await settled(pilot)
        assert pane.draft[2].quantity == 1 and pane.draft[2].reason_code == "DAMAGED"
        assert pane.draft[2].condition == "used"
        shown = screen_text(app)
        assert "Draft return" in shown and "shipped free" in shown  # the demo order shipped free
        s = pane.session
        previewed = refund_breakdown(s.view.order, preview_lines(s.view.order, list(pane.draft.values()),
                                                                 s.reference.policy),
                                     s.reference.policy, s.reference.location_map())
        assert f"USD {previewed.total.amount}" in shown and previewed.restocking_fee.is_zero  # DAMAGED: no fee

        await pilot.press("n")
        await in_front(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: states(pane) == ["AWAITING_RECEIPT"], "the return created")
        await settled(pilot)
        ro = pane.returns[0]
        assert ro.rma == "RMA-100005-1" and not pane.draft

        await receive_and_verify(pilot, pane)
        await pilot.press("f")
        await in_front(pilot, RefundDialog)
        figures = screen_text(app)
        assert f"USD {previewed.total.amount}" in figures and "to Visa" in figures
        await pilot.press("ctrl+s")
        await until(pilot, lambda: states(pane) == ["REFUNDED"], "the refund")
        await settled(pilot)
        await pilot.press("z")
        await until(pilot, lambda: states(pane) == ["CLOSED"], "the return closed")
        await settled(pilot)

    backend = app.backend
    order = backend.get_order(DELIVERED).order
    assert order.line(2).returned == 1 and order.line(2).return_initiated == 0
    memo = [d for d in order.documents if isinstance(d, CreditMemo) and d.type == "RETURN"]
    assert len(memo) == 1 and memo[0].total == backend.get_return(ro.id).refund_total == previewed.total
    assert not any(i.kind == "RESTOCKING_FEE" for i in memo[0].items)  # merchant's fault: no restocking fee


@pytest.mark.asyncio
async def test_out_of_window_line_is_refused_for_an_agent_with_the_rule(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_returns(pilot, OUT_OF_WINDOW)
        await pilot.press("enter")
        await until(pilot, lambda: bool(app._notifications), "the refusal")
        note = list(app._notifications)[0]
        assert "return.window_closed" in note.title and "supervisor" in note.message
        assert isinstance(app.screen, OrderScreen)


@pytest.mark.asyncio
async def test_a_supervisor_overrides_with_a_reason(app_factory):
    app = app_factory(role="supervisor", read_only=False)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_returns(pilot, OUT_OF_WINDOW)
        await pilot.press("enter")
        await in_front(pilot, ReturnLineDialog)
        await pilot.press("tab", "enter", "down", "enter")  # first return reason
        await pilot.press("ctrl+s")
        await settled(pilot)
        assert isinstance(app.screen, ReturnLineDialog)  # no override reason yet
        assert "override" in screen_text(app).lower()
        app.screen.query_one("#override").focus()
        await pilot.press(*"courier delay")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen), "the draft")
        assert pane.overrides[1].reason == "courier delay"
        await pilot.press("n")
        await in_front(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: len(pane.returns) == 1, "the return created")
        assert pane.returns[0].overrides[0].rule == "return.window_closed"


@pytest.mark.asyncio
async def test_read_only_hides_the_return_keys_and_opens_no_dialog(app_factory):
    app = app_factory(role="supervisor")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_returns(pilot, DELIVERED)
        for action in ("create", "receive", "verify", "refund", "close_return"):
            assert pane.check_action(action, ()) is False
        await pilot.press("enter", "n")
        await settled(pilot)
        assert isinstance(app.screen, OrderScreen) and not pane.draft
        assert "New return" not in screen_text(app)


@pytest.mark.asyncio
async def test_returns_are_listed_on_the_billing_account(app_factory, open_store):
    from carecli.backend.contract import CreateReturnRequest
    from carecli.engine.returns import ReturnLineRequest
    from carecli.screens.account import AccountScreen

    other = open_store()  # another agent created the return
    view = other.get_order(DELIVERED)
    created = other.create_return(CreateReturnRequest(
        order_ref=DELIVERED, expected_version=view.order.version, idempotency_key="tui-account-return-1", actor="lee",
        lines=(ReturnLineRequest(line_id=1, quantity=1, reason_code="WRONG_SIZE", condition="unopened"),)))
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = AccountScreen(view.account.id)
        app.push_screen(screen)
        await until(pilot, lambda: screen.view is not None and screen.is_current, "the account")
        await settled(pilot)
        from textual.widgets import TabbedContent

        tabs = screen.query_one("#account-tabs", TabbedContent)
        assert str(tabs.get_tab("tab-returns").label) == "Returns (1)"
        tabs.active = "tab-returns"
        await settled(pilot)
        shown = screen_text(app)
        assert created.return_order.rma in shown and "AWAITING_RECEIPT" in shown and DELIVERED in shown


@pytest.mark.asyncio
async def test_an_uneven_exchange_end_to_end(app_factory):
    from carecli.engine.model import Invoice, Payment
    from carecli.engine.pricing import price
    from carecli.engine.returns import unit_split

    app = app_factory()
    before = app.backend.get_order(DELIVERED).order
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_returns(pilot, DELIVERED)
        _, first, shown = await exchange_through_keys(pilot, app, pane, "TEE-MER-M-BLK")  # the Merino at 59.00
        assert "Even exchange" in first  # the first choice is another size of the same tee
        assert "Extra charge to Visa" in shown
        ro = pane.returns[0]
        new_ref = ro.exchange_order_ref
        assert new_ref and f"Exchange → new order {new_ref}" in screen_text(app)
        assert "Extra charge to Visa" in await settle_through_keys(pilot, app, pane)
        await pilot.press("z")
        await until(pilot, lambda: states(pane) == ["CLOSED"], "closed")
        await settled(pilot)

        # the new order shows where it came from
        await pilot.press("escape")
        await settled(pilot)
        other = await open_returns(pilot, new_ref)
        assert f"Exchange of order {DELIVERED}" in screen_text(app)
        assert other.eligibility is not None

    backend = app.backend
    original = backend.get_order(DELIVERED).order
    inv = [d for d in original.documents if isinstance(d, Invoice) and d.type == "SUPPLEMENTARY"]
    pay = [d for d in original.documents if isinstance(d, Payment) and inv and d.invoice_id == inv[0].id]
    assert len(inv) == 1 and len(pay) == 1 and pay[0].amount == inv[0].total
    # the difference: the Merino tee with tax, less what the first returned organic tee was charged
    # (its part of line 2's fixed split: 28.00 and its share of the line's tax)
    ref = backend.reference()
    totals = price(before, ref.policy, ref.location_map())
    ex, tax = unit_split(totals, before.line(2))
    assert inv[0].total == ro.replacement_value - (ex[0] + tax[0])
    new = backend.get_order(new_ref)
    assert [ln.sku for ln in new.order.lines] == ["TEE-MER-M-BLK"]
    assert [(lk.kind, lk.ref) for lk in new.links] == [("exchange", DELIVERED)]


# -- an exchange's money on screen: what comes back, what goes out, the net — as the store records it ---


async def exchange_through_keys(pilot, app, pane, sku: str):
    """Draft one tee of line 2 (WRONG_SIZE), press t and choose ``sku`` (as the list's Enter hands it
    over), then Ctrl+S. Returns the dialog's settlement, its text before the choice and after it."""
    from textual.widgets import Select

    from carecli.screens.dialogs.returns import ExchangeDialog

    await pilot.press("down", "enter")  # line 2: the organic tee at 28.00, one of two
    await in_front(pilot, ReturnLineDialog)
    await pilot.press("end", "backspace", "1", "tab", "enter", "down", "enter", "ctrl+s")  # WRONG_SIZE
    await until(pilot, lambda: 2 in pane.draft, "the draft")
    await pilot.press("t")
    await in_front(pilot, ExchangeDialog)
    first = screen_text(app)
    app.screen.query_one("#rep-2", Select).value = sku
    await settled(pilot)
    previewed, shown = app.screen.settlement(), screen_text(app)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: [r.kind for r in pane.returns] == ["EXCHANGE"], "the exchange created")
    await settled(pilot)
    return previewed, first, shown


async def settle_through_keys(pilot, app, pane) -> str:
    """Receive (e), verify every line accepted (v) and settle (f, Ctrl+S) the exchange; returns what
    the settle dialog showed."""
    from carecli.screens.dialogs.returns import SettleExchangeDialog

    await receive_and_verify(pilot, pane)
    await pilot.press("f")
    await in_front(pilot, SettleExchangeDialog)
    shown = screen_text(app)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: states(pane) == ["REFUNDED"], "settled")
    await settled(pilot)
    return shown


@pytest.mark.asyncio
@pytest.mark.parametrize("sku, outcome", [
    pytest.param("SCK-HKG-M-GRY", "refund", id="cheaper"),  # hiking socks at 24.00
    pytest.param("TEE-ORG-L-BLK", "even", id="equal"),  # the same tee, another size and colour
    pytest.param("TEE-MER-M-BLK", "charge", id="dearer"),  # the Merino tee at 59.00
])
async def test_exchange_dialogs_show_the_money_the_store_records(app_factory, sku, outcome):
    from carecli.engine.model import Invoice, Payment, Refund, StoreCredit
    from carecli.engine.pricing import price
    from carecli.engine.returns import unit_split
    from carecli.screens.returns_tables import card_label

    app = app_factory()
    backend = app.backend
    view = backend.get_order(DELIVERED)
    before = view.order
    ref = backend.reference()
    card = card_label(before, view.account)
    # What comes back, as it was charged: the first unit of line 2's fixed split (28.00 and its tax)
    totals = price(before, ref.policy, ref.location_map())
    ex, tax = unit_split(totals, before.line(2))
    back = ex[0] + tax[0]
    # What goes out: the catalog price with tax at the order's rate, rounded as the order rounds
    unit = ref.catalog()[sku].prices[before.currency]
    out = unit + unit.multiply(totals.rate, ref.policy.rounding)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_returns(pilot, DELIVERED)
        st, _, at_exchange = await exchange_through_keys(pilot, app, pane, sku)
        at_settle = await settle_through_keys(pilot, app, pane)
        ro = pane.returns[0]

    assert st.outcome == outcome and st.returned_value == back and st.replacement_value == out
    for shown in (at_exchange, at_settle):
        assert f"Value as charged {back}" in " ".join(shown.split())
        assert f"Replacement {out}" in " ".join(shown.split())
        if outcome == "charge":
            assert f"Extra charge to {card} {out - back}" in " ".join(shown.split())
            # no refund is offered for what the customer pays: no refund row, no card-or-credit choice
            assert "Refund to" not in " ".join(shown.split()) and "refund as store credit" not in shown
        elif outcome == "refund":
            assert f"Refund to {card} {back - out}" in " ".join(shown.split())
        else:
            assert "Even exchange: no money moves" in shown

    after = backend.get_order(DELIVERED).order
    new_docs = after.documents[len(before.documents):]
    if outcome == "charge":
        (inv,), (pay,) = ([d for d in new_docs if isinstance(d, k)] for k in (Invoice, Payment))
        assert inv.type == "SUPPLEMENTARY" and inv.total == pay.amount == st.charge == out - back
        assert ro.charge_total == st.charge and not ro.refund_total.is_positive
    elif outcome == "refund":
        (rf,) = [d for d in new_docs if isinstance(d, Refund)]
        assert rf.amount == st.to_payment == back - out and ro.refund_total == st.credit
        assert not [d for d in new_docs if isinstance(d, (Invoice, StoreCredit))]
    else:
        assert new_docs == () and ro.charge_total is None and ro.refund_total.is_zero
