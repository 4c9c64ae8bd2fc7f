"""Property tests (Hypothesis) for the engine: money, and the ledger after any sequence of plans.

Runs are reproducible: the ``carecli-ci`` profile sets ``derandomize=True`` (a fixed seed per test) and
no example database, so CI sees the same examples every time. To search longer, set
``CARECLI_HYPOTHESIS_EXAMPLES`` (e.g. ``CARECLI_HYPOTHESIS_EXAMPLES=5000``): every test then runs that
many examples with fresh randomness (``carecli-long`` profile); a failure prints the example and a
``@reproduce_failure`` blob to pin it.
"""

from __future__ import annotations

import os
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from carecli.engine.audit import GENESIS_HASH, verify_chain
from carecli.engine.commands import (
    AddLine, AppeasementCredit, AppeasementDiscount, CancelOrder, ChangeAddress, ChangePickupLocation,
    ChangeQuantity, ChangeShippingMethod, RemoveLine, ReplaceProduct, SwitchFulfilment,
)
from carecli.engine.model import (
    Address, ClickAndCollect, CreditMemo, Discount, HomeDelivery, Invoice, Payment, PickupLocation, Refund,
    StoreCredit,
)
from carecli.engine.money import CurrencyMismatch, Money, MoneyError, minor_units, total
from carecli.engine.plan import Plan, plan
from carecli.engine.pricing import price
from carecli.engine.settlement import ledger_problems, ledger_sums

from .factory import ACCOUNT, CHICAGO, CUSTOMER, LOCATIONS, MILWAUKEE, NOW, POLICY, SYDNEY, aud, ctx, line, order, usd

# --------------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------------

_LONG = os.environ.get("CARECLI_HYPOTHESIS_EXAMPLES", "").strip()
if _LONG and not (_LONG.isdigit() and int(_LONG) > 0):
    raise ValueError(f"CARECLI_HYPOTHESIS_EXAMPLES must be a positive whole number of examples, not {_LONG!r}")

settings.register_profile(
    "carecli-ci", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("carecli-long", settings.get_profile("carecli-ci"), derandomize=False)
_BASE = settings.get_profile("carecli-long" if _LONG else "carecli-ci")


def examples(ci_default: int) -> settings:
    """The profile, with ``ci_default`` examples (or CARECLI_HYPOTHESIS_EXAMPLES when set)."""
    return settings(_BASE, max_examples=int(_LONG) if _LONG else ci_default)


# --------------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------------

CURRENCIES = ["USD", "JPY", "BHD"]


def money_in(currency: str, bound: int = 10**12) -> st.SearchStrategy[Money]:
    return st.integers(-bound, bound).map(lambda u: Money.from_minor(u, currency))


@st.composite
def allocation(draw):
    cur = draw(st.sampled_from(CURRENCIES))
    amount = draw(money_in(cur))
    kind = draw(st.sampled_from(["int", "decimal", "zeros"]))
    n = draw(st.integers(1, 12))
    if kind == "int":
        weights = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    elif kind == "decimal":
        weights = draw(st.lists(st.decimals(min_value=0, max_value=10**4, places=3, allow_nan=False,
                                            allow_infinity=False), min_size=n, max_size=n))
    else:
        weights = [0] * n
    return amount, weights


@examples(300)
@given(allocation())
def test_allocate_sums_to_the_whole_and_each_part_is_within_one_unit_of_its_share(case):
    amount, weights = case
    parts = amount.allocate(weights)
    assert len(parts) == len(weights)
    assert all(p.currency == amount.currency for p in parts)
    assert total(parts, amount.currency) == amount
    units = amount.minor
    ws = [Fraction(Decimal(w)) for w in weights]
    tw = sum(ws)
    if tw == 0:  # all-zero weights split evenly
        ws, tw = [Fraction(1)] * len(weights), Fraction(len(weights))
    for p, w in zip(parts, ws):
        exact = units * w / tw
        assert abs(p.minor - exact) < 1, (p, exact)
        if units:
            assert p.minor * units >= 0  # never the opposite sign
        if w == 0:
            assert p.is_zero


@examples(100)
@given(st.sampled_from(CURRENCIES), st.integers(-10**9, 10**9), st.integers(1, 12))
def test_allocate_is_symmetric_in_sign(cur, units, n):
    m = Money.from_minor(units, cur)
    weights = list(range(1, n + 1))
    assert [(-p) for p in m.allocate(weights)] == (-m).allocate(weights)


def test_allocate_refuses_negative_weights_and_no_parts():
    with pytest.raises(MoneyError):
        usd("1.00").allocate([1, -1])
    with pytest.raises(MoneyError):
        usd("1.00").allocate([])


@examples(100)
@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(CURRENCIES))
def test_money_refuses_floats(f, cur):
    with pytest.raises(TypeError):
        Money(f, cur)
    with pytest.raises(TypeError):
        Money.round(f, cur)
    m = Money.from_minor(12345, cur)
    with pytest.raises(TypeError):
        m.multiply(f)
    with pytest.raises(TypeError):
        m * f  # noqa: B018
    with pytest.raises(TypeError):
        m.allocate([f, 1])


