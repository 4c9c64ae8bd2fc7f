"""A new order: a phone order, a no-charge replacement or a re-order, with the same live money preview
as an amendment, placed as one change.

:class:`OrderDraft` holds the draft (no Textual: tests drive it directly); its preview is the engine's
own ``place()`` — the function the store runs when the order is placed. :class:`NewOrderScreen` edits
it with the amend session's dialogs (catalog picker, quantity, address, shipping, pickup store,
appeasement discount) and places it through the backend contract.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalGroup, Vertical, VerticalGroup, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from ..backend.contract import (
    BackendError, OrderView, PaymentDeclined, PlaceOrderRequest, PlaceOrderResult, ReferenceData, RuleViolations,
)
from ..engine.audit import canonical_json
from ..engine.commands import (
    AddLine, Amendment, AppeasementCredit, AppeasementDiscount, ChangeAddress, ChangePickupLocation,
    ChangeQuantity, ChangeShippingMethod, RemoveLine, SwitchFulfilment,
)
from ..engine.context import PlanContext
from ..engine.model import (
    Address, BillingAccount, ClickAndCollect, Customer, Discount, Fulfilment, HomeDelivery, Line, Order,
)
from ..engine.money import Money
from ..engine.placing import NewLine, NewOrder, OrderLink, Placement, place, replaceable
from ..engine.policy import ReasonCode
from ..engine.rules import address_problems
from ..widgets.badges import offline_badge, read_only_badge
from ..widgets.money import money_text
from ..widgets.safe import INPUT_RESTRICT, text
from ..widgets.waterfall import placement_preview
from .dialogs import base as _dialogs_base
from .dialogs.base import CareDialog, ReasonNoteDialog, _field, _title
from .frames import InstantFrames
from ..widgets.footer import CareFooter

DIALOG_CSS = str(Path(_dialogs_base.__file__).with_name("dialogs.tcss"))  # the dialogs' shared sheet
KIND_TITLES = {None: "New order", "replacement": "Replacement order", "reorder": "Re-order",
               "exchange": "Exchange order"}


# --------------------------------------------------------------------------------------------------
# The draft
# --------------------------------------------------------------------------------------------------


@dataclass
class OrderDraft:
    customer: Customer
    account: BillingAccount
    reference: ReferenceData
    market: str
    role: str = "agent"
    lines: list[NewLine] = field(default_factory=list)
    fulfilment: Fulfilment | None = None
    discounts: list[Discount] = field(default_factory=list)
    payment_method_id: str | None = None
    link: OrderLink | None = None
    no_charge: bool = False
    original: Order | None = None  # the order a linked draft is placed from (its rules are previewed)
    earlier: tuple[Order, ...] = ()  # a replacement: the replacements of the original placed before
    _key: tuple[str, str] | None = None

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def for_customer(cls, customer: Customer, account: BillingAccount, reference: ReferenceData, *,
                     market: str, address: Address | None, role: str = "agent") -> "OrderDraft":
        """A phone order: delivery to the customer's address by standard shipping when it is in the
        market (else the agent chooses), paid with the first card on file."""
        m = reference.policy.market(market)
        ful: Fulfilment | None = None
        if address is not None and m is not None and address.country == m.country and not address_problems(address):
            method = next((s.code for s in reference.policy.shipping_methods if m.currency in s.fee), None)
            if method is not None:
                ful = HomeDelivery(address=address, shipping_method=method)
        pm = account.payment_methods[0].id if account.payment_methods else None
        return cls(customer, account, reference, market, role, fulfilment=ful, payment_method_id=pm)

    @classmethod
    def from_order(cls, view: OrderView, reference: ReferenceData, kind: str, role: str = "agent",
                   earlier: Sequence[Order] = ()) -> "OrderDraft":
        """A replacement (what the order may still have replaced — its live lines less what came back
        and what ``earlier`` replacements sent — at no charge) or a re-order (a cancelled order's lines
        as ordered, re-priced at today's catalog prices), to the same place."""
        o = view.order
        if kind == "replacement":
            left = replaceable(o, earlier)
            lines = []
            for ln in o.lines:
                n = min(ln.quantity, left.get(ln.sku, 0))
                if n > 0:
                    lines.append(NewLine(sku=ln.sku, quantity=n))
                    left[ln.sku] -= n
        else:
            lines = [NewLine(sku=ln.sku, quantity=ln.ordered) for ln in o.lines if ln.ordered > 0]
        pm = o.payment_method_id if any(p.id == o.payment_method_id for p in view.account.payment_methods) else (
            view.account.payment_methods[0].id if view.account.payment_methods else None)
        return cls(view.customer, view.account, reference, o.market, role, lines=lines, fulfilment=o.fulfilment,
                   payment_method_id=None if kind == "replacement" else pm,
                   link=OrderLink(kind=kind, order_ref=o.ref), no_charge=kind == "replacement",  # type: ignore[arg-type]
                   original=o, earlier=tuple(earlier))

    @property
    def kind(self) -> str | None:
        return self.link.kind if self.link else None

    @property
    def currency(self) -> str:
        m = self.reference.policy.market(self.market)
        return m.currency if m else self.account.currency

    def new_order(self) -> NewOrder | None:
        if self.fulfilment is None:
            return None
        return NewOrder(customer_id=self.customer.id, billing_account_id=self.account.id, market=self.market,
                        lines=tuple(self.lines), fulfilment=self.fulfilment, discounts=tuple(self.discounts),
                        payment_method_id=None if self.no_charge else self.payment_method_id,
                        no_charge=self.no_charge, link=self.link)

    def preview(self, now: datetime) -> Placement | None:
        """The engine's placement of the draft (None until it has a fulfilment)."""
        new = self.new_order()
        if new is None:
            return None
        ctx = PlanContext(policy=self.reference.policy, catalog=self.reference.catalog(),
                          locations=self.reference.location_map(), customer=self.customer, account=self.account,
                          now=now, role=self.role,  # type: ignore[arg-type]
                          templates=self.reference.templates or None)
        return place(new, ctx, self.original, self.earlier)

    def problems(self, now: datetime) -> list[str]:
        if self.fulfilment is None:
            return ["choose where it goes: d for a delivery address, l for a pickup store"]
        p = self.preview(now)
        return [v.message for v in p.violations] if p is not None else []

    def as_order(self, now: datetime) -> Order:
        """The draft as an Order, for the dialogs shared with amendments (they read its ref, market,
        currency, lines and fulfilment)."""
        m = self.reference.policy.market(self.market)
        cur = self.currency
        catalog = self.reference.catalog()
        lines = []
        for i, nl in enumerate(self.lines, start=1):
            v = catalog.get(nl.sku)
            unit = nl.unit_price if nl.unit_price is not None else (v.prices.get(cur) if v else None)
            if unit is None:
                unit = Money.zero(cur)
            if self.no_charge:
                unit = Money.zero(cur)
            lines.append(Line(line_id=i, sku=nl.sku, description=v.description if v else nl.sku, unit_price=unit,
                              ordered=nl.quantity))
        return Order(ref="the new order", customer_id=self.customer.id, billing_account_id=self.account.id,
                     market=self.market, currency=cur, tax_mode=m.tax_mode if m else "EXCLUSIVE", channel="phone",
                     placed_at=now, lines=tuple(lines),
                     fulfilment=self.fulfilment or ClickAndCollect(location_id=""),
                     discounts=tuple(self.discounts), payment_method_id=self.payment_method_id)

    # -- changing ----------------------------------------------------------------------------------
    def apply(self, change: Amendment, now: datetime) -> list[str]:
        """Apply what a dialog handed back. A change that brings a new refusal is not kept; its
        reasons come back (an unfinished draft's own gaps — no lines yet — do not count)."""
        if isinstance(change, AppeasementCredit):
            return ["a new order takes a discount, not a credit: choose a percentage or an amount off"]
        before = set(self.problems(now))
        saved = (list(self.lines), self.fulfilment, list(self.discounts))
        self._change(change)
        after = self.problems(now)
        new = [p for p in after if p not in before]
        if new:
            self.lines, self.fulfilment, self.discounts = saved
            return new
        return []

    def _change(self, change: Amendment) -> None:
        f = self.fulfilment
        if isinstance(change, AddLine):
            self.lines.append(NewLine(sku=change.sku, quantity=change.quantity))
        elif isinstance(change, ChangeQuantity):
            i = change.line_id - 1
            self.lines[i] = self.lines[i].model_copy(update={"quantity": change.quantity})
        elif isinstance(change, RemoveLine):
            i = change.line_id - 1
            del self.lines[i]
            kept = []
            for d in self.discounts:  # a line's discount goes with it; later lines move up by one
                if d.line_id is None or d.line_id < change.line_id:
                    kept.append(d)
                elif d.line_id > change.line_id:
                    kept.append(d.model_copy(update={"line_id": d.line_id - 1}))
            self.discounts = kept
        elif isinstance(change, ChangeAddress):
            method = f.shipping_method if isinstance(f, HomeDelivery) else "STANDARD"
            self.fulfilment = HomeDelivery(address=change.address, shipping_method=method)
        elif isinstance(change, SwitchFulfilment):
            self.fulfilment = change.fulfilment
        elif isinstance(change, ChangeShippingMethod) and isinstance(f, HomeDelivery):
            self.fulfilment = f.model_copy(update={"shipping_method": change.method})
        elif isinstance(change, ChangePickupLocation):
            self.fulfilment = ClickAndCollect(location_id=change.location_id)
        elif isinstance(change, AppeasementDiscount):
            self.discounts.append(Discount(id=f"draft-{len(self.discounts) + 1}", line_id=change.line_id,
                                           percent=change.percent, amount=change.amount,
                                           reason_code=change.reason_code, appeasement=True))

    def next_payment_method(self) -> str | None:
        methods = [p.id for p in self.account.payment_methods]
        if not methods or self.no_charge:
            return self.payment_method_id
        i = methods.index(self.payment_method_id) if self.payment_method_id in methods else -1
        self.payment_method_id = methods[(i + 1) % len(methods)]
        return self.payment_method_id

    def markets(self) -> list[str]:
        """The markets this customer's account can pay in (its currency)."""
        return [m.code for m in self.reference.policy.markets if m.currency == self.account.currency]

    def request(self, reason_code: str, note: str, actor: str) -> PlaceOrderRequest:
        """The request to place the draft; the very same request again reuses its idempotency key, so
        a double Enter or a retry places one order."""
        new = self.new_order()
        assert new is not None
        body = {"d": new.model_dump(mode="json"), "r": reason_code, "n": note, "who": actor}
        fingerprint = hashlib.sha256(canonical_json(body).encode()).hexdigest()
        if self._key is None or self._key[0] != fingerprint:
            self._key = (fingerprint, f"place-{uuid.uuid4()}")
        return PlaceOrderRequest(draft=new, idempotency_key=self._key[1], actor=actor, reason_code=reason_code,
                                 note=note)


# --------------------------------------------------------------------------------------------------
# The screen
# --------------------------------------------------------------------------------------------------


class NewOrderScreen(InstantFrames, Screen[None]):
    CSS_PATH = "new_order.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="new.back", tooltip="Leave without placing the order"),
        Binding("a", "add_line", "Add", id="new.add", tooltip="Add a line from the catalog"),
        Binding("q", "quantity", "Qty", id="new.quantity", tooltip="Change the highlighted line's quantity"),
        Binding("x", "remove", "Remove", id="new.remove", tooltip="Remove the highlighted line"),
        Binding("d", "address", "Address", id="new.address", tooltip="Deliver to an address"),
        Binding("s", "shipping", "Ship", id="new.shipping", tooltip="Choose the shipping method"),
        Binding("l", "pickup", "Store", id="new.pickup", tooltip="Click & collect at a store"),
        Binding("g", "discount", "Discount", id="new.discount", tooltip="A discount within your appeasement limit"),
        Binding("p", "payment", "Card", id="new.payment", tooltip="Next payment method on file"),
        Binding("m", "market", "Market", id="new.market", show=False,
                tooltip="Next market the customer's account can pay in"),
        Binding("ctrl+s,f10", "place", "Place", id="new.place", tooltip="Place the order"),
    ]

    def __init__(self, draft: OrderDraft) -> None:
        super().__init__()
        self.draft = draft
        self.placement: Placement | None = None
        self.placing = False
        self.result: PlaceOrderResult | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="new-header"):
            yield Label("", id="new-title")
            if self.app.read_only:
                yield read_only_badge()
            yield offline_badge()
        with Vertical(id="new-body"):
            yield DataTable(id="new-lines", cursor_type="row", zebra_stripes=True)
            yield Static("", id="new-details")
            yield VerticalScroll(Static("", id="new-preview"), id="new-preview-scroll")
        yield CareFooter()

    def on_mount(self) -> None:
        table = self.query_one("#new-lines", DataTable)
        narrow = self.app.size.width < 104
        cols = ((("#", 2), ("Item", 28), ("Unit", 12), ("Qty", 3), ("Total", 12)) if narrow else
                (("#", 3), ("Item", 40), ("Unit", 14), ("Qty", 4), ("Total", 14)))
        for label, width in cols:
            table.add_column(label, key=label, width=width)
        self.refresh_draft()

    # -- drawing ------------------------------------------------------------------------------------
    def refresh_draft(self) -> None:
        d = self.draft
        now = self.app.clock()
        self.placement = d.preview(now)
        title = Text()
        title.append(KIND_TITLES.get(d.kind, "New order"), "bold")
        if d.link is not None:
            title.append(f" of {d.link.order_ref}", "bold")
        title.append("  ")
        title.append_text(text(d.customer.name, "bold"))
        title.append(f"  {d.market} {d.currency}", "dim")
        if d.no_charge:
            title.append("  NO CHARGE", "bold green")
        self.query_one("#new-title", Label).update(title)
        table = self.query_one("#new-lines", DataTable)
        row = table.cursor_row
        table.clear()
        order = self.placement.order if self.placement is not None and self.placement.order else d.as_order(now)
        totals = self.placement.totals if self.placement is not None else None
        for ln in order.lines:
            lp = totals.line(ln.line_id) if totals else None
            table.add_row(text(str(ln.line_id)), text(ln.description), money_text(ln.unit_price),
                          text(str(ln.quantity), justify="right"), money_text(lp.total if lp else None),
                          key=str(ln.line_id))
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))
        self.query_one("#new-details", Static).update(self._details())
        body = self.query_one("#new-preview", Static)
        if self.placement is None:
            body.update(Text("Choose where it goes: d for a delivery address, l for a pickup store.", "yellow"))
        else:
            body.update(placement_preview(self.placement, d.account))
        self.refresh_bindings()

    def _details(self) -> Text:
        d = self.draft
        ref = d.reference
        out = Text()
        f = d.fulfilment
        if isinstance(f, HomeDelivery):
            m = ref.policy.shipping_method(f.shipping_method)
            out.append("Deliver ", "bold")
            out.append_text(text(f"{m.name if m else f.shipping_method} to {f.address.name}, {f.address.one_line()}"))
        elif isinstance(f, ClickAndCollect):
            loc = ref.location_map().get(f.location_id)
            out.append("Collect at ", "bold")
            out.append_text(text(loc.name if loc else f.location_id))
        else:
            out.append("No delivery chosen yet", "yellow")
        out.append("\n")
        if d.no_charge:
            out.append("No charge: a zero-value replacement invoice, nothing captured", "green")
        else:
            pm = next((p for p in d.account.payment_methods if p.id == d.payment_method_id), None)
            out.append("Pay with ", "bold")
            out.append_text(text(f"{pm.label()} (exp {pm.expiry})" if pm else "no card on file", "" if pm else "yellow"))
            if len(d.account.payment_methods) > 1:
                out.append("  p: another card", "dim")
        if d.discounts:
            out.append(f"\n{len(d.discounts)} discount(s): ", "bold")
            out.append_text(text(", ".join((f"{x.percent}%" if x.percent is not None else str(x.amount))
                                           + (f" on line {x.line_id}" if x.line_id else "") for x in d.discounts)))
        return out

    # -- helpers ------------------------------------------------------------------------------------
    def _line_id(self) -> int | None:
        table = self.query_one("#new-lines", DataTable)
        if not table.row_count:
            return None
        return int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def change(self, amendment: Amendment | None) -> None:
        """A dialog's result, applied to the draft; a change the engine refuses is not kept."""
        if amendment is None:
            return
        problems = self.draft.apply(amendment, self.app.clock())
        if problems:
            self.app.notify("\n".join(problems), title="Not allowed", severity="warning", timeout=10)
            return
        self.refresh_draft()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True
        if self.app.read_only:
            return False
        d = self.draft
        if action in ("quantity", "remove"):
            return True if d.lines else None
        if action == "shipping":
            return True if isinstance(d.fulfilment, HomeDelivery) else None
        if action == "payment":
            return None if d.no_charge or len(d.account.payment_methods) < 2 else True
        if action == "market":
            return True if len(d.markets()) > 1 else None
        if action == "discount":
            return None if d.no_charge else True
        if action == "place":
            return True if self.placement is not None and self.placement.ok and not self.placing else None
        return True

    def _dialogs(self):
        from . import dialogs

        return dialogs

    # -- actions ------------------------------------------------------------------------------------
    def action_add_line(self) -> None:
        d = self.draft
        self.app.push_screen(self._dialogs().VariantDialog(d.as_order(self.app.clock()), d.reference, None,
                                                           stock_by_location=True), self.change)

    def action_quantity(self) -> None:
        lid = self._line_id()
        if lid is None:
            return
        order = self.draft.as_order(self.app.clock())
        ln = order.line(lid)
        assert ln is not None
        self.app.push_screen(self._dialogs().QuantityDialog(ln, 1, self.draft.reference.policy.amendments.max_quantity),
                             self.change)

    def action_remove(self) -> None:
        lid = self._line_id()
        if lid is not None:
            self.change(RemoveLine(line_id=lid))

    def action_address(self) -> None:
        d = self.draft
        self.app.push_screen(self._dialogs().AddressDialog(d.as_order(self.app.clock()), d.reference,
                                                           switching=not isinstance(d.fulfilment, HomeDelivery)),
                             self.change)

    def action_shipping(self) -> None:
        d = self.draft
        if isinstance(d.fulfilment, HomeDelivery):
            self.app.push_screen(self._dialogs().ShippingDialog(d.as_order(self.app.clock()), d.reference),
                                 self.change)

    def action_pickup(self) -> None:
        d = self.draft
        self.app.push_screen(self._dialogs().PickupDialog(d.as_order(self.app.clock()), d.reference,
                                                          switching=not isinstance(d.fulfilment, ClickAndCollect)),
                             self.change)

    def action_discount(self) -> None:
        d = self.draft
        self.app.push_screen(self._dialogs().AppeasementDialog(d.as_order(self.app.clock()), d.reference, d.role),
                             self.change)

    def action_payment(self) -> None:
        self.draft.next_payment_method()
        self.refresh_draft()

    def action_market(self) -> None:
        ms = self.draft.markets()
        if len(ms) > 1:
            i = ms.index(self.draft.market) if self.draft.market in ms else -1
            self.draft.market = ms[(i + 1) % len(ms)]
            self.refresh_draft()

    def action_place(self) -> None:
        p = self.placement
        if p is None or not p.ok or self.placing or p.totals is None:
            return
        if getattr(self.app, "offline", False):  # as a commit on the order screen: nothing is sent blind
            self.app.notify("The server does not answer, so the order cannot be placed now. The draft is "
                            "kept: place it when the OFFLINE badge is gone.", title="Offline", severity="warning",
                            timeout=10)
            return
        d = self.draft
        kind = "replacement" if d.kind == "replacement" else None
        reasons = list(d.reference.policy.reasons_for(kind)) if kind else list(d.reference.policy.reason_codes)
        self.app.push_screen(PlaceDialog(KIND_TITLES.get(d.kind, "New order"), p, reasons, required=kind is not None,
                                         account=d.account), self._place_with)

    def _place_with(self, answer: tuple[str, str] | None) -> None:
        if answer is None or self.placing:
            return
        reason, note = answer
        request = self.draft.request(reason, note, self.app.actor)
        backend = self.app.backend
        self.placing = True
        self.refresh_bindings()
        self.app.call_backend(lambda: backend.place_order(request), self._placed, group="place",
                              on_error=self._place_failed)

    def _placed(self, result: PlaceOrderResult) -> None:
        from .order import OrderScreen

        self.result = result
        charged = next((d for d in result.documents if d.doc == "PAYMENT"), None)
        money = f"charged {charged.amount}" if charged is not None else "nothing charged"
        self.app.notify(f"Order {result.order.ref} placed ({money}). {len(result.notifications)} confirmation(s) "
                        "queued for the customer.", title="Placed", severity="information", timeout=8)
        self.app.pop_screen()
        under = self.app.screen
        if isinstance(under, OrderScreen) and result.link is not None and under.ref == result.link.order_ref:
            under.load()  # the original now names its new order in its header
        self.app.push_screen(OrderScreen(result.order.ref))

    def _place_failed(self, error: BackendError) -> None:
        self.placing = False
        self.refresh_bindings()
        if isinstance(error, RuleViolations):
            self.app.notify("\n".join(v.message for v in error.violations), title=error.title, severity="error",
                            timeout=12)
        elif isinstance(error, PaymentDeclined):
            self.app.notify(error.message, title=error.title, severity="error", timeout=12)
        else:
            self.app.show_error(error)

    def action_back(self) -> None:
        if self.draft.lines and self.result is None:
            def leave(ok: bool | None) -> None:
                if ok:
                    self.app.pop_screen()

            self.app.push_screen(self._dialogs().ConfirmDialog(
                "Leave without placing?", "The draft order is dropped; nothing was placed."), leave)
            return
        self.app.pop_screen()


