"""Snapshots of every screen and dialog, at 80×24 and 120×40, in carecli-dark and Textual's ansi-dark.

Each view runs on a fresh copy of the demo store with the demo's fixed clock, so the pictures are the
same on every run. A view opens its dialog with the agent's key from the screen in front, waits for the
data it shows (the backend runs in thread workers), and checks that the screen in front is the one the
view is named after and that no message (toast) is showing: a picture of an error toast or of a
half-loaded screen would be a failure recorded as a success.

To stay within its time budget (the pilot idle-waits ~0.15 s after each key on a 2-core machine) this
file opens the order screen directly rather than through the search box, pastes rather than types,
and stages the seed's two amendments the way the dialogs hand them over; test_flows.py drives all of
that through the keys.

Update after an intended change of the screens: ``pytest tests/tui/test_snapshots.py --snapshot-update``,
then look at the changed SVGs (``snapshot_report.html`` lists the differences).
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from carecli.backend.contract import CommitRequest
from carecli.demo import SEED_CASE_NEW_ADDRESS, SEED_CASE_REF
from carecli.engine.commands import ChangeAddress, ChangeQuantity, ReplaceProduct, SwitchFulfilment
from carecli.engine.model import ClickAndCollect
from carecli.screens.account import AccountScreen, DocumentDialog
from carecli.screens.dialogs import (
    AddressDialog, AppeasementDialog, CommitDialog, ConfirmDialog, ConflictDialog, PickupDialog,
    QuantityDialog, ShippingDialog, VariantDialog,
)
from carecli.screens.help import HelpScreen
from carecli.screens.order import OrderScreen

from .conftest import (
    SIZES, View, in_front, open_order, paste, results_for, search_loaded, settled, snapshot_view, until, view_cases,
)

# Every view in the default theme; a representative set in Textual's ANSI theme (16-colour terminals on
# the support hosts), which draws with the terminal's own palette: 54 pictures in all.
ANSI_VIEWS = ("search_recent", "order_lines", "amend_preview", "dialog_commit", "account", "returns_draft")


# -- driving ------------------------------------------------------------------------------------------


SIZE_UP = ReplaceProduct(line_id=1, sku="JKT-ALP-L-NVY")  # the seed's jacket, Navy / M → Navy / L
NEW_ADDRESS = ChangeAddress(address=SEED_CASE_NEW_ADDRESS)


def stage(screen: OrderScreen, *amendments) -> None:
    """Stage amendments as the dialogs hand them to the order screen when they close (the dialogs
    themselves are pictured on their own, and driven by the keys in test_flows.py)."""
    for a in amendments:
        screen.stage(a)
    assert screen.session is not None and list(screen.session.staged) == list(amendments), \
        "the engine refused a staged amendment"


# -- the views ---------------------------------------------------------------------------------------


async def search_recent(pilot, env):
    await search_loaded(pilot)
    table = pilot.app.screen.query_one("#results")
    assert table.row_count == pilot.app.settings.ui.page_size


async def search_whitfield(pilot, env):
    await search_loaded(pilot)
    await paste(pilot, "whitfield")
    await results_for(pilot, "customer name", [SEED_CASE_REF], "whitfield")


async def order_lines(pilot, env):
    await open_order(pilot, SEED_CASE_REF)


def order_tab(presses: int):
    async def drive(pilot, env):
        await open_order(pilot, SEED_CASE_REF)
        await pilot.press(*["right"] * presses)  # the tabs have the focus when the order opens
        await settled(pilot)

    return drive


async def amend_preview(pilot, env):
    screen = await open_order(pilot, SEED_CASE_REF)
    stage(screen, SIZE_UP, NEW_ADDRESS)
    await settled(pilot)


def dialog_on_seed(key: str, kind: type):
    async def drive(pilot, env):
        await open_order(pilot, SEED_CASE_REF)
        await pilot.press(key)
        await in_front(pilot, kind)

    return drive


async def commit_dialog(pilot, env):
    screen = await open_order(pilot, SEED_CASE_REF)
    stage(screen, SIZE_UP, NEW_ADDRESS)
    await pilot.press("ctrl+s")
    await in_front(pilot, CommitDialog)


def seed_to_click_and_collect(env) -> None:
    """The demo's click & collect orders are all at the store already (the store is locked), so the
    seed's order is switched to collection in Chicago first, by another writer."""
    s = env.open_store()
    order = s.get_order(SEED_CASE_REF).order
    to_chicago = SwitchFulfilment(fulfilment=ClickAndCollect(location_id="ST-CHI"))
    s.commit(CommitRequest(order_ref=SEED_CASE_REF, expected_version=order.version, amendments=(to_chicago,),
                           reason_code="CUSTOMER_REQUEST", idempotency_key="snapshot-switch-0001",
                           actor="lee"))


