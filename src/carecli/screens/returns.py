"""The order's Returns tab: which delivered lines can come back (and the rule that decided it), a draft
return with its refund preview, and the order's return orders moved through their steps.

Keys (active while the tab has the focus): Enter on a line puts it on the draft return (quantity,
reason, condition, comment; an override reason where policy lets the role override the failed rule),
``n`` creates the return, and on a return order ``e`` receives it, ``v`` verifies it line by line,
``f`` refunds it (card or store credit, with every figure first) — labelled Settle on an exchange,
whose difference in price it settles — ``z`` closes it. Read-only hides them.

The refund preview is the engine's own :func:`carecli.engine.returns.refund_breakdown`, the function
the store runs when it refunds; every write goes through the backend contract in a worker.
"""

from __future__ import annotations

import uuid

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalGroup, VerticalScroll
from textual.widgets import DataTable, Input, Label, RadioButton, RadioSet, Select, Static

from ..backend.contract import (
    BackendError, CreateExchangeRequest, CreateReturnRequest, RefundReturnRequest, ReturnEligibility, ReturnResult, ReturnStepRequest,
    RuleViolations, VerifyReturnRequest, VersionConflict,
)
from ..engine.model import Order
from ..engine.money import Money
from ..engine.policy import Policy
from ..engine.pricing import PricingError
from ..engine.model import Variant
from ..engine.returns import (
    ExchangeSettlement, LineEligibility, LineVerdict, Override, RefundBreakdown, ReplacementLine, ReturnLineRequest,
    ReturnOrder, conditions, plan_exchange_settle, preview_exchange, preview_lines, refund_breakdown,
)
from ..widgets import safe
from ..widgets.money import fmt
from .dialogs.base import PRINTABLE, CareDialog, _field, _int, _title
from ..widgets.footer import CareFooter

WRITE_ACTIONS = {"create", "exchange", "receive", "verify", "refund", "settle", "close_return"}
DIALOG_CSS = ["dialogs/dialogs.tcss", "returns.tcss"]


def new_key() -> str:
    return f"care-{uuid.uuid4()}"


# --------------------------------------------------------------------------------------------------
# The refund preview, as text (shared by the tab and the refund dialog)
# --------------------------------------------------------------------------------------------------


def breakdown_table(b: RefundBreakdown, card: str) -> Table:
    """Each figure of a refund: items, tax, shipping, restocking fee, total, where the money goes."""
    t = Table(box=None, padding=(0, 1), show_header=False, expand=False)
    t.add_column("what")
    t.add_column("amount", justify="right")
    for lr in b.lines:
        t.add_row(safe.text(f"{lr.quantity} × line {lr.line_id} {lr.description}"), Text(fmt(lr.merchandise)))
    t.add_row(Text("Tax"), Text(fmt(b.tax)))
    t.add_row(Text("Shipping"), Text(fmt(b.shipping + b.shipping_tax) if not b.shipping.is_zero else fmt(b.shipping)))
    if not b.restocking_fee.is_zero:
        t.add_row(Text("Restocking fee"), Text(fmt(-b.restocking_fee)))
    if not b.capped_by.is_zero:
        t.add_row(Text("Already credited"), Text(fmt(-b.capped_by)))
    t.add_row(Text("Refund", "bold"), Text(fmt(b.total), "bold"))
    if b.to_payment.is_positive:
        t.add_row(safe.text(f"  to {card}"), Text(fmt(b.to_payment), "green"))
    if b.to_store_credit.is_positive:
        t.add_row(Text("  as store credit"), Text(fmt(b.to_store_credit), "green"))
    return t


def shipping_note(b: RefundBreakdown) -> Text:
    return Text(f"Shipping: {b.shipping_why}.", "dim")


def card_label(order: Order, account) -> str:
    pm = next((p for p in account.payment_methods if p.id == order.payment_method_id), None)
    return pm.label() if pm else "the original payment"


def returns_text(returns: list[ReturnOrder]) -> Table:
    """Return orders as a table (the billing account's Returns tab)."""
    t = Table(box=None, padding=(0, 1), header_style="bold", expand=False)
    for col in ("Return", "RMA", "Order", "State", "Units", "Refund"):
        t.add_column(col, justify="right" if col in ("Units", "Refund") else "left")
    for r in returns:
        t.add_row(Text(r.id), Text(r.rma), safe.text(r.order_ref), Text(r.state), Text(str(r.units)),
                  settled_money(r))
    return t


