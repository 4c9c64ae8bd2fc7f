"""Demo customers: identity, contact preferences, cards, home address, billing account."""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import accumulate
from math import floor  # floor(x) costs 40 % of int(x) for x >= 0, and every random draw uses one

from ..engine.model import Address, BillingAccount, Customer, NotificationPreferences, PaymentMethod
from ._fast import builder, maker
from .people import (
    AU_MOBILE, CULTURES, DE_MOBILES, EMAIL_DOMAINS, METROS_BY_MARKET, Metro, Place, email_part,
)

make_card = maker(PaymentMethod)
make_address = maker(Address)
build_customer = builder(Customer)
build_account = builder(BillingAccount)
build_card = builder(PaymentMethod)
build_address = builder(Address)

DECLINING_LAST4 = "0002"  # the demo payment gateway declines every charge on a card ending 0002

PREFS_EMAIL = NotificationPreferences(email=True, sms=False)
PREFS_BOTH = NotificationPreferences(email=True, sms=True)
PREFS_SMS = NotificationPreferences(email=False, sms=True)

MARKETS = (("US", "USD", False, 68), ("AU", "AUD", True, 27), ("DE", "EUR", True, 5))
_MARKET_CUM = tuple(accumulate(m[3] for m in MARKETS))
_MARKET_TOTAL = _MARKET_CUM[-1]


@dataclass(slots=True)
class Cust:
    """A customer while their orders are generated (the models are built at the end)."""

    no: int
    name: str
    email: str
    phone: str
    prefs: NotificationPreferences
    market: str
    currency: str
    inclusive: bool
    metro: Metro
    address: Address
    cards: tuple[PaymentMethod, ...]
    id: str
    account_id: str
    homes: dict = field(default_factory=dict)  # shipping method -> (fulfilment, rate, ship)

    def models(self, store_credit_minor: int, money) -> tuple[Customer, BillingAccount]:
        cust = build_customer({
            "id": self.id, "name": self.name, "email": self.email, "phone": self.phone,
            "preferences": self.prefs, "billing_account_id": self.account_id})
        acct = build_account({
            "id": self.account_id, "customer_id": self.id, "currency": self.currency,
            "payment_methods": self.cards,
            "store_credit": money(store_credit_minor, self.currency)})
        return cust, acct


def card(no: int, k: int, brand: str, last4: str, expiry: str) -> PaymentMethod:
    return make_card(id=f"PM-{no:06d}-{k}", brand=brand, last4=last4, expiry=expiry)


# market -> (cumulative metro weights, total weight)
_METRO_CUM = {
    code: (tuple(accumulate(m.weight for m in metros)), sum(m.weight for m in metros))
    for code, metros in METROS_BY_MARKET.items()
}


def street_address(rng: random.Random, place: Place) -> tuple[str, str, str]:
    """(line1, line2, postcode) in the local style."""
    r = rng.random
    street = place.streets[floor(r() * len(place.streets))]
    postcode = place.postcodes[floor(r() * len(place.postcodes))]
    x = r()
    if place.country == "US":
        line1 = f"{floor(r() * 4800) + 100} {street}"
        line2 = ""
        if x < 0.22:
            line2 = f"Apt {floor(r() * 30) + 1}{'ABCDEF'[floor(r() * 6)]}"
        elif x < 0.27:
            line2 = f"Unit {floor(r() * 400) + 100}"
        return line1, line2, postcode
    if place.country == "AU":
        num = floor(r() * 380) + 1
        if x < 0.3:
            return f"{floor(r() * 24) + 1}/{num} {street}", "", postcode
        return f"{num} {street}", "", postcode
    line2 = f"{floor(r() * 4) + 1}. OG" if x < 0.2 else ""
    return f"{street} {floor(r() * 180) + 1}", line2, postcode


def phone_for(rng: random.Random, metro: Metro) -> str:
    """A number in the metro's numbering plan (E.164): a directory where numbers rarely repeat.

    US: area code + exchange 200–999 (never ``N11``, never ``555``) + 4 digits, ~8 million numbers
    per area code. Australia: 60 % mobiles (``+614`` + 8 digits), else a landline of the metro's
    area. Germany: 30 % mobiles, else a landline of the city (8 digits).
    """
    r = rng.random
    prefixes = metro.phones
    country = metro.country
    if country == "US":
        exchange = 200 + floor(r() * 800)
        if exchange % 100 == 11 or exchange == 555:
            exchange += 1
        return f"{prefixes[floor(r() * len(prefixes))]}{exchange}{floor(r() * 10_000):04d}"
    if country == "AU":
        if r() < 0.6:
            return f"{AU_MOBILE}{floor(r() * 100_000_000):08d}"
        return f"{prefixes[floor(r() * len(prefixes))]}{floor(r() * 10_000_000):07d}"
    if r() < 0.3:
        return f"{DE_MOBILES[floor(r() * len(DE_MOBILES))]}{floor(r() * 10_000_000):07d}"
    return f"{prefixes[floor(r() * len(prefixes))]}{20_000_000 + floor(r() * 80_000_000)}"