def test_money_refuses_bools():
    for b in (True, False):
        with pytest.raises(TypeError):
            Money(b, "USD")
        with pytest.raises(TypeError):
            usd("1.00") * b  # noqa: B018


def _in_minor_units(m: Money) -> None:
    q = Decimal(1).scaleb(-minor_units(m.currency))
    assert m.amount == m.amount.quantize(q), m
    assert m.amount.as_tuple().exponent == -minor_units(m.currency), repr(m)
    assert Money(str(m.amount), m.currency) == m


RATES = st.decimals(min_value=Decimal("-5"), max_value=Decimal("5"), places=7, allow_nan=False,
                    allow_infinity=False)


@examples(300)
@given(cur=st.sampled_from(CURRENCIES), a=st.integers(-10**10, 10**10), b=st.integers(-10**10, 10**10),
       n=st.integers(-1000, 1000), rate=RATES, rounding=st.sampled_from(["half_up", "half_even"]),
       weights=st.lists(st.integers(0, 100), min_size=1, max_size=6))
def test_minor_units_hold_through_every_operation(cur, a, b, n, rate, rounding, weights):
    x, y = Money.from_minor(a, cur), Money.from_minor(b, cur)
    results = [x + y, x - y, -x, abs(x), x * n, n * x, x.multiply(rate, rounding), x.min(y), x.max(y),
               Money.round(x.amount * rate, cur, rounding), total([x, y, -y], cur), Money.zero(cur),
               *x.allocate(weights)]
    for r in results:
        _in_minor_units(r)
    assert total([x, y], cur) == x + y


@examples(400)
@given(cur=st.sampled_from(CURRENCIES), d=st.decimals(min_value=-10**6, max_value=10**6, places=6,
                                                       allow_nan=False, allow_infinity=False))
def test_amounts_finer_than_the_minor_unit_are_refused(cur, d):
    q = Decimal(1).scaleb(-minor_units(cur))
    if d == d.quantize(q):
        _in_minor_units(Money(d, cur))
    else:
        with pytest.raises(MoneyError):
            Money(d, cur)
        with pytest.raises(MoneyError):
            Money(str(d), cur)


def test_minor_units_per_currency():
    assert Money("1500", "JPY").minor == 1500 and str(Money("1500", "JPY")) == "JPY 1,500"
    assert Money("1.250", "BHD").minor == 1250 and str(Money("1.25", "BHD")) == "BHD 1.250"
    for bad in (("0.5", "JPY"), ("1.0001", "BHD"), ("0.001", "USD")):
        with pytest.raises(MoneyError):
            Money(*bad)
    assert Money.round(Decimal("0.5"), "JPY") == Money("1", "JPY")
    assert Money.round(Decimal("0.0005"), "BHD") == Money("0.001", "BHD")


@examples(50)
@given(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES))
def test_arithmetic_across_currencies_is_an_error(c1, c2):
    assume(c1 != c2)
    x, y = Money.from_minor(100, c1), Money.from_minor(100, c2)
    for op in (lambda: x + y, lambda: x - y, lambda: x < y, lambda: total([x, y], c1)):
        with pytest.raises(CurrencyMismatch):
            op()


