"""The money waterfall: what the order costs before → after a change, and what money moves.

Built as Rich renderables from an engine ``Plan`` (or from current totals alone); every cell is a
``Text``, so nothing from the data can be read as markup.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..engine.model import BillingAccount, CreditMemo, Document, Invoice, Order, Payment, Refund, StoreCredit
from ..engine.money import Money
from ..engine.plan import Plan
from ..engine.pricing import Totals
from ..engine.settlement import ledger_sums
from .money import delta_text, money_text
from .safe import text


def _rows(t: Totals) -> list[tuple[str, Money]]:
    inclusive = t.tax_mode == "INCLUSIVE"
    return [
        ("Items", t.subtotal),
        ("Discounts", -t.discounts),
        ("Shipping", t.shipping),
        ("Tax (included)" if inclusive else "Tax", t.tax),
        ("Total", t.grand_total),
    ]


def paid(order: Order) -> Money:
    s = ledger_sums(order.documents, order.currency)
    return s.captured - s.refunded


def totals_table(t: Totals, order: Order) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 1), expand=False)
    table.add_column("what", style="dim")
    table.add_column("amount", justify="right")
    for label, m in _rows(t):
        table.add_row(Text(label), money_text(m, "bold" if label == "Total" else ""))
    table.add_row(Text("Paid"), money_text(paid(order)))
    table.add_row(text(f"Tax at {t.jurisdiction}", "dim"), Text(f"{t.rate * 100:.3f}".rstrip("0").rstrip(".") + " %",
                                                                  "dim", justify="right"))
    return table


def waterfall_table(p: Plan) -> Table:
    table = Table(box=None, padding=(0, 1), expand=False, header_style="bold")
    table.add_column("")
    table.add_column("Before", justify="right")
    table.add_column("After", justify="right")
    table.add_column("Change", justify="right")
    before, after = p.totals_before, p.totals_after
    assert before is not None and after is not None
    for (label, b), (_, a) in zip(_rows(before), _rows(after)):
        style = "bold" if label == "Total" else ""
        table.add_row(Text(label, style), money_text(b, style), money_text(a, style), delta_text(a - b))
    pb = paid(p.order_before)
    pa = paid(p.order_after) if p.order_after else pb
    table.add_row(Text("Paid"), money_text(pb), money_text(pa), delta_text(pa - pb, credit_is_good=True))
    return table


_INVOICE_WORDS = {"ORDER": "Order invoice", "SUPPLEMENTARY": "Supplementary invoice",
                  "REPLACEMENT": "Replacement invoice"}


def document_lines(docs: Sequence[Document], account: BillingAccount, *, planned: bool = False) -> list[Text]:
    """One line per document (with its items). ``planned``: documents a commit will create, told as
    actions ("Charge …"); otherwise documents on the ledger, told as facts ("Captured …")."""
    labels = {pm.id: pm.label() for pm in account.payment_methods}
    out: list[Text] = []
    for d in docs:
        if isinstance(d, CreditMemo):
            out.append(text(f"Credit memo {d.id} ({d.type.lower()}) for {d.total}", "bold green"))
            for it in d.items:
                out.append(text(f"    {it.description}: {it.amount}", "dim"))
        elif isinstance(d, Invoice):
            out.append(text(f"{_INVOICE_WORDS.get(d.type, 'Invoice')} {d.id} for {d.total}",
                            "bold yellow" if d.type == "SUPPLEMENTARY" else "bold"))
            for it in d.items:
                out.append(text(f"    {it.description}: {it.amount}", "dim"))
        elif isinstance(d, Payment):
            card = labels.get(d.payment_method_id, d.payment_method_id)
            out.append(text(f"Charge {d.amount} to {card}" if planned else f"Captured {d.amount} from {card}",
                            "yellow" if planned else ""))
        elif isinstance(d, Refund):
            card = labels.get(d.payment_method_id, d.payment_method_id)
            out.append(text(f"Refund {d.amount} to {card}" if planned else f"Refunded {d.amount} to {card}", "green"))
        elif isinstance(d, StoreCredit):
            out.append(text(f"Store credit {d.amount}" + ("" if planned else " issued"), "green"))
    return out


def preview(p: Plan, account: BillingAccount) -> RenderableType:
    """The whole preview: waterfall, documents, and the message the customer will receive."""
    parts: list[RenderableType] = [waterfall_table(p), Text("")]
    docs = document_lines(p.documents, account, planned=True)
    if docs:
        parts.append(Text("Money that moves", "bold underline"))
        parts.extend(docs)
    else:
        parts.append(Text("No money moves: the total is unchanged (the audit record says so).", "dim"))
    parts.append(Text(""))
    for n in p.notifications[:2]:
        parts.append(text(f"The customer will receive ({n.channel} to {n.to}): {n.subject}", "bold underline"))
        parts.append(text(n.body, one_line=False))
    if not p.notifications:
        parts.append(Text("The customer has no notification channel on file.", "dim"))
    return Group(*parts)


def placement_preview(p, account: BillingAccount) -> RenderableType:
    """The live preview of a new order (an engine ``Placement``): its totals, the documents and the
    capture placing it will create, and the confirmation the customer will receive."""
    parts: list[RenderableType] = []
    if p.totals is not None:
        table = Table(box=None, show_header=False, padding=(0, 1), expand=False)
        table.add_column("what", style="dim")
        table.add_column("amount", justify="right")
        for label, m in _rows(p.totals):
            table.add_row(Text(label), money_text(m, "bold" if label == "Total" else ""))
        parts.append(table)
    if p.violations:
        parts.append(Text("Not yet:", "bold yellow"))
        for v in p.violations:
            parts.append(text(f"• {v.message}", "yellow", one_line=False))
        return Group(*parts)
    parts.append(Text(""))
    parts.append(Text("Placing it creates", "bold underline"))
    parts.extend(document_lines(p.documents, account, planned=True))
    if p.charge is None:
        parts.append(Text("Nothing is charged.", "dim"))
    parts.append(Text(""))
    for n in p.notifications[:1]:
        parts.append(text(f"The customer will receive ({n.channel} to {n.to}): {n.subject}", "bold"))
    if not p.notifications:
        parts.append(Text("The customer has no notification channel on file.", "dim"))
    return Group(*parts)
