"""Every rule id of the engine, allowed and refused, at the stage boundaries of DOMAIN §3.

For each amendment kind there is the allowed case just inside the boundary and the refused case just
past it. A refusal is checked for its exact rule id, the line it concerns, the index of the staged
amendment that raised it, and a message an agent can read out (it names the specifics). A refused plan
moves nothing: no documents, no new order, no notification, no audit record.

Money figures are worked out by hand in the comments from the prices in ``factory.py`` and the default
policy: Chicago IL 10.25 %, Milwaukee WI 7.9 %, Australia GST 10 % contained in the price; STANDARD
shipping 7.95 USD (9.95 AUD), free from 100.00 USD (150.00 AUD) of merchandise after discounts; EXPRESS
14.95 USD; tax rounded half-up per line and on shipping (shipping is taxable in every jurisdiction of
the default policy).

Catalog (USD / AUD): JKT-M 189.00 / 289.00, JKT-L 199.00 / 299.00, JKT-S 179.00 / 279.00,
HAT 49.00 / 59.00, TEE 100.00 / 110.00, SOCK 12.50 / 15.00 (stock 100), BACK 150.00 (stock 0,
backorderable), NONE 40.00 (stock 0), GONE 30.00 (withdrawn), EUR (no USD or AUD price).
Stock is 10 units unless named.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from carecli.engine.commands import (
    AddLine, AppeasementCredit, AppeasementDiscount, CancelOrder, ChangeAddress, ChangePickupLocation,
    ChangeQuantity, ChangeShippingMethod, RemoveLine, ReplaceProduct, SwitchFulfilment,
)
from carecli.engine.model import (
    Address, ClickAndCollect, CreditMemo, HomeDelivery, Invoice, Line, Payment, PaymentMethod,
    PickupLocation, Refund, Stage, StoreCredit, order_stage,
)
from carecli.engine.money import Money
from carecli.engine.plan import Plan, plan
from carecli.engine.pricing import PricingError, price
from carecli.engine.rules import RULES, Violation
from carecli.engine.settlement import ledger_problems

from .factory import (
    ACCOUNT, CATALOG, CHICAGO, CUSTOMER, LOCATIONS, MILWAUKEE, POLICY, SYDNEY, au_ctx, aud, collect, ctx, line,
    order, usd,
)

# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------

REF = "ON-100001"


def assert_sentence(message: str) -> None:
    """A message an agent can read to a customer: words, no code, no placeholders, no object reprs."""
    assert isinstance(message, str) and len(message) >= 15, message
    assert " " in message, message
    for junk in ("{", "}", "None", "Traceback", "Money(", "<", "object at", "Error", "\n"):
        assert junk not in message, f"{junk!r} in {message!r}"


def refused(p: Plan, rule: str, *, line_id: int | None = None, index: int | None = 0,
            mentions: tuple[str, ...] = ()) -> Violation:
    """The plan is refused with exactly one violation, and nothing moves."""
    assert not p.ok, f"expected {rule}, but the plan was allowed: {p.changes}"
    assert [v.rule for v in p.violations] == [rule], p.violations
    v = p.violations[0]
    assert v.rule in RULES
    assert v.line_id == line_id, v
    assert v.index == index, v
    assert_sentence(v.message)
    for word in mentions:
        assert word in v.message, f"{word!r} not in {v.message!r}"
    assert_nothing_moves(p)
    return v


def assert_nothing_moves(p: Plan) -> None:
    assert p.order_after is None
    assert p.totals_after is None
    assert p.documents == ()
    assert p.charge is None
    assert p.notifications == ()
    assert p.audit is None
    assert p.delta.is_zero
    assert p.store_credit_issued.is_zero


def allowed(p: Plan) -> Plan:
    assert p.ok, p.violations
    assert p.order_after is not None
    assert p.order_after.version == p.order_before.version + 1
    assert p.audit is not None
    assert ledger_problems(p.order_after.documents, p.order_after.currency) == []
    return p


def go(o, *cmds, **ctx_kw) -> Plan:
    return plan(o, list(cmds), ctx(**ctx_kw))


def docs_of(p: Plan, kind: type) -> list:
    return [d for d in p.documents if isinstance(d, kind)]


def items(doc) -> list[tuple[str, int | None, Money]]:
    return [(it.kind, it.line_id, it.amount) for it in doc.items]


def only_memo(p: Plan) -> CreditMemo:
    memos = docs_of(p, CreditMemo)
    assert len(memos) == 1 and not docs_of(p, Invoice), p.documents
    assert sum((it.amount for it in memos[0].items), Money.zero(memos[0].total.currency)) == memos[0].total
    return memos[0]


def only_invoice(p: Plan) -> Invoice:
    invs = docs_of(p, Invoice)
    assert len(invs) == 1 and not docs_of(p, CreditMemo), p.documents
    assert sum((it.amount for it in invs[0].items), Money.zero(invs[0].total.currency)) == invs[0].total
    pays = docs_of(p, Payment)
    assert len(pays) == 1 and pays[0].amount == invs[0].total and pays[0].payment_method_id == "PM-1"
    assert p.charge is not None and p.charge.amount == invs[0].total
    return invs[0]


def progress(sku: str, qty: int, *, allocated: int | None = None, picked: int = 0, packed: int = 0,
             dispatched: int = 0, ready: int = 0, delivered: int = 0, line_id: int = 1, **kw) -> Line:
    """A line with nested buckets: allocated ⊇ picked ⊇ packed ⊇ dispatched ⊇ ready ⊇ delivered."""
    alloc = qty if allocated is None else allocated
    return line(line_id, sku, qty, allocated=alloc, picked=picked, packed=packed, dispatched=dispatched,
                ready=ready, delivered=delivered, **kw)


# --------------------------------------------------------------------------------------------------
# add line: while no quantity of the order is packed or dispatched
# --------------------------------------------------------------------------------------------------


def test_add_line_allowed_while_nothing_is_packed_and_invoiced():
    o = order(progress("JKT-M", 1))
    p = allowed(go(o, AddLine(sku="HAT", quantity=1)))
    new = p.order_after.line(2)
    assert new is not None and new.sku == "HAT" and new.quantity == 1 and new.unit_price == usd("49.00")
    # before: 189.00 + tax 189.00 × 10.25 % = 19.3725 → 19.37; merchandise 189 ≥ 100 ships free → 208.37
    # after:  238.00 + tax 19.37 + (49.00 × 10.25 % = 5.0225 → 5.02) = 24.39; still free → 262.39
    assert p.totals_before.grand_total == usd("208.37")
    assert p.totals_after.grand_total == usd("262.39")
    assert p.delta == usd("54.02")
    inv = only_invoice(p)
    assert inv.type == "SUPPLEMENTARY" and inv.total == usd("54.02")
    assert items(inv) == [("LINE", 2, usd("49.00")), ("TAX", None, usd("5.02"))]


def test_add_line_allowed_while_one_unit_is_picked_but_not_packed():
    o = order(progress("JKT-M", 2, picked=1))
    allowed(go(o, AddLine(sku="HAT", quantity=1)))


@pytest.mark.parametrize("buckets", [
    dict(picked=1, packed=1),
    dict(picked=2, packed=2, dispatched=1),
    dict(picked=2, packed=2, dispatched=2, delivered=1),
], ids=["one-packed", "one-dispatched", "one-delivered"])
def test_add_line_refused_once_one_unit_is_packed(buckets):
    o = order(progress("JKT-M", 2, **buckets), line(2, "HAT", 1))
    refused(go(o, AddLine(sku="SOCK", quantity=1)), "add_line.order_packed", mentions=(REF, "packed"))


def test_add_line_refused_on_click_and_collect_once_units_are_ready_at_the_store():
    o = order(progress("JKT-M", 2, picked=1, packed=1, dispatched=1, ready=1), fulfilment=collect())
    refused(go(o, AddLine(sku="SOCK", quantity=1)), "add_line.order_packed")


@pytest.mark.parametrize("sku, rule, words", [
    ("NOPE-1", "sku.unknown", ("NOPE-1", "catalog")),
    ("GONE", "sku.not_sellable", ("Withdrawn Scarf", "no longer sold")),
    ("EUR", "sku.no_price", ("Euro-only Belt", "USD")),
    ("NONE", "sku.out_of_stock", ("only 0", "Sold-out Gloves", "backordered")),
])
def test_add_line_refuses_skus_that_cannot_be_sold(sku, rule, words):
    o = order(progress("JKT-M", 1))
    refused(go(o, AddLine(sku=sku, quantity=1)), rule, line_id=None, mentions=words)


def test_add_line_stock_boundary_and_backorderable_sku():
    o = order(progress("JKT-M", 1))
    allowed(go(o, AddLine(sku="HAT", quantity=10)))  # 10 in stock
    refused(go(o, AddLine(sku="HAT", quantity=11)), "sku.out_of_stock", mentions=("only 10",))
    p = allowed(go(o, AddLine(sku="BACK", quantity=3)))  # none in stock, but it can be backordered
    assert p.order_after.line(2).quantity == 3


def test_add_line_sku_without_a_price_in_the_aud_market():
    o = order(line(1, "HAT", 1, currency="AUD"), market="AU")
    refused(plan(o, [AddLine(sku="BACK", quantity=1)], au_ctx()), "sku.no_price", mentions=("AUD",))


@pytest.mark.parametrize("qty", [0, -1, 100, 10**30])
def test_add_line_quantity_outside_1_to_max_is_refused(qty):
    o = order(progress("JKT-M", 1))
    v = refused(go(o, AddLine(sku="SOCK", quantity=qty)), "quantity.invalid", mentions=("1 to 99", str(qty)))
    if qty == 0:
        assert "remove" in v.message


def test_add_line_quantity_at_max_is_allowed():
    o = order(progress("JKT-M", 1))
    allowed(go(o, AddLine(sku="SOCK", quantity=99)))  # SOCK has 100 in stock; policy max is 99


# --------------------------------------------------------------------------------------------------
# change quantity: new quantity ≥ what is picked, dispatched or delivered on the line
# --------------------------------------------------------------------------------------------------

# (buckets on a TEE line of 3, the floor, the words the refusal uses)
PROGRESS_FLOORS = [
    pytest.param(dict(picked=2), 2, "2 already picked", id="picked"),
    pytest.param(dict(picked=2, packed=2), 2, "2 packed", id="packed"),
    pytest.param(dict(picked=2, packed=2, dispatched=2), 2, "2 dispatched", id="dispatched"),
    pytest.param(dict(picked=2, packed=2, dispatched=2, delivered=2), 2, "2 delivered", id="delivered"),
]


@pytest.mark.parametrize("buckets, floor, words", PROGRESS_FLOORS)
def test_change_quantity_down_to_the_progress_floor_is_allowed(buckets, floor, words):
    o = order(progress("TEE", 3, **buckets))
    p = allowed(go(o, ChangeQuantity(line_id=1, quantity=floor)))
    ln = p.order_after.line(1)
    assert ln.quantity == floor and ln.cancelled == 1 and ln.ordered == 3
    assert ln.allocated == floor  # the released unit is no longer allocated


@pytest.mark.parametrize("buckets, floor, words", PROGRESS_FLOORS)
def test_change_quantity_one_below_the_progress_floor_is_refused(buckets, floor, words):
    o = order(progress("TEE", 3, **buckets))
    v = refused(go(o, ChangeQuantity(line_id=1, quantity=floor - 1)), "quantity.below_progress", line_id=1,
                mentions=("line 1", words))
    assert "cannot go below" in v.message


def test_change_quantity_while_one_unit_is_picked_reducing_to_one_is_allowed():
    o = order(progress("TEE", 3, picked=1))
    p = allowed(go(o, ChangeQuantity(line_id=1, quantity=1)))
    # before: 300.00 + 30.75 tax (300 × 10.25 %), free shipping → 330.75
    # after:  100.00 + 10.25 tax, 100.00 ≥ 100.00 still ships free → 110.25; delta −220.50
    assert p.delta == usd("-220.50")
    memo = only_memo(p)
    assert memo.type == "AMENDMENT" and memo.total == usd("220.50")
    assert items(memo) == [("LINE", 1, usd("200.00")), ("TAX", None, usd("20.50"))]
    refunds = docs_of(p, Refund)
    assert [r.amount for r in refunds] == [usd("220.50")] and not docs_of(p, StoreCredit)


def test_change_quantity_to_zero_while_one_unit_is_picked_names_the_picked_unit():
    o = order(progress("TEE", 3, picked=1), line(2, "HAT", 1))
    refused(go(o, ChangeQuantity(line_id=1, quantity=0)), "quantity.below_progress", line_id=1,
            mentions=("1 already picked",))


@pytest.mark.parametrize("buckets, wrong", [
    (dict(picked=2, packed=2, dispatched=1), "2 dispatched"),
    (dict(picked=3, packed=3, dispatched=3, delivered=2), "3 delivered"),
], ids=["partly-dispatched", "partly-delivered"])
def test_below_progress_message_does_not_overstate_what_was_dispatched(buckets, wrong):
    o = order(progress("TEE", 3, **buckets))
    floor = buckets["picked"]
    v = refused(go(o, ChangeQuantity(line_id=1, quantity=floor - 1)), "quantity.below_progress", line_id=1)
    assert str(floor) in v.message
    assert wrong not in v.message


def test_change_quantity_up_in_the_aud_market_settles_by_invoice():
    o = order(line(1, "HAT", 1, currency="AUD"), market="AU")
    p = allowed(plan(o, [ChangeQuantity(line_id=1, quantity=3)], au_ctx()))
    # before: 59.00 < 150.00 → STANDARD 9.95 AUD; grand 68.95 (GST inside: 59/11 = 5.3636 → 5.36,
    #         9.95/11 = 0.9045 → 0.90)
    # after:  177.00 ≥ 150.00 ships free; grand 177.00 (GST 177/11 = 16.0909 → 16.09); delta +108.05
    # items (ex GST): line 160.91 − 53.64 = 107.27; shipping 0 − 9.05 = −9.05; GST 16.09 − 6.26 = 9.83
    #                 107.27 − 9.05 + 9.83 = 108.05
    assert p.totals_before.grand_total == aud("68.95") and p.totals_after.grand_total == aud("177.00")
    inv = only_invoice(p)
    assert items(inv) == [("LINE", 1, aud("107.27")), ("SHIPPING", None, aud("-9.05")), ("TAX", None, aud("9.83"))]
    assert inv.total == aud("108.05")


def test_change_quantity_stock_boundary_and_backorder():
    o = order(progress("HAT", 1))
    allowed(go(o, ChangeQuantity(line_id=1, quantity=11)))  # 10 more needed, 10 in stock
    refused(go(o, ChangeQuantity(line_id=1, quantity=12)), "sku.out_of_stock", line_id=1,
            mentions=("only 10 more", "Merino Beanie"))
    allowed(go(order(progress("BACK", 1)), ChangeQuantity(line_id=1, quantity=5)))


def test_change_quantity_up_of_a_sku_no_longer_in_the_catalog():
    old = Line(line_id=1, sku="OLD-1", description="Discontinued Mitts", unit_price=usd("20.00"), ordered=2)
    o = order(old)
    refused(go(o, ChangeQuantity(line_id=1, quantity=3)), "sku.unknown", line_id=1, mentions=("OLD-1",))
    allowed(go(o, ChangeQuantity(line_id=1, quantity=1)))  # taking units off needs no catalog entry


def test_change_quantity_up_of_a_withdrawn_sku_is_refused():
    o = order(progress("GONE", 1), progress("HAT", 1, line_id=2))
    refused(go(o, ChangeQuantity(line_id=1, quantity=3)), "sku.not_sellable", line_id=1,
            mentions=("Withdrawn Scarf",))


def test_change_quantity_down_of_a_withdrawn_sku_is_allowed():
    o = order(progress("GONE", 3), progress("HAT", 1, line_id=2))
    allowed(go(o, ChangeQuantity(line_id=1, quantity=1)))


def test_change_quantity_unchanged():
    o = order(progress("TEE", 3))
    refused(go(o, ChangeQuantity(line_id=1, quantity=3)), "quantity.unchanged", line_id=1, mentions=("3",))


@pytest.mark.parametrize("qty", [0, -1, -10**12, 100, 10**30])
def test_change_quantity_invalid_numbers(qty):
    o = order(progress("TEE", 3))
    refused(go(o, ChangeQuantity(line_id=1, quantity=qty)), "quantity.invalid", line_id=1,
            mentions=("1 to 99", str(qty)))


def test_change_quantity_unknown_and_cancelled_lines():
    o = order(line(1, "TEE", 2), line(2, "HAT", 1, cancelled=1))
    refused(go(o, ChangeQuantity(line_id=7, quantity=1)), "line.unknown", line_id=7, mentions=("line 7", REF))
    refused(go(o, ChangeQuantity(line_id=2, quantity=1)), "line.cancelled", line_id=2,
            mentions=("line 2", "Merino Beanie", "cancelled"))


# --------------------------------------------------------------------------------------------------
# remove line: while nothing of the line is picked; never the last live line
# --------------------------------------------------------------------------------------------------


def test_remove_line_with_nothing_picked_is_allowed():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    p = allowed(go(o, RemoveLine(line_id=2)))
    ln = p.order_after.line(2)
    assert ln.quantity == 0 and ln.allocated == 0
    # before: 238.00 + 19.37 + 5.02 = 262.39; after: 189.00 + 19.37 = 208.37; delta −54.02
    memo = only_memo(p)
    assert items(memo) == [("LINE", 2, usd("49.00")), ("TAX", None, usd("5.02"))]
    assert memo.total == usd("54.02")


def test_remove_line_with_one_unit_picked_is_refused():
    o = order(progress("JKT-M", 1), progress("HAT", 2, picked=1, line_id=2))
    refused(go(o, RemoveLine(line_id=2)), "remove_line.picked", line_id=2, mentions=("line 2", "1 already picked"))


def test_remove_the_last_live_line_is_refused():
    o = order(line(1, "JKT-M", 1, cancelled=1), progress("HAT", 1, line_id=2))
    refused(go(o, RemoveLine(line_id=2)), "remove_line.last_line", line_id=2, mentions=("line 2", "cancel"))


def test_removing_every_line_in_one_session_stops_at_the_last():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    p = go(o, RemoveLine(line_id=1), RemoveLine(line_id=2))
    refused(p, "remove_line.last_line", line_id=2, index=1)


def test_remove_line_twice_in_one_session_finds_it_cancelled():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2), line(3, "SOCK"))
    refused(go(o, RemoveLine(line_id=2), RemoveLine(line_id=2)), "line.cancelled", line_id=2, index=1)


def test_remove_unknown_line():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    refused(go(o, RemoveLine(line_id=-3)), "line.unknown", line_id=-3)


# --------------------------------------------------------------------------------------------------
# replace product: nothing of the line picked; the new sku sellable, priced, in stock or backorderable
# --------------------------------------------------------------------------------------------------


def test_replace_with_nothing_picked_takes_the_current_catalog_price():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    p = allowed(go(o, ReplaceProduct(line_id=1, sku="JKT-L")))
    ln = p.order_after.line(1)
    assert (ln.sku, ln.unit_price, ln.quantity, ln.allocated) == ("JKT-L", usd("199.00"), 1, 0)
    assert ln.description == CATALOG["JKT-L"].description
    # before: 262.39; after: 199.00 + 49.00 = 248.00 + (199 × 10.25 % = 20.3975 → 20.40) + 5.02 = 273.42
    # delta +11.03: line 1 +10.00, tax +1.03
    inv = only_invoice(p)
    assert inv.total == usd("11.03")
    assert items(inv) == [("LINE", 1, usd("10.00")), ("TAX", None, usd("1.03"))]


def test_replace_with_one_unit_picked_is_refused():
    o = order(progress("JKT-M", 2, picked=1))
    refused(go(o, ReplaceProduct(line_id=1, sku="JKT-L")), "replace.picked", line_id=1,
            mentions=("line 1", "1 already picked"))


def test_replace_with_the_same_sku_is_refused():
    o = order(progress("JKT-M", 1))
    refused(go(o, ReplaceProduct(line_id=1, sku="JKT-M")), "replace.same_sku", line_id=1,
            mentions=("line 1", "Alpine Shell Jacket"))


@pytest.mark.parametrize("sku, rule, words", [
    ("JKT-XXL", "sku.unknown", ("JKT-XXL",)),
    ("GONE", "sku.not_sellable", ("Withdrawn Scarf",)),
    ("EUR", "sku.no_price", ("USD",)),
    ("NONE", "sku.out_of_stock", ("Sold-out Gloves", "backordered")),
])
def test_replace_refuses_skus_that_cannot_be_sold(sku, rule, words):
    o = order(progress("JKT-M", 1))
    refused(go(o, ReplaceProduct(line_id=1, sku=sku)), rule, line_id=1, mentions=words)


def test_replace_stock_boundary_and_backorderable():
    allowed(go(order(progress("TEE", 10)), ReplaceProduct(line_id=1, sku="HAT")))  # 10 needed, 10 in stock
    refused(go(order(progress("TEE", 11)), ReplaceProduct(line_id=1, sku="HAT")), "sku.out_of_stock", line_id=1,
            mentions=("only 10",))
    allowed(go(order(progress("TEE", 4)), ReplaceProduct(line_id=1, sku="BACK")))


def test_replace_unknown_line():
    refused(go(order(progress("JKT-M", 1)), ReplaceProduct(line_id=2, sku="JKT-L")), "line.unknown", line_id=2)


# --------------------------------------------------------------------------------------------------
# delivery address: minor (name, street, phone) while nothing dispatched; major while nothing picked
# --------------------------------------------------------------------------------------------------

MINOR_CHANGES = [
    pytest.param({"line1": "1 N Dearborn St"}, id="street"),
    pytest.param({"line2": "Apt 4"}, id="second-street-line"),
    pytest.param({"name": "Dana W. Whitfield"}, id="name"),
    pytest.param({"phone": "+1 312 555 0199"}, id="phone"),
]


@pytest.mark.parametrize("change", MINOR_CHANGES)
@pytest.mark.parametrize("buckets", [dict(picked=2), dict(picked=2, packed=2)], ids=["picked", "packed"])
def test_minor_address_change_allowed_while_picked_or_packed(change, buckets):
    o = order(progress("TEE", 2, **buckets))
    p = allowed(go(o, ChangeAddress(address=CHICAGO.model_copy(update=change))))
    assert p.order_after.fulfilment.address == CHICAGO.model_copy(update=change)
    assert p.delta.is_zero and p.documents == ()  # same place, same tax, same shipping
    assert "minor" in p.changes[0]
    assert p.audit.financial_effect["settlement"].startswith("none")


@pytest.mark.parametrize("change", MINOR_CHANGES)
def test_minor_address_change_refused_once_one_unit_is_dispatched(change):
    o = order(progress("TEE", 2, picked=2, packed=2, dispatched=1))
    refused(go(o, ChangeAddress(address=CHICAGO.model_copy(update=change))), "address.dispatched",
            mentions=("left the warehouse", "address"))


EVANSTON = Address(name="Dana Whitfield", line1="1600 Chicago Ave", city="Evanston", region="IL",
                   postcode="60201", country="US", phone="+1 312 555 0100")

MAJOR_CHANGES = [
    pytest.param(CHICAGO.model_copy(update={"postcode": "60601"}), id="postcode"),
    pytest.param(EVANSTON, id="city"),
    pytest.param(MILWAUKEE, id="region"),
]


@pytest.mark.parametrize("new", MAJOR_CHANGES)
def test_major_address_change_allowed_while_allocated(new):
    o = order(progress("TEE", 2))
    p = allowed(go(o, ChangeAddress(address=new)))
    assert p.order_after.fulfilment.address == new
    assert p.order_after.line(1).allocated == 0  # re-sourced for the new destination
    assert "major" in p.changes[0]


@pytest.mark.parametrize("new", MAJOR_CHANGES)
def test_major_address_change_refused_once_one_unit_is_picked(new):
    o = order(progress("TEE", 2, picked=1))
    refused(go(o, ChangeAddress(address=new)), "address.major_picked",
            mentions=("being picked", "postcode", "name, street line and phone"))


def test_major_address_change_to_milwaukee_re_rates_tax():
    o = order(progress("JKT-M", 1))
    p = allowed(go(o, ChangeAddress(address=MILWAUKEE)))
    # before: 189.00 + 19.37 = 208.37 (free shipping); after: 189.00 + (189 × 7.9 % = 14.931 → 14.93) = 203.93
    # delta −4.44, all of it tax
    assert p.totals_after.jurisdiction == "Milwaukee, WI"
    memo = only_memo(p)
    assert items(memo) == [("TAX", None, usd("4.44"))] and memo.total == usd("4.44")


def test_country_change_is_refused_as_another_market():
    o = order(progress("TEE", 2))
    refused(go(o, ChangeAddress(address=SYDNEY)), "address.other_market", mentions=(REF, "US"))


def _bad(**kw) -> Address:
    return CHICAGO.model_copy(update=kw)


BAD_ADDRESSES = [
    pytest.param(_bad(line1=""), ("street is missing",), id="missing-street"),
    pytest.param(_bad(line1="   "), ("street is missing",), id="blank-street"),
    pytest.param(_bad(name=""), ("name is missing",), id="missing-name"),
    pytest.param(_bad(postcode="6060"), ("'6060'", "US ZIP"), id="zip-4-digits"),
    pytest.param(_bad(postcode="ABCDE"), ("'ABCDE'", "US ZIP"), id="zip-letters"),
    pytest.param(_bad(postcode="606061"), ("US ZIP",), id="zip-6-digits"),
    pytest.param(_bad(region="ZZ"), ("'ZZ'", "not a state of US"), id="bad-state"),
    pytest.param(_bad(region=""), ("state is missing",), id="missing-state"),
    pytest.param(_bad(name="Dana\x1b[31m Whitfield"), ("name contains control",), id="escape-in-name"),
    pytest.param(_bad(line1="233 S Wacker\x00 Dr"), ("street contains control",), id="nul-in-street"),
    pytest.param(_bad(line1="233 S Wacker \u202eDr"), ("direction characters",), id="bidi-override"),
    pytest.param(_bad(name="x" * 101), ("longer than 100",), id="name-too-long"),
    pytest.param(_bad(phone="call me maybe"), ("not a phone number",), id="bad-phone"),
    pytest.param(Address(name="Dana", line1="1 High St", city="London", postcode="SW1A 1AA", country="GB"),
                 ("'GB'", "ships to"), id="country-not-served"),
]


@pytest.mark.parametrize("bad, words", BAD_ADDRESSES)
def test_malformed_addresses_are_refused_naming_the_field(bad, words):
    o = order(progress("TEE", 2))
    refused(go(o, ChangeAddress(address=bad)), "address.invalid", mentions=words)


@pytest.mark.parametrize("bad, words", BAD_ADDRESSES[:4])
def test_malformed_address_when_switching_to_home_delivery(bad, words):
    o = order(progress("TEE", 2), fulfilment=collect())
    cmd = SwitchFulfilment(fulfilment=HomeDelivery(address=bad, shipping_method="STANDARD"))
    refused(go(o, cmd), "address.invalid", mentions=words)


def test_address_in_another_country_than_the_market():
    berlin = Address(name="Dana", line1="Unter den Linden 1", city="Berlin", postcode="10117", country="DE")
    refused(go(order(progress("TEE", 2)), ChangeAddress(address=berlin)), "address.other_market",
            mentions=("ships within US",))
    melbourne = Address(name="Noah", line1="1 Collins St", city="Melbourne", region="VIC", postcode="3000",
                        country="AU")
    o = order(line(1, "HAT", 1, currency="AUD"), market="AU")
    allowed(plan(o, [ChangeAddress(address=melbourne)], au_ctx()))
    refused(plan(o, [ChangeAddress(address=CHICAGO)], au_ctx()), "address.other_market", mentions=("AU",))


def test_address_unchanged_even_with_different_spacing_and_case():
    same = CHICAGO.model_copy(update={"line1": "233  s wacker DR", "city": "CHICAGO"})
    refused(go(order(progress("TEE", 2)), ChangeAddress(address=same)), "address.unchanged",
            mentions=("already goes",))


def test_address_on_a_click_and_collect_order():
    o = order(progress("TEE", 2), fulfilment=collect())
    refused(go(o, ChangeAddress(address=MILWAUKEE)), "address.not_delivery", mentions=(REF, "click & collect"))


NO_US_FALLBACK = POLICY.model_copy(update={"tax": tuple(j for j in POLICY.tax if j.country != "US" or j.region)})
BOISE = Address(name="Dana Whitfield", line1="150 N Capitol Blvd", city="Boise", region="ID", postcode="83702",
                country="US")


def test_address_without_a_tax_jurisdiction():
    o = order(progress("TEE", 2))
    refused(go(o, ChangeAddress(address=BOISE), policy=NO_US_FALLBACK), "address.no_tax_jurisdiction",
            mentions=("Boise",))
    cmd = SwitchFulfilment(fulfilment=HomeDelivery(address=BOISE, shipping_method="STANDARD"))
    refused(go(order(progress("TEE", 2), fulfilment=collect()), cmd, policy=NO_US_FALLBACK),
            "address.no_tax_jurisdiction", mentions=("Boise",))
    allowed(go(o, ChangeAddress(address=BOISE)))  # the default policy has a US-wide (0 %) fallback


# --------------------------------------------------------------------------------------------------
# shipping method: until dispatched
# --------------------------------------------------------------------------------------------------


def test_shipping_method_change_allowed_while_packed_and_re_rates_shipping():
    o = order(progress("HAT", 1, picked=1, packed=1))
    p = allowed(go(o, ChangeShippingMethod(method="EXPRESS")))
    # before: 49.00 + 5.02 (49 × 10.25 % = 5.0225) + STANDARD 7.95 (49 < 100) + 0.81 (7.95 × 10.25 % =
    #         0.814875) = 62.78
    # after:  49.00 + 5.02 + EXPRESS 14.95 + 1.53 (14.95 × 10.25 % = 1.532375) = 70.50; delta +7.72
    assert p.totals_before.grand_total == usd("62.78") and p.totals_after.grand_total == usd("70.50")
    inv = only_invoice(p)
    assert items(inv) == [("SHIPPING", None, usd("7.00")), ("TAX", None, usd("0.72"))]
    assert inv.total == usd("7.72")


def test_shipping_method_change_refused_once_one_unit_is_dispatched():
    o = order(progress("HAT", 2, picked=2, packed=2, dispatched=1))
    refused(go(o, ChangeShippingMethod(method="EXPRESS")), "shipping.dispatched",
            mentions=("left the warehouse", "shipping method"))


def test_shipping_method_unknown_unchanged_and_on_collect():
    o = order(progress("HAT", 1))
    refused(go(o, ChangeShippingMethod(method="DRONE")), "shipping.unknown_method", mentions=("'DRONE'",))
    refused(go(o, ChangeShippingMethod(method="STANDARD")), "shipping.unchanged", mentions=("Standard",))
    refused(go(order(progress("HAT", 1), fulfilment=collect()), ChangeShippingMethod(method="EXPRESS")),
            "shipping.not_delivery", mentions=(REF, "click & collect"))


def test_shipping_method_without_a_fee_in_the_currency_is_not_offered():
    no_aud = POLICY.model_copy(update={"shipping_methods": tuple(
        m.model_copy(update={"fee": {k: v for k, v in m.fee.items() if k != "AUD"}}) if m.code == "EXPRESS" else m
        for m in POLICY.shipping_methods)})
    o = order(line(1, "HAT", 1, currency="AUD"), market="AU")
    refused(plan(o, [ChangeShippingMethod(method="EXPRESS")], au_ctx(policy=no_aud)), "shipping.unknown_method",
            mentions=("AU",))


def test_shipping_currency_is_a_pricing_error_and_an_unpriceable_stored_order():
    no_aud = POLICY.model_copy(update={"shipping_methods": tuple(
        m.model_copy(update={"fee": {k: v for k, v in m.fee.items() if k != "AUD"}}) if m.code == "STANDARD"
        else m for m in POLICY.shipping_methods)})
    o = order(line(1, "HAT", 1, currency="AUD"), market="AU")
    with pytest.raises(PricingError) as e:
        price(o, no_aud, LOCATIONS)
    assert e.value.rule == "shipping.currency" and "AUD" in e.value.message
    p = plan(o, [ChangeQuantity(line_id=1, quantity=2)], au_ctx(policy=no_aud))
    v = refused(p, "order.unpriceable", index=None, mentions=("STANDARD", "AUD"))
    assert p.totals_before is None and v.line_id is None


# --------------------------------------------------------------------------------------------------
# pickup location: until dispatched to the store
# --------------------------------------------------------------------------------------------------


def test_pickup_location_change_allowed_while_packed_and_re_rates_at_the_store():
    o = order(progress("HAT", 1, picked=1, packed=1), fulfilment=collect("ST-CHI"))
    p = allowed(go(o, ChangePickupLocation(location_id="ST-MKE")))
    # before: 49.00 + 5.02 (Chicago store, 10.25 %), no shipping = 54.02
    # after:  49.00 + (49 × 7.9 % = 3.871 → 3.87) = 52.87; delta −1.15, all tax
    assert p.totals_before.grand_total == usd("54.02") and p.totals_after.grand_total == usd("52.87")
    assert items(only_memo(p)) == [("TAX", None, usd("1.15"))]
    assert p.order_after.fulfilment == ClickAndCollect(location_id="ST-MKE")


@pytest.mark.parametrize("buckets", [
    dict(picked=2, packed=2, dispatched=1),
    dict(picked=2, packed=2, dispatched=1, ready=1),
], ids=["on-the-way-to-the-store", "ready-at-the-store"])
def test_pickup_location_change_refused_once_one_unit_is_dispatched_to_the_store(buckets):
    o = order(progress("HAT", 2, **buckets), fulfilment=collect("ST-CHI"))
    refused(go(o, ChangePickupLocation(location_id="ST-MKE")), "pickup.dispatched", mentions=("store",))


def test_pickup_location_unknown_inactive_other_market_unchanged_and_on_home_delivery():
    o = order(progress("HAT", 1), fulfilment=collect("ST-CHI"))
    refused(go(o, ChangePickupLocation(location_id="ST-XXX")), "pickup.unknown_location", mentions=("'ST-XXX'",))
    closed = {**LOCATIONS, "ST-OLD": LOCATIONS["ST-MKE"].model_copy(update={"id": "ST-OLD", "active": False})}
    refused(go(o, ChangePickupLocation(location_id="ST-OLD"), locations=closed), "pickup.unknown_location",
            mentions=("'ST-OLD'",))
    refused(go(o, ChangePickupLocation(location_id="ST-SYD")), "pickup.other_market",
            mentions=("Sydney George St", "US"))
    refused(go(o, ChangePickupLocation(location_id="ST-CHI")), "pickup.unchanged", mentions=("Chicago State St",))
    refused(go(order(progress("HAT", 1)), ChangePickupLocation(location_id="ST-MKE")), "pickup.not_collect",
            mentions=(REF, "home delivery"))


def test_pickup_unknown_location_on_the_stored_order_is_a_pricing_error():
    o = order(progress("HAT", 1), fulfilment=collect("ST-GONE"), paid=False)
    with pytest.raises(PricingError) as e:
        price(o, POLICY, LOCATIONS)
    assert e.value.rule == "pickup.unknown_location" and "ST-GONE" in e.value.message
    refused(go(o, ChangePickupLocation(location_id="ST-MKE")), "order.unpriceable", index=None,
            mentions=("ST-GONE",))


BOISE_STORE = PickupLocation(id="ST-BOI", name="Boise Downtown", address=BOISE.model_copy(update={"name": "Store"}))


def test_tax_no_jurisdiction_after_the_amendments_is_refused():
    # The store is in the market's country, so the amendment passes its own checks; pricing the amended
    # order then finds no tax rate (this policy has no US-wide fallback).
    locs = {**LOCATIONS, "ST-BOI": BOISE_STORE}
    o = order(progress("HAT", 1), fulfilment=collect("ST-CHI"))
    p = go(o, ChangePickupLocation(location_id="ST-BOI"), policy=NO_US_FALLBACK, locations=locs)
    refused(p, "tax.no_jurisdiction", index=None, mentions=("Boise", "ID"))
    with pytest.raises(PricingError) as e:
        price(o.model_copy(update={"fulfilment": collect("ST-BOI")}), NO_US_FALLBACK, locs)
    assert e.value.rule == "tax.no_jurisdiction"


def test_order_unpriceable_when_the_stored_destination_has_no_tax_rate():
    o = order(progress("HAT", 1), fulfilment=HomeDelivery(address=BOISE, shipping_method="STANDARD"), paid=False)
    refused(go(o, ChangeQuantity(line_id=1, quantity=2), policy=NO_US_FALLBACK), "order.unpriceable", index=None,
            mentions=("Boise",))


# --------------------------------------------------------------------------------------------------
# switch home delivery ↔ click & collect: until picked
# --------------------------------------------------------------------------------------------------


def test_switch_to_click_and_collect_allowed_while_allocated():
    o = order(progress("HAT", 1))
    p = allowed(go(o, SwitchFulfilment(fulfilment=collect("ST-CHI"))))
    # before 62.78 (see the shipping test); after: 49.00 + 5.02, collect ships free = 54.02; delta −8.76
    memo = only_memo(p)
    assert items(memo) == [("SHIPPING", None, usd("7.95")), ("TAX", None, usd("0.81"))]
    assert memo.total == usd("8.76")
    assert p.order_after.line(1).allocated == 0


def test_switch_to_home_delivery_allowed_while_allocated():
    o = order(progress("HAT", 1), fulfilment=collect("ST-CHI"))
    p = allowed(go(o, SwitchFulfilment(fulfilment=HomeDelivery(address=MILWAUKEE, shipping_method="STANDARD"))))
    # before 54.02; after: 49.00 + 3.87 (7.9 %) + 7.95 + (7.95 × 7.9 % = 0.62805 → 0.63) = 61.45; delta +7.43
    inv = only_invoice(p)
    assert inv.total == usd("7.43")
    assert items(inv) == [("SHIPPING", None, usd("7.95")), ("TAX", None, usd("-0.52"))]


@pytest.mark.parametrize("start, target", [
    (None, ClickAndCollect(location_id="ST-CHI")),
    ("collect", HomeDelivery(address=CHICAGO, shipping_method="STANDARD")),
], ids=["to-collect", "to-delivery"])
def test_switch_refused_once_one_unit_is_picked(start, target):
    o = order(progress("HAT", 2, picked=1), fulfilment=collect() if start else None)
    refused(go(o, SwitchFulfilment(fulfilment=target)), "switch.picked", mentions=("being picked",))


def test_switch_to_the_same_kind_and_bad_targets():
    home = order(progress("HAT", 1))
    coll = order(progress("HAT", 1), fulfilment=collect())
    refused(go(home, SwitchFulfilment(fulfilment=HomeDelivery(address=MILWAUKEE, shipping_method="STANDARD"))),
            "switch.same_kind", mentions=(REF, "home delivery"))
    refused(go(coll, SwitchFulfilment(fulfilment=collect("ST-MKE"))), "switch.same_kind",
            mentions=("click and collect",))
    refused(go(home, SwitchFulfilment(fulfilment=collect("ST-SYD"))), "pickup.other_market", mentions=("Sydney",))
    refused(go(home, SwitchFulfilment(fulfilment=collect("ST-NOPE"))), "pickup.unknown_location",
            mentions=("ST-NOPE",))
    refused(go(coll, SwitchFulfilment(fulfilment=HomeDelivery(address=CHICAGO, shipping_method="CAMEL"))),
            "shipping.unknown_method", mentions=("'CAMEL'",))
    refused(go(coll, SwitchFulfilment(fulfilment=HomeDelivery(address=SYDNEY, shipping_method="STANDARD"))),
            "address.other_market", mentions=("US",))


# --------------------------------------------------------------------------------------------------
# cancel order: until dispatched; picked stock goes back
# --------------------------------------------------------------------------------------------------


def test_cancel_allowed_while_packed_and_picked_stock_goes_back():
    o = order(progress("JKT-M", 1, picked=1, packed=1), progress("HAT", 1, picked=1, line_id=2))
    p = allowed(go(o, CancelOrder()))
    for ln in p.order_after.lines:
        assert (ln.quantity, ln.cancelled, ln.allocated, ln.picked, ln.packed) == (0, ln.ordered, 0, 0, 0)
    assert order_stage(p.order_after) == Stage.CANCELLED
    # the whole 262.39 (238.00 + 19.37 + 5.02) comes back on one CANCELLATION memo, refunded to the card
    memo = only_memo(p)
    assert memo.type == "CANCELLATION" and memo.total == usd("262.39")
    assert items(memo) == [("LINE", 1, usd("189.00")), ("LINE", 2, usd("49.00")), ("TAX", None, usd("24.39"))]
    assert [(r.amount, r.payment_method_id) for r in docs_of(p, Refund)] == [(usd("262.39"), "PM-1")]
    assert [n.kind for n in p.notifications] == ["ORDER_CANCELLED"]


@pytest.mark.parametrize("buckets, collect_order", [
    (dict(picked=2, packed=2, dispatched=1), False),
    (dict(picked=2, packed=2, dispatched=1, ready=1), True),
    (dict(picked=2, packed=2, dispatched=2, delivered=1), False),
], ids=["one-dispatched", "one-ready-at-store", "one-delivered"])
def test_cancel_refused_once_one_unit_is_dispatched(buckets, collect_order):
    o = order(progress("HAT", 2, **buckets), fulfilment=collect() if collect_order else None)
    refused(go(o, CancelOrder()), "cancel.dispatched", mentions=(REF, "on their way"))


def test_any_amendment_on_a_cancelled_order_is_refused():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    cancelled = allowed(go(o, CancelOrder())).order_after
    for cmd in (CancelOrder(), AddLine(sku="HAT", quantity=1), ChangeQuantity(line_id=1, quantity=2),
                AppeasementCredit(amount=usd("5.00"), reason_code="LATE_DELIVERY")):
        refused(go(cancelled, cmd), "order.cancelled", index=None, mentions=(REF, "cancelled"))


def test_an_amendment_after_cancel_order_in_the_same_session_is_refused():
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    p = go(o, CancelOrder(), ChangeQuantity(line_id=1, quantity=2))
    refused(p, "order.cancelled", index=1, mentions=(REF, "earlier step"))
    p = go(o, CancelOrder(), AppeasementCredit(amount=usd("5.00"), reason_code="LATE_DELIVERY"))
    refused(p, "order.cancelled", index=1)


# --------------------------------------------------------------------------------------------------
# appeasements: any stage but cancelled; reason codes; amounts; cumulative limits per role
# --------------------------------------------------------------------------------------------------

LATE = "LATE_DELIVERY"

STAGES = [
    pytest.param(dict(allocated=0), None, id="booked"),
    pytest.param(dict(), None, id="awaiting-pick"),
    pytest.param(dict(picked=1), None, id="picking"),
    pytest.param(dict(picked=2, packed=2), None, id="packed"),
    pytest.param(dict(picked=2, packed=2, dispatched=2), None, id="dispatched"),
    pytest.param(dict(picked=2, packed=2, dispatched=2, delivered=2), None, id="delivered"),
    pytest.param(dict(picked=2, packed=2, dispatched=2, ready=2), "collect", id="ready-for-collection"),
    pytest.param(dict(picked=2, packed=2, dispatched=2, ready=2, delivered=2), "collect", id="collected"),
]


@pytest.mark.parametrize("buckets, kind", STAGES)
def test_appeasement_credit_allowed_at_every_stage(buckets, kind):
    o = order(progress("HAT", 2, **buckets), fulfilment=collect() if kind else None)
    p = allowed(go(o, AppeasementCredit(amount=usd("20.00"), reason_code=LATE)))
    assert p.totals_after.grand_total == p.totals_before.grand_total and p.delta.is_zero
    memo = only_memo(p)
    assert (memo.type, memo.reason_code, memo.total) == ("APPEASEMENT", LATE, usd("20.00"))
    assert [s.amount for s in docs_of(p, StoreCredit)] == [usd("20.00")] and not docs_of(p, Refund)
    assert p.store_credit_issued == usd("20.00")
    assert [n.kind for n in p.notifications] == ["APPEASEMENT_GRANTED"]


@pytest.mark.parametrize("buckets, kind", STAGES)
def test_appeasement_discount_allowed_at_every_stage(buckets, kind):
    o = order(progress("HAT", 2, **buckets), fulfilment=collect() if kind else None)
    allowed(go(o, AppeasementDiscount(reason_code=LATE, percent=Decimal("10"))))


def test_appeasement_credit_to_the_original_payment():
    o = order(progress("HAT", 1))
    p = allowed(go(o, AppeasementCredit(amount=usd("12.34"), reason_code="DAMAGED", settle_to="ORIGINAL_PAYMENT")))
    assert [(r.amount, r.payment_method_id) for r in docs_of(p, Refund)] == [(usd("12.34"), "PM-1")]
    assert not docs_of(p, StoreCredit)


def test_appeasement_discount_re_prices_the_order_and_settles_by_credit_memo():
    o = order(progress("HAT", 1))
    p = allowed(go(o, AppeasementDiscount(reason_code=LATE, percent=Decimal("10"))))
    # before 62.78; 10 % of 49.00 = 4.90 → merchandise 44.10, tax 44.10 × 10.25 % = 4.52025 → 4.52,
    # shipping 7.95 + 0.81 → 57.38; delta −5.40 = line 4.90 + tax 0.50 (5.02 − 4.52)
    assert p.totals_after.grand_total == usd("57.38")
    memo = only_memo(p)
    assert memo.type == "AMENDMENT" and items(memo) == [("LINE", 1, usd("4.90")), ("TAX", None, usd("0.50"))]
    d = p.order_after.discounts[-1]
    assert d.appeasement and d.reason_code == LATE and d.percent == Decimal("10")


@pytest.mark.parametrize("code", ["", "CUSTOMER_REQUEST", "NOT_A_CODE"], ids=["missing", "not-appeasement", "unknown"])
def test_appeasement_needs_an_appeasement_reason_code(code):
    o = order(progress("HAT", 1))
    for cmd in (AppeasementCredit(amount=usd("5.00"), reason_code=code),
                AppeasementDiscount(reason_code=code, percent=Decimal("5"))):
        refused(go(o, cmd), "appeasement.reason", mentions=(LATE, "SERVICE_RECOVERY"))


@pytest.mark.parametrize("amount", [aud("5.00"), Money("5.00", "EUR"), usd("0.00"), usd("-5.00"),
                                    Money("500", "JPY")], ids=["AUD", "EUR", "zero", "negative", "JPY"])
def test_appeasement_amount_positive_in_the_order_currency(amount):
    o = order(progress("HAT", 1))
    refused(go(o, AppeasementCredit(amount=amount, reason_code=LATE)), "appeasement.amount",
            mentions=("positive amount in USD", str(amount)))
    refused(go(o, AppeasementDiscount(reason_code=LATE, amount=amount)), "appeasement.amount",
            mentions=("positive amount in USD",))


@pytest.mark.parametrize("percent", ["0", "-5", "100.01", "101"])
def test_appeasement_discount_percentage_above_0_up_to_100(percent):
    o = order(progress("SOCK", 1))
    refused(go(o, AppeasementDiscount(reason_code=LATE, percent=Decimal(percent))), "appeasement.shape",
            mentions=(percent,))


def test_appeasement_discount_of_100_percent_on_a_line_is_allowed():
    o = order(progress("SOCK", 1), progress("HAT", 1, line_id=2))
    p = allowed(go(o, AppeasementDiscount(reason_code=LATE, line_id=1, percent=Decimal("100"))))
    assert p.totals_after.line(1).net.is_zero
    # before: 61.50 merchandise < 100 → shipping 7.95; line tax 12.50 × 10.25 % = 1.28125 → 1.28, 5.02;
    # after: line 1 free, its tax gone; delta −(12.50 + 1.28) = −13.78
    assert p.delta == usd("-13.78")


def test_appeasement_discount_percentage_and_amount_exactly_one():
    o = order(progress("HAT", 1))
    refused(go(o, AppeasementDiscount(reason_code=LATE)), "appeasement.shape", mentions=("percentage", "amount"))
    refused(go(o, AppeasementDiscount(reason_code=LATE, percent=Decimal("5"), amount=usd("1.00"))),
            "appeasement.shape")


def test_appeasement_discount_on_an_unknown_or_cancelled_line():
    o = order(progress("HAT", 1), line(2, "SOCK", 1, cancelled=1))
    refused(go(o, AppeasementDiscount(reason_code=LATE, line_id=5, percent=Decimal("5"))), "line.unknown", line_id=5)
    refused(go(o, AppeasementDiscount(reason_code=LATE, line_id=2, percent=Decimal("5"))), "line.cancelled",
            line_id=2)


class Ids:
    """One id source across several plans, as the store would hand out."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, kind: str) -> str:
        self.n += 1
        return f"{kind}-{self.n}"