def exchange_table(st: ExchangeSettlement, replacements: list[tuple[str, Money]], card: str, *,
                   preview: bool) -> Table:
    """An exchange's money as the customer sees it: what comes back (as it was charged), what goes out
    (the replacements at their price, with tax) and the net settlement — every figure from the engine's
    :class:`ExchangeSettlement`, the one the settle step records. ``replacements`` are (what, price ×
    quantity) per replacement line; ``preview`` before the return exists (every line taken as accepted)."""
    t = Table(box=None, padding=(0, 1), show_header=False, expand=False)
    t.add_column("what")
    t.add_column("amount", justify="right")
    b = st.back
    t.add_row(Text("Comes back" + (" (if accepted)" if preview else ""), "bold"), Text(""))
    for lr in b.lines:
        t.add_row(safe.text(f"  {lr.quantity} × {lr.description}"), Text(fmt(lr.merchandise)))
    if not b.lines:
        t.add_row(Text("  nothing accepted", "yellow"), Text(fmt(b.merchandise)))
    if not b.shipping.is_zero:
        t.add_row(Text("  Shipping (the merchant's fault)"), Text(fmt(b.shipping)))
    t.add_row(Text("  Tax"), Text(fmt(b.tax)))
    t.add_row(Text("  Value as charged"), Text(fmt(st.returned_value), "bold"))
    t.add_row(Text("Goes out (ships free)", "bold"), Text(""))
    goods = Money.zero(st.currency)
    for what, amount in replacements:
        t.add_row(safe.text(f"  {what}"), Text(fmt(amount)))
        goods = goods + amount
    if goods != st.replacement_value:
        t.add_row(Text("  Tax"), Text(fmt(st.replacement_value - goods)))
    t.add_row(Text("  Replacement"), Text(fmt(st.replacement_value), "bold"))
    t.add_row(Text("Settlement", "bold"), Text(""))
    if st.outcome == "even":
        t.add_row(Text("  Even exchange: no money moves", "bold green"), Text(fmt(Money.zero(st.currency)), "bold"))
    elif st.outcome == "charge":
        t.add_row(safe.text(f"  Extra charge to {card}", "bold yellow"), Text(fmt(st.charge), "bold yellow"))
    elif st.outcome == "refund":
        if not st.capped_by.is_zero:
            t.add_row(Text("  Already credited on this order"), Text(fmt(-st.capped_by)))
        if st.to_payment.is_positive:
            t.add_row(safe.text(f"  Refund to {card}", "bold green"), Text(fmt(st.to_payment), "bold green"))
        if st.to_store_credit.is_positive:
            t.add_row(Text("  Refund as store credit", "bold green"), Text(fmt(st.to_store_credit), "bold green"))
    else:
        t.add_row(Text("  Nothing to settle: no money moves", "bold"), Text(fmt(Money.zero(st.currency)), "bold"))
    return t


def replacement_rows(replacements, catalog: dict[str, Variant], currency: str) -> list[tuple[str, Money]]:
    """(what, price × quantity) per replacement line, at the catalog's price (as the exchange values it)."""
    out = []
    for r in replacements:
        v = catalog.get(r.sku)
        if v is None or currency not in v.prices:
            continue
        price = v.prices[currency]
        out.append((f"{r.quantity} × {v.description} at {fmt(price)}", price * r.quantity))
    return out


# --------------------------------------------------------------------------------------------------
# Dialogs
# --------------------------------------------------------------------------------------------------


class ReturnLineDialog(CareDialog["tuple[ReturnLineRequest | None, Override | None]"]):
    """One line of the draft return: quantity (0 takes it off), reason, condition, comment, and an
    override reason when the line failed a rule the agent's role may override."""

    CSS_PATH = DIALOG_CSS
    AUTO_FOCUS = "#qty"
    BINDINGS = [Binding("ctrl+s", "submit", "Put on return", id="return_line.submit",
                        tooltip="Put the line on the draft return (Enter in a text field does the same)")]

    def __init__(self, line: LineEligibility, policy: Policy, current: ReturnLineRequest | None,
                 override_needed: bool) -> None:
        super().__init__()
        self.line = line
        self.policy = policy
        self.current = current
        self.override_needed = override_needed

    def compose(self) -> ComposeResult:
        ln, cur = self.line, self.current
        reasons = self.policy.reasons_for("return")
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title("Return line ", str(ln.line_id), ": ", safe.text(ln.description)), classes="dialog-title")
            info = Text(f"{ln.available} of {ln.delivered} delivered can come back. ")
            info.append_text(safe.text(ln.message, "dim"))
            yield Static(info, id="info")
            yield _field("Quantity", Input(str(cur.quantity if cur else ln.available), id="qty", compact=True,
                                           restrict=r"[0-9]*", max_length=3))
            yield _field("Reason", Select([(safe.text(f"{r.label} ({r.code})"), r.code) for r in reasons],
                                          value=cur.reason_code if cur else Select.NULL,
                                          prompt="choose a reason (required)", id="reason", compact=True))
            yield _field("Condition", Select([(c, c) for c in conditions(self.policy)],
                                             value=cur.condition if cur else conditions(self.policy)[0],
                                             allow_blank=False, id="condition", compact=True))
            yield _field("Comment", Input(safe.clean(cur.comment) if cur else "", id="comment", compact=True,
                                          restrict=PRINTABLE, max_length=1000, placeholder="optional"))
            if self.override_needed:
                yield Static(Text(f"Overriding {ln.rule}: say why (it is audited).", "bold"), id="override-why")
                yield _field("Override", Input("", id="override", compact=True, restrict=PRINTABLE, max_length=500,
                                               placeholder="reason for the override (required)"))
            yield Static("Quantity 0 takes the line off the draft. Ctrl+S puts it on.", id="message",
                         classes="message")
        yield CareFooter()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        qty = _int(self.query_one("#qty", Input).value)
        if qty is None or qty < 0 or qty > self.line.available:
            self.say(f"Type a quantity from 0 to {self.line.available}.", "error")
            self.query_one("#qty", Input).focus()
            return
        if qty == 0:
            self.dismiss((None, None))
            return
        reason = self.query_one("#reason", Select).selection
        if reason is None:
            self.say("Choose a reason first: every returned line needs one.", "error")
            self.query_one("#reason", Select).focus()
            return
        override = None
        if self.override_needed:
            why = self.query_one("#override", Input).value.strip()
            if not why:
                self.say(f"Say why you override {self.line.rule}; it is audited.", "error")
                self.query_one("#override", Input).focus()
                return
            override = Override(rule=self.line.rule, line_id=self.line.line_id, reason=why)
        req = ReturnLineRequest(line_id=self.line.line_id, quantity=qty, reason_code=str(reason),
                                condition=str(self.query_one("#condition", Select).selection),
                                comment=self.query_one("#comment", Input).value.strip())
        self.dismiss((req, override))


