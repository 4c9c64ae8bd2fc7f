"""Names, places, phones and e-mail addresses for the demo customers.

* Names from many cultures, spelled as their owners spell them: apostrophes (O'Brien, D'Arcy),
  accents (Zoë, Siobhán, Łukasz, Søren), hyphens (Anna-Lena, Al-Sayed, García-López), particles
  (dela Cruz).
* Places: US cities that have a tax jurisdiction in the default policy, with real street names and
  postcodes of that city; Australian suburbs of Sydney, Melbourne and Brisbane with their postcodes;
  a few German cities.
* Phones are a realistic directory: the metro's own area codes (overlays included) with random
  subscriber numbers in the national plan's shape (US ``NXX-XXXX`` with no ``N11`` or ``555``
  exchange, Australian and German landlines and mobiles), so nearly every customer has a number of
  their own. The named scenarios keep numbers from the ranges reserved for fiction (US 555-01xx).
  E-mail domains are the reserved ``example.*`` ones. The demo never calls or texts anyone: its
  notifications stay in the store's outbox.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --------------------------------------------------------------------------------------------------
# Names: (first names, family names) per culture. Most customers take both from one culture.
# --------------------------------------------------------------------------------------------------

CULTURES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("James", "Olivia", "Liam", "Emma", "Noah", "Charlotte", "Oliver", "Amelia", "Jack", "Grace",
      "Ethan", "Chloe", "Siobhán", "Niamh", "Seán", "Aoife", "Ciarán", "Margaret", "Daniel",
      "Hannah", "Dana", "Marcus", "Connor", "Eileen"),
     ("Smith", "Johnson", "O'Brien", "O'Connor", "O'Neill", "McAllister", "MacDonald", "Walsh",
      "Murphy", "Kelly", "Whitfield", "Thompson", "Campbell", "Fitzgerald", "Byrne", "Hughes",
      "Clarke", "Bennett", "Doyle", "Gallagher", "Sullivan", "Harrington", "Wright", "Bell",
      "D'Arcy")),
    (("Mateo", "Sofía", "Santiago", "Valentina", "José", "María", "Lucía", "Diego", "Camila",
      "Alejandro", "Ximena", "Joaquín", "Inés", "Andrés"),
     ("García", "Hernández", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez",
      "Ramírez", "Núñez", "García-López", "Ortega", "Castillo", "Ibáñez")),
    (("Wei", "Mei Lin", "Jian", "Xiaoling", "Yan", "Hao", "Li Na", "Jun", "Ming", "Ying"),
     ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Zhao", "Wu", "Zhou", "Lin")),
    (("Priya", "Arjun", "Aarav", "Ananya", "Rohan", "Diya", "Vikram", "Kavya", "Sanjay", "Lakshmi",
      "Rahul"),
     ("Raghunathan", "Patel", "Sharma", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Krishnamurthy",
      "Banerjee", "Menon")),
    (("Linh", "Minh", "Thảo", "Huy", "Quỳnh", "Anh", "Bảo", "Liam"),
     ("Nguyen", "Trần", "Le", "Pham", "Hoang", "Vu", "Đặng")),
    (("Ji-woo", "Seo-yeon", "Min-jun", "Ha-eun", "Jin-woo", "Do-yun", "Soo-ah"),
     ("Kim", "Park", "Lee", "Choi", "Jung", "Kang", "Cho", "Yoon")),
    (("Hana", "Haruto", "Yui", "Sōta", "Aoi", "Ren", "Sakura", "Kenji"),
     ("Kobayashi", "Tanaka", "Suzuki", "Watanabe", "Yamamoto", "Nakamura", "Satō", "Itō")),
    (("Fatima", "Omar", "Layla", "Youssef", "Amira", "Karim", "Nour", "Hassan", "Zainab"),
     ("Al-Sayed", "El-Amin", "Haddad", "Khalil", "Mansour", "Nasser", "Al-Farsi", "Saleh",
      "Abdel-Rahman")),
    (("Chidi", "Ngozi", "Adaeze", "Oluwaseun", "Kwame", "Ama", "Tunde", "Folake", "Emeka"),
     ("Okafor", "Adeyemi", "Mensah", "Okonkwo", "Balogun", "Asante", "Eze", "Nwosu", "Owusu")),
    (("Jürgen", "Anna-Lena", "Lukas", "Leonie", "Jonas", "Sophie", "Maximilian", "Lea", "Felix",
      "Jörg", "Käthe"),
     ("Müller", "Schröder", "Schmidt", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
      "Schäfer", "Krüger", "Groß")),
    (("Zoë", "Chloé", "Benoît", "Élodie", "Théo", "Camille", "Léa", "François", "Hélène", "Mathis"),
     ("Lefèvre", "Dubois", "Moreau", "Laurent", "Girard", "D'Arcy", "Rousseau", "Fontaine",
      "Bonnet", "Mercier")),
    (("Łukasz", "Małgorzata", "Agnieszka", "Paweł", "Zofia", "Wojciech", "Katarzyna"),
     ("Wiśniewski", "Kowalski", "Nowak", "Wójcik", "Zieliński", "Kamińska", "Lewandowski")),
    (("Søren", "Åsa", "Bjørn", "Ingrid", "Freya", "Mikael", "Sigrid"),
     ("Ødegaard", "Johansson", "Andersen", "Lindqvist", "Nørgaard", "Halvorsen", "Björk")),
    (("Dimitrios", "Eleni", "Giorgos", "Giulia", "Marco", "Francesca", "Luca"),
     ("Papadopoulos", "Georgiou", "D'Angelo", "Rossi", "Esposito", "Bianchi", "Costa", "Russo")),
    (("Aroha", "Tāne", "Mere", "Nikau", "Hemi", "Losa", "Sione"),
     ("Ngata", "Parata", "Tuhiwai", "Fifita", "Tupou", "Walker")),
    (("Angelica", "Paolo", "Joy", "Mark Anthony", "Kristine", "Rosario"),
     ("dela Cruz", "Santos", "Reyes", "Bautista", "Villanueva", "Mendoza")),
    (("Avi", "Noa", "Yael", "Eitan", "Miriam"), ("Cohen", "Levi", "Friedman", "Rosenberg", "Katz")),
    (("Elif", "Emre", "Zeynep", "Mehmet", "Ayşe"), ("Yılmaz", "Öztürk", "Kaya", "Demir", "Şahin")),
)

ALL_FIRST = tuple(f for c in CULTURES for f in c[0])
ALL_LAST = tuple(last for c in CULTURES for last in c[1])

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE",
                       "đ": "d", "Đ": "D", "ı": "i", "œ": "oe", "Œ": "OE"})


def ascii_fold(text: str) -> str:
    """'Zoë Ødegaard' → 'Zoe Odegaard': for e-mail local parts, never for display."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    kept = "".join(ch for ch in text if not unicodedata.combining(ch))
    return kept.encode("ascii", "ignore").decode()


