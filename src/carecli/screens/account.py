"""The billing account: the customer, masked cards, store credit, balance and the ledger.

The ledger is every document on the account (invoices, credit memos, payments, refunds, store
credit), oldest first, with its effect on the balance and the running balance (sign convention in
:mod:`carecli.backend.ledger`: the balance is what the customer owes; a settled account sits at
zero). It can be narrowed to one order; Enter opens a document in full (:class:`DocumentDialog`),
with the documents that settle it or that it settles. A second tab lists the account's orders
(Enter opens one); a third keeps the place of the returns screen.

The rows are built by pure functions (:func:`ledger_rows`, :func:`header_text`, …) over an
:class:`~carecli.backend.contract.AccountView`, so tests check them without a terminal. Every string
that comes from the store goes through :func:`carecli.widgets.safe.text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Select, Static, TabbedContent, TabPane

from ..backend.contract import AccountView, BackendError, LedgerEntry, OrderView
from ..engine.model import CreditMemo, Document, Invoice, Payment, Refund, StoreCredit
from ..engine.money import Money
from ..widgets.badges import offline_badge, read_only_badge, stage_text
from ..widgets.money import fmt, money_text
from ..widgets.safe import text
from .frames import InstantFrames
from ..widgets.footer import CareFooter

if TYPE_CHECKING:
    from ..app import CareApp

# The ledger table switches to its narrow columns below this terminal width (80 columns must show
# the date, the document, the order and the money without scrolling sideways).
WIDE_FROM = 110

DOC_WORDS = {"INVOICE": "Invoice", "CREDIT_MEMO": "Credit memo", "PAYMENT": "Payment",
             "REFUND": "Refund", "STORE_CREDIT": "Store credit"}
RETURNS_PLACEHOLDER = "No returns on this account."


# --------------------------------------------------------------------------------------------------
# Pure helpers: what the screen shows, built from an AccountView
# --------------------------------------------------------------------------------------------------


def amount_text(m: Money, *, sign: bool = False) -> str:
    """A ledger amount without its currency (the ledger is in the account's one currency, named in
    the header): ``1,234.50``, ``−10.00``; with ``sign``: ``+239.24``, ``−239.24``, ``±0.00``.
    """
    return fmt(m, sign=sign).split(" ", 1)[1]


def utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def doc_amount(doc: Document) -> Money:
    return doc.total if isinstance(doc, (Invoice, CreditMemo)) else doc.amount


def kind_label(doc: Document) -> str:
    """``Invoice · order``, ``Credit memo · appeasement``, ``Payment``, ``Refund``, …"""
    word = DOC_WORDS.get(doc.doc, doc.doc.title())
    typ = getattr(doc, "type", None)
    return f"{word} · {typ.lower().replace('_', ' ')}" if typ else word


def balance_words(balance: Money) -> str:
    if balance.is_zero:
        return "settled"
    return "to collect from the customer" if balance.is_positive else "owed to the customer"


def card_label(view: AccountView, payment_method_id: str | None) -> str:
    for pm in view.account.payment_methods:
        if pm.id == payment_method_id:
            return pm.label()
    return payment_method_id or "—"


def order_refs(view: AccountView) -> list[str]:
    """The account's order refs for the filter: its orders (most recent first), then any ref only
    the ledger names (the backend caps the order list)."""
    refs = [s.ref for s in view.orders]
    seen = set(refs)
    for e in reversed(view.ledger):
        if e.order_ref not in seen:
            seen.add(e.order_ref)
            refs.append(e.order_ref)
    return refs


@dataclass(frozen=True)
class LedgerRow:
    key: str  # the document id
    entry: LedgerEntry
    balance: Money  # the account's running balance, or the order's own when filtered by order
    cells: tuple[Text, ...]


def ledger_columns(*, narrow: bool, by_order: bool) -> list[tuple[str, str, int]]:
    """(label, key, width) of the ledger table. Narrow (80 columns): the date without the time, the
    kind without its type, and no unsigned amount (the effect carries it, with its sign)."""
    balance = "Order bal." if by_order else ("Running" if narrow else "Running bal.")
    if narrow:
        return [("Date UTC", "date", 10), ("Document", "doc", 12), ("Kind", "kind", 12),
                ("Order", "order", 10), ("Effect", "effect", 11), (balance, "balance", 11)]
    return [("Date UTC", "date", 16), ("Document", "doc", 13), ("Kind", "kind", 26),
            ("Order", "order", 10), ("Amount", "amount", 11), ("Effect", "effect", 12),
            (balance, "balance", 12)]


def ledger_rows(view: AccountView, order_ref: str | None = None, *,
                narrow: bool = False) -> list[LedgerRow]:
    """The ledger rows, oldest first, optionally only one order's documents.

    Unfiltered, the balance column is the account's running balance as the backend computed it (the
    last row's is ``view.balance``). Filtered by an order, the account's running balance between
    hidden rows would mean nothing, so the column is that order's own running balance instead.
    """
    out: list[LedgerRow] = []
    running: Money | None = None
    for e in view.ledger:
        if order_ref is not None and e.order_ref != order_ref:
            continue
        if order_ref is None:
            bal = e.running_balance
        else:
            running = e.effect if running is None else running + e.effect
            bal = running
        d = e.document
        at = utc(d.created_at)
        cells = [
            text(at.strftime("%Y-%m-%d") if narrow else at.strftime("%Y-%m-%d %H:%M")),
            text(d.id, "bold"),
            text(DOC_WORDS.get(d.doc, d.doc) if narrow else kind_label(d)),
            text(e.order_ref),
        ]
        if not narrow:
            cells.append(text(amount_text(doc_amount(d)), justify="right"))
        cells.append(text(amount_text(e.effect, sign=True), justify="right"))
        cells.append(text(amount_text(bal), justify="right"))
        out.append(LedgerRow(key=d.id, entry=e, balance=bal, cells=tuple(cells)))
    return out


def header_text(view: AccountView) -> Text:
    """Customer name, email and phone (all untrusted), the account id and currency."""
    c, a = view.customer, view.account
    out = Text()
    out.append_text(text(c.name, "bold"))
    out.append("  ")
    out.append_text(text(a.id))
    out.append(" · ")
    out.append_text(text(a.currency))
    out.append("\n")
    out.append_text(text(c.email))
    if c.phone:
        out.append(" · ")
        out.append_text(text(c.phone))
    return out


def summary_text(view: AccountView) -> Text:
    """Masked cards with expiry, the store-credit balance and the account balance."""
    out = Text()
    out.append("Cards ", "bold")
    if view.account.payment_methods:
        for i, pm in enumerate(view.account.payment_methods):
            if i:
                out.append(" · ", "dim")
            out.append_text(text(pm.label()))
            out.append_text(text(f"  exp {pm.expiry}", "dim"))
    else:
        out.append("none on file", "dim")
    out.append("\n")
    out.append("Store credit ", "bold")
    out.append(fmt(view.store_credit))
    out.append("   Balance ", "bold")
    out.append(fmt(view.balance))
    out.append(f" ({balance_words(view.balance)})", "dim")
    return out


# --------------------------------------------------------------------------------------------------
# The document dialog
# --------------------------------------------------------------------------------------------------


def linked_documents(doc: Document, view: AccountView) -> list[tuple[str, Document]]:
    """The documents on this account that settle ``doc`` or that ``doc`` settles, with how."""
    others = [e.document for e in view.ledger if e.document.id != doc.id]
    out: list[tuple[str, Document]] = []
    if isinstance(doc, CreditMemo):
        out += [("against invoice", d) for d in others
                if isinstance(d, Invoice) and d.id == doc.invoice_id]
        out += [("settled by", d) for d in others
                if isinstance(d, (Refund, StoreCredit)) and d.credit_memo_id == doc.id]
    elif isinstance(doc, Invoice):
        out += [("paid by", d) for d in others
                if isinstance(d, Payment) and d.invoice_id == doc.id]
        out += [("credited by", d) for d in others
                if isinstance(d, CreditMemo) and d.invoice_id == doc.id]
    elif isinstance(doc, Payment):
        out += [("pays invoice", d) for d in others
                if isinstance(d, Invoice) and d.id == doc.invoice_id]
    elif isinstance(doc, (Refund, StoreCredit)):
        out += [("settles memo", d) for d in others
                if isinstance(d, CreditMemo) and d.id == doc.credit_memo_id]
    return out


def document_fields(doc: Document, view: AccountView) -> list[tuple[str, Text]]:
    """The document's header fields, as (label, value) with every value literal text."""
    fields: list[tuple[str, Text]] = [
        ("Kind", text(kind_label(doc))),
        ("Order", text(doc.order_ref)),
        ("Created", text(utc(doc.created_at).strftime("%Y-%m-%d %H:%M UTC"))),
    ]
    if isinstance(doc, Invoice):
        fields.append(("Total", text(fmt(doc.total), "bold")))
        if doc.payment_method_id:
            fields.append(("Charged to", text(card_label(view, doc.payment_method_id))))
    elif isinstance(doc, CreditMemo):
        fields.append(("Total", text(fmt(doc.total), "bold")))
        fields.append(("Invoice", text(doc.invoice_id or "—")))
        fields.append(("Reason", text(doc.reason_code or "—")))
    elif isinstance(doc, Payment):
        fields.append(("Amount", text(fmt(doc.amount), "bold")))
        fields.append(("Card", text(card_label(view, doc.payment_method_id))))
        fields.append(("Invoice", text(doc.invoice_id)))
    elif isinstance(doc, Refund):
        fields.append(("Amount", text(fmt(doc.amount), "bold")))
        fields.append(("To card", text(card_label(view, doc.payment_method_id))))
        fields.append(("Credit memo", text(doc.credit_memo_id)))
    elif isinstance(doc, StoreCredit):
        fields.append(("Amount", text(fmt(doc.amount), "bold")))
        fields.append(("Credit memo", text(doc.credit_memo_id)))
    entry = next((e for e in view.ledger if e.document.id == doc.id), None)
    if entry is not None:
        fields.append(("Effect", text(fmt(entry.effect, sign=True))))
        fields.append(("Balance after", text(fmt(entry.running_balance))))
    settled = _settlement_line(doc, view)
    if settled is not None:
        fields.append(("Settlement", settled))
    return fields


