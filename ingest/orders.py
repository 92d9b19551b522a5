"""`insight import orders`: order exports into the orders/order_lines tables, fast, atomic and idempotent.

Rows are streamed from the file and grouped into orders by order number (Shopify writes one row per
line item with the order-level columns on the first row only). Each order is then classified for RFM:

What counts toward RFM (documented in README and `insight segments --help`):
- cancelled       — a `Cancelled at` date, status cancelled/voided/failed/trash, or a negative total
                    (a credit note, e.g. UCI Online Retail's `C…` invoices). Not counted, not subtracted.
- test            — paid with Shopify's Bogus gateway or tagged `test`.
- unpaid          — WooCommerce `pending`/`checkout-draft`, Shopify `expired`: no money changed hands.
- fully_refunded  — status refunded, or refunds >= total.
- zero_value      — a total of 0 (free replacements, seeding): flagged and not counted.
- no_customer     — no email or customer id to attach it to (common in UCI Online Retail).
The first matching reason is kept. Partial refunds count, with net_revenue = total - refunded.

Writing is one transaction per file: bulk executemany, customers resolved in memory with
`CustomerResolver`; an order already present with the same content hash is a duplicate, a changed one
(e.g. refunded since the last export) is updated in place with its lines replaced.
"""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import sqlite_utils

from ingest.dates import guess_dayfirst
from ingest.errors import ImportFailure, Rejected
from ingest.model import ImportSummary
from ingest.order_formats import (
    LINE_FIELDS,
    ORDER_FIELDS,
    Layout,
    build_layout,
    parse_amount,
    parse_timestamp,
)
from ingest.reading import decode_text, file_sha256, sniff_delimiter
from insight.clock import Clock, utc_now_iso
from insight.db import transaction
from insight.identity import CustomerResolver, Identifier, identifier, normalise_order_number

Progress = Callable[[int], None]
PROGRESS_EVERY = 50_000
_HEAD_BYTES = 65536

CANCELLED_STATUSES = {"cancelled", "canceled", "voided", "failed", "trash"}
# Shopify's `pending` is a real order awaiting a manual payment; WooCommerce's is an abandoned checkout.
UNPAID_STATUSES = {
    "shopify": {"expired"},
    "woocommerce": {"pending", "checkout-draft"},
    "generic": {"unpaid", "expired", "draft"},
}
REFUNDED_STATUSES = {"refunded"}
TEST_TAGS = {"test", "test order"}

Identity = tuple[tuple[Identifier, ...], str, str | None]  # (identifiers, identity key, email)


@dataclass(slots=True)
class OrderDraft:
    """One order as parsed, before it is tied to a customer."""

    order_number: str
    record: str  # 'line 12' (the order's first row)
    created_at: str
    created_day: str
    identifiers: tuple[Identifier, ...]  # email first, then the platform customer id
    identity_key: str  # the identifiers as one string ('' when none): who this order belongs to
    email: str | None
    digest: str  # hash of the order's raw cells: a re-export with the same hash is a duplicate
    external_id: str | None = None
    currency: str | None = None
    subtotal: float | None = None
    shipping: float | None = None
    taxes: float | None = None
    discount: float | None = None
    total: float = 0.0
    refunded: float = 0.0
    financial_status: str | None = None
    cancelled_at: str | None = None
    exclusion_reason: str | None = None
    lines: list[list] = field(default_factory=list)  # LineRow: [order id, position, name, sku, quantity, price]

    @property
    def net_revenue(self) -> float:
        return round(self.total - self.refunded, 2)

    @property
    def counts_for_rfm(self) -> bool:
        return self.exclusion_reason is None


@dataclass
class ParsedOrders:
    path: str
    layout: Layout
    orders: list[OrderDraft]
    rejected: list[Rejected]
    rows_read: int
    notes: list[str] = field(default_factory=list)


# --- reading ------------------------------------------------------------------------------------


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Millions of small tuples and no cycles: the cyclic GC would rescan them over and over (3x slower)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _encoding(path: Path, head: bytes) -> str:
    decode_text(path, head)  # refuses PDFs, images, zips, NUL bytes with a clear message
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return "utf-8"