def _chain(o, steps, role="agent"):
    """Run one-amendment plans in turn, each on the previous plan's order_after; return the plans."""
    ids = Ids()
    out = []
    for cmd in steps:
        p = go(o, cmd, role=role, ids=ids)
        out.append(p)
        if p.ok:
            o = p.order_after
    return out


def credit(a: str) -> AppeasementCredit:
    return AppeasementCredit(amount=usd(a), reason_code=LATE)


def test_agent_appeasements_cannot_add_up_past_the_limit_over_several_plans():
    o = order(progress("TEE", 3))
    p1, p2, p3, p4, p5 = _chain(o, [credit("20.00"), credit("20.00"), credit("10.01"), credit("10.00"),
                                    credit("0.01")])
    assert p1.ok and p2.ok
    v = refused(p3, "appeasement.limit", index=0,
                mentions=("USD 50.00", "agent", "USD 40.00 already granted", "USD 50.01", "USD 10.00 left"))
    assert p4.ok  # exactly at the limit: 20 + 20 + 10 = 50.00
    refused(p5, "appeasement.limit", mentions=("USD 50.00 already granted", "USD 0.00 left"))
    assert v.line_id is None


def test_credits_and_discounts_count_together_towards_the_limit():
    o = order(progress("TEE", 3))  # 300.00 of merchandise
    # 10 % of 300.00 = 30.00 counts as appeasement; 30.00 + 20.00 = 50.00 is the limit; one cent more is over
    plans = _chain(o, [AppeasementDiscount(reason_code=LATE, percent=Decimal("10")), credit("20.01")])
    assert plans[0].ok
    refused(plans[1], "appeasement.limit", mentions=("USD 30.00 already granted", "USD 50.01"))
    plans = _chain(o, [AppeasementDiscount(reason_code=LATE, percent=Decimal("10")), credit("20.00")])
    assert all(p.ok for p in plans)