def _settlement_line(doc: Document, view: AccountView) -> Text | None:
    links = [d for _, d in linked_documents(doc, view)]
    if isinstance(doc, CreditMemo):
        parts = [d.amount for d in links if isinstance(d, (Refund, StoreCredit))]
        verb = "refunded or credited"
    elif isinstance(doc, Invoice):
        parts = [d.amount for d in links if isinstance(d, Payment)]
        verb = "captured"
    else:
        return None
    done = Money.zero(doc.total.currency)
    for m in parts:
        done = done + m
    rest = doc.total - done
    out = text(f"{fmt(done)} of {fmt(doc.total)} {verb}")
    if not rest.is_zero:
        out.append_text(text(f" · {fmt(rest)} open", "bold"))
    return out


def document_items(doc: Document) -> Table | None:
    """The items of an invoice or credit memo (description, amount); None for other documents."""
    if not isinstance(doc, (Invoice, CreditMemo)):
        return None
    table = Table(box=None, padding=(0, 1), header_style="bold", expand=True)
    table.add_column("Item", ratio=1, overflow="fold")
    table.add_column("Line", justify="right", no_wrap=True)
    table.add_column("Amount", justify="right", no_wrap=True)
    for it in doc.items:
        line = str(it.line_id) if it.line_id is not None else it.kind.lower().replace("_", " ")
        table.add_row(text(it.description, one_line=False), text(line, "dim", justify="right"),
                      money_text(it.amount))
    if not doc.items:
        table.add_row(Text("no items", "dim"), Text(""), Text(""))
    table.add_row(Text("Total", "bold"), Text(""), money_text(doc.total, "bold"))
    return table