class VerifyDialog(CareDialog["tuple[LineVerdict, ...]"]):
    """A verdict per line of a received return: accept or reject, and why (a rejection needs it)."""

    CSS_PATH = DIALOG_CSS
    BINDINGS = [Binding("ctrl+s", "submit", "Verify", id="verify.submit", tooltip="Record the verdicts")]

    def __init__(self, ret: ReturnOrder) -> None:
        super().__init__()
        self.ret = ret

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Verify return {self.ret.id} ({self.ret.rma})"), classes="dialog-title")
            with VerticalScroll(classes="form"):
                for rl in self.ret.lines:
                    head = Text(f"Line {rl.line_id}: {rl.quantity} × ", "bold")
                    head.append_text(safe.text(rl.description))
                    head.append(f"  {rl.reason_code}, {rl.condition}", "dim")
                    yield Static(head)
                    yield _field("Verdict", Select([("accept", "accept"), ("reject", "reject")], value="accept",
                                                   allow_blank=False, id=f"verdict-{rl.line_id}", compact=True))
                    yield _field("Why", Input("", id=f"note-{rl.line_id}", compact=True, restrict=PRINTABLE,
                                              max_length=500, placeholder="why (required to reject)"))
            yield Static("Ctrl+S records the verdicts.", id="message", classes="message")
        yield CareFooter()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        out = []
        for rl in self.ret.lines:
            accepted = self.query_one(f"#verdict-{rl.line_id}", Select).selection == "accept"
            note = self.query_one(f"#note-{rl.line_id}", Input).value.strip()
            if not accepted and not note:
                self.say(f"Say why line {rl.line_id} is rejected; the customer is told.", "error")
                self.query_one(f"#note-{rl.line_id}", Input).focus()
                return
            out.append(LineVerdict(line_id=rl.line_id, accepted=accepted, note=note))
        self.dismiss(tuple(out))


def replacement_choices(order: Order, line_sku: str, catalog: dict[str, Variant]) -> list[Variant]:
    """Variants that can replace a returned line: sellable, priced in the order's currency; the same
    product's other sizes and colours first."""
    product = catalog[line_sku].product_id if line_sku in catalog else None
    ok = [v for v in catalog.values() if v.sellable and order.currency in v.prices and v.sku != line_sku]
    return sorted(ok, key=lambda v: (v.product_id != product, v.name, v.sku))


