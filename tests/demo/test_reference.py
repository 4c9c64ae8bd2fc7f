"""The catalog and the stores."""

from __future__ import annotations

from collections import Counter, defaultdict

from carecli.demo import WAREHOUSES, reference
from carecli.engine.money import Money


def test_reference_is_deterministic_and_fresh():
    a, b = reference(), reference()
    assert a == b
    assert a.variants[0] is not b.variants[0]  # no shared mutable dicts between callers


def test_variants(ref, policy):
    vs = ref.variants
    skus = [v.sku for v in vs]
    assert len(set(skus)) == len(skus)
    products = {v.product_id for v in vs}
    assert 40 <= len(products) <= 80 and len(vs) >= 200
    store_ids = {loc.id for loc in ref.locations}
    for v in vs:
        assert v.sku.startswith(v.product_id + "-")
        assert {"USD", "AUD"} <= set(v.prices) <= {"USD", "AUD", "EUR"}
        for cur, m in v.prices.items():
            assert isinstance(m, Money) and m.currency == cur and m.is_positive
            assert m.amount.as_tuple().exponent == -2  # exact to the cent
            assert m == Money(str(m.amount), cur)
        assert set(v.stock) <= store_ids | set(WAREHOUSES)
        assert all(n >= 0 for n in v.stock.values())
        assert v.attributes and v.description.startswith(v.name)
        assert v.category in {"apparel", "footwear", "accessories", "swimwear", "electronics"}
        assert policy.returns.window_for(v.category) in (14, 15, 30)
    cats = Counter(v.category for v in vs)
    assert cats["swimwear"] and cats["electronics"] and cats["footwear"] and cats["accessories"]
    assert any(v.final_sale for v in vs) and any(v.backorderable for v in vs)
    assert any(v.available == 0 and v.backorderable for v in vs)
    assert any(v.available == 0 and not v.backorderable for v in vs)
    assert any(not v.sellable for v in vs)
    assert sum(1 for v in vs if "EUR" in v.prices) > 50


def test_sizes_of_one_product_are_priced_differently(catalog):
    usd = {s: catalog[f"JKT-ALP-{s}-NVY"].prices["USD"] for s in ("S", "M", "L", "XL", "XXL")}
    assert usd == {"S": Money("189.00", "USD"), "M": Money("189.00", "USD"),
                   "L": Money("199.00", "USD"), "XL": Money("209.00", "USD"),
                   "XXL": Money("209.00", "USD")}
    aud = {s: catalog[f"JKT-ALP-{s}-NVY"].prices["AUD"].amount for s in ("M", "L", "XL")}
    assert len(set(aud.values())) == 3
    tiered = defaultdict(set)
    for v in catalog.values():
        tiered[v.product_id].add(v.prices["USD"])
    assert sum(1 for ps in tiered.values() if len(ps) > 1) >= 5


def test_stores(ref, policy):
    locs = ref.locations
    active = [loc for loc in locs if loc.active]
    assert 6 <= len(active) <= 8
    names = {loc.name for loc in active}
    assert {"Chicago State St", "Evanston", "Milwaukee", "New York SoHo", "Sydney George St",
            "Melbourne Bourke St"} <= names
    for loc in locs:
        a = loc.address
        assert policy.tax_for(a.country, a.region, a.city) is not None
        assert a.line1 and a.postcode and a.phone.startswith("+")
    for loc in active:
        days = [h.day for h in loc.hours]
        assert {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat"} <= set(days)
        assert len(days) == len(set(days))
        for h in loc.hours:
            assert h.opens < h.closes
    assert any(not loc.active for loc in locs)
    assert {"WH-CHI", "WH-SYD"} <= set(WAREHOUSES)
