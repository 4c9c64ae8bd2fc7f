"""The billing-account screen and its document dialog, driven by the keys over a real demo store.

The store is the embedded SQLite store built from the deterministic demo business (200 orders), once
per module; a test that writes to it works on its own copy of the file.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Label, Select, Static, TabbedContent

from carecli import demo
from carecli.app import CareApp
from carecli.backend.contract import AccountView, CommitRequest
from carecli.backend.sqlite import SqliteStore, build_demo, load_business
from carecli.config import Settings
from carecli.demo import DEMO_NOW, SEED_CASE_REF
from carecli.engine.commands import AppeasementCredit
from carecli.engine.model import CreditMemo, Invoice
from carecli.engine.money import Money
from carecli.screens.account import (
    AccountScreen, DocumentDialog, amount_text, header_text, ledger_rows, open_account_for_order,
)
from carecli.widgets.money import fmt
from carecli.widgets.safe import clean

ORDERS = 200
SIZE = (120, 40)

HOSTILE_NAME = "Dana [@click=app.quit] \x1b[31mWhitfield\x1b]52;c;ZXZpbA==\x07 [bold]x[/bold]"
HOSTILE_ITEM = "Jacket [@click=app.quit]\x1b[2J [link=http://evil]"


# -- stores ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("account") / "demo.db"
    build_demo(path, orders=ORDERS)
    return path


@pytest.fixture()
def store(demo_file, tmp_path):
    """A fresh copy of the demo store for each test (some tests commit), on a fixed clock."""
    path = tmp_path / "store.db"
    shutil.copyfile(demo_file, path)
    s = SqliteStore.open(path, clock=lambda: DEMO_NOW)
    yield s
    s.close()


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory) -> Path:
    """The demo business with the seed customer's name and one invoice item made hostile: markup
    that would quit the app, a colour escape, an OSC 52 clipboard write, a screen clear."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    ref = demo.reference()

    def stream():
        for dc, orders in demo.generate(30):
            customer = dc.customer
            if any(o.ref == SEED_CASE_REF for o in orders):
                customer = customer.model_copy(update={"name": HOSTILE_NAME})
                orders = [_hostile_invoice(o) for o in orders]
            yield customer, dc.account, orders

    load_business(path, variants=list(ref.variants), locations=list(ref.locations), stream=stream(),
                  expected_orders=30)
    return path


def _hostile_invoice(order):
    docs = []
    for d in order.documents:
        if isinstance(d, Invoice) and d.items:
            first = d.items[0].model_copy(update={"description": HOSTILE_ITEM})
            d = d.model_copy(update={"items": (first, *d.items[1:])})
        docs.append(d)
    return order.model_copy(update={"documents": tuple(docs)})


def seed_account(store) -> str:
    return store.get_order(SEED_CASE_REF).account.id


def multi_order_account(store) -> str:
    """The first account with several orders and a credit memo on its ledger (the demo is fixed)."""
    by_account: dict[str, list[str]] = defaultdict(list)
    for n in range(100001, 100001 + 80):
        by_account[store.get_order(f"ON-{n}").account.id].append(f"ON-{n}")
    for account_id, refs in by_account.items():
        if len(refs) >= 3:
            view = store.get_account(account_id)
            if any(isinstance(e.document, CreditMemo) for e in view.ledger):
                return account_id
    raise AssertionError("the demo has no account with several orders and a credit memo")


# -- driving ---------------------------------------------------------------------------------------


def care_app(store) -> CareApp:
    app = CareApp(store, Settings())
    app.animation_level = "none"  # nothing to wait for between keys
    return app


async def open_account(app: CareApp, pilot, account_id: str, **kw) -> AccountScreen:
    await pilot.pause()
    screen = AccountScreen(account_id, **kw)
    app.push_screen(screen)
    await loaded(pilot, screen)
    return screen


async def loaded(pilot, screen: AccountScreen) -> None:
    for _ in range(100):
        if screen.view is not None and screen.is_current:
            break
        await pilot.pause(0.02)
    assert screen.view is not None, "the account never loaded"
    await pilot.pause()


def ledger_keys(screen: AccountScreen) -> list[str]:
    table = screen.query_one("#ledger", DataTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def plain(widget: Static) -> str:
    content = widget.content
    assert isinstance(content, Text), f"{widget!r} holds {type(content).__name__}, not literal Text"
    return content.plain


def rendered(app: CareApp) -> str:
    """Everything on the terminal, as text (through the public screenshot export)."""
    return app.export_screenshot().replace("&#160;", " ")


# -- tests -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_seed_account_shows_the_backends_ledger_oldest_first_cursor_on_newest(store):
    account_id = seed_account(store)
    view = store.get_account(account_id)
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot, account_id)
        assert ledger_keys(screen) == [e.document.id for e in view.ledger]
        table = screen.query_one("#ledger", DataTable)
        assert table.cursor_row == table.row_count - 1
        assert app.focused is table
        last = table.get_row_at(table.row_count - 1)
        assert last[-1].plain == amount_text(view.balance)

        header = plain(screen.query_one("#account-title", Label))
        for part in (view.customer.name, view.customer.email, view.customer.phone, account_id,
                     view.account.currency):
            assert part in header
        summary = plain(screen.query_one("#account-summary", Static))
        for pm in view.account.payment_methods:
            assert f"{pm.label()}  exp {pm.expiry}" in summary
        assert "Visa •••• 4242  exp" in summary  # the seed's card, masked
        assert f"Store credit {fmt(view.store_credit)}" in summary
        assert f"Balance {fmt(view.balance)}" in summary
        tabs = screen.query_one("#account-tabs", TabbedContent)
        assert tabs.active == "tab-ledger"


