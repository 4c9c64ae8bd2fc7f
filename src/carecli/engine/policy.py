"""Policy: the operator's numbers, windows and lists, as one typed model.

Defaults ship in ``policy.toml`` beside this module. An operator's policy file overrides them key by
key (tables merge; lists such as ``reason_codes`` or ``tax`` are replaced whole when given). A
malformed file is refused with :class:`PolicyError`, naming the file, the key and what was expected.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .money import MINOR_UNITS, ROUNDING_MODES, Money
from .base import Market
from .errors import PolicyError


class _P(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _amounts(value: dict[str, str]) -> dict[str, Money]:
    out = {}
    for cur, amt in value.items():
        if cur not in MINOR_UNITS:
            raise ValueError(f"unknown currency {cur!r}")
        if isinstance(amt, Money) and amt.currency == cur:
            out[cur] = amt
            continue
        if isinstance(amt, dict) and set(amt) == {"amount", "currency"} and amt["currency"] == cur \
                and isinstance(amt["amount"], str):
            amt = amt["amount"]  # the policy as it was serialised (JSON round trip, e.g. over HTTP)
        if not isinstance(amt, str):
            raise ValueError(f"amount for {cur} must be a quoted decimal such as \"50.00\", not {amt!r}")
        out[cur] = Money(amt, cur)
    return out


class MoneyPolicy(_P):
    rounding: Literal["half_up", "half_even"] = "half_up"


class RefundPolicy(_P):
    route: Literal["original_payment_first", "store_credit_first"] = "original_payment_first"


class AmendmentPolicy(_P):
    max_quantity: int = Field(99, ge=1, le=100_000)


class FulfilmentPolicy(_P):
    """Fulfilment events (engine/events.py)."""

    short_pick: Literal["cancel_and_refund", "keep_open"] = "cancel_and_refund"
    """A short pick of k units: cancel them and refund as in DOMAIN §5, or keep them open on the line
    (short-picked, awaiting stock) with no money moved."""
    backorder_inbox_days: int = Field(3, ge=0, le=365)
    """A backorder enters the exceptions inbox when its expected date is this many days away or past."""


class AppeasementPolicy(_P):
    limits: dict[str, dict[str, Money]]

    @field_validator("limits", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("expected a table of roles, each a table of currency = \"amount\"")
        return {role: _amounts(amts) if isinstance(amts, dict) else amts for role, amts in v.items()}

    def limit(self, role: str, currency: str) -> Money:
        """The role's cumulative limit per order; zero where policy names none (nothing allowed)."""
        return self.limits.get(role, {}).get(currency, Money.zero(currency))


class ReturnPolicy(_P):
    window_days: int = Field(30, ge=0, le=3650)
    category_window_days: dict[str, int] = {}
    restocking_fee_percent: dict[str, Decimal] = {}
    override_roles: tuple[str, ...] = ("supervisor",)

    def window_for(self, category: str) -> int:
        return self.category_window_days.get(category, self.window_days)


class ReasonCode(_P):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    label: str
    kinds: tuple[Literal["amendment", "appeasement", "cancel", "return", "replacement"], ...]
    merchant_fault: bool = False


class ShippingMethod(_P):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    name: str
    carrier: str = ""
    fee: dict[str, Money]
    free_over: dict[str, Money] = {}

    @field_validator("fee", "free_over", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("expected a table of currency = \"amount\"")
        return _amounts(v)


class TaxJurisdiction(_P):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    region: str = ""
    city: str = ""
    rate: Decimal = Field(ge=0, le=1)
    name: str
    shipping_taxable: bool = True

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, v: Any) -> Any:
        if isinstance(v, float):
            raise ValueError("write the rate as a quoted decimal such as \"0.1025\"")
        return v


