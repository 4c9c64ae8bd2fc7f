"""Money as styled, right-aligned text: ``USD 1,234.50``; credits green, charges amber."""

from __future__ import annotations

from rich.text import Text

from ..engine.money import Money


def fmt(m: Money, *, sign: bool = False) -> str:
    amount = m.amount
    s = f"{abs(amount):,}"
    if sign:
        prefix = "+" if amount > 0 else ("−" if amount < 0 else "±")
    else:
        prefix = "−" if amount < 0 else ""
    return f"{m.currency} {prefix}{s}"


def money_text(m: Money | None, style: str = "", *, sign: bool = False, width: int | None = None) -> Text:
    """``width``: the column's; an amount that would not fit drops its currency code rather than be cut
    (a cut figure reads as another figure)."""
    if m is None:
        return Text("—", style="dim", justify="right")
    s = fmt(m, sign=sign)
    if width is not None and len(s) > width:
        s = s.removeprefix(f"{m.currency} ")
    return Text(s, style=style, justify="right")


def delta_text(m: Money, *, credit_is_good: bool = True) -> Text:
    """A change in what the customer pays: negative (money back) green, positive (extra charge) amber."""
    if m.is_zero:
        return Text(fmt(m, sign=True), style="dim", justify="right")
    style = "bold green" if m.is_negative == credit_is_good else "bold yellow"
    return Text(fmt(m, sign=True), style=style, justify="right")
