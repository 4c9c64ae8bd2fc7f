"""Every demo order is in a state the lifecycle of DOMAIN.md §2 can reach, and all stages occur."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from carecli.demo import DEMO_NOW, WINDOW_DAYS
from carecli.engine.model import ClickAndCollect, HomeDelivery, Stage, order_stage


def test_line_buckets_are_consistent(orders, catalog):
    for o in orders:
        collect = isinstance(o.fulfilment, ClickAndCollect)
        for ln in o.lines:
            q = ln.quantity
            where = f"{o.ref} line {ln.line_id}"
            assert ln.ordered >= 1 and 0 <= ln.cancelled <= ln.ordered, where
            assert 0 <= ln.short_picked <= ln.cancelled, where
            # allocated ⊇ picked ⊇ packed ⊇ dispatched ⊇ (ready) ⊇ delivered, all ≤ live quantity
            assert q >= ln.allocated >= ln.picked >= ln.packed >= ln.dispatched >= 0, where
            if collect:
                assert ln.dispatched >= ln.ready >= ln.delivered, where
            else:
                assert ln.ready == 0 and ln.dispatched >= ln.delivered, where
            assert ln.return_initiated == ln.returned == 0, where
            assert (ln.delivered_at is not None) == (ln.delivered > 0), where
            assert (ln.backorder_expected is not None) == (ln.backordered > 0), where
            assert ln.backordered <= q - ln.allocated, where
            if ln.backordered:
                assert ln.backorder_expected > DEMO_NOW.date(), where
            # the line is the catalog's variant, at its price in the order's currency
            v = catalog[ln.sku]
            assert ln.unit_price == v.prices[o.currency], where
            assert ln.description == v.description and ln.category == v.category, where
            assert ln.final_sale == v.final_sale and ln.tax_category == v.tax_category, where


def test_orders_refs_and_times(orders):
    assert [o.ref for o in orders] == [f"ON-{100001 + i}" for i in range(len(orders))]
    start = DEMO_NOW - timedelta(days=WINDOW_DAYS)
    for o in orders:
        assert start <= o.placed_at <= DEMO_NOW, o.ref
        assert o.placed_at.tzinfo is not None
        for d in o.documents:
            assert o.placed_at <= d.created_at <= DEMO_NOW, (o.ref, d.id)
        for ln in o.lines:
            if ln.delivered_at is not None:
                assert o.placed_at < ln.delivered_at <= DEMO_NOW, o.ref


def test_a_cancelled_order_has_nothing_live(orders):
    n = 0
    for o in orders:
        if order_stage(o) is Stage.CANCELLED:
            n += 1
            assert all(ln.quantity == 0 and ln.allocated == 0 for ln in o.lines)
            assert any(d.doc == "CREDIT_MEMO" and d.type in ("CANCELLATION", "SHORT_PICK")
                       for d in o.documents), o.ref
    assert n > 50


def test_stages_across_the_set(orders):
    stages = Counter(order_stage(o) for o in orders)
    assert set(stages) == set(Stage) - {Stage.CREATED}, stages
    # most orders of a 120-day history are done; plenty are in flight
    assert stages[Stage.DELIVERED] + stages[Stage.COLLECTED] > len(orders) / 2
    for s in (Stage.BOOKED, Stage.AWAITING_PICK, Stage.PICKING, Stage.PACKED, Stage.DISPATCHED,
              Stage.READY_FOR_COLLECTION):
        assert stages[s] >= 5, (s, stages)


def test_exceptions_and_partial_progress_occur(orders):
    short = [o for o in orders if any(ln.short_picked for ln in o.lines)]
    backordered = [o for o in orders if any(ln.backordered for ln in o.lines)]
    partly = [o for o in orders
              if any(ln.dispatched for ln in o.lines)
              and any(ln.quantity and not ln.dispatched for ln in o.lines)]
    assert len(short) > 20 and len(backordered) > 20 and len(partly) > 20
    in_window = out_window = 0
    for o in orders:
        if order_stage(o) in (Stage.DELIVERED, Stage.COLLECTED):
            last = max(ln.delivered_at for ln in o.lines if ln.delivered_at)
            if DEMO_NOW - last <= timedelta(days=30):
                in_window += 1
            else:
                out_window += 1
    assert in_window > 100 and out_window > 100


def test_fulfilment_choices(orders, policy, locations):
    methods = Counter()
    stores = Counter()
    for o in orders:
        f = o.fulfilment
        if isinstance(f, HomeDelivery):
            methods[f.shipping_method] += 1
            assert policy.shipping_method(f.shipping_method) is not None
            assert f.address.country == policy.market(o.market).country
        else:
            stores[f.location_id] += 1
            loc = locations[f.location_id]
            assert loc.active and loc.address.country == policy.market(o.market).country
    assert set(methods) == {"STANDARD", "EXPRESS", "NEXT_DAY"}
    assert stores and "ST-BOS" not in stores


def test_markets(orders, policy):
    markets = Counter(o.market for o in orders)
    assert set(markets) == {"US", "AU", "DE"}
    assert markets["US"] > markets["AU"] > markets["DE"] > 50
    for o in orders:
        m = policy.market(o.market)
        assert (o.currency, o.tax_mode) == (m.currency, m.tax_mode)
