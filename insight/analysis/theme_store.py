"""Reading and writing theme rows: shared by the pipeline (themes.py), the edits and the CLI.

Prevalence per window is always recomputed from `unit_themes` (the latest assignment of every unit in a scope),
so runs over one window, runs over everything, and user edits all leave it consistent.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import numpy as np
import sqlite_utils

from insight.core.errors import InvalidValue

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


@dataclass
class ThemeInfo:
    """A theme as the CLI shows it."""

    id: int
    scope: str
    label: str
    generated_label: str
    size: int
    share: float
    change: str | None
    status: str
    mean_rating: float | None
    keywords: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    quotes: list[dict] = field(default_factory=list)  # {unit_id, external_id, source, text}
    sources: dict[str, int] = field(default_factory=dict)
    reassigned: int = 0
    prevalence: list[dict] = field(default_factory=list)  # {window_start, units, customers, share}
    merged_into: int | None = None
    kind: str = "topic"  # topic | general
    mentions: int = 0
    customers: int = 0
    sentiment: dict[str, int] = field(default_factory=dict)  # mentions: positive, neutral, negative
    level: str = "sub"  # parent | sub
    parent_id: int | None = None  # a sub-theme's parent
    parent_label: str | None = None
    moved_from: int | None = None  # the parent a sub-theme had before the latest run, when it moved
    children: list[dict] = field(default_factory=list)  # a parent's sub-themes: {id, label, size, share}


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


def member_units(db: sqlite_utils.Database, theme_id: int) -> list[tuple[int, str, str]]:
    """(unit_id, text_hash, text) of the units currently assigned to a theme, by unit id."""
    return db.conn.execute(
        """SELECT u.id, u.text_hash, u.text FROM theme_units ut JOIN units u ON u.id = ut.unit_id
           WHERE ut.theme_id = ? ORDER BY u.id""",
        (theme_id,),
    ).fetchall()


def last_run_model(db: sqlite_utils.Database, scope: str) -> str | None:
    row = db.conn.execute("SELECT model FROM theme_runs WHERE scope = ? ORDER BY id DESC LIMIT 1", (scope,)).fetchone()
    return row[0] if row else None


def _json_list(text: str | None) -> list:
    try:
        value = json.loads(text) if text else []
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


LEVELS = ("parent", "sub")


def list_themes(
    db: sqlite_utils.Database, scope: str | None = None, include_inactive: bool = False, level: str | None = None
) -> list[ThemeInfo]:
    """Themes by scope, as a tree: each parent by size followed by its sub-themes by size (a sub-theme with no
    parent, from before two levels, stands alone). `level` keeps one level only; vanished, merged and split
    themes only when asked."""
    if level is not None and level not in LEVELS:
        raise InvalidValue(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    where, params = [], []
    if scope:
        where.append("t.scope = ?")
        params.append(scope)
    if not include_inactive:
        where.append("t.status = 'active'")
    if level:
        where.append("t.level = ?")
        params.append(level)
    sql = """SELECT t.id, t.scope, t.display_label, t.label, t.size, t.share, t.change, t.status,
                    t.mean_rating, t.keywords, t.phrases, t.merged_into, t.kind, t.mentions, t.customers, t.level,
                    t.parent_id, p.display_label, t.previous_parent_id,
                    t.positive, t.neutral, t.negative
             FROM themes t LEFT JOIN themes p ON p.id = t.parent_id"""
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = [
        ThemeInfo(
            id=r[0], scope=r[1], label=r[2], generated_label=r[3], size=r[4], share=r[5], change=r[6],
            status=r[7], mean_rating=r[8], keywords=_json_list(r[9]), phrases=_json_list(r[10]), merged_into=r[11],
            kind=r[12], mentions=r[13], customers=r[14], level=r[15], parent_id=r[16], parent_label=r[17],
            moved_from=r[18], sentiment={"positive": r[19], "neutral": r[20], "negative": r[21]},
        )
        for r in db.conn.execute(sql, params)
    ]
    return tree_order(rows)


def tree_order(rows: list[ThemeInfo]) -> list[ThemeInfo]:
    """Scope by scope: active before inactive, then each top-level theme by size followed by its sub-themes
    (largest first); a sub-theme whose parent is not in `rows` is placed as a top-level theme."""
    present = {r.id for r in rows}
    by_parent: dict[int, list[ThemeInfo]] = defaultdict(list)
    for r in rows:
        if r.parent_id is not None and r.parent_id in present:
            by_parent[r.parent_id].append(r)

    def key(r: ThemeInfo) -> tuple:
        return (r.scope, r.status != "active", -r.size, r.id)

    out: list[ThemeInfo] = []
    for top in sorted((r for r in rows if r.parent_id is None or r.parent_id not in present), key=key):
        out.append(top)
        out.extend(sorted(by_parent.get(top.id, []), key=key))
    return out


def theme_info(db: sqlite_utils.Database, theme_id: int) -> ThemeInfo:
    """One theme with its quotes' text, sources, reassigned count and prevalence per window."""
    get_theme(db, theme_id)
    row = db.conn.execute(
        """SELECT id, scope, display_label, label, size, share, change, status, mean_rating,
                  keywords, phrases, quotes, merged_into, kind, mentions, customers, positive, neutral, negative,
                  level, parent_id, previous_parent_id
           FROM themes WHERE id = ?""",
        (theme_id,),
    ).fetchone()
    info = ThemeInfo(
        id=row[0], scope=row[1], label=row[2], generated_label=row[3], size=row[4], share=row[5], change=row[6],
        status=row[7], mean_rating=row[8], keywords=_json_list(row[9]), phrases=_json_list(row[10]),
        merged_into=row[12], kind=row[13], mentions=row[14], customers=row[15],
        sentiment={"positive": row[16], "neutral": row[17], "negative": row[18]},
        level=row[19], parent_id=row[20], moved_from=row[21],
    )
    if info.parent_id is not None:
        found_parent = db.conn.execute(
            "SELECT display_label FROM themes WHERE id = ?", (info.parent_id,)
        ).fetchone()
        info.parent_label = found_parent[0] if found_parent else None
    info.children = [
        {"id": r[0], "label": r[1], "size": r[2], "share": r[3], "status": r[4]}
        for r in db.conn.execute(
            """SELECT id, display_label, size, share, status FROM themes
               WHERE parent_id = ? ORDER BY status != 'active', size DESC, id""",
            (theme_id,),
        )
    ]
    quote_ids = [int(i) for i in _json_list(row[11])]
    if quote_ids:
        marks = ",".join("?" * len(quote_ids))
        found = {
            r[0]: {"unit_id": r[0], "external_id": r[1], "source": r[2], "text": r[3], "sentiment": r[4],
                   "document_id": r[5]}
            for r in db.conn.execute(
                f"""SELECT u.id, d.external_id, d.source, u.text, u.sentiment, d.id
                    FROM units u JOIN documents d ON d.id = u.document_id WHERE u.id IN ({marks})""",
                quote_ids,
            )
        }
        info.quotes = [found[i] for i in quote_ids if i in found]
    info.sources = dict(
        db.conn.execute(
            """SELECT d.source, COUNT(DISTINCT d.id) FROM theme_units ut JOIN units u ON u.id = ut.unit_id
               JOIN documents d ON d.id = u.document_id WHERE ut.theme_id = ? GROUP BY d.source ORDER BY 2 DESC""",
            (theme_id,),
        ).fetchall()
    )
    info.reassigned = db.conn.execute(
        "SELECT COUNT(*) FROM theme_units WHERE theme_id = ? AND reassigned = 1", (theme_id,)
    ).fetchone()[0]
    info.prevalence = [
        {"window_start": w, "units": n, "customers": c, "share": s}
        for w, n, c, s in db.conn.execute(
            "SELECT window_start, units, customers, share FROM theme_prevalence WHERE theme_id = ? ORDER BY window_start",
            (theme_id,),
        )
    ]
    return info


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
