"""Small, explicit builders for engine tests: a catalog, a customer, orders in any state, a context.

Figures in tests are computed by hand from these prices and the default policy's tax rates
(Chicago IL 10.25 %, Milwaukee WI 7.9 %, Australia GST 10 % inclusive).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from carecli.engine.context import PlanContext
from carecli.engine.model import (
    Address, BillingAccount, ClickAndCollect, Customer, HomeDelivery, Invoice, Line, NotificationPreferences,
    OpeningHours, Order, Payment, PaymentMethod, PickupLocation, Variant,
)
from carecli.engine.money import Money
from carecli.engine.policy import default_policy
from carecli.engine.pricing import price

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
POLICY = default_policy()


def usd(a: str) -> Money:
    return Money(a, "USD")


def aud(a: str) -> Money:
    return Money(a, "AUD")


def variant(sku: str, name: str, usd_price: str | None, aud_price: str | None = None, *, stock: int = 10,
            **kw: Any) -> Variant:
    prices = {}
    if usd_price is not None:
        prices["USD"] = usd(usd_price)
    if aud_price is not None:
        prices["AUD"] = aud(aud_price)
    attrs = kw.pop("attributes", {})
    return Variant(sku=sku, product_id=sku.split("-")[0], name=name, attributes=attrs, prices=prices,
                   stock={"WH-CHI": stock}, **kw)


CATALOG = {v.sku: v for v in (
    variant("JKT-M", "Alpine Shell Jacket", "189.00", "289.00", attributes={"size": "M"}),
    variant("JKT-L", "Alpine Shell Jacket", "199.00", "299.00", attributes={"size": "L"}),
    variant("JKT-S", "Alpine Shell Jacket", "179.00", "279.00", attributes={"size": "S"}),
    variant("HAT", "Merino Beanie", "49.00", "59.00"),
    variant("TEE", "Organic Tee", "100.00", "110.00", stock=50),
    variant("SOCK", "Trail Socks", "12.50", "15.00", stock=100),
    variant("GONE", "Withdrawn Scarf", "30.00", sellable=False),
    variant("NONE", "Sold-out Gloves", "40.00", stock=0),
    variant("BACK", "Backorder Boots", "150.00", stock=0, backorderable=True),
    variant("EUR", "Euro-only Belt", None),
)}

CHICAGO = Address(name="Dana Whitfield", line1="233 S Wacker Dr", city="Chicago", region="IL",
                  postcode="60606", country="US", phone="+1 312 555 0100")
MILWAUKEE = Address(name="Dana Whitfield", line1="700 N Water St", city="Milwaukee", region="WI",
                    postcode="53202", country="US", phone="+1 312 555 0100")
SYDNEY = Address(name="Noah Tran", line1="1 Martin Pl", city="Sydney", region="NSW", postcode="2000",
                 country="AU")

LOCATIONS = {
    "ST-CHI": PickupLocation(id="ST-CHI", name="Chicago State St",
                             address=Address(name="Store", line1="100 N State St", city="Chicago", region="IL",
                                             postcode="60602", country="US"),
                             hours=(OpeningHours(day="Mon", opens="10:00", closes="20:00"),)),
    "ST-MKE": PickupLocation(id="ST-MKE", name="Milwaukee Third Ward",
                             address=Address(name="Store", line1="301 N Broadway", city="Milwaukee", region="WI",
                                             postcode="53202", country="US")),
    "ST-SYD": PickupLocation(id="ST-SYD", name="Sydney George St",
                             address=Address(name="Store", line1="400 George St", city="Sydney", region="NSW",
                                             postcode="2000", country="AU")),
}

CUSTOMER = Customer(id="C-1", name="Dana Whitfield", email="dana@example.com", phone="+13125550100",
                    preferences=NotificationPreferences(email=True, sms=False), billing_account_id="BA-1")
VISA = PaymentMethod(id="PM-1", brand="Visa", last4="4242", expiry="12/28")
ACCOUNT = BillingAccount(id="BA-1", customer_id="C-1", currency="USD", payment_methods=(VISA,),
                         store_credit=usd("0.00"))


def line(line_id: int, sku: str, qty: int = 1, **buckets: int) -> Line:
    v = CATALOG[sku]
    cur = buckets.pop("currency", "USD")
    return Line(line_id=line_id, sku=sku, description=v.description, unit_price=v.prices[cur],
                tax_category=v.tax_category, category=v.category, final_sale=v.final_sale, ordered=qty,
                **buckets)


def order(*lines: Line, ref: str = "ON-100001", fulfilment: Any = None, market: str = "US",
          discounts: tuple = (), paid: bool = True, **kw: Any) -> Order:
    """An order with its ORDER invoice and the capture of its grand total."""
    cur, mode = ("USD", "EXCLUSIVE") if market == "US" else ("AUD", "INCLUSIVE")
    f = fulfilment or HomeDelivery(address=CHICAGO if market == "US" else SYDNEY, shipping_method="STANDARD")
    o = Order(ref=ref, customer_id="C-1", billing_account_id="BA-1", market=market, currency=cur, tax_mode=mode,
              placed_at=NOW - timedelta(days=2), lines=tuple(lines), fulfilment=f, discounts=discounts,
              payment_method_id="PM-1", **kw)
    if not paid:
        return o
    total = price(o, POLICY, LOCATIONS).grand_total
    inv = Invoice(id="INV-1", order_ref=ref, type="ORDER", total=total, created_at=o.placed_at,
                  payment_method_id="PM-1")
    pay = Payment(id="PAY-1", order_ref=ref, invoice_id="INV-1", payment_method_id="PM-1", amount=total,
                  created_at=o.placed_at)
    return o.model_copy(update={"documents": (inv, pay)})


def collect(location_id: str = "ST-CHI") -> ClickAndCollect:
    return ClickAndCollect(location_id=location_id)


def ctx(**kw: Any) -> PlanContext:
    base: dict[str, Any] = dict(policy=POLICY, catalog=CATALOG, locations=LOCATIONS, customer=CUSTOMER,
                                account=ACCOUNT, now=NOW)
    base.update(kw)
    return PlanContext(**base)


def au_ctx(**kw: Any) -> PlanContext:
    acct = ACCOUNT.model_copy(update={"currency": "AUD", "store_credit": aud("0.00")})
    return ctx(account=acct, **kw)
