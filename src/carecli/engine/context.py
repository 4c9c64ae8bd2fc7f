"""What :func:`carecli.engine.plan.plan` needs besides the order and the amendments.

Everything that would make the engine impure comes in here: the clock (``now``), the id source, the
catalog and reference data as read by the caller, the policy, who is acting, and the audit chain's
current end. Preview and commit build a context the same way; only the id source and audit head differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Literal, Mapping

from .audit import GENESIS_HASH
from .notifications import MessageTemplate
from .model import BillingAccount, Customer, PickupLocation, Variant
from .policy import Policy

Role = Literal["agent", "supervisor"]

IdSource = Callable[[str], str]
"""``ids("CM")`` returns a new id for a document kind: CM credit memo, INV invoice, PAY payment,
RF refund, SC store credit, DSC discount. The store hands out real ones inside its transaction."""


class PreviewIds:
    """Ids for a preview: visibly provisional, deterministic."""

    def __init__(self) -> None:
        self._n: dict[str, int] = {}

    def __call__(self, kind: str) -> str:
        self._n[kind] = self._n.get(kind, 0) + 1
        return f"{kind}-PREVIEW-{self._n[kind]}"


@dataclass(frozen=True)
class PlanContext:
    policy: Policy
    catalog: Mapping[str, Variant]
    locations: Mapping[str, PickupLocation]
    customer: Customer
    account: BillingAccount
    now: datetime  # UTC
    ids: IdSource = field(default_factory=PreviewIds)
    actor: str = "preview"
    role: Role = "agent"
    read_only: bool = False
    purpose: Literal["preview", "commit"] = "preview"  # a commit also needs a known reason code
    reason_code: str = ""
    note: str = ""
    idempotency_key: str = ""
    audit_seq: int = 1  # the sequence number the audit record of this change will take
    audit_prev_hash: str = GENESIS_HASH
    # The operator's customer-message templates by kind (loaded outside the engine); None: the shipped ones.
    templates: Mapping[str, MessageTemplate] | None = None