class ExchangeDialog(CareDialog["tuple[ReplacementLine, ...]"]):
    """The replacement for each line of the draft return, with the difference in price before anything
    is created. The replacement ships as a new order at no charge; the difference is settled when the
    return has been checked."""

    CSS_PATH = DIALOG_CSS
    BINDINGS = [Binding("ctrl+s", "submit", "Exchange", id="exchange.submit",
                        tooltip="Create the exchange: the return and the replacement order")]

    def __init__(self, order: Order, draft: list[ReturnLineRequest], reference, account=None) -> None:
        super().__init__()
        self.order, self.draft, self.reference = order, draft, reference
        self.card = card_label(order, account) if account is not None else "the original payment"
        self.catalog = reference.catalog()

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Exchange on {self.order.ref}"), classes="dialog-title")
            with VerticalScroll(classes="form"):
                for req in self.draft:
                    ln = self.order.line(req.line_id)
                    head = Text(f"Line {req.line_id}: {req.quantity} × ", "bold")
                    head.append_text(safe.text(ln.description if ln else ""))
                    head.append(f" at {fmt(ln.unit_price)}" if ln else "", "dim")
                    yield Static(head)
                    opts = [(safe.text(f"{v.description} — {fmt(v.prices[self.order.currency])}"), v.sku)
                            for v in replacement_choices(self.order, ln.sku if ln else "", self.catalog)]
                    yield _field("For", Select(opts, allow_blank=False, id=f"rep-{req.line_id}", compact=True))
            yield Static("", id="figures")
            yield Static("Ctrl+S creates the exchange; Escape leaves it.", id="message", classes="message")
        yield CareFooter()

    def on_mount(self) -> None:
        self._show()

    @on(Select.Changed)
    def _changed(self, event: Select.Changed) -> None:
        event.stop()
        self._show()

    def replacements(self) -> tuple[ReplacementLine, ...]:
        return tuple(ReplacementLine(sku=str(self.query_one(f"#rep-{r.line_id}", Select).selection),
                                     quantity=r.quantity) for r in self.draft)

    def settlement(self) -> ExchangeSettlement:
        """The exchange's settlement if every line is accepted: the engine's own, from the terms the store
        creates the exchange with (raises PricingError)."""
        return preview_exchange(self.order, self.draft, self.replacements(), self.reference.policy,
                                self.reference.location_map(), self.catalog)

    def _show(self) -> None:
        reps = self.replacements()
        try:
            st = self.settlement()
        except PricingError as e:
            self.query_one("#figures", Static).update(safe.text(e.message, "red"))
            return
        rows = replacement_rows(reps, self.catalog, self.order.currency)
        when = Text("Settled when the return has been checked"
                    + ("; card or store credit is chosen then." if st.outcome == "refund" else "."), "dim")
        self.query_one("#figures", Static).update(Group(exchange_table(st, rows, self.card, preview=True), when))

    def action_submit(self) -> None:
        self.dismiss(self.replacements())


class RefundDialog(CareDialog[str]):
    """Where the refund goes, with every figure before the agent commits."""

    CSS_PATH = DIALOG_CSS
    AUTO_FOCUS = "#refund-to"
    BINDINGS = [Binding("ctrl+s", "submit", "Refund", id="refund.submit", tooltip="Refund as shown")]

    def __init__(self, order: Order, account, ret: ReturnOrder, policy: Policy, locations, context=None) -> None:
        super().__init__()
        self.order, self.account, self.ret, self.policy, self.locations = order, account, ret, policy, locations
        self.context = context  # an exchange is previewed by the engine's own settlement (a PlanContext)
        self.to = "ORIGINAL_PAYMENT"

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Refund return {self.ret.id} ({self.ret.rma})"), classes="dialog-title")
            with RadioSet(id="refund-to", compact=True):
                yield RadioButton(safe.text(f"to {card_label(self.order, self.account)}"), id="ORIGINAL_PAYMENT",
                                  value=True)
                yield RadioButton("as store credit", id="STORE_CREDIT")
            yield Static("", id="figures")
            yield Static("Ctrl+S refunds as shown; Escape leaves it.", id="message", classes="message")
        yield CareFooter()

    def on_mount(self) -> None:
        self._show()

    @on(RadioSet.Changed, "#refund-to")
    def _changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.to = event.pressed.id or "ORIGINAL_PAYMENT"
        self._show()

    def _show(self) -> None:
        if self.ret.kind == "EXCHANGE" and self.context is not None:
            self._show_exchange()
            return
        accepted = [rl for rl in self.ret.lines if rl.verdict == "ACCEPTED"]
        try:
            b = refund_breakdown(self.order, accepted, self.policy, self.locations, self.to)  # type: ignore[arg-type]
        except PricingError as e:
            self.query_one("#figures", Static).update(safe.text(e.message, "red"))
            return
        rejected = [rl for rl in self.ret.lines if rl.verdict == "REJECTED"]
        parts: list = [breakdown_table(b, card_label(self.order, self.account)), shipping_note(b)]
        for rl in rejected:
            parts.append(safe.text(f"Not refunded: line {rl.line_id} rejected ({rl.verdict_note})", "yellow"))
        self.query_one("#figures", Static).update(Group(*parts))

    def _show_exchange(self) -> None:
        p = plan_exchange_settle(self.order, self.ret, self.to, self.context)  # type: ignore[arg-type]
        box = self.query_one("#figures", Static)
        self.query_one("#refund-to", RadioSet).display = p.exchange is not None and p.exchange.outcome == "refund"
        if not p.ok or p.exchange is None:
            box.update(safe.text("; ".join(v.message for v in p.violations), "red"))
            return
        catalog = self.context.catalog  # type: ignore[union-attr]
        rows = replacement_rows(self.ret.replacements, catalog, self.order.currency)
        parts: list = [safe.text(f"Replacement order {self.ret.exchange_order_ref or '—'}", "dim"),
                       exchange_table(p.exchange, rows, card_label(self.order, self.account), preview=False)]
        for rl in self.ret.lines:
            if rl.verdict == "REJECTED":
                parts.append(safe.text(f"Line {rl.line_id} rejected ({rl.verdict_note}): the customer pays for "
                                       "its replacement", "yellow"))
        box.update(Group(*parts))

    def action_submit(self) -> None:
        self.dismiss(self.to)


