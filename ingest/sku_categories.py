"""A shop's SKU -> category sheet (`insight segments affinity --categories FILE`): read, checked and stored
in `sku_categories`, where category affinity reads it (it wins over the export's own product types)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ingest.errors import ImportFailure
from ingest.reading import decode, read_bytes, sniff_delimiter
from insight.core.clock import Clock, utc_now_iso
from insight.core.db import transaction


@dataclass(frozen=True)
class CategoryMap:
    source: str
    skus: int
    replaced: int  # SKUs the previous map had


def read_category_map(path: Path) -> dict[str, str]:
    """A CSV of sku,category (a header row 'sku,category' is optional; ';' or tab separators are fine).

    Raises ImportFailure naming the file and line of a bad row (missing sku or category, a SKU mapped twice
    to different categories)."""
    text = decode(path, read_bytes(path)).text
    rows = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text))
    mapping: dict[str, str] = {}
    for number, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and [c.casefold() for c in cells[:2]] == ["sku", "category"]:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise ImportFailure(path, f"{row!r} has no SKU or no category", record=f"line {number}",
                                expected="two columns: sku,category")
        sku, category = cells[0], " ".join(cells[1].split())
        if mapping.get(sku, category) != category:
            raise ImportFailure(path, f"SKU {sku!r} is mapped to {mapping[sku]!r} and to {category!r}",
                                record=f"line {number}", expected="one category per SKU")
        mapping[sku] = category
    if not mapping:
        raise ImportFailure(path, "no rows found", expected="lines of sku,category")
    return mapping


def load_category_map(db: sqlite_utils.Database, path: Path, clock: Clock = utc_now_iso) -> CategoryMap:
    """Store a SKU -> category map, replacing the previous one: the map is the file given last."""
    mapping = read_category_map(path)
    with transaction(db):
        (replaced,) = db.execute("SELECT COUNT(*) FROM sku_categories").fetchone()
        db.conn.execute("DELETE FROM sku_categories")
        now = clock()
        db.conn.executemany("INSERT INTO sku_categories (sku, category, source, loaded_at) VALUES (?, ?, ?, ?)",
                            [(sku, category, str(path), now) for sku, category in mapping.items()])
    return CategoryMap(str(path), len(mapping), int(replaced))
