"""Erasing one customer on request: identifiers, orders, feedback and scores, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from insight.db import transaction
from insight.identity import find_customer_id, parse_customer_ref


@dataclass
class Forgotten:
    customer_id: int | None
    identifiers: int = 0
    documents: int = 0
    units: int = 0
    orders: int = 0


def find_customer(db: sqlite_utils.Database, ref: str) -> int | None:
    ident = parse_customer_ref(ref)
    if ident is None:
        return None
    return find_customer_id(db, ident)


def forget_customer(db: sqlite_utils.Database, ref: str) -> Forgotten:
    """Delete everything tied to the customer `ref` names (an email, '#order', or 'customer_id:ID')."""
    customer_id = find_customer(db, ref)
    result = Forgotten(customer_id)
    if customer_id is None:
        return result
    with transaction(db):
        count = lambda sql: int(db.execute(sql, [customer_id]).fetchone()[0])  # noqa: E731
        result.identifiers = count("SELECT COUNT(*) FROM customer_identifiers WHERE customer_id = ?")
        result.documents = count("SELECT COUNT(*) FROM documents WHERE customer_id = ?")
        result.units = count(
            "SELECT COUNT(*) FROM units WHERE document_id IN (SELECT id FROM documents WHERE customer_id = ?)"
        )
        result.orders = count("SELECT COUNT(*) FROM orders WHERE customer_id = ?")
        db.conn.execute("DELETE FROM documents WHERE customer_id = ?", [customer_id])
        db.conn.execute("DELETE FROM customers WHERE id = ?", [customer_id])
    return result
