"""Backends: the contract (:mod:`.contract`) and its implementations (:mod:`.sqlite`; HTTP later).

Importing this package loads nothing else: the names below come from the contract (or the demo
gateway) when first used, so that the first screen, which needs only :mod:`.errors` and
:mod:`.search_types`, does not import the engine through the contract. ``carecli.backend.sqlite``
loads the SQLite store.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AccountView", "Backend", "BackendError", "CommitRequest", "CommitResult", "DemoGateway", "Forbidden",
    "IdempotencyMismatch", "LedgerEntry", "NotFound", "OrderSummary", "OrderView", "PaymentDeclined",
    "PaymentGateway", "ReferenceData", "RuleViolations", "SearchPage", "StoreCorrupt", "StoreTooNew",
    "TimelineEntry", "Unavailable", "VersionConflict",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(".gateway" if name == "DemoGateway" else ".contract", __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value
