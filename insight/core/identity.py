"""Customer identity: normalising identifiers and resolving them to one customer row.

Feedback and orders carry different identifiers (an email, a platform customer id, an order number).
Every identifier a record carries is attached to one customer; when a record's identifiers point at two
customers, those customers are merged, so import order never matters.

Order numbers and platform customer ids are only unique within a shop: two shops both have an order #1001
and a customer 12. An order import stores them scoped ('1001@shopify/fernleaf', see `scoped_value`);
feedback carries bare ones (a survey's "Order #1001"), which resolve to the one customer holding that value
in any shop, and to nobody when several shops' customers hold it (counted as `ambiguous`, never guessed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from insight.core.clock import Clock, utc_now_iso
from insight.core.db import inserted_id

# phone and billing identify buyers whose orders carry no email and no customer id (cash-on-delivery shops):
# a phone in E.164 ('+61412345678'), else the billing name and street address ('billing:jo tane|12 smith st|0812|au').
IDENTIFIER_KINDS = ("email", "customer_id", "order", "phone", "billing")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str | float | int | None) -> str | None:
    """Lower-case and trim; None when the value is not an email at all (a number from a spreadsheet cell)."""
    if not value:
        return None
    email = str(value).strip().strip("<>").strip().lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:") :]
    return email if _EMAIL.match(email) else None


def normalise_order_number(value: str | float | int | None) -> str | None:
    """'#1001', ' 1001 ', '1001.0' and 'No. 1001' all become '1001'."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    text = re.sub(r"^(?:order\s*)?(?:no\.?\s*)?#?\s*", "", text, flags=re.IGNORECASE)
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if text.isdigit():
        text = text.lstrip("0") or "0"  # Excel drops leading zeros: '00123' and '123' are one number
    return text or None


def normalise_customer_id(value: str | float | int | None) -> str | None:
    """'13085.0', '013085' and '13,085' are customer 13085; Excel's '1.23457E+12' is no id at all (the digits
    are lost, and many customers would share it)."""
    if value is None:
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d(?:[.,]\d+)?E\+\d+", text, flags=re.IGNORECASE):
        return None
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", text):
        text = text.replace(",", "")
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if text.isdigit():
        text = text.lstrip("0") or "0"
    return text or None


_SCIENTIFIC_NUMBER = re.compile(r"\d(?:[.,]\d+)?E\+\d+", re.IGNORECASE)


def normalise_phone(value: str | float | int | None, region: str | None = None) -> str | None:
    """'+61 412 345 678', "'0412 345 678" (region AU) and '0412-345-678' become '+61412345678' (E.164), by
    libphonenumber; None when it is not a valid number, or is national without a country to read it in.

    Excel's '6.14123E+10' lost digits and is nobody's phone; Shopify writes a leading apostrophe.
    """
    if value is None:
        return None
    text = str(value).strip().lstrip("'").strip()
    if not text or _SCIENTIFIC_NUMBER.fullmatch(text):
        return None
    import phonenumbers  # lazy: only imports that carry phones pay for the metadata

    region = (region or "").strip().upper()
    region_code = region if len(region) == 2 and region.isalpha() else None
    try:
        number = phonenumbers.parse(text, region_code)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_NOT_WORD = re.compile(r"[^\w]+")


def normalise_billing(value: str | float | int | None) -> str | None:
    """'Jo Tane|12 Smith St.|0812|AU' -> 'jo tane|12 smith st|0812|au': case, punctuation and spacing ignored
    within each part. Built by `billing_value` from an order's billing columns."""
    if not value:
        return None
    parts = [" ".join(_NOT_WORD.sub(" ", part.casefold()).split()) for part in str(value).split("|")]
    return "|".join(parts) if parts and all(parts[:2]) else None


def billing_value(name: str, address: str, postcode: str, city: str, country: str) -> str | None:
    """A buyer without email, customer id or phone, as their billing name + street address + postcode (else
    city) + country; None unless there is a name, a street address and a postcode or city (a name and a city
    alone, or 'Guest', are many people)."""
    postcode = postcode.strip().lstrip("'")
    place = postcode or city
    if not (name.strip() and address.strip() and place.strip()):
        return None
    return normalise_billing("|".join((name, address, place, country.strip() or "-")))


