"""Money: a Decimal amount in one ISO 4217 currency, exact to the currency's minor unit.

Rules this module enforces:

* an amount is always a whole number of minor units (USD cents, JPY yen, BHD fils); anything finer is
  refused at construction — rounding is never silent, it is asked for with :meth:`Money.round`;
* a float is refused outright (``Money(0.1, "USD")`` raises ``TypeError``);
* arithmetic across currencies raises :class:`CurrencyMismatch`;
* :meth:`Money.allocate` splits an amount by weights with the largest-remainder method, so the parts
  always add up to the whole, to the minor unit.
"""

from __future__ import annotations

from operator import itemgetter
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable, Sequence

# ISO 4217 minor units for the currencies carecli knows. Unknown codes are refused: a typo in a
# currency must not silently become "two decimals".
MINOR_UNITS: dict[str, int] = {
    "USD": 2, "EUR": 2, "AUD": 2, "GBP": 2, "CAD": 2, "NZD": 2, "CHF": 2, "SEK": 2, "NOK": 2,
    "DKK": 2, "SGD": 2, "HKD": 2, "MXN": 2, "BRL": 2, "ZAR": 2, "INR": 2, "PLN": 2, "CNY": 2,
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
}

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}

_QUANTA = {n: Decimal(1).scaleb(-n) for n in set(MINOR_UNITS.values())}


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


class CurrencyMismatch(MoneyError):
    """Arithmetic or comparison between two currencies."""


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r} (expected an ISO 4217 code such as USD)") from None


def rounding_mode(name: str) -> str:
    try:
        return ROUNDING_MODES[name]
    except KeyError:
        raise MoneyError(f"unknown rounding mode {name!r} (expected one of {sorted(ROUNDING_MODES)})") from None


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money cannot be built from {type(value).__name__} {value!r}; use a str or Decimal")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)):
        try:
            d = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not an amount") from None
        return d
    raise TypeError(f"money cannot be built from {type(value).__name__}")


