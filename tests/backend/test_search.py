"""How search text is read, and that no text makes search raise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecli.backend.contract import SearchPage
from carecli.backend.sqlite.search import clean, fts_query, phone_keys, postcode_key, read
from tests.backend import business

SKUS = sorted(business.CATALOG)


@pytest.mark.parametrize("text, kinds", [
    ("", ("recent",)),
    ("   \t ", ("recent",)),
    ("ON-100234", ("ref",)),
    ("on-1002", ("ref",)),
    ("ON1002", ("ref",)),
    ("ON-", ("ref",)),
    ("100234", ("ref", "phone", "postcode")),
    ("60614", ("postcode",)),
    ("2000", ("postcode",)),
    ("ON-6061", ("ref",)),
    ("jane@example.com", ("email",)),
    ("+1 312-555-0100", ("phone",)),
    ("(312) 555-0100", ("phone",)),
    ("0412 345 678", ("ref", "phone", "postcode")),
    ("SW1A 1AA", ("postcode", "name")),
    ("JKT-ALP", ("sku",)),
    ("jkt-alp-m", ("sku",)),
    ("JKT", ("name", "sku")),
    ("Dana Whitfield", ("name",)),
    ("Siobhán", ("name",)),
    ('"NEAR(*', ("name",)),  # the word near, never the operator
    ("***", ()),
])
def test_reading(text, kinds):
    assert read(text, SKUS).kinds == kinds


def test_reading_details():
    r = read("on 1002", SKUS)
    assert r.ref == "ON-1002"
    assert read("+61 412 345 678").phone == "+61412345678"
    assert read("JKT-ALP-M", SKUS).sku_exact == "JKT-ALP-M"
    assert read("JKT-ALP", SKUS).skus == ["JKT-ALP-L", "JKT-ALP-M", "JKT-ALP-S"]
    assert read("Dana  O'Brien-Smith", SKUS).name == ["dana", "o", "brien", "smith"]
    assert read("x" * 10_000).name == ["x" * 40]


def test_stored_keys():
    assert phone_keys("+1 312-555-0100") == ("13125550100", "3125550100")
    assert phone_keys("+13125550100") == ("13125550100", "3125550100")
    assert phone_keys("+61 412 345 678") == ("61412345678", "412345678")
    assert phone_keys("0412 345 678") == ("0412345678", "412345678")
    assert phone_keys("") == ("", "")
    assert postcode_key("sw1a 1aa") == "SW1A1AA"
    assert postcode_key("60614-1234") == "606141234"


def test_fts_query_cannot_carry_operators():
    assert fts_query(["near", "and", 'a"b']) == '"near"* "and"* "a""b"*'
    assert clean("a\x00b\x1b[31mc\u202ed") == "a b [31mc d"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), stage=st.sampled_from([None, "BOOKED", "DELIVERED", "nonsense", ""]),
       limit=st.integers(-5, 600), offset=st.integers(-5, 200))
def test_no_text_makes_search_raise(store, text, stage, limit, offset):
    page = store.search_orders(text, stage=stage, limit=limit, offset=offset)
    assert isinstance(page, SearchPage)
    assert len(page.items) <= page.limit
    assert len({i.ref for i in page.items}) == len(page.items)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
       .map(lambda s: s + ' "*^-:()'))
def test_fts_syntax_in_names_never_raises(store, text):
    assert isinstance(store.search_orders(text), SearchPage)


def test_paging_through_a_merged_reading_is_consistent(store):
    """Several readings at once (ref prefix, postcode, name): pages tile the one long list exactly,
    and each order appears once, at its best tier."""
    from carecli.backend.sqlite.search import Reading, run

    reading = Reading("synthetic", ref="ON-1000", postcode="60614", name=["schmidt"])
    whole, more = run(store._conn, reading, None, 200, 0)
    assert not more and len(whole) > 20
    ids = [h.row[0] for h in whole]
    assert len(ids) == len(set(ids))
    assert [h.key for h in whole] == sorted(h.key for h in whole)
    kinds = [h.kind for h in whole]
    assert kinds.index("postcode") < kinds.index("ref")  # exact postcode outranks a ref prefix
    pages = []
    for off in range(0, len(whole) + 6, 7):
        got, _ = run(store._conn, reading, None, 7, off)
        pages += got
    assert [h.row[0] for h in pages] == ids


def test_name_paging_is_consistent(store):
    whole = store.search_orders("schmidt", limit=100)
    assert len(whole.items) > 6
    pages = []
    for off in range(0, len(whole.items), 4):
        pages += store.search_orders("schmidt", limit=4, offset=off).items
    assert [i.ref for i in pages] == [i.ref for i in whole.items]


def test_ranking_exact_ref_before_phone_and_postcode(store):
    page = store.search_orders("100001")
    assert page.items[0].ref == business.DANA_REF and page.items[0].matched == "ref"


def test_exact_email_before_prefix(store):
    page = store.search_orders("dana.whitfield@example.com")
    assert page.items and all(i.matched == "email" for i in page.items)


def test_fast_summaries_equal_validated_ones(store):
    """Pages are built without ``__init__`` (search_types.built): each equals the page validated from
    its JSON, as the HTTP client reads it, and each summary one made the ordinary way."""
    import dataclasses

    import pydantic

    from carecli.backend.contract import OrderSummary

    adapter = pydantic.TypeAdapter(SearchPage)
    for text in ("", "ON-100001", "whitfield"):
        page = store.search_orders(text, limit=20)
        assert page.items
        assert adapter.validate_json(adapter.dump_json(page)) == page
        names = [f.name for f in dataclasses.fields(OrderSummary)]
        for s in page.items:
            assert OrderSummary(**{n: getattr(s, n) for n in names}) == s
            assert list(vars(s)) == names
            assert dataclasses.replace(s, matched="ref").matched == "ref"
    with pytest.raises(pydantic.ValidationError, match="surprise"):
        adapter.validate_python({**adapter.dump_python(page), "surprise": 1})
