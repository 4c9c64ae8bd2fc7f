"""The amend session's dialogs: each a ``ModalScreen[T]`` that dismisses with what the agent chose.

Every dialog is keyboard-only, fits 80×24 (it scrolls where it must), closes with ``None`` on Escape
and dismisses with the engine's own values (:mod:`carecli.engine.commands`). They only *inform*
(limits, stage locks, money): whether an amendment is allowed is decided by the engine when it is
staged and by the backend when it is committed.

Untrusted text (product names, customer names, addresses, notes, problem sentences quoting what was
typed) is only ever shown through :func:`carecli.widgets.safe.text`; plain strings handed to widgets
here are constants written in this file.

Styles live in ``dialogs.tcss`` beside this module; every dialog loads it through ``CSS_PATH`` (the
sheet is read once and its selectors all start at ``CareDialog`` so nothing leaks onto other screens).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Iterable, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup, VerticalGroup, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import Function, Integer, ValidationResult, Validator
from textual.widgets import (
    Button, DataTable, Footer, Input, Label, OptionList, RadioButton, RadioSet, Select, Static,
)
from textual.widgets.option_list import Option

from ..backend.contract import ReferenceData, VersionConflict
from ..engine.amend import order_locks
from ..engine.commands import (
    AddLine, AppeasementCredit, AppeasementDiscount, ChangeAddress, ChangePickupLocation, ChangeQuantity,
    ChangeShippingMethod, ReplaceProduct, SwitchFulfilment,
)
from ..engine.model import (
    Address, ClickAndCollect, Discount, HomeDelivery, Line, OpeningHours, Order, PickupLocation, Variant,
)
from ..engine.money import Money, MoneyError, minor_units
from ..engine.policy import ReasonCode, ShippingMethod
from ..engine.pricing import PricingError, price
from ..engine.rules import address_problems, is_major_change, same_address
from ..engine.settlement import appeasement_credited
from ..widgets import safe
from ..widgets.money import delta_text, fmt

R = TypeVar("R")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# What an agent may type or paste into a free-text field: no control, escape or bidi characters. An
# ``Input`` shows its value as it is, so a pasted ESC sequence would otherwise reach the terminal.
PRINTABLE = safe.INPUT_RESTRICT


# --------------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------------


class CareDialog(ModalScreen[R]):
    """Base of every dialog: the shared style sheet, Escape to close, and a message line helper."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [
        Binding("escape", "close", "Cancel", id="dialog.cancel",
                tooltip="Close this dialog; nothing is staged or changed"),
    ]

    def action_close(self) -> None:
        self.dismiss(None)

    def say(self, message: str | Text, kind: str = "info", *, target: str = "#message") -> None:
        """Show ``message`` (always as literal text) on a message line; ``kind`` info, error or ok."""
        line = self.query_one(target, Static)
        line.update(message if isinstance(message, Text) else safe.text(message, one_line=False))
        line.set_class(kind == "error", "-error")
        line.set_class(kind == "ok", "-ok")


def _title(*parts: str | Text) -> Text:
    """A dialog title: constant parts bold, untrusted parts (given as Text) kept literal."""
    out = Text(style="bold")
    for p in parts:
        out.append_text(p if isinstance(p, Text) else Text(p))
    return out


def _field(label: str, widget: Input | Select, *, row_id: str | None = None) -> HorizontalGroup:
    """A one-row form field: a fixed-width label (a constant) and its input."""
    return HorizontalGroup(Label(label, classes="field-label"), widget, classes="field", id=row_id)


def _first_problem(result: ValidationResult | None) -> str | None:
    if result is None or result.is_valid:
        return None
    return next(iter(result.failure_descriptions), "not valid")


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------------
# 1. Quantity
# --------------------------------------------------------------------------------------------------


def floor_reason(line: Line, minimum: int) -> str:
    """Why a line cannot go below ``minimum``: the most advanced bucket that holds it there."""
    for count, what in ((line.delivered, "delivered"), (line.ready, "ready for collection"),
                        (line.dispatched, "dispatched"), (line.packed, "packed"), (line.picked, "picked")):
        if count and count >= minimum:
            return f"{count} already {what}"
    return "a line keeps at least 1 unit; to take it off, remove the line instead"


