"""The money of every demo order: priced as the engine prices it, and the ledger balanced."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecli.demo import ledger_balance, order_balance
from carecli.demo.ledger import PromoDiscount, QuickPricer, Rate, rdiv
from carecli.engine.model import (
    Address, ClickAndCollect, CreditMemo, Discount, HomeDelivery, Invoice, Line, Order, Payment,
    Refund, StoreCredit,
)
from carecli.engine.money import Money, total
from carecli.engine.policy import TaxJurisdiction, parse_policy, default_policy_text
from carecli.engine.pricing import price


def _docs(order, kind):
    return [d for d in order.documents if isinstance(d, kind)]


def test_every_order_prices_and_its_ledger_balances(orders, policy, locations):
    """captured − refunded − store credit = Σ invoices − Σ credit memos; refunded ≤ captured; and
    what is invoiced net of price-changing memos is what the order costs now (``price()``)."""
    assert len(orders) >= 6_000
    for o in orders:
        b = order_balance(o)
        assert b.ok, (o.ref, b)
        assert b.captured - b.refunded - b.store_credit == b.invoiced - b.credited, o.ref
        assert b.refunded <= b.captured, o.ref
        now = price(o, policy, locations).grand_total  # raises PricingError if it cannot price
        assert b.invoiced - b.credited_price == now, (o.ref, b, now)


def test_the_order_invoice_is_the_price_at_checkout(orders, policy, locations):
    """The ORDER invoice equals the engine's price of the order as placed (nothing cancelled)."""
    for o in orders:
        inv = _docs(o, Invoice)
        assert len(inv) == 1 and inv[0].type == "ORDER" and inv[0].id == f"INV-{o.ref[3:]}"
        placed = o.model_copy(update={"lines": tuple(ln.model_copy(update={"cancelled": 0})
                                                     for ln in o.lines)})
        assert inv[0].total == price(placed, policy, locations).grand_total, o.ref
        pay = _docs(o, Payment)
        assert len(pay) == 1 and pay[0].amount == inv[0].total and pay[0].invoice_id == inv[0].id
        assert pay[0].payment_method_id == o.payment_method_id == inv[0].payment_method_id


def test_invoice_items_are_the_engine_breakdown(orders, policy, locations):
    """For orders never changed: LINE items are each line's net of tax, SHIPPING net of tax, TAX."""
    checked = 0
    for o in orders:
        if len(o.documents) != 2:
            continue
        inv = _docs(o, Invoice)[0]
        t = price(o, policy, locations)
        lines = {it.line_id: it.amount for it in inv.items if it.kind == "LINE"}
        assert lines == {lp.line_id: lp.net_ex_tax for lp in t.lines}, o.ref
        ship = [it.amount for it in inv.items if it.kind == "SHIPPING"]
        assert ship == ([t.shipping_ex_tax] if not t.shipping.is_zero else []), o.ref
        tax = [it.amount for it in inv.items if it.kind == "TAX"]
        assert tax == ([t.tax] if not t.tax.is_zero else []), o.ref
        checked += 1
    assert checked > 4_000


def test_document_items_sum_to_the_document(orders):
    for o in orders:
        for d in o.documents:
            if isinstance(d, (Invoice, CreditMemo)):
                assert d.items, d.id
                assert total((it.amount for it in d.items), o.currency) == d.total, d.id
                assert d.total.currency == o.currency
                assert d.total.is_positive, d.id


def test_settlements_point_at_their_memo_and_the_original_payment(orders):
    for o in orders:
        memos = {d.id: d for d in _docs(o, CreditMemo)}
        settled = defaultdict(lambda: Money.zero(o.currency))
        for d in o.documents:
            if isinstance(d, Refund):
                assert d.payment_method_id == o.payment_method_id
                settled[d.credit_memo_id] += d.amount
            elif isinstance(d, StoreCredit):
                settled[d.credit_memo_id] += d.amount
        assert set(settled) == set(memos), o.ref
        for cm_id, memo in memos.items():
            assert settled[cm_id] == memo.total, cm_id
            assert memo.invoice_id == f"INV-{o.ref[3:]}"
        assert o.version == 1 + len(memos), o.ref


def test_account_store_credit_is_the_sum_of_its_store_credit_documents(sample):
    with_credit = 0
    for dc, os_ in sample:
        acct = dc.account
        issued = total((d.amount for o in os_ for d in o.documents if isinstance(d, StoreCredit)),
                       acct.currency)
        assert acct.store_credit == issued, dc.customer.id
        assert not acct.store_credit.is_negative
        with_credit += not issued.is_zero
        for o in os_:
            assert o.currency == acct.currency and o.billing_account_id == acct.id
    assert with_credit >= 10  # "some store credit"


def test_memo_kinds_across_the_sample(orders):
    kinds = {d.type for o in orders for d in _docs(o, CreditMemo)}
    assert {"CANCELLATION", "SHORT_PICK", "AMENDMENT", "APPEASEMENT"} <= kinds
    assert any(_docs(o, StoreCredit) for o in orders) and any(_docs(o, Refund) for o in orders)
    assert sum(1 for o in orders if o.discounts) > 200  # promotional discounts
    for o in orders:
        for d in o.discounts:
            assert not d.appeasement and d.line_id is None
            assert (d.percent is None) != (d.amount is None)


def test_appeasement_credits_stay_within_the_agent_limit(orders, policy):
    for o in orders:
        credited = total((d.total for d in _docs(o, CreditMemo) if d.type == "APPEASEMENT"),
                         o.currency)
        assert credited <= policy.appeasement.limit("agent", o.currency), o.ref