@lru_cache(maxsize=4096)
def email_part(name: str) -> str:
    s = ascii_fold(name).lower()
    return "".join(ch for ch in s if ch.isalnum() or ch == "-")


# --------------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    city: str
    region: str
    country: str
    postcodes: tuple[str, ...]
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Metro:
    name: str
    country: str
    weight: int
    places: tuple[Place, ...]
    phones: tuple[str, ...]  # E.164 landline prefixes; customers.phone_for completes them
    stores: tuple[str, ...] = ()  # click & collect stores the customers of this metro use


def _us(city: str, region: str, postcodes: tuple[str, ...], streets: tuple[str, ...]) -> Place:
    return Place(city, region, "US", postcodes, streets)


US_METROS: tuple[Metro, ...] = (
    Metro("Chicago", "US", 25, (_us("Chicago", "IL", ("60614", "60622", "60657", "60640", "60647",
                                                         "60615", "60607", "60610"),
                                    ("N Clark St", "W Armitage Ave", "N Milwaukee Ave",
                                     "W Belmont Ave", "N Halsted St", "N Broadway", "W Division St",
                                     "S Dearborn St", "N Sheffield Ave", "W Fullerton Ave",
                                     "N Damen Ave", "E 53rd St", "N Lincoln Ave")),),
          ("+1312", "+1773", "+1872"), ("ST-CHI", "ST-EVA")),
    Metro("Evanston", "US", 5, (_us("Evanston", "IL", ("60201", "60202"),
                                    ("Chicago Ave", "Sherman Ave", "Davis St", "Central St",
                                     "Ridge Ave", "Dempster St", "Orrington Ave", "Main St")),),
          ("+1847", "+1224"), ("ST-EVA", "ST-CHI")),
    Metro("Milwaukee", "US", 8, (_us("Milwaukee", "WI", ("53202", "53204", "53207", "53208",
                                                          "53211", "53212"),
                                     ("N Farwell Ave", "E Brady St", "S Kinnickinnic Ave",
                                      "N Downer Ave", "W Wisconsin Ave", "N Prospect Ave",
                                      "W Vliet St", "S 2nd St", "N Oakland Ave")),),
          ("+1414",), ("ST-MKE",)),
    Metro("New York", "US", 20, (_us("New York", "NY", ("10003", "10009", "10011", "10012", "10014",
                                                         "10024", "10025", "10027", "10128"),
                                     ("Broadway", "Bleecker St", "Amsterdam Ave", "E 7th St",
                                      "W 4th St", "Lexington Ave", "Columbus Ave", "W 85th St",
                                      "Avenue A", "Hudson St")),),
          ("+1212", "+1646", "+1917", "+1332"), ("ST-NYC",)),
    Metro("Austin", "US", 10, (_us("Austin", "TX", ("78701", "78702", "78703", "78704", "78705",
                                                     "78751"),
                                   ("S Congress Ave", "E Cesar Chavez St", "Guadalupe St",
                                    "S Lamar Blvd", "Rosewood Ave", "W 6th St", "Duval St",
                                    "Manor Rd")),),
          ("+1512", "+1737")),
    Metro("Denver", "US", 9, (_us("Denver", "CO", ("80202", "80203", "80205", "80206", "80210",
                                                    "80211", "80218"),
                                  ("Larimer St", "E Colfax Ave", "S Pearl St", "Tennyson St",
                                   "Blake St", "E 17th Ave", "Federal Blvd", "S Broadway")),),
          ("+1303", "+1720")),
    Metro("Miami", "US", 8, (_us("Miami", "FL", ("33125", "33127", "33130", "33131", "33133",
                                                 "33137"),
                                 ("Brickell Ave", "NW 2nd Ave", "SW 8th St", "Biscayne Blvd",
                                  "Coral Way", "NE 2nd Ave", "SW 22nd St")),),
          ("+1305", "+1786")),
    Metro("Boston", "US", 9, (_us("Boston", "MA", ("02108", "02115", "02116", "02118", "02127",
                                                    "02130"),
                                  ("Newbury St", "Tremont St", "Boylston St", "Commonwealth Ave",
                                   "Centre St", "Beacon St", "Columbus Ave", "E Broadway")),),
          ("+1617", "+1857")),
    Metro("Portland", "US", 6, (_us("Portland", "OR", ("97205", "97209", "97210", "97211", "97214",
                                                        "97232"),
                                    ("SE Hawthorne Blvd", "NW 23rd Ave", "NE Alberta St",
                                     "SE Division St", "N Mississippi Ave", "NE Broadway",
                                     "SW Alder St")),),
          ("+1503", "+1971")),
)