class QuantityDialog(CareDialog[ChangeQuantity]):
    """The new quantity of one line, between what is already fulfilled and policy's maximum."""

    AUTO_FOCUS = "#quantity"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Stage", id="dialog.submit",
                tooltip="Stage the new quantity (Enter in the field does the same)"),
    ]

    def __init__(self, line: Line, min_quantity: int, max_quantity: int) -> None:
        super().__init__()
        self.line = line
        self.min_quantity = max(1, int(min_quantity))
        self.max_quantity = max(self.min_quantity, int(max_quantity))
        self.why_min = floor_reason(line, self.min_quantity)

    def compose(self) -> ComposeResult:
        ln = self.line
        current = ln.quantity
        validators: list[Validator] = [
            Integer(failure_description="Type a whole number."),
            Integer(minimum=self.min_quantity,
                    failure_description=f"Not below {self.min_quantity}: {self.why_min}."),
            Integer(maximum=self.max_quantity,
                    failure_description=f"Not above {self.max_quantity}: the most one line may have (policy)."),
            Function(lambda v: _int(v) != current,
                     failure_description=f"Line {ln.line_id} already has quantity {current}; type another."),
        ]
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Change quantity — line {ln.line_id}: ", safe.text(ln.description)),
                        classes="dialog-title")
            yield Static(Text(f"Now {current}. Allowed {self.min_quantity} to {self.max_quantity}."),
                         classes="muted")
            yield _field("Quantity", Input(str(current), type="integer", id="quantity", validators=validators,
                                           compact=True, select_on_focus=True))
            yield Static(self._limits(), id="message", classes="message")
        yield Footer()

    def _limits(self) -> Text:
        return Text(f"Not below {self.min_quantity} ({self.why_min}); not above {self.max_quantity} "
                    "(policy maximum).")

    @on(Input.Changed, "#quantity")
    def _changed(self, event: Input.Changed) -> None:
        problem = _first_problem(event.validation_result)
        if problem and _int(event.value) != self.line.quantity:  # "unchanged" is told on Enter only
            self.say(problem, "error")
        else:
            self.say(self._limits())

    @on(Input.Submitted, "#quantity")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        field = self.query_one("#quantity", Input)
        problem = _first_problem(field.validate(field.value))
        value = _int(field.value)
        if problem or value is None:
            self.say(problem or "Type a whole number.", "error")
            self.app.bell()
            return
        self.dismiss(ChangeQuantity(line_id=self.line.line_id, quantity=value))


# --------------------------------------------------------------------------------------------------
# 2. Variant picker: replace a line's product, or add a line
# --------------------------------------------------------------------------------------------------


def _signed(m: Money) -> Text:
    """A price difference without its currency (the column says it), signed and coloured."""
    styled = delta_text(m)
    return Text(fmt(m, sign=True).removeprefix(f"{m.currency} "), style=styled.style, justify="right")


class _FilterInput(Input):
    BINDINGS = [
        Binding("down", "screen.focus_table", "To list", id="dialog.to_list", show=False,
                tooltip="Move from the filter into the list"),
    ]


