"""generate(): deterministic, streaming, exactly the asked size, valid models, realistic people."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from carecli.demo import DECLINING_LAST4, DEMO_NOW, DemoCustomer, generate
from carecli.demo._fast import builder, maker, unfilled
from carecli.engine.model import BillingAccount, Customer, Order, Variant
from carecli.engine.policy import default_policy


def _count(it):
    return sum(len(os_) for _, os_ in it)


def test_same_seed_same_output_different_seed_different():
    a = list(generate(1_500, seed=7))
    b = list(generate(1_500, seed=7))
    assert a == b
    assert [o.model_dump_json() for _, os_ in a for o in os_] == \
           [o.model_dump_json() for _, os_ in b for o in os_]
    c = list(generate(1_500, seed=8))
    assert c != a
    # the scenarios are fixed; the random business after them differs
    assert a[:20] == c[:20]
    assert [dc.customer.name for dc, _ in a[20:60]] != [dc.customer.name for dc, _ in c[20:60]]


def test_a_smaller_demo_is_a_prefix_of_a_larger_one():
    big = list(generate(800))
    small = list(generate(300))
    flat_big = [o for _, os_ in big for o in os_]
    flat_small = [o for _, os_ in small for o in os_]
    assert flat_small == flat_big[:300]
    assert [dc for dc, _ in small[:-1]] == [dc for dc, _ in big[:len(small) - 1]]
    # the last customer is the same person; only their order count (and so credit) may be cut
    assert small[-1][0].customer == big[len(small) - 1][0].customer


def test_now_moves_the_whole_business():
    later = DEMO_NOW + timedelta(days=365)
    a = list(generate(100))
    b = list(generate(100, now=later))
    for (_, oa), (_, ob) in zip(a, b):
        for x, y in zip(oa, ob):
            assert y.placed_at - x.placed_at == timedelta(days=365)
    with pytest.raises(ValueError):
        generate(10, now=datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        generate(-1)


@pytest.mark.parametrize("n", [0, 1, 5, 19, 20, 21, 22, 1_000])
def test_exactly_the_asked_number_of_orders(n):
    assert _count(generate(n)) == n


def test_generate_streams():
    g = generate(1_000)
    assert inspect.isgenerator(g) or iter(g) is g
    t = time.process_time()
    g = generate(1_000_000)  # nothing is built yet
    first = next(g)
    for _ in range(200):
        next(g)
    assert time.process_time() - t < 2.0  # a million would take a minute
    assert isinstance(first[0], DemoCustomer) and first[1][0].ref == "ON-100001"
    g.close()


def test_throughput_smoke():
    """Far looser than the real budget (1M orders well under 90 s): catches an accidental O(n²)."""
    t = time.process_time()
    assert _count(generate(10_000)) == 10_000
    assert time.process_time() - t < 8.0


def test_models_are_valid(sample):
    """Built without validation for speed: prove a large sample validates to the same values."""
    checked = 0
    for dc, os_ in sample[:2_500]:
        for model, cls in ((dc.customer, Customer), (dc.account, BillingAccount)):
            assert unfilled(model) == [], model
            assert cls.model_validate(model.model_dump()) == model
        for o in os_:
            assert unfilled(o) == [], (o.ref, unfilled(o))
            again = Order.model_validate_json(o.model_dump_json())
            assert again == o, o.ref
            assert again.model_dump_json() == o.model_dump_json()
            checked += 1
    assert checked > 4_000


def test_fast_construction_refuses_what_it_cannot_do():
    with pytest.raises(TypeError):
        maker(Variant)  # mutable dict defaults would be shared
    with pytest.raises(TypeError):
        builder(Variant)
    make = maker(Customer)
    c = make(id="C", name="N", email="e", billing_account_id="B")
    assert c == Customer(id="C", name="N", email="e", billing_account_id="B")
    assert unfilled(make(id="C")) == ["name (required, unset)", "email (required, unset)",
                                      "billing_account_id (required, unset)"]


def test_customers(sample):
    customers = [dc.customer for dc, _ in sample]
    accounts = [dc.account for dc, _ in sample]
    emails = [c.email.lower() for c in customers]
    assert len(set(emails)) == len(emails)
    assert len({c.id for c in customers}) == len(customers)
    assert all(c.billing_account_id == a.id and a.customer_id == c.id
               for c, a in zip(customers, accounts))
    names = [c.name for c in customers]
    assert any("'" in n for n in names) and any("-" in n for n in names)
    assert any(any(ord(ch) > 127 for ch in n) for n in names)
    assert any("Zoë" in n for n in names)
    for c in customers:
        assert re.fullmatch(r"[a-z0-9._-]+@([a-z]+\.)?example\.(com|net|org)", c.email), c.email
        assert c.phone == "" or re.fullmatch(r"\+\d{10,13}", c.phone), c.phone
        assert c.preferences.email or c.preferences.sms
        assert not c.preferences.sms or c.phone
    prefs = Counter((c.preferences.email, c.preferences.sms) for c in customers)
    assert prefs[(True, False)] > len(customers) / 2 and prefs[(True, True)] > 0
    declining = 0
    now_yy_mm = (DEMO_NOW.year % 100, DEMO_NOW.month)
    for a in accounts:
        assert 1 <= len(a.payment_methods) <= 2
        assert len({p.id for p in a.payment_methods}) == len(a.payment_methods)
        for p in a.payment_methods:
            assert p.brand in {"Visa", "Mastercard", "Amex"}
            mm, yy = map(int, p.expiry.split("/"))
            assert (yy, mm) > now_yy_mm, p.expiry
            declining += p.last4 == DECLINING_LAST4
    assert declining >= 3


def test_addresses_are_in_taxed_places(orders, policy):
    seen = Counter()
    for o in orders:
        a = getattr(o.fulfilment, "address", None)
        if a is None:
            continue
        j = policy.tax_for(a.country, a.region, a.city)
        assert j is not None, a
        if a.country == "US":
            assert re.fullmatch(r"\d{5}", a.postcode) and j.region in (a.region,)
            assert a.city in {"Chicago", "Evanston", "Milwaukee", "New York", "Austin", "Denver",
                              "Miami", "Boston", "Portland"}
        elif a.country == "AU":
            assert re.fullmatch(r"\d{4}", a.postcode) and a.region in {"NSW", "VIC", "QLD"}
            assert a.postcode[0] == {"NSW": "2", "VIC": "3", "QLD": "4"}[a.region]
        else:
            assert a.country == "DE" and re.fullmatch(r"\d{5}", a.postcode)
        seen[a.city] += 1
    assert len(seen) > 20


def test_postcodes_match_the_city(orders):
    prefixes = {"Chicago": "606", "Evanston": "602", "Milwaukee": "532", "New York": "10",
                "Austin": "787", "Denver": "802", "Miami": "331", "Boston": "021",
                "Portland": "972"}
    for o in orders:
        a = getattr(o.fulfilment, "address", None)
        if a is not None and a.country == "US":
            assert a.postcode.startswith(prefixes[a.city]), a


def test_the_demo_needs_no_store_and_no_screens():
    """Pure Python over the engine: generating a demo loads no sqlite3, textual or httpx."""
    code = (
        "import sys\n"
        "from carecli.demo import generate\n"
        "n = sum(len(o) for _, o in generate(300))\n"
        "print(n, [m for m in ('sqlite3', 'textual', 'httpx') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["300", "[]"], out.stdout + out.stderr


def test_global_random_state_is_untouched():
    import random
    random.seed(42)
    expected = random.random()
    random.seed(42)
    list(generate(200))
    assert random.random() == expected


def test_other_policy_objects_are_accepted():
    pol = default_policy()
    assert _count(generate(30, policy=pol)) == 30
    assert list(generate(30, policy=pol)) == list(generate(30))


def test_utc_offset_zero_from_another_zone_is_accepted():
    from zoneinfo import ZoneInfo
    now = DEMO_NOW.astimezone(ZoneInfo("UTC"))
    assert _count(generate(25, now=now)) == 25
    assert DEMO_NOW == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_output_does_not_depend_on_hash_randomisation():
    """Two interpreters with different string-hash seeds produce the very same demo."""
    code = (
        "import hashlib\n"
        "from carecli.demo import generate\n"
        "h = hashlib.sha256()\n"
        "for dc, os_ in generate(1_500, seed=3):\n"
        "    h.update(dc.customer.model_dump_json().encode())\n"
        "    h.update(dc.account.model_dump_json().encode())\n"
        "    for o in os_:\n"
        "        h.update(o.model_dump_json().encode())\n"
        "print(h.hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_blocks_generated_apart_and_out_of_order_make_the_same_business():
    """Each block has random streams of its own: generated separately, in any order, they join up to
    exactly the business generate() streams (what lets several processes build one demo)."""
    from carecli.demo import BLOCK_CUSTOMERS, generate_part, plan

    n, seed = 7_000, 13
    p = plan(n, seed)
    assert len(p.blocks) >= 3 and p.scenarios == 20
    assert sum(b.orders for b in p.blocks) + p.scenarios == n
    for prev, b in zip(p.blocks, p.blocks[1:]):
        assert b.index == prev.index + 1
        assert b.first_no == prev.first_no + BLOCK_CUSTOMERS
        assert b.first_ref == prev.first_ref + prev.orders
    whole = list(generate(n, seed))
    late = list(generate_part(0, p.blocks[2:], seed))  # generated first
    early = list(generate_part(p.scenarios, p.blocks[:1], seed))
    middle = list(generate_part(0, p.blocks[1:2], seed))
    assert early + middle + late == whole
    refs = [o.ref for _, os_ in whole for o in os_]
    assert refs == [f"ON-{100_001 + i}" for i in range(n)]
    nos = [int(dc.customer.id.split("-")[1]) for dc, _ in whole]
    assert nos == list(range(1, len(whole) + 1))


def test_the_plan_is_cut_like_the_business():
    from carecli.demo import plan

    assert plan(0, 7).blocks == () and plan(0, 7).scenarios == 0
    assert plan(5, 7).scenarios == 5 and plan(5, 7).blocks == ()
    big, small = plan(9_000, 7), plan(4_000, 7)
    assert small.blocks[:-1] == big.blocks[:len(small.blocks) - 1]
    last = small.blocks[-1]
    assert last.orders < big.blocks[len(small.blocks) - 1].orders


def test_phone_numbers_are_a_directory_not_a_handful(sample):
    """Nearly every customer has a number of their own, in the metro's numbering plan."""
    phones = [dc.customer.phone for dc, _ in sample[20:] if dc.customer.phone]
    assert len(phones) > 2_500
    counts = Counter(phones)
    assert len(counts) >= 0.995 * len(phones)
    assert max(counts.values()) <= 2
    for dc, _ in sample[20:]:
        c = dc.customer
        ph = c.phone
        if not ph:
            continue
        assert dc.account.customer_id == c.id
        if ph.startswith("+1"):
            assert re.fullmatch(r"\+1[2-9]\d\d[2-9]\d{6}", ph), ph
            exchange = ph[5:8]
            assert exchange != "555" and exchange[1:] != "11", ph
        elif ph.startswith("+61"):
            assert re.fullmatch(r"\+61(4\d{8}|[237][3-9]\d{7})", ph), ph
        else:
            assert re.fullmatch(r"\+49(1[567]\d\d{7}|(30|40|89)[2-9]\d{7})", ph), ph
    # the same customer has the same number on their home address
    for dc, os_ in sample[20:200]:
        for o in os_:
            if o.fulfilment.kind == "HOME_DELIVERY":
                assert o.fulfilment.address.phone == dc.customer.phone