def test_several_appeasements_in_one_session_count_together():
    o = order(progress("TEE", 3))
    p = go(o, credit("30.00"), AppeasementDiscount(reason_code=LATE, amount=usd("20.01")))
    refused(p, "appeasement.limit", index=1, mentions=("USD 50.01", "USD 0.00 already granted"))
    allowed(go(o, credit("30.00"), AppeasementDiscount(reason_code=LATE, amount=usd("20.00"))))


def test_supervisor_has_the_higher_limit():
    o = order(progress("TEE", 3))
    refused(go(o, credit("60.00")), "appeasement.limit", mentions=("agent limit of USD 50.00",))
    plans = _chain(o, [credit("60.00"), credit("190.00"), credit("0.01")], role="supervisor")
    assert plans[0].ok and plans[1].ok
    refused(plans[2], "appeasement.limit", mentions=("supervisor limit of USD 250.00", "USD 250.00 already granted"))


def test_aud_limit_is_policy_s_aud_figure():
    o = order(line(1, "TEE", 3, currency="AUD"), market="AU")
    allowed(plan(o, [AppeasementCredit(amount=aud("75.00"), reason_code=LATE)], au_ctx()))
    refused(plan(o, [AppeasementCredit(amount=aud("75.01"), reason_code=LATE)], au_ctx()), "appeasement.limit",
            mentions=("AUD 75.00",))


