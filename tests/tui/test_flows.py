"""The agent's flows through the keys, over a real demo store, asserted on the app's state and on the
store afterwards (read through a second, separate handle on the same file).

1. the seed's case end to end: search, open, size swap, new address, preview, commit, billing account;
2. read-only (a supervisor): the amend keys do nothing, the badge shows, the file is untouched and the
   backend refuses a commit anyway;
3. a conflict made by a second writer between preview and commit;
4. a declined charge: a titled message, nothing applied;
5. undo of one staged change, with the preview following;
6. hostile text in a customer's name shown literally, never reaching the terminal as escapes.

Tests marked ``xfail(strict=True)`` pin down app bugs found while writing these: each fails for the
reason in its marker, and will start failing loudly (XPASS) once the bug is fixed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Input, Label, Select, Static, TabbedContent

from carecli import demo
from carecli.backend.contract import CommitRequest, Forbidden
from carecli.backend.sqlite import SqliteStore, load_business
from carecli.demo import DEMO_NOW, SCENARIOS, SEED_CASE_NEW_ADDRESS, SEED_CASE_REF
from carecli.engine.commands import (
    AMENDMENTS, ChangeAddress, ChangeQuantity, ChangeShippingMethod, ReplaceProduct,
)
from carecli.engine.context import PlanContext
from carecli.engine.model import CreditMemo, Invoice, Payment
from carecli.engine.money import Money
from carecli.engine.notifications import channels_for
from carecli.engine.plan import plan
from carecli.engine.pricing import price
from carecli.screens.account import AccountScreen
from carecli.screens.dialogs import (
    AddressDialog, CommitDialog, ConfirmDialog, ConflictDialog, QuantityDialog, ShippingDialog, VariantDialog,
)
from carecli.screens.order import OrderScreen
from carecli.screens.search import SearchScreen
from carecli.widgets.results import ResultsTable
from carecli.widgets.safe import clean

from .conftest import (
    in_front, paste, result_refs, results_for, screen_text, search_loaded, settled, until,
)

WIDE = (120, 40)
SEED_JACKET_M = "JKT-ALP-M-NVY"
SEED_JACKET_L = "JKT-ALP-L-NVY"  # the next size up, same colour: 199.00 against 189.00
DECLINING_REF = SCENARIOS["declining_card"]  # Marcus Bell, whose only card ends 0002
CANCELLED_REF = SCENARIOS["cancelled"]


# -- helpers -------------------------------------------------------------------------------------------


async def open_from_search(pilot, query: str, ref: str, kind: str, *, typed: bool = True) -> OrderScreen:
    """Type (or paste) ``query`` in the search box; Enter opens the one result; wait until it is read."""
    await search_loaded(pilot)
    if typed:
        await pilot.press(*query)
    else:
        await paste(pilot, query)
    await results_for(pilot, kind, [ref], query)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, OrderScreen)
                and pilot.app.screen.session is not None, f"order {ref} to open")
    await settled(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, OrderScreen) and screen.ref == ref
    return screen


async def choose_reason(pilot, code: str) -> None:
    """In the commit dialog (reason list focused): open the list, go down to ``code``, choose it."""
    dialog = pilot.app.screen
    assert isinstance(dialog, CommitDialog)
    codes = [r.code for r in dialog.reasons]
    await pilot.press("enter", *["down"] * (codes.index(code) + 1), "enter")
    await pilot.pause()
    assert dialog.query_one("#reason", Select).value == code


async def commit_by_keys(pilot, reason: str) -> None:
    """Ctrl+S, choose the reason with the keys, Ctrl+S again; wait for the backend's answer."""
    await pilot.press("ctrl+s")
    await in_front(pilot, CommitDialog)
    await choose_reason(pilot, reason)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not isinstance(pilot.app.screen, CommitDialog), "the commit dialog to close")
    await settled(pilot)