class SettleExchangeDialog(RefundDialog):
    """Settle a verified exchange: what came back, what went out and the net (extra charge, refund to
    the card or as store credit, or nothing), from the engine's settle step itself."""

    BINDINGS = [Binding("ctrl+s", "submit", "Settle", id="exchange.settle",
                        tooltip="Settle the exchange as shown")]

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Settle exchange {self.ret.id} ({self.ret.rma})"), classes="dialog-title")
            with RadioSet(id="refund-to", compact=True):
                yield RadioButton(safe.text(f"refund to {card_label(self.order, self.account)}"),
                                  id="ORIGINAL_PAYMENT", value=True)
                yield RadioButton("refund as store credit", id="STORE_CREDIT")
            yield Static("", id="figures")
            yield Static("Ctrl+S settles as shown; Escape leaves it.", id="message", classes="message")
        yield CareFooter()


def settlement_words(r: ReturnOrder) -> str:
    """How a settled exchange moved money, in words."""
    if r.charge_total is not None:
        return f"the customer paid {fmt(r.charge_total)} more (invoice {r.invoice_id})"
    if r.refund_total is not None and r.refund_total.is_positive:
        where = "as store credit" if r.refund_to == "STORE_CREDIT" else "to the original payment"
        return f"{fmt(r.refund_total)} back {where} (credit memo {r.credit_memo_id})"
    return "no money moved" + (" (even exchange)" if r.even else "")


def settled_money(r: ReturnOrder) -> Text:
    """A return's money for a list: the refund, or an exchange's extra charge (+)."""
    if r.charge_total is not None:
        return Text(f"+{fmt(r.charge_total)}", "yellow")
    return Text(fmt(r.refund_total) if r.refund_total is not None else "—")


# --------------------------------------------------------------------------------------------------
# The tab
# --------------------------------------------------------------------------------------------------


