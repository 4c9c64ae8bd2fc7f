"""The engine's smallest types: the frozen model base, a market and an order's stage.

A module of their own so that what the first screen and the store's opening need (the stage names
of the search filter, the markets of the policy) comes without the whole order model; every name is
also :mod:`carecli.engine.model`'s.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Market(Frozen):
    code: str  # "US", "AU"
    currency: str
    tax_mode: Literal["EXCLUSIVE", "INCLUSIVE"]
    country: str


class Stage(StrEnum):
    CREATED = "CREATED"
    BOOKED = "BOOKED"
    AWAITING_PICK = "AWAITING_PICK"
    PICKING = "PICKING"
    PACKED = "PACKED"
    DISPATCHED = "DISPATCHED"
    READY_FOR_COLLECTION = "READY_FOR_COLLECTION"
    DELIVERED = "DELIVERED"
    COLLECTED = "COLLECTED"
    CANCELLED = "CANCELLED"
