"""The appeasement dialog: a credit or a discount, with the agent's limit in view."""


from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalGroup
from textual.validation import ValidationResult, Validator
from textual.widgets import (
    Input, Label, RadioButton, RadioSet, Select, Static,
)

from ...backend.contract import ReferenceData
from ...engine.commands import (
    AppeasementCredit, AppeasementDiscount,
)
from ...engine.model import (
    Discount, Order,
)
from ...engine.money import Money, MoneyError, minor_units
from ...engine.policy import ReasonCode
from ...engine.pricing import PricingError, price
from ...engine.settlement import appeasement_credited
from ...widgets import safe
from ...widgets.footer import CareFooter
from ...widgets.money import fmt

from .base import CareDialog, PRINTABLE, R, _DAYS, _field, _first_problem, _int, _title  # noqa: F401


# --------------------------------------------------------------------------------------------------
# 8. Appeasement
# --------------------------------------------------------------------------------------------------

APPEASEMENT_KINDS: tuple[tuple[str, str], ...] = (
    ("credit-store", "Credit to store credit"),
    ("credit-payment", "Credit to the original payment"),
    ("discount-percent", "Discount: a percentage off"),
    ("discount-amount", "Discount: an amount off"),
)
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
_WHOLE_ORDER = 0  # the "on" select's value for the whole order (line ids start at 1)


def appeasement_granted(order: Order, reference: ReferenceData) -> Money:
    """Appeasement already granted on ``order``: APPEASEMENT credit-memo items + appeasement discounts."""
    granted = appeasement_credited(order)
    ids = {d.id for d in order.discounts if d.appeasement}
    if ids:
        try:
            granted = granted + price(order, reference.policy, reference.location_map()).appeasement_discount(ids)
        except PricingError:
            pass
    return granted


class _AmountValidator(Validator):
    """The amount or percentage field, read the way the dialog's chosen kind needs it."""

    def __init__(self, dialog: "AppeasementDialog") -> None:
        super().__init__()
        self.dialog = dialog

    def validate(self, value: str) -> ValidationResult:
        problem = self.dialog.amount_problem(value)
        return self.success() if problem is None else self.failure(problem)


