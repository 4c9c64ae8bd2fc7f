"""Dialogs on fulfilment: delivery address, shipping method, pickup store, and switching between them."""


from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalGroup, VerticalScroll
from textual.widgets import (
    Input, Label, OptionList, Select, Static,
)
from textual.widgets.option_list import Option

from ...backend.contract import ReferenceData
from ...engine.amend import order_locks
from ...engine.commands import (
    ChangeAddress, ChangePickupLocation, ChangeShippingMethod, SwitchFulfilment,
)
from ...engine.model import (
    Address, ClickAndCollect, HomeDelivery, OpeningHours, Order, PickupLocation,
)
from ...engine.money import Money
from ...engine.policy import ShippingMethod
from ...engine.pricing import PricingError, price
from ...engine.rules import address_problems, is_major_change, same_address
from ...widgets import safe
from ...widgets.footer import CareFooter
from ...widgets.money import delta_text, fmt

from .base import CareDialog, PRINTABLE, R, _DAYS, _field, _first_problem, _int, _title  # noqa: F401


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
        yield CareFooter()

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
        yield CareFooter()

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
    """Opening hours Mon–Sun, equal neighbouring days grouped: ``Mon–Fri 10:00–20:00 · Sun closed``.

    The times are the store data's free text, shown as they are (never parsed: ``9am``, ``24h`` or
    nonsense cannot break the line; the caller shows the result through ``safe.text``). A day with
    several spans (a lunch break) lists them all, in the data's order: ``Mon 09:00–12:00, 13:00–18:00``.
    """
    spans: dict[str, list[str]] = {}
    for h in hours:
        spans.setdefault(h.day, []).append(f"{h.opens}–{h.closes}")
    by_day = {day: ", ".join(v) for day, v in spans.items()}
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
        yield CareFooter()

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