_NORMALISERS: dict[str, Callable[[str | float | int | None], str | None]] = {
    "email": normalise_email,
    "customer_id": normalise_customer_id,
    "order": normalise_order_number,
    "phone": normalise_phone,
    "billing": normalise_billing,
}


@dataclass(frozen=True)
class Identifier:
    kind: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


def identifier(kind: str, raw: str | float | int | None) -> Identifier | None:
    """A normalised identifier, or None when the raw value is empty or invalid."""
    if kind not in _NORMALISERS:
        raise ValueError(f"unknown identifier kind {kind!r}; expected one of {IDENTIFIER_KINDS}")
    value = _NORMALISERS[kind](raw)
    return Identifier(kind, value) if value else None


SCOPE_MARK = "@"  # order numbers and customer ids never contain it; emails are their own kind
SCOPED_KINDS = ("order", "customer_id")


def scoped_value(value: str, platform: str, shop: str) -> str:
    """'1001@shopify/fernleaf': how an order's number (or its buyer's platform id) is stored, within its shop."""
    return f"{value}{SCOPE_MARK}{platform}/{shop}"


def split_scoped(scoped: str) -> tuple[str, str]:
    """('1001', 'shopify/fernleaf') of '1001@shopify/fernleaf': the inverse of `scoped_value`."""
    value, _, where = scoped.partition(SCOPE_MARK)
    return value, where


def is_bare(ident: Identifier) -> bool:
    """An order number or customer id without its shop: what feedback carries ('#1001' in a survey answer)."""
    return ident.kind in SCOPED_KINDS and SCOPE_MARK not in ident.value


def parse_customer_ref(text: str) -> Identifier | None:
    """What a user types on the command line: an email, '#1001', 'order:1001' or 'customer_id:42'."""
    text = text.strip()
    if ":" in text and text.split(":", 1)[0] in IDENTIFIER_KINDS:
        kind, raw = text.split(":", 1)
        return identifier(kind, raw)
    if "@" in text:
        return identifier("email", text)
    if text.startswith("#"):
        return identifier("order", text)
    return identifier("customer_id", text)


# Order numbers are not copied into customer_identifiers: `orders` holds (platform, shop, number) -> buyer.
ORDER_HOLDERS_SQL = (
    "SELECT order_number, platform || '/' || shop, customer_id FROM orders WHERE customer_id IS NOT NULL"
)