def test_a_percentage_appeasement_cannot_grow_past_the_limit_through_later_amendments():
    o = order(progress("TEE", 3))
    plans = _chain(o, [AppeasementDiscount(reason_code=LATE, percent=Decimal("10")),
                       ChangeQuantity(line_id=1, quantity=6)])
    assert plans[0].ok
    refused(plans[1], "appeasement.limit", mentions=("USD 50.00",))


# --------------------------------------------------------------------------------------------------
# the session: read-only, reason codes, empty, payment
# --------------------------------------------------------------------------------------------------

ONE_OF_EACH = [
    pytest.param(AddLine(sku="HAT", quantity=1), id="add_line"),
    pytest.param(ChangeQuantity(line_id=1, quantity=2), id="change_quantity"),
    pytest.param(RemoveLine(line_id=2), id="remove_line"),
    pytest.param(ReplaceProduct(line_id=1, sku="JKT-L"), id="replace_product"),
    pytest.param(ChangeAddress(address=MILWAUKEE), id="change_address"),
    pytest.param(ChangeShippingMethod(method="EXPRESS"), id="change_shipping_method"),
    pytest.param(SwitchFulfilment(fulfilment=collect()), id="switch_fulfilment"),
    pytest.param(CancelOrder(), id="cancel_order"),
    pytest.param(AppeasementCredit(amount=usd("5.00"), reason_code=LATE), id="appeasement_credit"),
    pytest.param(AppeasementDiscount(reason_code=LATE, percent=Decimal("5")), id="appeasement_discount"),
]


