"""The Returns tab's dialogs: a line onto the draft return (quantity, reason, condition, an override
where policy allows one), the verdict on each line received, an exchange's replacements, and the
refund or an exchange's settlement with every figure shown first. The tab that opens them is
``screens/returns.py``."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalGroup, VerticalScroll
from textual.widgets import Input, Label, RadioButton, RadioSet, Select, Static

from ...engine.model import Order, Variant
from ...engine.money import Money
from ...engine.policy import Policy
from ...engine.pricing import PricingError
from ...engine.returns import (
    ExchangeSettlement, LineEligibility, LineVerdict, Override, ReplacementLine, ReturnLineRequest, ReturnOrder,
    conditions, plan_exchange_settle, preview_exchange, refund_breakdown,
)
from ...widgets import safe
from ...widgets.footer import CareFooter
from ...widgets.money import fmt
from ..returns_tables import breakdown_table, card_label, exchange_table, shipping_note
from .base import PRINTABLE, CareDialog, _field, _int, _title

# Read beside this module: the dialogs' shared sheet and the Returns tab's.
DIALOG_CSS = ["dialogs.tcss", "../returns.tcss"]


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