def test_ledger_balance_detects_an_unbalanced_ledger(by_ref):
    """The helper the invariant tests rely on can fail."""
    o = by_ref["ON-100008"]  # cancelled and refunded
    docs = [d for d in o.documents if not isinstance(d, Refund)]
    assert not ledger_balance(docs, o.currency).ok
    over = [*o.documents, *[d for d in o.documents if isinstance(d, Refund)]]
    assert not ledger_balance(over, o.currency).ok
    assert ledger_balance(o.documents, o.currency).ok


# --------------------------------------------------------------------------------------------------
# The fast pricer against price(), beyond the generated shapes
# --------------------------------------------------------------------------------------------------

_NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
_PLACES = [
    Address(name="A", line1="1 Main St", city=city, region=region, postcode=pc, country=country)
    for city, region, pc, country in (
        ("Chicago", "IL", "60614", "US"), ("Boston", "MA", "02116", "US"),
        ("Portland", "OR", "97214", "US"), ("Newtown", "NSW", "2042", "AU"),
        ("Berlin", "", "10115", "DE"),
    )
]


def _order(cur, mode, place, method, units, qtys, cancels, exempt, discounts):
    lines = tuple(
        Line(line_id=i + 1, sku=f"SKU-{i}", description="x", unit_price=Money.from_minor(u, cur),
             tax_category="exempt" if ex else "standard", ordered=q, cancelled=c)
        for i, (u, q, c, ex) in enumerate(zip(units, qtys, cancels, exempt)))
    ful = HomeDelivery(address=place, shipping_method=method) if method else ClickAndCollect(
        location_id="ST-CHI")
    return Order(ref="ON-1", customer_id="C", billing_account_id="B", market="X", currency=cur,
                 tax_mode=mode, placed_at=_NOW, lines=lines, fulfilment=ful, discounts=discounts)


@settings(max_examples=400, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 5),
    place=st.sampled_from(range(len(_PLACES))),
    method=st.sampled_from(["STANDARD", "EXPRESS", "NEXT_DAY", ""]),
    half_even=st.booleans(),
)
def test_quick_pricer_equals_price(data, n, place, method, half_even, locations):
    text = default_policy_text()
    if half_even:
        text = text.replace('rounding = "half_up"', 'rounding = "half_even"')
    pol = parse_policy(text, "test")
    cur, mode = {"US": ("USD", "EXCLUSIVE"), "AU": ("AUD", "INCLUSIVE"),
                 "DE": ("EUR", "INCLUSIVE")}[_PLACES[place].country]
    units = data.draw(st.lists(st.integers(1, 60_000), min_size=n, max_size=n))
    qtys = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    cancels = [data.draw(st.integers(0, q)) for q in qtys]
    exempt = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    promos, discounts = [], []
    for k in range(data.draw(st.integers(0, 2))):
        if data.draw(st.booleans()):
            pct = data.draw(st.sampled_from([Decimal("10"), Decimal("12.5"), Decimal("15"),
                                             Decimal("33"), Decimal("100")]))
            promos.append(PromoDiscount(f"D{k}", pct.as_integer_ratio(), None))
            discounts.append(Discount(id=f"D{k}", percent=pct))
        else:
            amt = data.draw(st.integers(1, 100_000))
            promos.append(PromoDiscount(f"D{k}", None, amt))
            discounts.append(Discount(id=f"D{k}", amount=Money.from_minor(amt, cur)))
    order = _order(cur, mode, _PLACES[place], method, units, qtys, cancels, exempt,
                   tuple(discounts))
    expected = price(order, pol, locations)
    qp = QuickPricer(pol)
    addr = locations["ST-CHI"].address if not method else _PLACES[place]
    rate = qp.rate(addr.country, addr.region, addr.city)
    ship = qp.shipping(method, cur) if method else None
    got = qp.price(units, [q - c for q, c in zip(qtys, cancels)], exempt, promos, rate,
                   mode == "INCLUSIVE", ship)
    m = lambda units_: Money.from_minor(units_, cur)  # noqa: E731
    assert m(got.grand) == expected.grand_total
    assert m(got.shipping) == expected.shipping and m(got.shipping_tax) == expected.shipping_tax
    assert m(got.tax) == expected.tax
    assert [m(x) for x in got.nets] == [lp.net for lp in expected.lines]
    assert [m(x) for x in got.taxes] == [lp.tax for lp in expected.lines]
    assert [(i, m(a)) for i, a in got.discounts] == list(expected.discount_amounts)


@pytest.mark.parametrize("half_even", [False, True])
def test_rdiv_rounds_like_money_round(half_even):
    mode = "half_even" if half_even else "half_up"
    rng = random.Random(5)
    for _ in range(5_000):
        p, q = rng.randint(-10**7, 10**7), rng.randint(1, 10**5)
        expected = Money.round(Decimal(p) / Decimal(q) / 100, "USD", mode).minor
        assert rdiv(p, q, half_even) == expected, (p, q)
    for p, q in ((5, 2), (-5, 2), (15, 10), (25, 10), (-25, 10)):
        assert rdiv(p, q, half_even) == Money.round(Decimal(p) / q / 100, "USD", mode).minor


def test_rate_labels():
    r = Rate.of(TaxJurisdiction(country="US", region="IL", city="Chicago", rate=Decimal("0.1025"),
                                name="Chicago, IL"))
    assert r.label(False) == "Tax: Chicago, IL 10.25%"
    assert Rate.of(TaxJurisdiction(country="AU", rate=Decimal("0.10"), name="Australia GST")
                   ).label(True) == "Tax included: Australia GST 10%"