class VariantDialog(CareDialog["ReplaceProduct | AddLine"]):
    """The catalog picker. With ``line``: a size/colour swap (siblings first); without: add a line."""

    MAX_ROWS = 200  # a filter narrows the catalog; the table never holds more than this
    DIALOG_WIDTH = 100  # as .dialog.wide in dialogs.tcss
    BINDINGS = [
        Binding("ctrl+s", "choose", "Choose", id="dialog.submit",
                tooltip="Choose the highlighted product (Enter on a row does the same)"),
        Binding("f2", "focus_filter", "Filter", id="dialog.filter",
                tooltip="Type to search the whole catalog by name or sku"),
    ]

    def __init__(self, order: Order, reference: ReferenceData, line: Line | None) -> None:
        super().__init__()
        self.order = order
        self.reference = reference
        self.line = line
        self.catalog = reference.catalog()
        self.max_quantity = reference.policy.amendments.max_quantity
        own = self.catalog.get(line.sku) if line else None
        self.product_id = own.product_id if own else (line.sku.split("-")[0] if line else None)
        # A size swap keeps the colour (and a colour swap the size): the variants sharing most attributes
        # with the line's come first, in catalog order otherwise.
        self._attrs = own.attributes if own else {}
        self.same_product = sorted(
            (v for v in reference.variants if line and v.product_id == self.product_id and v.sku != line.sku),
            key=lambda v: -self._shared(v))
        self._desc_width = 0

    # -- layout ---------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog wide", id="dialog"):
            if self.line is not None:
                yield Label(_title(f"Replace line {self.line.line_id}: ", safe.text(self.line.description)),
                            classes="dialog-title")
            else:
                yield Label(_title(f"Add a line to {self.order.ref}"), classes="dialog-title")
            yield _field("Filter", _FilterInput(placeholder="name or sku, e.g. jacket or JKT-L", id="filter",
                                                compact=True, restrict=PRINTABLE))
            yield DataTable(id="variants", cursor_type="row", zebra_stripes=True)
            yield Static("", id="message", classes="message")
            if self.line is None:
                yield _field("Quantity", Input("1", type="integer", id="add-quantity", compact=True,
                                               validators=[Integer(1, self.max_quantity,
                                                                   f"Type a whole number from 1 to "
                                                                   f"{self.max_quantity}.")]))
        yield Footer()

    def on_mount(self) -> None:
        self._columns()
        table = self.query_one("#variants", DataTable)
        if self.line is not None and table.row_count:
            table.focus()
        else:
            self.query_one("#filter", Input).focus()

    def on_resize(self) -> None:
        self._columns()

    def _columns(self) -> None:
        """(Re)build the columns so the description takes what the terminal's width leaves."""
        width = min(self.DIALOG_WIDTH, self.app.size.width) - 4 - 1  # border, padding, scrollbar
        fixed = [("SKU", "sku", 15), (f"Unit {self.order.currency}", "unit", 8)]
        if self.line is not None:
            fixed.append(("vs now", "diff", 7))
        fixed += [("Stock", "stock", 5), ("Notes", "notes", 15)]
        cells = len(fixed) + 1
        desc = max(12, min(40, width - sum(w for *_, w in fixed) - 2 * cells))
        if desc == self._desc_width:
            return
        self._desc_width = desc
        table = self.query_one("#variants", DataTable)
        table.clear(columns=True)
        for label, key, w in fixed[:1]:
            table.add_column(Text(label), key=key, width=w)
        table.add_column(Text("Description"), key="desc", width=desc)
        for label, key, w in fixed[1:]:
            table.add_column(Text(label), key=key, width=w)
        self._fill()

    # -- data -----------------------------------------------------------------------------------------
    def notes(self, v: Variant) -> list[str]:
        out = []
        if self.order.currency not in v.prices:
            out.append(f"no price in {self.order.currency}")
        if not v.sellable:
            out.append("not sold")
        if v.available <= 0:
            out.append("backorder" if v.backorderable else "out of stock")
        return out

    def _shared(self, v: Variant) -> int:
        """Closeness to the line's variant: a shared colour (or any non-size attribute) weighs more than a
        shared size, since the usual ask is the same item in another size."""
        return sum(1 if k == "size" else 2 for k, val in v.attributes.items() if self._attrs.get(k) == val)

    def describe(self, v: Variant) -> str:
        """The description cell: for another variant of the line's product only what differs (size,
        colour) — the title names the product, and at 80 columns the name would push them out of sight."""
        if self.line is not None and v.product_id == self.product_id and v.attributes:
            return " / ".join(v.attributes[k] for k in sorted(v.attributes))
        return v.description

    def problem(self, v: Variant) -> str | None:
        """Why ``v`` cannot be chosen here (the engine would refuse it), or None."""
        cur = self.order.currency
        if cur not in v.prices:
            return f"{v.sku} has no price in {cur}; it cannot be sold on this order"
        if not v.sellable:
            return f"{v.sku} is not sold any more"
        if v.available <= 0 and not v.backorderable:
            return f"{v.sku} is out of stock and cannot be backordered"
        return None

    def rows(self, query: str) -> list[Variant]:
        terms = query.casefold().split()
        if not terms:
            base = self.same_product if self.line is not None else list(self.reference.variants)
        else:
            def hit(v: Variant) -> bool:
                hay = f"{v.sku} {v.description}".casefold()
                return all(t in hay for t in terms)

            base = [v for v in self.reference.variants if hit(v)]
            if self.line is not None:
                base = [v for v in base if v.sku != self.line.sku]
                # stable: the line's product first (closest variants first), then the rest as found
                base.sort(key=lambda v: (v.product_id != self.product_id, -self._shared(v)))
        return base

    def _fill(self) -> None:
        table = self.query_one("#variants", DataTable)
        table.clear()
        query = self.query_one("#filter", Input).value
        found = self.rows(query)
        cur = self.order.currency
        for v in found[: self.MAX_ROWS]:
            unit = v.prices.get(cur)
            cells: list[Text] = [
                safe.text(v.sku), safe.text(self.describe(v)),
                Text(f"{unit.amount:,}", justify="right") if unit is not None else Text("—", "dim", justify="right"),
            ]
            if self.line is not None:
                cells.append(_signed(unit - self.line.unit_price) if unit is not None
                             and unit.currency == self.line.unit_price.currency else Text("—", "dim"))
            cells.append(Text(str(v.available), justify="right"))
            notes = self.notes(v)
            cells.append(Text(", ".join(notes), "italic" if self.problem(v) is None else "dim"))
            table.add_row(*cells, key=v.sku)
        if not found:
            self.say("Nothing matches. Type part of a name or sku." if query.strip() else
                     "No other sizes or colours of this product. Type in the filter to search the catalog.")
        elif len(found) > self.MAX_ROWS:
            self.say(f"Showing {self.MAX_ROWS} of {len(found)}; type more to narrow the list.")
        else:
            self._describe_row()

    def highlighted(self) -> Variant | None:
        table = self.query_one("#variants", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.catalog.get(str(key))

    def _describe_row(self) -> None:
        v = self.highlighted()
        if v is None:
            return
        why = self.problem(v)
        if why:
            self.say(why, "error")
            return
        unit = v.prices[self.order.currency]
        out = safe.text(f"{v.sku} · {v.description}: {fmt(unit)} each")
        if self.line is not None:
            out.append(", ")
            out.append_text(delta_text(unit - self.line.unit_price))
            out.append(" per unit")
        out.append(". Enter chooses it.")
        self.say(out)

    # -- events ---------------------------------------------------------------------------------------
    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose()

    @on(Input.Submitted, "#add-quantity")
    def _quantity_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose()

    @on(DataTable.RowHighlighted, "#variants")
    def _row_highlighted(self) -> None:
        self._describe_row()

    @on(DataTable.RowSelected, "#variants")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.choose(self.catalog.get(str(event.row_key.value)))

    def action_focus_table(self) -> None:
        self.query_one("#variants", DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_choose(self) -> None:
        self.choose(self.highlighted())

    def choose(self, v: Variant | None) -> None:
        if v is None:
            self.say("Nothing is highlighted; type in the filter and move to a row.", "error")
            return
        why = self.problem(v)
        if why:
            self.say(why, "error")
            self.app.bell()
            return
        if self.line is not None:
            self.dismiss(ReplaceProduct(line_id=self.line.line_id, sku=v.sku))
            return
        field = self.query_one("#add-quantity", Input)
        problem = _first_problem(field.validate(field.value))
        quantity = _int(field.value)
        if problem or quantity is None:
            self.say(problem or "Type a whole number.", "error")
            field.focus()
            return
        self.dismiss(AddLine(sku=v.sku, quantity=quantity))


# --------------------------------------------------------------------------------------------------
# 3. Address
# --------------------------------------------------------------------------------------------------

ADDRESS_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Name"), ("line1", "Street"), ("line2", "Second line"), ("city", "City"), ("region", "State"),
    ("postcode", "Postcode"), ("country", "Country"), ("phone", "Phone"),
)
_FIELD_LABEL = dict(ADDRESS_FIELDS)

MINOR_TEXT = "This is a minor change (name, street, phone): allowed until dispatch."
MAJOR_TEXT = ("This is a major change (postcode, city, state, country): re-rates tax and shipping, "
              "allowed until picking starts.")


def _methods_in(policy_methods: Iterable[ShippingMethod], currency: str) -> list[ShippingMethod]:
    return [m for m in policy_methods if currency in m.fee]


def _method_label(m: ShippingMethod, currency: str) -> Text:
    out = safe.text(m.name)
    out.append(f" · {fmt(m.fee[currency])}")
    if currency in m.free_over:
        out.append(f", free over {fmt(m.free_over[currency])}")
    return out


class AddressDialog(CareDialog["ChangeAddress | SwitchFulfilment"]):
    """The delivery address as a form, validated as typed; tells a minor from a major change."""

    AUTO_FOCUS = "#addr-name"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Stage", id="dialog.submit",
                tooltip="Stage the address (Enter on the last field does the same)"),
    ]

    def __init__(self, order: Order, reference: ReferenceData, *, switching: bool = False) -> None:
        super().__init__()
        self.order = order
        self.reference = reference
        market = reference.policy.market(order.market)
        f = order.fulfilment
        self.current: Address | None = f.address if isinstance(f, HomeDelivery) else None
        self.switching = switching or self.current is None  # a click & collect order gets an address by a switch
        self.market_country = market.country if market else (self.current.country if self.current else "")
        if self.switching:
            self.initial = {name: "" for name, _ in ADDRESS_FIELDS} | {"country": self.market_country}
        else:
            # Cleaned: an Input shows its value raw. A stored value that needed cleaning was invalid
            # anyway (address_problems refuses control characters), so the form offers the fix.
            self.initial = {name: safe.clean(getattr(self.current, name)) for name, _ in ADDRESS_FIELDS}
        self.methods = _methods_in(reference.policy.shipping_methods, order.currency)
        self.tried = False  # after a refused submit every field's problem is shown, touched or not
        self._shown: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            if self.switching:
                yield Label(_title(f"Switch {self.order.ref} to home delivery"), classes="dialog-title")
            else:
                yield Label(_title(f"Delivery address of {self.order.ref}"), classes="dialog-title")
            with VerticalScroll(id="address-form", classes="form"):
                for name, label in ADDRESS_FIELDS:
                    yield _field(label, Input(self.initial[name], id=f"addr-{name}", compact=True,
                                              classes="address-field", select_on_focus=False,
                                              restrict=PRINTABLE))
                    yield Static("", id=f"addr-{name}-problem", classes="problem")
                if self.switching:
                    options = [(_method_label(m, self.order.currency), m.code) for m in self.methods]
                    yield _field("Shipping", Select(options, allow_blank=not options, id="addr-method",
                                                    compact=True, prompt="No shipping method in this currency"))
            yield Static("", id="address-kind", classes="message")
            yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_problems()

    # -- reading the form ----------------------------------------------------------------------------
    @staticmethod
    def _normal(raw: dict[str, str]) -> dict[str, str]:
        out = {name: raw[name].strip() for name, _ in ADDRESS_FIELDS}
        out["country"] = out["country"].upper()
        out["region"] = out["region"].upper()
        return out

    def values(self) -> dict[str, str]:
        return self._normal({name: self.query_one(f"#addr-{name}", Input).value for name, _ in ADDRESS_FIELDS})

    def initial_values(self) -> dict[str, str]:
        return self._normal(self.initial)

    def address(self) -> Address:
        return Address(**self.values())

    def problems(self) -> dict[str, str]:
        """field → the first problem with it (the engine's sentence, plus the market's country)."""
        a = self.address()
        out: dict[str, str] = {}
        for name, problem in address_problems(a):
            out.setdefault(name, problem)
        if "country" not in out and self.market_country and a.country and a.country != self.market_country:
            out["country"] = (f"order {self.order.ref} ships within its market's country, "
                              f"{self.market_country}")
        return out

    def refresh_problems(self) -> dict[str, str]:
        values = self.values()
        problems = self.problems()
        initial = self.initial_values()
        for name, label in ADDRESS_FIELDS:
            # A field's problem shows once it is edited (or after a refused submit): an empty form for a
            # switch is not a wall of "missing" on the first paint.
            shown = problems.get(name) if (self.tried or values[name] != initial[name]) else None
            self._show(f"#addr-{name}-problem", safe.text(f"{label}: {shown}") if shown else Text(""))
            self.query_one(f"#addr-{name}-problem").set_class(bool(shown), "-shown")
            self.query_one(f"#addr-{name}", Input).set_class(bool(shown), "-invalid")
        self._show("#address-kind", self.kind_text())
        return problems

    def _show(self, selector: str, content: Text) -> None:
        """Update a line only when its text changes: each update re-lays the form out (per keystroke)."""
        if self._shown.get(selector) != content:
            self._shown[selector] = content
            self.query_one(selector, Static).update(content)

    def kind_text(self) -> Text:
        if self.switching or self.current is None:
            return Text("Switching to home delivery re-rates tax and shipping; allowed until picking starts.")
        new = self.address()
        if same_address(self.current, new):
            return Text("No change yet.", "dim")
        if is_major_change(self.current, new):
            out = Text(MAJOR_TEXT)
            why = order_locks(self.order).get("address_major")
            if why:
                out.append("\nNot allowed now: ", "bold")
                out.append_text(safe.text(why))
            return out
        return Text(MINOR_TEXT)

    # -- events ---------------------------------------------------------------------------------------
    @on(Input.Changed, ".address-field")
    def _changed(self) -> None:
        self.refresh_problems()
        if self._shown.get("#message"):
            self._shown["#message"] = Text("")
            self.say("")

    def say(self, message: str | Text, kind: str = "info", *, target: str = "#message") -> None:
        self._shown[target] = message if isinstance(message, Text) else safe.text(message)
        super().say(message, kind, target=target)

    @on(Input.Submitted, ".address-field")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"addr-{ADDRESS_FIELDS[-1][0]}":
            self.action_submit()
        else:
            self.focus_next()

    def action_submit(self) -> None:
        self.tried = True
        problems = self.refresh_problems()
        if problems:
            first = next(name for name, _ in ADDRESS_FIELDS if name in problems)
            self.say(f"Not yet: {len(problems)} problem(s) — {_FIELD_LABEL[first]}: {problems[first]}", "error")
            self.query_one(f"#addr-{first}", Input).focus()
            self.app.bell()
            return
        address = self.address()
        if self.switching or self.current is None:
            method = self.query_one("#addr-method", Select).selection
            if method is None:
                self.say(f"No shipping method has a fee in {self.order.currency}.", "error")
                return
            self.dismiss(SwitchFulfilment(fulfilment=HomeDelivery(address=address, shipping_method=method)))
            return
        if same_address(self.current, address):
            self.say("The address is unchanged; edit a field or press Escape.", "error")
            self.app.bell()
            return
        self.dismiss(ChangeAddress(address=address))


