"""The seed's case and the named scenarios: always there, always the same."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecli.demo import (
    DEMO_NOW, DECLINING_LAST4, SCENARIO_DESCRIPTIONS, SCENARIOS, SEED_CASE_NEW_ADDRESS,
    SEED_CASE_REF, generate,
)
from carecli.engine.model import (
    ClickAndCollect, CreditMemo, HomeDelivery, Refund, Stage, StoreCredit, line_stage, line_status,
    order_stage,
)
from carecli.engine.money import Money
from carecli.engine.pricing import price


@pytest.fixture(scope="module")
def small():
    """The smallest demo the scenarios are promised for: 20 orders."""
    return list(generate(20))


def _find(data, ref):
    for dc, os_ in data:
        for o in os_:
            if o.ref == ref:
                return dc, o
    raise AssertionError(f"{ref} not generated")


def test_every_scenario_exists_in_the_smallest_demo(small):
    refs = {o.ref for _, os_ in small for o in os_}
    assert len(refs) == 20
    assert set(SCENARIOS.values()) <= refs
    assert SEED_CASE_REF == "ON-100001" == SCENARIOS["chicago_jacket"]
    assert all(int(r[3:]) <= 100030 for r in SCENARIOS.values())
    assert set(SCENARIO_DESCRIPTIONS) == set(SCENARIOS)
    for name in ("chicago_jacket", "short_picked", "backordered", "partly_dispatched",
                 "delivered_in_window", "delivered_out_of_window", "click_and_collect_ready",
                 "cancelled", "with_credit_memo", "au_inclusive", "declining_card"):
        assert name in SCENARIOS


def test_scenarios_do_not_depend_on_seed_or_size(small):
    other = list(generate(40, seed=12345))
    for ref in SCENARIOS.values():
        assert _find(small, ref) == _find(other, ref)


def test_the_seed_case_is_the_first_order_whatever_the_size():
    (dc, os_), = list(generate(1))
    assert [o.ref for o in os_] == [SEED_CASE_REF]
    dc2, os2 = next(iter(generate(50_000, seed=99)))
    assert (dc, os_) == (dc2, os2)


def test_seed_case_facts(small, catalog, policy, locations):
    dc, o = _find(small, SEED_CASE_REF)
    c, acct = dc.customer, dc.account
    assert c.name == "Dana Whitfield" and c.email == "dana.whitfield@example.com" and c.phone
    assert [(pm.brand, pm.last4) for pm in acct.payment_methods] == [("Visa", "4242")]
    assert o.payment_method_id == acct.payment_methods[0].id
    assert o.market == "US" and o.currency == "USD" and o.tax_mode == "EXCLUSIVE"
    # the jacket in the wrong size, plus one cheaper item
    jacket, other = o.lines
    assert jacket.sku.startswith("JKT-ALP-M-") and jacket.unit_price == Money("189.00", "USD")
    assert catalog[jacket.sku].attributes["size"] == "M" and jacket.quantity == 1
    assert other.unit_price < jacket.unit_price and other.quantity == 1
    # the larger size costs more and is in stock
    larger = catalog[jacket.sku.replace("-M-", "-L-")]
    assert larger.prices["USD"] == Money("199.00", "USD") and larger.available > 0
    assert larger.sellable and larger.stock["WH-CHI"] > 0
    # delivered to an outdated Chicago address; she has moved to Milwaukee
    f = o.fulfilment
    assert isinstance(f, HomeDelivery) and f.shipping_method == "STANDARD"
    assert (f.address.city, f.address.region, f.address.country) == ("Chicago", "IL", "US")
    new = SEED_CASE_NEW_ADDRESS
    assert (new.city, new.region, new.country) == ("Milwaukee", "WI", "US") and new != f.address
    assert new.name == c.name and new.postcode.startswith("532")
    assert policy.tax_for(new.country, new.region, new.city).name == "Milwaukee, WI"
    # awaiting pick: allocated, nothing picked; placed two days ago
    assert order_stage(o) is Stage.AWAITING_PICK
    assert all(ln.allocated == ln.quantity and ln.picked == 0 for ln in o.lines)
    assert (DEMO_NOW - o.placed_at).days == 2
    assert o.placed_at.date() == (DEMO_NOW - timedelta(days=2)).date()
    assert o.version == 1 and len(o.documents) == 2
    assert price(o, policy, locations).grand_total == Money("239.24", "USD")


def test_each_scenario_is_what_its_name_says(small, policy):
    get = lambda name: _find(small, SCENARIOS[name])  # noqa: E731

    _, o = get("short_picked")
    assert any(ln.short_picked for ln in o.lines) and order_stage(o) is Stage.PICKING
    assert [d.type for d in o.documents if isinstance(d, CreditMemo)] == ["SHORT_PICK"]
    assert any(isinstance(d, Refund) for d in o.documents)

    _, o = get("backordered")
    bo = [ln for ln in o.lines if ln.backordered]
    assert bo and bo[0].backorder_expected > DEMO_NOW.date()
    assert "BACKORDERED" in line_status(bo[0])

    _, o = get("partly_dispatched")
    assert any(ln.dispatched == ln.quantity for ln in o.lines)
    assert any(ln.dispatched == 0 and ln.packed == ln.quantity for ln in o.lines)

    _, o = get("delivered_in_window")
    assert order_stage(o) is Stage.DELIVERED
    window = timedelta(days=policy.returns.window_days)
    assert all(DEMO_NOW - ln.delivered_at < window for ln in o.lines)

    _, o = get("delivered_out_of_window")
    assert order_stage(o) is Stage.DELIVERED
    assert all(DEMO_NOW - ln.delivered_at > window for ln in o.lines)

    _, o = get("click_and_collect_ready")
    assert isinstance(o.fulfilment, ClickAndCollect)
    assert order_stage(o) is Stage.READY_FOR_COLLECTION

    _, o = get("cancelled")
    assert order_stage(o) is Stage.CANCELLED
    assert [d.type for d in o.documents if isinstance(d, CreditMemo)] == ["CANCELLATION"]

    _, o = get("with_credit_memo")
    assert [d.type for d in o.documents if isinstance(d, CreditMemo)] == ["AMENDMENT"]
    assert o.version == 2 and any(ln.cancelled for ln in o.lines)

    _, o = get("au_inclusive")
    assert (o.market, o.currency, o.tax_mode) == ("AU", "AUD", "INCLUSIVE")
    assert o.lines[0].sku.startswith("JKT-ALP-M-")

    dc, o = get("declining_card")
    pm = {p.id: p for p in dc.account.payment_methods}[o.payment_method_id]
    assert pm.last4 == DECLINING_LAST4 and len(dc.account.payment_methods) == 1
    assert order_stage(o) is Stage.AWAITING_PICK

    dc, o = get("appeasement_store_credit")
    assert [d.type for d in o.documents if isinstance(d, CreditMemo)] == ["APPEASEMENT"]
    assert dc.account.store_credit == Money("20.00", "USD")
    assert [d.amount for d in o.documents if isinstance(d, StoreCredit)] == [Money("20.00", "USD")]

    assert order_stage(get("booked")[1]) is Stage.BOOKED
    assert order_stage(get("picking")[1]) is Stage.PICKING
    assert order_stage(get("packed")[1]) is Stage.PACKED
    assert order_stage(get("dispatched")[1]) is Stage.DISPATCHED
    assert order_stage(get("collected")[1]) is Stage.COLLECTED

    _, o = get("promo_discount")
    assert len(o.discounts) == 1 and o.discounts[0].percent == 20 and len(o.lines) == 3

    _, o = get("de_inclusive")
    assert (o.market, o.currency, o.tax_mode) == ("DE", "EUR", "INCLUSIVE")

    _, o = get("return_rules_mix")
    cats = {ln.category for ln in o.lines}
    assert "swimwear" in cats and any(ln.final_sale for ln in o.lines)
    swim = next(ln for ln in o.lines if ln.category == "swimwear")
    age = DEMO_NOW - swim.delivered_at
    assert timedelta(days=policy.returns.window_for("swimwear")) < age < timedelta(days=30)
    assert all(line_stage(ln) is Stage.DELIVERED for ln in o.lines)


def test_seed_case_replanned_by_the_engine_if_plan_exists(small, ref, policy, locations):
    """When the engine's plan() is written: swapping to L and moving to Milwaukee is allowed and
    charges the difference (199.00 − 189.00 plus Milwaukee tax on the order, less Chicago tax)."""
    from carecli.engine.commands import ChangeAddress, ReplaceProduct
    from carecli.engine.context import PlanContext
    from carecli.engine.plan import plan

    dc, o = _find(small, SEED_CASE_REF)
    ctx = PlanContext(policy=policy, catalog={v.sku: v for v in ref.variants}, locations=locations,
                      customer=dc.customer, account=dc.account, now=DEMO_NOW)
    jacket = o.lines[0]
    try:
        p = plan(o, [ReplaceProduct(line_id=jacket.line_id, sku=jacket.sku.replace("-M-", "-L-")),
                     ChangeAddress(address=SEED_CASE_NEW_ADDRESS)], ctx)
    except NotImplementedError:
        pytest.skip("engine plan() not written yet")
    assert p.ok, p.violations
    # 199.00 + 28.00 = 227.00 at Milwaukee's 7.9 %: 15.72 + 2.21 tax, free shipping
    assert p.totals_after.grand_total == Money("244.93", "USD")
    assert p.delta == Money("5.69", "USD")
