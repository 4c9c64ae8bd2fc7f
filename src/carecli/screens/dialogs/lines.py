"""Dialogs on order lines: quantity, and the variant picker (replace a product, or add a line)."""


from __future__ import annotations


from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalGroup
from textual.validation import Function, Integer, Validator
from textual.widgets import (
    DataTable, Input, Label, Static,
)

from ...backend.contract import ReferenceData
from ...engine.commands import (
    AddLine, ChangeQuantity,
    ReplaceProduct,
)
from ...engine.model import (
    Line, Order, Variant,
)
from ...engine.money import Money
from ...widgets import safe
from ...widgets.footer import CareFooter
from ...widgets.money import delta_text, fmt

from .base import CareDialog, PRINTABLE, R, _DAYS, _field, _first_problem, _int, _title  # noqa: F401


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
        yield CareFooter()

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

    def __init__(self, order: Order, reference: ReferenceData, line: Line | None, *,
                 stock_by_location: bool = False) -> None:
        super().__init__()
        self.stock_by_location = stock_by_location  # a new order names where the units are
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
        yield CareFooter()

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
        if self.stock_by_location:
            where = ", ".join(f"{loc} {n}" for loc, n in sorted(v.stock.items()) if n > 0)
            out.append("\n")
            out.append_text(safe.text(f"Stock: {where}" if where else "No stock at any location"
                                      + (" (backorderable)" if v.backorderable else "")))
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
