"""What the order's Returns tab and its dialogs both show: the refund breakdown, an exchange's
settlement and the list of return orders, in tables and words; and the idempotency key every return
write carries."""

from __future__ import annotations

import uuid

from rich.table import Table
from rich.text import Text

from ..engine.model import Order
from ..engine.money import Money
from ..engine.returns import ExchangeSettlement, RefundBreakdown, ReturnOrder
from ..widgets import safe
from ..widgets.money import fmt


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
