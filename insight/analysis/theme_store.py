"""Reading and writing theme rows for the pipeline (themes.py) and the edits; the CSV export. What screens and
the CLI show of a theme is read by insight.analysis.queries.

Prevalence per window is always recomputed from `unit_themes` (the latest assignment of every unit in a scope),
so runs over one window, runs over everything, and user edits all leave it consistent.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
import sqlite_utils

GROWTH = 1.25  # share ratio beyond which a theme has grown (or, inverted, shrunk)


@dataclass
class StoredTheme:
    id: int
    scope: str
    label: str
    user_label: str | None
    centroid: np.ndarray | None
    size: int
    share: float
    status: str
    merged_into: int | None
    change: str | None
    level: str = "sub"  # parent | sub
    parent_id: int | None = None

    @property
    def display_label(self) -> str:
        return self.user_label or self.label


def change_of(previous: StoredTheme | None, share: float) -> str:
    """new | grown | shrunk | stable, comparing shares (so windows of different volume compare fairly)."""
    if previous is None or previous.status != "active" or previous.share <= 0:
        return "new"
    ratio = share / previous.share
    if ratio >= GROWTH:
        return "grown"
    if ratio <= 1 / GROWTH:
        return "shrunk"
    return "stable"


def centroid_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


@overload
def centroid_from_blob(blob: bytes) -> np.ndarray: ...
@overload
def centroid_from_blob(blob: None) -> None: ...
@overload
def centroid_from_blob(blob: bytes | None) -> np.ndarray | None: ...
def centroid_from_blob(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype="<f4").copy()


def scope_themes(db: sqlite_utils.Database, scope: str) -> list[StoredTheme]:
    rows = db.conn.execute(
        """SELECT id, scope, label, user_label, centroid, size, share, status, merged_into, change, level, parent_id
           FROM themes WHERE scope = ? ORDER BY id""",
        (scope,),
    ).fetchall()
    return [StoredTheme(r[0], r[1], r[2], r[3], centroid_from_blob(r[4]), *r[5:]) for r in rows]


def get_theme(db: sqlite_utils.Database, theme_id: int) -> StoredTheme:
    row = db.conn.execute(
        """SELECT id, scope, label, user_label, centroid, size, share, status, merged_into, change, level, parent_id
           FROM themes WHERE id = ?""",
        (theme_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"no theme with id {theme_id}: `insight themes list` shows the ids")
    return StoredTheme(row[0], row[1], row[2], row[3], centroid_from_blob(row[4]), *row[5:])


def last_run_model(db: sqlite_utils.Database, scope: str) -> str | None:
    row = db.conn.execute("SELECT model FROM theme_runs WHERE scope = ? ORDER BY id DESC LIMIT 1", (scope,)).fetchone()
    return row[0] if row else None


EXPORT_COLUMNS = [
    "unit_id", "document_id", "external_id", "source", "question", "scope", "parent_theme_id", "parent_theme_label",
    "theme_id", "theme_label", "reassigned", "similarity", "sentiment", "sentiment_score", "text",
]


def export_rows(
    db: sqlite_utils.Database, scope: str | None = None, source: str | None = None
) -> Iterator[dict]:
    """One row per analysed unit (and scope it was themed in), with its sub-theme and that sub-theme's parent;
    units never themed have empty theme columns."""
    where, params = ["u.analyse = 1"], []
    if source:
        where.append("d.source = ?")
        params.append(source)
    if scope:
        where.append("ut.scope = ?")
        params.append(scope)
    cursor = db.conn.execute(
        f"""SELECT u.id, d.id, d.external_id, d.source, u.question, ut.scope, t.parent_id,
                   p.display_label, ut.theme_id, t.display_label, ut.reassigned,
                   ut.similarity, u.sentiment, u.sentiment_score, u.text
            FROM units u JOIN documents d ON d.id = u.document_id
            LEFT JOIN unit_themes ut ON ut.unit_id = u.id
            LEFT JOIN themes t ON t.id = ut.theme_id
            LEFT JOIN themes p ON p.id = t.parent_id
            WHERE {" AND ".join(where)} ORDER BY u.id, ut.scope""",
        params,
    )
    for row in cursor:
        record = dict(zip(EXPORT_COLUMNS, row, strict=True))
        record["reassigned"] = "" if record["scope"] is None else int(record["reassigned"] or 0)
        if record["similarity"] is not None:
            record["similarity"] = round(float(record["similarity"]), 4)
        yield record


def export_csv(db: sqlite_utils.Database, out: Path, scope: str | None = None, source: str | None = None) -> int:
    """Write export_rows to a UTF-8 CSV (with BOM, so spreadsheets read accents); returns the row count."""
    count = 0
    with out.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for record in export_rows(db, scope=scope, source=source):
            writer.writerow(record)
            count += 1
    return count
