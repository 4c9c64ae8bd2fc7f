"""Pricing: line nets, discount allocation, shipping and tax, to the minor unit.

* line gross = unit price × live quantity;
* line discounts come off their line; order discounts are summed and allocated to the lines pro rata
  to what is left of each line, by largest remainder, so the parts add up to the whole;
* tax is computed per line and on shipping, each rounded on its own (policy rounding mode), at the
  rate of the destination (home delivery) or the store (click & collect);
* in a tax-exclusive market tax is added; in a tax-inclusive one it is the part contained in the
  price, ``net × rate / (1 + rate)``;
* shipping is the method's fee unless the merchandise after discounts reaches its free-over
  threshold; click & collect, an order with nothing live and a no-charge replacement (every live
  line priced at zero) ship free.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, NamedTuple

from .model import Address, ClickAndCollect, Discount, Order, PickupLocation
from .money import Money, rounding_mode
from .policy import Policy, TaxJurisdiction

_HUNDRED = Decimal(100)


class PricingError(ValueError):
    """The order cannot be priced (no tax jurisdiction, unknown shipping method, no store)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class LinePrice(NamedTuple):
    """One line's figures. Kept as Decimals in the order's currency (pricing builds one per line,
    twice per plan); each figure is read as Money through the properties below."""

    line_id: int
    quantity: int
    currency: str
    gross_d: Decimal  # unit price × live quantity
    line_discount_d: Decimal
    order_discount_d: Decimal  # this line's share of the order-level discounts
    net_d: Decimal  # gross − discounts, as priced (tax-inclusive in an inclusive market)
    tax_d: Decimal
    total_d: Decimal  # what the customer pays for the line

    @property
    def gross(self) -> Money:
        return Money._exact(self.gross_d, self.currency)

    @property
    def line_discount(self) -> Money:
        return Money._exact(self.line_discount_d, self.currency)

    @property
    def order_discount(self) -> Money:
        return Money._exact(self.order_discount_d, self.currency)

    @property
    def net(self) -> Money:
        return Money._exact(self.net_d, self.currency)

    @property
    def tax(self) -> Money:
        return Money._exact(self.tax_d, self.currency)

    @property
    def total(self) -> Money:
        return Money._exact(self.total_d, self.currency)

    @property
    def net_ex_tax(self) -> Money:
        return Money._exact(self.total_d - self.tax_d, self.currency)


@dataclass(frozen=True)
class Totals:
    currency: str
    tax_mode: str
    lines: tuple[LinePrice, ...]
    subtotal: Money  # Σ gross
    discounts: Money  # Σ line and order discounts
    shipping: Money  # as priced (tax-inclusive in an inclusive market)
    shipping_tax: Money
    tax: Money  # Σ line tax + shipping tax (contained, in an inclusive market)
    grand_total: Money
    jurisdiction: str
    rate: Decimal
    discount_amounts: tuple[tuple[str, Money], ...]  # (discount id, amount it took off)

    def line(self, line_id: int) -> LinePrice | None:
        by_id = self.__dict__.get("_by_id") if hasattr(self, "__dict__") else None
        if by_id is None:
            by_id = {lp.line_id: lp for lp in self.lines}
            object.__setattr__(self, "_by_id", by_id)
        return by_id.get(line_id)

    @property
    def shipping_ex_tax(self) -> Money:
        return self.shipping if self.tax_mode == "EXCLUSIVE" else self.shipping - self.shipping_tax

    def appeasement_discount(self, appeasement_ids: set[str]) -> Money:
        acc = Money.zero(self.currency)
        for did, amt in self.discount_amounts:
            if did in appeasement_ids:
                acc = acc + amt
        return acc


def tax_place(order: Order, locations: Mapping[str, PickupLocation]) -> Address:
    f = order.fulfilment
    if isinstance(f, ClickAndCollect):
        loc = locations.get(f.location_id)
        if loc is None:
            raise PricingError("pickup.unknown_location", f"store {f.location_id} is not a known pickup location")
        return loc.address
    return f.address


def jurisdiction(order: Order, policy: Policy, locations: Mapping[str, PickupLocation]) -> TaxJurisdiction:
    place = tax_place(order, locations)
    j = policy.tax_for(place.country, place.region, place.city)
    if j is None:
        raise PricingError(
            "tax.no_jurisdiction",
            f"no tax rate is set up for {place.city}, {place.region} {place.country}".replace(" ,", ","),
        )
    return j


