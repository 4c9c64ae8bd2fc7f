"""plan(): the one pure function behind preview and commit (body being written)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .audit import AuditRecord
from .commands import Amendment
from .context import PlanContext
from .model import Document, Order
from .money import Money
from .notifications import Notification
from .pricing import Totals


@dataclass(frozen=True)
class Violation:
    """A refusal: a stable rule id, the line it concerns, and a sentence to read to the customer."""

    rule: str
    message: str
    line_id: int | None = None
    index: int | None = None  # which staged amendment (0-based); None for the session as a whole


@dataclass(frozen=True)
class Charge:
    """A payment to take before the commit is applied; a decline refuses the whole commit."""

    invoice_id: str
    payment_method_id: str
    amount: Money


@dataclass(frozen=True)
class Plan:
    order_before: Order
    totals_before: Totals
    violations: tuple[Violation, ...]
    order_after: Order | None  # version + 1, with the new documents appended
    totals_after: Totals | None
    delta: Money  # grand total after − before
    documents: tuple[Document, ...]  # new ledger documents, in the order they are written
    charge: Charge | None
    store_credit_issued: Money
    notifications: tuple[Notification, ...]
    audit: AuditRecord | None
    changes: tuple[str, ...]  # one sentence per staged amendment

    @property
    def ok(self) -> bool:
        return not self.violations


def plan(order: Order, amendments: Sequence[Amendment], ctx: PlanContext) -> Plan:
    raise NotImplementedError
