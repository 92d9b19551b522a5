"""Hand-built Shopify order export rows for tests (one line item per order)."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Currency", "Subtotal", "Shipping", "Taxes", "Total",
    "Discount Amount", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku",
    "Billing Name", "Billing Address1", "Billing City", "Billing Zip", "Billing Country", "Billing Phone",
    "Cancelled at", "Payment Method", "Refunded Amount", "Outstanding Balance", "Id",
]


def order(number, email, status, paid_at, total, created, *, phone="", name="", address="", city="", zip_="",
          country="IN", outstanding="0.00", payment="Shopify Payments"):
    row = dict.fromkeys(HEADER, "")
    row.update({
        "Name": f"#{number}", "Email": email, "Financial Status": status, "Paid at": paid_at, "Currency": "INR",
        "Subtotal": total, "Shipping": "0.00", "Taxes": "0.00", "Total": total, "Discount Amount": "0.00",
        "Created at": created, "Lineitem quantity": "1", "Lineitem name": "Kurta", "Lineitem price": total,
        "Lineitem sku": "K-1", "Billing Name": name, "Billing Address1": address, "Billing City": city,
        "Billing Zip": zip_, "Billing Country": country, "Billing Phone": phone, "Payment Method": payment,
        "Refunded Amount": "0.00", "Outstanding Balance": outstanding, "Id": str(9000 + number),
    })
    return row


def write_orders(path: Path, rows: list[dict]) -> Path:
    """A Shopify orders CSV of `rows` (from `order`), one line item each."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path