@pytest.mark.asyncio
async def test_enter_opens_the_invoice_with_its_items_and_escape_returns(store):
    account_id = seed_account(store)
    view = store.get_account(account_id)
    invoice_at = next(i for i, e in enumerate(view.ledger) if isinstance(e.document, Invoice))
    invoice = view.ledger[invoice_at].document
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot, account_id)
        for _ in range(len(view.ledger) - 1 - invoice_at):
            await pilot.press("up")
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DocumentDialog)
        assert dialog.document.id == invoice.id
        items = dialog.query_one("#document-items", Static)
        shown = rendered(app)
        for it in invoice.items:
            assert clean(it.description) in shown
            assert fmt(it.amount) in shown
        assert items.display
        assert fmt(invoice.total) in shown
        # the invoice's capture is linked; Enter opens it, Escape comes back one level at a time
        paid_by = [e.document.id for e in view.ledger
                   if getattr(e.document, "invoice_id", None) == invoice.id]
        assert [d.id for _, d in dialog.links] == paid_by
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DocumentDialog) and app.screen.document.doc == "PAYMENT"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AccountScreen)


@pytest.mark.asyncio
async def test_filter_by_order_narrows_the_ledger_to_that_orders_documents(store):
    account_id = multi_order_account(store)
    view = store.get_account(account_id)
    refs = [s.ref for s in view.orders]
    target = next(e.order_ref for e in view.ledger if isinstance(e.document, CreditMemo))
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot, account_id)
        assert len(ledger_keys(screen)) == len(view.ledger)
        # f focuses the filter; Enter opens it; "All orders" first, then the refs most recent first
        await pilot.press("f")
        assert isinstance(app.focused, Select)
        await pilot.press("enter")
        for _ in range(refs.index(target) + 1):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.order_ref == target
        assert ledger_keys(screen) == [e.document.id for e in view.ledger if e.order_ref == target]
        # filtered, the last column is the order's own running balance
        mine = [e.effect for e in view.ledger if e.order_ref == target]
        total = mine[0]
        for m in mine[1:]:
            total = total + m
        table = screen.query_one("#ledger", DataTable)
        assert table.get_row_at(table.row_count - 1)[-1].plain == amount_text(total)
        assert table.cursor_row == table.row_count - 1
        # back to every order
        await pilot.press("f", "enter", "home", "enter")
        await pilot.pause()
        assert screen.order_ref is None
        assert ledger_keys(screen) == [e.document.id for e in view.ledger]


@pytest.mark.asyncio
async def test_opening_for_an_order_starts_filtered_on_it(store):
    account_id = multi_order_account(store)
    view = store.get_account(account_id)
    ref = view.orders[-1].ref
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        open_account_for_order(app, ref.lower())  # as typed; the store knows the ref either way
        for _ in range(100):
            if isinstance(app.screen, AccountScreen) and app.screen.view is not None:
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, AccountScreen)
        await loaded(pilot, screen)
        assert screen.account_id == account_id and screen.order_ref == ref
        assert screen.query_one("#order-filter", Select).value == ref
        assert ledger_keys(screen) == [e.document.id for e in view.ledger if e.order_ref == ref]


@pytest.mark.asyncio
async def test_orders_tab_lists_the_accounts_orders_and_enter_opens_one(store):
    from carecli.screens.order import OrderScreen

    account_id = multi_order_account(store)
    view = store.get_account(account_id)
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot, account_id)
        await pilot.press("o")
        await pilot.pause()
        assert screen.query_one("#account-tabs", TabbedContent).active == "tab-orders"
        orders = screen.query_one("#account-orders", DataTable)
        assert app.focused is orders
        shown = [str(orders.coordinate_to_cell_key((i, 0)).row_key.value)
                 for i in range(orders.row_count)]
        assert shown == [s.ref for s in view.orders]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, OrderScreen) and app.screen.ref == view.orders[1].ref
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("l")
        assert screen.query_one("#account-tabs", TabbedContent).active == "tab-ledger"
        assert app.focused is screen.query_one("#ledger", DataTable)
        # the returns tab keeps its place
        screen.query_one("#account-tabs", TabbedContent).active = "tab-returns"
        await pilot.pause()
        assert "No returns on this account." in rendered(app)