_LAST4 = tuple(f"{i:04d}" for i in range(10_000))
_BRANDS = ("Visa",) * 10 + ("Mastercard",) * 7 + ("Amex",) * 3


# Names with their e-mail spelling, per culture:
# (((first, first_email), ...), ((last, last_email), ...))
_NAMES = tuple(
    (tuple((f, email_part(f.replace(" ", ""))) for f in firsts),
     tuple((last, email_part(last.replace(" ", ""))) for last in lasts))
    for firsts, lasts in CULTURES
)


def random_customer(rng: random.Random, no: int, now: datetime,
                    declining_rate: float = 0.005) -> Cust:
    r = rng.random
    market, currency, inclusive, _ = MARKETS[bisect_right(_MARKET_CUM, r() * _MARKET_TOTAL)]
    metros = METROS_BY_MARKET[market]
    cum, total = _METRO_CUM[market]
    metro = metros[bisect_right(cum, r() * total)]
    places = metro.places
    place = places[floor(r() * len(places))]
    n = len(_NAMES)
    firsts, lasts = _NAMES[floor(r() * n)]
    if r() >= 0.85:
        lasts = _NAMES[floor(r() * n)][1]
    first, f = firsts[floor(r() * len(firsts))]
    last, l_ = lasts[floor(r() * len(lasts))]
    domain = EMAIL_DOMAINS[floor(r() * len(EMAIL_DOMAINS))]
    style = r()
    if style < 0.45:
        email = f"{f}.{l_}.{no}@{domain}"
    elif style < 0.7:
        email = f"{f}{l_}{no}@{domain}"
    elif style < 0.85:
        email = f"{f[:1]}{l_}{no}@{domain}"
    else:
        email = f"{f}_{l_}{no}@{domain}"
    name = f"{first} {last}"
    phone = phone_for(rng, metro) if r() < 0.9 else ""
    x = r()
    if not phone or x < 0.72:
        prefs = PREFS_EMAIL
    elif x < 0.95:
        prefs = PREFS_BOTH
    else:
        prefs = PREFS_SMS
    line1, line2, postcode = street_address(rng, place)
    address = build_address({
        "name": name, "line1": line1, "line2": line2, "city": place.city, "region": place.region,
        "postcode": postcode, "country": place.country, "phone": phone})
    n_cards = 1 if r() < 0.7 else 2
    declining = r() < declining_rate
    expiries = _expiries(now.year)
    digits = f"{no:06d}"
    cards = []
    for k in range(1, n_cards + 1):
        brand = _BRANDS[floor(r() * 20)]
        last4 = _LAST4[floor(r() * 10_000)]
        if last4 == DECLINING_LAST4:
            last4 = "0020"
        if declining and k == 1:
            brand, last4 = "Visa", DECLINING_LAST4
        cards.append(build_card({"id": f"PM-{digits}-{k}", "brand": brand, "last4": last4,
                                 "expiry": expiries[floor(r() * 60)]}))
    return Cust(no, name, email, phone, prefs, market, currency, inclusive, metro, address,
                tuple(cards), "CUS-" + digits, "BA-" + digits)


@lru_cache(maxsize=8)
def _expiries(year: int) -> tuple[str, ...]:
    """MM/YY for the 60 months of the five years after ``year``: always in the future."""
    return tuple(f"{m:02d}/{(year + y) % 100:02d}" for y in range(1, 6) for m in range(1, 13))


def metro_named(name: str) -> Metro:
    for metros in METROS_BY_MARKET.values():
        for m in metros:
            if m.name == name:
                return m
    raise KeyError(name)


def fixed_customer(
    no: int, name: str, email: str, phone: str, metro: str, address: Address,
    cards: tuple[tuple[str, str, str], ...], prefs: NotificationPreferences = PREFS_EMAIL,
) -> Cust:
    m = metro_named(metro)
    market = m.country
    currency, inclusive = {"US": ("USD", False), "AU": ("AUD", True), "DE": ("EUR", True)}[market]
    return Cust(no=no, name=name, email=email, phone=phone, prefs=prefs, market=market,
                currency=currency, inclusive=inclusive, metro=m, address=address,
                cards=tuple(card(no, k, *c) for k, c in enumerate(cards, start=1)),
                id=f"CUS-{no:06d}", account_id=f"BA-{no:06d}")


__all__ = ["Cust", "DECLINING_LAST4", "fixed_customer", "random_customer"]
