"""Order search: read the query text as ref, email, phone, postcode, sku or name, then ask SQLite.

Every kind is answered from an index, never a scan:

=========  ==========================================  ==============================================
kind       read from the text when                     index
=========  ==========================================  ==============================================
ref        ``ON-1000``, ``on1000``, bare digits         ``orders.ref`` (UNIQUE), prefix range
email      it contains ``@``                           ``customers.email_key``, exact or prefix range
phone      digits with ``+ - ( ) .`` or spaces, ≥ 6     ``customers.phone_key`` / ``phone_nat``, prefix
           digits (bare digits ≥ 6 too)
postcode   3–10 letters/digits with at least one digit  ``orders.postcode_key, placed_at DESC``
sku        it is the start of a catalog sku             ``order_skus (sku, placed_at DESC)``
name       it has a word with a letter                 FTS5 ``customer_names`` (prefix, bm25 rank;
                                                       newest customers first beyond 2,000 matches)
(empty)    nothing left after cleaning                 ``orders.placed_at`` (most recent first)
=========  ==========================================  ==============================================

One text can be read several ways (``60614`` is a ref prefix and a postcode; ``3125550134`` a ref prefix
and a phone). Each reading runs its own bounded query (``LIMIT offset + limit + 1``) and the rows are
merged by tier — exact ref, exact email/phone, exact postcode/sku, ref prefix, email/phone prefix,
name by rank, postcode prefix, sku prefix — then most recent first, each order once at its best tier.
(A five-digit text is more often a whole postcode than the start of a ref, so an exact postcode comes
before a ref prefix; a whole ref always comes first.)
Because every tier's list is cut at the same depth, the merged page is exact.

Hostile text is cleaned before any of this: control characters dropped, at most 200 characters kept,
and a name query is rebuilt from its words as quoted FTS5 prefix terms (``"jane"* "do"*``), so FTS
syntax (quotes, ``NEAR``, ``*``, ``-``, ``:``, parentheses) in the text is never interpreted.
"""

from __future__ import annotations

import bisect
import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Sequence

from ...engine.money import MINOR_UNITS, Money
from ..search_types import MatchKind, OrderSummary, SearchPage, built

REF_PREFIX = "ON-"
MIN_BARE_REF = 6  # bare digits are read as a ref from this many (refs are ON-100001 and up)
MAX_QUERY = 200
MAX_TOKENS = 6
MAX_TOKEN_LEN = 40
MAX_SKUS = 40
MAX_CUSTOMERS = 200  # customers one email/phone reading may bring in (a shared number: the first 200)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)

COLS = ("o.id, o.ref, o.placed_at, c.name, c.email, o.stage, o.total_minor, o.currency, o.units, "
        "o.postcode")
_ORDERS = "orders o JOIN customers c ON c.id = o.customer"

# Tiers: lower first. Rows of one tier are ordered by a key of that tier's own shape.
T_REF_EXACT, T_EXACT_CONTACT, T_EXACT_PLACE, T_REF, T_CONTACT, T_NAME, T_POSTCODE, T_SKU, T_RECENT = range(9)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REF = re.compile(r"(?:ON)?-?(\d+)")
_PHONE = re.compile(r"\+?[\d\s\-().]+")
_POSTCODE = re.compile(r"[A-Z0-9]{3,10}")

# Country calling codes of the markets carecli serves (and a few more), longest first, to find the
# national number in a phone written without separators (+13125550134).
_CALLING_CODES = sorted(["1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43",
                         "44", "45", "46", "47", "48", "49", "52", "55", "60", "61", "64", "65", "81",
                         "82", "86", "91", "353", "852", "971", "973", "965", "968"],
                        key=len, reverse=True)
_CALLING_CODE_SET = frozenset(_CALLING_CODES)
_NON_DIGITS = re.compile(r"\D")
_CODE_THEN_SEPARATOR = re.compile(r"\+\s*(\d{1,3})[\s\-.()]")