class ReturnsPane(VerticalScroll):
    """The Returns tab of an order (see the module docstring)."""

    HELP_SECTION = "Returns tab"  # F1's heading over this tab's keys
    # Not a Tab stop of its own: Tab goes from the tab row to the lines, the return orders, and back.
    # Its tables bring what they explain (the rule, the refund preview, the return's detail) into view.
    can_focus = False

    DEFAULT_CSS = """
    ReturnsPane { height: 1fr; padding: 0 1; }
    ReturnsPane DataTable { height: auto; max-height: 8; }
    ReturnsPane .ret-heading { color: $text-muted; text-style: bold; margin-top: 1; }
    ReturnsPane #ret-why, ReturnsPane #ret-preview, ReturnsPane #ret-detail { height: auto; }
    """
    BINDINGS = [
        Binding("n", "create", "New return", id="returns.create", tooltip="Create the draft return (RO, RMA)"),
        Binding("t", "exchange", "Exchange", id="returns.exchange",
                tooltip="Exchange the draft lines for other products (a new, linked order)"),
        Binding("e", "receive", "Received", id="returns.receive", tooltip="Mark the highlighted return received"),
        Binding("v", "verify", "Verify", id="returns.verify", tooltip="Accept or reject each line of the return"),
        # One key, labelled for what it does on the highlighted return: a return is refunded, an exchange
        # settled (the difference charged, refunded or nothing). check_action shows one face and hides the
        # other; they share their id, so remapping `returns.refund` moves the key with both faces.
        Binding("f", "refund", "Refund", id="returns.refund", tooltip="Refund the verified return (preview first)"),
        Binding("f", "settle", "Settle", id="returns.refund",
                tooltip="Settle the verified exchange: the difference charged, refunded or nothing (preview first)"),
        Binding("z", "close_return", "Close", id="returns.close", tooltip="Close the refunded return"),
    ]

    def __init__(self, ref: str) -> None:
        super().__init__(id="returns-pane")
        self.ref = ref
        self.eligibility: ReturnEligibility | None = None
        self.returns: list[ReturnOrder] = []
        self.draft: dict[int, ReturnLineRequest] = {}
        self.overrides: dict[int, Override] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="ret-links")
        yield Label("Delivered lines — Enter puts one on the draft return", classes="ret-heading")
        yield DataTable(id="ret-lines", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ret-why")
        yield Static("", id="ret-preview")
        yield Label("Return orders", classes="ret-heading")
        yield DataTable(id="ret-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="ret-detail")

    def on_mount(self) -> None:
        lines = self.query_one("#ret-lines", DataTable)
        for label, key, width in (("#", "id", 2), ("Item", "item", 26), ("Dlv", "dlv", 3), ("Can", "can", 3),
                                  ("Rule", "rule", 22), ("Draft", "draft", 5)):
            lines.add_column(label, key=key, width=width)
        lst = self.query_one("#ret-list", DataTable)
        for label, key, width in (("Return", "id", 9), ("RMA", "rma", 13), ("State", "state", 16),
                                  ("Units", "units", 5), ("Refund", "refund", 14)):
            lst.add_column(label, key=key, width=width)

    # -- data -----------------------------------------------------------------------------------------
    @property
    def session(self):
        return getattr(self.screen, "session", None)

    def reload(self) -> None:
        backend, ref = self.app.backend, self.ref  # type: ignore[attr-defined]
        self.app.call_backend(lambda: (backend.return_eligibility(ref), backend.list_returns(ref)),  # type: ignore[attr-defined]
                              self._loaded, group="returns-load")

    def _loaded(self, result: tuple[ReturnEligibility, list[ReturnOrder]]) -> None:
        self.eligibility, self.returns = result
        by_id = {e.line_id: e for e in self.eligibility.lines}
        for lid in list(self.draft):  # what no longer fits drops off the draft
            e = by_id.get(lid)
            if e is None or self.draft[lid].quantity > e.available:
                self.draft.pop(lid)
                self.overrides.pop(lid, None)
        self.render_all()
        self.screen.refresh_bindings()

    def render_all(self) -> None:
        self._render_links()
        self._render_lines()
        self._render_preview()
        self._render_list()

    def _render_links(self) -> None:
        s = self.session
        links = getattr(s.view, "links", ()) if s is not None else ()
        box = self.query_one("#ret-links", Static)
        box.display = bool(links)
        out = Text()
        for lk in links:
            out.append(f"{lk.kind.capitalize()} ", "bold")
            out.append(f"{'→ new order' if lk.direction == 'from' else 'of order'} {lk.ref}  ")
        box.update(out)

    def _render_lines(self) -> None:
        table = self.query_one("#ret-lines", DataTable)
        row = table.cursor_row
        table.clear()
        if self.eligibility is None:
            return
        for e in self.eligibility.lines:
            style = "green" if e.returnable else ("yellow" if e.overridable else "dim")
            d = self.draft.get(e.line_id)
            table.add_row(safe.text(str(e.line_id)), safe.text(e.description), Text(str(e.delivered), justify="right"),
                          Text(str(e.available), justify="right"), Text(e.rule.removeprefix("return."), style),
                          Text(str(d.quantity) if d else "", "bold", justify="right"), key=str(e.line_id))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._render_why()

    def _current_line(self) -> LineEligibility | None:
        table = self.query_one("#ret-lines", DataTable)
        if self.eligibility is None or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((e for e in self.eligibility.lines if str(e.line_id) == key), None)

    def _render_why(self) -> None:
        e = self._current_line()
        out = Text()
        if e is not None:
            out.append(f"{e.rule}: ", "bold")
            out.append_text(safe.text(e.message))
            if not e.returnable and e.overridable:
                roles = ", ".join(self.eligibility.override_roles) if self.eligibility else ""
                out.append(f"\n(overridable with a reason by: {roles or 'nobody'})", "dim")
        self.query_one("#ret-why", Static).update(out)

    def _render_preview(self) -> None:
        s = self.session
        box = self.query_one("#ret-preview", Static)
        if not self.draft or s is None:
            box.update(Text("No draft return." if not self.app.read_only else "Read-only: returns are shown, "  # type: ignore[attr-defined]
                            "not changed.", "dim"))
            return
        order, policy = s.view.order, s.reference.policy
        try:
            b = refund_breakdown(order, preview_lines(order, list(self.draft.values()), policy), policy,
                                 s.reference.location_map())
        except PricingError as e:
            box.update(safe.text(f"No refund preview: {e.message}", "red"))
            return
        head = Text("Draft return — refund if every line is accepted (n creates it)", "bold")
        box.update(Group(head, breakdown_table(b, card_label(order, s.view.account)), shipping_note(b)))

    def _render_list(self) -> None:
        table = self.query_one("#ret-list", DataTable)
        row = table.cursor_row
        table.clear()
        for r in self.returns:
            cell = settled_money(r)
            cell.justify = "right"
            table.add_row(Text(r.id), Text(r.rma), Text(r.state), Text(str(r.units), justify="right"), cell,
                          key=r.id)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._render_detail()

    def _current_return(self) -> ReturnOrder | None:
        table = self.query_one("#ret-list", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.returns if r.id == key), None)

    def _render_detail(self) -> None:
        r = self._current_return()
        out = Text()
        if r is None:
            out.append("No return orders on this order yet.", "dim")
        else:
            out.append(f"{r.id} · {r.rma} · {r.state}" + (f" · exchange → {r.exchange_order_ref}"
                                                           if r.kind == "EXCHANGE" else "") + "\n", "bold")
            for rl in r.lines:
                out.append_text(safe.text(f"  line {rl.line_id}: {rl.quantity} × {rl.description} · {rl.reason_code}"
                                          f" · {rl.condition}" + (f" · “{rl.comment}”" if rl.comment else "")))
                if rl.verdict != "PENDING":
                    out.append(f" · {rl.verdict.lower()}", "green" if rl.verdict == "ACCEPTED" else "yellow")
                    if rl.verdict_note:
                        out.append_text(safe.text(f" ({rl.verdict_note})", "dim"))
                out.append("\n")
            for o in r.overrides:
                out.append_text(safe.text(f"  override {o.rule} on line {o.line_id} by {o.actor}: {o.reason}\n", "dim"))
            if r.kind == "EXCHANGE" and r.state in ("REFUNDED", "CLOSED"):
                out.append(f"  settled: {settlement_words(r)}\n")
            nxt = {"AWAITING_RECEIPT": "e when the parcel arrives", "RECEIVED": "v to verify each line",
                   "VERIFIED": "f to refund (or z to close if every line was rejected)", "REFUNDED": "z to close"}
            if r.kind == "EXCHANGE":
                nxt["VERIFIED"] = "f to settle the exchange"
            if r.state in nxt and not self.app.read_only:  # type: ignore[attr-defined]
                out.append(f"  next: {nxt[r.state]}", "dim")
        self.query_one("#ret-detail", Static).update(out)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "ret-lines":
            self._render_why()
        else:
            self._render_detail()
        self.screen.refresh_bindings()
        if event.data_table.has_focus:
            self.call_after_refresh(self.reveal, event.data_table)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, DataTable):
            self.call_after_refresh(self.reveal, event.widget)

    def reveal(self, table: DataTable) -> None:
        """Scroll so the focused table and the text under it that explains its row are in view, the
        table's top first: the pane itself takes no focus, so the keys cannot scroll it."""
        below = {"ret-lines": ("#ret-why", "#ret-preview"), "ret-list": ("#ret-detail",)}.get(table.id or "", ())
        region = table.virtual_region_with_margin
        for selector in below:
            region = region.union(self.query_one(selector).virtual_region_with_margin)
        self.scroll_to_region(region, animate=False, immediate=True)

    # -- draft ----------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#ret-lines")
    def _line_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.app.read_only or self.session is None:  # type: ignore[attr-defined]
            return
        e = self._current_line()
        if e is None:
            return
        roles = self.eligibility.override_roles if self.eligibility else ()
        may_override = e.overridable and self.app.role in roles  # type: ignore[attr-defined]
        if not e.returnable and not may_override:
            extra = f" Only {', '.join(roles)} may override it." if e.overridable else ""
            self.app.notify(e.message + extra, title=f"Not returnable ({e.rule})", severity="warning", timeout=8)
            return
        if e.available <= 0:
            self.app.notify(e.message, title=f"Not returnable ({e.rule})", severity="warning", timeout=8)
            return

        def done(answer) -> None:
            if answer is None:
                return
            req, override = answer
            if req is None:
                self.draft.pop(e.line_id, None)
                self.overrides.pop(e.line_id, None)
            else:
                self.draft[e.line_id] = req
                if override is not None:
                    self.overrides[e.line_id] = override
            self._render_lines()
            self._render_preview()
            self.screen.refresh_bindings()

        self.app.push_screen(ReturnLineDialog(e, self.session.reference.policy, self.draft.get(e.line_id),
                                              not e.returnable), done)

    # -- actions --------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in WRITE_ACTIONS:
            return True
        if self.app.read_only:  # type: ignore[attr-defined]
            return False  # hidden; the backend refuses writes anyway
        if action in ("create", "exchange"):
            return True if self.draft else None
        r = self._current_return()
        if action in ("refund", "settle") and (action == "settle") != (r is not None and r.kind == "EXCHANGE"):
            return False  # the other face of f: Refund on a return (or none), Settle on an exchange
        want = {"receive": ("AWAITING_RECEIPT",), "verify": ("RECEIVED",), "refund": ("VERIFIED",),
                "settle": ("VERIFIED",), "close_return": ("REFUNDED", "VERIFIED")}[action]
        return True if r is not None and r.state in want else None

    def _call(self, fn, what: str) -> None:
        def ok(result: ReturnResult) -> None:
            r = result.return_order
            done = what
            money = f"; {fmt(r.refund_total)} refunded" if action_refund and r.refund_total is not None else ""
            if r.kind == "EXCHANGE" and what == "Exchange created":
                money = f"; the replacement ships as order {r.exchange_order_ref}"
            elif r.kind == "EXCHANGE" and action_refund:
                done, money = "Exchange settled", "; " + settlement_words(r)
            self.app.notify(f"{done}: {r.id} ({r.rma}) is {r.state}{money}.", title="Return", timeout=6)
            self.screen.load()  # type: ignore[attr-defined]

        action_refund = what == "Refunded"
        self.app.call_backend(fn, ok, group="returns-write", on_error=self._failed)  # type: ignore[attr-defined]

    def _failed(self, error: BackendError) -> None:
        if isinstance(error, RuleViolations):
            self.app.notify("\n".join(v.message for v in error.violations), title=error.title, severity="error",
                            timeout=12)
        elif isinstance(error, VersionConflict):
            self.app.notify(error.message + " The order was read again; check the figures and confirm again.",
                            title=error.title, severity="warning", timeout=12)
            self.screen.load()  # type: ignore[attr-defined]
        else:
            self.app.show_error(error)  # type: ignore[attr-defined]

    def action_create(self) -> None:
        s = self.session
        if not self.draft or s is None:
            return
        order = s.view.order
        req = CreateReturnRequest(order_ref=order.ref, expected_version=order.version,
                                  lines=tuple(self.draft[k] for k in sorted(self.draft)),
                                  overrides=tuple(self.overrides[k] for k in sorted(self.overrides)),
                                  idempotency_key=new_key(), actor=self.app.actor)  # type: ignore[attr-defined]
        backend = self.app.backend  # type: ignore[attr-defined]
        units = sum(r.quantity for r in req.lines)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.draft.clear()
                self.overrides.clear()
                self._call(lambda: backend.create_return(req), "Created")

        from .dialogs import ConfirmDialog

        self.app.push_screen(ConfirmDialog(
            f"Create a return of {units} unit(s) on {order.ref}?",
            "The customer is sent the RMA to write on the parcel. The refund is decided when the parcel has "
            "arrived and each line is verified."), confirmed)

    def action_exchange(self) -> None:
        s = self.session
        if not self.draft or s is None:
            return
        order = s.view.order
        draft = [self.draft[k] for k in sorted(self.draft)]
        backend = self.app.backend  # type: ignore[attr-defined]

        def chosen(reps) -> None:
            if not reps:
                return
            req = CreateExchangeRequest(order_ref=order.ref, expected_version=order.version, lines=tuple(draft),
                                        overrides=tuple(self.overrides[k] for k in sorted(self.overrides)),
                                        replacements=reps, idempotency_key=new_key(),
                                        actor=self.app.actor)  # type: ignore[attr-defined]
            self.draft.clear()
            self.overrides.clear()
            self._call(lambda: backend.create_exchange(req), "Exchange created")

        self.app.push_screen(ExchangeDialog(order, draft, s.reference, s.view.account), chosen)

    def _step(self, make, what: str) -> None:
        r = self._current_return()
        if r is None:
            return
        backend = self.app.backend  # type: ignore[attr-defined]
        req = make(r)
        self._call(lambda: getattr(backend, {"Received": "receive_return", "Closed": "close_return"}[what])(req),
                   what)

    def action_receive(self) -> None:
        self._step(lambda r: ReturnStepRequest(return_id=r.id, idempotency_key=new_key(),
                                               actor=self.app.actor), "Received")  # type: ignore[attr-defined]

    def action_close_return(self) -> None:
        self._step(lambda r: ReturnStepRequest(return_id=r.id, idempotency_key=new_key(),
                                               actor=self.app.actor), "Closed")  # type: ignore[attr-defined]

    def action_verify(self) -> None:
        r = self._current_return()
        if r is None:
            return
        backend = self.app.backend  # type: ignore[attr-defined]

        def done(verdicts) -> None:
            if verdicts:
                req = VerifyReturnRequest(return_id=r.id, verdicts=verdicts, idempotency_key=new_key(),
                                          actor=self.app.actor)  # type: ignore[attr-defined]
                self._call(lambda: backend.verify_return(req), "Verified")

        self.app.push_screen(VerifyDialog(r), done)

    def action_settle(self) -> None:
        self.action_refund()  # the settle dialog is the refund step of an exchange

    def action_refund(self) -> None:
        r, s = self._current_return(), self.session
        if r is None or s is None:
            return
        backend = self.app.backend  # type: ignore[attr-defined]
        order = s.view.order

        def done(to: str | None) -> None:
            if to:
                req = RefundReturnRequest(return_id=r.id, expected_version=order.version, refund_to=to,
                                          idempotency_key=new_key(), actor=self.app.actor)  # type: ignore[attr-defined]
                self._call(lambda: backend.refund_return(req), "Refunded")

        dialog = SettleExchangeDialog if r.kind == "EXCHANGE" else RefundDialog
        self.app.push_screen(dialog(order, s.view.account, r, s.reference.policy, s.reference.location_map(),
                                    s.context(self.app.clock())), done)  # type: ignore[attr-defined]


__all__ = ["ExchangeDialog", "RefundDialog", "SettleExchangeDialog", "exchange_table", "ReturnLineDialog", "ReturnsPane", "VerifyDialog", "breakdown_table", "returns_text"]