@pytest.mark.parametrize("cmd", ONE_OF_EACH)
def test_read_only_session_refuses_every_amendment(cmd):
    o = order(progress("JKT-M", 1), progress("HAT", 1, line_id=2))
    assert go(o, cmd).ok  # allowed for a normal session
    refused(go(o, cmd, read_only=True, role="supervisor"), "session.read_only", index=None,
            mentions=("read-only",))


def test_read_only_refuses_a_pickup_change_too():
    o = order(progress("HAT", 1), fulfilment=collect())
    refused(go(o, ChangePickupLocation(location_id="ST-MKE"), read_only=True), "session.read_only", index=None)


def test_empty_session_is_refused():
    refused(go(order(progress("HAT", 1))), "session.empty", index=None, mentions=("stage",))


def test_commit_needs_a_known_reason_code():
    o = order(progress("TEE", 3))
    cmd = ChangeQuantity(line_id=1, quantity=2)
    refused(go(o, cmd, purpose="commit"), "session.reason_required", index=None, mentions=("reason code",))
    refused(go(o, cmd, purpose="commit", reason_code="WHATEVER"), "session.reason_unknown", index=None,
            mentions=("'WHATEVER'",))
    p = allowed(go(o, cmd, purpose="commit", reason_code="CUSTOMER_REQUEST", actor="agent-7",
                   idempotency_key="k-1", note="customer called"))
    assert only_memo(p).reason_code == "CUSTOMER_REQUEST"
    a = p.audit
    assert (a.reason_code, a.actor, a.idempotency_key, a.note) == ("CUSTOMER_REQUEST", "agent-7", "k-1",
                                                                    "customer called")
    assert go(o, cmd).ok  # a preview needs no reason code