async def account(pilot, env):
    await open_order(pilot, SEED_CASE_REF)
    await pilot.press("b")
    await until(pilot, lambda: isinstance(pilot.app.screen, AccountScreen)
                and pilot.app.screen.view is not None, "the billing account")
    await settled(pilot)


async def document(pilot, env):
    # The account as `b` opens it (filtered to the order), pushed straight away to save time.
    view = pilot.app.backend.get_order(SEED_CASE_REF)
    screen = AccountScreen(view.account.id, order_ref=SEED_CASE_REF)
    pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.view is not None and screen.is_current, "the billing account")
    await settled(pilot)
    await pilot.press("up", "enter")  # from the newest row (the capture) to the invoice it pays
    await in_front(pilot, DocumentDialog)
    assert pilot.app.screen.document.doc == "INVOICE"


async def help_screen(pilot, env):
    await open_order(pilot, SEED_CASE_REF)
    await pilot.press("f1")
    await in_front(pilot, HelpScreen)


async def read_only_order(pilot, env):
    screen = await open_order(pilot, SEED_CASE_REF)
    assert screen.query("#read-only-badge")


async def conflict(pilot, env):
    screen = await open_order(pilot, SEED_CASE_REF)
    stage(screen, SIZE_UP)
    other = env.open_store()  # a second agent's handle on the same file
    other.commit(CommitRequest(order_ref=SEED_CASE_REF, expected_version=1,
                               amendments=(ChangeQuantity(line_id=2, quantity=2),),
                               reason_code="CUSTOMER_REQUEST", idempotency_key="snapshot-other-0001",
                               actor="lee"))
    await pilot.press("ctrl+s")
    await in_front(pilot, CommitDialog)
    await pilot.press("enter", "down", "enter", "ctrl+s")
    await in_front(pilot, ConflictDialog)
    await until(pilot, lambda: screen.session is not None and screen.session.view.order.version == 2,
                "the order read again")
    await settled(pilot)


RETURNABLE = "ON-100005"  # delivered 10 days before the demo's clock: both lines returnable
RETURN_MIX = "ON-100020"  # swimsuit past its window, final-sale slides, a tee on a return in progress


async def open_returns_tab(pilot, ref: str):
    from carecli.screens.returns import ReturnsPane

    screen = await open_order(pilot, ref)
    await pilot.press(*["right"] * 5)  # the tabs have the focus; Returns is the sixth
    pane = screen.query_one(ReturnsPane)
    await until(pilot, lambda: pane.eligibility is not None, "the returns tab")
    await settled(pilot)
    return pane


async def returns_draft(pilot, env):
    """The draft as the line dialog hands it over: one tee back, opened (a restocking fee)."""
    from carecli.engine.returns import ReturnLineRequest

    pane = await open_returns_tab(pilot, RETURNABLE)
    pane.draft[2] = ReturnLineRequest(line_id=2, quantity=1, reason_code="CHANGED_MIND", condition="opened")
    pane.render_all()
    await settled(pilot)


async def returns_rules(pilot, env):
    await open_returns_tab(pilot, RETURN_MIX)


def verified_return(env) -> None:
    """A return of both lines of ON-100005, received and verified (line 1 rejected), by another agent."""
    from carecli.backend.contract import CreateReturnRequest, ReturnStepRequest, VerifyReturnRequest
    from carecli.engine.returns import LineVerdict, ReturnLineRequest

    s = env.open_store()
    v = s.get_order(RETURNABLE).order.version
    ro = s.create_return(CreateReturnRequest(
        order_ref=RETURNABLE, expected_version=v, idempotency_key="snapshot-return-1", actor="lee",
        lines=(ReturnLineRequest(line_id=1, quantity=1, reason_code="WRONG_SIZE", condition="used"),
               ReturnLineRequest(line_id=2, quantity=2, reason_code="DAMAGED", condition="opened")))).return_order
    s.receive_return(ReturnStepRequest(return_id=ro.id, idempotency_key="snapshot-return-2", actor="lee"))
    s.verify_return(VerifyReturnRequest(return_id=ro.id, idempotency_key="snapshot-return-3", actor="lee",
                                        verdicts=(LineVerdict(line_id=1, accepted=False, note="worn outdoors"),
                                                  LineVerdict(line_id=2, accepted=True))))