# --------------------------------------------------------------------------------------------------
# 4. Shipping method
# --------------------------------------------------------------------------------------------------


def shipping_fee_text(order: Order, reference: ReferenceData, method: ShippingMethod) -> tuple[Text, Money | None]:
    """The fee ``method`` would cost on ``order`` as it stands, and the order's grand total with it."""
    f = order.fulfilment
    if not isinstance(f, HomeDelivery):
        return Text("—", "dim"), None
    rated = order.model_copy(update={"fulfilment": f.model_copy(update={"shipping_method": method.code})})
    try:
        totals = price(rated, reference.policy, reference.location_map())
    except PricingError as e:
        return safe.text(f"cannot be priced: {e.message}", "dim"), None
    if totals.shipping.is_zero:
        threshold = method.free_over.get(order.currency)
        label = f"free (over {fmt(threshold)})" if threshold is not None else "free"
    else:
        label = fmt(totals.shipping)
    return Text(label), totals.grand_total


class ShippingDialog(CareDialog[ChangeShippingMethod]):
    """The shipping methods with a fee in the order's currency, each re-rated for this order."""

    AUTO_FOCUS = "#methods"

    def __init__(self, order: Order, reference: ReferenceData) -> None:
        super().__init__()
        self.order = order
        self.reference = reference
        f = order.fulfilment
        self.current = f.shipping_method if isinstance(f, HomeDelivery) else None
        self.methods = _methods_in(reference.policy.shipping_methods, order.currency)

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Shipping method of {self.order.ref}"), classes="dialog-title")
            yield OptionList(*self._options(), id="methods")
            yield Static(Text("Fees are re-rated for this order; the total includes tax on shipping where "
                              "it applies. Enter chooses."), id="message", classes="message")
        yield Footer()

    def _options(self) -> list[Option]:
        try:
            now_total: Money | None = price(self.order, self.reference.policy,
                                            self.reference.location_map()).grand_total
        except PricingError:
            now_total = None
        out = []
        for m in self.methods:
            is_current = m.code == self.current
            fee, total = shipping_fee_text(self.order, self.reference, m)
            prompt = Text("● " if is_current else "  ", "bold")
            prompt.append_text(safe.text(m.name, "bold"))
            if m.carrier:
                prompt.append("  ")
                prompt.append_text(safe.text(m.carrier, "dim"))
            prompt.append("\n    ")
            prompt.append_text(fee)
            if is_current:
                prompt.append("  (current)", "italic")
            elif total is not None and now_total is not None:
                prompt.append("  order total ")
                prompt.append_text(delta_text(total - now_total))
            out.append(Option(prompt, id=m.code))
        return out

    def on_mount(self) -> None:
        options = self.query_one("#methods", OptionList)
        codes = [m.code for m in self.methods]
        if self.current in codes:
            options.highlighted = codes.index(self.current)
        if not codes:
            self.say(f"No shipping method has a fee in {self.order.currency}.", "error")

    @on(OptionList.OptionSelected, "#methods")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        code = event.option.id
        if code is None:
            return
        if code == self.current:
            m = self.reference.policy.shipping_method(code)
            self.say(safe.text(f"The order already ships by {m.name if m else code}; choose another method "
                               "or press Escape."), "error")
            self.app.bell()
            return
        self.dismiss(ChangeShippingMethod(method=code))


