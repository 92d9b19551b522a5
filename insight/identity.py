"""Customer identity: normalising identifiers and resolving them to one customer row.

Feedback and orders carry different identifiers (an email, a platform customer id, an order number).
Every identifier a record carries is attached to one customer; when a record's identifiers point at two
customers, those customers are merged, so import order never matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlite_utils

from insight.clock import Clock, utc_now_iso

IDENTIFIER_KINDS = ("email", "customer_id", "order")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str | None) -> str | None:
    """Lower-case and trim; None when the value is not an email at all."""
    if not value:
        return None
    email = value.strip().strip("<>").strip().lower()
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
    return text or None


def normalise_customer_id(value: str | float | int | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text or None


_NORMALISERS = {
    "email": normalise_email,
    "customer_id": normalise_customer_id,
    "order": normalise_order_number,
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
        self.created = 0
        self.merged = 0

    def lookup(self, ident: Identifier) -> int | None:
        return self._ids.get((ident.kind, ident.value))

    def resolve(self, identifiers: list[Identifier]) -> int | None:
        """The customer these identifiers belong to (None if there are none)."""
        identifiers = [i for i in identifiers if i is not None]
        if not identifiers:
            return None
        found = sorted({cid for i in identifiers if (cid := self.lookup(i)) is not None})
        if not found:
            customer_id = self._create(identifiers[0])
        else:
            customer_id = found[0]
            for other in found[1:]:
                self.merge(keep=customer_id, drop=other)
        new = [i for i in identifiers if (i.kind, i.value) not in self._ids]
        if new:
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO customer_identifiers (kind, value, customer_id, source) VALUES (?, ?, ?, ?)",
                [(i.kind, i.value, customer_id, self.source) for i in new],
            )
            for i in new:
                self._ids[(i.kind, i.value)] = customer_id
        return customer_id

    def _create(self, first: Identifier) -> int:
        display = first.value if first.kind == "email" else first.key
        cursor = self.db.conn.execute(
            "INSERT INTO customers (display_key, created_at) VALUES (?, ?)", (display, self.clock())
        )
        self.created += 1
        return int(cursor.lastrowid)

    def merge(self, keep: int, drop: int) -> None:
        """Move everything of customer `drop` onto `keep`, then delete `drop`."""
        if keep == drop:
            return
        conn = self.db.conn
        for table in ("customer_identifiers", "documents", "orders"):
            conn.execute(f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (keep, drop))
        # A snapshot scored both halves separately; the merged person is rescored by the next run.
        conn.execute("DELETE FROM rfm_scores WHERE customer_id = ?", (drop,))
        conn.execute("DELETE FROM customers WHERE id = ?", (drop,))
        for key, cid in self._ids.items():
            if cid == drop:
                self._ids[key] = keep
        self.merged += 1
