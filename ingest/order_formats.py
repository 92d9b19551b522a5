"""Which columns of an order export mean what: Shopify, WooCommerce, UCI Online Retail, or a --map.

One place for the format facts. A layout maps canonical field names (below) to column positions; the
order reader in `ingest.orders` only ever asks for canonical fields. Value parsers for money and
timestamps live here too, because their quirks are format facts (Shopify's `2026-10-03 14:22:10 -0500`,
UCI's `12/1/2010 8:26`, European `1.234,50`), and so do the rules for each order cell (`order_number_cell`,
`timestamp_cell`, `_amount`, `identity_cells`, `_lines`...) and `classify`, which applies the RFM exclusion
rules listed in `ingest.orders` and hashes the order's content. `ingest.order_columns` applies them to
whole columns of a file.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

import numpy as np

from ingest.dates import parse_datetime
from ingest.errors import ImportFailure
from insight.core.identity import (
    Identifier,
    billing_value,
    identifier,
    normalise_order_number,
    normalise_phone,
    scoped_value,
)

# Order-level fields: taken from the first line of an order that has them (Shopify fills them on the
# first line only; other exports repeat them on every line).
BASE_ORDER_FIELDS = (
    "order", "date", "email", "customer_id", "external_id", "currency", "subtotal", "shipping", "taxes",
    "discount", "total", "refunded", "status", "cancelled_at", "tags", "payment_method", "shop",
)
# Read since schema 6: whether a Shopify order was paid, and who a buyer without email or customer id is.
# Kept out of the content hash unless they change what the order is (see `classify`), so orders stored
# before stay duplicates on re-import.
EXTRA_ORDER_FIELDS = (
    "paid_at", "outstanding", "phone", "billing_name", "billing_address", "billing_zip", "billing_city",
    "billing_country",
)
ORDER_FIELDS = BASE_ORDER_FIELDS + EXTRA_ORDER_FIELDS
# Line-level fields: one per row.
LINE_FIELDS = ("name", "sku", "quantity", "price", "line_items", "category", "vendor")
# The last two (category, vendor) came after the content hash was defined: a file without either column gives
# lines of the first five only (LINE_FIELDS_BEFORE), which hash as they always did, so re-importing such an
# export after an upgrade finds its orders unchanged.
LINE_FIELDS_BEFORE = 5
FIELDS = ORDER_FIELDS + LINE_FIELDS
REQUIRED = ("order", "date")
FORMATS = ("shopify", "woocommerce", "online_retail", "generic")
PLATFORM = {"shopify": "shopify", "woocommerce": "woocommerce", "online_retail": "generic", "generic": "generic"}
DEFAULT_SHOP = "default"
# A column naming the shop, when an export (or a merged multi-shop file) carries one; else `--shop NAME`.
SHOP_COLUMNS = ["Shop", "Store", "Shop Name", "Store Name", "Shop Domain", "Store Domain"]

SHOPIFY_COLUMNS = {
    "order": ["Name"], "date": ["Created at"], "email": ["Email"], "external_id": ["Id"],
    "currency": ["Currency"], "subtotal": ["Subtotal"], "shipping": ["Shipping"], "taxes": ["Taxes"],
    "discount": ["Discount Amount"], "total": ["Total"], "refunded": ["Refunded Amount"],
    "status": ["Financial Status"], "cancelled_at": ["Cancelled at"], "tags": ["Tags"],
    "payment_method": ["Payment Method"], "name": ["Lineitem name"], "sku": ["Lineitem sku"],
    "quantity": ["Lineitem quantity"], "price": ["Lineitem price"], "shop": SHOP_COLUMNS,
    "paid_at": ["Paid at"], "outstanding": ["Outstanding Balance"],
    "phone": ["Billing Phone", "Phone"],  # the buyer's; 'Shipping Phone' may be a gift's recipient
    "billing_name": ["Billing Name"], "billing_address": ["Billing Address1", "Billing Street"],
    "billing_zip": ["Billing Zip"], "billing_city": ["Billing City"], "billing_country": ["Billing Country"],
    # The admin export has no product type; apps that export orders (Matrixify, EZ Exporter) add it per line.
    "category": ["Lineitem product type", "Line: Product Type", "Product Type", "Lineitem category"],
    "vendor": ["Vendor", "Lineitem vendor", "Line: Vendor"],
}
# WooCommerce has no single export: the common plugins (WooCommerce Customer/Order CSV Export,
# Advanced Order Export, WebToffee) label the same data differently. The first alias present wins.
WOOCOMMERCE_COLUMNS = {
    "order": ["Order Number", "Order No", "Order ID", "ID"],
    "external_id": ["Order ID"],
    "date": ["Order Date", "Date Created", "Order Created", "Date"],
    "status": ["Order Status", "Status"],
    # 'Email (Billing)': Advanced Order Export For WooCommerce's default field labels.
    "email": ["Billing Email", "Billing Email Address", "Email (Billing)", "Customer Email", "Email"],
    "customer_id": ["Customer User", "Customer User ID", "Customer ID", "User ID"],
    "currency": ["Currency", "Order Currency"],
    "subtotal": ["Order Subtotal", "Order Subtotal Amount", "Subtotal"],  # 'Order Tax Amount' is not all taxes
    "shipping": ["Order Shipping", "Shipping Total", "Order Shipping Amount"],
    "taxes": ["Order Total Tax", "Order Total Tax Amount", "Order Tax", "Tax Total", "Total Tax"],
    "discount": ["Cart Discount", "Cart Discount Amount", "Discount Total", "Order Discount", "Coupon Amount"],
    "total": ["Order Total", "Order Total Amount", "Order Amount", "Total"],
    "refunded": ["Order Refund", "Order Refund Amount", "Refunded Total", "Order Refunds", "Refund Amount", "Refunded"],
    "payment_method": ["Payment Method Title", "Payment Method"],
    "name": ["Item Name", "Product Name", "Product", "Item", "Name"],
    "sku": ["SKU", "Item SKU", "Product SKU"],
    "quantity": ["Quantity", "Qty", "Item Quantity"],
    "price": ["Item Cost", "Item Price", "Product Price", "Price"],
    "line_items": ["Line Items"],
    # 'Skincare > Serums, Gifts' (Woo's product CSV) or one name: see `line_category`.
    "category": ["Product Categories", "Item Category", "Product Category", "Categories", "Category"],
    "shop": SHOP_COLUMNS,
    "phone": ["Billing Phone", "Phone (Billing)", "Billing Phone Number"],
    "billing_name": ["Billing Full Name", "Full Name (Billing)", "Billing Name"],
    "billing_address": ["Billing Address 1", "Address 1 (Billing)", "Billing Address"],
    "billing_zip": ["Billing Postcode", "Postcode (Billing)", "Billing Zip"],
    "billing_city": ["Billing City", "City (Billing)"],
    "billing_country": ["Billing Country", "Country Code (Billing)", "Country (Billing)"],
}
# UCI Online Retail (I and II): the public research data set.
ONLINE_RETAIL_COLUMNS = {
    "order": ["Invoice", "InvoiceNo"], "sku": ["StockCode"], "name": ["Description"],
    "quantity": ["Quantity"], "date": ["InvoiceDate"], "price": ["Price", "UnitPrice"],
    "customer_id": ["Customer ID", "CustomerID"], "shop": SHOP_COLUMNS,
}
PRESETS = {"shopify": SHOPIFY_COLUMNS, "woocommerce": WOOCOMMERCE_COLUMNS, "online_retail": ONLINE_RETAIL_COLUMNS}


def normalise_header(name: str) -> str:
    """'Billing Email', 'billing_email' and ' BILLING-EMAIL ' compare equal."""
    return " ".join(re.sub(r"[_\-]+", " ", name.strip().lstrip("\ufeff")).casefold().split())


@dataclass(frozen=True)
class Layout:
    """Where each canonical field sits in the rows of one file."""

    format: str
    columns: dict[str, int]  # canonical field -> column position
    header: list[str]
    # A used column whose name repeats (a column pasted twice in Excel): its position -> the others'
    duplicates: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @property
    def platform(self) -> str:
        return PLATFORM[self.format]

    def has(self, field: str) -> bool:
        return field in self.columns


def detect_format(header: list[str]) -> str | None:
    names = {normalise_header(h) for h in header}
    if {"name", "financial status", "lineitem name"} <= names:
        return "shopify"
    if ({"invoice", "invoiceno"} & names) and "stockcode" in names and "invoicedate" in names:
        return "online_retail"
    woo_status = {"order status", "status"} & names
    woo_customer = {"billing email", "customer user", "billing email address", "customer user id", "email (billing)"} & names
    woo_order = {"order number", "order id", "order no"} & names
    if woo_order and woo_status and woo_customer:
        return "woocommerce"
    return None


def build_layout(path: str, header: list[str], fmt: str | None, mapping: dict[str, list[str]]) -> Layout:
    """Resolve the columns of `header` for a forced or detected format; a --map means 'generic'.

    With --map, the mapped fields override a preset (so `--format shopify --map email=Contact Email` works).
    """
    if fmt is not None and fmt not in FORMATS:
        raise ImportFailure(path, f"unknown order format {fmt!r}", expected=f"one of {', '.join(FORMATS)}")
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise ImportFailure(
            path, f"--map names unknown field(s) {', '.join(unknown)}", expected=f"fields among {', '.join(FIELDS)}"
        )
    if fmt is not None:
        fmt_name = fmt
    else:
        fmt_name = detect_format(header) or ("generic" if mapping else "")
    if not fmt_name:
        raise ImportFailure(
            path,
            "not a known order export (Shopify, WooCommerce, UCI Online Retail); header: "
            + ", ".join(h.strip() for h in header[:12]),
            expected="--format, or --map order=COLUMN,date=COLUMN,email=COLUMN,total=COLUMN,...",
        )
    positions = {normalise_header(h): i for i, h in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for name, aliases in PRESETS.get(fmt_name, {}).items():
        for alias in aliases:
            if normalise_header(alias) in positions:
                columns[name] = positions[normalise_header(alias)]
                break
    for name, columns_named in mapping.items():
        column = columns_named[-1]
        if normalise_header(column) not in positions:
            raise ImportFailure(
                path, f"--map {name}={column}: no column named {column!r}",
                expected="one of " + ", ".join(h.strip() for h in header),
            )
        columns[name] = positions[normalise_header(column)]
    missing = [f for f in REQUIRED if f not in columns]
    # Who bought: an email or a customer id, else (cash-on-delivery shops) the billing phone or name + address.
    if not ({"email", "customer_id", "phone"} & set(columns) or {"billing_name", "billing_address"} <= set(columns)):
        missing.append("email, customer_id, phone or billing_name + billing_address")
    if missing:
        preset = PRESETS.get(fmt_name, {})
        hints = ", ".join(f"{f} ({' / '.join(preset[f])})" if f in preset else f for f in missing)
        raise ImportFailure(path, f"{fmt_name} export without the column(s) for {hints}",
                            record="line 1 (header)", expected="those columns, or --map FIELD=COLUMN")
    by_name: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        by_name.setdefault(normalise_header(h), []).append(i)
    duplicates = {
        pos: tuple(others[1:]) for pos in set(columns.values())
        if len(others := by_name[normalise_header(header[pos])]) > 1 and normalise_header(header[pos])
    }
    return Layout(fmt_name, columns, header, duplicates)


# --- values -------------------------------------------------------------------------------------

_CURRENCY_MARKS = re.compile(r"^[A-Za-z]{3}(?=[\s\d(+-])|(?<=[\d\s)])[A-Za-z]{3}$|[$€£¥₹\s\u00a0\u202f']")
_NUMBER = re.compile(r"[+-]?\d[\d.,]*")


def parse_amount(text: str) -> float | None:
    """'12.50', '$1,234.50', '1.234,50 €', 'USD 12.00', '(5.00)', '5.00-' -> float; '' -> None; ValueError on
    garbage, on NaN and infinity, and on a sign that contradicts itself ('(-5)', '-5-', '5)')."""
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(value):
            return value
        raise ValueError(f"{text!r} is not an amount")
    cleaned = text.strip()
    if not cleaned:
        return None
    sign = cleaned[0] if cleaned[0] in "+-" else ""  # '-$12.00', '-USD 12.00': the code follows the sign
    cleaned = sign + _CURRENCY_MARKS.sub("", cleaned[len(sign):].lstrip())
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:  # '($12.00)', '$ (12.00)' (Excel's accounting format), '(12.00 USD)'
        cleaned = _CURRENCY_MARKS.sub("", cleaned[1:-1])
    if cleaned.endswith("-"):  # SAP, IBM i: '12.00-'
        if negative:
            raise ValueError(f"{text!r} is not an amount")
        negative, cleaned = True, cleaned[:-1]
    if not _NUMBER.fullmatch(cleaned) or (negative and cleaned[0] in "+-"):
        raise ValueError(f"{text!r} is not an amount")
    if "," in cleaned and "." in cleaned:
        # The right-most separator is the decimal one.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        # '1,234' and '12,345,678' are thousands; '0,500' and '12345,678' are decimals (no group starts with 0).
        grouped = len(tail) == 3 and _THOUSANDS.fullmatch(head.lstrip("+-"))
        cleaned = cleaned.replace(",", "") if grouped else head.replace(",", "") + "." + tail
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not an amount") from None  # '1.234.567'
    return -value if negative else value


_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:,\d{3})*")


# Excel re-saves '2020-03-11 23:38:10 -0500' as '3/11/20 23:38': a two-digit year (and no seconds, no offset).
_SHORT_YEAR = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2})(?=\s|$)")


def expand_short_year(text: str) -> str:
    """'3/11/20 23:38' -> '3/11/2020 23:38' (00-68 are 20xx, 69-99 19xx, as strptime's %y)."""
    match = _SHORT_YEAR.match(text)
    if match is None:
        return text
    year = int(match.group(4))
    full = (2000 if year < 69 else 1900) + year
    return f"{match.group(1)}{match.group(2)}{match.group(3)}{match.group(2)}{full}{text[match.end():]}"


def parse_timestamp(text: str, *, dayfirst: bool = False) -> tuple[str, str] | None:
    """(ISO timestamp as exported, its UTC calendar date), or None when not a date.

    Fast path: `datetime.fromisoformat` reads ISO and Shopify's '2026-10-03 14:22:10 -0500' in ~0.1 us,
    which matters at a million rows; anything else goes through the shared `ingest.dates.parse_datetime`.
    Naive timestamps (no offset) are taken as UTC: the export does not say otherwise.
    """
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        iso = parse_datetime(expand_short_year(text), dayfirst=dayfirst)
        if iso is None:
            return None
        moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        return moment.isoformat(), moment.date().isoformat()
    return moment.isoformat(), moment.astimezone(UTC).date().isoformat()


# --- orders from raw cells: values, classification, content hash ---------------------------------

CANCELLED_STATUSES = {"cancelled", "canceled", "failed", "trash"}
# Money never captured and never coming: an authorization voided, or expired. Never counted.
VOIDED_STATUSES = {"voided", "void"}
UNPAID_STATUSES = {
    "shopify": {"expired"},
    # WooCommerce's `pending` is an abandoned checkout: slugs, and the labels plugins write
    "woocommerce": {"pending", "pending payment", "checkout-draft", "draft"},
    "generic": {"unpaid", "expired", "draft"},
}
# A real order whose money has not arrived (yet): Shopify's `pending` (cash on delivery, bank transfer, a
# manual payment) and `authorized` (a card hold not captured), WooCommerce's `on-hold` (awaiting a transfer).
# Not counted unless the user says so (`insight import orders --count-pending`): in one real export, pending
# orders were 54% of what had been counted as revenue.
AWAITING_STATUSES = {
    "shopify": {"pending": "pending", "unpaid": "pending", "authorized": "authorized"},
    "woocommerce": {"on-hold": "pending", "on hold": "pending"},
    "generic": {"pending": "pending", "authorized": "authorized", "on-hold": "pending"},
}
AWAITING_REASONS = ("pending", "authorized")
PARTIALLY_PAID = "partially_paid"  # Shopify: counted unless nothing was paid (no 'Paid at', balance = total)
REFUNDED_STATUSES = {"refunded"}
TEST_TAGS = {"test", "test order"}

Identity = tuple[tuple[Identifier, ...], str, str | None]  # (identifiers, identity key, email)


@dataclass(slots=True)
class OrderDraft:
    """One order as parsed, before it is tied to a customer."""

    order_number: str
    record: str  # 'line 12' (the order's first row)
    shop: str  # from the export's shop column, else `--shop`, else DEFAULT_SHOP
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
    lines: list[list] = field(default_factory=list)  # LineRow: [order id, position, name, sku, quantity, price, ...]
    counted_pending: bool = False  # awaiting payment, counted because the import said --count-pending
    subscription: bool = False  # tagged as a subscription order (Recharge: 'Subscription Recurring Order')

    @property
    def net_revenue(self) -> float:
        return round(self.total - self.refunded, 2)

    @property
    def counts_for_rfm(self) -> bool:
        return self.exclusion_reason is None


def _amount(text: str, name: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)  # exports write cents already; no rounding on the fast path
    except ValueError:
        pass
    else:
        if math.isfinite(value):
            return value
    try:
        parsed = parse_amount(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not an amount") from None
    return None if parsed is None else round(parsed, 2)


def _identity(
    email_raw: str, customer_raw: str, cache: dict[tuple[str, ...], Identity], platform: str, shop: str,
    fallback: tuple[str, ...] = (),
) -> Identity:
    """Normalised identifiers of a buyer, computed once per distinct (email, customer id, shop) cells.

    The platform's customer id is one shop's numbering (two WooCommerce shops both have a customer 12), so it
    is scoped to the shop like an order number; an email is the person's anywhere. `fallback` (phone, billing
    name, address, postcode, city, country cells) identifies a buyer with neither: their phone, else their
    billing name + address. It is never attached to a buyer who has an email or customer id (a family's or a
    shop counter's phone would merge different people), so such a buyer is found by it only in orders
    without either.
    """
    key: tuple[str, ...] = (email_raw, customer_raw, shop)
    found = cache.get(key)
    if found is None:
        customer = customer_raw.strip()
        if customer == "0":  # WooCommerce writes 0 for guest checkouts
            customer = ""
        email = identifier("email", email_raw)
        platform_id = identifier("customer_id", customer)
        if platform_id is not None:
            platform_id = Identifier("customer_id", scoped_value(platform_id.value, platform, shop))
        idents = tuple(i for i in (email, platform_id) if i)
        found = cache[key] = (idents, "|".join(i.key for i in idents), email.value if email else None)
    if found[0] or not fallback:
        return found
    key = (email_raw, customer_raw, shop, *fallback)  # nobody by email or id ('', 'n/a'): by phone or address
    by_fallback = cache.get(key)
    if by_fallback is None:
        idents = _fallback_identity(*fallback)
        by_fallback = cache[key] = (idents, "|".join(i.key for i in idents), None)
    return by_fallback


def _fallback_identity(phone: str, name: str, address: str, postcode: str, city: str, country: str) -> tuple[Identifier, ...]:
    """A buyer without email or customer id: (phone,) when it is a valid number (read in the billing country),
    else (billing name + address,) when there is a street address, else nobody."""
    if phone.strip():
        number = normalise_phone(phone, country)
        if number is not None:
            return (Identifier("phone", number),)
    billing = billing_value(name, address, postcode, city, country)
    return (Identifier("billing", billing),) if billing else ()


def _amounts(texts: tuple[str, ...]) -> list[float | None]:
    """subtotal, shipping, taxes, discount, total, refunded of one order (`order_columns.numbers` reads whole
    columns of each the same way); ValueError naming the first that is not an amount."""
    return [_amount(t, name) for t, name in zip(texts, AMOUNT_FIELDS, strict=True)]


AMOUNT_FIELDS = ("subtotal", "shipping", "taxes", "discount", "total", "refunded")


def order_number_cell(number_raw: str) -> str:
    """The stored number of an order-number cell: '1001' and '#1001' directly, anything else by `order_number`."""
    if number_raw.isdigit():
        return number_raw if number_raw[0] != "0" else number_raw.lstrip("0") or "0"
    if number_raw[:1] == "#" and number_raw[1:].isdigit() and number_raw[1] != "0":
        return number_raw[1:]
    return order_number(number_raw)


def external_id_cell(cell: str) -> str | None:
    """The platform's id of an order ('7926919'); None for an empty or Excel-rounded one."""
    return cell if cell.isdigit() else _external_id(cell)


def timestamp_cell(text: str, dayfirst: bool) -> tuple[str, str]:
    """(ISO timestamp, UTC day) of an order's date cell; ValueError naming it when it is not a date."""
    stamp = _shopify_stamp(text) or parse_timestamp(text, dayfirst=dayfirst)
    if stamp is None:
        raise ValueError(f"date {text or '(empty)'!r} is not a date (expected e.g. 2026-10-03 14:22:10 -0500)")
    return stamp


def currency_cell(cell: str) -> str | None:
    return cell.strip().upper() or None


def status_cell(cell: str) -> str | None:
    """'Paid', 'wc-completed' -> 'paid', 'completed'."""
    return cell.strip().lower().removeprefix("wc-") or None


def stripped(cell: str) -> str | None:
    return cell.strip() or None


def shop_cell(cell: str, default: str) -> str:
    """An order's shop: its shop cell's, else `default` (the file's `--shop`, else DEFAULT_SHOP)."""
    return (shop_name(cell) or default) if cell else default


def identity_cells(
    email_raw: str, customer_raw: str, shop_raw: str, phone: str, name: str, address: str, postcode: str,
    city: str, country: str, *, cache: dict[tuple[str, ...], Identity], platform: str, shop: str,
) -> Identity:
    """The buyer of an order from its email, customer id, shop and fallback (phone, billing) cells."""
    fallback = (phone, name, address, postcode, city, country)
    return _identity(email_raw, customer_raw, cache, platform, shop_cell(shop_raw, shop),
                     fallback if any(fallback) else ())


def lines_total(lines: list[LineRow]) -> float:
    """An order's total when the export has no total column: its lines (quantity 1 when empty)."""
    return round(sum((line[4] if line[4] is not None else 1.0) * (line[5] or 0.0) for line in lines), 2)


def content_digest(raw: bytes) -> str:
    """The content hash of an order's raw cells: a re-export with the same hash is a duplicate."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def classify(
    draft: OrderDraft, reason: str | None, raw: bytes, tags: str, count_pending: bool = False,
    digest: str | None = None,
) -> None:
    """Set what counts for RFM (`exclusion_reason` from `exclusions`, `counted_pending`, `subscription`) and the
    content hash of the order's raw cells (`raw`: the order cells joined by \\x1f, then each line's, joined by
    \\x1e; `digest`: its `content_digest`, when already computed)."""
    if tags and "subscription" in tags.lower():
        draft.subscription = True
    if reason in AWAITING_REASONS and count_pending:
        reason, draft.counted_pending = None, True
    if reason is not None:
        if reason == "fully_refunded" and draft.refunded < draft.total:
            draft.refunded = draft.total  # status says refunded, amount column empty
        draft.exclusion_reason = reason
    # What the extra columns decide is part of the order's content: an order stored before they were read
    # (or imported without --count-pending) whose reading changes is updated on re-import, others stay duplicates.
    suffix = ""
    if reason in AWAITING_REASONS or draft.counted_pending:
        suffix += f"\x1d{reason or 'counted'}"
    if draft.identifiers and draft.identifiers[0].kind in FALLBACK_KINDS:
        suffix += f"\x1d{draft.identity_key}"
    draft.digest = content_digest(raw + suffix.encode()) if suffix or digest is None else digest


_BASE_WIDTH = len(BASE_ORDER_FIELDS)
FALLBACK_KINDS = ("phone", "billing")


_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")  # '1,001': an order number Excel formatted as a number
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?E\+\d+", re.IGNORECASE)  # '5.00112E+12': digits Excel threw away


def order_number(text: str) -> str:
    """The order number as stored: '#1001', '1001', '1,001', '001001' and 'Order No. 1001' are one number."""
    text = text.strip()
    if _GROUPED.fullmatch(text.lstrip("#")):
        text = text.replace(",", "")
    return normalise_order_number(text) or text


def shop_name(text: str) -> str:
    """'Fernleaf ', 'fernleaf' -> 'fernleaf': one shop however the export or the user spells it."""
    return " ".join(text.split()).casefold()


def _external_id(text: str) -> str | None:
    text = text.strip()
    if not text or _SCIENTIFIC.fullmatch(text):
        return None  # a 13-digit Shopify id that Excel rounded is nobody's id
    return text


_SHOPIFY_STAMP = re.compile(r"(\d{4}-[01]\d-[0-3]\d) ([01]\d|2[0-3]):([0-5]\d):[0-5]\d ([+-])([01]\d|2[0-3])([0-5]\d)",
                            re.ASCII)


def _shopify_stamp(text: str) -> tuple[str, str] | None:
    """'2026-10-03 14:22:10 -0500' by string arithmetic (3x faster than datetime at 450k orders), else None:
    anything else, an impossible date or time ('2026-02-30'), or a UTC day that differs from the local one,
    is left to `parse_timestamp`."""
    match = _SHOPIFY_STAMP.fullmatch(text)
    if match is None or not real_day(match[1]):
        return None
    day, hour, minute, sign, off_hour, off_minute = match.groups()
    offset = int(off_hour) * 60 + int(off_minute)
    local = int(hour) * 60 + int(minute)
    utc = local - offset if sign == "+" else local + offset
    if not 0 <= utc < 1440:
        return None  # the UTC date differs from the local one: let datetime work it out
    return f"{day}T{text[11:19]}{sign}{off_hour}:{off_minute}", day


@lru_cache(maxsize=8192)
def real_day(day: str) -> bool:
    """'2026-10-03' is a day, '2026-02-30' is not (cached: an export spans a few hundred days)."""
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def _number(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        return parse_amount(text)
    except ValueError:
        raise ValueError(f"line item {what} {text!r} is not a number") from None


def _nothing_paid(total: float, outstanding: str) -> bool:
    """A partially_paid order with no 'Paid at': nothing was paid when its balance is the whole total (or the
    export has no 'Outstanding Balance' to say otherwise)."""
    if not outstanding.strip():
        return True
    try:
        balance = parse_amount(outstanding)
    except ValueError:
        return True
    return balance is None or balance >= total > 0


LineRow = list  # [order_id (set when stored), position, name, sku, quantity, price, category, vendor]


def _lines(rows: list[tuple[str, ...]]) -> list[LineRow]:
    """Line items as the rows order_lines stores; lists so the store only has to fill in the order id.
    (`ingest.order_columns` does the same for whole columns of a file without a 'Line Items' column.)"""
    out: list[LineRow] = []
    for name, sku, quantity, price, combined, *more in rows:  # *more: category, vendor (when the file has them)
        if combined:
            out.extend(_combined_items(combined, len(out)))
            continue
        try:
            qty = float(quantity) if quantity else None
            amount = float(price) if price else None
        except ValueError:
            qty, amount = None, math.nan
        if not math.isfinite((qty or 0.0) + (amount or 0.0)):
            qty, amount = _number(quantity, "quantity"), _number(price, "price")  # refuses NaN, names the cell
        if name or sku or qty is not None or amount is not None:
            category, vendor = more or ("", "")
            out.append([None, len(out) + 1, stripped(name), stripped(sku), qty, amount, category_cell(category),
                        vendor_cell(vendor)])
    return out


def category_cell(cell: str) -> str | None:
    return line_category(cell) if cell else None


def vendor_cell(cell: str) -> str | None:
    return (cell.strip() or None) if cell else None


def line_category(cell: str) -> str | None:
    """The one category a line is counted under: the first listed, its most specific level.

    WooCommerce's product CSV writes 'Skincare > Serums, Gifts' (a comma between categories, '>' down a
    hierarchy; plugins use '|' too): that line is a 'Serums' line. A plain 'Serum' stays as it is.
    """
    first = re.split(r"[,|]", cell, maxsplit=1)[0]
    return " ".join(first.rsplit(">", 1)[-1].split()) or None


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
                      fields.get("sku", "").strip() or None, qty, price, None, None])
    return items


def exclusions(
    platform: str, status: list[str | None], cancelled: list[str | None], total: list[float], refunded: list[float],
    tags: list[str], payment: list[str], paid_at: list[str], outstanding: list[str], identified: list[bool],
) -> list[str | None]:
    """Why each order does not count for RFM (None: it counts): the first reason of the list in `ingest.orders`
    that applies. Columns of the orders' values (status lower-cased, amounts read); tests on a cell's text run
    once per distinct text."""
    size = len(status)
    amount, refund = np.asarray(total, dtype=float), np.asarray(refunded, dtype=float)
    state = [s or "" for s in status]

    def each(cells: list[str], test: Callable[[str], object]) -> np.ndarray:
        seen = {cell: test(cell) for cell in set(cells)}
        return np.array([seen[cell] for cell in cells], dtype=object if size == 0 else None).reshape(size)

    awaiting = each(state, lambda s: AWAITING_STATUSES[platform].get(s) or "")
    partly = np.flatnonzero(each(state, lambda s: s == PARTIALLY_PAID) & each(paid_at, lambda p: not p.strip()))
    nothing_paid = np.zeros(size, dtype=bool)
    nothing_paid[partly] = [_nothing_paid(total[i], outstanding[i]) for i in partly.tolist()]
    rules = [
        ("cancelled", (np.array([c is not None for c in cancelled], dtype=bool).reshape(size)
                       | each(state, lambda s: s in CANCELLED_STATUSES) | (amount < 0))),
        ("test", (each(payment, lambda p: bool(p) and "bogus" in p.lower())
                  | each(tags, lambda t: bool(t) and bool({x.strip().lower() for x in t.split(",")} & TEST_TAGS)))),
        ("voided", each(state, lambda s: s in VOIDED_STATUSES)),
        ("unpaid", each(state, lambda s: s in UNPAID_STATUSES[platform])),
        (awaiting, awaiting != ""),
        ("pending", nothing_paid),
        ("fully_refunded", each(state, lambda s: s in REFUNDED_STATUSES) | ((amount > 0) & (refund >= amount))),
        ("zero_value", amount == 0),
        ("no_customer", ~np.array(identified, dtype=bool).reshape(size)),
    ]
    reasons = np.full(size, None, dtype=object)
    decided = np.zeros(size, dtype=bool)
    for reason, applies in rules:  # the first rule that applies wins
        first = np.asarray(applies, dtype=bool) & ~decided
        reasons[first] = reason[first] if isinstance(reason, np.ndarray) else reason
        decided |= first
    return reasons.tolist()