def fields_table(doc: Document, view: AccountView) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 1), expand=False)
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column("value")
    for label, value in document_fields(doc, view):
        table.add_row(Text(label), value)
    return table


class DocumentDialog(ModalScreen[None]):
    """One document in full: header fields, the documents linked to it on this account, its items.

    The linked documents come before the items (they are few; the items may be many and scroll),
    so the table of links can have the focus without the header scrolling away. Enter on a link
    opens that document in turn; PgUp/PgDn scroll the dialog; Escape closes (one level at a time).
    """

    CSS_PATH = "account.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="document.close", tooltip="Close the document"),
        Binding("f1", "app.help", "Help", id="document.help", show=False,
                tooltip="The keys of this dialog, then the app's"),
        # Priority: the links table would take PgUp/PgDn for its own (short) cursor otherwise.
        Binding("pagedown", "scroll_box('down')", "Scroll down", id="document.page_down",
                show=False, priority=True, tooltip="Scroll the document down"),
        Binding("pageup", "scroll_box('up')", "Scroll up", id="document.page_up",
                show=False, priority=True, tooltip="Scroll the document up"),
        Binding("ctrl+y", "copy_id", "Copy id", id="document.copy", show=False,
                tooltip="Copy the document id (works over SSH)"),
    ]

    def __init__(self, document: Document, account: AccountView) -> None:
        super().__init__()
        self.document = document
        self.account = account
        self.links = linked_documents(document, account)

    def compose(self) -> ComposeResult:
        d = self.document
        title = Text()
        title.append(DOC_WORDS.get(d.doc, d.doc.title()) + " ", "bold")
        title.append_text(text(d.id, "bold"))
        items = document_items(d)
        with VerticalScroll(id="document-box"):
            yield Static(title, id="document-title")
            yield Static(fields_table(d, self.account), id="document-fields")
            if self.links:
                yield Label(Text("Linked documents", "bold underline"), id="document-links-title")
                yield DataTable(id="document-links", cursor_type="row")
            if items is not None:
                yield Label(Text("Items", "bold underline"), id="document-items-title")
                yield Static(items, id="document-items")
            hint = "Enter opens a linked document · " if self.links else ""
            yield Label(Text(hint + "PgUp/PgDn scroll · Escape closes", "dim"), id="document-hint")

    def on_mount(self) -> None:
        if not self.links:
            self.query_one("#document-box", VerticalScroll).focus()
            return
        table = self.query_one("#document-links", DataTable)
        table.add_column("Link", key="rel", width=16)
        table.add_column("Document", key="doc", width=13)
        table.add_column("Kind", key="kind", width=20)
        table.add_column("Amount", key="amount", width=14)
        for rel, d in self.links:
            table.add_row(text(rel, "dim"), text(d.id, "bold"), text(kind_label(d)),
                          money_text(doc_amount(d)), key=d.id)
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = str(event.row_key.value)
        for _, d in self.links:
            if d.id == key:
                self.app.push_screen(DocumentDialog(d, self.account))
                return

    def action_scroll_box(self, direction: str) -> None:
        box = self.query_one("#document-box", VerticalScroll)
        if direction == "down":
            box.scroll_page_down(animate=False)
        else:
            box.scroll_page_up(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.document.id)
        self.app.notify(f"Copied {self.document.id}", timeout=2)