def order_holder(db: sqlite_utils.Database, scoped: str) -> int | None:
    """The buyer of '1001@shopify/fernleaf' (a `scoped_value`), read from the order itself."""
    number, scope = split_scoped(scoped)
    platform, _, shop = scope.partition("/")
    row = db.execute(
        "SELECT customer_id FROM orders WHERE platform = ? AND shop = ? AND order_number = ?", [platform, shop, number]
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


class CustomerResolver:
    """Maps identifiers to customer ids, creating and merging customers as needed.

    Loads the identifier table once, then works in memory and writes through; use it inside the
    import's transaction so a failed import leaves no customers behind.
    """

    def __init__(self, db: sqlite_utils.Database, source: str, clock: Clock = utc_now_iso) -> None:
        self.db = db
        self.source = source
        self.clock = clock
        self._ids: dict[tuple[str, str], int] = {
            (kind, value): cid
            for kind, value, cid in db.execute("SELECT kind, value, customer_id FROM customer_identifiers")
        }
        self._index: dict[tuple[str, str], dict[str, int]] | None = None  # built when a bare value is looked up
        self._merged_into: dict[int, int] = {}
        self.created = 0
        self.merged = 0
        self.ambiguous = 0  # bare order numbers left unlinked because several shops' customers hold them

    def live(self, cid: int) -> int:
        """The customer a (possibly merged-away) id now is."""
        while cid in self._merged_into:
            cid = self._merged_into[cid]
        return cid

    @property
    def _scoped(self) -> dict[tuple[str, str], dict[str, int]]:
        """(kind, bare value) -> {'platform/shop': customer}, from the shop-scoped identifiers."""
        if self._index is None:
            self._index = {}
            for (kind, value), cid in self._ids.items():
                self._index_scoped(kind, value, cid)
            for number, scope, cid in self.db.execute(ORDER_HOLDERS_SQL):
                self._index.setdefault(("order", number), {})[scope] = cid
        return self._index

    def _index_scoped(self, kind: str, value: str, cid: int) -> None:
        """Add a shop-scoped identifier to the bare-value index, once that index is built."""
        if self._index is not None and kind in SCOPED_KINDS and SCOPE_MARK in value:
            bare, scope = split_scoped(value)
            self._index.setdefault((kind, bare), {})[scope] = cid

    def _remember(self, kind: str, value: str, cid: int) -> None:
        """An identifier just written for customer `cid`, in memory as it now is in the table."""
        self._ids[(kind, value)] = cid
        self._index_scoped(kind, value, cid)

    def holders(self, kind: str, value: str) -> dict[str, int]:
        """'platform/shop' -> the customer holding order number (or customer id) `value` there."""
        return {scope: self.live(cid) for scope, cid in self._scoped.get((kind, value), {}).items()}

    def owners(self, ident: Identifier) -> set[int]:
        """The customers holding a bare identifier's value in any shop."""
        return set(self.holders(ident.kind, ident.value).values())

    def bare_values(self, kind: str) -> set[str]:
        """Bare order numbers / customer ids (from feedback) attached to someone."""
        return {value for k, value in self._ids if k == kind and SCOPE_MARK not in value}

    def lookup(self, ident: Identifier) -> int | None:
        if is_bare(ident):
            owners = self.owners(ident)
            if len(owners) == 1:
                return next(iter(owners))
            if owners:
                return None  # several shops' customers: do not guess
        cid = self._ids.get((ident.kind, ident.value))
        if cid is None and ident.kind == "order" and SCOPE_MARK in ident.value:
            cid = order_holder(self.db, ident.value)
        return None if cid is None else self.live(cid)

    def resolve(self, identifiers: list[Identifier]) -> int | None:
        """The customer these identifiers belong to (None if there are none)."""
        identifiers = [i for i in identifiers if i is not None]
        kept = []
        for i in identifiers:
            if is_bare(i) and len(self.owners(i)) > 1:
                self.ambiguous += 1
            else:
                kept.append(i)
        identifiers = kept
        if not identifiers:
            return None
        found = sorted({cid for i in identifiers if (cid := self.lookup(i)) is not None})
        if not found:
            customer_id = self._create(identifiers[0])
        else:
            customer_id = found[0]
            for other in found[1:]:
                self.merge(keep=customer_id, drop=other)
        # A bare order number (customer id) that matched a shop's is not stored: the scoped one says it better.
        new = [i for i in identifiers if (i.kind, i.value) not in self._ids and not (is_bare(i) and self.owners(i))]
        if new:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO customer_identifiers (kind, value, customer_id, source) VALUES (?, ?, ?, ?)",
                [(i.kind, i.value, customer_id, self.source) for i in new],
            )
            for i in new:
                self._remember(i.kind, i.value, customer_id)
        return customer_id

    def resolve_many(self, sets: list[tuple[Identifier, ...]]) -> list[int | None]:
        """`resolve` for each set in turn, with the same result; sets that name nobody known yet and share no
        identifier with another set (every buyer of a first import) are created in bulk: one statement for
        their customers and one for their identifiers instead of two per buyer (40k buyers: 1 s)."""
        seen: dict[tuple[str, str], int] = {}
        for idents in sets:
            for i in idents:
                seen[(i.kind, i.value)] = seen.get((i.kind, i.value), 0) + 1
        found: list[int | None] = []
        batch: list[tuple[int, tuple[Identifier, ...]]] = []
        for idents in sets:
            fresh = idents and all(
                seen[(i.kind, i.value)] == 1 and (i.kind, i.value) not in self._ids and not is_bare(i) for i in idents
            )
            if fresh:
                batch.append((len(found), idents))
                found.append(None)
                continue
            self._create_all(batch, found)
            batch = []
            found.append(self.resolve(list(idents)))
        self._create_all(batch, found)
        return found

    def _create_all(self, batch: list[tuple[int, tuple[Identifier, ...]]], found: list[int | None]) -> None:
        if not batch:
            return
        conn = self.db.conn
        first = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM customers").fetchone()[0])
        now = self.clock()
        conn.executemany(
            "INSERT INTO customers (id, display_key, created_at) VALUES (?, ?, ?)",
            ((first + n, _display_key(idents[0]), now)
             for n, (_, idents) in enumerate(batch)),
        )
        rows = [(i.kind, i.value, first + n, self.source) for n, (_, idents) in enumerate(batch) for i in idents]
        conn.executemany("INSERT INTO customer_identifiers (kind, value, customer_id, source) VALUES (?, ?, ?, ?)", rows)
        for kind, value, cid, _ in rows:
            self._remember(kind, value, cid)
        for n, (at, _) in enumerate(batch):
            found[at] = first + n
        self.created += len(batch)

    def attach_orders(self, rows: list[tuple[str, int]]) -> None:
        """Index this import's orders (`scoped_value`, customer) for bare numbers looked up after it. Nothing is
        written: an order's number names its buyer through `orders` itself (its customer_id follows merges)."""
        for value, cid in rows:
            self._index_scoped("order", value, cid)

    def bare_owner(self, kind: str, value: str) -> int | None:
        """Who a bare order number (customer id) from feedback was attached to, if anyone."""
        cid = self._ids.get((kind, value))
        return None if cid is None else self.live(cid)

    def forget_bare(self, kind: str, value: str) -> None:
        self.db.conn.execute("DELETE FROM customer_identifiers WHERE kind = ? AND value = ?", (kind, value))
        self._ids.pop((kind, value), None)

    def _create(self, first: Identifier) -> int:
        cursor = self.db.conn.execute(
            "INSERT INTO customers (display_key, created_at) VALUES (?, ?)", (_display_key(first), self.clock())
        )
        self.created += 1
        return inserted_id(cursor)

    def merge(self, keep: int, drop: int) -> None:
        """Move everything of customer `drop` onto `keep`, then delete `drop`."""
        keep, drop = self.live(keep), self.live(drop)
        if keep == drop:
            return
        conn = self.db.conn
        for table in ("customer_identifiers", "documents", "orders"):
            conn.execute(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (keep, drop))
        # A snapshot scored both halves separately; the merged person is rescored by the next run.
        conn.execute("DELETE FROM rfm_scores WHERE customer_id = ?", (drop,))
        conn.execute("DELETE FROM customers WHERE id = ?", (drop,))
        self._merged_into[drop] = keep
        self.merged += 1