# --------------------------------------------------------------------------------------------------
# Keys stored beside the data (written by the loader and by commits)
# --------------------------------------------------------------------------------------------------


def email_key(email: str) -> str:
    return email.strip().lower()


def phone_keys(phone: str) -> tuple[str, str]:
    """(all digits, national digits) of a stored phone number."""
    rest = phone[1:]
    if phone[:1] == "+" and rest.isascii() and rest.isdecimal():  # E.164 as stored: +13125550134
        return rest, _national(rest)
    digits = _NON_DIGITS.sub("", phone)
    text = phone.strip()
    if not text.startswith("+"):
        return digits, digits[1:] if digits.startswith("0") else digits
    m = _CODE_THEN_SEPARATOR.match(text)
    if m:
        return digits, digits[len(m.group(1)):]
    return digits, _national(digits)


def _national(digits: str) -> str:
    """The digits after the longest calling code they start with (all of them if none)."""
    for n in (3, 2, 1):
        if digits[:n] in _CALLING_CODE_SET:
            return digits[n:]
    return digits


def postcode_key(postcode: str) -> str:
    return "".join(postcode.upper().replace("-", " ").split())


def to_micros(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt - EPOCH) // _US


def from_micros(us: int, _td=timedelta, _epoch=EPOCH) -> datetime:
    return _epoch + _td(0, 0, us)


# --------------------------------------------------------------------------------------------------
# Reading the text
# --------------------------------------------------------------------------------------------------


def clean(text: str) -> str:
    """Drop control and format characters, collapse white space, keep at most MAX_QUERY characters."""
    if not isinstance(text, str):
        return ""
    text = text[: MAX_QUERY * 4]
    if text.isprintable():  # no control, format or separator characters but the plain space
        return " ".join(text.split())[:MAX_QUERY].strip()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace() or cat[0] in "CZ":
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())[:MAX_QUERY].strip()


def name_tokens(text: str) -> list[str]:
    toks = [t[:MAX_TOKEN_LEN] for t in _WORD.findall(text.casefold())]
    return toks[:MAX_TOKENS]


def fts_query(tokens: Sequence[str]) -> str:
    """Quoted prefix terms, all required: words can never become FTS operators."""
    return " ".join('"' + t.replace('"', '""') + '"*' for t in tokens)


def _next_prefix(s: str) -> str:
    """The smallest string greater than every string starting with ``s`` (for a range scan)."""
    return s[:-1] + chr(ord(s[-1]) + 1) if s else "\U0010ffff"


@dataclass
class Reading:
    """What the text was read as; each field None when that reading does not apply."""

    text: str
    ref: str | None = None
    email: str | None = None
    phone: str | None = None
    postcode: str | None = None
    skus: list[str] = field(default_factory=list)
    sku_exact: str | None = None
    name: list[str] = field(default_factory=list)

    @property
    def kinds(self) -> tuple[MatchKind, ...]:
        out: list[MatchKind] = []
        if not self.text:
            return ("recent",)
        if self.ref is not None:
            out.append("ref")
        if self.email is not None:
            out.append("email")
        if self.phone is not None:
            out.append("phone")
        if self.postcode is not None:
            out.append("postcode")
        if self.name:
            out.append("name")
        if self.skus:
            out.append("sku")
        return tuple(out)


_EXACT_REF = re.compile(r"ON-[0-9]+")


