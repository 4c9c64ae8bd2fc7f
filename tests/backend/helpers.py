"""Small helpers shared by the store tests (importable by worker processes too)."""

from __future__ import annotations

import uuid

from carecli.backend.contract import CommitRequest
from carecli.engine.commands import Amendment


def request(ref: str, version: int, *amendments: Amendment, reason: str = "CUSTOMER_REQUEST",
            key: str | None = None, actor: str = "agent.test", note: str = "") -> CommitRequest:
    return CommitRequest(order_ref=ref, expected_version=version, amendments=tuple(amendments),
                         reason_code=reason, note=note, idempotency_key=key or "k-" + uuid.uuid4().hex,
                         actor=actor)
