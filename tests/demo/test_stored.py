"""The demo as the store keeps it (``carecli.demo.stored``): JSON written straight from the generator's
data must be byte for byte what pydantic writes for the same models, and the columns beside it what
the store's own row functions compute from the models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter

from carecli import demo
from carecli.backend.sqlite.rows import document_columns, order_columns, order_json, order_total
from carecli.demo import stored
from carecli.demo.customers import Cust, fixed_customer, make_address
from carecli.engine.model import Customer, Stage, order_stage
from carecli.engine.money import Money

# Enough orders to hold every stage, document kind and memo type the demo makes (checked below).
ORDERS = 4_000


def _both(orders: int, seed: int):
    """The same run as models (``PartGenerator``) and as stored rows (``PartGenerator.stored``)."""
    p = demo.plan(orders, seed)
    models = list(demo.PartGenerator(seed)(p.scenarios, p.blocks))
    rows = list(demo.PartGenerator(seed).stored(p.scenarios, p.blocks))
    assert len(models) == len(rows)
    return list(zip(models, rows))


@pytest.fixture(scope="module")
def pairs():
    return _both(ORDERS, 7) + _both(1_500, 12345)[len(demo.SCENARIOS):]


def test_every_customer_account_order_and_document_is_byte_equal(pairs, policy, locations):
    seen_stages, seen_docs, seen_memos = set(), set(), set()
    backordered = percent = fixed = 0
    n = 0
    for (dc, orders), (sc, rows) in pairs:
        assert sc.json == dc.customer.model_dump_json()
        assert sc.account_json == dc.account.model_dump_json()
        assert (sc.id, sc.name, sc.email, sc.phone, sc.account_id, sc.currency) == (
            dc.customer.id, dc.customer.name, dc.customer.email, dc.customer.phone, dc.account.id,
            dc.account.currency)
        assert len(orders) == len(rows)
        for o, r in zip(orders, rows):
            n += 1
            assert r.json == order_json(o), o.ref
            assert [d[4] for d in r.documents] == [d.model_dump_json() for d in o.documents], o.ref
            # the other columns of the document rows, as commits compute them from models
            assert [(d[0], d[1], d[2], d[3]) for d in r.documents] == [
                document_columns(d)[:4] for d in o.documents]
            placed, stage, total, cur, units, pc, _ = order_columns(
                o, order_total(o, policy, locations), locations)
            assert (r.ref, r.version, r.placed_at, r.stage, r.total, r.currency, r.units, r.postcode) \
                == (o.ref, o.version, o.placed_at, stage, total, cur, units, pc), o.ref
            assert r.skus == tuple(dict.fromkeys(ln.sku for ln in o.lines))
            seen_stages.add(order_stage(o))
            for d in o.documents:
                seen_docs.add(d.doc)
                if d.doc == "CREDIT_MEMO":
                    seen_memos.add(d.type)
            backordered += any(ln.backordered for ln in o.lines)
            percent += any(d.percent is not None for d in o.discounts)
            fixed += any(d.amount is not None for d in o.discounts)
    assert n > 5_000
    # what was compared covers every stage, document and memo the demo makes
    assert seen_stages == set(Stage) - {Stage.CREATED}
    assert seen_docs == {"INVOICE", "PAYMENT", "CREDIT_MEMO", "REFUND", "STORE_CREDIT"}
    assert seen_memos == {"AMENDMENT", "CANCELLATION", "APPEASEMENT", "SHORT_PICK"}
    assert backordered and percent and fixed


def test_the_named_scenarios_are_byte_equal():
    for (dc, orders), (sc, rows) in _both(len(demo.SCENARIOS), 7):
        assert sc.json == dc.customer.model_dump_json()
        assert sc.account_json == dc.account.model_dump_json()
        (o,), (r,) = orders, rows
        assert r.json == order_json(o)
        assert [d[4] for d in r.documents] == [d.model_dump_json() for d in o.documents]


def test_hostile_text_is_escaped_as_pydantic_escapes_it():
    nasty = 'Zoë "Q" \\ O\'Brien\x01\x1f\x7f\t\n ×\u2028 😀'
    addr = make_address(name=nasty, line1=nasty, line2="", city="Chicago", region="IL",
                        postcode="60614", country="US", phone="+13125550000")
    c: Cust = fixed_customer(9, nasty, f"{nasty}@example.com", "+13125550000", "Chicago", addr,
                             (("Visa", "4242", "08/29"),))
    cust = Customer(id=c.id, name=c.name, email=c.email, phone=c.phone, preferences=c.prefs,
                    billing_account_id=c.account_id)
    assert stored.customer_json(c) == cust.model_dump_json()
    assert stored.address_json(addr) == addr.model_dump_json()
    f = demo.PartGenerator(7).factory
    home = f.home(addr, "STANDARD", "USD")[0]
    assert stored.StoredWriter(f.locations)._delivery(home)[0] == home.model_dump_json()


@pytest.mark.parametrize("value", [
    datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    datetime(2026, 11, 27, 15, 0, 0, 120000, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=timezone(timedelta(0))),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=10, minutes=30))),
])
def test_datetimes_are_written_as_pydantic_writes_them(value):
    assert stored.dt_json(value) == TypeAdapter(datetime).dump_json(value).decode()
    w = stored.StoredWriter({})
    assert w._times(value) == (value.isoformat(), stored.dt_json(value))


def test_dates_and_money_are_written_as_pydantic_writes_them():
    for d in (date(2026, 12, 1), None):
        assert stored.date_json(d) == TypeAdapter(date | None).dump_json(d).decode()
    w = stored.StoredWriter({})
    for units, cur in ((0, "USD"), (-5, "EUR"), (123456789, "AUD"), (7, "JPY"), (1234, "BHD")):
        want = TypeAdapter(Money).dump_json(Money.from_minor(units, cur)).decode()
        assert w.money(units, cur) == want == stored.money_json(Money.from_minor(units, cur))


def test_a_model_whose_fields_changed_stops_the_writer(monkeypatch):
    from carecli.engine.model import Line

    monkeypatch.setitem(stored._FIELDS, Line, stored._FIELDS[Line][:-1])
    with pytest.raises(RuntimeError, match="Line .* update the writer"):
        stored._check_fields()
