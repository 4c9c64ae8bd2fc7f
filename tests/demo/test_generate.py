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
