"""The connection's result types: :class:`Connection` (``Backend.ping``) and :class:`RecoveredCommit`
(``Backend.recover``).

Part of the contract (:mod:`carecli.backend.contract` re-exports every name); a module of its own so
that the check the app makes on start needs none of the engine.
"""

from __future__ import annotations

from typing import Literal

from .search_types import _Result


class Connection(_Result):
    """Who the backend serves and whether it answers (``Backend.ping``)."""

    online: bool
    user: str = ""  # the signed-in user of a server ("" for an embedded store)
    detail: str = ""  # why it is offline, for the agent


class RecoveredCommit(_Result):
    """A commit sent earlier whose answer never arrived (crash, dropped connection), resent on start
    with the same idempotency key and the same bytes (``Backend.recover``)."""

    idempotency_key: str
    order_ref: str
    outcome: Literal["applied", "refused", "pending"]  # pending: still no answer; kept for next time
    message: str  # for the agent: what happened to the change
    new_version: int | None = None
