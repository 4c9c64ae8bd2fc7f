from decimal import Decimal

import pytest

from carecli.engine.money import CurrencyMismatch, Money, MoneyError, total


def test_float_is_refused():
    with pytest.raises(TypeError):
        Money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money("1.00", "USD").multiply(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount,cur", [("1.005", "USD"), ("1.5", "JPY"), ("0.0005", "BHD")])
def test_finer_than_minor_unit_is_refused(amount, cur):
    with pytest.raises(MoneyError, match="minor unit"):
        Money(amount, cur)


@pytest.mark.parametrize("cur,text", [("USD", "12.35"), ("JPY", "12"), ("BHD", "12.346")])
def test_round_half_up_per_currency(cur, text):
    assert Money.round(Decimal("12.3456"), cur, "half_up").amount == Decimal(text)


def test_half_even_rounding_is_explicit():
    assert Money.round("0.125", "USD", "half_even").amount == Decimal("0.12")
    assert Money.round("0.125", "USD", "half_up").amount == Decimal("0.13")


def test_unknown_currency_and_rounding_are_refused():
    with pytest.raises(MoneyError, match="unknown currency"):
        Money("1", "XYZ")
    with pytest.raises(MoneyError, match="rounding"):
        Money.round("1", "USD", "bankers")


def test_mixing_currencies_is_an_error():
    with pytest.raises(CurrencyMismatch):
        Money("1.00", "USD") + Money("1.00", "AUD")
    with pytest.raises(CurrencyMismatch):
        Money("1.00", "USD") < Money("1.00", "AUD")
    with pytest.raises(CurrencyMismatch):
        total([Money("1.00", "USD"), Money("1.00", "AUD")], "USD")


def test_multiplying_by_rate_needs_multiply():
    with pytest.raises(TypeError):
        Money("1.00", "USD") * Decimal("1.5")  # type: ignore[operator]
    assert Money("10.00", "USD") * 3 == Money("30.00", "USD")
    assert Money("10.00", "USD").multiply(Decimal("0.1025")) == Money("1.03", "USD")


def test_allocate_largest_remainder_adds_up():
    parts = Money("100.00", "USD").allocate([1, 1, 1])
    assert parts == [Money("33.34", "USD"), Money("33.33", "USD"), Money("33.33", "USD")]
    parts = Money("-0.05", "USD").allocate([3, 1])
    assert sum(p.minor for p in parts) == -5
    assert Money("7", "JPY").allocate([1, 2]) == [Money("2", "JPY"), Money("5", "JPY")]
    assert Money("1.000", "BHD").allocate([0, 0, 0]) == [Money("0.334", "BHD"), Money("0.333", "BHD"),
                                                      Money("0.333", "BHD")]


def test_money_is_immutable_and_hashable():
    m = Money("1.00", "USD")
    with pytest.raises(AttributeError):
        m.amount = Decimal(2)  # type: ignore[misc]
    assert {m, Money("1.0", "USD")} == {m}


def test_money_round_trips_through_pydantic_json():
    from carecli.engine.model import PaymentMethod  # noqa: F401  (models import Money)
    from pydantic import TypeAdapter

    ta = TypeAdapter(Money)
    m = Money("1234.50", "AUD")
    assert ta.validate_json(ta.dump_json(m)) == m
    assert ta.dump_python(m, mode="json") == {"amount": "1234.50", "currency": "AUD"}
    with pytest.raises(Exception):
        ta.validate_python({"amount": "1.001", "currency": "USD"})
