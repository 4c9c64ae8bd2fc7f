"""Pricing worked by hand: tax-exclusive (Chicago), tax-inclusive (Sydney), discounts, shipping."""

from decimal import Decimal

import pytest

from carecli.engine.model import Discount, HomeDelivery
from carecli.engine.pricing import PricingError, price
from carecli.engine.model import Address

from .factory import CHICAGO, LOCATIONS, POLICY, aud, collect, line, order, usd


def test_chicago_tax_exclusive_with_free_shipping():
    o = order(line(1, "JKT-M"), line(2, "HAT"))
    t = price(o, POLICY, LOCATIONS)
    # 189.00 × 10.25 % = 19.3725 → 19.37 ; 49.00 × 10.25 % = 5.0225 → 5.02 ; 238.00 ≥ 100 ships free
    assert [lp.tax for lp in t.lines] == [usd("19.37"), usd("5.02")]
    assert t.subtotal == usd("238.00") and t.shipping == usd("0.00")
    assert t.tax == usd("24.39") and t.grand_total == usd("262.39")
    assert t.jurisdiction == "Chicago, IL"


def test_shipping_below_threshold_is_charged_and_taxed():
    o = order(line(1, "HAT"))
    t = price(o, POLICY, LOCATIONS)
    # 49.00 + 5.02 tax + 7.95 shipping + 7.95 × 10.25 % = 0.814875 → 0.81
    assert t.shipping == usd("7.95") and t.shipping_tax == usd("0.81")
    assert t.grand_total == usd("62.78")


def test_order_discount_allocated_by_largest_remainder_and_taxed_per_line():
    d = Discount(id="D1", amount=usd("10.00"))
    o = order(line(1, "SOCK"), line(2, "SOCK"), line(3, "SOCK"), discounts=(d,))
    t = price(o, POLICY, LOCATIONS)
    # 10.00 over three equal lines: 3.34 / 3.33 / 3.33 (largest remainder, ties to the first)
    assert [lp.order_discount for lp in t.lines] == [usd("3.34"), usd("3.33"), usd("3.33")]
    assert sum(lp.order_discount.minor for lp in t.lines) == 1000
    # nets 9.16 / 9.17 / 9.17 → tax 0.94 (0.9389) / 0.94 (0.939925) / 0.94
    assert [lp.net for lp in t.lines] == [usd("9.16"), usd("9.17"), usd("9.17")]
    assert t.discounts == usd("10.00")
    # merchandise 27.50 < 100 → shipping 7.95 + 0.81 tax
    assert t.grand_total == usd("27.50") + usd("2.82") + usd("7.95") + usd("0.81")


def test_percent_discount_on_a_line_only():
    d = Discount(id="D1", line_id=2, percent=Decimal("10"))
    t = price(order(line(1, "JKT-M"), line(2, "TEE"), discounts=(d,)), POLICY, LOCATIONS)
    assert t.lines[1].line_discount == usd("10.00") and t.lines[0].line_discount == usd("0.00")
    assert t.discount_amounts == (("D1", usd("10.00")),)


def test_sydney_tax_inclusive_gst_is_contained():
    o = order(line(1, "JKT-M", currency="AUD"), market="AU")
    t = price(o, POLICY, LOCATIONS)
    # 289.00 inclusive of 10 % GST: 289 × 0.1 / 1.1 = 26.2727… → 26.27 ; total stays 289.00 (ships free ≥ 150)
    assert t.lines[0].tax == aud("26.27") and t.lines[0].total == aud("289.00")
    assert t.grand_total == aud("289.00") and t.tax == aud("26.27")


def test_click_and_collect_ships_free_and_is_taxed_at_the_store():
    o = order(line(1, "HAT"), fulfilment=collect("ST-MKE"))
    t = price(o, POLICY, LOCATIONS)
    # Milwaukee 7.9 %: 49.00 × 0.079 = 3.871 → 3.87
    assert t.shipping == usd("0.00") and t.lines[0].tax == usd("3.87") and t.grand_total == usd("52.87")


def test_cancelled_order_prices_to_zero():
    t = price(order(line(1, "HAT", cancelled=1)), POLICY, LOCATIONS)
    assert t.grand_total == usd("0.00") and t.shipping == usd("0.00")


def test_unknown_jurisdiction_and_store_are_pricing_errors():
    nowhere = Address(name="X", line1="1 Rue", city="Paris", postcode="75001", country="ZZ")
    with pytest.raises(PricingError) as e:
        price(order(line(1, "HAT"), fulfilment=HomeDelivery(address=nowhere, shipping_method="STANDARD"),
                    paid=False), POLICY, LOCATIONS)
    assert e.value.rule == "tax.no_jurisdiction"
    with pytest.raises(PricingError) as e:
        price(order(line(1, "HAT"), fulfilment=collect("ST-NOPE"), paid=False), POLICY, LOCATIONS)
    assert e.value.rule == "pickup.unknown_location"
    assert CHICAGO.country == "US"