def _display_key(first: Identifier) -> str:
    """What a new customer is shown as: their email, else their first identifier as kind:value."""
    return first.value if first.kind == "email" else first.key


def find_customer_id(db: sqlite_utils.Database, ident: Identifier) -> int | None:
    """The customer an identifier names; a bare order number (customer id) only when one customer holds it."""
    if ident.kind == "order" and not is_bare(ident):
        return order_holder(db, ident.value)
    if is_bare(ident):
        prefix = ident.value + SCOPE_MARK  # '1001@...': an index range, exact (LIKE would ignore case)
        owners = {cid for (cid,) in db.execute(
            "SELECT DISTINCT customer_id FROM customer_identifiers WHERE kind = ? AND value >= ? AND value < ?",
            [ident.kind, prefix, ident.value + chr(ord(SCOPE_MARK) + 1)],
        )}
        if ident.kind == "order":
            owners |= {cid for (cid,) in db.execute(
                "SELECT DISTINCT customer_id FROM orders WHERE order_number = ? AND customer_id IS NOT NULL", [ident.value]
            )}
        if len(owners) == 1:
            return owners.pop()
        if owners:
            return None
    row = db.execute(
        "SELECT customer_id FROM customer_identifiers WHERE kind = ? AND value = ?", [ident.kind, ident.value]
    ).fetchone()
    return int(row[0]) if row else None
