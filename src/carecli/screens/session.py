"""An amend session: the amendments staged on one order, and their live preview.

No Textual here: the order screen holds one of these, and tests drive it directly. The preview is the
engine's own ``plan()`` — the same function the store runs at commit — on the order as last read.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from ..backend.contract import CommitRequest, OrderView, ReferenceData
from ..engine.audit import canonical_json
from ..engine.commands import Amendment
from ..engine.context import PlanContext
from ..engine.plan import Plan, plan, reason_kind
from ..engine.pricing import PricingError, Totals, price
from ..engine.rules import Violation


@dataclass
class AmendSession:
    view: OrderView
    reference: ReferenceData
    role: str = "agent"
    staged: list[Amendment] = field(default_factory=list)
    preview: Plan | None = None
    _key: tuple[str, str] | None = None  # (request fingerprint, idempotency key) of the last attempt
    _priced: tuple[OrderView, "Totals | PricingError"] | None = None

    def totals(self) -> Totals | PricingError:
        """The order's current totals (or why it cannot be priced), priced once per order version read."""
        if self._priced is None or self._priced[0] is not self.view:
            try:
                result: Totals | PricingError = price(self.view.order, self.reference.policy,
                                                      self.reference.location_map())
            except PricingError as e:
                result = e
            self._priced = (self.view, result)
        return self._priced[1]

    def context(self, now: datetime) -> PlanContext:
        return PlanContext(
            policy=self.reference.policy, catalog=self.reference.catalog(),
            locations=self.reference.location_map(), customer=self.view.customer, account=self.view.account,
            now=now, role=self.role, templates=self.reference.templates or None,  # type: ignore[arg-type]
        )

    def stage(self, amendment: Amendment, now: datetime) -> list[Violation]:
        """Stage one amendment; if the session with it is refused, it is not kept and the reasons return."""
        trial = plan(self.view.order, [*self.staged, amendment], self.context(now))
        if not trial.ok:
            return list(trial.violations)
        self.staged.append(amendment)
        self.preview = trial
        return []

    def unstage(self, index: int, now: datetime) -> list[Violation]:
        """Take one staged amendment back. Later ones that depended on it are refused and say why."""
        rest = [a for i, a in enumerate(self.staged) if i != index]
        if not rest:
            self.staged, self.preview = [], None
            return []
        trial = plan(self.view.order, rest, self.context(now))
        if not trial.ok:
            return list(trial.violations)
        self.staged, self.preview = rest, trial
        return []

    def rebase(self, view: OrderView, now: datetime) -> list[Violation]:
        """The order changed underneath: recompute the preview on the new version (nothing committed)."""
        self.view = view
        if not self.staged:
            self.preview = None
            return []
        trial = plan(view.order, self.staged, self.context(now))
        self.preview = trial if trial.ok else None
        return list(trial.violations)

    def request(self, reason_code: str, note: str, actor: str) -> CommitRequest:
        """The commit request; retrying the very same request reuses its idempotency key."""
        body = {"ref": self.view.order.ref, "v": self.view.order.version,
                "a": [a.model_dump(mode="json") for a in self.staged], "r": reason_code, "n": note, "who": actor}
        fingerprint = hashlib.sha256(canonical_json(body).encode()).hexdigest()
        if self._key is None or self._key[0] != fingerprint:
            self._key = (fingerprint, f"care-{uuid.uuid4()}")
        return CommitRequest(order_ref=self.view.order.ref, expected_version=self.view.order.version,
                             amendments=tuple(self.staged), reason_code=reason_code, note=note,
                             idempotency_key=self._key[1], actor=actor)

    def committed(self, view: OrderView) -> None:
        self.view, self.staged, self.preview, self._key = view, [], None, None

    @property
    def reason_kind(self) -> str:
        """Which policy reason codes the commit offers (the engine checks the same at commit)."""
        return reason_kind(self.staged)
