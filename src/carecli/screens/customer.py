"""Find or create the customer of a new order.

:class:`CustomerDialog` looks customers up as the agent types (name, e-mail or phone, through the
backend's ``find_customers``) and dismisses with the chosen :class:`CustomerSummary`. F2 opens
:class:`NewCustomerDialog`: name, e-mail, phone, address and optionally the card the payment page
returned (brand, last four digits, expiry — never a card number), validated by the engine's rules as
typed; the backend creates the customer with a billing account in the address's market. A duplicate
e-mail is refused with the existing customer, whom the dialog then offers (Enter uses them).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalGroup, VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Static

from ..backend.contract import (
    BackendError, CustomerSummary, DuplicateCustomer, NewCard, NewCustomerRequest, RuleViolations,
)
from ..engine.model import Address
from ..engine.placing import customer_problems
from ..widgets.safe import INPUT_RESTRICT, text
from .dialogs import base as _dialogs_base
from .dialogs.base import CareDialog, _field, _title
from ..widgets.footer import CareFooter

CSS = [str(Path(_dialogs_base.__file__).with_name("dialogs.tcss")), str(Path(__file__).with_name("new_order.tcss"))]

FIELDS = (("name", "Name"), ("email", "E-mail"), ("phone", "Phone"), ("line1", "Street"), ("line2", "Street 2"),
          ("city", "City"), ("region", "State"), ("postcode", "Postcode"), ("country", "Country"),
          ("brand", "Card brand"), ("last4", "Card last 4"), ("expiry", "Card expiry"))


class CustomerDialog(CareDialog[CustomerSummary]):
    """Find the customer (as you type); F2 creates one."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#find"
    BINDINGS = [
        Binding("f2", "create", "New customer", id="customer.create", tooltip="Create a new customer"),
        Binding("down", "focus_table", "To list", id="customer.to_list", show=False,
                tooltip="Move from the search into the list"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: list[CustomerSummary] = []
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog wide", id="dialog"):
            yield Label(_title("New order — find the customer"), classes="dialog-title")
            yield _field("Find", Input(placeholder="name, e-mail or phone", id="find", compact=True,
                                       restrict=INPUT_RESTRICT, max_length=200))
            yield DataTable(id="customers", cursor_type="row", zebra_stripes=True)
            yield Static(Text("Type a name, an e-mail or a phone number. F2 creates a new customer."),
                         id="message", classes="message")
        yield CareFooter()

    def on_mount(self) -> None:
        table = self.query_one("#customers", DataTable)
        narrow = self.app.size.width < 104
        for label, width in ((("Name", 20), ("E-mail", 26), ("Market", 6), ("Orders", 6)) if narrow else
                             (("Name", 24), ("E-mail", 32), ("Phone", 16), ("Market", 6), ("Orders", 6))):
            table.add_column(label, key=label, width=width)

    @on(Input.Changed, "#find")
    def _changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        delay = self.app.settings.ui.search_debounce_ms / 1000  # float-ok: seconds for a timer
        if delay:
            self._debounce = self.set_timer(delay, self._find)
        else:
            self._find()

    def _find(self) -> None:
        query = self.query_one("#find", Input).value
        backend = self.app.backend
        self.app.call_backend(lambda: backend.find_customers(query), self.show, group="find-customers")

    def show(self, found: list[CustomerSummary]) -> None:
        self.found = list(found)
        table = self.query_one("#customers", DataTable)
        table.clear()
        narrow = self.app.size.width < 104
        for c in found:
            cells = [text(c.name), text(c.email)] + ([] if narrow else [text(c.phone)]) + [
                text(c.market or c.currency), text(str(c.orders), justify="right")]
            table.add_row(*cells, key=c.customer_id)
        if found:
            self.say(f"{len(found)} found. Enter on a row starts the order; F2 creates a new customer.")
        elif self.query_one("#find", Input).value.strip():
            self.say("No customer matches. F2 creates a new customer.")

    @on(Input.Submitted, "#find")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if len(self.found) == 1:
            self.dismiss(self.found[0])
        elif self.found:
            self.action_focus_table()

    @on(DataTable.RowSelected, "#customers")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        chosen = next((c for c in self.found if c.customer_id == str(event.row_key.value)), None)
        if chosen is not None:
            self.dismiss(chosen)

    def action_focus_table(self) -> None:
        self.query_one("#customers", DataTable).focus()

    def action_create(self) -> None:
        def created(summary: CustomerSummary | None) -> None:
            if summary is not None:
                self.dismiss(summary)

        self.app.push_screen(NewCustomerDialog(self.query_one("#find", Input).value), created)


class NewCustomerDialog(CareDialog[CustomerSummary]):
    """A new customer's details, validated as typed; Ctrl+S creates (or uses the existing customer)."""

    CSS_PATH = CSS
    AUTO_FOCUS = "#cust-name"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Create", id="dialog.submit",
                tooltip="Create the customer (Enter on the last field does the same)"),
    ]

    def __init__(self, typed: str = "") -> None:
        super().__init__()
        typed = typed.strip()
        self.initial = {name: "" for name, _ in FIELDS} | {"country": "US"}
        if "@" in typed:
            self.initial["email"] = typed
        elif typed and not any(ch.isdigit() for ch in typed):
            self.initial["name"] = typed
        self.existing: CustomerSummary | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title("New customer"), classes="dialog-title")
            with VerticalScroll(id="customer-form", classes="form"):
                for name, label in FIELDS:
                    yield _field(label, Input(self.initial[name], id=f"cust-{name}", compact=True,
                                              classes="customer-field", restrict=INPUT_RESTRICT, max_length=200,
                                              placeholder={"line2": "optional", "phone": "optional",
                                                           "brand": "optional, e.g. Visa", "last4": "1234",
                                                           "expiry": "MM/YY", "region": "e.g. IL, NSW"}.get(name, "")))
            yield Static(Text("The market and the account's currency follow the address's country."),
                         id="message", classes="message")
        yield CareFooter()

    # -- reading the form ----------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        out = {name: self.query_one(f"#cust-{name}", Input).value.strip() for name, _ in FIELDS}
        out["country"], out["region"] = out["country"].upper(), out["region"].upper()
        return out

    def request(self) -> tuple[NewCustomerRequest | None, list[str]]:
        v = self.values()
        address = Address(name=v["name"], line1=v["line1"], line2=v["line2"], city=v["city"], region=v["region"],
                          postcode=v["postcode"], country=v["country"], phone=v["phone"])
        problems = [p.message for p in customer_problems(v["name"], v["email"], v["phone"], address)]
        card = None
        if v["brand"] or v["last4"] or v["expiry"]:
            try:
                card = NewCard(brand=v["brand"] or "Card", last4=v["last4"], expiry=v["expiry"])
            except ValueError:
                problems.append("card: the last 4 digits are 4 digits and the expiry is MM/YY")
        if problems:
            return None, problems
        return NewCustomerRequest(name=v["name"], email=v["email"], phone=v["phone"], address=address,
                                  card=card), []

    @on(Input.Changed, ".customer-field")
    def _changed(self) -> None:
        self.existing = None

    @on(Input.Submitted, ".customer-field")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"cust-{FIELDS[-1][0]}":
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        if self.existing is not None:
            self.dismiss(self.existing)
            return
        if self.busy:
            return
        req, problems = self.request()
        if req is None:
            self.say("Not yet: " + "; ".join(problems), "error")
            self.app.bell()
            return
        backend = self.app.backend
        self.busy = True

        def create() -> CustomerSummary:
            c = backend.create_customer(req)
            found = [s for s in backend.find_customers(c.email) if s.customer_id == c.id]
            return found[0]

        self.app.call_backend(create, self._created, group="create-customer", on_error=self._failed)

    def _created(self, summary: CustomerSummary) -> None:
        self.busy = False
        self.app.notify(f"Customer {summary.customer_id} created with billing account {summary.account_id}.",
                        title="Customer created", timeout=6)
        self.dismiss(summary)

    def _failed(self, error: BackendError) -> None:
        self.busy = False
        if isinstance(error, DuplicateCustomer):
            email = self.values()["email"]
            backend = self.app.backend

            def offer(found: list[CustomerSummary]) -> None:
                self.existing = next((s for s in found if s.customer_id == error.existing_customer_id), None)
                msg = error.message + (" Press Ctrl+S to start the order for them." if self.existing else "")
                self.say(msg, "error")

            self.app.call_backend(lambda: backend.find_customers(email), offer, group="find-customers")
            return
        if isinstance(error, RuleViolations):
            self.say("Not yet: " + "; ".join(v.message for v in error.violations), "error")
            return
        self.say(error.message, "error")


__all__ = ["CustomerDialog", "NewCustomerDialog"]