class Money(tuple):
    """An exact amount of one currency. Immutable and hashable.

    It is a 2-tuple underneath (amount, currency) only because that is the cheapest immutable object
    CPython builds — pricing creates many of them; treat it as an opaque value.
    """

    __slots__ = ()

    def __new__(cls, amount: Decimal | int | str, currency: str) -> "Money":
        d = _to_decimal(amount)
        if not d.is_finite():
            raise MoneyError(f"{amount!r} is not a finite amount")
        q = _QUANTA[minor_units(currency)]
        exact = d.quantize(q)
        if exact != d:
            raise MoneyError(
                f"{d} {currency} is finer than the currency's minor unit ({q}); round it explicitly"
            )
        return tuple.__new__(cls, (exact, currency))

    amount: Decimal = property(itemgetter(0))  # type: ignore[assignment]
    currency: str = property(itemgetter(1))  # type: ignore[assignment]

    @classmethod
    def _exact(cls, amount: Decimal, currency: str) -> "Money":
        # Internal fast path: the amount is already quantized to the currency's minor unit.
        return tuple.__new__(cls, (amount, currency))

    @classmethod
    def round(cls, value: Decimal | int | str, currency: str, rounding: str = "half_up") -> "Money":
        """Money from an unrounded amount, rounded to the minor unit with an explicit mode."""
        d = _to_decimal(value)
        q = _QUANTA[minor_units(currency)]
        return cls._exact(d.quantize(q, rounding=rounding_mode(rounding)), currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls._exact(_QUANTA[minor_units(currency)] * 0, currency)

    def __reduce__(self):
        return (Money, (str(self.amount), self.currency))

    def __bool__(self) -> bool:
        raise TypeError("ask money .is_zero / .is_positive rather than its truth value")

    def __len__(self) -> int:  # pragma: no cover - not a sequence to its users
        raise TypeError("Money is not a sequence")

    def __iter__(self):
        raise TypeError("Money is not a sequence")

    # -- arithmetic -----------------------------------------------------------------------------
    def _check(self, other: Any) -> "Money":
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other[1] != self[1]:
            raise CurrencyMismatch(f"cannot combine {self[1]} with {other[1]}")
        return other

    def __add__(self, other: "Money") -> "Money":  # type: ignore[override]
        o = self._check(other)
        return tuple.__new__(Money, (self[0] + o[0], self[1]))

    def __sub__(self, other: "Money") -> "Money":
        o = self._check(other)
        return tuple.__new__(Money, (self[0] - o[0], self[1]))

    def __neg__(self) -> "Money":
        return tuple.__new__(Money, (-self[0], self[1]))

    def __abs__(self) -> "Money":
        return tuple.__new__(Money, (abs(self[0]), self[1]))

    def __mul__(self, n: int) -> "Money":  # type: ignore[override]
        # Only whole quantities keep money exact; a rate goes through ``multiply`` with a rounding.
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("Money can only be multiplied by an int; use multiply(rate, rounding)")
        return Money._exact(self.amount * n, self.currency)

    __rmul__ = __mul__  # type: ignore[assignment]

    def multiply(self, rate: Decimal, rounding: str = "half_up") -> "Money":
        if isinstance(rate, float):
            raise TypeError("rates are Decimal, never float")
        return Money.round(self.amount * rate, self.currency, rounding)

    # -- comparison -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self[1] == other[1] and self[0] == other[0]

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def __lt__(self, other: "Money") -> bool:  # type: ignore[override]
        return self.amount < self._check(other).amount

    def __le__(self, other: "Money") -> bool:  # type: ignore[override]
        return self.amount <= self._check(other).amount

    def __gt__(self, other: "Money") -> bool:  # type: ignore[override]
        return self.amount > self._check(other).amount

    def __ge__(self, other: "Money") -> bool:  # type: ignore[override]
        return self.amount >= self._check(other).amount

    @property
    def is_zero(self) -> bool:
        return not self.amount

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    @property
    def minor(self) -> int:
        """The amount in minor units (cents), as an int."""
        return int(self.amount.scaleb(minor_units(self.currency)))

    @classmethod
    def from_minor(cls, units: int, currency: str) -> "Money":
        return cls._exact(Decimal(units).scaleb(-minor_units(currency)), currency)

    def min(self, other: "Money") -> "Money":
        return self if self <= other else other

    def max(self, other: "Money") -> "Money":
        return self if self >= other else other

    # -- allocation -----------------------------------------------------------------------------
    def allocate(self, weights: Sequence[Decimal | int]) -> list["Money"]:
        """Split this amount pro rata to ``weights`` by largest remainder.

        The parts sum to exactly this amount. Remainder units go to the largest fractional parts,
        ties to the earliest weight, so the result is deterministic. Negative amounts are split as
        their absolute value and negated. All-zero weights split evenly.
        """
        n = len(weights)
        if n == 0:
            raise MoneyError("cannot allocate over no parts")
        ws = [_to_decimal(w) for w in weights]
        if any(w < 0 for w in ws):
            raise MoneyError("allocation weights must not be negative")
        # Exact integer arithmetic: scale the weights to whole numbers, then floor and remainder.
        scale = max((-w.as_tuple().exponent for w in ws if w), default=0)
        iw = [int(w.scaleb(scale)) for w in ws] if scale > 0 else [int(w) for w in ws]
        total_w = sum(iw)
        if total_w == 0:
            iw = [1] * n
            total_w = n
        units = self.minor
        sign = -1 if units < 0 else 1
        units = abs(units)
        floors = [units * w // total_w for w in iw]
        rems = [units * w % total_w for w in iw]
        left = units - sum(floors)
        if left:
            for i in sorted(range(n), key=lambda i: (-rems[i], i))[:left]:
                floors[i] += 1
        q = _QUANTA[minor_units(self[1])]
        cur = self[1]
        return [tuple.__new__(Money, ((Decimal(sign * f) * q), cur)) for f in floors]

    # -- text -----------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def to_json(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}

    # -- pydantic -------------------------------------------------------------------------------
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        def validate(value: Any) -> "Money":
            if isinstance(value, Money):
                return value
            if isinstance(value, dict) and set(value) == {"amount", "currency"}:
                return Money(value["amount"], value["currency"])
            raise ValueError('expected money as {"amount": "12.34", "currency": "USD"}')

        # The serialiser is typed (a str -> str dict), so pydantic writes the dict it returns
        # without inspecting it; the JSON is the same {"amount": "12.34", "currency": "USD"}.
        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _money_json,
                return_schema=core_schema.dict_schema(core_schema.str_schema(), core_schema.str_schema()),
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
            "required": ["amount", "currency"],
        }


def _money_json(m: Money) -> dict[str, str]:
    return {"amount": str(m[0]), "currency": m[1]}


def total(items: Iterable[Money], currency: str) -> Money:
    """Sum of money in one currency (zero for none)."""
    acc = Decimal(0)
    for m in items:
        if m.currency != currency:
            raise CurrencyMismatch(f"cannot add {m.currency} to a {currency} total")
        acc += m.amount
    return Money._exact(acc.quantize(_QUANTA[minor_units(currency)]), currency)