class Policy(_P):
    money: MoneyPolicy = MoneyPolicy()
    refunds: RefundPolicy = RefundPolicy()
    amendments: AmendmentPolicy = AmendmentPolicy()
    appeasement: AppeasementPolicy
    returns: ReturnPolicy = ReturnPolicy()
    fulfilment: FulfilmentPolicy = FulfilmentPolicy()
    reason_codes: tuple[ReasonCode, ...]
    shipping_methods: tuple[ShippingMethod, ...]
    tax: tuple[TaxJurisdiction, ...]
    markets: tuple[Market, ...]

    @model_validator(mode="after")
    def _unique(self) -> "Policy":
        for name, items, key in (
            ("reason_codes", self.reason_codes, "code"),
            ("shipping_methods", self.shipping_methods, "code"),
            ("markets", self.markets, "code"),
        ):
            seen: set[str] = set()
            for it in items:
                k = getattr(it, key)
                if k in seen:
                    raise ValueError(f"{name}: {key} {k!r} appears twice")
                seen.add(k)
        return self

    # -- look-ups (no I/O) ------------------------------------------------------------------------
    @property
    def rounding(self) -> str:
        return self.money.rounding

    def reason(self, code: str) -> ReasonCode | None:
        for r in self.reason_codes:
            if r.code == code:
                return r
        return None

    def reasons_for(self, kind: str) -> tuple[ReasonCode, ...]:
        return tuple(r for r in self.reason_codes if kind in r.kinds)

    def shipping_method(self, code: str) -> ShippingMethod | None:
        for m in self.shipping_methods:
            if m.code == code:
                return m
        return None

    def market(self, code: str) -> Market | None:
        for m in self.markets:
            if m.code == code:
                return m
        return None

    def tax_for(self, country: str, region: str, city: str) -> TaxJurisdiction | None:
        """The most specific jurisdiction for a place: city, then region, then country."""
        country, region, city = country.upper(), region.upper(), city.strip().casefold()
        best: TaxJurisdiction | None = None
        best_score = -1
        for j in self.tax:
            if j.country != country:
                continue
            if j.region and j.region.upper() != region:
                continue
            if j.city and j.city.casefold() != city:
                continue
            score = (2 if j.city else 0) + (1 if j.region else 0)
            if score > best_score:
                best, best_score = j, score
        return best


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _key(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = data
    for p in loc:
        if isinstance(p, int):
            label = ""
            if isinstance(node, list) and p < len(node) and isinstance(node[p], dict):
                item = node[p]
                label = str(item.get("code") or item.get("name") or "")
            parts[-1] = f"{parts[-1]}[{p}{' ' + label if label else ''}]" if parts else f"[{p}]"
            node = node[p] if isinstance(node, list) and p < len(node) else None
        else:
            parts.append(str(p))
            node = node.get(p) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def parse_policy(text: str, source: str, base: dict[str, Any] | None = None) -> Policy:
    """Parse policy TOML (merged over ``base`` when given); errors name ``source`` and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"policy file {source}: not valid TOML: {e}") from None
    merged = _merge(base, data) if base is not None else data
    try:
        return Policy.model_validate(merged)
    except ValidationError as e:
        err = e.errors()[0]
        key = _key(tuple(err["loc"]), merged)
        msg = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
        more = f"; and {len(e.errors()) - 1} more problem(s)" if len(e.errors()) > 1 else ""
        raise PolicyError(f"policy file {source}: key {key}: {msg}{shown}{more}") from None


_DEFAULT_TEXT: str | None = None


def default_policy_text() -> str:
    global _DEFAULT_TEXT
    if _DEFAULT_TEXT is None:
        _DEFAULT_TEXT = resources.files(__package__).joinpath("policy.toml").read_text("utf-8")
    return _DEFAULT_TEXT


def default_policy() -> Policy:
    return parse_policy(default_policy_text(), "(built-in policy.toml)")


def load_policy(path: Path | None) -> Policy:
    """The built-in policy, overridden by the operator's file at ``path`` when it exists."""
    if path is None or not path.exists():
        return default_policy()
    try:
        if path.stat().st_size > 1_000_000:  # before reading: a huge file is refused without loading it
            raise PolicyError(f"policy file {path}: larger than 1 MB; is it the right file?")
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"policy file {path}: cannot be read: {e}") from None
    if len(text) > 1_000_000:
        raise PolicyError(f"policy file {path}: larger than 1 MB; is it the right file?")
    base = tomllib.loads(default_policy_text())
    return parse_policy(text, str(path), base=base)


__all__ = ["Policy", "PolicyError", "ReasonCode", "ShippingMethod", "TaxJurisdiction",
           "default_policy", "load_policy", "parse_policy", "ROUNDING_MODES"]
