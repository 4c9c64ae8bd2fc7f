"""Backends: the contract (:mod:`.contract`) and its implementations (:mod:`.sqlite`; HTTP later).

Importing this package loads the contract only; ``carecli.backend.sqlite`` loads the SQLite store.
"""

from .contract import (
    AccountView, Backend, BackendError, CommitRequest, CommitResult, Forbidden, IdempotencyMismatch,
    LedgerEntry, NotFound, OrderSummary, OrderView, PaymentDeclined, PaymentGateway, ReferenceData,
    RuleViolations, SearchPage, StoreCorrupt, StoreTooNew, TimelineEntry, Unavailable, VersionConflict,
)
from .gateway import DemoGateway

__all__ = [
    "AccountView", "Backend", "BackendError", "CommitRequest", "CommitResult", "DemoGateway", "Forbidden",
    "IdempotencyMismatch", "LedgerEntry", "NotFound", "OrderSummary", "OrderView", "PaymentDeclined",
    "PaymentGateway", "ReferenceData", "RuleViolations", "SearchPage", "StoreCorrupt", "StoreTooNew",
    "TimelineEntry", "Unavailable", "VersionConflict",
]