# --------------------------------------------------------------------------------------------------
# Placing: the last step
# --------------------------------------------------------------------------------------------------


class PlaceDialog(ReasonNoteDialog):
    """The order in one sentence, the money, a reason (required for a replacement) and a note."""

    CSS_PATH = DIALOG_CSS
    confirm_label = "Place"
    reason_missing = "Choose a reason code first: a replacement needs one (Enter on the list opens it)."
    BINDINGS = [
        Binding("ctrl+s", "submit", "Place", id="dialog.submit", tooltip="Place the order with this reason and note"),
    ]

    def __init__(self, title: str, placement: Placement, reasons: list[ReasonCode], *, required: bool,
                 account: BillingAccount) -> None:
        super().__init__()
        self.title_text = title
        self.placement = placement
        self.reasons = reasons
        self.reason_required = required
        self.account = account

    @property
    def required(self) -> bool:
        return self.reason_required

    def compose(self) -> ComposeResult:
        p = self.placement
        assert p.order is not None and p.totals is not None
        units = sum(ln.quantity for ln in p.order.lines)
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Place this {self.title_text.lower()}"), classes="dialog-title")
            body = Text(f"{len(p.order.lines)} line(s), {units} item(s). Total {p.totals.grand_total}. ")
            labels = {m.id: m.label() for m in self.account.payment_methods}
            if p.charge is not None:
                body.append_text(text(f"Charge {p.charge.amount} to {labels.get(p.charge.payment_method_id, 'the card')}.",
                                      "bold yellow"))
            else:
                body.append("Nothing is charged.", "bold")
            yield Static(body, id="place-summary")
            yield from self.reason_and_note("choose a reason (required)" if self.reason_required
                                            else "no reason needed (optional)")
        yield CareFooter()