def engine_plan(view, amendments, reference):
    """The engine's own preview of ``amendments`` on ``view``'s order (computed here, not by the app)."""
    ctx = PlanContext(policy=reference.policy, catalog=reference.catalog(),
                      locations=reference.location_map(), customer=view.customer, account=view.account,
                      now=DEMO_NOW, role="agent")
    p = plan(view.order, list(amendments), ctx)
    assert p.ok, p.violations
    return p


def money_of(doc) -> tuple[str, Money]:
    """A document's kind and amount (ids differ between a preview and a commit)."""
    return type(doc).__name__, doc.total if isinstance(doc, (Invoice, CreditMemo)) else doc.amount


def grand_total(view, reference) -> Money:
    return price(view.order, reference.policy, reference.location_map()).grand_total


def store_fingerprint(path: Path) -> str:
    """A hash of every row of every table, read with a plain read-only SQLite connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'customer_names%' ORDER BY name")]
        for t in tables:
            for row in sorted(repr(r) for r in conn.execute(f'SELECT * FROM "{t}"')):
                h.update(f"{t}:{row}".encode())
        return h.hexdigest()
    finally:
        conn.close()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- 1. the seed's case --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_seed_case_end_to_end_through_the_keys(app_factory, open_store):
    before_store = open_store(read_only=True)
    original = before_store.get_order(SEED_CASE_REF)
    reference = before_store.reference()
    timeline_before = before_store.get_timeline(SEED_CASE_REF)
    audit_before = list(before_store.audit_records())
    before_store.close()
    amendments = [ReplaceProduct(line_id=1, sku=SEED_JACKET_L), ChangeAddress(address=SEED_CASE_NEW_ADDRESS)]
    expected = engine_plan(original, amendments, reference)
    # By hand: before, 189.00 + 28.00 = 217.00 with Chicago's 10.25 % tax, 19.37 + 2.87 = 22.24, free
    # shipping → 239.24. After, 199.00 + 28.00 = 227.00 with Milwaukee's 7.9 %, 15.721 → 15.72 and
    # 2.212 → 2.21 = 17.93 → 244.93. Delta +5.69 (+10.00 on the jacket, −4.31 of tax): one supplementary
    # invoice, captured on Visa •••• 4242.
    assert expected.delta == Money("5.69", "USD")

    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, "whitfield", SEED_CASE_REF, "customer name")
        assert screen.session.view.order.version == 1
        assert screen.session.view.order.lines[0].sku == SEED_JACKET_M

        # r: the variant picker opens on the line's own product, closest variants first
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        picker = app.screen
        assert picker.highlighted().sku == SEED_JACKET_L
        assert picker.highlighted().attributes == {"size": "L", "colour": "Navy"}
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        assert screen.session.staged == [amendments[0]]

        # d: the address form, field by field (Tab moves on; Ctrl+U clears; long values pasted)
        await pilot.press("d")
        await in_front(pilot, AddressDialog)
        form = app.screen
        new = SEED_CASE_NEW_ADDRESS
        for value, typed in ((new.line1, False), (new.line2, True), (new.city, False), (new.region, True),
                             (new.postcode, True)):
            await pilot.press("tab", "end", "ctrl+u")
            if typed:
                await pilot.press(*value)
            else:
                await paste(pilot, value)
        await pilot.pause()
        assert form.values()["postcode"] == new.postcode and form.values()["city"] == new.city
        assert "major change" in str(form.query_one("#address-kind", Static).render())
        await pilot.press("ctrl+s")
        await in_front(pilot, OrderScreen)
        assert screen.session.staged == amendments

        # the live preview on the Amend tab: the engine's own figures
        assert screen.query_one("#order-tabs", TabbedContent).active == "tab-amend"
        assert screen.session.preview.delta == expected.delta
        shown = screen_text(app)
        assert "USD 244.93" in shown and "USD +5.69" in shown  # the new total and the change
        assert "Supplementary invoice INV-PREVIEW-1 for USD 5.69" in shown
        assert "Charge USD 5.69 to Visa •••• 4242" in shown

        # commit with a reason and a note
        await pilot.press("ctrl+s")
        await in_front(pilot, CommitDialog)
        assert "The customer is charged USD 5.69 more." in screen_text(app)
        await choose_reason(pilot, "WRONG_SIZE")
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#note", Input)
        await paste(pilot, "moved to Milwaukee")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.session.view.order.version == 2, "the committed order, read again")
        await settled(pilot)
        assert app.screen is screen and not screen.session.staged
        assert [n.title for n in app._notifications] == ["Committed"]
        assert "v2" in str(screen.query_one("#order-title", Label).render())

        # the store, through a separate handle
        check = open_store(read_only=True)
        after = check.get_order(SEED_CASE_REF)
        assert after.order.version == 2
        assert after.order.lines[0].sku == SEED_JACKET_L
        assert after.order.fulfilment.address == SEED_CASE_NEW_ADDRESS
        old_ids = {d.id for d in original.order.documents}
        new_docs = [d for d in after.order.documents if d.id not in old_ids]
        money_docs = [d for d in new_docs if isinstance(d, (Invoice, CreditMemo))]
        assert len(money_docs) == 1
        invoice = money_docs[0]
        assert isinstance(invoice, Invoice) and invoice.type == "SUPPLEMENTARY"
        assert invoice.total == expected.delta == Money("5.69", "USD")
        assert [money_of(d) for d in new_docs] == [money_of(d) for d in expected.documents]
        captures = [d for d in new_docs if isinstance(d, Payment)]
        assert [(c.invoice_id, c.amount) for c in captures] == [(invoice.id, Money("5.69", "USD"))]

        # one notification per channel the customer agreed to (Dana: email only), for this event
        timeline = check.get_timeline(SEED_CASE_REF)
        sent = [e for e in timeline if e.kind == "notification" and e not in timeline_before]
        wanted = channels_for(after.customer)
        assert [e.detail for e in sent] == [f"{channel} to {to}" for channel, to in wanted]
        assert wanted == [("email", "dana.whitfield@example.com")]

        # one audit record, chained
        audit = list(check.audit_records())
        assert len(audit) == len(audit_before) + 1
        record = audit[-1]
        assert (record.actor, record.role, record.order_ref) == ("kim", "agent", SEED_CASE_REF)
        assert (record.version_before, record.version_after) == (1, 2)
        assert (record.reason_code, record.note) == ("WRONG_SIZE", "moved to Milwaukee")
        assert list(AMENDMENTS.validate_python(record.command)) == amendments
        assert record.financial_effect["delta"]["amount"] == "5.69"
        assert check.verify_audit() is None

        # b: the billing account, on this order's documents, shows the new invoice and its capture
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None,
                    "the billing account")
        await settled(pilot)
        ledger = app.screen.query_one("#ledger", DataTable)
        keys = [str(ledger.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(ledger.row_count)]
        assert keys[-2:] == [invoice.id, captures[0].id]
        assert "Invoice · supplementary" in screen_text(app)


# -- 2. read-only --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_supervisor_is_read_only_and_the_store_is_untouched(app_factory, store_path):
    file_before = file_hash(store_path)
    rows_before = store_fingerprint(store_path)
    app = app_factory(role="supervisor")
    assert app.read_only and app.backend.read_only and app.role == "supervisor"
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        assert screen.query_one("#read-only-badge", Label)
        assert "READ-ONLY" in screen_text(app)
        assert "READ-ONLY" in app.sub_title
        # every amend key: nothing opens, nothing is staged
        for key in ("q", "r", "a", "x", "d", "s", "l", "w", "c", "g", "u", "ctrl+s", "f10"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, f"{key} opened {app.screen!r}"
            assert screen.session.staged == [], key
        footer = screen_text(app).splitlines()[-1]
        for word in ("Qty", "Replace", "Commit", "Address"):
            assert word not in footer
        # the backend refuses anyway
        order = screen.session.view.order
        with pytest.raises(Forbidden):
            app.backend.commit(CommitRequest(
                order_ref=SEED_CASE_REF, expected_version=order.version, reason_code="WRONG_SIZE",
                amendments=(ReplaceProduct(line_id=1, sku=SEED_JACKET_L),), idempotency_key="supervisor-0001",
                actor="kim"))
        await pilot.press("b")  # reading is fine
        await until(pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None,
                    "the billing account")
        assert app.screen.query("#read-only-badge")
    app.backend.close()
    assert store_fingerprint(store_path) == rows_before
    assert file_hash(store_path) == file_before
    wal = Path(f"{store_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.asyncio
async def test_read_only_order_does_not_offer_the_amend_keys(app_factory):
    app = app_factory(role="supervisor")
    async with app.run_test(size=WIDE) as pilot:
        await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        why = app.screen.query_one("#line-why", Static).render()
        assert "q quantity" not in str(why) and "r replace" not in str(why)


# -- 3. conflict ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_conflict_from_a_second_writer_commits_nothing_until_confirmed_again(app_factory, open_store):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        mine = [ReplaceProduct(line_id=1, sku=SEED_JACKET_L)]
        assert screen.session.staged == mine
        assert screen.session.preview.totals_before.grand_total == Money("239.24", "USD")

        # another agent, another handle on the same file, commits first
        other = open_store()
        theirs = other.commit(CommitRequest(
            order_ref=SEED_CASE_REF, expected_version=1, amendments=(ChangeQuantity(line_id=2, quantity=2),),
            reason_code="CUSTOMER_REQUEST", idempotency_key="second-writer-0001", actor="lee"))
        assert theirs.order.version == 2

        await commit_by_keys(pilot, "WRONG_SIZE")
        await in_front(pilot, ConflictDialog)
        assert "was changed by someone else (version 1 → 2)" in screen_text(app)
        await until(pilot, lambda: screen.session.view.order.version == 2, "the order to be read again")
        await settled(pilot)

        # nothing of the app's session was committed: the store holds the second writer's version
        check = open_store(read_only=True)
        now = check.get_order(SEED_CASE_REF)
        assert now.order.version == 2
        assert now.order.lines[0].sku == SEED_JACKET_M and now.order.lines[1].quantity == 2
        # (the seed case's records: the demo store also holds its return in progress on another order)
        assert [r.actor for r in check.audit_records() if r.order_ref == SEED_CASE_REF] == ["lee"]

        # the staged change is kept and previewed again on version 2 (the beanie is now 2 × 28.00)
        assert screen.session.staged == mine
        repreviewed = engine_plan(now, mine, check.reference())
        assert screen.session.preview.order_before.version == 2
        assert grand_total(now, check.reference()) == Money("270.11", "USD")
        assert screen.session.preview.totals_before.grand_total == Money("270.11", "USD")
        assert screen.session.preview.totals_after.grand_total == repreviewed.totals_after.grand_total

        # OK closes the dialog; committing again lands the change as the next version
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        await commit_by_keys(pilot, "WRONG_SIZE")
        await until(pilot, lambda: screen.session.view.order.version == 3, "version 3 to be read")
        final = check.get_order(SEED_CASE_REF)
        assert final.order.version == 3
        assert final.order.lines[0].sku == SEED_JACKET_L and final.order.lines[1].quantity == 2
        records = [r for r in check.audit_records() if r.order_ref == SEED_CASE_REF]
        assert [(r.actor, r.version_before, r.version_after) for r in records] == [("lee", 1, 2),
                                                                                   ("kim", 2, 3)]
        assert records[-1].financial_effect["delta"]["amount"] == str(repreviewed.delta.amount)
        assert check.verify_audit() is None


# -- 4. declined charge --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_declined_charge_shows_a_titled_message_and_applies_nothing(app_factory, open_store):
    check = open_store(read_only=True)
    before = check.get_order(DECLINING_REF)
    assert [pm.last4 for pm in before.account.payment_methods] == ["0002"]
    audit_before = len(list(check.audit_records()))
    timeline_before = check.get_timeline(DECLINING_REF)

    app = app_factory()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        screen = await open_from_search(pilot, DECLINING_REF, DECLINING_REF, "order ref", typed=False)
        await pilot.press("q")
        await in_front(pilot, QuantityDialog)
        await pilot.press("2", "enter")  # the current quantity is selected: typing replaces it
        await in_front(pilot, OrderScreen)
        assert screen.session.staged == [ChangeQuantity(line_id=1, quantity=2)]
        assert screen.session.preview.delta.is_positive  # an extra charge on the card ending 0002
        await commit_by_keys(pilot, "CUSTOMER_REQUEST")
        await until(pilot, lambda: bool(app._notifications), "the error message")
        await settled(pilot)
        [note] = list(app._notifications)
        assert note.title == "Payment declined" and note.severity == "error"
        assert "Visa •••• 0002 was declined" in note.message and "nothing was changed" in note.message
        shown = screen_text(app)
        assert "Payment declined" in shown
        assert app.screen is screen and screen.session.staged == [ChangeQuantity(line_id=1, quantity=2)]
        assert screen.session.view.order.version == 1

    after = check.get_order(DECLINING_REF)
    assert after.order.version == before.order.version == 1
    assert [d.id for d in after.order.documents] == [d.id for d in before.order.documents]
    assert len(list(check.audit_records())) == audit_before
    assert check.get_timeline(DECLINING_REF) == timeline_before
    assert check.verify_audit() is None


# -- 5. undo -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_undo_takes_back_the_highlighted_change_and_the_preview_follows(app_factory):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        view, reference = screen.session.view, screen.session.reference
        size_up = ReplaceProduct(line_id=1, sku=SEED_JACKET_L)
        express = ChangeShippingMethod(method="EXPRESS")
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        await pilot.press("s")
        await in_front(pilot, ShippingDialog)
        await pilot.press("down", "enter")  # the method after the current one (Standard)
        await in_front(pilot, OrderScreen)
        assert screen.session.staged == [size_up, express]
        both = engine_plan(view, [size_up, express], reference)
        assert screen.session.preview.delta == both.delta
        assert f"USD {both.totals_after.grand_total.amount:,}" in screen_text(app)

        # highlight the second staged change (Tab into the staged list, Down), u takes it back
        staged = screen.query_one("#staged", DataTable)
        await pilot.press("tab")
        assert app.focused is staged
        await pilot.press("down")
        assert staged.cursor_row == 1
        await pilot.press("u")
        await pilot.pause()
        only = engine_plan(view, [size_up], reference)
        assert screen.session.staged == [size_up]
        assert screen.session.preview.delta == only.delta == Money("11.03", "USD")
        assert staged.row_count == 1
        shown = screen_text(app)
        assert "Amend (1)" in shown and "USD +11.03" in shown and "Express" not in shown

        # the last one: nothing staged, no preview, commit disabled again
        await pilot.press("u")
        await pilot.pause()
        assert screen.session.staged == [] and screen.session.preview is None
        assert "Nothing staged." in screen_text(app)
        assert screen.check_action("commit", ()) is None
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen


# -- 6. hostile text -----------------------------------------------------------------------------------

HOSTILE_NAME = "Dana [@click=app.quit] [link=https://evil]x[/link] \x1b]52;c;SGVsbG8=\x07Whitfield"
SHOWN_NAME = "Dana [@click=app.quit] [link=https://evil]x[/link] Whitfield"  # the OSC 52 write removed


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    """A small demo business whose seed customer's name carries markup that would quit the app, a
    link, and an OSC 52 clipboard write."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    ref = demo.reference()

    def stream():
        for dc, orders in demo.generate(30):
            customer = dc.customer
            if any(o.ref == SEED_CASE_REF for o in orders):
                customer = customer.model_copy(update={"name": HOSTILE_NAME})
            yield customer, dc.account, orders

    load_business(path, variants=list(ref.variants), locations=list(ref.locations), stream=stream(),
                  expected_orders=30)
    return path