# --------------------------------------------------------------------------------------------------
# Random orders and random sessions
# --------------------------------------------------------------------------------------------------

MELBOURNE = Address(name="Noah Tran", line1="1 Collins St", city="Melbourne", region="VIC", postcode="3000",
                    country="AU")
EVANSTON = Address(name="Dana Whitfield", line1="1600 Chicago Ave", city="Evanston", region="IL",
                   postcode="60201", country="US")
BAD_US = CHICAGO.model_copy(update={"postcode": "6060"})

LOCS = {**LOCATIONS, "ST-MEL": PickupLocation(
    id="ST-MEL", name="Melbourne Bourke St",
    address=Address(name="Store", line1="300 Bourke St", city="Melbourne", region="VIC", postcode="3000",
                    country="AU"))}

MARKETS = {
    "US": dict(currency="USD", other="AUD", skus=["JKT-M", "JKT-L", "JKT-S", "HAT", "TEE", "SOCK", "BACK"],
               homes=[CHICAGO, MILWAUKEE, EVANSTON, CHICAGO.model_copy(update={"line1": "1 N Dearborn St"})],
               stores=["ST-CHI", "ST-MKE"]),
    "AU": dict(currency="AUD", other="USD", skus=["JKT-M", "JKT-L", "JKT-S", "HAT", "TEE", "SOCK"],
               homes=[SYDNEY, MELBOURNE, SYDNEY.model_copy(update={"name": "N. Tran"})],
               stores=["ST-SYD", "ST-MEL"]),
}
ODD_SKUS = ["GONE", "NONE", "BACK", "EUR", "NOPE"]
ODD_ADDRESSES = [BAD_US, SYDNEY, CHICAGO, MELBOURNE]
METHODS = ["STANDARD", "EXPRESS", "NEXT_DAY", "DRONE"]
REASONS = ["LATE_DELIVERY", "SERVICE_RECOVERY", "DAMAGED", "CUSTOMER_REQUEST", ""]
POLICY_SC = POLICY.model_copy(update={"refunds": POLICY.refunds.model_copy(update={"route": "store_credit_first"})})
BUCKETS = ("allocated", "picked", "packed", "dispatched", "delivered")


@st.composite
def orders(draw):
    market = draw(st.sampled_from(["US", "AU"]))
    m = MARKETS[market]
    collect = draw(st.booleans())
    fulfilment = (ClickAndCollect(location_id=draw(st.sampled_from(m["stores"]))) if collect
                  else HomeDelivery(address=draw(st.sampled_from(m["homes"])),
                                    shipping_method=draw(st.sampled_from(METHODS[:3]))))
    level = draw(st.sampled_from([0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5]))  # how far the warehouse got
    lines = []
    for i in range(1, draw(st.integers(1, 4)) + 1):
        q = draw(st.integers(1, 5))
        b = {"allocated": q if level >= 1 else 0}
        if level >= 2:
            b["picked"] = draw(st.integers(0, q))
            b["packed"] = b["picked"] if level >= 3 else 0
            b["dispatched"] = draw(st.integers(0, b["packed"])) if level >= 4 else 0
            b["delivered"] = draw(st.integers(0, b["dispatched"])) if level >= 5 else 0
            if collect:
                b["ready"] = b["dispatched"]
        lines.append(line(i, draw(st.sampled_from(m["skus"])), q, currency=m["currency"], **b))
    promo = draw(st.sampled_from([None, "percent", "amount"]))
    discounts = ()
    if promo == "percent":
        discounts = (Discount(id="PROMO", percent=Decimal("15"), label="Black Friday 15 %"),)
    elif promo == "amount":
        discounts = (Discount(id="PROMO", line_id=1, amount=Money("5.00", m["currency"]), label="5 off"),)
    o = order(*lines, market=market, fulfilment=fulfilment, discounts=discounts, paid=False)
    # paid in full at checkout: the ORDER invoice and its capture (priced with this file's stores)
    g = price(o, POLICY, LOCS).grand_total
    docs = (Invoice(id="INV-0", order_ref=o.ref, type="ORDER", total=g, created_at=o.placed_at,
                    payment_method_id="PM-1"),
            Payment(id="PAY-0", order_ref=o.ref, invoice_id="INV-0", payment_method_id="PM-1", amount=g,
                    created_at=o.placed_at))
    return o.model_copy(update={"documents": docs})


