"""Returns and refunds in the engine (DOMAIN §7): eligibility, the return order's states, and the refund.

The worked examples are computed by hand in the comments: three units at 100.00, an order discount of
10.00 and 15.00 shipping, in Chicago (tax-exclusive, 10.25 %) and in Sydney (GST 10 % inclusive).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecli.engine.model import CreditMemo, Discount, Line, Refund, StoreCredit
from carecli.engine.money import Money
from carecli.engine.policy import ShippingMethod
from carecli.engine.pricing import price
from carecli.engine.returns import (
    LineVerdict, Override, ReturnLineRequest, eligibility, line_eligibility, plan_close, plan_create,
    plan_receive, plan_refund, plan_verify, preview_lines, refund_breakdown, window_end,
)
from carecli.engine.settlement import ledger_sums

from .factory import LOCATIONS, NOW, POLICY, au_ctx, aud, ctx, order, usd

# 15.00 shipping, never free, so the worked examples carry shipping.
FLAT = ShippingMethod(code="STANDARD", name="Flat", fee={"USD": "15.00", "AUD": "15.00"})
FLAT_POLICY = POLICY.model_copy(update={"shipping_methods": (FLAT,)})
DELIVERED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def three_at_100(market: str = "US", *, delivered: int = 3, **kw) -> Line:
    cur = "USD" if market == "US" else "AUD"
    return Line(line_id=1, sku="TEE", description="Organic Tee", unit_price=Money("100.00", cur), ordered=3,
                allocated=3, picked=3, packed=3, dispatched=3, delivered=delivered,
                delivered_at=DELIVERED_AT if delivered else None, **kw)


def worked_order(market: str = "US"):
    cur = "USD" if market == "US" else "AUD"
    disc = Discount(id="DSC-1", amount=Money("10.00", cur), label="Welcome")
    o = order(three_at_100(market), market=market, discounts=(disc,), paid=False)
    total = price(o, FLAT_POLICY, LOCATIONS).grand_total
    from carecli.engine.model import Invoice, Payment

    inv = Invoice(id="INV-1", order_ref=o.ref, type="ORDER", total=total, created_at=o.placed_at,
                  payment_method_id="PM-1")
    pay = Payment(id="PAY-1", order_ref=o.ref, invoice_id="INV-1", payment_method_id="PM-1", amount=total,
                  created_at=o.placed_at)
    return o.model_copy(update={"documents": (inv, pay)})


def c(market: str = "US", **kw):
    base = dict(policy=FLAT_POLICY, now=NOW, actor="kim")
    base.update(kw)
    return ctx(**base) if market == "US" else au_ctx(**base)


class Ids:
    def __init__(self):
        self.n = 0

    def __call__(self, kind):
        self.n += 1
        return f"{kind}-{self.n:06d}"


def run_return(o, qty: int, *, reason: str = "CHANGED_MIND", condition: str = "unopened", market="US",
               refund_to="ORIGINAL_PAYMENT", n: int = 1, line_id: int = 1, ids=None):
    """Create → receive → verify (accepted) → refund one return of ``qty`` units; the order after it."""
    cx = c(market, ids=ids or Ids())
    p = plan_create(o, [ReturnLineRequest(line_id=line_id, quantity=qty, reason_code=reason, condition=condition)],
                    [], cx, ro_id=f"RO-{n:06d}", ordinal=n)
    assert p.ok, p.violations
    o, ret = p.order_after, p.return_order
    ret = plan_receive(o, ret, cx).return_order
    v = plan_verify(o, ret, [LineVerdict(line_id=line_id, accepted=True)], cx)
    assert v.ok, v.violations
    ret = v.return_order
    r = plan_refund(o, ret, refund_to, cx)
    assert r.ok, r.violations
    return r.order_after, r


# -- worked examples -------------------------------------------------------------------------------


def test_worked_example_tax_exclusive_one_then_two_equals_all_three():
    o = worked_order("US")
    # 3 × 100.00 − 10.00 = 290.00 net; tax 10.25 % = 29.725 → 29.73; shipping 15.00 + 1.5375 → 1.54 tax
    assert price(o, FLAT_POLICY, LOCATIONS).grand_total == usd("336.27")
    # Per unit: 290.00 / 3 → 96.67, 96.67, 96.66 (largest remainder, ties to the first); tax 9.91 each.
    o1, first = run_return(o, 1)
    assert first.breakdown.merchandise == usd("96.67") and first.breakdown.tax == usd("9.91")
    assert first.breakdown.shipping == usd("0.00")  # not the whole order, not the merchant's fault
    assert first.breakdown.total == usd("106.58")
    o2, rest = run_return(o1, 2, n=2)
    # 96.67 + 96.66 = 193.33; tax 19.82 + shipping's 1.54 = 21.36; the whole order is back: shipping 15.00
    assert rest.breakdown.merchandise == usd("193.33")
    assert rest.breakdown.shipping == usd("15.00") and rest.breakdown.tax == usd("21.36")
    assert rest.breakdown.total == usd("229.69")
    _, together = run_return(o, 3)
    assert together.breakdown.total == usd("336.27") == first.breakdown.total + rest.breakdown.total
    assert o2.line(1).returned == 3 and o2.line(1).return_initiated == 0


def test_worked_example_tax_inclusive_one_then_two_equals_all_three():
    o = worked_order("AU")
    # 290.00 inclusive contains 26.36 GST (290 × 0.1 / 1.1 = 26.3636), so 263.64 ex tax; shipping 15.00
    # contains 1.36 (13.64 ex tax). Grand total 305.00.
    assert price(o, FLAT_POLICY, LOCATIONS).grand_total == aud("305.00")
    # Per unit: 263.64 / 3 = 87.88 each; GST 26.36 / 3 → 8.79, 8.79, 8.78.
    o1, first = run_return(o, 1, market="AU")
    assert (first.breakdown.merchandise, first.breakdown.tax, first.breakdown.total) == (
        aud("87.88"), aud("8.79"), aud("96.67"))
    _, rest = run_return(o1, 2, market="AU", n=2)
    assert (rest.breakdown.merchandise, rest.breakdown.shipping, rest.breakdown.tax, rest.breakdown.total) == (
        aud("175.76"), aud("13.64"), aud("18.93"), aud("208.33"))
    _, together = run_return(o, 3, market="AU")
    assert together.breakdown.total == aud("305.00") == first.breakdown.total + rest.breakdown.total


def test_refund_documents_credit_memo_return_with_items_and_the_refund_to_the_card():
    o = worked_order("US")
    after, r = run_return(o, 1)
    memo, refund = r.documents
    assert isinstance(memo, CreditMemo) and memo.type == "RETURN" and memo.total == usd("106.58")
    assert [(i.kind, i.amount) for i in memo.items] == [("LINE", usd("96.67")), ("TAX", usd("9.91"))]
    assert sum((i.amount for i in memo.items), usd("0")) == memo.total
    assert isinstance(refund, Refund) and refund.amount == usd("106.58") and refund.payment_method_id == "PM-1"
    assert after.version == o.version + 2  # create and refund bump it; receive and verify (all accepted) do not
    assert ledger_sums(after.documents, "USD").ok


def test_store_credit_destination():
    _, r = run_return(worked_order("US"), 1, refund_to="STORE_CREDIT")
    memo, sc = r.documents
    assert isinstance(sc, StoreCredit) and sc.amount == memo.total == usd("106.58")
    assert r.store_credit_issued == usd("106.58")


def test_merchant_fault_refunds_shipping_and_never_charges_a_restocking_fee():
    o = worked_order("US")
    _, r = run_return(o, 1, reason="DAMAGED", condition="used")
    b = r.breakdown
    assert b.restocking_fee == usd("0.00")
    assert b.shipping == usd("15.00") and b.shipping_tax == usd("1.54")
    assert b.total == usd("96.67") + usd("9.91") + usd("15.00") + usd("1.54")


def test_shipping_is_refunded_once():
    o = worked_order("US")
    o1, first = run_return(o, 1, reason="WRONG_ITEM")
    assert first.breakdown.shipping == usd("15.00")
    _, rest = run_return(o1, 2, n=2)  # the whole order is back now, but shipping already went back
    assert rest.breakdown.shipping == usd("0.00")
    assert first.breakdown.total + rest.breakdown.total == usd("336.27")


def test_restocking_fee_by_condition():
    o = worked_order("US")
    # opened: 10 % of the merchandise ex tax, 96.67 → 9.667 → 9.67 (half up); tax refunded in full
    _, r = run_return(o, 1, condition="opened")
    assert r.breakdown.restocking_fee == usd("9.67")
    assert r.breakdown.total == usd("96.67") + usd("9.91") - usd("9.67")
    memo = r.documents[0]
    assert ("RESTOCKING_FEE", usd("-9.67")) in [(i.kind, i.amount) for i in memo.items]
    _, used = run_return(o, 1, condition="used")  # 15 %: 14.5005 → 14.50
    assert used.breakdown.restocking_fee == usd("14.50")


def test_credits_never_exceed_what_was_paid():
    o = worked_order("US")
    # A 300.00 goodwill credit already went back; the return of everything can only give back 36.27.
    from carecli.engine.model import DocumentItem

    goodwill = CreditMemo(id="CM-9", order_ref=o.ref, invoice_id="INV-1", type="APPEASEMENT", reason_code="LATE_DELIVERY",
                          items=(DocumentItem(kind="APPEASEMENT", description="x", amount=usd("300.00")),),
                          total=usd("300.00"), created_at=NOW)
    refund = Refund(id="RF-9", order_ref=o.ref, credit_memo_id="CM-9", payment_method_id="PM-1", amount=usd("300.00"),
                    created_at=NOW)
    o = o.model_copy(update={"documents": o.documents + (goodwill, refund)})
    after, r = run_return(o, 3)
    assert r.breakdown.capped_by == usd("300.00") and r.breakdown.total == usd("36.27")
    s = ledger_sums(after.documents, "USD")
    assert s.ok and s.refunded <= s.captured and s.invoiced == s.credited


# -- eligibility and its boundaries ------------------------------------------------------------------


def test_window_last_day_and_the_day_after():
    ln = three_at_100()
    end = window_end(ln, POLICY)
    assert end == DELIVERED_AT.date() + timedelta(days=30)
    o = worked_order()
    last_moment = datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=UTC)
    assert line_eligibility(o, ln, POLICY, last_moment).rule == "return.ok"
    next_day = last_moment + timedelta(seconds=1)
    e = line_eligibility(o, ln, POLICY, next_day)
    assert e.rule == "return.window_closed" and not e.returnable and e.overridable
    assert end.isoformat() in e.message


def test_window_counts_days_in_utc_whatever_the_offset_of_the_clock():
    ln = three_at_100()
    end = window_end(ln, POLICY)
    # 23:30 on the last day in Chicago (UTC−6) is already the day after in UTC: closed.
    from datetime import timezone

    chicago = timezone(timedelta(hours=-6))
    late = datetime(end.year, end.month, end.day, 23, 30, tzinfo=chicago)
    assert line_eligibility(worked_order(), ln, POLICY, late).rule == "return.window_closed"


def test_category_window_from_policy():
    ln = three_at_100(category="swimwear")
    assert window_end(ln, POLICY) == DELIVERED_AT.date() + timedelta(days=14)


def test_partly_delivered_line_returns_only_what_arrived():
    o = order(three_at_100(delivered=1).model_copy(update={"delivered_at": DELIVERED_AT}))
    e = eligibility(o, POLICY, NOW)[0]
    assert e.returnable and e.available == 1
    p = plan_create(o, [ReturnLineRequest(line_id=1, quantity=2, reason_code="CHANGED_MIND", condition="unopened")],
                    [], c(), ro_id="RO-1", ordinal=1)
    assert [v.rule for v in p.violations] == ["return.quantity"]


def test_a_second_return_of_the_same_unit_is_refused():
    o = worked_order()
    p = plan_create(o, [ReturnLineRequest(line_id=1, quantity=3, reason_code="CHANGED_MIND", condition="unopened")],
                    [], c(), ro_id="RO-1", ordinal=1)
    again = plan_create(p.order_after, [ReturnLineRequest(line_id=1, quantity=1, reason_code="CHANGED_MIND",
                                                          condition="unopened")], [], c(), ro_id="RO-2", ordinal=2)
    assert [v.rule for v in again.violations] == ["return.none_left"]


def test_final_sale_is_refused_and_a_supervisor_may_override_with_a_reason():
    o = order(three_at_100(final_sale=True))
    req = [ReturnLineRequest(line_id=1, quantity=1, reason_code="CHANGED_MIND", condition="unopened")]
    assert [v.rule for v in plan_create(o, req, [], c(), ro_id="RO-1", ordinal=1).violations] == ["return.final_sale"]
    ov = [Override(rule="return.final_sale", line_id=1, reason="regional manager approved")]
    agent = plan_create(o, req, ov, c(role="agent"), ro_id="RO-1", ordinal=1)
    assert [v.rule for v in agent.violations] == ["return.override_role"]
    sup = plan_create(o, req, ov, c(role="supervisor", actor="sam"), ro_id="RO-1", ordinal=1)
    assert sup.ok
    assert sup.return_order.overrides[0].actor == "sam"
    assert sup.audit.command[0]["overrides"][0]["reason"] == "regional manager approved"


def test_return_on_a_cancelled_order_is_refused():
    ln = three_at_100(delivered=0).model_copy(update={"cancelled": 3, "allocated": 0, "picked": 0, "packed": 0,
                                                      "dispatched": 0})
    o = order(ln, paid=False)
    e = eligibility(o, POLICY, NOW)[0]
    assert e.rule == "return.order_cancelled"


# -- states ------------------------------------------------------------------------------------------


def test_transitions_are_validated():
    o = worked_order()
    cx = c()
    p = plan_create(o, [ReturnLineRequest(line_id=1, quantity=1, reason_code="CHANGED_MIND", condition="unopened")],
                    [], cx, ro_id="RO-1", ordinal=1)
    ret = p.return_order
    assert ret.state == "AWAITING_RECEIPT" and [h.state for h in ret.history] == ["CREATED", "AWAITING_RECEIPT"]
    assert ret.rma == "RMA-100001-1"
    assert [v.rule for v in plan_refund(p.order_after, ret, "ORIGINAL_PAYMENT", cx).violations] == ["return.state"]
    assert [v.rule for v in plan_close(p.order_after, ret, cx).violations] == ["return.state"]
    received = plan_receive(p.order_after, ret, cx).return_order
    assert [v.rule for v in plan_receive(p.order_after, received, cx).violations] == ["return.state"]


def test_a_rejected_line_goes_back_to_the_customer_and_the_return_closes_without_money():
    o = worked_order()
    cx = c()
    p = plan_create(o, [ReturnLineRequest(line_id=1, quantity=2, reason_code="CHANGED_MIND", condition="used")],
                    [], cx, ro_id="RO-1", ordinal=1)
    ret = plan_receive(p.order_after, p.return_order, cx).return_order
    missing = plan_verify(p.order_after, ret, [LineVerdict(line_id=1, accepted=False)], cx)
    assert [v.rule for v in missing.violations] == ["return.verdict_reason"]
    v = plan_verify(p.order_after, ret, [LineVerdict(line_id=1, accepted=False, note="worn, tags removed")], cx)
    assert v.order_after.line(1).return_initiated == 0 and v.order_after.line(1).returned == 0
    assert [x.rule for x in plan_refund(v.order_after, v.return_order, "ORIGINAL_PAYMENT", cx).violations] == [
        "return.nothing_accepted"]
    closed = plan_close(v.order_after, v.return_order, cx)
    assert closed.ok and closed.return_order.state == "CLOSED"


def test_notifications_created_received_refunded():
    o = worked_order()
    cx = c()
    p = plan_create(o, [ReturnLineRequest(line_id=1, quantity=1, reason_code="CHANGED_MIND", condition="unopened")],
                    [], cx, ro_id="RO-1", ordinal=1)
    assert p.notifications[0].kind == "RETURN_CREATED" and "RMA-100001-1" in p.notifications[0].body
    r = plan_receive(p.order_after, p.return_order, cx)
    assert r.notifications[0].kind == "RETURN_RECEIVED"
    _, done = run_return(o, 1)
    assert done.notifications[0].kind == "RETURN_REFUNDED" and "106.58" in done.notifications[0].body


# -- properties --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    qty=st.integers(1, 7),
    price_cents=st.integers(1, 50_000),
    discount_cents=st.integers(0, 5_000),
    rate=st.sampled_from(["0", "0.05", "0.0625", "0.079", "0.1025", "0.19"]),
    inclusive=st.booleans(),
    data=st.data(),
)
def test_one_at_a_time_equals_all_at_once(qty, price_cents, discount_cents, rate, inclusive, data):
    from decimal import Decimal

    from carecli.engine.policy import TaxJurisdiction

    market = "AU" if inclusive else "US"
    cur = "AUD" if inclusive else "USD"
    country = "AU" if inclusive else "US"
    pol = FLAT_POLICY.model_copy(update={"tax": (TaxJurisdiction(country=country, rate=Decimal(rate), name="t"),)})
    ln = Line(line_id=1, sku="TEE", description="Tee", unit_price=Money.from_minor(price_cents, cur), ordered=qty,
              delivered=qty, dispatched=qty, delivered_at=DELIVERED_AT)
    other = Line(line_id=2, sku="HAT", description="Hat", unit_price=Money("49.00", cur), ordered=1)
    disc = (Discount(id="D", amount=Money.from_minor(discount_cents, cur)),) if discount_cents else ()
    o = order(ln, other, market=market, discounts=disc, paid=False)
    steps = data.draw(st.lists(st.integers(1, qty), min_size=1, max_size=qty))
    got = Money.zero(cur)
    left = qty
    for k in steps:
        k = min(k, left)
        if k == 0:
            break
        b = refund_breakdown(o, preview_lines(o, [ReturnLineRequest(line_id=1, quantity=k, reason_code="CHANGED_MIND",
                                                                    condition="unopened")], pol), pol, LOCATIONS)
        got = got + b.merchandise + b.tax
        o = o.model_copy(update={"lines": (o.line(1).model_copy(update={"returned": o.line(1).returned + k}), other)})
        left -= k
    o0 = o.model_copy(update={"lines": (ln, other)})
    b_all = refund_breakdown(o0, preview_lines(o0, [ReturnLineRequest(line_id=1, quantity=qty - left,
                                                                      reason_code="CHANGED_MIND", condition="unopened")],
                                               pol), pol, LOCATIONS)
    assert got == b_all.merchandise + b_all.tax
    if left == 0:  # the whole line came back: exactly what the line was charged
        lp = price(o0, pol, LOCATIONS).line(1)
        assert got == lp.total


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["return", "goodwill", "discount"]), st.integers(1, 3),
                              st.sampled_from(["unopened", "opened", "used"]),
                              st.sampled_from(["CHANGED_MIND", "DAMAGED"]),
                              st.sampled_from(["ORIGINAL_PAYMENT", "STORE_CREDIT"])), max_size=6))
def test_refunds_never_exceed_captured_and_no_unit_is_returned_twice(ops):
    from carecli.engine.commands import AppeasementCredit
    from carecli.engine.plan import plan

    o = worked_order()
    ids = Ids()
    n = 0
    refunded_units = 0
    for kind, k, cond, reason, to in ops:
        if kind in ("goodwill", "discount"):  # an appeasement credit, or a discount that re-prices the order
            from carecli.engine.commands import AppeasementDiscount

            cmd = (AppeasementCredit(amount=usd("40.00"), reason_code="LATE_DELIVERY", settle_to="ORIGINAL_PAYMENT")
                   if kind == "goodwill" else AppeasementDiscount(reason_code="SERVICE_RECOVERY", percent=k * 5))
            p = plan(o, [cmd], c(ids=ids, role="supervisor"))
            if p.ok:
                o = p.order_after
                s = ledger_sums(o.documents, "USD")
                assert s.ok and s.refunded <= s.captured
            continue
        n += 1
        cx = c(ids=ids)
        req = [ReturnLineRequest(line_id=1, quantity=k, reason_code=reason, condition=cond)]
        p = plan_create(o, req, [], cx, ro_id=f"RO-{n}", ordinal=n)
        avail = o.line(1).delivered - o.line(1).return_initiated - o.line(1).returned
        if k > avail:
            assert not p.ok
            continue
        assert p.ok
        o, ret = p.order_after, p.return_order
        ret = plan_receive(o, ret, cx).return_order
        v = plan_verify(o, ret, [LineVerdict(line_id=1, accepted=True)], cx)
        r = plan_refund(o, v.return_order, to, cx)
        assert r.ok
        o = r.order_after
        refunded_units += k
        s = ledger_sums(o.documents, "USD")
        assert s.ok, s
        assert s.refunded <= s.captured
        assert s.credited <= s.invoiced
    assert o.line(1).returned == refunded_units <= 3


# -- exchanges -------------------------------------------------------------------------------------


def _exchange(o, sku: str, *, accepted: bool = True, ids=None):
    from carecli.engine.returns import Exchange, ReplacementLine, is_even, replacement_value

    from .factory import CATALOG

    cx = c(ids=ids or Ids())
    reps = (ReplacementLine(sku=sku, quantity=1),)
    req = [ReturnLineRequest(line_id=1, quantity=1, reason_code="WRONG_SIZE", condition="opened")]
    value = replacement_value(o, reps, FLAT_POLICY, LOCATIONS, CATALOG)
    even = is_even(o, preview_lines(o, req, FLAT_POLICY), reps, CATALOG)
    p = plan_create(o, req, [], cx, ro_id="RO-1", ordinal=1,
                    exchange=Exchange(replacements=reps, order_ref="ON-200000", value=value, even=even))
    assert p.ok, p.violations
    ret = plan_receive(p.order_after, p.return_order, cx).return_order
    v = plan_verify(p.order_after, ret, [LineVerdict(line_id=1, accepted=accepted, note="" if accepted else "worn")],
                    cx)
    return plan_refund(v.order_after or p.order_after, v.return_order, "ORIGINAL_PAYMENT", cx)


def one_tee():
    ln = Line(line_id=1, sku="TEE", description="Organic Tee", unit_price=usd("100.00"), ordered=1, dispatched=1,
              delivered=1, delivered_at=DELIVERED_AT)
    o = order(ln, paid=False)
    total = price(o, FLAT_POLICY, LOCATIONS).grand_total  # 100.00 + 10.25 tax + 15.00 + 1.54 shipping
    from carecli.engine.model import Invoice, Payment

    return o.model_copy(update={"documents": (
        Invoice(id="INV-1", order_ref=o.ref, type="ORDER", total=total, created_at=o.placed_at, payment_method_id="PM-1"),
        Payment(id="PAY-1", order_ref=o.ref, invoice_id="INV-1", payment_method_id="PM-1", amount=total,
                created_at=o.placed_at))})


def test_even_exchange_moves_no_money_and_no_restocking_fee():
    r = _exchange(one_tee(), "TEE")
    assert r.ok and r.documents == () and r.charge is None
    assert r.return_order.even and r.order_after.line(1).returned == 1


def test_uneven_exchange_worked_example_dearer_replacement():
    # Returned: 100.00 + 10.25 tax (opened, but no restocking fee on an exchange) = 110.25; shipping stays.
    # Replacement JKT-M at 189.00 + 19.37 tax (189 × 10.25 % = 19.3725) = 208.37. The customer pays 98.12.
    r = _exchange(one_tee(), "JKT-M")
    inv, pay = r.documents
    assert inv.type == "SUPPLEMENTARY" and inv.total == usd("98.12") == pay.amount
    assert r.charge is not None and r.charge.amount == usd("98.12")
    assert sum((i.amount for i in inv.items), usd("0")) == inv.total
    assert ledger_sums(r.order_after.documents, "USD").ok


def test_uneven_exchange_worked_example_cheaper_replacement():
    # Replacement SOCK at 12.50 + 1.28 tax (1.28125) = 13.78; back 110.25 − 13.78 = 96.47 to the card.
    r = _exchange(one_tee(), "SOCK")
    memo, refund = r.documents
    assert memo.type == "RETURN" and memo.total == usd("96.47") == refund.amount
    assert sum((i.amount for i in memo.items), usd("0")) == memo.total
    assert ledger_sums(r.order_after.documents, "USD").ok


def test_rejected_exchange_line_pays_for_the_replacement():
    r = _exchange(one_tee(), "TEE", accepted=False)
    inv, _ = r.documents
    assert inv.total == usd("110.25")  # the replacement tee (100.00 + 10.25), nothing came back


@pytest.mark.parametrize("sku, outcome", [("SOCK", "refund"), ("TEE", "even"), ("JKT-M", "charge")])
def test_the_exchange_preview_is_the_settlement_the_store_records(sku, outcome):
    """preview_exchange (the exchange dialog, before anything exists) gives the figures the settle step
    records, figure by figure: its terms are the ones the exchange is created with."""
    from carecli.engine.returns import ReplacementLine, exchange_terms, preview_exchange

    from .factory import CATALOG

    o = one_tee()
    reps = (ReplacementLine(sku=sku, quantity=1),)
    req = [ReturnLineRequest(line_id=1, quantity=1, reason_code="WRONG_SIZE", condition="opened")]
    st = preview_exchange(o, req, reps, FLAT_POLICY, LOCATIONS, CATALOG)
    assert exchange_terms(o, req, reps, FLAT_POLICY, LOCATIONS, CATALOG) == (st.replacement_value, st.even)
    r = _exchange(o, sku)
    rec = r.exchange
    assert rec is not None and st.outcome == rec.outcome == outcome
    for f in ("returned_value", "replacement_value", "delta", "credit", "capped_by", "to_payment",
              "to_store_credit", "charge"):
        assert getattr(st, f) == getattr(rec, f), f
    moved = {"refund": st.credit, "charge": st.charge, "even": usd("0.00")}[outcome]
    assert sum((getattr(d, "total", usd("0")) for d in r.documents[:1]), usd("0.00")) == moved
    if outcome == "charge":
        assert r.return_order.charge_total == st.charge and r.return_order.refund_total == usd("0.00")
    else:
        assert r.return_order.charge_total is None


def test_an_exchange_refund_as_store_credit_and_capped_at_what_was_paid():
    from carecli.engine.returns import exchange_settlement

    o = one_tee()
    back = preview_lines(o, [ReturnLineRequest(line_id=1, quantity=1, reason_code="WRONG_SIZE",
                                               condition="opened")], FLAT_POLICY)
    st = exchange_settlement(o, back, usd("10.00"), False, "STORE_CREDIT", FLAT_POLICY, LOCATIONS)
    assert st.outcome == "refund" and st.credit == usd("100.25") and st.to_store_credit == st.credit
    assert st.to_payment.is_zero and st.capped_by.is_zero
    # an appeasement already gave back all but 20.00 of what the order charged: the credit stops there
    paid = ledger_sums(o.documents, "USD").invoiced
    from carecli.engine.model import DocumentItem

    amount = paid - usd("20.00")
    goodwill = CreditMemo(id="CM-9", order_ref=o.ref, invoice_id="INV-1", type="APPEASEMENT", reason_code="GOODWILL",
                          items=(DocumentItem(kind="ADJUSTMENT", description="Goodwill", amount=amount),),
                          total=amount, created_at=NOW)
    st = exchange_settlement(o.model_copy(update={"documents": o.documents + (goodwill,)}), back, usd("10.00"),
                             False, "ORIGINAL_PAYMENT", FLAT_POLICY, LOCATIONS)
    assert st.credit == usd("20.00") and st.capped_by == usd("80.25") and st.to_payment == usd("20.00")
