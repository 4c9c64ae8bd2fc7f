"""The random part of the demo business: customers and their orders, one block of customers at a time.

The business after the named scenarios is cut into blocks of :data:`BLOCK_CUSTOMERS` customers. Each
block draws from two random streams of its own, seeded from ``(seed, block index)``: one gives the
number of orders of each of its customers (cheap, so anyone can lay out every block's first customer
number and first order ref — :func:`plan`), the other everything else. A block is therefore a pure
function of (seed, now, its index, where it is cut) and blocks can be generated in any process, in any
order: the same seed gives the same business however many processes build it. A smaller demo is a
prefix of a larger one with the same seed (only the last customer's orders are cut short).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import floor  # floor(x) costs 40 % of int(x) for x >= 0, and every random draw uses one
from typing import Iterable, Iterator

from ..engine.policy import Policy
from .customers import Cust, random_customer
from .ledger import PromoDiscount
from .orders import (
    ALLOCATED, BOOKED, DELIVERED, DISPATCHED, PACKED, PICKED, READY, DLine, Draft, Event,
    OrderFactory, VInfo,
)
from .scenarios import FIRST_REF, SCENARIO_NAMES, build_scenarios

BLOCK_CUSTOMERS = 1000  # customers per block (part of the demo's definition: it shapes the streams)
WINDOW_DAYS = 120  # orders are placed over the 120 days before ``now``
_WINDOW_S = WINDOW_DAYS * 86400
_RECENT_S = 7 * 86400

# Order-count per customer: 1 (55 %), 2 (24 %), 3 (11 %), 4 (5 %), 5 (3 %), 6 (2 %).
_ORDERS_CUM = (0.55, 0.79, 0.90, 0.95, 0.98, 1.0)
# Lines per order: 1 (45 %), 2 (30 %), 3 (15 %), 4 (7 %), 5 (3 %) -- see RandomBusiness.order.

_PERCENT_PROMOS = (((10, 1), "WELCOME10"), ((15, 1), "FALL15"), ((20, 1), "VIP20"))
_FIXED_PROMOS = {  # currency -> ((amount, minimum basket, label), ...) in minor units
    "USD": ((1000, 5000, "SAVE10"), (2500, 15000, "SAVE25")),
    "AUD": ((1500, 7500, "SAVE15"), (3500, 20000, "SAVE35")),
    "EUR": ((1000, 5000, "SAVE10"), (2000, 15000, "SAVE20")),
}
_APPEASE = {"USD": (500, 1000, 1500, 2000, 2500), "AUD": (1000, 1500, 2000, 3000),
            "EUR": (500, 1000, 1500, 2000)}
_CANCEL_REASONS = ("CUSTOMER_REQUEST", "CUSTOMER_REQUEST", "CHANGED_MIND", "CHANGED_MIND",
                   "FRAUD_SUSPECTED")
_TRANSIT_S = {"STANDARD": (44 * 3600, 120 * 3600), "EXPRESS": (20 * 3600, 50 * 3600),
              "NEXT_DAY": (12 * 3600, 30 * 3600)}
_HOME_STEPS = (ALLOCATED, PICKED, PACKED, DISPATCHED, DELIVERED)
_COLLECT_STEPS = (ALLOCATED, PICKED, PACKED, DISPATCHED, READY, DELIVERED)


def _stream(seed: int, block: int, kind: str) -> random.Random:
    """The random stream ``kind`` of a block: seeded from text, which ``random`` hashes with SHA-512,
    so it is the same in every process and on every platform."""
    return random.Random(f"carecli-demo/{seed}/{block}/{kind}")


def order_counts(seed: int, block: int) -> list[int]:
    """Orders of each customer of a block, in customer order (before any cut)."""
    r = _stream(seed, block, "counts").random
    cum = _ORDERS_CUM
    return [bisect_right(cum, r()) + 1 for _ in range(BLOCK_CUSTOMERS)]


@dataclass(frozen=True, slots=True)
class Block:
    """Where a block of random customers sits in the demo business."""

    index: int
    first_no: int  # customer number of its first customer (CUS-<no>, and the store's row id)
    first_ref: int  # ref number of its first order (ON-<ref>)
    orders: int  # orders it holds: all its customers' unless it is the last block, cut short


@dataclass(frozen=True, slots=True)
class Plan:
    """The layout of a demo of ``orders`` orders: the named scenarios it holds, then its blocks."""

    orders: int
    scenarios: int  # how many of the named scenarios (all of them unless the demo is smaller)
    blocks: tuple[Block, ...]


def plan(orders: int, seed: int) -> Plan:
    """Lay the demo out in blocks: cheap (one random number per customer)."""
    n_sc = min(orders, len(SCENARIO_NAMES))
    remaining = orders - n_sc
    blocks: list[Block] = []
    no, ref, b = len(SCENARIO_NAMES) + 1, FIRST_REF + len(SCENARIO_NAMES), 0
    while remaining > 0:
        take = min(sum(order_counts(seed, b)), remaining)
        blocks.append(Block(b, no, ref, take))
        no += BLOCK_CUSTOMERS
        ref += take
        remaining -= take
        b += 1
    return Plan(orders, n_sc, tuple(blocks))


def _reached(times: tuple[int, ...], steps: tuple[int, ...], age: int) -> int:
    """The last step whose time (seconds after placing) is not after ``age``."""
    step = BOOKED
    for t, st in zip(times, steps):
        if t > age:
            break
        step = st
    return step


class RandomBusiness:
    def __init__(self, factory: OrderFactory, seed: int, now: datetime) -> None:
        self.f = factory
        self.seed = seed
        self.rng = _stream(seed, 0, "business")
        self.now = now
        # Products per currency, each with its sellable in-stock variants; backorder-only variants.
        self.products: dict[str, list[list[VInfo]]] = {}
        self.backorder: dict[str, list[VInfo]] = {}
        by_product: dict[str, dict[str, list[VInfo]]] = {}
        for v in factory.variants.values():
            for cur in v.prices:
                if v.sellable and v.backorder_only:
                    self.backorder.setdefault(cur, []).append(v)
                elif v.sellable and v.in_stock:
                    by_product.setdefault(cur, {}).setdefault(v.product_id, []).append(v)
        for cur, prods in by_product.items():
            self.products[cur] = [prods[k] for k in sorted(prods)]
        for lst in self.backorder.values():
            lst.sort(key=lambda v: v.sku)

    # ------------------------------------------------------------------------------------------
    def block(self, blk: Block, stored: bool = False) -> Iterator[tuple[Cust, list, int]]:
        """The customers of one block with their orders, ``blk.orders`` orders in all: models, or
        with ``stored`` the orders as the store keeps them (``OrderFactory.finish_stored``)."""
        self.rng = rng = _stream(self.seed, blk.index, "business")
        counts = order_counts(self.seed, blk.index)
        no, ref = blk.first_no, blk.first_ref
        remaining = blk.orders
        now = self.now
        finish = self.f.finish_stored if stored else self.f.finish
        for n in counts:
            if remaining <= 0:
                return
            cust = random_customer(rng, no, now)
            if n == 1:
                ages = [self._age()]
            else:
                ages = sorted((self._age() for _ in range(n)), reverse=True)
                if n > remaining:  # the last customer: cut short, the same orders as far as they go
                    n = remaining
                    del ages[n:]
            orders: list = []
            credit = 0
            for age in ages:
                order, sc = finish(self.order(cust, ref, now - timedelta(0, age), age))
                orders.append(order)
                credit += sc
                ref += 1
            yield cust, orders, credit
            remaining -= n
            no += 1

    def _age(self) -> int:
        r = self.rng.random
        span = _RECENT_S if r() < 0.3 else _WINDOW_S
        return 60 + floor(r() * span)

    # ------------------------------------------------------------------------------------------
    def order(self, c: Cust, ref_no: int, placed: datetime, age: int) -> Draft:
        r = self.rng.random
        cur = c.currency
        # Fulfilment: click & collect for some of the customers who live near a store.
        stores = c.metro.stores
        if stores and r() < 0.22:
            store = stores[0] if r() < 0.85 or len(stores) == 1 else stores[1]
            ful, rate, ship = self.f.collect_at(store)
            method = ""
        else:
            x = r()
            method = "STANDARD" if x < 0.7 else ("EXPRESS" if x < 0.9 else "NEXT_DAY")
            home = c.homes.get(method)
            if home is None:
                home = c.homes[method] = self.f.home(c.address, method, cur)
            ful, rate, ship = home
        # Lines: distinct products, a size/colour of each.
        products = self.products[cur]
        n_products = len(products)
        x = r()
        n_lines = 1 if x < 0.45 else (2 if x < 0.75 else (3 if x < 0.9 else (4 if x < 0.97 else 5)))
        chosen: list[int] = []
        lines: list[DLine] = []
        while len(lines) < n_lines:
            i = floor(r() * n_products)
            if i in chosen:
                continue
            chosen.append(i)
            variants = products[i]
            x = r()
            lines.append(DLine(variants[floor(r() * len(variants))],
                               1 if x < 0.86 else (2 if x < 0.97 else 3)))
        # A promotional discount on some orders.
        promo = None
        if r() < 0.08:
            promo = self._promo(cur, ref_no, lines)
        x = r()
        channel = "web" if x < 0.78 else ("app" if x < 0.95 else "phone")
        cards = c.cards
        card = cards[0] if (len(cards) == 1 or r() < 0.75) else cards[1]
        d = Draft(ref_no, placed, c.market, cur, c.inclusive, c.id, c.account_id, card.id, ful,
                  rate, ship, lines, channel, promo, [])
        self._progress(d, method, age)
        self._exceptions(d, age)
        return d

    def _promo(self, cur: str, ref_no: int, lines: list[DLine]):
        r = self.rng.random
        did = f"DSC-{ref_no}-1"
        if r() < 0.6:
            pct, label = _PERCENT_PROMOS[floor(r() * len(_PERCENT_PROMOS))]
            return PromoDiscount(did, pct, None), label
        gross = sum(ln.v.prices[cur] * ln.ordered for ln in lines)
        fits = [p for p in _FIXED_PROMOS[cur] if gross >= p[1]]
        if fits:
            amount, _, label = fits[floor(r() * len(fits))]
            return PromoDiscount(did, None, amount), label
        return None

    def _progress(self, d: Draft, method: str, age: int) -> None:
        """Fulfilment steps per line: a timeline (seconds after placing) against the age."""
        r = self.rng.random
        t_alloc = 120 + floor(r() * 5400)
        t_pick = t_alloc + 3600 + floor(r() * 68400)
        t_pack = t_pick + 1200 + floor(r() * 9600)
        t_disp = t_pack + 3600 + floor(r() * 25200)
        if d.collect:
            t_ready = t_disp + 10800 + floor(r() * 97200)
            t_done = t_ready + 7200 + floor(r() * 511200)
            times = (t_alloc, t_pick, t_pack, t_disp, t_ready, t_done)
            steps = _COLLECT_STEPS
        else:
            lo, hi = _TRANSIT_S[method]
            t_done = t_disp + lo + floor(r() * (hi - lo))
            times = (t_alloc, t_pick, t_pack, t_disp, t_done)
            steps = _HOME_STEPS
        lines = d.lines
        second = len(lines)
        later = times
        if second > 1 and not d.collect and r() < 0.08:  # a split shipment: a second parcel later
            second = floor(r() * (second - 1)) + 1
            delay = 86400 + floor(r() * 3 * 86400)
            later = (t_alloc, *(t + delay for t in times[1:]))
        placed = d.placed
        step = _reached(times, steps, age)
        done = placed + timedelta(0, t_done) if step == DELIVERED else None
        for ln in lines[:second]:
            ln.step = step
            ln.pick_off = t_pick
            ln.delivered_at = done
        if second < len(lines):
            step = _reached(later, steps, age)
            done = placed + timedelta(0, later[-1]) if step == DELIVERED else None
            for ln in lines[second:]:
                ln.step = step
                ln.pick_off = later[1]
                ln.delivered_at = done
        # Now and then a line of a recent order is backordered (a backorderable item out of stock).
        if age < 864000 and r() < 0.04 and len(lines) < 5:
            bo = self.backorder.get(d.currency)
            if bo:
                v = bo[floor(r() * len(bo))]
                if all(ln.v.product_id != v.product_id for ln in lines):
                    expected = (self.now + timedelta(days=4 + floor(r() * 22))).date()
                    lines.append(DLine(v=v, ordered=1, step=BOOKED, backorder_expected=expected))

    def _exceptions(self, d: Draft, age: int) -> None:
        """Cancellations, quantity reductions, short picks and appeasements: the money events."""
        r = self.rng.random
        now = self.now
        placed = d.placed
        lines = d.lines
        x = r()
        if x < 0.075:
            first_pick = min(ln.pick_off for ln in lines if ln.pick_off >= 0)
            before_pick = min(first_pick, age)  # seconds after placing
            if x < 0.03:
                at = placed + timedelta(0, floor(before_pick * (0.05 + 0.9 * r())))
                reason = _CANCEL_REASONS[floor(r() * len(_CANCEL_REASONS))]
                for ln in lines:
                    ln.step = BOOKED
                    ln.delivered_at = None
                d.events.append(Event(at=at, kind="cancel", reason=reason))
                return
            if x < 0.05:
                multi = [i for i, ln in enumerate(lines) if ln.ordered >= 2]
                if multi:
                    i = multi[floor(r() * len(multi))]
                    if self._lowers(d, i, 1):
                        at = placed + timedelta(0, floor(before_pick * (0.05 + 0.9 * r())))
                        d.events.append(Event(at=at, kind="reduce", line=i, units=1,
                                              reason="CUSTOMER_REQUEST"))
            else:
                picked = [i for i, ln in enumerate(lines) if ln.step >= PICKED]
                if picked:
                    i = picked[floor(r() * len(picked))]
                    ln = lines[i]
                    k = 1 if (ln.ordered > 1 and r() < 0.8) else ln.ordered
                    if self._lowers(d, i, k):
                        off = ln.pick_off + 300 + floor(r() * 2100)
                        at = placed + timedelta(0, min(off, age))
                        d.events.append(Event(at=at, kind="short", line=i, units=k,
                                              reason="SHORT_PICK"))
        # Goodwill for some late or troubled home deliveries.
        if not d.collect and r() < 0.04:
            delivered = [ln.delivered_at for ln in lines if ln.delivered_at is not None]
            if delivered and len(delivered) == len(lines):
                at = max(delivered) + timedelta(0, 7200 + floor(r() * 259200))
                amounts = _APPEASE[d.currency]
                amount = amounts[floor(r() * len(amounts))]
                if at <= now and amount < self._current_total(d):
                    reason = "LATE_DELIVERY" if r() < 0.6 else "SERVICE_RECOVERY"
                    settle = "store_credit" if r() < 0.6 else "refund"
                    d.events.append(Event(at=at, kind="appease", units=amount, reason=reason,
                                          settle=settle))

    def _quick(self, d: Draft, qtys: list[int]):
        promos = [d.promo[0]] if d.promo else []
        return self.f.pricer.price([ln.v.prices[d.currency] for ln in d.lines], qtys,
                                   [ln.v.tax_category == "exempt" for ln in d.lines], promos,
                                   d.rate, d.inclusive, d.ship)

    def _lowers(self, d: Draft, i: int, k: int) -> bool:
        """Whether taking k units off line i lowers the grand total (shipping can go up)."""
        qtys = [ln.ordered for ln in d.lines]
        before = self._quick(d, qtys).grand
        qtys[i] -= k
        return self._quick(d, qtys).grand < before

    def _current_total(self, d: Draft) -> int:
        qtys = [ln.ordered for ln in d.lines]
        for ev in d.events:
            if ev.kind in ("reduce", "short"):
                qtys[ev.line] -= ev.units
        return self._quick(d, qtys).grand


def generate_part(scenarios: int, blocks: Iterable[Block], seed: int, now: datetime, policy: Policy,
                  variants, locations, factory: OrderFactory | None = None, stored: bool = False
                  ) -> Iterator[tuple[Cust, list, int]]:
    """The first ``scenarios`` named scenarios, then the given blocks, in that order. A ``factory``
    kept across calls keeps its caches warm (its output does not depend on them). The orders are
    models (:class:`Order`), or with ``stored`` the orders as the store keeps them
    (``demo.stored.StoredOrder``)."""
    if factory is None:
        factory = OrderFactory(policy, variants, locations)
    finish = factory.finish_stored if stored else factory.finish
    if scenarios:
        for sc in build_scenarios(factory, now)[:scenarios]:
            order, credit = finish(sc.draft)
            yield sc.customer, [order], credit
    business = RandomBusiness(factory, seed, now)
    for blk in blocks:
        yield from business.block(blk, stored)


__all__ = ["BLOCK_CUSTOMERS", "Block", "Plan", "RandomBusiness", "WINDOW_DAYS", "generate_part",
           "order_counts", "plan"]