def amendment(data, o):
    """One amendment for ``o``: mostly well-formed and aimed at live lines, sometimes not (about 1 in 8)."""
    m = MARKETS[o.market]
    cur = o.currency
    draw = data.draw

    def pick(good, bad):
        # an explicit weighted draw: the odd (ill-formed or misdirected) value about 1 time in 8
        return draw(st.sampled_from(bad)) if draw(st.integers(0, 99), label="odd?") >= 88 else draw(
            st.sampled_from(good))

    live = [ln.line_id for ln in o.lines if ln.quantity > 0] or [1]
    dead = [ln.line_id for ln in o.lines if ln.quantity <= 0] + [len(o.lines) + 1]

    def line_id():
        return pick(live, dead)

    def qty(current=None):
        return pick([q for q in range(1, 7) if q != current], [0, -1, 100, current or 1])

    def sku(current=None):
        return pick([s for s in m["skus"] if s != current], ODD_SKUS + [current or "JKT-M"])

    def amount():
        c = pick([cur], [m["other"]])
        return Money.from_minor(pick(list(range(100, 3001, 7)), [0, -100, 5000, 25000]), c)

    def reason():
        return pick(REASONS[:3], REASONS[3:])  # appeasement codes; an amendment-only code or none

    def home():
        return HomeDelivery(address=pick(m["homes"], ODD_ADDRESSES), shipping_method=pick(METHODS[:3], ["DRONE"]))

    here_now = getattr(o.fulfilment, "location_id", None)

    def store():
        return pick([s for s in m["stores"] if s != here_now], ["ST-XXX", "ST-CHI", "ST-SYD"])

    home_kinds = ["address", "address", "method", "method"]
    collect_kinds = ["pickup", "pickup"]
    common = ["add", "add", "qty", "qty", "qty", "remove", "replace", "replace", "switch", "credit", "credit",
              "discount", "discount", "cancel"]
    here = home_kinds if o.fulfilment.kind == "HOME_DELIVERY" else collect_kinds
    there = collect_kinds if o.fulfilment.kind == "HOME_DELIVERY" else home_kinds
    kind = pick(common + here, there)
    if kind == "add":
        return AddLine(sku=sku(), quantity=qty())
    if kind == "qty":
        lid = line_id()
        ln = o.line(lid)
        return ChangeQuantity(line_id=lid, quantity=qty(ln.quantity if ln else None))
    if kind == "remove":
        return RemoveLine(line_id=line_id())
    if kind == "replace":
        lid = line_id()
        ln = o.line(lid)
        return ReplaceProduct(line_id=lid, sku=sku(ln.sku if ln else None))
    if kind == "address":
        now_at = getattr(o.fulfilment, "address", None)
        return ChangeAddress(address=pick([a for a in m["homes"] if a != now_at], ODD_ADDRESSES))
    if kind == "method":
        now_by = getattr(o.fulfilment, "shipping_method", None)
        return ChangeShippingMethod(method=pick([x for x in METHODS[:3] if x != now_by], ["DRONE", "STANDARD"]))
    if kind == "pickup":
        return ChangePickupLocation(location_id=store())
    if kind == "switch":
        to_collect = o.fulfilment.kind == "HOME_DELIVERY"
        return SwitchFulfilment(fulfilment=ClickAndCollect(location_id=store()) if pick([to_collect], [not to_collect])
                                else home())
    if kind == "cancel":
        return CancelOrder()
    if kind == "credit":
        return AppeasementCredit(amount=amount(), reason_code=reason(),
                                 settle_to=draw(st.sampled_from(["STORE_CREDIT", "ORIGINAL_PAYMENT"])))
    shape = pick(["percent", "amount"], ["both", "neither"])
    percent = pick([Decimal("5"), Decimal("12.5"), Decimal("33.33"), Decimal("7"), Decimal("100"), Decimal("0.01")],
                   [Decimal("0"), Decimal("150")]) if shape in ("percent", "both") else None
    amt = amount() if shape in ("amount", "both") else None
    target = draw(st.sampled_from([None, line_id()]))
    return AppeasementDiscount(reason_code=reason(), line_id=target, percent=percent, amount=amt)