# --------------------------------------------------------------------------------------------------
# The account screen
# --------------------------------------------------------------------------------------------------


class AccountScreen(InstantFrames, Screen[None]):
    CSS_PATH = "account.tcss"
    AUTO_FOCUS = "#ledger"
    BINDINGS = [
        Binding("escape", "back", "Back", id="account.back",
                tooltip="Back to the previous screen"),
        Binding("f", "focus_filter", "Filter", id="account.filter",
                tooltip="Show one order's documents only"),
        Binding("l", "show_tab('tab-ledger')", "Ledger", id="account.ledger",
                tooltip="Show the ledger"),
        Binding("o", "show_tab('tab-orders')", "Orders", id="account.orders",
                tooltip="Show the account's orders"),
        Binding("ctrl+r", "reload", "Reload", id="account.reload", show=False,
                tooltip="Read the account again"),
        Binding("ctrl+y", "copy_id", "Copy id", id="account.copy", show=False,
                tooltip="Copy the account id (works over SSH)"),
        Binding("j", "cursor_down", "Down", show=False, id="account.j", tooltip="Next row"),
        Binding("k", "cursor_up", "Up", show=False, id="account.k", tooltip="Previous row"),
    ]

    def __init__(self, account_id: str, *, order_ref: str | None = None) -> None:
        super().__init__()
        self.account_id = account_id
        self.order_ref = order_ref  # the filter: None shows every order's documents
        self.view: AccountView | None = None
        self._narrow = False
        self._rows: dict[str, LedgerRow] = {}

    @property
    def care(self) -> "CareApp":
        return self.app  # type: ignore[return-value]

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="account-header"):
            yield Label(text(f"Account {self.account_id}", "bold"), id="account-title")
            if self.care.read_only:
                yield read_only_badge()
            yield offline_badge()
        yield Static(Text("Loading…", "dim"), id="account-summary")
        with TabbedContent(id="account-tabs", initial="tab-ledger"):
            with TabPane("Ledger", id="tab-ledger"):
                with Horizontal(id="ledger-bar"):
                    yield Label("Order", id="order-filter-label")
                    yield Select([], prompt="All orders", id="order-filter", allow_blank=True,
                                 compact=True)
                    yield Label("", id="ledger-status")
                yield DataTable(id="ledger", cursor_type="row", zebra_stripes=True)
            with TabPane("Orders", id="tab-orders"):
                yield DataTable(id="account-orders", cursor_type="row", zebra_stripes=True)
            with TabPane("Returns", id="tab-returns"):
                yield Static(Text(RETURNS_PLACEHOLDER, "dim"), id="account-returns")
        yield CareFooter()

    def on_mount(self) -> None:
        self._narrow = self.app.size.width < WIDE_FROM
        self._set_ledger_columns()
        orders = self.query_one("#account-orders", DataTable)
        for label, key, width in (("Ref", "ref", 10), ("Placed UTC", "placed", 16),
                                  ("Stage", "stage", 20), ("Total", "total", 13),
                                  ("Items", "items", 5)):
            orders.add_column(label, key=key, width=width)
        self.query_one("#ledger", DataTable).loading = True
        self.load()

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < WIDE_FROM
        if narrow != self._narrow:
            self._narrow = narrow
            self._render_ledger(keep=self._current_doc_id())

    # -- reading -----------------------------------------------------------------------------
    def load(self) -> None:
        backend, account_id = self.care.backend, self.account_id
        self.care.call_backend(lambda: backend.get_account(account_id), self._loaded,
                               group="account-load", on_error=self._load_failed)

    def _load_failed(self, error: BackendError) -> None:
        self.query_one("#ledger", DataTable).loading = False
        self.care.show_error(error)
        if self.view is None and self.app.screen is self:
            self.app.pop_screen()

    def _loaded(self, view: AccountView) -> None:
        keep = self._current_doc_id() if self.view is not None else None
        self.view = view
        self.query_one("#account-title", Label).update(header_text(view))
        self.query_one("#account-summary", Static).update(summary_text(view))
        refs = order_refs(view)
        if self.order_ref is not None and self.order_ref not in refs:
            self.order_ref = None
        select: Select[str] = self.query_one("#order-filter", Select)
        with self.prevent(Select.Changed):
            select.set_options([(text(r), r) for r in refs])
            select.value = self.order_ref if self.order_ref is not None else Select.NULL
        self.query_one("#ledger", DataTable).loading = False
        self._render_ledger(keep=keep)
        self._render_orders()
        self._render_returns()

    def _render_returns(self) -> None:
        from .returns_tables import returns_text

        view = self.view
        if view is None or not view.returns:
            return
        self.query_one("#account-returns", Static).update(returns_text(view.returns))
        self.query_one("#account-tabs", TabbedContent).get_tab("tab-returns").label = f"Returns ({len(view.returns)})"

    # -- rendering ---------------------------------------------------------------------------
    def _set_ledger_columns(self) -> None:
        table = self.query_one("#ledger", DataTable)
        table.clear(columns=True)
        columns = ledger_columns(narrow=self._narrow, by_order=self.order_ref is not None)
        for label, key, width in columns:
            table.add_column(label, key=key, width=width)

    def _render_ledger(self, keep: str | None = None) -> None:
        """Fill the ledger (oldest first); the cursor goes to ``keep`` if shown, else the newest."""
        self._set_ledger_columns()
        table = self.query_one("#ledger", DataTable)
        view = self.view
        if view is None:
            return
        rows = ledger_rows(view, self.order_ref, narrow=self._narrow)
        self._rows = {r.key: r for r in rows}
        for r in rows:
            table.add_row(*r.cells, key=r.key)
        if rows:
            index = next((i for i, r in enumerate(rows) if r.key == keep), len(rows) - 1)
            table.move_cursor(row=index, animate=False)
        status = Text()
        if not view.ledger:
            status.append("No documents yet.", "dim")
        elif self.order_ref is None:
            status.append(f"{len(rows)} documents · in {view.account.currency} · Enter opens",
                          "dim")
        else:
            status.append(f"{len(rows)} of {len(view.ledger)} documents · the order's own "
                          "balance · Enter opens", "dim")
        self.query_one("#ledger-status", Label).update(status)

    def _render_orders(self) -> None:
        view = self.view
        if view is None:
            return
        table = self.query_one("#account-orders", DataTable)
        table.clear()
        for s in view.orders:
            table.add_row(text(s.ref, "bold"), text(utc(s.placed_at).strftime("%Y-%m-%d %H:%M")),
                          stage_text(s.stage), money_text(s.total),
                          text(str(s.items), justify="right"), key=s.ref)
        tab = self.query_one("#account-tabs", TabbedContent).get_tab("tab-orders")
        tab.label = f"Orders ({len(view.orders)})"

    def _current_doc_id(self) -> str | None:
        table = self.query_one("#ledger", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    # -- events ------------------------------------------------------------------------------
    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "order-filter":
            return
        value = event.value
        new = value if isinstance(value, str) else None
        if new != self.order_ref:
            self.order_ref = new
            self._render_ledger()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if self.view is None:
            return
        key = str(event.row_key.value)
        if event.data_table.id == "ledger":
            row = self._rows.get(key)
            if row is not None:
                self.app.push_screen(DocumentDialog(row.entry.document, self.view))
        elif event.data_table.id == "account-orders":
            from .order import OrderScreen

            self.app.push_screen(OrderScreen(key))

    # -- actions -----------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_filter(self) -> None:
        self.action_show_tab("tab-ledger")
        self.query_one("#order-filter", Select).focus()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#account-tabs", TabbedContent).active = tab
        table_id = {"tab-ledger": "#ledger", "tab-orders": "#account-orders"}.get(tab)
        if table_id:
            self.query_one(table_id, DataTable).focus()

    def action_reload(self) -> None:
        self.load()

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.account_id)
        self.app.notify(f"Copied {self.account_id}", timeout=2)

    def _table(self) -> DataTable | None:
        return self.focused if isinstance(self.focused, DataTable) else None

    def action_cursor_down(self) -> None:
        table = self._table()
        if table is not None:
            table.action_cursor_down()

    def action_cursor_up(self) -> None:
        table = self._table()
        if table is not None:
            table.action_cursor_up()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cursor_down", "cursor_up"):
            return isinstance(self.focused, DataTable)
        return True


def open_account_for_order(app: "CareApp", ref: str) -> None:
    """Open the billing account of order ``ref``, filtered to that order.

    The order is read off the UI thread first, to learn its account; if the agent has moved to
    another screen by the time it arrives, nothing is pushed over it.
    """
    backend = app.backend
    origin = app.screen

    def opened(view: OrderView) -> None:
        if app.screen is origin:
            app.push_screen(AccountScreen(view.account.id, order_ref=view.order.ref))

    app.call_backend(lambda: backend.get_order(ref), opened, group="account-open")


__all__ = [
    "AccountScreen", "DocumentDialog", "LedgerRow", "amount_text", "document_fields",
    "document_items", "fields_table", "header_text", "kind_label", "ledger_columns", "ledger_rows",
    "linked_documents", "open_account_for_order", "order_refs", "summary_text",
]