async def refund_dialog(pilot, env):
    from carecli.screens.dialogs.returns import RefundDialog

    pane = await open_returns_tab(pilot, RETURNABLE)
    pane.query_one("#ret-list", DataTable).focus()
    await pilot.press("f")
    await in_front(pilot, RefundDialog)


async def exchange_dialog(pilot, env):
    """The exchange dialog on a draft of one tee, the Merino tee chosen (an uneven exchange)."""
    from textual.widgets import Select

    from carecli.engine.returns import ReturnLineRequest
    from carecli.screens.dialogs.returns import ExchangeDialog

    pane = await open_returns_tab(pilot, RETURNABLE)
    pane.draft[2] = ReturnLineRequest(line_id=2, quantity=1, reason_code="WRONG_SIZE", condition="unopened")
    pane.render_all()
    pilot.app.screen.refresh_bindings()
    await settled(pilot)
    await pilot.press("t")
    await in_front(pilot, ExchangeDialog)
    pilot.app.screen.query_one("#rep-2", Select).value = "TEE-MER-M-BLK"
    await settled(pilot)


def verified_dearer_exchange(env) -> None:
    """An exchange of one organic tee of ON-100005 for the dearer Merino tee, received and verified by
    another agent: it waits to be settled with an extra charge."""
    from carecli.backend.contract import CreateExchangeRequest, ReturnStepRequest, VerifyReturnRequest
    from carecli.engine.returns import LineVerdict, ReplacementLine, ReturnLineRequest

    s = env.open_store()
    v = s.get_order(RETURNABLE).order.version
    ro = s.create_exchange(CreateExchangeRequest(
        order_ref=RETURNABLE, expected_version=v, idempotency_key="snapshot-exchange-1", actor="lee",
        lines=(ReturnLineRequest(line_id=2, quantity=1, reason_code="WRONG_SIZE", condition="unopened"),),
        replacements=(ReplacementLine(sku="TEE-MER-M-BLK", quantity=1),))).return_order
    s.receive_return(ReturnStepRequest(return_id=ro.id, idempotency_key="snapshot-exchange-2", actor="lee"))
    s.verify_return(VerifyReturnRequest(return_id=ro.id, idempotency_key="snapshot-exchange-3", actor="lee",
                                        verdicts=(LineVerdict(line_id=2, accepted=True),)))


async def settle_exchange_dialog(pilot, env):
    from carecli.screens.dialogs.returns import SettleExchangeDialog

    pane = await open_returns_tab(pilot, RETURNABLE)
    pane.query_one("#ret-list", DataTable).focus()
    await pilot.press("f")
    await in_front(pilot, SettleExchangeDialog)


VIEWS: dict[str, View] = {
    "search_recent": View(search_recent),
    "search_whitfield": View(search_whitfield),
    "order_lines": View(order_lines),
    "order_fulfilment": View(order_tab(1)),
    "order_money": View(order_tab(2)),
    "order_timeline": View(order_tab(4)),
    "amend_preview": View(amend_preview),
    "dialog_quantity": View(dialog_on_seed("q", QuantityDialog)),
    "dialog_replace": View(dialog_on_seed("r", VariantDialog)),
    "dialog_add": View(dialog_on_seed("a", VariantDialog)),
    "dialog_address": View(dialog_on_seed("d", AddressDialog)),
    "dialog_shipping": View(dialog_on_seed("s", ShippingDialog)),
    "dialog_appeasement": View(dialog_on_seed("g", AppeasementDialog)),
    "dialog_commit": View(commit_dialog),
    "dialog_cancel_confirm": View(dialog_on_seed("c", ConfirmDialog)),
    "dialog_switch_to_collect": View(dialog_on_seed("w", PickupDialog)),
    "dialog_pickup": View(dialog_on_seed("l", PickupDialog), prepare=seed_to_click_and_collect),
    "dialog_conflict": View(conflict),
    "account": View(account),
    "dialog_document": View(document),
    "help": View(help_screen),
    "read_only_order": View(read_only_order, role="supervisor"),
    "returns_draft": View(returns_draft),
    "returns_rules": View(returns_rules),
    "dialog_refund": View(refund_dialog, prepare=verified_return),
    "dialog_exchange": View(exchange_dialog),
    "dialog_exchange_settle": View(settle_exchange_dialog, prepare=verified_dearer_exchange),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view, theme", view_cases(VIEWS, ANSI_VIEWS))
def test_view(view, theme, size, snap_compare, app_factory, open_store):
    assert snapshot_view(VIEWS[view], theme, size, snap_compare, app_factory, open_store)
