"""Which columns of an order export mean what: Shopify, WooCommerce, UCI Online Retail, or a --map.

One place for the format facts. A layout maps canonical field names (below) to column positions; the
order reader in `ingest.orders` only ever asks for canonical fields. Value parsers for money and
timestamps live here too, because their quirks are format facts (Shopify's `2026-10-03 14:22:10 -0500`,
UCI's `12/1/2010 8:26`, European `1.234,50`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ingest.dates import parse_datetime
from ingest.errors import ImportFailure

# Order-level fields: taken from the first line of an order that has them (Shopify fills them on the
# first line only; other exports repeat them on every line).
ORDER_FIELDS = (
    "order", "date", "email", "customer_id", "external_id", "currency", "subtotal", "shipping", "taxes",
    "discount", "total", "refunded", "status", "cancelled_at", "tags", "payment_method",
)
# Line-level fields: one per row.
LINE_FIELDS = ("name", "sku", "quantity", "price", "line_items")
FIELDS = ORDER_FIELDS + LINE_FIELDS
REQUIRED = ("order", "date")
FORMATS = ("shopify", "woocommerce", "online_retail", "generic")
PLATFORM = {"shopify": "shopify", "woocommerce": "woocommerce", "online_retail": "generic", "generic": "generic"}

SHOPIFY_COLUMNS = {
    "order": ["Name"], "date": ["Created at"], "email": ["Email"], "external_id": ["Id"],
    "currency": ["Currency"], "subtotal": ["Subtotal"], "shipping": ["Shipping"], "taxes": ["Taxes"],
    "discount": ["Discount Amount"], "total": ["Total"], "refunded": ["Refunded Amount"],
    "status": ["Financial Status"], "cancelled_at": ["Cancelled at"], "tags": ["Tags"],
    "payment_method": ["Payment Method"], "name": ["Lineitem name"], "sku": ["Lineitem sku"],
    "quantity": ["Lineitem quantity"], "price": ["Lineitem price"],
}
# WooCommerce has no single export: the common plugins (WooCommerce Customer/Order CSV Export,
# Advanced Order Export, WebToffee) label the same data differently. The first alias present wins.
WOOCOMMERCE_COLUMNS = {
    "order": ["Order Number", "Order No", "Order ID", "ID"],
    "external_id": ["Order ID"],
    "date": ["Order Date", "Date Created", "Order Created", "Date"],
    "status": ["Order Status", "Status"],
    "email": ["Billing Email", "Billing Email Address", "Customer Email", "Email"],
    "customer_id": ["Customer User", "Customer User ID", "Customer ID", "User ID"],
    "currency": ["Currency", "Order Currency"],
    "subtotal": ["Order Subtotal", "Order Subtotal Amount", "Subtotal"],
    "shipping": ["Order Shipping", "Shipping Total", "Order Shipping Amount"],
    "taxes": ["Order Total Tax", "Order Total Tax Amount", "Order Tax", "Tax Total", "Total Tax"],
    "discount": ["Cart Discount", "Discount Total", "Order Discount", "Coupon Amount"],
    "total": ["Order Total", "Order Total Amount", "Order Amount", "Total"],
    "refunded": ["Order Refund", "Refunded Total", "Order Refunds", "Refund Amount", "Refunded"],
    "payment_method": ["Payment Method Title", "Payment Method"],
    "name": ["Item Name", "Product Name", "Product", "Item"],
    "sku": ["SKU", "Item SKU", "Product SKU"],
    "quantity": ["Quantity", "Qty", "Item Quantity"],
    "price": ["Item Cost", "Item Price", "Product Price", "Price"],
    "line_items": ["Line Items"],
}
# UCI Online Retail (I and II): the public research data set.
ONLINE_RETAIL_COLUMNS = {
    "order": ["Invoice", "InvoiceNo"], "sku": ["StockCode"], "name": ["Description"],
    "quantity": ["Quantity"], "date": ["InvoiceDate"], "price": ["Price", "UnitPrice"],
    "customer_id": ["Customer ID", "CustomerID"],
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
    woo_customer = {"billing email", "customer user", "billing email address", "customer user id"} & names
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
    for field, aliases in PRESETS.get(fmt_name, {}).items():
        for alias in aliases:
            if normalise_header(alias) in positions:
                columns[field] = positions[normalise_header(alias)]
                break
    for field, names in mapping.items():
        name = names[-1]
        if normalise_header(name) not in positions:
            raise ImportFailure(
                path, f"--map {field}={name}: no column named {name!r}",
                expected="one of " + ", ".join(h.strip() for h in header),
            )
        columns[field] = positions[normalise_header(name)]
    missing = [f for f in REQUIRED if f not in columns]
    if not ({"email", "customer_id"} & set(columns)):
        missing.append("email or customer_id")
    if missing:
        preset = PRESETS.get(fmt_name, {})
        hints = ", ".join(f"{f} ({' / '.join(preset[f])})" if f in preset else f for f in missing)
        raise ImportFailure(path, f"{fmt_name} export without the column(s) for {hints}",
                            record="line 1 (header)", expected="those columns, or --map FIELD=COLUMN")
    return Layout(fmt_name, columns, header)


# --- values -------------------------------------------------------------------------------------

_CURRENCY_MARKS = re.compile(r"^[A-Za-z]{3}(?=[\s\d(+-])|(?<=[\d\s)])[A-Za-z]{3}$|[$€£¥₹\s\u00a0\u202f']")
_NUMBER = re.compile(r"[+-]?\d[\d.,]*")


def parse_amount(text: str) -> float | None:
    """'12.50', '$1,234.50', '1.234,50 €', 'USD 12.00', '(5.00)' -> float; '' -> None; ValueError on garbage."""
    try:
        return float(text)
    except ValueError:
        pass
    cleaned = text.strip()
    if not cleaned:
        return None
    cleaned = _CURRENCY_MARKS.sub("", cleaned)
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not an amount")
    if "," in cleaned and "." in cleaned:
        # The right-most separator is the decimal one.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        cleaned = cleaned.replace(",", "") if len(tail) == 3 and head else head.replace(",", "") + "." + tail
    value = float(cleaned)
    return -value if negative else value


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
        iso = parse_datetime(text, dayfirst=dayfirst)
        if iso is None:
            return None
        moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        return moment.isoformat(), moment.date().isoformat()
    return moment.isoformat(), moment.astimezone(UTC).date().isoformat()