# Mobile prefixes: Australian 04xx, German 015x/016x/017x (E.164).
AU_MOBILE = "+614"
DE_MOBILES = ("+49151", "+49152", "+49157", "+49160", "+49162", "+49170", "+49171", "+49172",
              "+49173", "+49175", "+49176", "+49177", "+49178", "+49179")


def _au(city: str, region: str, postcode: str, streets: tuple[str, ...]) -> Place:
    return Place(city, region, "AU", (postcode,), streets)


AU_METROS: tuple[Metro, ...] = (
    Metro("Sydney", "AU", 45, (
        _au("Sydney", "NSW", "2000", ("George St", "Pitt St", "Kent St", "Clarence St")),
        _au("Surry Hills", "NSW", "2010", ("Crown St", "Bourke St", "Riley St")),
        _au("Newtown", "NSW", "2042", ("King St", "Enmore Rd", "Wilson St")),
        _au("Bondi", "NSW", "2026", ("Campbell Pde", "Curlewis St", "Hall St")),
        _au("Glebe", "NSW", "2037", ("Glebe Point Rd", "St Johns Rd")),
        _au("Parramatta", "NSW", "2150", ("Church St", "Macquarie St")),
        _au("Manly", "NSW", "2095", ("The Corso", "Pittwater Rd")),
        _au("Chatswood", "NSW", "2067", ("Victoria Ave", "Archer St")),
    ), ("+6129", "+6128"), ("ST-SYD",)),
    Metro("Melbourne", "AU", 38, (
        _au("Melbourne", "VIC", "3000", ("Collins St", "Flinders Ln", "Lonsdale St")),
        _au("Fitzroy", "VIC", "3065", ("Brunswick St", "Gertrude St", "Johnston St")),
        _au("Carlton", "VIC", "3053", ("Lygon St", "Drummond St")),
        _au("St Kilda", "VIC", "3182", ("Acland St", "Fitzroy St")),
        _au("Richmond", "VIC", "3121", ("Swan St", "Bridge Rd")),
        _au("Brunswick", "VIC", "3056", ("Sydney Rd", "Albert St")),
    ), ("+6139", "+6138"), ("ST-MEL",)),
    Metro("Brisbane", "AU", 17, (
        _au("Brisbane City", "QLD", "4000", ("Queen St", "Adelaide St", "Elizabeth St")),
        _au("Fortitude Valley", "QLD", "4006", ("Brunswick St", "Ann St")),
        _au("West End", "QLD", "4101", ("Boundary St", "Montague Rd")),
        _au("Paddington", "QLD", "4064", ("Given Tce", "Latrobe Tce")),
        _au("New Farm", "QLD", "4005", ("Merthyr Rd", "Brunswick St")),
    ), ("+6173",)),
)


def _de(city: str, postcode: str, streets: tuple[str, ...]) -> Place:
    return Place(city, "", "DE", (postcode,), streets)


DE_METROS: tuple[Metro, ...] = (
    Metro("Berlin", "DE", 50, (
        _de("Berlin", "10115", ("Torstraße", "Invalidenstraße")),
        _de("Berlin", "10245", ("Warschauer Straße", "Simon-Dach-Straße")),
        _de("Berlin", "10437", ("Kastanienallee", "Schönhauser Allee")),
        _de("Berlin", "10999", ("Oranienstraße", "Wiener Straße")),
    ), ("+4930",)),
    Metro("Hamburg", "DE", 30, (
        _de("Hamburg", "22765", ("Ottenser Hauptstraße", "Bahrenfelder Straße")),
        _de("Hamburg", "20357", ("Schanzenstraße", "Susannenstraße")),
    ), ("+4940",)),
    Metro("München", "DE", 20, (
        _de("München", "80331", ("Sendlinger Straße", "Hackenstraße")),
        _de("München", "80469", ("Fraunhoferstraße", "Reichenbachstraße")),
    ), ("+4989",)),
)

METROS_BY_MARKET = {"US": US_METROS, "AU": AU_METROS, "DE": DE_METROS}
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
