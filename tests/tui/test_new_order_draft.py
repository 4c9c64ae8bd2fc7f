"""The new-order screen's draft (screens/new_order.OrderDraft), driven directly: what the dialogs hand
back becomes the draft, a change the engine refuses is not kept, and the request keeps its key.

Over the small hand-made store's reference data (tests/backend/business.py): Dana, card 4242, Chicago.
"""

from __future__ import annotations

from decimal import Decimal

from carecli.backend.contract import ReferenceData
from carecli.engine.commands import (
    AddLine, AppeasementCredit, AppeasementDiscount, ChangeAddress, ChangePickupLocation, ChangeQuantity,
    ChangeShippingMethod, RemoveLine,
)
from carecli.engine.model import ClickAndCollect, HomeDelivery
from carecli.engine.money import Money
from carecli.screens.new_order import OrderDraft

from tests.backend import business

NOW = business.NOW
REF = ReferenceData(variants=business.VARIANTS, locations=business.LOCATIONS, policy=business.POLICY)
CHICAGO = business._addr("Dana Whitfield", "Chicago", "IL", "60614")


def dana() -> OrderDraft:
    cust, acct = business._party(1, "Dana Whitfield", "dana@example.com", "+1 312 555 0100", "4242")
    return OrderDraft.for_customer(cust, acct, REF, market="US", address=CHICAGO)


def test_a_phone_order_starts_at_the_customers_address_with_their_card():
    d = dana()
    assert isinstance(d.fulfilment, HomeDelivery) and d.fulfilment.address == CHICAGO
    assert d.payment_method_id == "PM-000001" and d.lines == []
    assert d.problems(NOW) == ["the order has no lines; add at least one product"]


def test_dialog_results_become_the_draft_and_the_preview_follows():
    d = dana()
    assert d.apply(AddLine(sku="HAT-MER", quantity=1), NOW) == []
    assert d.apply(AddLine(sku="SOCK-TRL", quantity=2), NOW) == []
    assert d.apply(ChangeQuantity(line_id=1, quantity=3), NOW) == []
    # 3 × 49.00 + 2 × 12.50 = 172.00, over 100.00: free standard shipping; Chicago 10.25 %
    # 147.00 → 15.0675 → 15.07; 25.00 → 2.5625 → 2.56; total 172.00 + 17.63 = 189.63
    p = d.preview(NOW)
    assert p.ok and str(p.totals.grand_total) == "USD 189.63"
    assert d.apply(ChangeShippingMethod(method="EXPRESS"), NOW) == []
    assert d.fulfilment.shipping_method == "EXPRESS"
    assert d.apply(ChangePickupLocation(location_id="ST-CHI"), NOW) == []
    assert d.fulfilment == ClickAndCollect(location_id="ST-CHI")
    milwaukee = business._addr("Dana Whitfield", "Milwaukee", "WI", "53202")
    assert d.apply(ChangeAddress(address=milwaukee), NOW) == []
    assert d.fulfilment == HomeDelivery(address=milwaukee, shipping_method="STANDARD")


def test_a_change_the_engine_refuses_is_not_kept():
    d = dana()
    d.apply(AddLine(sku="HAT-MER", quantity=1), NOW)
    problems = d.apply(AddLine(sku="HAT-MER", quantity=40), NOW)  # 40 in stock, one already on the draft
    assert problems and "only 39 of Merino Beanie" in problems[0]
    assert [(ln.sku, ln.quantity) for ln in d.lines] == [("HAT-MER", 1)]
    sydney = business._addr("Dana Whitfield", "Sydney", "NSW", "2000", country="AU")
    assert "ships within US only" in d.apply(ChangeAddress(address=sydney), NOW)[0]
    assert d.fulfilment.address == CHICAGO
    assert "not a credit" in d.apply(AppeasementCredit(amount=Money("5.00", "USD"), reason_code="SERVICE_RECOVERY"),
                                     NOW)[0]
    over = AppeasementDiscount(reason_code="SERVICE_RECOVERY", amount=Money("45.00", "USD"))
    d.apply(AddLine(sku="JKT-ALP-M", quantity=1), NOW)
    assert d.apply(over, NOW) == []
    assert "over the agent limit" in d.apply(over, NOW)[0]  # 90.00 together, limit 50.00
    assert len(d.discounts) == 1


def test_removing_a_line_takes_its_discount_and_renumbers_the_rest():
    d = dana()
    for sku in ("HAT-MER", "SOCK-TRL", "TEE-ORG-M"):
        d.apply(AddLine(sku=sku, quantity=1), NOW)
    d.apply(AppeasementDiscount(reason_code="SERVICE_RECOVERY", line_id=1, percent=Decimal("10")), NOW)
    d.apply(AppeasementDiscount(reason_code="SERVICE_RECOVERY", line_id=3, percent=Decimal("10")), NOW)
    assert d.apply(RemoveLine(line_id=1), NOW) == []
    assert [ln.sku for ln in d.lines] == ["SOCK-TRL", "TEE-ORG-M"]
    assert [x.line_id for x in d.discounts] == [2]
    assert d.preview(NOW).ok


def test_the_same_request_keeps_its_key_and_a_changed_one_gets_a_new_one():
    d = dana()
    d.apply(AddLine(sku="HAT-MER", quantity=1), NOW)
    a, b = d.request("", "", "kim"), d.request("", "", "kim")
    assert a.idempotency_key == b.idempotency_key and a == b
    d.next_payment_method()  # one card on file: it stays
    assert d.request("", "", "kim").idempotency_key == a.idempotency_key
    d.apply(ChangeQuantity(line_id=1, quantity=2), NOW)
    assert d.request("", "", "kim").idempotency_key != a.idempotency_key
    assert d.request("", "note", "kim").idempotency_key != d.request("", "", "kim").idempotency_key
