"""The deterministic demo business: catalog, stores, customers and orders, for the demo store and
the tests.

Pure Python over the engine's models: no clock, no global random, no I/O, no sqlite3 or textual::

    from carecli.demo import reference, generate, DEMO_NOW, SEED_CASE_REF
    ref = reference()                    # the catalog (variants) and the click & collect stores
    for dc, orders in generate(10_000):  # one customer at a time, with their orders
        ...

* :func:`reference` is the same for every seed: 50 products, ~370 variants, 7 stores (one closed).
* :func:`generate` is a pure function of ``(orders, seed, now)``; it streams, so a loader can take a
  million orders without holding them. The first orders are always the named :data:`SCENARIOS`
  (``ON-100001`` … ``ON-100020``, the same for every seed), the first of them the seed's case
  :data:`SEED_CASE_REF`; the random business follows in blocks of customers, each with random
  streams of its own seeded from ``(seed, block)`` (see ``generator``): :func:`plan` lays the blocks
  out and :func:`generate_part` generates any run of them, so several processes can share the work
  and the business is the same whichever process made which block. A smaller demo is a prefix of a
  larger one with the same seed (the last customer's orders are cut short).
* Every order is priced by the policy's rules and carries its ledger: an ``ORDER`` invoice and a
  capture of its grand total, and for every later change a credit memo settled by a refund to the
  original payment (or store credit), so that per order captured − refunded − store credit =
  Σ invoices − Σ credit memos, refunded ≤ captured, and Σ invoices − Σ non-appeasement credit memos
  = the order's grand total as the engine prices it now. ``account.store_credit`` is the sum of the
  customer's store-credit documents. The tests replay a sample of the changes through the engine's
  ``plan()`` and get the same money.
* Document ids are deterministic: ``INV-<n>``, ``PAY-<n>``, ``CM-<n>-<k>``, ``RF-<n>-<k>``,
  ``SC-<n>-<k>``, ``DSC-<n>-1`` (n the digits of the order ref, k the k-th change). Customers are
  ``CUS-000001``, accounts ``BA-000001``, cards ``PM-000001-1``. Refs pass ``ON-999999`` into seven
  digits past 899,999 orders.
* ``order.version`` is 1 plus the number of money-moving changes the order went through
  (cancellation, quantity reduction, short pick, appeasement); fulfilment progress does not count.
* The bulk models are built without validation (see ``_fast``) and priced by an integer twin of
  ``pricing.price`` (``ledger.QuickPricer``); the tests prove both against validation and
  ``price()``. :meth:`PartGenerator.stored` gives the same business as the store keeps it, its JSON
  written without the models (:mod:`carecli.demo.stored`, byte for byte ``model_dump_json``'s).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Iterator, Sequence

from ..engine.model import BillingAccount, Customer, Order, PickupLocation, Variant
from ..engine.policy import Policy, default_policy
from ._fast import MoneyCache
from .catalog import WAREHOUSE_FOR_COUNTRY, WAREHOUSES, build_locations, build_variants
from .customers import DECLINING_LAST4
from .generator import BLOCK_CUSTOMERS, WINDOW_DAYS, Block, Plan, plan
from .generator import generate_part as _generate_part
from .orders import OrderFactory
from .ledger import Balance, ledger_balance, order_balance
from .scenarios import (
    SCENARIO_DESCRIPTIONS, SCENARIOS, SEED_CASE_NEW_ADDRESS, SEED_CASE_OLD_ADDRESS, SEED_CASE_REF,
)

if TYPE_CHECKING:
    from .stored import StoredCustomer, StoredOrder

DEMO_NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
"""The fixed clock of the demo store and of all tests (a Friday afternoon, UTC)."""


@dataclass(frozen=True)
class DemoReference:
    variants: tuple[Variant, ...]
    locations: tuple[PickupLocation, ...]  # click & collect stores, with opening hours


@dataclass(frozen=True)
class DemoCustomer:
    customer: Customer
    account: BillingAccount  # store_credit = Σ StoreCredit documents over the customer's orders


def reference() -> DemoReference:
    """The catalog and the stores: fresh models on every call (variants hold dicts, not shared)."""
    return DemoReference(variants=build_variants(), locations=build_locations())


def generate(
    orders: int = 10_000, seed: int = 7, now: datetime = DEMO_NOW, *, policy: Policy | None = None,
) -> Iterator[tuple[DemoCustomer, list[Order]]]:
    """Customers one at a time with their orders: exactly ``orders`` orders in all, refs ascending.

    Lazy: nothing is built until the first item is asked for, and only one customer is held at a
    time. ``policy`` defaults to the built-in one; any policy must know the demo's markets, shipping
    methods and tax places (a :class:`ValueError` says which is missing).
    """
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
        raise ValueError(f"orders must be a whole number >= 0, not {orders!r}")
    if not isinstance(seed, int):
        raise ValueError(f"seed must be an int, not {seed!r}")
    if now.tzinfo is None or now.utcoffset() != UTC.utcoffset(None):
        raise ValueError("now must be an aware datetime in UTC")
    pol = policy if policy is not None else default_policy()
    ref = reference()
    return _stream(orders, seed, now, pol, ref)


class PartGenerator:
    """Runs of one demo's :func:`plan`, generated one after another with shared caches.

    ``PartGenerator(seed)(scenarios, blocks)`` is :func:`generate_part`; a worker that generates many
    runs keeps one, so the pricing and document caches stay warm (the output is the same without).
    """

    def __init__(self, seed: int = 7, now: datetime = DEMO_NOW, *, policy: Policy | None = None,
                 ref: DemoReference | None = None) -> None:
        self.seed, self.now = seed, now
        self.policy = policy if policy is not None else default_policy()
        self.ref = ref if ref is not None else reference()
        self.factory = OrderFactory(self.policy, self.ref.variants, self.ref.locations)
        self.money = MoneyCache()

    def __call__(self, scenarios: int, blocks: Sequence[Block]
                 ) -> Iterator[tuple[DemoCustomer, list[Order]]]:
        money = self.money
        for cust, order_list, credit in _generate_part(
                scenarios, blocks, self.seed, self.now, self.policy, self.ref.variants,
                self.ref.locations, self.factory):
            customer, account = cust.models(credit, money)
            yield DemoCustomer(customer, account), order_list

    def stored(self, scenarios: int, blocks: Sequence[Block]
               ) -> Iterator[tuple["StoredCustomer", list["StoredOrder"]]]:
        """The same run as the store keeps it: each customer's and account's JSON, each order's
        columns, JSON and documents (:mod:`carecli.demo.stored`), written without the models."""
        from .stored import StoredCustomer

        money = self.money
        for cust, order_list, credit in _generate_part(
                scenarios, blocks, self.seed, self.now, self.policy, self.ref.variants,
                self.ref.locations, self.factory, stored=True):
            yield StoredCustomer.of(cust, money(credit, cust.currency)), order_list

    def model(self, stored: "StoredOrder") -> Order:
        """The models of an order :meth:`stored` wrote (built again from its draft)."""
        return self.factory.finish(stored.draft)[0]


def generate_part(
    scenarios: int, blocks: Sequence[Block], seed: int = 7, now: datetime = DEMO_NOW, *,
    policy: Policy | None = None, ref: DemoReference | None = None,
) -> Iterator[tuple[DemoCustomer, list[Order]]]:
    """A run of a demo's :func:`plan`: its first ``scenarios`` named scenarios, then ``blocks``.

    ``generate(n, seed)`` is ``generate_part`` over all of ``plan(n, seed)``; a loader may hand
    consecutive runs of the plan to different processes and get the same business back.
    """
    return PartGenerator(seed, now, policy=policy, ref=ref)(scenarios, blocks)


def _stream(orders: int, seed: int, now: datetime, policy: Policy, ref: DemoReference
            ) -> Iterator[tuple[DemoCustomer, list[Order]]]:
    p = plan(orders, seed)
    yield from PartGenerator(seed, now, policy=policy, ref=ref)(p.scenarios, p.blocks)


__all__ = [
    "BLOCK_CUSTOMERS", "Block", "PartGenerator", "Plan", "DEMO_NOW", "DECLINING_LAST4", "DemoCustomer", "DemoReference", "SCENARIOS",
    "SCENARIO_DESCRIPTIONS", "SEED_CASE_NEW_ADDRESS", "SEED_CASE_OLD_ADDRESS", "SEED_CASE_REF",
    "WAREHOUSES", "WAREHOUSE_FOR_COUNTRY", "WINDOW_DAYS", "Balance", "generate", "generate_part",
    "ledger_balance", "order_balance", "plan", "reference",
]