def open_new_order(app, customer_id: str, account_id: str, address: Address | None, market: str) -> None:
    """Read the customer's account and the reference data (in a worker), then open a new order."""
    backend = app.backend

    def read():
        return backend.get_account(account_id), app.reference()

    def opened(result) -> None:
        acct, reference = result
        draft = OrderDraft.for_customer(acct.customer, acct.account, reference, market=market or
                                        next((m.code for m in reference.policy.markets
                                              if m.currency == acct.account.currency), ""),
                                        address=address, role=app.role)
        app.push_screen(NewOrderScreen(draft))

    app.call_backend(read, opened, group="new-order")


def open_linked_order(app, view: OrderView, kind: str) -> None:
    """A replacement or a re-order of ``view``'s order, as a draft to review. A replacement reads the
    earlier replacements of the order first: it offers only what they have not sent."""
    backend = app.backend

    def read():
        earlier = [backend.get_order(lk.ref).order for lk in view.links
                   if kind == "replacement" and lk.kind == "replacement" and lk.direction == "from"]
        return app.reference(), earlier

    def opened(answer) -> None:
        reference, earlier = answer
        draft = OrderDraft.from_order(view, reference, kind, role=app.role, earlier=earlier)
        if kind == "replacement" and not draft.lines:
            app.notify(f"Everything on {view.order.ref} has been replaced, returned or is on a return: there "
                       "is nothing left to replace. A lost replacement is replaced from the replacement order.",
                       title="Nothing to replace", severity="warning", timeout=10)
            return
        app.push_screen(NewOrderScreen(draft))

    app.call_backend(read, opened, group="new-order")


__all__ = ["OrderDraft", "NewOrderScreen", "PlaceDialog", "open_new_order", "open_linked_order"]
