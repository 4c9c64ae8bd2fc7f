"""The named scenarios: fixed customers and orders at the start of every demo data set.

They are the same whatever the seed and the size (only their times move with ``now``), so tests,
docs and demos can name them. The first is the seed's case, ``ON-100001``: Dana Whitfield bought the
Alpine Shell Jacket in M (189.00 USD) and a beanie, to her old Chicago address; she has since moved
to Milwaukee (:data:`SEED_CASE_NEW_ADDRESS`) and wants the jacket in L (199.00 USD, in stock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from ..engine.model import Address
from .customers import DECLINING_LAST4, PREFS_BOTH, PREFS_EMAIL, Cust, fixed_customer, make_address
from .ledger import PromoDiscount
from .orders import (
    ALLOCATED, BOOKED, DELIVERED, DISPATCHED, PACKED, PICKED, READY, DLine, Draft, Event,
    OrderFactory,
)

FIRST_REF = 100001
SEED_CASE_REF = "ON-100001"

SEED_CASE_OLD_ADDRESS = Address(
    name="Dana Whitfield", line1="1847 W Belmont Ave", line2="Apt 2R", city="Chicago", region="IL",
    postcode="60657", country="US", phone="+13125550147")
SEED_CASE_NEW_ADDRESS = Address(
    name="Dana Whitfield", line1="2417 N Farwell Ave", line2="Apt 4", city="Milwaukee", region="WI",
    postcode="53211", country="US", phone="+13125550147")


def _addr(name: str, line1: str, line2: str, city: str, region: str, postcode: str, country: str,
          phone: str) -> Address:
    return make_address(name=name, line1=line1, line2=line2, city=city, region=region,
                        postcode=postcode, country=country, phone=phone)


# name, e-mail, phone, metro, (line1, line2, city, region, postcode, country), cards, preferences
_PEOPLE: dict[str, tuple] = {
    "chicago_jacket": ("Dana Whitfield", "dana.whitfield@example.com", "+13125550147", "Chicago",
                       None, (("Visa", "4242", "08/29"),), PREFS_EMAIL),
    "short_picked": ("Siobhán O'Brien", "siobhan.obrien@example.com", "+17735550112", "Chicago",
                     ("2210 N Halsted St", "", "Chicago", "IL", "60614", "US"),
                     (("Mastercard", "5454", "03/28"),), PREFS_EMAIL),
    "backordered": ("Mateo Hernández", "mateo.hernandez@example.net", "+15125550163", "Austin",
                    ("1508 S Congress Ave", "Apt 12B", "Austin", "TX", "78704", "US"),
                    (("Visa", "1881", "11/27"), ("Amex", "1007", "05/29")), PREFS_BOTH),
    "partly_dispatched": ("Priya Raghunathan", "priya.raghunathan@example.com", "+16465550178",
                          "New York", ("245 W 85th St", "Apt 5C", "New York", "NY", "10024", "US"),
                          (("Amex", "3005", "09/28"),), PREFS_EMAIL),
    "delivered_in_window": ("Chidi Okafor", "chidi.okafor@example.org", "+13035550121", "Denver",
                            ("2941 Larimer St", "", "Denver", "CO", "80205", "US"),
                            (("Visa", "7319", "01/30"),), PREFS_EMAIL),
    "delivered_out_of_window": ("Margaret McAllister", "margaret.mcallister@example.com",
                                "+16175550134", "Boston",
                                ("77 Commonwealth Ave", "Apt 3", "Boston", "MA", "02116", "US"),
                                (("Mastercard", "2207", "07/27"),), PREFS_EMAIL),
    "click_and_collect_ready": ("Zoë Lefèvre", "zoe.lefevre@example.com", "+18475550186",
                                "Evanston",
                                ("1420 Chicago Ave", "", "Evanston", "IL", "60201", "US"),
                                (("Visa", "6034", "12/28"),), PREFS_BOTH),
    "cancelled": ("Łukasz Wiśniewski", "lukasz.wisniewski@example.net", "+14145550109", "Milwaukee",
                  ("1834 N Farwell Ave", "", "Milwaukee", "WI", "53202", "US"),
                  (("Mastercard", "8812", "04/29"),), PREFS_EMAIL),
    "with_credit_memo": ("Hana Kobayashi", "hana.kobayashi@example.com", "+15035550155", "Portland",
                         ("3325 SE Hawthorne Blvd", "", "Portland", "OR", "97214", "US"),
                         (("Visa", "2290", "06/28"),), PREFS_EMAIL),
    "au_inclusive": ("Aroha Ngata", "aroha.ngata@example.com", "+61491570156", "Sydney",
                     ("212 King St", "", "Newtown", "NSW", "2042", "AU"),
                     (("Visa", "4006", "10/28"),), PREFS_BOTH),
    "declining_card": ("Marcus Bell", "marcus.bell@example.com", "+13055550190", "Miami",
                       ("1450 Brickell Ave", "Apt 2204", "Miami", "FL", "33131", "US"),
                       (("Visa", DECLINING_LAST4, "02/28"),), PREFS_EMAIL),
    "appeasement_store_credit": ("Fatima Al-Sayed", "fatima.al-sayed@example.com", "+13125550166",
                                 "Chicago",
                                 ("1369 E 53rd St", "Apt 3", "Chicago", "IL", "60615", "US"),
                                 (("Mastercard", "1126", "08/28"),), PREFS_EMAIL),
    "booked": ("Jin-woo Park", "jinwoo.park@example.org", "+15125550117", "Austin",
               ("2004 Rosewood Ave", "", "Austin", "TX", "78702", "US"),
               (("Visa", "9051", "03/30"),), PREFS_EMAIL),
    "picking": ("Sofía García-López", "sofia.garcia-lopez@example.com", "+19175550142", "New York",
                ("88 Bleecker St", "Apt 4F", "New York", "NY", "10012", "US"),
                (("Visa", "3364", "05/28"), ("Mastercard", "7741", "09/27")), PREFS_EMAIL),
    "packed": ("Liam Nguyen", "liam.nguyen@example.com", "+61370100123", "Melbourne",
               ("141 Gertrude St", "", "Fitzroy", "VIC", "3065", "AU"),
               (("Mastercard", "6652", "01/29"),), PREFS_EMAIL),
    "dispatched": ("Ngozi Adeyemi", "ngozi.adeyemi@example.com", "+17865550151", "Miami",
                   ("4250 Biscayne Blvd", "Apt 1108", "Miami", "FL", "33137", "US"),
                   (("Amex", "2008", "11/28"),), PREFS_BOTH),
    "collected": ("Søren Ødegaard", "soren.odegaard@example.net", "+17735550175", "Chicago",
                  ("2845 N Sheffield Ave", "Apt 1", "Chicago", "IL", "60657", "US"),
                  (("Visa", "5120", "07/29"),), PREFS_EMAIL),
    "promo_discount": ("Connor D'Arcy", "connor.darcy@example.com", "+13125550181", "Chicago",
                       ("1650 W Division St", "Unit 302", "Chicago", "IL", "60622", "US"),
                       (("Mastercard", "3391", "10/27"),), PREFS_EMAIL),
    "de_inclusive": ("Jürgen Müller", "juergen.mueller@example.com", "+493023125417", "Berlin",
                     ("Schönhauser Allee 142", "3. OG", "Berlin", "", "10437", "DE"),
                     (("Visa", "7702", "04/28"),), PREFS_EMAIL),
    "return_rules_mix": ("Mei Lin Chen", "meilin.chen@example.org", "+61755500188", "Brisbane",
                         ("52 Boundary St", "", "West End", "QLD", "4101", "AU"),
                         (("Visa", "8143", "02/29"),), PREFS_EMAIL),
}

SCENARIO_NAMES: tuple[str, ...] = tuple(_PEOPLE)
SCENARIOS: dict[str, str] = {name: f"ON-{FIRST_REF + i}" for i, name in enumerate(SCENARIO_NAMES)}

SCENARIO_DESCRIPTIONS: dict[str, str] = {
    "chicago_jacket": "The seed's case: wrong jacket size (M, want L) to an outdated Chicago "
                      "address; awaiting pick",
    "short_picked": "One of two Merino tees short at picking: cancelled and refunded (SHORT_PICK)",
    "backordered": "Power bank backordered with an expected date; the bottle is allocated",
    "partly_dispatched": "Boots and socks dispatched; the down jacket packed, in a second parcel",
    "delivered_in_window": "Delivered 10 days ago: returnable",
    "delivered_out_of_window": "Delivered 47 days ago: past the 30-day return window",
    "click_and_collect_ready": "Ready for collection at the Evanston store",
    "cancelled": "Cancelled at the customer's request before picking; refunded in full",
    "with_credit_memo": "Quantity reduced 2 → 1 after checkout (AMENDMENT credit memo, refunded); "
                        "dispatched",
    "au_inclusive": "Sydney order in AUD, tax-inclusive GST; awaiting pick",
    "declining_card": "The customer's only card ends 0002: any extra charge is declined",
    "appeasement_store_credit": "Late delivery: 20.00 goodwill credit to store credit",
    "booked": "Placed 25 minutes ago, not allocated yet",
    "picking": "Being picked",
    "packed": "Packed, awaiting the carrier (Melbourne, express)",
    "dispatched": "Dispatched by express",
    "collected": "Collected at the Chicago State St store",
    "promo_discount": "20 % promotional order discount, allocated to three lines; awaiting pick",
    "de_inclusive": "Berlin order in EUR, tax-inclusive VAT; awaiting pick",
    "return_rules_mix": "Delivered 20 days ago: swimsuit past its 14-day window, final-sale "
                        "slides, and a returnable tee",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    ref_no: int
    customer: Cust
    draft: Draft


def _at(now: datetime, d: float = 0, h: float = 0, m: float = 0) -> datetime:
    return now - timedelta(days=d, hours=h, minutes=m)


def build_scenarios(f: OrderFactory, now: datetime) -> list[Scenario]:
    out: list[Scenario] = []
    for i, name in enumerate(SCENARIO_NAMES):
        no = i + 1
        ref_no = FIRST_REF + i
        person, email, phone, metro, where, cards, prefs = _PEOPLE[name]
        if where is None:
            address = SEED_CASE_OLD_ADDRESS
        else:
            address = _addr(person, *where, phone)
        cust = fixed_customer(no, person, email, phone, metro, address, cards, prefs)
        draft = _BUILDERS[name](f, cust, ref_no, now)
        out.append(Scenario(name, ref_no, cust, draft))
    return out


def _draft(f: OrderFactory, c: Cust, ref_no: int, placed: datetime, lines: list[DLine], *,
           method: str = "STANDARD", store: str | None = None, channel: str = "web",
           promo: tuple[PromoDiscount, str] | None = None, events: list[Event] | None = None,
           card: int = 0) -> Draft:
    if store is not None:
        ful, rate, ship = f.collect_at(store)
    else:
        ful, rate, ship = f.home(c.address, method, c.currency)
    return Draft(ref_no=ref_no, placed=placed, market=c.market, currency=c.currency,
                 inclusive=c.inclusive, customer_id=c.id, account_id=c.account_id,
                 payment_method_id=c.cards[card].id, fulfilment=ful, rate=rate, ship=ship,
                 lines=lines, channel=channel, promo=promo, events=events or [])


def _ln(f: OrderFactory, sku: str, qty: int, step: int, **kw) -> DLine:
    return DLine(v=f.variants[sku], ordered=qty, step=step, **kw)


def _chicago_jacket(f, c, n, now):
    return _draft(f, c, n, _at(now, 2, 1, 12), [
        _ln(f, "JKT-ALP-M-NVY", 1, ALLOCATED), _ln(f, "HAT-BEA-NVY", 1, ALLOCATED)])


def _short_picked(f, c, n, now):
    pick = _at(now, h=6)
    return _draft(f, c, n, _at(now, h=22), [
        _ln(f, "TEE-MER-M-BLK", 2, PICKED), _ln(f, "PNT-CHN-32-SND", 1, PICKED)],
        method="EXPRESS",
        events=[Event(at=pick + timedelta(minutes=9), kind="short", line=0, units=1,
                      reason="SHORT_PICK")])


def _backordered(f, c, n, now):
    return _draft(f, c, n, _at(now, 3, 2), [
        _ln(f, "ELC-PWR-BLK", 1, BOOKED, backorder_expected=(now + timedelta(days=12)).date()),
        _ln(f, "BTL-INS-STL", 1, ALLOCATED)])


def _partly_dispatched(f, c, n, now):
    return _draft(f, c, n, _at(now, 2, 4), [
        _ln(f, "BOT-SUM-10-BRN", 1, DISPATCHED), _ln(f, "SCK-HKG-M-GRY", 2, DISPATCHED),
        _ln(f, "JKT-DWN-M-BLK", 1, PACKED)])


def _delivered_in_window(f, c, n, now):
    at = _at(now, 10, m=-212)
    return _draft(f, c, n, _at(now, 14, 3), [
        _ln(f, "SHO-TRL-9-BLU", 1, DELIVERED, delivered_at=at),
        _ln(f, "TEE-ORG-M-WHT", 2, DELIVERED, delivered_at=at)])


def _delivered_out_of_window(f, c, n, now):
    return _draft(f, c, n, _at(now, 52, 5), [
        _ln(f, "KNT-CBL-L-OAT", 1, DELIVERED, delivered_at=_at(now, 47, 1))])


def _click_and_collect_ready(f, c, n, now):
    return _draft(f, c, n, _at(now, 1, 2), [
        _ln(f, "FLC-HLF-S-FOR", 1, READY), _ln(f, "GLV-TCH-S-BLK", 1, READY)], store="ST-EVA")


def _cancelled(f, c, n, now):
    placed = _at(now, 6, 1)
    return _draft(f, c, n, placed, [
        _ln(f, "JNS-SLM-32-IND", 1, BOOKED), _ln(f, "SHR-FLN-L-RED", 1, BOOKED)],
        method="NEXT_DAY",
        events=[Event(at=placed + timedelta(hours=3), kind="cancel", reason="CUSTOMER_REQUEST")])


def _with_credit_memo(f, c, n, now):
    placed = _at(now, 4, 2)
    return _draft(f, c, n, placed, [
        _ln(f, "LEG-PRF-S-BLK", 2, DISPATCHED), _ln(f, "BAG-DAY-OLV", 1, DISPATCHED)],
        events=[Event(at=placed + timedelta(hours=2), kind="reduce", line=0, units=1,
                      reason="CUSTOMER_REQUEST")])


def _au_inclusive(f, c, n, now):
    return _draft(f, c, n, _at(now, 1, 3), [
        _ln(f, "JKT-ALP-M-BLK", 1, ALLOCATED), _ln(f, "TEE-MER-M-SGE", 1, ALLOCATED)])


def _declining_card(f, c, n, now):
    return _draft(f, c, n, _at(now, h=6), [_ln(f, "SWT-CRW-M-GRY", 1, ALLOCATED)])


def _appeasement(f, c, n, now):
    return _draft(f, c, n, _at(now, 20, 4), [
        _ln(f, "JKT-SFT-M-BLK", 1, DELIVERED, delivered_at=_at(now, 12, 2))], method="EXPRESS",
        events=[Event(at=_at(now, 11, 5), kind="appease", units=2000, reason="LATE_DELIVERY",
                      settle="store_credit")])


def _booked(f, c, n, now):
    return _draft(f, c, n, _at(now, m=25), [_ln(f, "HDY-CLS-L-GRY", 1, BOOKED)], channel="app")


def _picking(f, c, n, now):
    return _draft(f, c, n, _at(now, h=10), [
        _ln(f, "PNT-TRK-34-KHK", 1, PICKED), _ln(f, "TEE-LOG-L-NVY", 1, PICKED)], card=1)


def _packed(f, c, n, now):
    return _draft(f, c, n, _at(now, h=20), [_ln(f, "BOT-CHL-9-TAN", 1, PACKED)], method="EXPRESS")


def _dispatched(f, c, n, now):
    return _draft(f, c, n, _at(now, 2, 1), [
        _ln(f, "SUN-POL-BLK", 1, DISPATCHED), _ln(f, "HAT-CAP-OLV", 1, DISPATCHED)],
        method="EXPRESS")


def _collected(f, c, n, now):
    return _draft(f, c, n, _at(now, 9, 2), [
        _ln(f, "BAG-DUF-40L-BLK", 1, DELIVERED, delivered_at=_at(now, 6, 4))], store="ST-CHI")


def _promo(f, c, n, now):
    return _draft(f, c, n, _at(now, h=5), [
        _ln(f, "JKT-DWN-L-OLV", 1, ALLOCATED), _ln(f, "SCF-MER-CHR", 1, ALLOCATED),
        _ln(f, "TEE-MER-L-BLK", 1, ALLOCATED)],
        promo=(PromoDiscount(id=f"DSC-{n}-1", percent=(20, 1), amount=None), "BLACKFRIDAY20"))


def _de(f, c, n, now):
    return _draft(f, c, n, _at(now, 1, 1), [
        _ln(f, "JKT-ALP-L-BLK", 1, ALLOCATED), _ln(f, "HAT-BEA-RST", 1, ALLOCATED)])


def _return_mix(f, c, n, now):
    at = _at(now, 20, 3)
    return _draft(f, c, n, _at(now, 24, 6), [
        _ln(f, "SWM-ONE-S-CRL", 1, DELIVERED, delivered_at=at),
        _ln(f, "SAN-SLD-8-BLK", 1, DELIVERED, delivered_at=at),
        _ln(f, "TEE-ORG-S-WHT", 1, DELIVERED, delivered_at=at)])


_BUILDERS: dict[str, Callable[..., Draft]] = {
    "chicago_jacket": _chicago_jacket, "short_picked": _short_picked, "backordered": _backordered,
    "partly_dispatched": _partly_dispatched, "delivered_in_window": _delivered_in_window,
    "delivered_out_of_window": _delivered_out_of_window,
    "click_and_collect_ready": _click_and_collect_ready, "cancelled": _cancelled,
    "with_credit_memo": _with_credit_memo, "au_inclusive": _au_inclusive,
    "declining_card": _declining_card, "appeasement_store_credit": _appeasement, "booked": _booked,
    "picking": _picking, "packed": _packed, "dispatched": _dispatched, "collected": _collected,
    "promo_discount": _promo, "de_inclusive": _de, "return_rules_mix": _return_mix,
}
assert set(_BUILDERS) == set(SCENARIO_NAMES)