def warehouse_step(data, o):
    """A fulfilment event from the warehouse or store: one more unit of a live line reaches a step."""
    live = [i for i, ln in enumerate(o.lines) if ln.quantity > 0]
    if not live:
        return o
    i = data.draw(st.sampled_from(live))
    step = data.draw(st.sampled_from(("allocated", "allocated", "picked", "picked", "packed", "dispatched",
                                      "delivered")))
    ln = o.lines[i]
    target = min(ln.quantity, getattr(ln, step) + 1)
    upd = {b: max(getattr(ln, b), target) for b in BUCKETS[:BUCKETS.index(step) + 1]}
    if o.fulfilment.kind == "CLICK_AND_COLLECT":
        upd["ready"] = max(ln.ready, upd.get("dispatched", ln.dispatched))
    lines = list(o.lines)
    lines[i] = ln.model_copy(update=upd)
    return o.model_copy(update={"lines": tuple(lines)})


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, kind: str) -> str:
        self.n += 1
        return f"{kind}-{self.n}"


def _sum(docs, cur) -> Money:
    return total((d.total for d in docs), cur)


def check_ledger(o) -> None:
    cur = o.currency
    assert ledger_problems(o.documents, cur) == []
    s = ledger_sums(o.documents, cur)
    assert s.refunded <= s.captured
    assert not (s.captured - s.refunded).is_negative
    assert not s.store_credit.is_negative
    for d in o.documents:
        amt = d.total if isinstance(d, (Invoice, CreditMemo)) else d.amount
        assert amt.currency == cur
        assert not amt.is_negative, d
        if isinstance(d, CreditMemo) or (isinstance(d, Invoice) and d.type == "SUPPLEMENTARY"):
            assert total((it.amount for it in d.items), cur) == d.total, d
        if isinstance(d, Refund):
            assert d.payment_method_id == o.payment_method_id
    invoices = [d for d in o.documents if isinstance(d, Invoice)]
    memos = [d for d in o.documents if isinstance(d, CreditMemo) and d.type in ("AMENDMENT", "CANCELLATION")]
    assert price(o, POLICY, LOCS).grand_total == _sum(invoices, cur) - _sum(memos, cur)


def check_refused(p: Plan, o) -> None:
    assert p.violations and not p.ok
    assert p.order_before is o
    assert p.order_after is None and p.totals_after is None
    assert p.documents == () and p.charge is None and p.notifications == () and p.audit is None
    assert p.delta.is_zero and p.store_credit_issued.is_zero
    for v in p.violations:
        assert v.rule and v.message


def check_allowed(p: Plan, o, cmds, seq: int, prev_hash: str) -> None:
    new = p.order_after
    assert new.version == o.version + 1
    assert new.documents == o.documents + p.documents
    assert p.totals_after.grand_total == price(new, POLICY, LOCS).grand_total
    assert p.delta == p.totals_after.grand_total - p.totals_before.grand_total
    cur = o.currency
    change_memos = [d for d in p.documents if isinstance(d, CreditMemo) and d.type != "APPEASEMENT"]
    appeasements = [d for d in p.documents if isinstance(d, CreditMemo) and d.type == "APPEASEMENT"]
    invoices = [d for d in p.documents if isinstance(d, Invoice)]
    if p.delta.is_negative:
        assert len(change_memos) == 1 and not invoices and change_memos[0].total == -p.delta
    elif p.delta.is_positive:
        assert len(invoices) == 1 and not change_memos and invoices[0].total == p.delta
        assert p.charge is not None and p.charge.amount == p.delta
        assert [d.amount for d in p.documents if isinstance(d, Payment)] == [p.delta]
    else:
        assert not change_memos and not invoices and p.charge is None
    assert len(appeasements) == sum(isinstance(c, AppeasementCredit) for c in cmds)
    # every credit is settled in full: refund + store credit for each memo = its total
    for memo in change_memos + appeasements:
        settled = [d.amount for d in p.documents
                   if isinstance(d, (Refund, StoreCredit)) and d.credit_memo_id == memo.id]
        assert total(settled, cur) == memo.total
    assert p.store_credit_issued == total((d.amount for d in p.documents if isinstance(d, StoreCredit)), cur)
    a = p.audit
    assert (a.seq, a.prev_hash, a.version_before, a.version_after) == (seq, prev_hash, o.version, new.version)
    assert len({n.event_id for n in p.notifications}) == 1
    assert len({n.channel for n in p.notifications}) == len(p.notifications)