@pytest.mark.asyncio
async def test_reload_shows_a_new_credit_memo_settled_to_store_credit(store):
    account_id = seed_account(store)
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_account(app, pilot, account_id)
        before = ledger_keys(screen)
        order = store.get_order(SEED_CASE_REF).order
        credit = AppeasementCredit(amount=Money("10.00", "USD"), reason_code="LATE_DELIVERY")
        result = store.commit(CommitRequest(
            order_ref=SEED_CASE_REF, expected_version=order.version, reason_code="LATE_DELIVERY",
            amendments=(credit,), idempotency_key="account-test-0001", actor="test"))
        memo = next(d for d in result.documents if isinstance(d, CreditMemo))
        await pilot.press("ctrl+r")
        for _ in range(100):
            if len(ledger_keys(screen)) > len(before):
                break
            await pilot.pause(0.02)
        view = store.get_account(account_id)
        assert ledger_keys(screen) == [e.document.id for e in view.ledger]
        assert {d.id for d in result.documents} <= set(ledger_keys(screen))
        summary = plain(screen.query_one("#account-summary", Static))
        assert f"Store credit {fmt(Money('10.00', 'USD'))}" in summary
        table = screen.query_one("#ledger", DataTable)
        assert table.get_row_at(table.row_count - 1)[-1].plain == amount_text(view.balance)
        # the memo shows the store credit that settles it
        table.move_cursor(row=ledger_keys(screen).index(memo.id))
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, DocumentDialog) and dialog.document.id == memo.id
        settled_by = [d.id for rel, d in dialog.links if rel == "settled by"]
        assert settled_by == [d.id for d in result.documents if d.doc == "STORE_CREDIT"]
        shown = rendered(app)
        assert "Appeasement (LATE_DELIVERY)" in shown
        assert "USD 10.00 of USD 10.00 refunded or credited" in shown


@pytest.mark.asyncio
async def test_hostile_customer_name_and_item_render_literally(hostile_file, tmp_path):
    path = tmp_path / "hostile.db"
    shutil.copyfile(hostile_file, path)
    store = SqliteStore.open(path)
    try:
        account_id = seed_account(store)
        view = store.get_account(account_id)
        assert view.customer.name == HOSTILE_NAME  # the store kept it as given
        app = care_app(store)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_account(app, pilot, account_id)
            header = plain(screen.query_one("#account-title", Label))
            assert "Dana [@click=app.quit] Whitfield [bold]x[/bold]" in header
            assert "\x1b" not in header and "\x07" not in header
            shown = rendered(app)
            assert "[@click=app.quit]" in shown and "[bold]x[/bold]" in shown
            assert "\x1b" not in shown and "ZXZpbA" not in shown
            # the invoice: its hostile item shows as typed, without the escape
            index = next(i for i, e in enumerate(view.ledger) if isinstance(e.document, Invoice))
            screen.query_one("#ledger", DataTable).move_cursor(row=index)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, DocumentDialog)
            shown = rendered(app)
            assert "Jacket [@click=app.quit] [link=http://evil]" in shown
            assert "\x1b" not in shown
            assert app.is_running
    finally:
        store.close()


def test_ledger_cells_are_literal_text_for_a_hand_made_view(store):
    """The pure builders never hand a plain str (which Textual would parse as markup) to a cell."""
    view = store.get_account(seed_account(store))
    customer = view.customer.model_copy(update={"name": HOSTILE_NAME})
    hostile = view.model_copy(update={"customer": customer})
    assert isinstance(hostile, AccountView)
    assert header_text(hostile).plain.startswith("Dana [@click=app.quit] Whitfield")
    for narrow in (False, True):
        for row in ledger_rows(hostile, narrow=narrow):
            assert all(isinstance(c, Text) for c in row.cells)


@pytest.mark.asyncio
async def test_usable_at_80_by_24_without_sideways_scrolling(store):
    account_id = multi_order_account(store)
    view = store.get_account(account_id)
    app = care_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_account(app, pilot, account_id)
        table = screen.query_one("#ledger", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert table.size.height >= 8
        shown = rendered(app)
        assert view.ledger[-1].document.id in shown and amount_text(view.balance) in shown
        await pilot.press("ctrl+y")
        assert app.clipboard == account_id
        # wider again: every column comes back, the cursor stays on its document
        await pilot.press("up", "up")
        at = table.cursor_row
        assert len(table.columns) == 6
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert len(table.columns) == 7 and table.cursor_row == at


@pytest.mark.asyncio
async def test_unknown_account_says_so_and_goes_back(store):
    app = care_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen
        screen = AccountScreen("BA-999999")
        app.push_screen(screen)
        await pilot.pause()
        for _ in range(100):
            if app.screen is first and not screen.is_attached:  # popped, then detached a moment later
                break
            await pilot.pause(0.02)
        assert app.screen is first and not screen.is_attached
        assert any(n.title == "Account not found" for n in app._notifications)


def test_every_binding_has_an_id_and_a_tooltip():
    for cls in (AccountScreen, DocumentDialog):
        for b in cls.BINDINGS:
            assert b.id and b.tooltip, b
    ids = {b.id for b in AccountScreen.BINDINGS}
    assert {"account.back", "account.filter", "account.orders", "account.ledger", "account.reload",
            "account.copy"} <= ids
