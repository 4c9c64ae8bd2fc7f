"""The engine's smallest models: the frozen model base and a market (and an order's stage).

A module of their own so that what the policy needs (its markets) comes without the whole order
model; every name is also :mod:`carecli.engine.model`'s. The stage lives in :mod:`carecli.engine.stage`,
which the first screen imports without pydantic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .stage import Stage  # noqa: F401 - one of this module's names


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Market(Frozen):
    code: str  # "US", "AU"
    currency: str
    tax_mode: Literal["EXCLUSIVE", "INCLUSIVE"]
    country: str
