"""A small hand-made business for store tests: known customers, orders and cards, deterministic.

``business(n_filler)`` yields (customer, account, orders) like the demo generator does, so it loads with
:func:`carecli.backend.sqlite.load.load_business`. Named cases:

* ``DANA`` — Chicago, card 4242, ``ON-100001`` BOOKED (2 × jacket M, 1 beanie), ``ON-100002`` DELIVERED;
* ``DECLINE`` — Milwaukee, card **0002** (the demo gateway declines it), ``ON-100003`` BOOKED;
* ``NOAH`` — Sydney (AUD, tax-inclusive), ``ON-100004`` click & collect BOOKED, SMS consent;
* fillers ``ON-100005…`` with names from small lists, spread over stages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Iterator

from carecli.engine.model import (
    Address, BillingAccount, ClickAndCollect, Customer, HomeDelivery, Invoice, Line, NotificationPreferences,
    OpeningHours, Order, Payment, PaymentMethod, PickupLocation, Variant,
)
from carecli.engine.money import Money
from carecli.engine.policy import default_policy
from carecli.engine.pricing import price

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
POLICY = default_policy()


def _v(sku: str, name: str, usd: str, aud: str, **kw) -> Variant:
    attrs = kw.pop("attributes", {})
    return Variant(sku=sku, product_id=sku.rsplit("-", 1)[0], name=name, attributes=attrs,
                   prices={"USD": Money(usd, "USD"), "AUD": Money(aud, "AUD")},
                   stock={"ST-CHI": 20, "ST-SYD": 20}, **kw)


VARIANTS = [
    _v("JKT-ALP-S", "Alpine Shell Jacket", "179.00", "279.00", attributes={"size": "S"}),
    _v("JKT-ALP-M", "Alpine Shell Jacket", "189.00", "289.00", attributes={"size": "M"}),
    _v("JKT-ALP-L", "Alpine Shell Jacket", "199.00", "299.00", attributes={"size": "L"}),
    _v("HAT-MER", "Merino Beanie", "49.00", "59.00"),
    _v("TEE-ORG-M", "Organic Tee", "35.00", "45.00", attributes={"size": "M"}),
    _v("SOCK-TRL", "Trail Socks", "12.50", "15.00"),
]
CATALOG = {v.sku: v for v in VARIANTS}

LOCATIONS = [
    PickupLocation(id="ST-CHI", name="Chicago State St",
                   address=Address(name="Store", line1="100 N State St", city="Chicago", region="IL",
                                   postcode="60602", country="US"),
                   hours=(OpeningHours(day="Mon", opens="10:00", closes="20:00"),)),
    PickupLocation(id="ST-SYD", name="Sydney George St",
                   address=Address(name="Store", line1="400 George St", city="Sydney", region="NSW",
                                   postcode="2000", country="AU")),
]
LOCMAP = {loc.id: loc for loc in LOCATIONS}

CITIES = [
    ("Chicago", "IL", "60614", "+1 312"), ("Milwaukee", "WI", "53202", "+1 414"),
    ("New York", "NY", "10001", "+1 212"), ("Austin", "TX", "78701", "+1 512"),
]
FIRST = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
LAST = ["Garcia", "Okafor", "Nguyen", "Schmidt", "Rossi", "Kowalski", "Haddad", "Larsen"]


def _line(line_id: int, sku: str, qty: int, cur: str = "USD", **buckets) -> Line:
    v = CATALOG[sku]
    return Line(line_id=line_id, sku=sku, description=v.description, unit_price=v.prices[cur],
                tax_category=v.tax_category, category=v.category, final_sale=v.final_sale, ordered=qty,
                **buckets)


def _order(ref: str, cust: Customer, acct: BillingAccount, lines: tuple[Line, ...], fulfilment, *,
           placed: datetime, market: str = "US", inv_n: int) -> Order:
    cur, mode = ("USD", "EXCLUSIVE") if market == "US" else ("AUD", "INCLUSIVE")
    o = Order(ref=ref, customer_id=cust.id, billing_account_id=acct.id, market=market, currency=cur,
              tax_mode=mode, placed_at=placed, lines=lines, fulfilment=fulfilment,
              payment_method_id=acct.payment_methods[0].id)
    total = price(o, POLICY, LOCMAP).grand_total
    inv = Invoice(id=f"INV-{inv_n:06d}", order_ref=ref, type="ORDER", total=total, created_at=placed,
                  payment_method_id=o.payment_method_id)
    pay = Payment(id=f"PAY-{inv_n:06d}", order_ref=ref, invoice_id=inv.id,
                  payment_method_id=o.payment_method_id, amount=total, created_at=placed)
    return o.model_copy(update={"documents": (inv, pay)})


def _party(n: int, name: str, email: str, phone: str, last4: str, cur: str = "USD", sms: bool = False):
    cid, aid = f"C-{n:06d}", f"BA-{n:06d}"
    cust = Customer(id=cid, name=name, email=email, phone=phone, billing_account_id=aid,
                    preferences=NotificationPreferences(email=True, sms=sms))
    pm = PaymentMethod(id=f"PM-{n:06d}", brand="Visa", last4=last4, expiry="12/29")
    acct = BillingAccount(id=aid, customer_id=cid, currency=cur, payment_methods=(pm,),
                          store_credit=Money.zero(cur))
    return cust, acct


def _addr(name: str, city: str, region: str, postcode: str, country: str = "US", phone: str = "") -> Address:
    return Address(name=name, line1="1 Main St", city=city, region=region, postcode=postcode, country=country,
                   phone=phone)


DANA_REF, DANA_DELIVERED_REF, DECLINE_REF, NOAH_REF = "ON-100001", "ON-100002", "ON-100003", "ON-100004"


def business(n_filler: int = 40) -> Iterator[tuple[Customer, BillingAccount, list[Order]]]:
    inv = iter(range(1, 10**7))
    t = NOW - timedelta(days=60)

    dana, dana_acct = _party(1, "Dana Whitfield", "dana.whitfield@example.com", "+1 312-555-0100", "4242")
    home = HomeDelivery(address=_addr("Dana Whitfield", "Chicago", "IL", "60614"), shipping_method="STANDARD")
    o1 = _order(DANA_REF, dana, dana_acct, (_line(1, "JKT-ALP-M", 2), _line(2, "HAT-MER", 1)), home,
                placed=NOW - timedelta(days=1), inv_n=next(inv))
    delivered = NOW - timedelta(days=10)
    o2 = _order(DANA_DELIVERED_REF, dana, dana_acct,
                (_line(1, "TEE-ORG-M", 1, allocated=1, picked=1, packed=1, dispatched=1, delivered=1,
                       delivered_at=delivered),), home, placed=NOW - timedelta(days=14), inv_n=next(inv))
    yield dana, dana_acct, [o1, o2]

    bad, bad_acct = _party(2, "Casey Declined", "casey@example.com", "+1 414-555-0199", "0002")
    home2 = HomeDelivery(address=_addr("Casey Declined", "Milwaukee", "WI", "53202"), shipping_method="STANDARD")
    o3 = _order(DECLINE_REF, bad, bad_acct, (_line(1, "SOCK-TRL", 2),), home2, placed=NOW - timedelta(days=2),
                inv_n=next(inv))
    yield bad, bad_acct, [o3]

    noah, noah_acct = _party(3, "Noah Tran", "noah.tran@example.com.au", "+61 412 345 678", "1111", "AUD",
                             sms=True)
    o4 = _order(NOAH_REF, noah, noah_acct, (_line(1, "JKT-ALP-L", 1, cur="AUD"),),
                ClickAndCollect(location_id="ST-SYD"), placed=NOW - timedelta(days=3), market="AU",
                inv_n=next(inv))
    yield noah, noah_acct, [o4]

    ref_n = 100005
    skus = list(CATALOG)
    for i in range(n_filler):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
        city, region, pc, area = CITIES[i % len(CITIES)]
        name = f"{first} {last}"
        cust, acct = _party(10 + i, name, f"{first}.{last}{i}@example.org".lower(),
                            f"{area} 555-{1000 + i:04d}", f"{(1000 + i) % 10000:04d}".replace("0002", "0003"))
        orders = []
        for k in range(1 + i % 3):
            sku = skus[(i + k) % len(skus)]
            qty = 1 + (i + k) % 3
            stage = (i + k) % 4
            b = {}
            if stage >= 1:
                b.update(allocated=qty)
            if stage >= 2:
                b.update(picked=qty, packed=qty)
            if stage >= 3:
                b.update(dispatched=qty, delivered=qty, delivered_at=t + timedelta(days=i % 50 + 3))
            home_i = HomeDelivery(address=_addr(name, city, region, pc), shipping_method="STANDARD")
            orders.append(_order(f"ON-{ref_n}", cust, acct, (_line(1, sku, qty, **b),), home_i,
                                 placed=t + timedelta(days=i % 50, hours=k), inv_n=next(inv)))
            ref_n += 1
        yield cust, acct, orders


def build(path, n_filler: int = 40):
    from carecli.backend.sqlite.load import load_business

    return load_business(path, variants=VARIANTS, locations=LOCATIONS, stream=business(n_filler),
                         meta={"fixture": "tests/backend/business.py"})