class AppeasementDialog(CareDialog["AppeasementCredit | AppeasementDiscount"]):
    """A credit or a discount, with a reason; shows what is already granted and the role's limit."""

    AUTO_FOCUS = "#kind"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Stage", id="dialog.submit",
                tooltip="Stage the appeasement (Enter in the amount does the same)"),
    ]

    def __init__(self, order: Order, reference: ReferenceData, role: str) -> None:
        super().__init__()
        self.order = order
        self.reference = reference
        self.role = role
        self.currency = order.currency
        self.kind = APPEASEMENT_KINDS[0][0]
        self.granted = appeasement_granted(order, reference)
        self.limit = reference.policy.appeasement.limit(role, order.currency)
        self.remaining = (self.limit - self.granted).max(Money.zero(self.currency))
        self.reasons: tuple[ReasonCode, ...] = reference.policy.reasons_for("appeasement")

    @property
    def is_percent(self) -> bool:
        return self.kind == "discount-percent"

    @property
    def is_discount(self) -> bool:
        return self.kind.startswith("discount")

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Appeasement on {self.order.ref}"), classes="dialog-title")
            yield Static(self._limits_text(), id="limits")
            with RadioSet(id="kind", compact=True):
                for i, (key, label) in enumerate(APPEASEMENT_KINDS):
                    yield RadioButton(label, id=key, value=i == 0)
            lines = [(Text("the whole order"), _WHOLE_ORDER)] + [
                (safe.text(f"line {ln.line_id}: {ln.description}"), ln.line_id)
                for ln in self.order.lines if ln.quantity > 0
            ]
            yield _field("On", Select(lines, allow_blank=False, id="on", compact=True), row_id="on-row")
            yield _field("Amount", Input(placeholder=self._placeholder(), id="amount", compact=True,
                                         validators=[_AmountValidator(self)], restrict=r"[0-9.]*"),
                         row_id="amount-row")
            yield _field("Reason", Select([(safe.text(f"{r.label} ({r.code})"), r.code) for r in self.reasons],
                                          prompt="choose a reason (required)", id="reason", compact=True))
            yield Static("", id="message", classes="message")
        yield CareFooter()

    def on_mount(self) -> None:
        self._kind_changed()

    def _limits_text(self) -> Text:
        out = Text()
        out.append("Already granted on this order: ")
        out.append(fmt(self.granted), "bold")
        out.append(f"\nYour limit ({self.role}): ")
        out.append_text(safe.text(fmt(self.limit), "bold"))
        out.append(" · remaining ")
        out.append(fmt(self.remaining), "bold")
        return out

    def _placeholder(self) -> str:
        if self.is_percent:
            return "percent, e.g. 10 (above 0, at most 100)"
        return f"{self.currency}, e.g. {Money.from_minor(10 * 10 ** minor_units(self.currency), self.currency).amount}"

    # -- reading the form ----------------------------------------------------------------------------
    def amount_problem(self, value: str) -> str | None:
        v = value.strip()
        if not v:
            return "Type the percentage." if self.is_percent else f"Type the amount in {self.currency}."
        if not _AMOUNT.match(v):
            return "Type a number with a dot for decimals, e.g. 10.50."
        d = Decimal(v)
        if d <= 0:
            return "It must be above 0."
        if self.is_percent:
            if d > 100:
                return "A percentage is at most 100."
            if d != d.quantize(Decimal("0.01")):
                return "A percentage has at most 2 decimals."
            return None
        try:
            Money(d, self.currency)
        except MoneyError:
            n = minor_units(self.currency)
            return f"{self.currency} has no decimals." if n == 0 else f"{self.currency} has at most {n} decimals."
        return None

    def value_now(self) -> Money | None:
        """What the appeasement being typed is worth on this order (a percentage priced), or None."""
        field = self.query_one("#amount", Input)
        if self.amount_problem(field.value) is not None:
            return None
        d = Decimal(field.value.strip())
        if not self.is_percent:
            return Money(d, self.currency)
        line_id = self.query_one("#on", Select).selection
        trial = Discount(id="DIALOG-TRIAL", line_id=line_id or None, percent=d, appeasement=True)
        try:
            totals = price(self.order.model_copy(update={"discounts": (*self.order.discounts, trial)}),
                           self.reference.policy, self.reference.location_map())
        except (PricingError, InvalidOperation):
            return None
        return totals.appeasement_discount({"DIALOG-TRIAL"})

    def _inform(self) -> None:
        field = self.query_one("#amount", Input)
        if not field.value.strip():
            self.say("")
            return
        problem = self.amount_problem(field.value)
        if problem:
            self.say(problem, "error")
            return
        worth = self.value_now()
        if worth is None:
            self.say("")
            return
        left = self.remaining - worth
        out = Text(f"Worth {fmt(worth)} on this order; ")
        if left.is_negative:
            out.append(f"over your remaining limit by {fmt(-left)} — the engine will refuse it.", "bold")
            self.say(out, "error")
        else:
            out.append(f"{fmt(left)} of your limit would be left.")
            self.say(out)

    # -- events ---------------------------------------------------------------------------------------
    @on(RadioSet.Changed, "#kind")
    def _radio(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.kind = event.pressed.id or APPEASEMENT_KINDS[0][0]
        self._kind_changed()

    def _kind_changed(self) -> None:
        self.query_one("#on-row").display = self.is_discount
        field = self.query_one("#amount", Input)
        field.placeholder = self._placeholder()
        if field.value:
            field.validate(field.value)
        self._inform()

    @on(Input.Changed, "#amount")
    def _amount_changed(self) -> None:
        self._inform()

    @on(Select.Changed, "#on")
    def _on_changed(self) -> None:
        self._inform()

    @on(Input.Submitted, "#amount")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        field = self.query_one("#amount", Input)
        problem = self.amount_problem(field.value)
        if problem:
            field.validate(field.value)
            self.say(problem, "error")
            field.focus()
            self.app.bell()
            return
        reason = self.query_one("#reason", Select).selection
        if reason is None:
            self.say("Choose a reason first: every appeasement needs one (Enter on the list opens it).", "error")
            self.query_one("#reason", Select).focus()
            self.app.bell()
            return
        d = Decimal(field.value.strip())
        if not self.is_discount:
            settle = "STORE_CREDIT" if self.kind == "credit-store" else "ORIGINAL_PAYMENT"
            self.dismiss(AppeasementCredit(amount=Money(d, self.currency), reason_code=reason, settle_to=settle))
            return
        line_id = self.query_one("#on", Select).selection or None
        if self.is_percent:
            self.dismiss(AppeasementDiscount(reason_code=reason, line_id=line_id, percent=d))
        else:
            self.dismiss(AppeasementDiscount(reason_code=reason, line_id=line_id, amount=Money(d, self.currency)))