def read(text: str, skus_sorted: Sequence[str] = ()) -> Reading:
    if type(text) is str and len(text) <= MAX_QUERY and _EXACT_REF.fullmatch(text):
        return Reading(text, ref=text)  # a ref as the store writes it: what the steps below make of it
    q = clean(text)
    r = Reading(q)
    if not q:
        return r
    if "@" in q:
        r.email = email_key(q)
        return r
    up = q.upper()
    compact = up.replace(" ", "")
    m = _REF.fullmatch(compact)
    digits_only = compact.isdigit()
    if m and digits_only and len(compact) < MIN_BARE_REF:
        m = None  # a short bare number is a postcode (or nothing); "ON-1234" still reads as a ref
    if m:
        r.ref = REF_PREFIX + m.group(1)
        if not digits_only:
            return r  # "ON-…": a ref and nothing else
    elif compact.startswith(REF_PREFIX):
        r.ref = compact
        return r
    if _PHONE.fullmatch(q) and not q.startswith("-"):
        d = re.sub(r"\D", "", q)
        if len(d) >= 6 and (not m or digits_only):
            r.phone = ("+" if q.lstrip().startswith("+") else "") + d
    pk = postcode_key(q)
    if _POSTCODE.fullmatch(pk) and any(ch.isdigit() for ch in pk) and (not m or digits_only) \
            and not q.startswith("+"):
        r.postcode = pk
    if m or r.phone is not None:
        return r
    if len(compact) >= 2 and skus_sorted:
        i = bisect.bisect_left(skus_sorted, compact)
        while i < len(skus_sorted) and skus_sorted[i].startswith(compact) and len(r.skus) < MAX_SKUS:
            r.skus.append(skus_sorted[i])
            i += 1
        if r.skus and r.skus[0] == compact:
            r.sku_exact = compact
        if r.skus and (r.sku_exact or "-" in compact):
            return r  # a whole sku, or the start of one with its dash: not a name
    toks = name_tokens(q)
    if any(any(ch.isalpha() for ch in t) for t in toks):
        r.name = toks
    return r


# --------------------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------------------

Row = tuple[Any, ...]
Key = tuple[Any, ...]


@dataclass(slots=True)
class Hit:
    key: Key
    kind: MatchKind
    row: Row  # COLS


def _stage(stage: str | None) -> tuple[str, tuple[Any, ...]]:
    return (" AND o.stage = ?", (stage,)) if stage else ("", ())


_REF_SQL = {
    st: f"SELECT {COLS} FROM {_ORDERS} WHERE o.ref >= ? AND o.ref < ?{st} ORDER BY o.ref LIMIT ? OFFSET ?"
    for st in ("", " AND o.stage = ?")
}


def search_ref(conn: sqlite3.Connection, prefix: str, stage: str | None, n: int, off: int = 0) -> list[Hit]:
    st, sp = _stage(stage)
    rows = conn.execute(_REF_SQL[st], (prefix, _next_prefix(prefix), *sp, n, off)).fetchall()
    return [Hit((T_REF_EXACT if r[1] == prefix else T_REF, r[1], 0), "ref", r) for r in rows]


def _contact(conn: sqlite3.Connection, cust_sql: str, params: tuple, kind: MatchKind, stage: str | None,
             n: int, off: int) -> list[Hit]:
    st, sp = _stage(stage)
    rows = conn.execute(
        f"WITH m(id, exact) AS ({cust_sql}) "
        f"SELECT {COLS}, max(m.exact) FROM m JOIN orders o ON o.customer = m.id "
        f"JOIN customers c ON c.id = m.id WHERE 1{st} GROUP BY o.id "
        f"ORDER BY max(m.exact) DESC, o.placed_at DESC, o.id DESC LIMIT ? OFFSET ?",
        (*params, *sp, n, off),
    ).fetchall()
    return [Hit((T_EXACT_CONTACT if r[10] else T_CONTACT, -r[2], -r[0]), kind, r[:10]) for r in rows]


def search_email(conn, q: str, stage, n, off=0) -> list[Hit]:
    sql = (f"SELECT id, email_key = ? FROM customers WHERE email_key >= ? AND email_key < ? "
           f"LIMIT {MAX_CUSTOMERS}")
    return _contact(conn, sql, (q, q, _next_prefix(q)), "email", stage, n, off)


