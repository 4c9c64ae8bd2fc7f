"""The backend's typed errors: :class:`BackendError` and its subclasses, and ``ERRORS`` by code.

Part of the contract (:mod:`carecli.backend.contract` re-exports every name); a module of its own so
that the screens can catch them without importing the engine's commands, plans or returns.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.rules import Violation


class BackendError(Exception):
    """Base of every error a backend raises on purpose. ``title`` and ``message`` are for the agent."""

    code: ClassVar[str] = "backend_error"
    default_title: ClassVar[str] = "Something went wrong"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.title = title or self.default_title

    def details(self) -> dict[str, Any]:
        return {}

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "message": self.message, **self.details()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFound(BackendError):
    code = "not_found"
    default_title = "Not found"


class VersionConflict(BackendError):
    code = "version_conflict"
    default_title = "The order changed"

    def __init__(self, current_version: int, message: str | None = None, *, order_ref: str = "",
                 expected_version: int | None = None, title: str | None = None) -> None:
        self.current_version = current_version
        self.order_ref = order_ref
        self.expected_version = expected_version
        what = f"Order {order_ref}" if order_ref else "The order"
        super().__init__(
            message or f"{what} was changed by someone else while you were working on it; it is now at "
                       f"version {current_version}. Review what changed and confirm again.",
            title=title,
        )

    def details(self) -> dict[str, Any]:
        return {"current_version": self.current_version, "order_ref": self.order_ref,
                "expected_version": self.expected_version}


class RuleViolations(BackendError):
    code = "rule_violations"
    default_title = "This change is not allowed"

    def __init__(self, violations: list[Violation], message: str | None = None, *,
                 title: str | None = None) -> None:
        self.violations = list(violations)
        super().__init__(message or "; ".join(v.message for v in self.violations) or "refused",
                         title=title)

    def details(self) -> dict[str, Any]:
        return {"violations": [dataclasses.asdict(v) for v in self.violations]}


class PaymentDeclined(BackendError):
    code = "payment_declined"
    default_title = "Payment declined"


class Forbidden(BackendError):
    code = "forbidden"
    default_title = "Read-only"


class IdempotencyMismatch(BackendError):
    code = "idempotency_mismatch"
    default_title = "Request already used"


class Unavailable(BackendError):
    code = "unavailable"
    default_title = "Store unavailable"


class StoreTooNew(BackendError):
    code = "store_too_new"
    default_title = "Store from a newer carecli"

    def __init__(self, found_version: int, supported_version: int, message: str | None = None, *,
                 title: str | None = None) -> None:
        self.found_version = found_version
        self.supported_version = supported_version
        super().__init__(
            message or f"This store was written by a newer carecli (schema version {found_version}; "
                       f"this carecli reads up to {supported_version}). Upgrade carecli to open it.",
            title=title,
        )

    def details(self) -> dict[str, Any]:
        return {"found_version": self.found_version, "supported_version": self.supported_version}


class StoreCorrupt(BackendError):
    code = "store_corrupt"
    default_title = "Store damaged"


# -- shared deployments (HTTP backend and server) ---------------------------------------------------


class Offline(Unavailable):
    """The server could not be reached (or did not answer) after the client's retries."""

    code = "offline"
    default_title = "Offline"


class Unauthorized(BackendError):
    """No token, or a token the server does not know (or that was revoked)."""

    code = "unauthorized"
    default_title = "Not signed in"


class BadRequest(BackendError):
    """A request the server cannot read: malformed JSON, a missing field, a value out of range."""

    code = "bad_request"
    default_title = "Request refused"


class PreconditionRequired(BackendError):
    """A write sent without the header that makes it safe (``If-Match``, ``Idempotency-Key``)."""

    code = "precondition_required"
    default_title = "Request refused"


class InProgress(BackendError):
    """The same idempotency key is being processed right now; ask again in a moment."""

    code = "in_progress"
    default_title = "Still working on it"


class RateLimited(BackendError):
    code = "rate_limited"
    default_title = "Too many requests"

    def __init__(self, retry_after: float, message: str | None = None, *, title: str | None = None) -> None:
        self.retry_after = float(retry_after)  # float-ok: seconds
        super().__init__(message or f"Too many requests with this token; try again in "
                                    f"{max(1, round(retry_after))} s.", title=title)

    def details(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class TooLarge(BackendError):
    code = "too_large"
    default_title = "Request too large"


ERRORS: dict[str, type[BackendError]] = {
    cls.code: cls
    for cls in (BackendError, NotFound, VersionConflict, RuleViolations, PaymentDeclined, Forbidden,
                IdempotencyMismatch, Unavailable, StoreTooNew, StoreCorrupt, Offline, Unauthorized,
                BadRequest, PreconditionRequired, InProgress, RateLimited, TooLarge)
}