def test_commit_reason_code_must_suit_the_kind_of_change():
    o = order(progress("TEE", 3))
    refused(go(o, ChangeQuantity(line_id=1, quantity=2), purpose="commit", reason_code=LATE),
            "session.reason_unknown", index=None, mentions=("'LATE_DELIVERY'",))


def test_extra_charge_needs_a_payment_method_on_file():
    o = order(progress("JKT-M", 1))
    no_card = ACCOUNT.model_copy(update={"payment_methods": ()})
    refused(go(o, AddLine(sku="HAT", quantity=1), account=no_card), "payment.no_method", index=None,
            mentions=(REF, "payment method"))
    # a change that gives money back needs no card
    allowed(go(order(progress("TEE", 2)), ChangeQuantity(line_id=1, quantity=1), account=no_card))


def test_extra_charge_needs_a_card_that_has_not_expired():
    o = order(progress("JKT-M", 1))

    def with_expiry(exp: str):
        return ACCOUNT.model_copy(update={"payment_methods": (PaymentMethod(id="PM-1", brand="Visa", last4="4242",
                                                                             expiry=exp),)})

    # NOW is 27 Nov 2026: a card good through 11/26 still works, one through 10/26 has expired
    allowed(go(o, AddLine(sku="HAT", quantity=1), account=with_expiry("11/26")))
    refused(go(o, AddLine(sku="HAT", quantity=1), account=with_expiry("10/26")), "payment.expired", index=None,
            mentions=("Visa •••• 4242", "10/26"))


# --------------------------------------------------------------------------------------------------
# invalid input is a refusal, never an exception
# --------------------------------------------------------------------------------------------------

INVALID = [
    pytest.param(ChangeQuantity(line_id=1, quantity=-1), "quantity.invalid", 1, id="negative"),
    pytest.param(ChangeQuantity(line_id=1, quantity=0), "quantity.invalid", 1, id="zero"),
    pytest.param(ChangeQuantity(line_id=1, quantity=10**40), "quantity.invalid", 1, id="huge"),
    pytest.param(ChangeQuantity.model_construct(line_id=1, quantity=True), "quantity.invalid", 1, id="bool-raw"),
    pytest.param(AddLine.model_construct(sku="HAT", quantity=False), "quantity.invalid", None, id="bool-raw-add"),
    pytest.param(AddLine.model_construct(sku="HAT", quantity="3"), "quantity.invalid", None, id="str-raw-add"),
    pytest.param(ChangeQuantity(line_id=99, quantity=1), "line.unknown", 99, id="unknown-line"),
    pytest.param(RemoveLine(line_id=10**18), "line.unknown", 10**18, id="huge-line-id"),
    pytest.param(AddLine(sku="", quantity=1), "sku.unknown", None, id="empty-sku"),
    pytest.param(AddLine(sku="HAT\x00", quantity=1), "sku.unknown", None, id="nul-sku"),
    pytest.param(ReplaceProduct(line_id=1, sku="nope"), "sku.unknown", 1, id="unknown-sku"),
    pytest.param(AppeasementCredit(amount=Money("5.00", "EUR"), reason_code=LATE), "appeasement.amount", None,
                 id="eur-credit"),
    pytest.param(AppeasementDiscount(amount=Money("5.00", "EUR"), reason_code=LATE), "appeasement.amount", None,
                 id="eur-discount"),
    pytest.param(AppeasementDiscount(percent=Decimal("1e9"), reason_code=LATE), "appeasement.shape", None,
                 id="huge-percent"),
]


@pytest.mark.parametrize("cmd, rule, line_id", INVALID)
def test_invalid_input_is_a_violation_never_an_exception(cmd, rule, line_id):
    o = order(progress("TEE", 3), progress("HAT", 1, line_id=2))
    refused(go(o, cmd), rule, line_id=line_id)


def test_something_that_is_not_an_amendment_is_invalid_input():
    o = order(progress("TEE", 3))
    refused(plan(o, [{"kind": "change_quantity", "line_id": 1, "quantity": 2}], ctx()), "input.invalid",
            mentions=("not an amendment",))