def search_phone(conn, q: str, stage, n, off=0) -> list[Hit]:
    intl = q.startswith("+")
    d = q.lstrip("+")
    parts = [("phone_key", d)]
    if not intl:
        parts.append(("phone_nat", d))
        if d.startswith("0") and len(d) > 1:
            parts.append(("phone_nat", d[1:]))
    sels, params = [], []
    for col, v in parts:
        sels.append(f"SELECT id, {col} = ? FROM customers WHERE {col} >= ? AND {col} < ? LIMIT {MAX_CUSTOMERS}")
        params += [v, v, _next_prefix(v)]
    sql = " UNION ALL ".join(f"SELECT * FROM ({s})" for s in sels)
    return _contact(conn, sql, tuple(params), "phone", stage, n, off)


def search_postcode(conn, q: str, stage, n, off=0) -> list[Hit]:
    st, sp = _stage(stage)
    rows = conn.execute(
        f"SELECT {COLS}, o.postcode_key FROM {_ORDERS} WHERE o.postcode_key >= ? AND o.postcode_key < ?{st} "
        f"ORDER BY o.postcode_key, o.placed_at DESC, o.id LIMIT ? OFFSET ?",
        (q, _next_prefix(q), *sp, n, off),
    ).fetchall()
    return [Hit((T_EXACT_PLACE, -r[2], r[0], "") if r[10] == q else (T_POSTCODE, r[10], -r[2], r[0]),
                "postcode", r[:10]) for r in rows]


def search_sku(conn, skus: Sequence[str], exact: str | None, stage, n, off=0) -> list[Hit]:
    st, sp = _stage(stage)
    inner, params = [], []
    for s in skus:
        if stage:
            inner.append("SELECT * FROM (SELECT os.order_id, os.placed_at, ? AS exact FROM order_skus os "
                         "JOIN orders o ON o.id = os.order_id WHERE os.sku = ? AND o.stage = ? "
                         "ORDER BY os.placed_at DESC LIMIT ?)")
            params += [int(s == exact), s, stage, n + off]
        else:
            inner.append("SELECT * FROM (SELECT order_id, placed_at, ? AS exact FROM order_skus "
                         "WHERE sku = ? ORDER BY placed_at DESC LIMIT ?)")
            params += [int(s == exact), s, n + off]
    rows = conn.execute(
        f"SELECT {COLS}, max(s.exact) FROM ({' UNION ALL '.join(inner)}) s "
        f"JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer GROUP BY o.id "
        f"ORDER BY max(s.exact) DESC, o.placed_at DESC, o.id DESC LIMIT ? OFFSET ?",
        (*params, n, off),
    ).fetchall()
    return [Hit((T_EXACT_PLACE if r[10] else T_SKU, -r[2], -r[0], ""), "sku", r[:10]) for r in rows]


def search_name(conn, tokens: Sequence[str], stage, n, off=0) -> list[Hit]:
    """Customers by bm25 rank (then id), each customer's orders most recent first.

    A reading that matches more than :data:`MAX_RANKED` customers (a first letter or two, a common first
    name or surname on a large store) is not ranked: bm25 cannot tell hundreds of one-word matches
    apart (it would put the shortest names first), and ranking them costs ~2.5 µs a match, a delay on
    every keystroke (150 ms for one letter on a million orders). Such a reading lists the newest
    customers first instead, read from the FTS index in rowid order, which stops at the page.
    """
    match = fts_query(tokens)
    try:
        many = conn.execute(_COUNT_NAMES, (match, MAX_RANKED + 1)).fetchone()[0] > MAX_RANKED
    except sqlite3.OperationalError:
        return []  # cannot happen with quoted terms; never let search text raise
    if many:
        return _name_newest(conn, match, stage, n, off)
    st, sp = _stage(stage)
    need = n + off
    k = max(need, 8)
    while True:
        custs = conn.execute(
            "SELECT rowid, rank FROM customer_names WHERE customer_names MATCH ? "
            "ORDER BY rank, rowid LIMIT ?", (match, k)).fetchall()
        if not custs:
            return []
        rank = {cid: (rk, cid) for cid, rk in custs}
        ph = ",".join("?" * len(custs))
        rows = conn.execute(
            f"SELECT {COLS}, o.customer FROM {_ORDERS} WHERE o.customer IN ({ph}){st}",
            (*rank, *sp)).fetchall()
        if len(rows) >= need or len(custs) < k:
            break
        k *= 4
    hits = [Hit((T_NAME, *rank[r[10]], -r[2], -r[0]), "name", r[:10]) for r in rows]
    hits.sort(key=lambda h: h.key)
    return hits[off:need]


