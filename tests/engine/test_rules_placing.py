"""place(): new orders priced by the one pricing path, and every refusal of order creation.

Figures by hand from ``factory.py`` and the default policy (see test_rules.py's docstring): Chicago
IL 10.25 % added; Australia GST 10 % contained; STANDARD 7.95 USD / 9.95 AUD, free from 100.00 USD /
150.00 AUD; tax half-up per line and on shipping.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from carecli.engine.commands import AddLine, CancelOrder
from carecli.engine.model import (
    Address, ClickAndCollect, Discount, HomeDelivery, Invoice, Payment, PaymentMethod, Stage, order_stage,
)
from carecli.engine.money import Money
from carecli.engine.placing import NewLine, NewOrder, OrderLink, Placement, customer_problems, place
from carecli.engine.plan import plan
from carecli.engine.pricing import price
from carecli.engine.audit import verify_chain
from carecli.engine.settlement import ledger_problems

from .factory import ACCOUNT, CHICAGO, LOCATIONS, NOW, POLICY, SYDNEY, aud, au_ctx, ctx, line, order, usd

HOME = HomeDelivery(address=CHICAGO, shipping_method="STANDARD")
AU_HOME = HomeDelivery(address=SYDNEY, shipping_method="STANDARD")


def draft(*lines: tuple[str, int], market: str = "US", **kw) -> NewOrder:
    base = dict(ref="ON-200001", customer_id="C-1", billing_account_id="BA-1", market=market,
                lines=tuple(NewLine(sku=s, quantity=q) for s, q in lines),
                fulfilment=HOME if market == "US" else AU_HOME, payment_method_id="PM-1")
    base.update(kw)
    return NewOrder(**base)


def refused(p: Placement, rule: str) -> str:
    assert not p.ok and p.order is None and not p.documents and p.audit is None and not p.notifications
    rules = [v.rule for v in p.violations]
    assert rule in rules, rules
    return next(v.message for v in p.violations if v.rule == rule)


# -- pricing, both tax modes ----------------------------------------------------------------------------


def test_usd_exclusive_order_is_priced_like_an_amendment_and_invoiced_and_captured():
    # SOCK 2 × 12.50 = 25.00 (tax 2.5625 → 2.56), HAT 49.00 (tax 5.0225 → 5.02); 74.00 < 100.00 so
    # STANDARD 7.95 (tax 0.814875 → 0.81). Tax 8.39, total 74.00 + 7.95 + 8.39 = 90.34.
    p = place(draft(("SOCK", 2), ("HAT", 1)), ctx())
    assert p.ok, p.violations
    t = p.totals
    assert (t.subtotal, t.shipping, t.tax, t.grand_total) == (usd("74.00"), usd("7.95"), usd("8.39"), usd("90.34"))
    o = p.order
    assert o.version == 1 and order_stage(o) == Stage.BOOKED and o.placed_at == NOW and o.channel == "phone"
    assert [ln.unit_price for ln in o.lines] == [usd("12.50"), usd("49.00")]
    assert price(o, POLICY, LOCATIONS) == t  # the one pricing path: the stored order prices the same
    inv, pay = p.documents
    assert isinstance(inv, Invoice) and inv.type == "ORDER" and inv.total == usd("90.34")
    assert [(i.kind, i.amount) for i in inv.items] == [
        ("LINE", usd("25.00")), ("LINE", usd("49.00")), ("SHIPPING", usd("7.95")), ("TAX", usd("8.39"))]
    assert isinstance(pay, Payment) and pay.amount == usd("90.34") and pay.invoice_id == inv.id
    assert p.charge is not None and p.charge.amount == usd("90.34") and p.charge.payment_method_id == "PM-1"
    assert ledger_problems(o.documents, "USD") == []
    assert o.documents == p.documents


def test_aud_inclusive_order_contains_its_tax():
    # JKT-M 289.00 (GST 289/11 = 26.2727 → 26.27) + SOCK 15.00 (15/11 = 1.3636 → 1.36) = 304.00,
    # over 150.00: free shipping. Tax 27.63 contained; items ex tax 262.73 + 13.64 + tax 27.63 = 304.00.
    p = place(draft(("JKT-M", 1), ("SOCK", 1), market="AU"), au_ctx())
    assert p.ok, p.violations
    assert p.order.currency == "AUD" and p.order.tax_mode == "INCLUSIVE"
    assert (p.totals.grand_total, p.totals.tax, p.totals.shipping) == (aud("304.00"), aud("27.63"), aud("0.00"))
    inv = p.documents[0]
    assert [(i.kind, i.amount) for i in inv.items] == [
        ("LINE", aud("262.73")), ("LINE", aud("13.64")), ("TAX", aud("27.63"))]
    assert sum((i.amount for i in inv.items), aud("0")) == inv.total == aud("304.00")


def test_aud_inclusive_shipping_below_the_threshold():
    # SOCK 2 × 15.00 = 30.00 (30/11 = 2.7272 → 2.73) + STANDARD 9.95 (9.95/11 = 0.9045 → 0.90): total 39.95.
    p = place(draft(("SOCK", 2), market="AU"), au_ctx())
    assert (p.totals.grand_total, p.totals.tax, p.totals.shipping) == (aud("39.95"), aud("3.63"), aud("9.95"))


def test_click_and_collect_is_taxed_at_the_store_and_ships_free():
    # HAT 49.00 at the Chicago store: 10.25 % → 5.02; no shipping.
    p = place(draft(("HAT", 1), fulfilment=ClickAndCollect(location_id="ST-CHI")), ctx())
    assert p.totals.grand_total == usd("54.02") and p.totals.shipping == usd("0.00")


def test_a_placed_order_amends_like_any_other():
    p = place(draft(("HAT", 1)), ctx())
    q = plan(p.order, [AddLine(sku="SOCK", quantity=1)], ctx())
    assert q.ok and q.order_after.version == 2 and q.totals_before == p.totals


def test_an_appeasement_discount_within_the_limit_is_priced_and_counted():
    # TEE 100.00 with 10 % off the order: 90.00; tax 9.225 → 9.23; 90.00 < 100.00: STANDARD 7.95 (0.81).
    d = Discount(id="draft-1", percent=Decimal("10"), reason_code="SERVICE_RECOVERY")
    p = place(draft(("TEE", 1), discounts=(d,)), ctx())
    assert p.ok, p.violations
    assert p.totals.discounts == usd("10.00") and p.totals.grand_total == usd("107.99")
    (disc,) = p.order.discounts
    assert disc.appeasement and disc.id == "DSC-PREVIEW-1"  # a real id from ctx.ids, not the draft's


def test_same_inputs_same_placement():
    a, b = place(draft(("HAT", 1)), ctx()), place(draft(("HAT", 1)), ctx())
    assert a.order == b.order and a.audit == b.audit and a.notifications == b.notifications
    assert verify_chain([a.audit]) is None
    assert a.audit.version_before == 0 and a.audit.version_after == 1
    assert a.audit.command[0]["kind"] == "place_order" and a.audit.financial_effect["delta"]["amount"] == "62.78"  # 49.00 + 5.02 + 7.95 + 0.81


def test_confirmation_lists_lines_total_and_charge():
    p = place(draft(("HAT", 2)), ctx())
    (n,) = p.notifications
    assert n.event_id == "ON-200001/v1/ORDER_PLACED" and n.channel == "email" and n.to == "dana@example.com"
    assert "2 × Merino Beanie at USD 49.00 each" in n.body
    assert f"Order total: {p.totals.grand_total}." in n.body
    assert "We have charged" in n.body and "Visa •••• 4242" in n.body


# -- replacement ----------------------------------------------------------------------------------------


def replacement(*lines: tuple[str, int], **kw) -> NewOrder:
    return draft(*lines, no_charge=True, link=OrderLink(kind="replacement", order_ref="ON-100001"), **kw)


def test_a_replacement_is_worth_zero_ships_free_and_charges_nothing():
    original = order(line(1, "JKT-M"), line(2, "SOCK", 2))
    p = place(replacement(("JKT-M", 1), payment_method_id=None), ctx(reason_code="LOST_IN_TRANSIT"), original)
    assert p.ok, p.violations
    assert p.totals.grand_total == usd("0.00") and p.totals.shipping == usd("0.00") and p.totals.tax == usd("0.00")
    assert [ln.unit_price for ln in p.order.lines] == [usd("0.00")]
    (inv,) = p.documents
    assert inv.type == "REPLACEMENT" and inv.total == usd("0.00") and inv.payment_method_id is None
    assert [(i.kind, i.description, i.amount) for i in inv.items] == [("LINE", "Alpine Shell Jacket (M)", usd("0.00"))]
    assert p.charge is None
    assert p.notifications[0].kind == "REPLACEMENT_PLACED" and "replacing ON-100001" in p.notifications[0].body
    # cancelling the free replacement later gives nothing back: there was nothing to pay
    c = plan(p.order, [CancelOrder()], ctx())
    assert c.ok and c.delta == usd("0.00") and c.documents == ()


def test_a_replacement_needs_a_replacement_reason_when_committed():
    original = order(line(1, "JKT-M"))
    msg = refused(place(replacement(("JKT-M", 1)), ctx(purpose="commit"), original), "session.reason_required")
    assert "replacement" in msg
    msg = refused(place(replacement(("JKT-M", 1)), ctx(purpose="commit", reason_code="CUSTOMER_REQUEST"), original),
                  "session.reason_unknown")
    assert "LOST_IN_TRANSIT" in msg
    assert place(replacement(("JKT-M", 1)), ctx(purpose="commit", reason_code="DAMAGED"), original).ok


def test_a_replacement_sends_at_most_what_the_original_has():
    original = order(line(1, "JKT-M"), line(2, "SOCK", 2))
    msg = refused(place(replacement(("SOCK", 3)), ctx(), original), "placing.replacement_lines")
    assert "has 2 of SOCK" in msg
    msg = refused(place(replacement(("HAT", 1)), ctx(), original), "placing.replacement_lines")
    assert "HAT is not on order ON-100001" in msg


def test_earlier_replacements_and_returns_are_subtracted_from_what_may_be_replaced():
    from carecli.engine.placing import replaceable

    original = order(line(1, "JKT-M"), line(2, "SOCK", 3))
    first = place(replacement(("SOCK", 2)), ctx(), original)
    assert first.ok, first.violations
    earlier = [first.order.model_copy(update={"ref": "ON-100301"})]
    assert replaceable(original, earlier) == {"JKT-M": 1, "SOCK": 1}
    # the same units again: refused, naming what was already sent and by which order
    msg = refused(place(replacement(("SOCK", 2)), ctx(), original, earlier), "placing.replacement_lines")
    assert "has 1 of SOCK left to replace" in msg and "2 already replaced by ON-100301" in msg
    assert place(replacement(("SOCK", 1), ("JKT-M", 1)), ctx(), original, earlier).ok
    # a cancelled replacement sent nothing: its units may be replaced again
    gone = plan(earlier[0], [CancelOrder()], ctx())
    assert gone.ok and replaceable(original, [gone.order_after]) == {"JKT-M": 1, "SOCK": 3}
    # units that came back (returned) or are on their way back (a return in progress) are not lost
    back = order(line(1, "JKT-M", delivered=1, returned=1), line(2, "SOCK", 3, delivered=3, return_initiated=2))
    assert replaceable(back, earlier) == {"JKT-M": 0, "SOCK": 0}
    msg = refused(place(replacement(("JKT-M", 1)), ctx(), back), "placing.replacement_lines")
    assert "has 0 of JKT-M left to replace (1 returned or on a return)" in msg
    assert place(replacement(("SOCK", 1)), ctx(), back).ok  # 3 live − 2 on a return


def test_no_charge_is_only_for_a_replacement_and_a_replacement_is_no_charge():
    refused(place(draft(("HAT", 1), no_charge=True), ctx()), "placing.no_charge")
    refused(place(draft(("HAT", 1), link=OrderLink(kind="replacement", order_ref="ON-1")), ctx()), "placing.no_charge")


def test_links_are_the_same_customers_and_a_reorder_is_of_a_cancelled_order():
    other = order(line(1, "HAT")).model_copy(update={"customer_id": "C-2"})
    msg = refused(place(draft(("HAT", 1), link=OrderLink(kind="reorder", order_ref="ON-100001")), ctx(), other),
                  "placing.link")
    assert "another customer" in msg
    live = order(line(1, "HAT"))
    msg = refused(place(draft(("HAT", 1), link=OrderLink(kind="reorder", order_ref="ON-100001")), ctx(), live),
                  "placing.link")
    assert "only a cancelled order" in msg
    cancelled = order(line(1, "HAT", cancelled=1))
    assert place(draft(("HAT", 1), link=OrderLink(kind="reorder", order_ref="ON-100001")), ctx(), cancelled).ok
    refused(place(replacement(("HAT", 1)), ctx(), cancelled), "placing.link")
    refused(place(draft(("HAT", 1), link=OrderLink(kind="reorder", order_ref="ON-200001")), ctx()), "placing.link")


def test_a_price_other_than_todays_only_on_an_exchange_or_replacement():
    cheap = NewLine(sku="HAT", quantity=1, unit_price=usd("10.00"))
    msg = refused(place(draft(lines=(cheap,)), ctx()), "placing.price_override")
    assert "sells at USD 49.00 today" in msg
    ex = draft(lines=(cheap,), link=OrderLink(kind="exchange", order_ref="ON-100001"))
    p = place(ex, ctx())
    assert p.ok and p.order.lines[0].unit_price == usd("10.00")
    bad = draft(lines=(NewLine(sku="HAT", quantity=1, unit_price=Money("10.00", "AUD")),),
                link=OrderLink(kind="exchange", order_ref="ON-100001"))
    refused(place(bad, ctx()), "placing.price_override")
    same = draft(lines=(NewLine(sku="HAT", quantity=1, unit_price=usd("49.00")),))
    assert place(same, ctx()).ok  # today's price given explicitly is today's price


# -- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sku,qty,rule,words", [
    ("NOPE", 1, "sku.unknown", "'NOPE' is not a product"),
    ("GONE", 1, "sku.not_sellable", "no longer sold"),
    ("EUR", 1, "sku.no_price", "no price in USD"),
    ("NONE", 1, "sku.out_of_stock", "only 0 of Sold-out Gloves"),
    ("HAT", 11, "sku.out_of_stock", "only 10 of Merino Beanie"),
    ("HAT", 0, "quantity.invalid", "from 1 to 99"),
    ("HAT", 100, "quantity.invalid", "from 1 to 99"),
])
def test_line_refusals_name_the_line(sku, qty, rule, words):
    msg = refused(place(draft(("SOCK", 1), (sku, qty)), ctx()), rule)
    assert msg.startswith("line 2: ") and words in msg


def test_stock_is_counted_across_lines_and_backorderable_skus_are_fine():
    refused(place(draft(("HAT", 6), ("HAT", 5)), ctx()), "sku.out_of_stock")
    assert place(draft(("BACK", 3)), ctx()).ok


def test_session_refusals():
    refused(place(draft(), ctx()), "placing.empty")
    refused(place(draft(("HAT", 1)), ctx(read_only=True)), "session.read_only")
    refused(place(draft(("HAT", 1), billing_account_id="BA-9"), ctx()), "placing.customer")
    msg = refused(place(draft(("HAT", 1), market="XX"), ctx()), "placing.market")
    assert "'XX' is not a market" in msg


def test_market_and_account_currency_must_match():
    msg = refused(place(draft(("HAT", 1), market="AU"), ctx()), "payment.currency")
    assert "pays in USD" in msg and "AU market (AUD)" in msg


def test_fulfilment_refusals():
    bad = CHICAGO.model_copy(update={"postcode": "6060"})
    refused(place(draft(("HAT", 1), fulfilment=HomeDelivery(address=bad, shipping_method="STANDARD")), ctx()),
            "address.invalid")
    refused(place(draft(("HAT", 1), fulfilment=AU_HOME), ctx()), "address.other_market")
    nowhere = Address(name="X", line1="1 Rd", city="Nowhere", region="ZZ", postcode="12345", country="US")
    refused(place(draft(("HAT", 1), fulfilment=HomeDelivery(address=nowhere, shipping_method="STANDARD")), ctx()),
            "address.invalid")
    refused(place(draft(("HAT", 1), fulfilment=HomeDelivery(address=CHICAGO, shipping_method="BY_MULE")), ctx()),
            "shipping.unknown_method")
    refused(place(draft(("HAT", 1), fulfilment=ClickAndCollect(location_id="ST-NOPE")), ctx()),
            "pickup.unknown_location")
    refused(place(draft(("HAT", 1), fulfilment=ClickAndCollect(location_id="ST-SYD")), ctx()), "pickup.other_market")


def test_an_address_without_a_tax_rate_is_refused():
    policy = POLICY.model_copy(update={"tax": tuple(j for j in POLICY.tax if j.country != "AU")})
    refused(place(draft(("HAT", 1), market="AU"), au_ctx(policy=policy)), "address.no_tax_jurisdiction")


def test_payment_refusals():
    msg = refused(place(draft(("HAT", 1), payment_method_id=None), ctx()), "payment.no_method")
    assert "for the USD 62.78 to charge" in msg
    refused(place(draft(("HAT", 1), payment_method_id="PM-9"), ctx()), "payment.no_method")
    old = PaymentMethod(id="PM-1", brand="Visa", last4="4242", expiry="10/26")
    acct = ACCOUNT.model_copy(update={"payment_methods": (old,)})
    msg = refused(place(draft(("HAT", 1)), ctx(account=acct)), "payment.expired")
    assert "expired 10/26" in msg


def test_a_zero_total_needs_no_payment_method():
    d = Discount(id="d", percent=Decimal("100"), reason_code="SERVICE_RECOVERY")
    p = place(draft(("SOCK", 1), fulfilment=ClickAndCollect(location_id="ST-CHI"), discounts=(d,),
                    payment_method_id=None), ctx())
    assert p.ok and p.totals.grand_total == usd("0.00") and p.charge is None
    assert [type(x).__name__ for x in p.documents] == ["Invoice"]


def test_discount_refusals():
    over = Discount(id="d", amount=usd("60.00"), reason_code="SERVICE_RECOVERY")
    msg = refused(place(draft(("TEE", 1), discounts=(over,)), ctx()), "appeasement.limit")
    assert "USD 60.00" in msg and "agent limit of USD 50.00" in msg
    assert place(draft(("TEE", 1), discounts=(over,)), ctx(role="supervisor")).ok
    refused(place(draft(("TEE", 1), discounts=(over.model_copy(update={"reason_code": "WRONG_SIZE"}),)), ctx()),
            "appeasement.reason")
    refused(place(draft(("TEE", 1), discounts=(Discount(id="d", reason_code="SERVICE_RECOVERY"),)), ctx()),
            "appeasement.shape")
    refused(place(draft(("TEE", 1), discounts=(Discount(id="d", percent=Decimal("120"),
                                                        reason_code="SERVICE_RECOVERY"),)), ctx()),
            "appeasement.shape")
    refused(place(draft(("TEE", 1), discounts=(Discount(id="d", amount=aud("5.00"),
                                                        reason_code="SERVICE_RECOVERY"),)), ctx()),
            "appeasement.amount")
    refused(place(draft(("TEE", 1), discounts=(Discount(id="d", line_id=3, percent=Decimal("5"),
                                                        reason_code="SERVICE_RECOVERY"),)), ctx()),
            "line.unknown")


def test_every_problem_is_reported_together():
    p = place(draft(("NOPE", 1), ("GONE", 1), payment_method_id=None, fulfilment=ClickAndCollect(location_id="X")),
              ctx())
    assert {"sku.unknown", "sku.not_sellable", "pickup.unknown_location"} <= {v.rule for v in p.violations}


# -- new customers --------------------------------------------------------------------------------------


def test_customer_problems_name_the_field():
    assert customer_problems("Ann Lee", "ann@example.com", "+1 312 555 0100", CHICAGO) == []
    rules = customer_problems("", "not-an-email", "call me", CHICAGO.model_copy(update={"postcode": "x"}))
    msgs = [v.message for v in rules]
    assert [v.rule for v in rules] == ["customer.invalid"] * 3 + ["address.invalid"]
    assert msgs[0].startswith("name:") and msgs[1].startswith("email:") and msgs[2].startswith("phone:")
    assert msgs[3].startswith("address postcode:")
    assert customer_problems("Ann\x1b[31m", "a@b.co", "", None)[0].message.startswith("name:")
