"""Money for the demo orders: a fast integer pricer and the ledger documents that settle each order.

:class:`QuickPricer` computes exactly what :func:`carecli.engine.pricing.price` computes, for the
shape of order the generator builds (order-level discounts only), in integer minor units. The demo
tests compare it with ``price()`` on thousands of generated orders; ``price()`` itself costs about
ten times more and would dominate the generation of a million orders.

:func:`ledger_balance` states the ledger invariants of DOMAIN.md §5 for one order; the tests check
it on every generated order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from ..engine.model import DocumentItem, Order
from ..engine.money import Money
from ..engine.policy import Policy, TaxJurisdiction
from ..engine.settlement import LedgerSums, ledger_sums
from ._fast import MoneyCache, maker

make_item = maker(DocumentItem)


# --------------------------------------------------------------------------------------------------
# Integer arithmetic that rounds like Money.round
# --------------------------------------------------------------------------------------------------


def rdiv(p: int, q: int, half_even: bool) -> int:
    """p / q rounded to an integer: half away from zero (ROUND_HALF_UP) or half to even. q > 0."""
    neg = p < 0
    a = -p if neg else p
    f, r = divmod(a, q)
    twice = 2 * r
    if twice > q or (twice == q and (not half_even or f & 1)):
        f += 1
    return -f if neg else f


def ratio(d: Decimal) -> tuple[int, int]:
    n, m = d.as_integer_ratio()
    return n, m


@dataclass(frozen=True, slots=True)
class Rate:
    """A tax jurisdiction as the pricer needs it."""

    num: int
    den: int
    shipping_taxable: bool
    name: str
    rate: Decimal
    label_exclusive: str
    label_inclusive: str

    @classmethod
    def of(cls, j: TaxJurisdiction) -> "Rate":
        n, d = ratio(j.rate)
        pct = f"{(j.rate * 100).normalize():f}"
        return cls(n, d, j.shipping_taxable, j.name, j.rate, f"Tax: {j.name} {pct}%",
                   f"Tax included: {j.name} {pct}%")

    def label(self, inclusive: bool) -> str:
        return self.label_inclusive if inclusive else self.label_exclusive


@dataclass(frozen=True, slots=True)
class PromoDiscount:
    """An order-level discount: ``percent`` as a ratio, or a fixed ``amount`` in minor units."""

    id: str
    percent: tuple[int, int] | None
    amount: int | None


@dataclass(slots=True)
class Quick:
    """Totals in minor units; ``nets`` and ``taxes`` per line, in line order."""

    gross: list[int]
    nets: list[int]  # as priced (tax-inclusive in an inclusive market)
    taxes: list[int]
    discounts: list[tuple[str, int]]
    shipping: int  # as priced
    shipping_tax: int
    grand: int
    inclusive: bool

    def net_ex(self, i: int) -> int:
        return self.nets[i] - self.taxes[i] if self.inclusive else self.nets[i]

    @property
    def shipping_ex(self) -> int:
        return self.shipping - self.shipping_tax if self.inclusive else self.shipping

    @property
    def tax(self) -> int:
        return sum(self.taxes) + self.shipping_tax


def _allocate_off(gross: list[int], base: int, total_disc: int) -> list[int]:
    """Nets after taking ``total_disc`` off pro rata to gross, by largest remainder (as
    :meth:`Money.allocate`: remainder units to the largest fractional parts, ties to the first)."""
    n = len(gross)
    if total_disc == 0:
        return list(gross)
    if base == 0:
        ws, w = [1] * n, n
    else:
        ws, w = gross, base
    shares = [total_disc * x // w for x in ws]
    left_units = total_disc - sum(shares)
    if left_units:
        rems = [total_disc * x % w for x in ws]
        for i in sorted(range(n), key=lambda i: (-rems[i], i))[:left_units]:
            shares[i] += 1
    return [g - s for g, s in zip(gross, shares)]


class QuickPricer:
    """``price()`` in integers for orders with order-level discounts only (what the demo makes)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.half_even = policy.rounding == "half_even"
        self._rates: dict[tuple[str, str, str], Rate | None] = {}
        self._ship: dict[tuple[str, str], tuple[int, int | None]] = {}

    def rate(self, country: str, region: str, city: str) -> Rate | None:
        key = (country, region, city)
        r = self._rates.get(key, self)
        if r is self:
            j = self.policy.tax_for(country, region, city)
            r = self._rates[key] = Rate.of(j) if j else None
        return r  # type: ignore[return-value]

    def shipping(self, method: str, currency: str) -> tuple[int, int | None]:
        """(fee, free-over threshold or None) in minor units."""
        key = (method, currency)
        s = self._ship.get(key)
        if s is None:
            m = self.policy.shipping_method(method)
            if m is None or currency not in m.fee:
                raise ValueError(f"shipping method {method} has no fee in {currency}")
            over = m.free_over.get(currency)
            s = self._ship[key] = (m.fee[currency].minor, over.minor if over is not None else None)
        return s

    def price(
        self,
        units: Sequence[int],
        qtys: Sequence[int],
        exempt: Sequence[bool],
        discounts: Sequence[PromoDiscount],
        rate: Rate,
        inclusive: bool,
        ship: tuple[int, int | None] | None,  # None: click & collect
    ) -> Quick:
        he = self.half_even
        gross = []
        live = False
        for u, q in zip(units, qtys):
            if q > 0:
                gross.append(u * q)
                live = True
            else:
                gross.append(0)
        applied: list[tuple[str, int]] = []
        if discounts:
            base = sum(gross)
            total_disc = 0
            for d in discounts:
                left = base - total_disc
                if d.percent is not None:
                    pn, pd = d.percent
                    amt = rdiv(left * pn, 100 * pd, he)
                else:
                    amt = d.amount or 0
                if amt > left:
                    amt = left
                applied.append((d.id, amt))
                total_disc += amt
            nets = _allocate_off(gross, base, total_disc)
        else:
            nets = gross  # never mutated: shared by Quick.gross and Quick.nets
        num = rate.num
        tden = rate.den + num if inclusive else rate.den
        taxes = []
        tax_sum = 0
        if not num:
            taxes = [0] * len(nets)
        elif he or True in exempt:
            for net, ex in zip(nets, exempt):
                t = 0 if ex else rdiv(net * num, tden, he)
                taxes.append(t)
                tax_sum += t
        else:
            twice = 2 * tden
            for net in nets:
                # half up: floor(x + 1/2) for x >= 0, and the mirror image below zero
                if net >= 0:
                    t = (2 * net * num + tden) // twice
                else:
                    t = -((-2 * net * num + tden) // twice)
                taxes.append(t)
                tax_sum += t
        merch = sum(nets)
        total = merch if inclusive else merch + tax_sum
        shipping = 0
        if ship is not None and live:
            fee, over = ship
            shipping = 0 if (over is not None and merch >= over) else fee
        ship_tax = 0
        if shipping and num and rate.shipping_taxable:
            ship_tax = rdiv(shipping * num, tden, he)
        grand = total + shipping + (0 if inclusive else ship_tax)
        return Quick(gross, nets, taxes, applied, shipping, ship_tax, grand, inclusive)


# --------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------


class DocumentWriter:
    """Builds the ledger documents' items, sharing the immutable ones: most recur across orders.

    ``make(kind, line_id, description, minor units, currency)`` makes one item: by default a
    :class:`DocumentItem`; the demo's stored writer passes one that writes the item's JSON instead
    (``demo.stored``), so both get the same items from the same code.
    """

    def __init__(self, money: MoneyCache, make=None) -> None:
        self.money = money
        self._make = make if make is not None else self._model
        self._items: dict[str, dict[tuple, object]] = {}  # per currency

    def _model(self, kind: str, line_id: int | None, description: str, units: int, cur: str
               ) -> DocumentItem:
        return make_item(kind=kind, line_id=line_id, description=description,
                         amount=self.money(units, cur))

    def _cache(self, cur: str) -> dict[tuple, object]:
        c = self._items.get(cur)
        if c is None:
            c = self._items[cur] = {}
        elif len(c) > 100_000:
            c.clear()
        return c

    def item(self, kind: str, line_id: int | None, description: str, units: int, cur: str):
        cache = self._cache(cur)
        key = (kind, line_id, description, units)
        it = cache.get(key)
        if it is None:
            it = cache[key] = self._make(kind, line_id, description, units, cur)
        return it

    def invoice_items(self, q: Quick, vs: Sequence, qtys: Sequence[int], cur: str, tax_label: str
                      ) -> tuple:
        """LINE items (net of tax and discounts), SHIPPING (net of tax), TAX: they sum to the total.
        """
        cache = self._cache(cur)
        get = cache.get
        make = self._make
        items = []
        inclusive = q.inclusive
        lid = 0
        for v, qty, net, tax in zip(vs, qtys, q.nets, q.taxes):
            lid += 1
            amount = net - tax if inclusive else net
            key = (lid, v.sku, qty, amount)  # the description follows from sku and quantity
            it = get(key)
            if it is None:
                it = cache[key] = make("LINE", lid, f"{v.description} × {qty}", amount, cur)
            items.append(it)
        ship_tax = q.shipping_tax
        if q.shipping:
            items.append(self.item("SHIPPING", None, "Shipping",
                                   q.shipping - ship_tax if inclusive else q.shipping, cur))
        tax = sum(q.taxes) + ship_tax
        if tax:  # tax amounts rarely repeat: made, not cached
            items.append(make("TAX", None, tax_label, tax, cur))
        return tuple(items)

    def memo_items(self, before: Quick, after: Quick, vs: Sequence, removed: Sequence[int],
                   cur: str, tax_label: str) -> tuple:
        """One item per line whose net changed, shipping and tax: what the memo credits."""
        items = []
        for i, v in enumerate(vs):
            d = before.net_ex(i) - after.net_ex(i)
            if d:
                k = removed[i]
                if k:
                    text = f"{v.description} × {k} cancelled"
                else:
                    text = f"{v.description}: discount reallocated"
                items.append(self.item("LINE", i + 1, text, d, cur))
        ds = before.shipping_ex - after.shipping_ex
        if ds:
            items.append(self.item("SHIPPING", None, "Shipping", ds, cur))
        dt = before.tax - after.tax
        if dt:
            items.append(self.item("TAX", None, tax_label, dt, cur))
        return tuple(items)


# --------------------------------------------------------------------------------------------------
# The invariant
# --------------------------------------------------------------------------------------------------


# The engine's own sums: one definition of DOMAIN §5 for the demo, the store and the tests.
Balance = LedgerSums


def ledger_balance(docs: Iterable[object], currency: str) -> Balance:
    return ledger_sums(docs, currency)  # type: ignore[arg-type]


def order_balance(order: Order) -> Balance:
    return ledger_balance(order.documents, order.currency)