MAX_RANKED = 500  # customers a name reading ranks by bm25 (≤ ~1.5 ms); beyond, newest customers first
NAME_BATCH = 64  # customers in the first batch of a newest-first name reading (then ×4, up to 4096)
_COUNT_NAMES = "SELECT count(*) FROM (SELECT 1 FROM customer_names WHERE customer_names MATCH ? LIMIT ?)"
_NEWEST_NAMES = ("SELECT rowid FROM customer_names WHERE customer_names MATCH ? AND rowid < ? "
                 "ORDER BY rowid DESC LIMIT ?")


def _name_newest(conn, match: str, stage, n, off) -> list[Hit]:
    """Customers matching ``match``, newest (highest id) first, each one's orders most recent first.

    Customers come from the FTS index in descending rowid order, a batch at a time, until the page is
    full: every order of a batch is read, so the rows gathered so far are exactly the head of the list.
    """
    st, sp = _stage(stage)
    need = n + off
    hits: list[Hit] = []
    below = 1 << 62
    batch = NAME_BATCH
    while len(hits) < need:
        custs = [cid for (cid,) in conn.execute(_NEWEST_NAMES, (match, below, batch))]
        if not custs:
            break
        ph = ",".join("?" * len(custs))
        # in the list's order (customer newest first, then each one's orders most recent first), and
        # only as many as the page still needs: the batch's orders beyond it are never built
        rows = conn.execute(f"SELECT {COLS}, o.customer FROM {_ORDERS} WHERE o.customer IN ({ph}){st} "
                            "ORDER BY o.customer DESC, o.placed_at DESC, o.id DESC LIMIT ?",
                            (*custs, *sp, need - len(hits))).fetchall()
        hits += [Hit((T_NAME, 0.0, -r[10], -r[2], -r[0]), "name", r[:10]) for r in rows]
        if len(custs) < batch:
            break
        below = custs[-1]
        batch = min(batch * 4, 4096)
    return hits[off:need]


def search_recent(conn, stage, n, off=0) -> list[Hit]:
    where = "WHERE o.stage = ?" if stage else ""
    rows = conn.execute(
        f"SELECT {COLS} FROM {_ORDERS} {where} ORDER BY o.placed_at DESC, o.id DESC LIMIT ? OFFSET ?",
        ((stage,) if stage else ()) + (n, off),
    ).fetchall()
    return [Hit((T_RECENT, -r[2], -r[0]), "recent", r) for r in rows]


def run(conn: sqlite3.Connection, reading: Reading, stage: str | None, limit: int,
        offset: int) -> tuple[list[Hit], bool]:
    """The page of hits and whether there are more."""
    if reading.ref is not None and reading.kinds == ("ref",):  # the commonest lookup, without the dispatch
        hits = search_ref(conn, reading.ref, stage, limit + 1, offset)
        return hits[:limit], len(hits) > limit
    kinds: list[Callable[[int, int], list[Hit]]] = []
    if not reading.text:
        kinds.append(lambda n, o: search_recent(conn, stage, n, o))
    if reading.ref is not None:
        kinds.append(lambda n, o: search_ref(conn, reading.ref, stage, n, o))
    if reading.email is not None:
        kinds.append(lambda n, o: search_email(conn, reading.email, stage, n, o))
    if reading.phone is not None:
        kinds.append(lambda n, o: search_phone(conn, reading.phone, stage, n, o))
    if reading.postcode is not None:
        kinds.append(lambda n, o: search_postcode(conn, reading.postcode, stage, n, o))
    if reading.skus:
        kinds.append(lambda n, o: search_sku(conn, reading.skus, reading.sku_exact, stage, n, o))
    if reading.name:
        kinds.append(lambda n, o: search_name(conn, reading.name, stage, n, o))
    if not kinds:
        return [], False
    if len(kinds) == 1:
        hits = kinds[0](limit + 1, offset)
        return hits[:limit], len(hits) > limit
    need = offset + limit + 1
    best: dict[int, Hit] = {}
    for k in kinds:
        for h in k(need, 0):
            old = best.get(h.row[0])
            if old is None or h.key < old.key:
                best[h.row[0]] = h
    merged = sorted(best.values(), key=lambda h: h.key)
    return merged[offset:offset + limit], len(merged) > offset + limit