def _discount_amount(d: Discount, base: Money, rounding: str) -> Money:
    if d.percent is not None:
        amt = Money.round(base.amount * d.percent / _HUNDRED, base.currency, rounding)
    elif d.amount is not None:
        amt = d.amount
    else:
        amt = Money.zero(base.currency)
    if amt > base:
        amt = base
    return amt


def _tax(net: Money, rate: Decimal, inclusive: bool, rnd: str) -> Money:
    if not rate:
        return Money.zero(net.currency)
    raw = net.amount * rate / (1 + rate) if inclusive else net.amount * rate
    return Money.round(raw, net.currency, rnd)


def price(order: Order, policy: Policy, locations: Mapping[str, PickupLocation]) -> Totals:
    """Price an order as it stands. Raises :class:`PricingError` when it cannot be priced."""
    cur = order.currency
    rnd_name = policy.rounding
    mode = rounding_mode(rnd_name)
    quantum = Money.zero(cur).amount
    inclusive = order.tax_mode == "INCLUSIVE"
    zero = Money.zero(cur)
    exact = Money._exact
    j = jurisdiction(order, policy, locations)
    rate = j.rate

    line_disc: dict[int, list[Discount]] = {}
    order_disc: list[Discount] = []
    for d in order.discounts:
        if d.line_id is None:
            order_disc.append(d)
        else:
            line_disc.setdefault(d.line_id, []).append(d)

    # The hot loop works on Decimals and builds Money once per figure (plan() prices twice per call).
    discount_amounts: list[tuple[str, Money]] = []
    gross: list[Decimal] = []
    after_line: list[Decimal] = []
    for ln in order.lines:
        q = ln.quantity
        g = ln.unit_price.amount * q if q > 0 else quantum
        left = g
        for d in line_disc.get(ln.line_id, ()):
            amt = _discount_amount(d, exact(left, cur), rnd_name)
            discount_amounts.append((d.id, amt))
            left -= amt.amount
        gross.append(g)
        after_line.append(left)

    base = exact(sum(after_line, quantum), cur)
    order_total_disc = zero
    for d in order_disc:
        amt = _discount_amount(d, base - order_total_disc, rnd_name)
        discount_amounts.append((d.id, amt))
        order_total_disc = order_total_disc + amt
    if order_total_disc.is_zero:
        shares = [quantum] * len(after_line)
    else:
        shares = [m.amount for m in order_total_disc.allocate(after_line)]

    prices: list[LinePrice] = []
    sub = disc = tax_sum = total_sum = merch = quantum
    one_plus = 1 + rate
    for ln, g, left, share in zip(order.lines, gross, after_line, shares):
        net = left - share
        if ln.tax_category == "exempt" or not rate:
            t = quantum
        else:
            t = (net * rate / one_plus if inclusive else net * rate).quantize(quantum, rounding=mode)
        tot = net if inclusive else net + t
        prices.append(LinePrice(ln.line_id, max(ln.quantity, 0), cur, g, g - left, share, net, t, tot))
        sub += g
        disc += g - net
        tax_sum += t
        total_sum += tot
        merch += net
    sub, disc, tax_sum, total_sum, merch = (exact(x, cur) for x in (sub, disc, tax_sum, total_sum, merch))

    shipping = zero
    live = any(ln.quantity > 0 for ln in order.lines)
    # A no-charge replacement (every live line priced at zero) ships free: there is nothing to charge
    # shipping on. A paid line added to it later brings the shipping fee back.
    charged = any(ln.quantity > 0 and ln.unit_price.amount for ln in order.lines)
    if live and charged and order.fulfilment.kind == "HOME_DELIVERY":
        method = policy.shipping_method(order.fulfilment.shipping_method)
        if method is None:
            raise PricingError("shipping.unknown_method",
                               f"shipping method {order.fulfilment.shipping_method} is not offered")
        fee = method.fee.get(cur)
        if fee is None:
            raise PricingError("shipping.currency", f"shipping method {method.code} has no fee in {cur}")
        threshold = method.free_over.get(cur)
        shipping = zero if (threshold is not None and merch >= threshold) else fee
    ship_tax = _tax(shipping, rate if j.shipping_taxable else Decimal(0), inclusive, rnd_name)
    grand = total_sum + shipping + (zero if inclusive else ship_tax)
    return Totals(
        currency=cur, tax_mode=order.tax_mode, lines=tuple(prices), subtotal=sub, discounts=disc,
        shipping=shipping, shipping_tax=ship_tax, tax=tax_sum + ship_tax, grand_total=grand,
        jurisdiction=j.name, rate=rate, discount_amounts=tuple(discount_amounts),
    )