@pytest.mark.parametrize("cmd", [
    AppeasementCredit.model_construct(amount="10.00", reason_code=LATE, settle_to="STORE_CREDIT"),
    ChangeAddress.model_construct(address=None),
], ids=["credit-amount-str", "address-none"])
def test_unvalidated_commands_are_invalid_input_not_exceptions(cmd):
    o = order(progress("TEE", 3))
    refused(go(o, cmd), "input.invalid")


@pytest.mark.parametrize("build", [
    lambda: ChangeQuantity(line_id=1, quantity=True),
    lambda: AddLine(sku="HAT", quantity=True),
    lambda: ChangeQuantity(line_id=True, quantity=2),
    lambda: RemoveLine(line_id=False),
], ids=["change-quantity", "add-line", "line-id", "remove-line-id"])
def test_bool_quantity_or_line_id_built_normally_never_becomes_a_number(build):
    """A JSON ``true`` must not turn into quantity 1: refused when the command is built, or by the plan."""
    from pydantic import ValidationError

    o = order(progress("TEE", 3), progress("HAT", 1, line_id=2))
    try:
        cmd = build()
    except ValidationError:
        return
    p = go(o, cmd)
    assert not p.ok and p.violations[0].rule in ("quantity.invalid", "input.invalid", "line.unknown")


# --------------------------------------------------------------------------------------------------
# one session, one change: one settlement, one notification per channel, one audit record
# --------------------------------------------------------------------------------------------------


def test_several_amendments_settle_as_one_change():
    sms_customer = CUSTOMER.model_copy(update={"preferences": CUSTOMER.preferences.model_copy(update={"sms": True})})
    o = order(progress("JKT-M", 1), progress("HAT", 2, line_id=2))
    p = allowed(plan(o, [
        ChangeQuantity(line_id=2, quantity=1),
        ReplaceProduct(line_id=1, sku="JKT-S"),
        ChangeAddress(address=CHICAGO.model_copy(update={"line1": "1 N Dearborn St"})),
    ], ctx(customer=sms_customer, audit_seq=7, audit_prev_hash="a" * 64)))
    # before: 189.00 + 98.00 = 287.00, tax 19.37 + (98 × 10.25 % = 10.045 → 10.05) = 29.42, free → 316.42
    # after:  179.00 + 49.00 = 228.00, tax (179 × 10.25 % = 18.3475 → 18.35) + 5.02 = 23.37, free → 251.37
    # delta −65.05 = line 1 10.00 + line 2 49.00 + tax 6.05
    assert (p.totals_before.grand_total, p.totals_after.grand_total) == (usd("316.42"), usd("251.37"))
    memo = only_memo(p)
    assert memo.total == usd("65.05")
    assert items(memo) == [("LINE", 1, usd("10.00")), ("LINE", 2, usd("49.00")), ("TAX", None, usd("6.05"))]
    assert [type(d).__name__ for d in p.documents] == ["CreditMemo", "Refund"]
    assert p.order_after.documents == o.documents + p.documents
    # one notification per channel, for one event
    assert sorted(n.channel for n in p.notifications) == ["email", "sms"]
    assert len({n.event_id for n in p.notifications}) == 1
    email = next(n for n in p.notifications if n.channel == "email")
    assert email.kind == "ORDER_AMENDED" and "USD 251.37" in email.body and "USD 65.05" in email.body
    # one audit record: versions, the three canonical commands, the money
    a = p.audit
    assert (a.seq, a.version_before, a.version_after, a.prev_hash) == (7, 1, 2, "a" * 64)
    assert [c["kind"] for c in a.command] == ["change_quantity", "replace_product", "change_address"]
    assert a.financial_effect["delta"] == {"amount": "-65.05", "currency": "USD"}
    assert len(p.changes) == 3


def test_several_amendments_that_cost_more_give_one_invoice():
    o = order(progress("JKT-M", 1))
    p = allowed(go(o, AddLine(sku="HAT", quantity=1), ChangeShippingMethod(method="EXPRESS")))
    # before 208.37; after: 238.00 + 19.37 + 5.02 + EXPRESS 14.95 + 1.53 = 278.87; delta +70.50
    #   = line 2 49.00 + shipping 14.95 + tax 6.55 (5.02 + 1.53)
    inv = only_invoice(p)
    assert inv.total == usd("70.50")
    assert items(inv) == [("LINE", 2, usd("49.00")), ("SHIPPING", None, usd("14.95")), ("TAX", None, usd("6.55"))]
    assert len(p.notifications) == 1 and p.audit.version_after == 2


def test_one_refused_amendment_refuses_the_whole_session():
    o = order(progress("JKT-M", 1), progress("HAT", 2, picked=1, line_id=2))
    p = go(o, ChangeShippingMethod(method="EXPRESS"), RemoveLine(line_id=2), AddLine(sku="SOCK", quantity=1))
    refused(p, "remove_line.picked", line_id=2, index=1)


def test_every_refusal_of_a_session_is_reported_with_its_index():
    o = order(progress("JKT-M", 1), progress("HAT", 2, picked=1, line_id=2))
    p = go(o, RemoveLine(line_id=2), ChangeQuantity(line_id=1, quantity=1), AddLine(sku="GONE", quantity=1))
    assert [(v.rule, v.index, v.line_id) for v in p.violations] == [
        ("remove_line.picked", 0, 2), ("quantity.unchanged", 1, 1), ("sku.not_sellable", 2, None)]
    assert_nothing_moves(p)


def test_a_change_with_no_price_effect_writes_no_document_but_an_audit_record():
    o = order(progress("TEE", 2))
    p = allowed(go(o, ChangeAddress(address=CHICAGO.model_copy(update={"phone": "+1 312 555 0142"}))))
    assert p.documents == () and p.delta.is_zero
    assert p.audit.financial_effect["documents"] == [] and p.audit.financial_effect["delta"]["amount"] == "0.00"


def test_refunds_never_exceed_what_the_card_paid_the_rest_is_store_credit():
    o = order(progress("HAT", 1))  # 62.78 captured on PM-1 (49.00 + 5.02 + 7.95 + 0.81)
    p1, p2 = _chain(o, [AppeasementCredit(amount=usd("20.00"), reason_code=LATE, settle_to="ORIGINAL_PAYMENT"),
                        CancelOrder()])
    assert [r.amount for r in docs_of(p1, Refund)] == [usd("20.00")]
    # the cancellation credits the whole 62.78; the card has 62.78 − 20.00 = 42.78 left to refund,
    # so 42.78 goes back to it and 20.00 becomes store credit
    memo = only_memo(p2)
    assert memo.type == "CANCELLATION" and memo.total == usd("62.78")
    assert [r.amount for r in docs_of(p2, Refund)] == [usd("42.78")]
    assert [s.amount for s in docs_of(p2, StoreCredit)] == [usd("20.00")]
    assert ledger_problems(p2.order_after.documents, "USD") == []


def test_store_credit_first_policy_routes_every_credit_to_store_credit():
    sc_first = POLICY.model_copy(update={"refunds": POLICY.refunds.model_copy(update={"route": "store_credit_first"})})
    o = order(progress("TEE", 3))
    p = allowed(go(o, ChangeQuantity(line_id=1, quantity=2), policy=sc_first))
    # 300.00 + 30.75 → 200.00 + 20.50: 110.25 back, all as store credit
    assert not docs_of(p, Refund)
    assert [s.amount for s in docs_of(p, StoreCredit)] == [usd("110.25")] and p.store_credit_issued == usd("110.25")


def test_an_appeasement_credit_cannot_exceed_what_the_order_is_charged():
    o = order(progress("SOCK", 1))  # 12.50 + 1.28 tax + 7.95 + 0.81 shipping = 22.54 charged
    sup = ctx(role="supervisor")
    refused(plan(o, [AppeasementCredit(amount=usd("22.55"), reason_code=LATE)], sup), "appeasement.exceeds_paid",
            index=None, mentions=("USD 22.54",))
    allowed(plan(o, [AppeasementCredit(amount=usd("22.54"), reason_code=LATE)], sup))


# --------------------------------------------------------------------------------------------------
# Fulfilment events (engine/events.py): each refusal just past its boundary, the allowed case inside
# --------------------------------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from carecli.engine.events import EventContext, apply_event, parse_event  # noqa: E402

from .factory import NOW  # noqa: E402

EV_AT = NOW - timedelta(hours=1)


def ev(kind: str, **fields):
    base = {"kind": kind, "event_id": f"E-{kind}", "order_ref": REF, "at": EV_AT.isoformat()}
    return parse_event({**base, **fields})


def ectx(**kw) -> EventContext:
    base = dict(policy=POLICY, locations=LOCATIONS, customer=CUSTOMER, account=ACCOUNT, now=NOW)
    return EventContext(**{**base, **kw})


def event_refused(o, e, rule: str, *, line_id=None, mentions=()):
    out = apply_event(o, e, ectx())
    assert out.refusal is not None, f"expected {rule}, the event applied"
    assert out.refusal.rule == rule, out.refusal
    assert out.refusal.line_id == line_id
    assert_sentence(out.refusal.message)
    for m in mentions:
        assert m in out.refusal.message, (m, out.refusal.message)
    assert out.order_after is None and not out.documents and not out.notifications and out.audit is None
    return out


def event_allowed(o, e):
    out = apply_event(o, e, ectx())
    assert out.refusal is None, out.refusal
    return out


def test_events_on_a_cancelled_order_are_refused():
    o = order(line(1, "TEE", 2, cancelled=2))
    event_refused(o, ev("delivered"), "event.order_cancelled", mentions=("cancelled",))


def test_an_event_for_another_order_is_refused():
    o = order(line(1, "TEE", 1, allocated=1))
    event_refused(o, ev("picked", order_ref="ON-999999"), "event.wrong_order", mentions=("ON-999999",))


def test_an_event_dated_before_the_order_is_refused():
    o = order(line(1, "TEE", 1))
    event_refused(o, ev("allocated", at=(o.placed_at - timedelta(seconds=1)).isoformat()), "event.before_order")
    event_allowed(o, ev("allocated", at=o.placed_at.isoformat()))


