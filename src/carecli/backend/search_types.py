"""The search's result types: :class:`OrderSummary` and :class:`SearchPage`.

Part of the contract (:mod:`carecli.backend.contract` re-exports every name); a module of its own so
that the first screen, which shows a page of these, imports neither the engine's commands, plans,
settlement, returns, events nor placing — nor pydantic: they are frozen dataclasses, which the HTTP
server and client validate and serialise through pydantic's ``TypeAdapter`` like any model, with
unknown fields refused (``__pydantic_config__``). Importing pydantic and building its first models
costs a launch more CPU than the minimal Textual app's whole start; the launch needs only these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..engine.money import Money

MatchKind = Literal["ref", "email", "phone", "postcode", "sku", "name", "recent"]
"""Which field of an order or its customer a search result matched (``recent``: the empty query)."""

FORBID_EXTRA: Any = {"extra": "forbid"}
"""pydantic's configuration of the result dataclasses (a ``ConfigDict``, which is a plain dict)."""


@dataclass(frozen=True)
class OrderSummary:
    """One row of a search result or of an account's order list."""

    __pydantic_config__ = FORBID_EXTRA

    ref: str
    placed_at: datetime
    customer_name: str
    email: str
    stage: str  # engine.stage.Stage value, derived when the order was last written
    total: Money  # grand total of the order as it stands
    items: int  # live units (ordered − cancelled) over all lines
    postcode: str  # delivery postcode, or the pickup store's for click & collect
    matched: MatchKind


@dataclass(frozen=True)
class SearchPage:
    __pydantic_config__ = FORBID_EXTRA

    items: list[OrderSummary]
    offset: int
    limit: int
    has_more: bool
    kinds: tuple[MatchKind, ...] = field(default=())  # the kinds the query text was read as, in rank order


def built(cls: type, values: dict[str, Any]) -> Any:
    """An instance of the dataclass ``cls`` whose state is ``values`` (every field, in order), without
    running ``__init__``: for rows the store made itself, where the generated frozen ``__init__``
    (one ``object.__setattr__`` per field) would cost a page of 500 rows about as much as its query.
    ``tests/backend/test_search.py`` checks the result equals a normally constructed one."""
    obj = object.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    return obj