@pytest.mark.asyncio
async def test_hostile_customer_name_is_shown_literally_and_never_as_escapes(hostile_db, tmp_path,
                                                                             app_factory):
    path = tmp_path / "hostile.db"
    path.write_bytes(hostile_db.read_bytes())
    with SqliteStore.open(path, read_only=True) as s:
        assert s.get_order(SEED_CASE_REF).customer.name == HOSTILE_NAME  # the store kept it as given
    assert clean(HOSTILE_NAME) == SHOWN_NAME

    app = app_factory(path=path)
    async with app.run_test(size=WIDE) as pilot:
        await search_loaded(pilot)
        await pilot.press(*"whitfield")
        await results_for(pilot, "customer name", [SEED_CASE_REF], "whitfield")
        table = app.screen.query_one("#results", ResultsTable)
        cell = table.get_row(SEED_CASE_REF)[2]
        assert isinstance(cell, Text) and cell.plain == SHOWN_NAME and not cell.spans
        width = table.columns[2].width - 2  # without the cell's padding
        shown = SHOWN_NAME if len(SHOWN_NAME) <= width else SHOWN_NAME[:width - 1] + "…"
        assert shown in screen_text(app)  # the column shows the name (its first characters and "…")
        assert "Dana [@click=app.quit]" in shown  # the whole would-be action shows, inert
        assert_no_escapes(app)
        # clicking on the name only puts the cursor there: no link is followed, no action runs
        search = app.screen
        await pilot.click("#results", offset=(40, 1))
        await pilot.pause()
        assert app.is_running and app.screen is search and app.focused is table

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OrderScreen) and app.screen.session is not None,
                    "the order to open")
        await settled(pilot)
        screen = app.screen
        title = screen.query_one("#order-title", Label)
        assert SHOWN_NAME in str(title.render())
        assert SHOWN_NAME in screen_text(app)
        assert_no_escapes(app)
        await pilot.click("#order-title", offset=(30, 1))
        await pilot.click("#order-title", offset=(45, 1))
        await pilot.press("right", "right", "left", "left")
        await pilot.pause()
        assert app.is_running and app.screen is screen

        # staging a change re-renders the header and the preview (which greets her by her first word)
        await pilot.press("r")
        await in_front(pilot, VariantDialog)
        await pilot.press("enter")
        await in_front(pilot, OrderScreen)
        shown = screen_text(app)
        assert SHOWN_NAME in shown and "Hello Dana," in shown
        assert_no_escapes(app)
        await pilot.press("escape")  # leaving with a staged change asks first
        await in_front(pilot, ConfirmDialog)
        await pilot.press("y")
        await in_front(pilot, SearchScreen)
        assert app.is_running and result_refs(app) == [SEED_CASE_REF]