def test_lines_named_must_exist_be_live_and_appear_once():
    o = order(line(1, "TEE", 2, allocated=2), line(2, "HAT", 1, cancelled=1))
    event_refused(o, ev("picked", lines=[{"line_id": 9, "quantity": 1}]), "event.unknown_line", line_id=9)
    event_refused(o, ev("picked", lines=[{"line_id": 2, "quantity": 1}]), "event.line_cancelled", line_id=2)
    event_refused(o, ev("picked", lines=[{"line_id": 1, "quantity": 1}, {"line_id": 1, "quantity": 1}]),
                  "event.line_twice", line_id=1)


def test_an_all_lines_event_needs_something_to_move():
    o = order(line(1, "TEE", 2))  # nothing allocated: nothing can be picked
    event_refused(o, ev("picked"), "event.nothing_to_move", mentions=("picked",))
    event_refused(o, ev("picking_started"), "event.nothing_to_move")


@pytest.mark.parametrize("kind, buckets, qty, rule, fields", [
    ("allocated", dict(allocated=1), 2, "event.allocate_exceeds", {}),  # 2 live, 1 allocated: room 1
    ("picked", dict(allocated=1), 2, "event.pick_exceeds", {}),  # picking more than allocated
    ("packed", dict(allocated=2, picked=1), 2, "event.pack_exceeds", {}),
    ("dispatched", dict(allocated=2, picked=2, packed=1), 2, "event.dispatch_exceeds",
     {"carrier": "UPS", "tracking": "1Z"}),  # dispatching unpacked units
    ("delivered", dict(allocated=2, picked=2, packed=2, dispatched=1), 2, "event.deliver_exceeds", {}),
])
def test_a_step_never_takes_more_units_than_the_step_before_it(kind, buckets, qty, rule, fields):
    o = order(line(1, "TEE", 2, **buckets))
    event_refused(o, ev(kind, lines=[{"line_id": 1, "quantity": qty}], **fields), rule, line_id=1,
                  mentions=("line 1",))
    event_allowed(o, ev(kind, lines=[{"line_id": 1, "quantity": qty - 1}], **fields))


def test_click_and_collect_steps_never_exceed_the_step_before_them():
    o = order(line(1, "TEE", 2, allocated=2, picked=2, packed=2, dispatched=2, ready=1), fulfilment=collect())
    event_refused(o, ev("ready_for_collection", lines=[{"line_id": 1, "quantity": 2}]), "event.ready_exceeds",
                  line_id=1)
    event_refused(o, ev("collected", lines=[{"line_id": 1, "quantity": 2}]), "event.collect_exceeds", line_id=1)
    event_allowed(o, ev("collected", lines=[{"line_id": 1, "quantity": 1}]))


def test_collection_events_belong_to_click_and_collect_and_delivery_to_home_delivery():
    home = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1, dispatched=1))
    event_refused(home, ev("ready_for_collection"), "event.not_collect")
    event_refused(home, ev("collected"), "event.not_collect")
    cc = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1, dispatched=1), fulfilment=collect())
    event_refused(cc, ev("delivered"), "event.not_delivery", mentions=("collect",))


def test_a_short_pick_names_at_most_the_unpicked_units():
    o = order(line(1, "TEE", 3, allocated=3, picked=1))
    event_refused(o, ev("short_picked", line_id=1, units=3), "event.short_pick_exceeds", line_id=1,
                  mentions=("2 unpicked",))
    event_allowed(o, ev("short_picked", line_id=1, units=2))


def test_a_backorder_fits_the_unpicked_units_and_has_a_date_from_today_on():
    o = order(line(1, "BACK", 2, picked=0))
    event_refused(o, ev("backordered", line_id=1, units=3, expected="2026-12-10"), "event.backorder_exceeds",
                  line_id=1)
    event_refused(o, ev("backordered", line_id=1, units=1, expected=(EV_AT.date() - timedelta(days=1)).isoformat()),
                  "event.backorder_date", line_id=1)
    event_allowed(o, ev("backordered", line_id=1, units=2, expected=EV_AT.date().isoformat()))


def test_a_delivery_can_fail_only_while_something_is_out_for_delivery():
    o = order(line(1, "TEE", 1, allocated=1, picked=1, packed=1))
    event_refused(o, ev("delivery_failed", reason="no one home"), "event.not_dispatched")
    out = event_allowed(order(line(1, "TEE", 1, allocated=1, picked=1, packed=1, dispatched=1)),
                        ev("delivery_failed", reason="no one home"))
    assert out.order_after is None and out.audit is None and len(out.notifications) == 1
# -- returns (DOMAIN §7; engine/returns.py) -----------------------------------------------------------
# The worked examples and properties are in test_returns.py; here every return rule id is reached once,
# from a real request, and a refusal moves nothing.


def _return_case(rule: str):
    from datetime import UTC, datetime

    from carecli.engine.returns import (
        LineVerdict, Override, ReturnLineRequest, plan_close, plan_create, plan_receive, plan_refund, plan_verify,
    )

    at = datetime(2026, 11, 20, tzinfo=UTC)
    shipped = dict(allocated=2, picked=2, packed=2, dispatched=2)
    delivered = order(line(1, "TEE", 2, delivered=2, delivered_at=at, **shipped))
    final = order(line(1, "TEE", 2, delivered=2, delivered_at=at, **shipped).model_copy(update={"final_sale": True}))
    req = lambda **kw: ReturnLineRequest(**{"line_id": 1, "quantity": 1, "reason_code": "CHANGED_MIND",  # noqa: E731
                                             "condition": "unopened", **kw})

    def create(o, reqs, overrides=(), **kw):
        return plan_create(o, reqs, list(overrides), ctx(**kw), ro_id="RO-1", ordinal=1)

    def in_state(state):
        p = create(delivered, [req()])
        o, r = p.order_after, p.return_order
        for step in ("RECEIVED", "VERIFIED"):
            if r.state == state:
                break
            r = (plan_receive(o, r, ctx()) if step == "RECEIVED"
                 else plan_verify(o, r, [LineVerdict(line_id=1, accepted=True)], ctx())).return_order
        return o, r

    cases = {
        "return.order_cancelled": lambda: create(order(line(1, "TEE", 2, cancelled=2), paid=False), [req()]),
        "return.not_delivered": lambda: create(order(line(1, "TEE", 2, **shipped)), [req()]),
        "return.none_left": lambda: create(order(line(1, "TEE", 2, delivered=2, returned=2, delivered_at=at, **shipped)),
                                           [req()]),
        "return.final_sale": lambda: create(final, [req()]),
        "return.no_delivery_date": lambda: create(order(line(1, "TEE", 2, delivered=2, **shipped)), [req()]),
        "return.window_closed": lambda: create(order(line(1, "TEE", 2, delivered=2, delivered_at=datetime(
            2026, 9, 1, tzinfo=UTC), **shipped)), [req()]),
        "return.quantity": lambda: create(delivered, [req(quantity=3)]),
        "return.empty": lambda: create(delivered, []),
        "return.line_unknown": lambda: create(delivered, [req(line_id=9)]),
        "return.line_twice": lambda: create(delivered, [req(), req()]),
        "return.reason_unknown": lambda: create(delivered, [req(reason_code="LATE_DELIVERY")]),
        "return.condition_unknown": lambda: create(delivered, [req(condition="shredded")]),
        "return.override_role": lambda: create(final, [req()],
                                               [Override(rule="return.final_sale", line_id=1, reason="ok")]),
        "return.override_reason": lambda: create(final, [req()],
                                                 [Override(rule="return.final_sale", line_id=1, reason="  ")],
                                                 role="supervisor"),
        "return.override_rule": lambda: create(delivered, [req()],
                                               [Override(rule="return.quantity", line_id=1, reason="please")],
                                               role="supervisor"),
        "return.state": lambda: plan_refund(*in_state("AWAITING_RECEIPT"), "ORIGINAL_PAYMENT", ctx()),
        "return.verdict_missing": lambda: plan_verify(*in_state("RECEIVED"), [], ctx()),
        "return.verdict_reason": lambda: plan_verify(*in_state("RECEIVED"), [LineVerdict(line_id=1, accepted=False)],
                                                     ctx()),
        "return.nothing_accepted": lambda: (lambda o, r: plan_refund(o, plan_verify(
            o, r, [LineVerdict(line_id=1, accepted=False, note="worn")], ctx()).return_order,
            "ORIGINAL_PAYMENT", ctx()))(*in_state("RECEIVED")),
        "return.refund_first": lambda: plan_close(*in_state("VERIFIED"), ctx()),
    }
    return cases[rule]()


@pytest.mark.parametrize("rule", [
    "return.order_cancelled", "return.not_delivered", "return.none_left", "return.final_sale",
    "return.no_delivery_date", "return.window_closed", "return.quantity", "return.empty", "return.line_unknown",
    "return.line_twice", "return.reason_unknown", "return.condition_unknown", "return.override_role",
    "return.override_reason", "return.override_rule", "return.state", "return.verdict_missing",
    "return.verdict_reason", "return.nothing_accepted", "return.refund_first",
])
def test_return_rules(rule):
    p = _return_case(rule)
    assert rule in [v.rule for v in p.violations], p.violations
    assert p.order_after is None and p.return_order is None and not p.documents and p.audit is None
    assert all(v.message and v.rule in RULES for v in p.violations)


def test_exchange_needs_a_known_priced_replacement():
    from carecli.engine.returns import ReplacementLine, replacement_problems

    o = order(line(1, "TEE", 1))
    assert [v.rule for v in replacement_problems(o, [], CATALOG)] == ["exchange.empty"]
    assert [v.rule for v in replacement_problems(o, [ReplacementLine(sku="NOPE", quantity=1)], CATALOG)] == [
        "sku.unknown"]
    assert [v.rule for v in replacement_problems(o, [ReplacementLine(sku="EUR", quantity=1)], CATALOG)] == [
        "sku.no_price"]
