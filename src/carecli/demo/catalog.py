"""The demo store's catalog, warehouses and click & collect stores.

Fixed data, independent of the generator's seed: the same catalog whatever the demo size, so a sku
in a test or a screenshot means the same product everywhere.

* ~50 products in apparel, footwear, accessories, swimwear and electronics (the last two have the
  shorter return windows of the default policy), a few final-sale and a few backorderable ones;
* variants by size and/or colour, sku ``<PRODUCT>-<SIZE>-<COLOUR>`` (``JKT-ALP-M-NVY``);
* **sizes of one product may carry different prices** (the Alpine Shell Jacket: S/M 189.00,
  L 199.00, XL/XXL 209.00 USD), so a size swap moves money;
* prices in USD and AUD, and in EUR for the range sold in Germany;
* stock per location: the warehouses ``WH-CHI`` (US), ``WH-SYD`` (AU), ``WH-BER`` (DE) and the
  stores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from ..engine.model import Address, OpeningHours, PickupLocation, Variant
from ..engine.money import Money

# --------------------------------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------------------------------

WAREHOUSES: dict[str, Address] = {
    "WH-CHI": Address(name="carecli Outdoor — Chicago DC", line1="4200 W 47th St", city="Chicago",
                      region="IL", postcode="60632", country="US"),
    "WH-SYD": Address(name="carecli Outdoor — Sydney DC", line1="18 Huntingwood Dr",
                      city="Huntingwood", region="NSW", postcode="2148", country="AU"),
    "WH-BER": Address(name="carecli Outdoor — Berlin DC", line1="Motzener Straße 34", city="Berlin",
                      postcode="12277", country="DE"),
}
WAREHOUSE_FOR_COUNTRY = {"US": "WH-CHI", "AU": "WH-SYD", "DE": "WH-BER"}

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hours(weekday: tuple[str, str], sat: tuple[str, str], sun: tuple[str, str] | None,
           late: dict[str, str] | None = None) -> tuple[OpeningHours, ...]:
    out = []
    for d in _DAYS:
        if d == "Sat":
            o, c = sat
        elif d == "Sun":
            if sun is None:
                continue  # closed on Sundays
            o, c = sun
        else:
            o, c = weekday
            if late and d in late:
                c = late[d]
        out.append(OpeningHours(day=d, opens=o, closes=c))
    return tuple(out)


def _stores() -> tuple[PickupLocation, ...]:
    return (
        PickupLocation(
            id="ST-CHI", name="Chicago State St",
            address=Address(name="carecli Outdoor State St", line1="112 N State St", city="Chicago",
                            region="IL", postcode="60602", country="US", phone="+13125550100"),
            hours=_hours(("10:00", "20:00"), ("10:00", "20:00"), ("11:00", "18:00")),
        ),
        PickupLocation(
            id="ST-EVA", name="Evanston",
            address=Address(name="carecli Outdoor Evanston", line1="1612 Sherman Ave",
                            city="Evanston", region="IL", postcode="60201", country="US",
                            phone="+18475550110"),
            hours=_hours(("10:00", "19:00"), ("10:00", "18:00"), ("12:00", "17:00")),
        ),
        PickupLocation(
            id="ST-MKE", name="Milwaukee",
            address=Address(name="carecli Outdoor Milwaukee", line1="229 E Wisconsin Ave",
                            city="Milwaukee", region="WI", postcode="53202", country="US",
                            phone="+14145550120"),
            hours=_hours(("10:00", "19:00"), ("10:00", "18:00"), None),
        ),
        PickupLocation(
            id="ST-NYC", name="New York SoHo",
            address=Address(name="carecli Outdoor SoHo", line1="121 Prince St", city="New York",
                            region="NY", postcode="10012", country="US", phone="+12125550130"),
            hours=_hours(("10:00", "21:00"), ("10:00", "21:00"), ("11:00", "19:00")),
        ),
        PickupLocation(
            id="ST-SYD", name="Sydney George St",
            address=Address(name="carecli Outdoor George St", line1="420 George St", city="Sydney",
                            region="NSW", postcode="2000", country="AU", phone="+61255500140"),
            hours=_hours(("09:00", "18:00"), ("09:00", "18:00"), ("10:00", "17:00"),
                         late={"Thu": "21:00"}),
        ),
        PickupLocation(
            id="ST-MEL", name="Melbourne Bourke St",
            address=Address(name="carecli Outdoor Bourke St", line1="260 Bourke St",
                            city="Melbourne", region="VIC", postcode="3000", country="AU",
                            phone="+61370100150"),
            hours=_hours(("09:00", "17:30"), ("09:00", "17:00"), ("10:00", "17:00"),
                         late={"Fri": "21:00"}),
        ),
        # Closed for a refit: shown in the list, refused as a new pickup location.
        PickupLocation(
            id="ST-BOS", name="Boston Newbury St (closed for refit)",
            address=Address(name="carecli Outdoor Newbury St", line1="338 Newbury St",
                            city="Boston", region="MA", postcode="02115", country="US",
                            phone="+16175550160"),
            hours=(), active=False,
        ),
    )


STORES_FOR_COUNTRY = {"US": ("ST-CHI", "ST-EVA", "ST-MKE", "ST-NYC"), "AU": ("ST-SYD", "ST-MEL")}

# --------------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------------

COLOURS = {
    "NVY": "Navy", "BLK": "Black", "RED": "Ember Red", "OLV": "Olive", "GRY": "Heather Grey",
    "WHT": "White", "SGE": "Sage", "FOR": "Forest", "YEL": "Sulphur Yellow", "BRN": "Brown",
    "BLU": "Cobalt", "TAN": "Tan", "CHR": "Charcoal", "RST": "Rust", "SND": "Sand", "IND": "Indigo",
    "CRL": "Coral", "TEA": "Teal", "KHK": "Khaki", "OAT": "Oatmeal", "STL": "Steel",
    "PNK": "Dusty Pink",
}

APPAREL = ("XS", "S", "M", "L", "XL", "XXL")
WAIST = ("28", "30", "32", "34", "36", "38")
SHOE = ("6", "7", "8", "9", "10", "11", "12", "13")


@dataclass(frozen=True)
class Product:
    code: str  # sku prefix and product id, e.g. "JKT-ALP"
    name: str
    category: str  # apparel, footwear, accessories, swimwear, electronics
    sizes: tuple[str, ...]  # () for no size
    colours: tuple[str, ...]  # () for no colour
    usd: str | dict[str, str]  # one price, or a price per size
    aud: str | dict[str, str] | None = None  # None: derived from USD
    eur: bool | str | dict[str, str] = False  # sold in Germany (True: price derived from USD)
    final_sale: bool = False
    backorderable: bool = False
    out_of_stock: tuple[str, ...] = field(default=())  # sizes or colours with no stock anywhere
    retired: tuple[str, ...] = field(default=())  # colours no longer sold (sellable=False)
    size_label: str = "size"


def _tier(low: str, sizes_high: dict[str, str], sizes: tuple[str, ...]) -> dict[str, str]:
    return {s: sizes_high.get(s, low) for s in sizes}


PRODUCTS: tuple[Product, ...] = (
    # -- apparel -----------------------------------------------------------------------------------
    Product("JKT-ALP", "Alpine Shell Jacket", "apparel", ("S", "M", "L", "XL", "XXL"),
            ("NVY", "BLK", "RED"),
            usd={"S": "189.00", "M": "189.00", "L": "199.00", "XL": "209.00", "XXL": "209.00"},
            aud={"S": "289.00", "M": "289.00", "L": "305.00", "XL": "319.00", "XXL": "319.00"},
            eur={"S": "179.00", "M": "179.00", "L": "189.00", "XL": "199.00", "XXL": "199.00"}),
    Product("JKT-DWN", "Summit Down Jacket", "apparel", ("XS", "S", "M", "L", "XL"), ("BLK", "OLV"),
            usd=_tier("249.00", {"XL": "269.00"}, ("XS", "S", "M", "L", "XL")), eur=True),
    Product("JKT-RAN", "Ridgeline Rain Jacket", "apparel", ("S", "M", "L", "XL"), ("YEL", "NVY"),
            usd="129.00", backorderable=True, out_of_stock=("YEL",), eur=True),
    Product("JKT-SFT", "Trailhead Softshell Jacket", "apparel", ("S", "M", "L", "XL"),
            ("BLK", "TEA"), usd="149.00"),
    Product("FLC-HLF", "Harbor Half-Zip Fleece", "apparel", ("S", "M", "L", "XL"),
            ("GRY", "NVY", "FOR"), usd="79.00", eur=True),
    Product("VST-PUF", "Packable Puffer Vest", "apparel", ("S", "M", "L", "XL"), ("BLK", "RST"),
            usd="99.00"),
    Product("TEE-MER", "Merino Crew Tee", "apparel", APPAREL, ("BLK", "WHT", "SGE"), usd="59.00",
            eur=True),
    Product("TEE-ORG", "Organic Cotton Tee", "apparel", ("XS", "S", "M", "L", "XL"),
            ("WHT", "BLK", "NVY", "SND", "CRL"), usd="28.00", eur=True),
    Product("TEE-LOG", "Mountain Logo Tee", "apparel", ("S", "M", "L", "XL"), ("NVY", "GRY", "PNK"),
            usd="32.00", retired=("PNK",)),
    Product("SHR-FLN", "Flannel Overshirt", "apparel", APPAREL[1:], ("RED", "BLU"),
            usd=_tier("69.00", {"XXL": "74.00"}, APPAREL[1:])),
    Product("SHR-LIN", "Linen Camp Shirt — Archive", "apparel", ("S", "M", "L", "XL"),
            ("SND", "BLU"), usd="39.00", final_sale=True, out_of_stock=("XL",)),
    Product("PNT-TRK", "Trek Convertible Pants", "apparel", ("30", "32", "34", "36", "38"),
            ("KHK", "CHR"), usd=_tier("89.00", {"38": "94.00"}, ("30", "32", "34", "36", "38")),
            size_label="waist"),
    Product("PNT-CHN", "Everyday Chino", "apparel", WAIST[1:], ("SND", "NVY", "OLV"), usd="74.00",
            size_label="waist", eur=True),
    Product("JNS-SLM", "Slim Selvedge Jeans", "apparel", WAIST, ("IND", "BLK"), usd="119.00",
            size_label="waist", backorderable=True, out_of_stock=("28",)),
    Product("PNT-JOG", "Weekend Jogger", "apparel", ("S", "M", "L", "XL"), ("GRY", "BLK"),
            usd="62.00"),
    Product("SHT-TRL", "Trail Shorts", "apparel", ("S", "M", "L", "XL"), ("KHK", "BLK"),
            usd="45.00"),
    Product("HDY-CLS", "Classic Pullover Hoodie", "apparel", APPAREL[1:], ("GRY", "NVY", "OLV"),
            usd=_tier("65.00", {"XXL": "69.00"}, APPAREL[1:]), eur=True),
    Product("SWT-CRW", "Crewneck Sweatshirt", "apparel", ("S", "M", "L", "XL"), ("GRY", "OAT"),
            usd="58.00"),
    Product("KNT-CBL", "Cable Knit Sweater", "apparel", ("S", "M", "L", "XL"), ("OAT", "NVY"),
            usd="98.00", eur=True),
    Product("DRS-WRP", "Wrap Midi Dress", "apparel", ("XS", "S", "M", "L"), ("BLK", "TEA", "RST"),
            usd="88.00", out_of_stock=("RST",)),  # sold out, not backorderable
    Product("LEG-PRF", "Performance Leggings", "apparel", ("XS", "S", "M", "L", "XL"),
            ("BLK", "CHR"), usd="68.00"),
    Product("BSE-THR", "Thermal Base Layer Top", "apparel", ("S", "M", "L", "XL"), ("BLK",),
            usd="49.00", eur=True),
    # -- swimwear (shorter return window) ----------------------------------------------------------
    Product("SWM-ONE", "Coast One-Piece Swimsuit", "swimwear", ("XS", "S", "M", "L"),
            ("CRL", "BLK"), usd="79.00"),
    Product("SWM-BRD", "Reef Boardshorts", "swimwear", ("30", "32", "34", "36"), ("BLU", "TEA"),
            usd="54.00", size_label="waist"),
    Product("SWM-RSH", "UPF 50 Rash Guard", "swimwear", ("S", "M", "L", "XL"), ("NVY", "WHT"),
            usd="49.00"),
    Product("SWM-BKN", "Sunset Bikini Set", "swimwear", ("XS", "S", "M", "L"), ("CRL", "TEA"),
            usd="72.00", final_sale=True),
    # -- footwear ----------------------------------------------------------------------------------
    Product("BOT-SUM", "Summit Hiking Boot", "footwear", SHOE[1:], ("BRN",),
            usd=_tier("159.00", {"12": "169.00", "13": "169.00"}, SHOE[1:]), backorderable=True,
            out_of_stock=("13",), eur=True),
    Product("SHO-TRL", "Trail Running Shoe", "footwear", SHOE[1:-1], ("GRY", "BLU"), usd="129.00",
            eur=True),
    Product("SHO-CRT", "Court Sneaker", "footwear", SHOE[:-2], ("WHT",), usd="89.00"),
    Product("SAN-SLD", "Recovery Slide Sandal", "footwear", SHOE[:-1], ("BLK",), usd="35.00",
            final_sale=True),
    Product("BOT-CHL", "Chelsea Boot", "footwear", SHOE[1:-1], ("BLK", "TAN"), usd="179.00"),
    Product("SLP-WOL", "Wool Slipper", "footwear", ("S", "M", "L"), ("GRY",), usd="59.00"),
    # -- accessories -------------------------------------------------------------------------------
    Product("HAT-BEA", "Ribbed Beanie", "accessories", (), ("NVY", "RST", "CHR"), usd="28.00",
            eur=True),
    Product("HAT-CAP", "Trucker Cap", "accessories", (), ("OLV", "BLK"), usd="30.00"),
    Product("GLV-TCH", "Touchscreen Gloves", "accessories", ("S", "M", "L"), ("BLK",), usd="35.00"),
    Product("SCF-MER", "Merino Scarf", "accessories", (), ("CHR", "OAT"), usd="45.00", eur=True),
    Product("BAG-DAY", "Daypack 25L", "accessories", (), ("OLV", "BLK", "RST"), usd="89.00",
            eur=True),
    Product("BAG-DUF", "Weekender Duffel", "accessories", ("40L", "60L"), ("BLK", "OLV"),
            usd={"40L": "129.00", "60L": "149.00"}, size_label="capacity"),
    Product("BLT-LTH", "Leather Belt", "accessories", ("30", "32", "34", "36", "38", "40"),
            ("BRN", "BLK"), usd="49.00", size_label="waist"),
    Product("BTL-INS", "Insulated Bottle 750 ml", "accessories", (), ("STL", "FOR"), usd="34.00"),
    Product("SUN-POL", "Polarized Sunglasses", "accessories", (), ("BLK", "TAN"), usd="119.00"),
    Product("WAL-CRD", "Card Wallet", "accessories", (), ("BRN",), usd="39.00"),
    Product("UMB-CMP", "Compact Umbrella", "accessories", (), ("BLK", "NVY"), usd="29.00"),
    Product("SCK-HKG", "Hiking Socks 2-Pack", "accessories", ("S", "M", "L"), ("GRY",), usd="24.00",
            eur=True),
    # -- electronics (shorter return window) -------------------------------------------------------
    Product("ELC-HDL", "Trail Headlamp 400", "electronics", (), ("BLK",), usd="49.00"),
    Product("ELC-PWR", "Solar Power Bank 10,000 mAh", "electronics", (), ("BLK",), usd="69.00",
            backorderable=True, out_of_stock=("BLK",)),
    Product("ELC-WCH", "GPS Sports Watch", "electronics", ("42MM", "46MM"), ("BLK",),
            usd={"42MM": "299.00", "46MM": "329.00"}, size_label="case"),
    Product("ELC-BUD", "Wireless Sport Earbuds", "electronics", (), ("BLK", "WHT"), usd="129.00",
            eur=True),
    Product("ELC-LNT", "Camp Lantern", "electronics", (), ("FOR",), usd="39.00"),
)

_AUD_RATE = Decimal("1.55")
_EUR_RATE = Decimal("0.95")


def _retail(usd: str, rate: Decimal) -> str:
    """A converted price ending in .95 (e.g. 28.00 USD → 43.95 AUD)."""
    up = (Decimal(usd) * rate).to_integral_value(rounding=ROUND_CEILING)
    return str(up - Decimal("0.05"))


def _price_for(spec: str | dict[str, str], size: str) -> str:
    return spec if isinstance(spec, str) else spec[size]


def _sku(p: Product, size: str, colour: str) -> str:
    return "-".join(x for x in (p.code, size, colour) if x)


def _variants() -> tuple[Variant, ...]:
    rng = random.Random(20261127)  # the catalog's own stream: stock is the same for every seed
    stores_us, stores_au = STORES_FOR_COUNTRY["US"], STORES_FOR_COUNTRY["AU"]
    out: list[Variant] = []
    for p in PRODUCTS:
        for size in p.sizes or ("",):
            for colour in p.colours or ("",):
                usd = _price_for(p.usd, size)
                aud = _price_for(p.aud, size) if p.aud is not None else _retail(usd, _AUD_RATE)
                prices = {"USD": Money(usd, "USD"), "AUD": Money(aud, "AUD")}
                if p.eur:
                    eur = _retail(usd, _EUR_RATE) if p.eur is True else _price_for(p.eur, size)
                    prices["EUR"] = Money(eur, "EUR")
                attributes = {}
                if size:
                    attributes[p.size_label] = size
                if colour:
                    attributes["colour"] = COLOURS[colour]
                extreme = size in ("XS", "XXL", "6", "13", "28", "40")
                empty = size in p.out_of_stock or colour in p.out_of_stock
                stock: dict[str, int] = {}
                for loc in ("WH-CHI", "WH-SYD", "WH-BER", *stores_us, *stores_au):
                    if loc == "WH-BER" and not p.eur:
                        continue
                    if empty:
                        n = 0
                    elif loc.startswith("WH-"):
                        n = 0 if rng.random() < (0.15 if extreme else 0.04) else rng.randint(4, 80)
                    else:
                        n = 0 if rng.random() < (0.6 if extreme else 0.3) else rng.randint(1, 8)
                    stock[loc] = n
                out.append(Variant(
                    sku=_sku(p, size, colour), product_id=p.code, name=p.name,
                    attributes=attributes, prices=prices, category=p.category,
                    final_sale=p.final_sale, sellable=colour not in p.retired,
                    backorderable=p.backorderable, stock=stock,
                ))
    # The seed case: the larger Alpine Shell Jacket is in stock in Chicago and Milwaukee.
    fixed = {"JKT-ALP-L-NVY": {"WH-CHI": 24, "ST-CHI": 3, "ST-MKE": 2},
             "JKT-ALP-M-NVY": {"WH-CHI": 31, "ST-CHI": 4}}
    for i, v in enumerate(out):
        if v.sku in fixed:
            out[i] = v.model_copy(update={"stock": {**v.stock, **fixed[v.sku]}})
    return tuple(out)


def build_variants() -> tuple[Variant, ...]:
    return _variants()


def build_locations() -> tuple[PickupLocation, ...]:
    return _stores()