# --------------------------------------------------------------------------------------------------
# 5. Pickup store
# --------------------------------------------------------------------------------------------------


def hours_text(hours: Iterable[OpeningHours]) -> str:
    """Opening hours Mon–Sun, equal neighbouring days grouped: ``Mon–Fri 10:00–20:00 · Sun closed``."""
    by_day = {h.day: f"{h.opens}–{h.closes}" for h in hours}
    if not by_day:
        return "opening hours not known"
    groups: list[tuple[str, str, str]] = []
    for day in _DAYS:
        value = by_day.get(day, "closed")
        if groups and groups[-1][2] == value:
            groups[-1] = (groups[-1][0], day, value)
        else:
            groups.append((day, day, value))
    return " · ".join(f"{a}–{b} {v}" if a != b else f"{a} {v}" for a, b, v in groups)


class PickupDialog(CareDialog["ChangePickupLocation | SwitchFulfilment"]):
    """The active click & collect stores in the order's market, with address and opening hours."""

    AUTO_FOCUS = "#stores"

    def __init__(self, order: Order, reference: ReferenceData, *, switching: bool = False) -> None:
        super().__init__()
        self.order = order
        self.reference = reference
        self.switching = switching
        market = reference.policy.market(order.market)
        f = order.fulfilment
        self.country = market.country if market else ""
        self.current = f.location_id if isinstance(f, ClickAndCollect) else None
        self.stores: list[PickupLocation] = [
            loc for loc in reference.locations if loc.active and loc.address.country == self.country
        ]

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            title = (f"Switch {self.order.ref} to click & collect" if self.switching
                     else f"Pickup store of {self.order.ref}")
            yield Label(_title(title), classes="dialog-title")
            yield OptionList(*self._options(), id="stores")
            hint = ("Collection is free; tax is re-rated at the store. Enter chooses." if self.switching
                    else "Enter chooses the highlighted store.")
            yield Static(Text(hint), id="message", classes="message")
        yield Footer()

    def _options(self) -> list[Option]:
        out = []
        for loc in self.stores:
            is_current = loc.id == self.current
            prompt = Text("● " if is_current else "  ", "bold")
            prompt.append_text(safe.text(loc.name, "bold"))
            prompt.append("  ")
            prompt.append_text(safe.text(loc.id, "dim"))
            if is_current:
                prompt.append("  (current)", "italic")
            prompt.append("\n    ")
            prompt.append_text(safe.text(loc.address.one_line()))
            prompt.append("\n    ")
            prompt.append_text(safe.text(hours_text(loc.hours), "dim"))
            out.append(Option(prompt, id=loc.id))
        return out

    def on_mount(self) -> None:
        ids = [loc.id for loc in self.stores]
        if self.current in ids:
            self.query_one("#stores", OptionList).highlighted = ids.index(self.current)
        if not ids:
            self.say(f"No click & collect store is open in {self.country or 'this market'}.", "error")

    @on(OptionList.OptionSelected, "#stores")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        loc_id = event.option.id
        if loc_id is None:
            return
        if self.switching:
            self.dismiss(SwitchFulfilment(fulfilment=ClickAndCollect(location_id=loc_id)))
            return
        if loc_id == self.current:
            self.say("The order is already collected there; choose another store or press Escape.", "error")
            self.app.bell()
            return
        self.dismiss(ChangePickupLocation(location_id=loc_id))


