"""Audit records: append-only, chained by hash.

Each record's hash is SHA-256 over the previous record's hash and the canonical JSON of its own
fields (everything but ``hash``). Editing, deleting or reordering any record breaks the chain from
that record on, and :func:`verify_chain` names the first record where it breaks.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class AuditRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int
    at: datetime  # UTC
    actor: str
    role: str
    order_ref: str
    version_before: int
    version_after: int
    command: list[dict[str, Any]]  # the canonical commands, as JSON values
    reason_code: str
    note: str
    financial_effect: dict[str, Any]
    idempotency_key: str
    prev_hash: str
    hash: str

    def payload(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"hash"})
        return data


def record_hash(payload: dict[str, Any]) -> str:
    prev = payload["prev_hash"]
    body = canonical_json({k: v for k, v in payload.items() if k != "hash"})
    return hashlib.sha256((prev + "\n" + body).encode("utf-8")).hexdigest()


def make_record(**fields: Any) -> AuditRecord:
    """Build a record and seal it with its hash (``prev_hash`` must be among the fields)."""
    draft = AuditRecord.model_validate({**fields, "hash": ""})
    return draft.model_copy(update={"hash": record_hash(draft.payload())})


class ChainProblem(BaseModel):
    model_config = ConfigDict(frozen=True)
    seq: int
    problem: str


def verify_chain(records: Iterable[AuditRecord | dict[str, Any]]) -> ChainProblem | None:
    """None when the chain is intact; else the first record that was edited, deleted or reordered."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for rec in records:
        r = rec if isinstance(rec, AuditRecord) else AuditRecord.model_validate(rec)
        if r.seq != expected_seq:
            what = "missing (deleted)" if r.seq > expected_seq else "out of order"
            return ChainProblem(seq=expected_seq if r.seq > expected_seq else r.seq,
                                problem=f"record {expected_seq} is {what}; found {r.seq} in its place")
        if r.prev_hash != prev_hash:
            return ChainProblem(seq=r.seq, problem=f"record {r.seq} does not follow record {r.seq - 1} "
                                                   "(a record before it was edited, deleted or reordered)")
        if record_hash(r.payload()) != r.hash:
            return ChainProblem(seq=r.seq, problem=f"record {r.seq} was edited after it was written")
        prev_hash = r.hash
        expected_seq += 1
    return None