def _open_head(path: Path) -> bytes:
    if not path.exists():
        raise ImportFailure(path, "file not found")
    if path.is_dir():
        raise ImportFailure(path, "is a folder", expected="a file")
    with open(path, "rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip():
        raise ImportFailure(path, "the file is empty")
    return head


@dataclass(slots=True)
class _Pending:
    """An order while its rows are being collected: raw cells, by ORDER_FIELDS / LINE_FIELDS position."""

    line: int
    values: tuple[str, ...] | list[str]
    missing: list[int]  # order-level fields still empty, to fill from the order's later rows
    lines: list[tuple[str, ...]]


def read_orders(
    path: Path, *, fmt: str | None = None, mapping: dict[str, list[str]] | None = None,
    progress: Progress | None = None,
) -> ParsedOrders:
    """Parse an order export into OrderDrafts (no database). Raises ImportFailure for a bad file."""
    path = Path(path)
    head = _open_head(path)
    encoding = _encoding(path, head)
    with _gc_paused():
        return _read_any_encoding(path, encoding, head, fmt, mapping, progress)


def _read_any_encoding(
    path: Path, encoding: str, head: bytes, fmt: str | None, mapping: dict[str, list[str]] | None,
    progress: Progress | None,
) -> ParsedOrders:
    try:
        return _read(path, encoding, head, fmt, mapping or {}, progress)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise ImportFailure(path, "the file is not valid text", expected="UTF-8, UTF-16 or cp1252") from None
        return _read(path, "cp1252", head, fmt, mapping or {}, progress)  # what Excel writes


def _read(
    path: Path, encoding: str, head: bytes, fmt: str | None, mapping: dict[str, list[str]], progress: Progress | None
) -> ParsedOrders:
    delimiter = sniff_delimiter(head.decode(encoding, errors="replace").lstrip("\ufeff"))
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
            if not header:
                raise ImportFailure(path, "no rows found", expected="a header row and data rows")
            layout = build_layout(str(path), header, fmt, mapping)
            pending, rejected, rows_read = _group(reader, layout, delimiter, progress)
        except csv.Error as exc:
            raise ImportFailure(path, f"malformed CSV: {exc}", record=f"line {reader.line_num}") from None
    orders, more_rejected, notes = _finish(layout, pending)
    return ParsedOrders(str(path), layout, orders, rejected + more_rejected, rows_read, notes)


def _group(
    reader: Iterator[list[str]], layout: Layout, delimiter: str, progress: Progress | None
) -> tuple[dict[str, _Pending], list[Rejected], int]:
    """Collect rows into orders by order number. The hot loop of a 1M-line import: keep it lean."""
    header = layout.header
    width = len(header)
    pad = width  # every row gets one empty cell appended: absent fields read it
    order_cols = [layout.columns.get(f, pad) for f in ORDER_FIELDS]
    get_order = itemgetter(*order_cols)
    get_line = itemgetter(*[layout.columns.get(f, pad) for f in LINE_FIELDS])
    # Shopify fills order-level columns on an order's first row only: nothing to fill from later rows.
    present = [i for i, f in enumerate(ORDER_FIELDS) if layout.has(f)] if layout.format != "shopify" else []
    key_col = layout.columns["order"]
    pending: dict[str, _Pending] = {}
    rejected: list[Rejected] = []
    rows_read = 0
    end = 1
    for row in reader:
        start, end = end + 1, reader.line_num  # type: ignore[attr-defined]
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                continue
            rows_read += 1
            if len(row) > width:
                rejected.append(Rejected(f"line {start}", f"{len(row)} cells but the header has {width} "
                                         f"(a stray '{delimiter}' or quote?)"))
                continue
            row.extend([""] * (width - len(row)))  # Excel drops trailing empty cells
        else:
            rows_read += 1
        row.append("")
        if progress is not None and rows_read % PROGRESS_EVERY == 0:
            progress(rows_read)
        key = row[key_col]
        order = pending.get(key)
        if order is None:
            if not key.strip():
                rejected.append(Rejected(f"line {start}", f"no order number in column {header[key_col]!r}"))
                continue
            values = get_order(row)
            missing = [i for i in present if not values[i]]
            pending[key] = _Pending(start, list(values) if missing else values, missing, [get_line(row)])
            continue
        if order.missing:
            still = []
            for i in order.missing:
                cell = row[order_cols[i]]
                if cell:
                    order.values[i] = cell  # type: ignore[index]
                else:
                    still.append(i)
            order.missing = still
        order.lines.append(get_line(row))
    if progress is not None:
        progress(rows_read)
    return pending, rejected, rows_read


# --- turning raw rows into orders ---------------------------------------------------------------


def _finish(layout: Layout, pending: dict[str, _Pending]) -> tuple[list[OrderDraft], list[Rejected], list[str]]:
    notes: list[str] = []
    first_dates = [p.values[1] for p in pending.values()]
    dayfirst = any("/" in d or "." in d[:6] for d in first_dates[:100]) and guess_dayfirst(first_dates)
    platform = layout.platform
    identities: dict[tuple[str, str], Identity] = {}
    by_number: dict[str, OrderDraft] = {}
    rejected: list[Rejected] = []
    for raw_number, p in pending.items():
        record = f"line {p.line}"
        try:
            draft = _draft(p, record, platform, identities, dayfirst)
        except ValueError as exc:
            rejected.append(Rejected(record, f"order {raw_number.strip()}: {exc}"))
            continue
        if draft.order_number in by_number:  # '#1001' and '1001' in one file: one order
            kept = by_number[draft.order_number].lines
            for line in draft.lines:
                line[1] = len(kept) + 1
                kept.append(line)
            continue
        by_number[draft.order_number] = draft
    return list(by_number.values()), rejected, notes


def _amount(text: str, name: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)  # exports write cents already; no rounding on the fast path
    except ValueError:
        pass
    try:
        value = parse_amount(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not an amount") from None
    return None if value is None else round(value, 2)


def _identity(email_raw: str, customer_raw: str, cache: dict[tuple[str, str], Identity]) -> Identity:
    """Normalised identifiers of a buyer, computed once per distinct (email, customer id) cell pair."""
    key = (email_raw, customer_raw)
    found = cache.get(key)
    if found is None:
        customer = customer_raw.strip()
        if customer == "0":  # WooCommerce writes 0 for guest checkouts
            customer = ""
        email = identifier("email", email_raw)
        idents = tuple(i for i in (email, identifier("customer_id", customer)) if i)
        found = cache[key] = (idents, "|".join(i.key for i in idents), email.value if email else None)
    return found


def _amounts(texts: tuple[str, ...]) -> list[float | None]:
    """subtotal, shipping, taxes, discount, total, refunded: plain floats on the fast path."""
    try:
        return [float(t) if t else None for t in texts]
    except ValueError:
        return [_amount(t, name) for t, name in zip(texts, _AMOUNT_FIELDS, strict=True)]


_AMOUNT_FIELDS = ("subtotal", "shipping", "taxes", "discount", "total", "refunded")


def _draft(
    p: _Pending, record: str, platform: str, identities: dict[tuple[str, str], Identity],
    dayfirst: bool,
) -> OrderDraft:
    (number_raw, date_raw, email_raw, customer_raw, external, currency, subtotal, shipping, taxes, discount, total,
     refunded, status, cancelled, tags, payment) = p.values
    stamp = _shopify_stamp(date_raw) or parse_timestamp(date_raw, dayfirst=dayfirst)
    if stamp is None:
        raise ValueError(f"date {date_raw or '(empty)'!r} is not a date (expected e.g. 2026-10-03 14:22:10 -0500)")
    if number_raw.isdigit():
        number = number_raw
    elif number_raw[:1] == "#" and number_raw[1:].isdigit():
        number = number_raw[1:]
    else:
        number = normalise_order_number(number_raw) or number_raw.strip()
    raw = "\x1f".join(p.values) + "\x1e" + "\x1e".join(map("\x1f".join, p.lines))
    sub, ship, tax, disc, amount, refund = _amounts((subtotal, shipping, taxes, discount, total, refunded))
    lines = _lines(p.lines)
    if amount is None:
        amount = round(sum((line[4] if line[4] is not None else 1.0) * (line[5] or 0.0) for line in lines), 2)
    refund = abs(refund or 0.0)  # WooCommerce writes refunds as negatives
    draft = OrderDraft(
        number, record, stamp[0], stamp[1], *_identity(email_raw, customer_raw, identities),
        hashlib.blake2b(raw.encode(), digest_size=16).hexdigest(),
        external.strip() or None, currency.strip().upper() or None, sub, ship, tax, disc, amount, refund,
        status.strip().lower().removeprefix("wc-") or None, cancelled.strip() or None, None, lines,
    )
    reason = _exclusion(draft, tags, payment, platform)
    if reason is not None:
        if reason == "fully_refunded" and refund < amount:
            draft.refunded = amount  # status says refunded, amount column empty
        draft.exclusion_reason = reason
    return draft


def _shopify_stamp(text: str) -> tuple[str, str] | None:
    """'2026-10-03 14:22:10 -0500' by string arithmetic (3x faster than datetime at 450k orders), else None."""
    if len(text) != 25 or text[19] != " " or text[4] != "-" or text[10] != " ":
        return None
    sign = text[20]
    try:
        offset = int(text[21:23]) * 60 + int(text[23:25])
        local = int(text[11:13]) * 60 + int(text[14:16])
    except ValueError:
        return None
    if sign not in "+-":
        return None
    utc = local - offset if sign == "+" else local + offset
    if not 0 <= utc < 1440:
        return None  # the UTC date differs from the local one: let datetime work it out
    return f"{text[:10]}T{text[11:19]}{sign}{text[21:23]}:{text[23:25]}", text[:10]


def _number(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        try:
            return parse_amount(text)
        except ValueError:
            raise ValueError(f"line item {what} {text!r} is not a number") from None


LineRow = list  # [order_id (set when stored), position, name, sku, quantity, price]: ready for executemany


def _lines(rows: list[tuple[str, ...]]) -> list[LineRow]:
    """Line items as the rows order_lines stores; lists so the store only has to fill in the order id."""
    out: list[LineRow] = []
    for name, sku, quantity, price, combined in rows:
        if combined:
            out.extend(_combined_items(combined, len(out)))
            continue
        try:
            qty = float(quantity) if quantity else None
        except ValueError:
            qty = _number(quantity, "quantity")
        try:
            amount = float(price) if price else None
        except ValueError:
            amount = _number(price, "price")
        if name or sku or qty is not None or amount is not None:
            out.append([None, len(out) + 1, name.strip() or None, sku.strip() or None, qty, amount])
    return out


def _combined_items(cell: str, before: int) -> list[LineRow]:
    """WooCommerce Customer/Order CSV Export's 'name:Tee|sku:T1|quantity:2|total:40.00;name:…' cell."""
    items: list[LineRow] = []
    for part in cell.split(";"):
        fields = dict(kv.split(":", 1) for kv in part.split("|") if ":" in kv)
        if not fields:
            continue
        qty = _number(fields.get("quantity", "").strip(), "quantity")
        total = _number(fields.get("total", "").strip(), "total")
        price = round(total / qty, 2) if total is not None and qty else total
        items.append([None, before + len(items) + 1, fields.get("name", "").strip() or None,
                      fields.get("sku", "").strip() or None, qty, price])
    return items


def _exclusion(draft: OrderDraft, tags: str, payment: str, platform: str) -> str | None:
    status = draft.financial_status or ""
    if draft.cancelled_at or status in CANCELLED_STATUSES or draft.total < 0:
        return "cancelled"
    if (payment and "bogus" in payment.lower()) or (tags and {t.strip().lower() for t in tags.split(",")} & TEST_TAGS):
        return "test"
    if status in UNPAID_STATUSES[platform]:
        return "unpaid"
    if status in REFUNDED_STATUSES or (draft.total > 0 and draft.refunded >= draft.total):
        return "fully_refunded"
    if draft.total == 0:
        return "zero_value"
    if not draft.identifiers:
        return "no_customer"
    return None


# --- writing ------------------------------------------------------------------------------------

_ORDER_COLUMNS = (
    "platform, order_number, external_id, customer_id, email, created_at, created_day, currency, subtotal, "
    "shipping, taxes, discount, total, refunded, net_revenue, financial_status, cancelled_at, counts_for_rfm, "
    "exclusion_reason, batch_id, content_hash"
)


def import_orders(
    db: sqlite_utils.Database,
    path: Path,
    *,
    fmt: str | None,
    mapping: dict[str, list[str]],
    strict: bool,
    progress: Progress | None,
    clock: Clock = utc_now_iso,
) -> ImportSummary:
    """Import one order export atomically; re-importing the same file changes nothing."""
    parsed = read_orders(Path(path), fmt=fmt, mapping=mapping, progress=progress)
    if strict and parsed.rejected:
        first = parsed.rejected[0]
        raise ImportFailure(parsed.path, first.reason, record=first.record)
    return store_orders(db, parsed, clock)


def store_orders(db: sqlite_utils.Database, parsed: ParsedOrders, clock: Clock = utc_now_iso) -> ImportSummary:
    """Write parsed orders in one transaction: insert new, update changed in place, skip unchanged."""
    layout = parsed.layout
    platform = layout.platform
    orders = parsed.orders
    summary = ImportSummary(parsed.path, "orders", layout.format, None, parsed.rows_read, 0, 0, 0,
                            list(parsed.rejected))
    days = [o.created_day for o in orders]
    with _gc_paused(), _big_cache(db), transaction(db):
        conn = db.conn
        batch_id = int(conn.execute(
            """INSERT INTO import_batches (kind, format, file_path, file_sha256, window_start, window_end,
               rows_read, imported_at) VALUES ('orders', ?, ?, ?, ?, ?, ?, ?)""",
            (layout.format, parsed.path, file_sha256(parsed.path), min(days, default=None),
             max(days, default=None), parsed.rows_read, clock()),
        ).lastrowid)
        summary.batch_id = batch_id
        existing = {
            number: (order_id, content_hash)
            for number, order_id, content_hash in conn.execute(
                "SELECT order_number, id, content_hash FROM orders WHERE platform = ?", (platform,)
            )
        }
        changed: list[tuple[OrderDraft, str, int | None]] = []
        for order in orders:
            digest = order.digest
            previous = existing.get(order.order_number)
            if previous is None:
                changed.append((order, digest, None))
            elif previous[1] != digest:
                changed.append((order, digest, previous[0]))
        summary.duplicates = len(orders) - len(changed)
        resolver = CustomerResolver(db, "orders", clock)
        customer_of = _resolve_customers(db, resolver, [o for o, _, _ in changed])
        next_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM orders").fetchone()[0])
        new_rows, update_rows, line_rows, order_idents = [], [], [], []
        for order, digest, order_id in changed:
            customer_id = customer_of[order.identity_key] if order.identity_key else None
            if order_id is None:
                order_id = next_id
                next_id += 1
                target = new_rows
            else:
                target = update_rows
            target.append((
                order_id, platform, order.order_number, order.external_id, customer_id,
                order.email, order.created_at, order.created_day, order.currency,
                order.subtotal, order.shipping, order.taxes, order.discount, order.total, order.refunded,
                order.net_revenue, order.financial_status, order.cancelled_at, int(order.exclusion_reason is None),
                order.exclusion_reason, batch_id, digest,
            ))
            for line in order.lines:
                line[0] = order_id
            line_rows += order.lines
            if customer_id is not None:
                order_idents.append(("order", order.order_number, customer_id, "orders"))
        conn.executemany(f"INSERT INTO orders (id, {_ORDER_COLUMNS}) VALUES ({', '.join('?' * 22)})", new_rows)
        if update_rows:
            conn.executemany("DELETE FROM order_lines WHERE order_id = ?", [(r[0],) for r in update_rows])
            sets = ", ".join(f"{c.strip()} = ?" for c in _ORDER_COLUMNS.split(","))
            conn.executemany(f"UPDATE orders SET {sets} WHERE id = ?", [(*r[1:], r[0]) for r in update_rows])
        conn.executemany(
            "INSERT INTO order_lines (order_id, position, name, sku, quantity, price) VALUES (?, ?, ?, ?, ?, ?)",
            line_rows,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO customer_identifiers (kind, value, customer_id, source) VALUES (?, ?, ?, ?)",
            order_idents,
        )
        summary.imported, summary.updated = len(new_rows), len(update_rows)
        summary.details = _details(parsed, resolver)
        conn.execute(
            """UPDATE import_batches SET rows_imported = ?, rows_updated = ?, rows_duplicate = ?, rows_rejected = ?,
               details = ? WHERE id = ?""",
            (summary.imported, summary.updated, summary.duplicates, len(summary.rejected),
             json.dumps({**summary.details, "rejected": [r.as_dict() for r in summary.rejected[:1000]]}), batch_id),
        )
    return summary


@contextmanager
def _big_cache(db: sqlite_utils.Database, kib: int = 262_144) -> Iterator[None]:
    """A 256 MB page cache while a big import runs (index pages stay in memory: ~15% less CPU)."""
    previous = int(db.conn.execute("PRAGMA cache_size").fetchone()[0])
    db.conn.execute(f"PRAGMA cache_size = -{kib}")
    try:
        yield
    finally:
        db.conn.execute(f"PRAGMA cache_size = {previous}")


def _resolve_customers(
    db: sqlite_utils.Database, resolver: CustomerResolver, orders: list[OrderDraft]
) -> dict[str, int]:
    """Create/merge customers once per distinct identifier set; returns identity_key -> customer id.

    An order number already tied to another customer (e.g. a post-purchase survey imported first) merges
    that customer with the order's buyer, so feedback and orders meet whatever the import order.
    """
    identities: dict[str, tuple[Identifier, ...]] = {}
    for order in orders:
        if order.identity_key and order.identity_key not in identities:
            identities[order.identity_key] = order.identifiers
    for idents in identities.values():
        resolver.resolve(list(idents))
    owned = {value for (value,) in db.conn.execute("SELECT value FROM customer_identifiers WHERE kind = 'order'")}
    for order in orders:
        if order.identity_key and order.order_number in owned:
            ref = Identifier("order", order.order_number)
            if resolver.lookup(ref) != resolver.lookup(order.identifiers[0]):
                resolver.resolve([order.identifiers[0], ref])
    # Looked up after every merge, so each key maps to the customer that survived.
    return {key: resolver.lookup(idents[0]) for key, idents in identities.items()}  # type: ignore[misc]


def _details(parsed: ParsedOrders, resolver: CustomerResolver) -> dict[str, object]:
    excluded: Counter[str] = Counter()
    currencies: Counter[str] = Counter()
    lines = 0
    for order in parsed.orders:
        lines += len(order.lines)
        if order.exclusion_reason is None:
            currencies[order.currency or "unknown"] += 1
        else:
            excluded[order.exclusion_reason] += 1
    days = [o.created_day for o in parsed.orders]
    details: dict[str, object] = {
        "platform": parsed.layout.platform,
        "orders": len(parsed.orders),
        "lines": lines,
        "counting_for_rfm": sum(currencies.values()),
        "excluded": dict(sorted(excluded.items())),
        "currencies": dict(currencies.most_common()),
        "first_order": min(days, default=None),
        "last_order": max(days, default=None),
        "customers_created": resolver.created,
        "customers_merged": resolver.merged,
    }
    if excluded.get("no_customer"):
        details["note"] = f"{excluded['no_customer']:,} orders carry no email or customer id and are not scored"
    if parsed.notes:
        details["note"] = "; ".join([*parsed.notes, str(details.get("note", ""))]).strip("; ")
    return details