# --------------------------------------------------------------------------------------------------
# 6. Switch home delivery ↔ click & collect
# --------------------------------------------------------------------------------------------------


def SwitchDialog(order: Order, reference: ReferenceData) -> PickupDialog | AddressDialog:  # noqa: N802
    """The dialog that switches the order's fulfilment the other way (a factory, named as a class)."""
    if isinstance(order.fulfilment, HomeDelivery):
        return PickupDialog(order, reference, switching=True)
    return AddressDialog(order, reference, switching=True)


# --------------------------------------------------------------------------------------------------
# 7. Confirm
# --------------------------------------------------------------------------------------------------


class ConfirmDialog(CareDialog[bool]):
    """Yes or no. Enter/Y confirms (True); Escape/N declines (False)."""

    AUTO_FOCUS = "#yes"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Yes, go ahead"),
        Binding("n", "answer(False)", "No", id="confirm.no", tooltip="No, leave things as they are"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog narrow", id="dialog"):
            yield Label(safe.text(self.title_text, "bold"), classes="dialog-title")
            yield Static(safe.text(self.body, one_line=False), id="body")
            with HorizontalGroup(classes="buttons"):
                yield Button("Yes (Y)", id="yes", variant="primary")
                yield Button("No (N)", id="no")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(bool(yes))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")


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
        yield Footer()

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


# --------------------------------------------------------------------------------------------------
# 9. Commit
# --------------------------------------------------------------------------------------------------


def money_effect(delta: Money) -> str:
    """The delta in words: who pays whom."""
    if delta.is_negative:
        return f"The customer gets {fmt(-delta)} back."
    if delta.is_positive:
        return f"The customer is charged {fmt(delta)} more."
    return "No money moves."


class CommitDialog(CareDialog["tuple[str, str]"]):
    """The last step: the staged changes, the money in words, a reason (required) and a note."""

    AUTO_FOCUS = "#reason"
    NOTE_MAX = 4000
    BINDINGS = [
        Binding("ctrl+s", "submit", "Commit", id="dialog.submit",
                tooltip="Commit the staged changes with this reason and note"),
    ]

    def __init__(self, reasons: list[ReasonCode], changes: list[str], delta: Money) -> None:
        super().__init__()
        seen: set[str] = set()
        self.reasons = [r for r in reasons if not (r.code in seen or seen.add(r.code))]
        self.changes = list(changes)
        self.delta = delta

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog", id="dialog"):
            yield Label(_title(f"Commit {len(self.changes)} change(s)"), classes="dialog-title")
            body = Text()
            for i, change in enumerate(self.changes, 1):
                if i > 1:
                    body.append("\n")
                body.append(f"{i}. ", "dim")
                body.append_text(safe.text(change))
            with VerticalScroll(id="changes"):
                yield Static(body)
            yield Static(Text(money_effect(self.delta), "bold"), id="effect")
            yield _field("Reason", Select([(safe.text(f"{r.label} ({r.code})"), r.code) for r in self.reasons],
                                          prompt="choose a reason (required)", id="reason", compact=True))
            yield _field("Note", Input(placeholder="optional, for the audit record", id="note", compact=True,
                                       max_length=self.NOTE_MAX, restrict=PRINTABLE))
            yield Static("", id="message", classes="message")
            with HorizontalGroup(classes="buttons"):
                yield Button("Commit", id="confirm", variant="primary")
                yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        if not self.reasons:
            self.say("No reason code is set up for this kind of change; ask for the policy to be fixed.", "error")

    @on(Input.Submitted, "#note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_submit()
        else:
            self.dismiss(None)

    @on(Select.Changed, "#reason")
    def _reason_changed(self) -> None:
        self.say("")

    def action_submit(self) -> None:
        reason = self.query_one("#reason", Select).selection
        if reason is None:
            self.say("Choose a reason code first: a commit needs one (Enter on the list opens it).", "error")
            self.query_one("#reason", Select).focus()
            self.app.bell()
            return
        note = self.query_one("#note", Input).value.strip()[: self.NOTE_MAX]
        self.dismiss((str(reason), note))


# --------------------------------------------------------------------------------------------------
# 10. Version conflict
# --------------------------------------------------------------------------------------------------


def conflict_text(ref: str, error: VersionConflict) -> str:
    before = error.expected_version
    versions = (f"version {before} → {error.current_version}" if before is not None
                else f"now at version {error.current_version}")
    return (f"Order {ref} was changed by someone else ({versions}). Your staged changes are kept and the "
            "preview is being recomputed on the new version. Check the preview, then commit again.")


class ConflictDialog(CareDialog[None]):
    """Someone else changed the order between preview and commit: say so, and what happens next."""

    AUTO_FOCUS = "#ok"

    def __init__(self, ref: str, error: VersionConflict) -> None:
        super().__init__()
        self.ref = ref
        self.error = error

    def compose(self) -> ComposeResult:
        with VerticalGroup(classes="dialog narrow", id="dialog"):
            yield Label(_title("The order changed"), classes="dialog-title")
            yield Static(safe.text(conflict_text(self.ref, self.error), one_line=False), id="body")
            with HorizontalGroup(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
        yield Footer()

    @on(Button.Pressed, "#ok")
    def _ok(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)


__all__ = [
    "CareDialog", "QuantityDialog", "VariantDialog", "AddressDialog", "ShippingDialog", "PickupDialog",
    "SwitchDialog", "ConfirmDialog", "AppeasementDialog", "CommitDialog", "ConflictDialog",
    "floor_reason", "hours_text", "money_effect", "conflict_text", "appeasement_granted",
]
