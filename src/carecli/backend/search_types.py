"""The search's result types: :class:`OrderSummary` and :class:`SearchPage` (and the results' base).

Part of the contract (:mod:`carecli.backend.contract` re-exports every name); a module of its own so
that the first screen, which shows a page of these, imports neither the engine's commands, plans,
settlement, returns, events nor placing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..engine.money import Money

MatchKind = Literal["ref", "email", "phone", "postcode", "sku", "name", "recent"]
"""Which field of an order or its customer a search result matched (``recent``: the empty query)."""


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")




class OrderSummary(_Result):
    """One row of a search result or of an account's order list."""

    ref: str
    placed_at: datetime
    customer_name: str
    email: str
    stage: str  # engine.model.Stage value, derived when the order was last written
    total: Money  # grand total of the order as it stands
    items: int  # live units (ordered − cancelled) over all lines
    postcode: str  # delivery postcode, or the pickup store's for click & collect
    matched: MatchKind


class SearchPage(_Result):
    items: list[OrderSummary]
    offset: int
    limit: int
    has_more: bool
    kinds: tuple[MatchKind, ...] = ()  # the kinds the query text was read as, in rank order