_EXPONENT = {cur: -n for cur, n in MINOR_UNITS.items()}  # Decimal(minor units).scaleb(e) is the amount
_money_exact = Money._exact


def summary(row: Row, kind: MatchKind, _epoch=EPOCH, _td=timedelta, _dec=Decimal) -> OrderSummary:
    """An OrderSummary from a COLS row, built without validation (the row is the store's own).

    The frozen dataclass's ``__init__`` would cost a page about as much as its query; this sets the
    instance's state directly (:func:`carecli.backend.search_types.built`), with its ``placed_at`` and
    ``total`` made as ``from_micros`` and ``Money.from_minor`` make them.
    ``tests/backend/test_search.py`` checks the result equals a validated summary.
    """
    cur = row[7]
    e = _EXPONENT.get(cur)
    return built(OrderSummary, {
        "ref": row[1], "placed_at": _epoch + _td(0, 0, row[2]), "customer_name": row[3], "email": row[4],
        "stage": row[5],
        "total": Money.from_minor(row[6], cur) if e is None else _money_exact(_dec(row[6]).scaleb(e), cur),
        "items": row[8], "postcode": row[9], "matched": kind,
    })


def page(items: list[OrderSummary], offset: int, limit: int, has_more: bool,
         kinds: tuple[MatchKind, ...]) -> SearchPage:
    """A SearchPage built the same way as :func:`summary` (its fields are all given and valid)."""
    return built(SearchPage, {"items": items, "offset": offset, "limit": limit, "has_more": has_more,
                        "kinds": kinds})


# --------------------------------------------------------------------------------------------------
# The exact ref: the commonest lookup, straight from the text to the query and from the rows to the page
# --------------------------------------------------------------------------------------------------

_REF_KINDS: tuple[MatchKind, ...] = ("ref",)


def stored_ref(text: object) -> bool:
    """Whether the text is a ref as the store writes it (``ON-`` and digits): :func:`read` reads it as
    that ref and nothing else, so :func:`ref_rows` and :func:`ref_page` give the page :func:`run` would."""
    return type(text) is str and len(text) <= MAX_QUERY and _EXACT_REF.fullmatch(text) is not None


def ref_rows(conn: sqlite3.Connection, ref: str, stage: str | None, limit: int, offset: int) -> list[Row]:
    """The COLS rows of a ref reading's page, and one more when there are more (``search_ref``'s query)."""
    if stage:
        return conn.execute(_REF_SQL[" AND o.stage = ?"], (ref, _next_prefix(ref), stage, limit + 1, offset)
                            ).fetchall()
    return conn.execute(_REF_SQL[""], (ref, _next_prefix(ref), limit + 1, offset)).fetchall()


def ref_page(rows: list[Row], offset: int, limit: int) -> SearchPage:
    """The page of :func:`ref_rows`' rows: every row matched as a ref."""
    return built(SearchPage, {"items": [summary(r, "ref") for r in rows[:limit]], "offset": offset, "limit": limit,
                        "has_more": len(rows) > limit, "kinds": _REF_KINDS})
