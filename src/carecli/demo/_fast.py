"""Fast construction for bulk generation: the engine's constructors (:mod:`carecli.engine.construct`),
plus what only the demo needs — a check that nothing built was left unfilled, and a Money cache.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..engine.construct import _REQUIRED, builder, maker, template  # noqa: F401  (re-exported)
from ..engine.money import Money, minor_units

def unfilled(model: BaseModel) -> list[str]:
    """Dotted paths of required fields left unset and of keys that are not fields (for tests)."""
    out: list[str] = []

    def walk(obj: Any, path: str) -> None:
        if isinstance(obj, BaseModel):
            fields = type(obj).model_fields
            for k, v in obj.__dict__.items():
                p = f"{path}.{k}" if path else k
                if k not in fields:
                    out.append(p + " (not a field)")
                elif v is _REQUIRED:
                    out.append(p + " (required, unset)")
                else:
                    walk(v, p)
        elif isinstance(obj, Money):
            return  # a value (a tuple underneath), not a container of models
        elif isinstance(obj, (tuple, list)):
            for i, v in enumerate(obj):
                walk(v, f"{path}[{i}]")
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{path}[{k!r}]")

    walk(model, "")
    return out


class MoneyCache:
    """``Money`` from minor units, shared: the same amounts recur across a million orders.

    Bounded: the cache is dropped when it grows past ``limit`` entries (amounts are immutable, so a
    dropped entry is simply built again).
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._by_cur: dict[str, dict[int, Money]] = {}
        self._limit = limit

    def __call__(self, units: int, currency: str) -> Money:
        cache = self._by_cur.get(currency)
        if cache is None:
            minor_units(currency)  # refuses an unknown currency once
            cache = self._by_cur[currency] = {}
        m = cache.get(units)
        if m is None:
            if len(cache) >= self._limit:
                cache.clear()
            m = cache[units] = Money.from_minor(units, currency)
        return m