def assert_no_escapes(app) -> None:
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x07" not in svg and "SGVsbG8" not in svg
    painted = "".join(s.text for s in app.screen._compositor.render_update(full=True).__rich_console__(
        app.console, app.console.options) if not s.control)
    assert "\x1b]" not in painted and "\x07" not in painted


# -- bugs found on the way -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_money_tab_names_the_orders_own_invoice(app_factory):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, SEED_CASE_REF, SEED_CASE_REF, "order ref", typed=False)
        await pilot.press("right", "right")
        await settled(pilot)
        assert screen.query_one("#order-tabs", TabbedContent).active == "tab-money"
        shown = screen_text(app)
        assert "INV-100001" in shown
        assert "Supplementary invoice INV-100001" not in shown


@pytest.mark.asyncio
async def test_a_cancelled_order_offers_no_amendment(app_factory):
    app = app_factory()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_from_search(pilot, CANCELLED_REF, CANCELLED_REF, "order ref", typed=False)
        assert "cancelled" in str(screen.query_one("#order-title", Label).render())
        await pilot.press("right")
        await settled(pilot)
        fulfilment = str(screen.query_one("#fulfilment", Static).render())
        assert "✓ cancel order" not in fulfilment and "✓ add line" not in fulfilment
        await pilot.press("c")  # cancelling a cancelled order must not even be offered
        await pilot.pause()
        assert app.screen is screen


@pytest.mark.asyncio
async def test_search_results_fit_80_columns(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await search_loaded(pilot)
        table = app.screen.query_one("#results", ResultsTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
