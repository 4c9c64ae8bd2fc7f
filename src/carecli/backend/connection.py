"""The connection's result types: :class:`Connection` (``Backend.ping``) and :class:`RecoveredCommit`
(``Backend.recover``).

Part of the contract (:mod:`carecli.backend.contract` re-exports every name); a module of its own so
that the check the app makes on start needs none of the engine, and no pydantic (frozen dataclasses,
as :mod:`carecli.backend.search_types` explains).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .search_types import FORBID_EXTRA


@dataclass(frozen=True)
class Connection:
    """Who the backend serves and whether it answers (``Backend.ping``)."""

    __pydantic_config__ = FORBID_EXTRA

    online: bool
    user: str = ""  # the signed-in user of a server ("" for an embedded store)
    detail: str = ""  # why it is offline, for the agent


@dataclass(frozen=True)
class RecoveredCommit:
    """A commit sent earlier whose answer never arrived (crash, dropped connection), resent on start
    with the same idempotency key and the same bytes (``Backend.recover``)."""

    __pydantic_config__ = FORBID_EXTRA

    idempotency_key: str
    order_ref: str
    outcome: Literal["applied", "refused", "pending"]  # pending: still no answer; kept for next time
    message: str  # for the agent: what happened to the change
    new_version: int | None = None
