"""An order's stage: the one engine name the first screen needs (its stage filter).

A module of its own, without pydantic, so that the launch imports neither pydantic nor the order
model; :mod:`carecli.engine.base` and :mod:`carecli.engine.model` re-export it.
"""

from __future__ import annotations

from enum import StrEnum


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