@examples(400)
@given(data=st.data(), start=orders())
def test_ledger_invariants_hold_after_any_sequence_of_plans(data, start):
    o = start
    check_ledger(o)
    ids = Ids()
    seq, prev_hash, records = 1, GENESIS_HASH, []
    for _ in range(data.draw(st.integers(2, 8), label="steps")):
        if data.draw(st.integers(0, 7), label="warehouse?") == 0:
            o = warehouse_step(data, o)
            check_ledger(o)
            continue
        n = data.draw(st.sampled_from([1, 1, 1, 1, 2, 2, 3]), label="amendments")
        cmds = [amendment(data, o) for _ in range(n)]
        role = data.draw(st.sampled_from(["agent", "supervisor"]), label="role")
        commit = data.draw(st.booleans(), label="commit")
        c = ctx(policy=data.draw(st.sampled_from([POLICY, POLICY_SC]), label="policy"), locations=LOCS,
                account=ACCOUNT if o.currency == "USD" else ACCOUNT.model_copy(
                    update={"currency": "AUD", "store_credit": aud("0.00")}),
                customer=CUSTOMER, ids=ids, role=role, actor=f"{role}-1",
                purpose="commit" if commit else "preview", reason_code="CUSTOMER_REQUEST" if commit else "",
                audit_seq=seq, audit_prev_hash=prev_hash, now=NOW)
        note(f"plan {seq}: {[x.model_dump(mode='json') for x in cmds]}")
        p = plan(o, cmds, c)
        if not p.ok:
            note(f"  refused: {[v.rule for v in p.violations]}")
            v = p.violations[0]
            event(f"refused: {cmds[v.index].kind if v.index is not None else 'session'}: {v.rule}")
            check_refused(p, o)
            continue
        check_allowed(p, o, cmds, seq, prev_hash)
        for x in cmds:
            event(f"applied: {x.kind}")
        event("settled: " + ("credit memo" if p.delta.is_negative else "invoice" if p.delta.is_positive else "none"))
        o = p.order_after
        check_ledger(o)
        records.append(p.audit)
        seq, prev_hash = seq + 1, p.audit.hash
    assert verify_chain(records) is None
    assert o.version == 1 + len(records)


@examples(100)
@given(data=st.data(), start=orders())
def test_refused_plans_change_nothing_and_replay_identically(data, start):
    cmds = [amendment(data, start) for _ in range(data.draw(st.integers(1, 4)))]
    c = ctx(locations=LOCS, account=ACCOUNT if start.currency == "USD" else ACCOUNT.model_copy(
        update={"currency": "AUD", "store_credit": aud("0.00")}), read_only=data.draw(st.booleans()))
    snapshot = start.model_dump()
    p = plan(start, cmds, c)
    assert start.model_dump() == snapshot
    again = plan(start, cmds, ctx(locations=LOCS, account=c.account, read_only=c.read_only))
    assert again.violations == p.violations
    if p.ok:
        assert not c.read_only
        assert again.order_after == p.order_after and again.documents == p.documents
    else:
        check_refused(p, start)
        if c.read_only:
            assert [v.rule for v in p.violations][0] == "session.read_only"
