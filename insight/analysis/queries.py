"""The read-only query layer the TUI uses: plain functions over SQLite returning dataclasses.

No widget writes SQL; every list is paged (LIMIT/OFFSET over an index or a small aggregate) so a screen
never loads every row of a 100,000-unit database. Connections opened here are read-only with a short busy
timeout: in WAL mode readers never wait for a running import.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from insight.analysis.rfm import (
    Snapshot,
    get_snapshot,
    latest_snapshot,
    previous_snapshot,
    segment_moves,
    segment_numbers,
)
from insight.core.db import MIGRATIONS, DatabaseUnavailable, is_locked, missing_database, schema_version
from insight.core.errors import InvalidValue
from insight.core.scope import Scope

READ_BUSY_MS = 250


# ---------------------------------------------------------------- connections


def connect_read(path: str | Path) -> sqlite_utils.Database:
    """A read-only connection (`mode=ro`) usable from a worker thread. It never creates or migrates: a missing
    file, or one whose schema is older than this insight's, raises DatabaseUnavailable (`insight tui`
    migrates with the writer, `open_existing`, before it starts readers)."""
    path = Path(path)
    if not path.is_file():
        raise missing_database(path)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                           timeout=READ_BUSY_MS / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {READ_BUSY_MS}")
        conn.execute("PRAGMA query_only = ON")
        db = sqlite_utils.Database(conn)
        version = schema_version(db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if isinstance(exc, sqlite3.OperationalError) and is_locked(exc):
            raise
        raise DatabaseUnavailable(f"{path}: not an insight database ({exc})") from None
    if version < MIGRATIONS[-1].version:
        conn.close()
        raise DatabaseUnavailable(
            f"{path}: schema v{version} is older than this insight's v{MIGRATIONS[-1].version}; a read-only "
            "connection does not migrate it (`insight tui` or `insight stats` does, once)")
    return db


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class DbState:
    """What has been done to a database so far: drives the empty state and its next-step hints."""

    documents: int
    units: int
    orders: int
    snapshots: int
    themes: int

    @property
    def empty(self) -> bool:
        return self.documents == 0 and self.orders == 0

    def next_steps(self) -> list[str]:
        steps: list[str] = []
        if self.orders == 0:
            steps.append("insight import orders orders_export.csv")
        if self.documents == 0:
            steps.append("insight import survey|interview|review|ticket FILE")
        if self.snapshots == 0:
            steps.append("insight segments")
        if self.themes == 0:
            steps.append("insight themes")
        if self.empty:
            steps.append("or try everything on the bundled sample: make demo")
        return steps


@dataclass(frozen=True)
class SourceWindow:
    source: str
    window_start: str | None
    documents: int
    units: int
    linked_units: int

    @property
    def linked_share(self) -> float:
        return self.linked_units / self.units if self.units else 0.0


@dataclass(frozen=True)
class ImportRow:
    id: int
    kind: str
    format: str
    file_path: str
    imported_at: str
    imported: int
    updated: int
    duplicates: int
    rejected: int


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    share: float
    revenue: float
    revenue_share: float
    recency_days: float
    frequency: float
    monetary: float


@dataclass(frozen=True)
class ThemeRow:
    id: int
    label: str
    scope: str
    size: int
    share: float
    mean_rating: float | None
    change: str | None
    status: str
    trend: tuple[float, ...] = ()
    kind: str = "topic"  # topic | general
    positive: int = 0  # mentions by sentiment (whole theme)
    negative: int = 0
    neutral: int = 0
    customers: int = 0
    level: str = "sub"  # parent | sub (themes from before schema 5 are subs without a parent)
    parent_id: int | None = None
    moved_from: tuple[int, str] | None = None  # (id, label) of the parent a sub-theme left in the latest run
    subthemes: int = 0  # a parent's active sub-themes
    largest: str | None = None  # the label of a parent's largest sub-theme

    @property
    def expandable(self) -> bool:
        """A parent worth opening in a list: with one sub-theme it would only repeat itself."""
        return self.subthemes > 1


@dataclass(frozen=True)
class ThemeNode:
    """A first-level theme (a parent, or a theme without one), its sub-themes, and whether they are shown."""

    theme: ThemeRow
    subthemes: list[ThemeRow]  # a parent's (with more than one), in the list's order
    open: bool = False

    @property
    def shown(self) -> list[ThemeRow]:
        """The rows a list draws for this node: the theme, and its sub-themes when it is open."""
        return [self.theme, *(self.subthemes if self.open else [])]


@dataclass(frozen=True)
class ThemeTree:
    nodes: list[ThemeNode]
    total: int  # top-level themes under the filter
    offset: int
    windows: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemePage:
    rows: list[ThemeRow]
    total: int
    offset: int
    windows: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeChange:
    id: int
    label: str
    change: str | None
    previous_share: float
    share: float

    @property
    def delta(self) -> float:
        return self.share - self.previous_share


@dataclass(frozen=True)
class Quote:
    unit_id: int
    document_id: int
    text: str
    source: str
    created_at: str | None
    question: str | None
    speaker: str | None
    title: str | None
    rating: float | None
    customer_key: str | None
    score: float | None = None  # similarity to the theme / query, or FTS rank
    sentiment: str | None = None
    external_id: str | None = None  # the document's id in the tool it came from


@dataclass(frozen=True)
class QuotePage:
    rows: list[Quote]
    total: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.rows)
        return end if end < self.total else None


@dataclass(frozen=True)
class TrendPoint:
    window_start: str
    units: int
    customers: int
    share: float


@dataclass(frozen=True)
class ThemeDetail:
    id: int
    label: str
    generated_label: str
    scope: str
    keywords: list[str]
    phrases: list[str]
    size: int
    share: float
    mean_rating: float | None
    change: str | None
    status: str
    merged_into: int | None
    trend: list[TrendPoint]
    representative: list[Quote]
    sources: list[tuple[str, int]]  # documents per source
    kind: str = "topic"
    mentions: int = 0
    customers: int = 0
    reassigned: int = 0
    sentiment: tuple[int, int, int] = (0, 0, 0)  # positive, neutral, negative mentions
    level: str = "sub"
    parent: tuple[int, str] | None = None  # a sub-theme's parent (id, label)
    moved_from: tuple[int, str] | None = None  # the parent it left in the latest run
    subthemes: list[ThemeRow] = field(default_factory=list)  # a parent's, largest first


@dataclass(frozen=True)
class Overview:
    state: DbState
    sources: list[SourceWindow]
    imports: list[ImportRow]
    snapshot: Snapshot | None
    segments: list[SegmentRow]
    top_themes: list[ThemeRow]
    changes: list[ThemeChange]
    windows: tuple[str, str] | None  # (previous, latest) window compared in `changes`


@dataclass(frozen=True)
class FilterOptions:
    sources: list[str]
    questions: list[str]
    windows: list[str]
    segments: list[str]


LEVELS = ("parent", "sub")  # the two levels of a theme tree


@dataclass(frozen=True)
class ThemeFilter:
    """Narrow themes (and quotes) to units of a source, a survey question, a window, or a segment's customers."""

    source: str | None = None
    question: str | None = None
    window: str | None = None
    segment: str | None = None
    text: str | None = None  # label contains
    scope: str | None = None
    include_inactive: bool = False
    top_level: bool = False  # only parents and the themes without a parent (a tree's first level)
    parents: tuple[int, ...] = ()  # only the sub-themes of these parents
    level: str | None = None  # only 'parent' or only 'sub' themes

    @property
    def needs_units(self) -> bool:
        return bool(self.source or self.question or self.segment)


@dataclass(frozen=True)
class MoveCount:
    """How many customers moved from one segment to another between two snapshots (rfm.Transition is one
    customer's move)."""

    from_segment: str
    to_segment: str
    customers: int


@dataclass(frozen=True)
class DocUnit:
    id: int
    position: int
    kind: str
    question: str | None
    speaker: str | None
    role: str
    analyse: bool
    turn: int | None
    text: str
    started_at: str | None
    passage: int | None = None  # mentions of one passage (an answer, a message) share it
    continued: bool = False  # a later mention of the same passage as the unit before
    sentiment: str | None = None


@dataclass(frozen=True)
class DocumentView:
    id: int
    source: str
    external_id: str
    format: str
    title: str | None
    created_at: str | None
    rating: float | None
    customer_key: str | None
    metadata: dict[str, Any]
    units: list[DocUnit] = field(default_factory=list)


@dataclass(frozen=True)
class LiftCell:
    lift: float
    significant: bool
    customers: int


@dataclass(frozen=True)
class LiftMatrix:
    """Segment x theme lift, rows = themes (most over-indexed first), columns = segments."""

    segments: list[str]
    themes: list[tuple[int, str]]
    cells: dict[tuple[int, str], LiftCell]


# ---------------------------------------------------------------- overview


def _one(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> Any:
    row = db.execute(sql, list(params)).fetchone()
    return row[0] if row else None


def db_state(db: sqlite_utils.Database) -> DbState:
    count = lambda table: int(_one(db, f"SELECT COUNT(*) FROM {table}"))  # noqa: E731
    return DbState(
        documents=count("documents"),
        units=count("units"),
        orders=count("orders"),
        snapshots=count("rfm_snapshots"),
        themes=count("themes"),
    )


def sources_by_window(db: sqlite_utils.Database) -> list[SourceWindow]:
    rows = db.execute(
        """SELECT d.source, d.window_start, COUNT(DISTINCT d.id), COUNT(u.id),
                  SUM(CASE WHEN d.customer_id IS NOT NULL THEN 1 ELSE 0 END)
           FROM documents d JOIN units u ON u.document_id = d.id AND u.analyse = 1
           GROUP BY d.source, d.window_start ORDER BY d.source, d.window_start"""
    )
    return [SourceWindow(s, w, int(docs), int(units), int(linked or 0)) for s, w, docs, units, linked in rows]


def recent_imports(db: sqlite_utils.Database, limit: int = 8) -> list[ImportRow]:
    rows = db.execute(
        """SELECT id, kind, format, file_path, imported_at, rows_imported, rows_updated, rows_duplicate, rows_rejected
           FROM import_batches ORDER BY imported_at DESC, id DESC LIMIT ?""",
        [limit],
    )
    return [ImportRow(*row) for row in rows]


def snapshots(db: sqlite_utils.Database) -> list[Snapshot]:
    return [s for row in db.execute("SELECT id FROM rfm_snapshots ORDER BY as_of") if (s := get_snapshot(db, row[0]))]


def segment_table(db: sqlite_utils.Database, snapshot_id: int | None = None) -> list[SegmentRow]:
    """RFM segments of a snapshot (latest by default), largest first."""
    if snapshot_id is None:
        latest = latest_snapshot(db)
        if latest is None:
            return []
        snapshot_id = latest.id
    rows = sorted(segment_numbers(db, snapshot_id).values(), key=lambda n: (-n.customers, n.name))
    return [
        SegmentRow(segment=n.name, customers=n.customers, share=n.share, revenue=float(n.revenue),
                   revenue_share=n.revenue_share, recency_days=n.mean_recency_days or 0.0,
                   frequency=n.mean_frequency or 0.0, monetary=n.mean_monetary or 0.0)
        for n in rows
    ]


def segment_names(db: sqlite_utils.Database) -> list[str]:
    return [row.segment for row in segment_table(db)]


def windows(db: sqlite_utils.Database) -> list[str]:
    """Every window that has theme prevalence (else documents), oldest first."""
    found = [r[0] for r in db.execute("SELECT DISTINCT window_start FROM theme_prevalence ORDER BY window_start")]
    if found:
        return found
    return [r[0] for r in db.execute(
        "SELECT DISTINCT window_start FROM documents WHERE window_start IS NOT NULL ORDER BY window_start"
    )]


def filter_options(db: sqlite_utils.Database) -> FilterOptions:
    sources = [r[0] for r in db.execute("SELECT DISTINCT source FROM documents ORDER BY source")]
    questions = [r[0] for r in db.execute(
        "SELECT DISTINCT question FROM units WHERE question IS NOT NULL ORDER BY question"
    )]
    return FilterOptions(sources, questions, windows(db), segment_names(db))


def theme_changes(
    db: sqlite_utils.Database, limit: int = 8, min_units: int = 5
) -> tuple[list[ThemeChange], tuple[str, str] | None]:
    """Themes whose share moved most between the last two windows (ignoring themes with too few units to tell).
    Sub-themes only: a parent moves with them, and listing both would say the same thing twice."""
    known = windows(db)
    if len(known) < 2:
        return [], None
    previous, latest = known[-2], known[-1]
    rows = db.execute(
        """SELECT t.id, t.display_label, t.change,
                  COALESCE(MAX(CASE WHEN p.window_start = :prev THEN p.share END), 0),
                  COALESCE(MAX(CASE WHEN p.window_start = :last THEN p.share END), 0)
           FROM theme_prevalence p JOIN themes t ON t.id = p.theme_id
           WHERE p.window_start IN (:prev, :last) AND t.status != 'merged' AND t.level = 'sub'
           GROUP BY t.id HAVING MAX(p.documents) >= :min_units ORDER BY ABS(
               COALESCE(MAX(CASE WHEN p.window_start = :last THEN p.share END), 0)
             - COALESCE(MAX(CASE WHEN p.window_start = :prev THEN p.share END), 0)) DESC, t.id
           LIMIT :limit""",
        {"prev": previous, "last": latest, "limit": limit, "min_units": min_units},
    )
    return [ThemeChange(i, label, change, float(p), float(s)) for i, label, change, p, s in rows], (previous, latest)


def overview(db: sqlite_utils.Database, top: int = 8) -> Overview:
    state = db_state(db)
    changes, compared = theme_changes(db)
    return Overview(
        state=state,
        sources=sources_by_window(db),
        imports=recent_imports(db),
        snapshot=latest_snapshot(db),
        segments=segment_table(db),
        top_themes=list_themes(db, ThemeFilter(top_level=True), limit=top).rows,
        changes=changes,
        windows=compared,
    )


# ---------------------------------------------------------------- themes

THEME_SORTS = {
    "size": "size",
    "share": "share",
    "label": "label COLLATE NOCASE",
    "rating": "COALESCE(mean_rating, -1)",
    "change": "COALESCE(change, '')",
    "scope": "scope",
    "id": "id",
}


def _unit_conditions(filt: ThemeFilter, params: dict[str, Any]) -> list[str]:
    """WHERE clauses over units u / documents d for the unit-level filters."""
    where = ["u.analyse = 1"]
    if filt.source:
        where.append("d.source = :source")
        params["source"] = filt.source
    if filt.question:
        where.append("u.question = :question")
        params["question"] = filt.question
    if filt.window:
        where.append("d.window_start = :window")
        params["window"] = filt.window
    if filt.segment:
        where.append(
            "d.customer_id IN (SELECT customer_id FROM latest_rfm_scores WHERE segment = :segment)"
        )
        params["segment"] = filt.segment
    return where


# A theme's place in the tree, added to every list's columns.
TREE_COLUMNS = """t.level AS level, t.parent_id AS parent_id,
                  CASE WHEN t.previous_parent_id IS NOT t.parent_id THEN t.previous_parent_id END AS moved_from"""


def _tree_conditions(filt: ThemeFilter, params: dict[str, Any]) -> list[str]:
    """WHERE clauses over themes t for the filter's level, parents and label text."""
    where: list[str] = []
    label_match = "{t}.display_label LIKE :text"
    if filt.text:
        params["text"] = f"%{filt.text}%"
    if filt.top_level:
        # A sub-theme whose parent is gone (merged away, vanished) stays in the list at the first level.
        where.append("(t.parent_id IS NULL OR t.parent_id NOT IN (SELECT id FROM themes WHERE status = 'active'))")
        if filt.text:  # a parent is listed for its own label or for one of its sub-themes'
            where.append(f"""({label_match.format(t="t")} OR EXISTS (
                SELECT 1 FROM themes c WHERE c.parent_id = t.id AND c.status = 'active'
                AND {label_match.format(t="c")}))""")
    elif filt.text:
        where.append(label_match.format(t="t"))
    if filt.parents:
        params.update({f"parent{i}": p for i, p in enumerate(filt.parents)})
        where.append(f"t.parent_id IN ({','.join(f':parent{i}' for i in range(len(filt.parents)))})")
    if filt.level:
        params["level"] = filt.level
        where.append("t.level = :level")
    return where


def list_themes(
    db: sqlite_utils.Database,
    filt: ThemeFilter = ThemeFilter(),
    *,
    sort: str = "size",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> ThemePage:
    """One page of themes with size/share (within the filter), mean rating, change and a trend over windows;
    parents are counted over their sub-themes' mentions (the theme_units view). `limit` -1: every theme."""
    order = THEME_SORTS.get(sort)
    if order is None:
        raise InvalidValue(f"unknown sort {sort!r}; expected one of {', '.join(THEME_SORTS)}")
    if filt.level is not None and filt.level not in LEVELS:
        raise InvalidValue(f"level must be one of {', '.join(LEVELS)}, not {filt.level!r}")
    direction = "DESC" if descending else "ASC"
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    theme_where = ["1 = 1" if filt.include_inactive else "t.status = 'active'"] + _tree_conditions(filt, params)
    if filt.scope:
        theme_where.append("t.scope = :scope")
        params["scope"] = filt.scope
    if filt.needs_units:
        unit_where = " AND ".join(_unit_conditions(filt, params) + (["ut.scope = :scope"] if filt.scope else []))
        base = f"""
            WITH mentions AS MATERIALIZED (  -- every analysed mention under the filter, themed or not
                SELECT ut.theme_id AS theme_id, t.parent_id AS parent_id,
                       d.id AS document_id, d.rating AS rating, u.sentiment AS sentiment,
                       COALESCE('c' || d.customer_id, 'd' || d.id) AS who
                FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
                LEFT JOIN themes t ON t.id = ut.theme_id
                WHERE {unit_where}
            ), assigned AS MATERIALIZED (
                -- each mention in its sub-theme and in that sub-theme's parent, as the theme_units view has them;
                -- read from unit_themes here because SQLite materialises the whole view before it can use the
                -- filter's indexes (1.1 s against 74 ms for one segment of the 100,000-mention bench database)
                SELECT theme_id, document_id, rating, sentiment, who FROM mentions WHERE theme_id IS NOT NULL
                UNION ALL
                SELECT parent_id, document_id, rating, sentiment, who FROM mentions WHERE parent_id IS NOT NULL
            ), ratings AS (  -- over documents, each once per theme
                SELECT theme_id, AVG(rating) AS mean_rating
                FROM (SELECT DISTINCT theme_id, document_id, rating FROM assigned) GROUP BY theme_id
            ), counted AS (
                SELECT a.theme_id AS theme_id, COUNT(DISTINCT a.document_id) AS size, r.mean_rating AS mean_rating,
                       SUM(a.sentiment = 'positive') AS positive, SUM(a.sentiment = 'negative') AS negative,
                       SUM(a.sentiment = 'neutral') AS neutral, COUNT(DISTINCT a.who) AS customers
                FROM assigned a JOIN ratings r ON r.theme_id = a.theme_id GROUP BY a.theme_id
            ), pool AS (SELECT COUNT(DISTINCT document_id) AS n FROM mentions)
            SELECT * FROM (
                SELECT t.id AS id, t.display_label AS label, t.scope AS scope, c.size AS size,
                       CAST(c.size AS REAL) / MAX((SELECT n FROM pool), 1) AS share, c.mean_rating AS mean_rating,
                       t.change AS change, t.status AS status, t.kind AS kind, c.positive AS positive,
                       c.negative AS negative, c.neutral AS neutral, c.customers AS customers, {TREE_COLUMNS}
                FROM counted c JOIN themes t ON t.id = c.theme_id WHERE {' AND '.join(theme_where)}
            )"""
    elif filt.window:
        params["window"] = filt.window
        base = f"""SELECT * FROM (
                SELECT t.id AS id, t.display_label AS label, t.scope AS scope, p.documents AS size,
                       p.share AS share, t.mean_rating AS mean_rating, t.change AS change, t.status AS status,
                       t.kind AS kind, t.positive AS positive, t.negative AS negative, t.neutral AS neutral,
                       p.customers AS customers, {TREE_COLUMNS}
                FROM themes t JOIN theme_prevalence p ON p.theme_id = t.id AND p.window_start = :window
                WHERE {' AND '.join(theme_where)})"""
    else:
        base = f"""SELECT * FROM (
                SELECT t.id AS id, t.display_label AS label, t.scope AS scope, t.size AS size,
                       t.share AS share, t.mean_rating AS mean_rating, t.change AS change, t.status AS status,
                       t.kind AS kind, t.positive AS positive, t.negative AS negative, t.neutral AS neutral,
                       t.customers AS customers, {TREE_COLUMNS}
                FROM themes t WHERE {' AND '.join(theme_where)})"""
    # the page carries the total (counted before LIMIT), so the filter's work is done once; an empty page asks
    sql = f"SELECT *, COUNT(*) OVER () FROM ({base}) ORDER BY {order} {direction}, id LIMIT :limit OFFSET :offset"
    found = db.execute(sql, params).fetchall()
    rows = [r[:-1] for r in found]
    total = int(found[0][-1]) if found else int(db.execute(f"SELECT COUNT(*) FROM ({base})", params).fetchone()[0])
    known = tuple(windows(db))
    ids = [int(r[0]) for r in rows]
    trends = theme_trends(db, ids, known)
    children = _subtheme_summary(db, [int(r[0]) for r in rows if r[13] == "parent"])
    moved = _labels(db, [int(r[15]) for r in rows if r[15] is not None])
    return ThemePage(
        rows=[
            ThemeRow(int(i), label, scope, int(size or 0), float(share or 0), rating, change, status,
                     trends.get(int(i), ()), kind or "topic", int(pos or 0), int(neg or 0), int(neu or 0),
                     int(cust or 0), level or "sub", parent, (int(left), moved[int(left)]) if left is not None else None,
                     *children.get(int(i), (0, None)))
            for i, label, scope, size, share, rating, change, status, kind, pos, neg, neu, cust, level, parent, left
            in rows
        ],
        total=total,
        offset=offset,
        windows=known,
    )


def _subtheme_summary(db: sqlite_utils.Database, parent_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """For each parent: how many active sub-themes it has and the label of the largest."""
    if not parent_ids:
        return {}
    marks = ",".join("?" * len(parent_ids))
    rows = db.execute(
        f"""SELECT parent_id, n, label FROM (
                SELECT parent_id, COUNT(*) OVER (PARTITION BY parent_id) AS n, display_label AS label,
                       ROW_NUMBER() OVER (PARTITION BY parent_id ORDER BY size DESC, id) AS rank
                FROM themes WHERE parent_id IN ({marks}) AND status = 'active')
            WHERE rank = 1""",
        list(parent_ids),
    )
    return {int(p): (int(n), label) for p, n, label in rows}


def _labels(db: sqlite_utils.Database, theme_ids: Sequence[int]) -> dict[int, str]:
    """Labels by id; a theme no longer stored reads as its number."""
    found = {i: f"#{i}" for i in theme_ids}
    if theme_ids:
        marks = ",".join("?" * len(theme_ids))
        found.update(db.execute(
            f"SELECT id, display_label FROM themes WHERE id IN ({marks})", list(theme_ids)
        ).fetchall())
    return found


def theme_tree(
    db: sqlite_utils.Database,
    filt: ThemeFilter = ThemeFilter(),
    *,
    sort: str = "size",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
    expand: Iterable[int] | None = None,
) -> ThemeTree:
    """A page of the first level (parents, and themes without one), each parent with its sub-themes in the
    same order (two queries a page, so a list opens a parent without asking again). The parents in `expand`
    are open (all when None), and so is a parent listed only because one of its sub-themes matches the label
    text, so the match is in sight. A parent with a single sub-theme has none listed: it would repeat it."""
    top = list_themes(db, replace(filt, top_level=True, parents=()), sort=sort, descending=descending,
                      limit=limit, offset=offset)
    parents = tuple(row.id for row in top.rows if row.expandable)
    below: dict[int, list[ThemeRow]] = {}
    if parents:
        subs = list_themes(db, replace(filt, text=None, top_level=False, parents=parents), sort=sort,
                           descending=descending, limit=-1)
        for row in subs.rows:
            below.setdefault(row.parent_id or 0, []).append(row)
    wanted = None if expand is None else set(expand)
    text = (filt.text or "").casefold()

    def is_open(row: ThemeRow) -> bool:
        return wanted is None or row.id in wanted or bool(text and text not in row.label.casefold())

    nodes = [ThemeNode(row, below.get(row.id, []), row.id in below and is_open(row)) for row in top.rows]
    return ThemeTree(nodes, top.total, offset, top.windows)


def theme_listing(db: sqlite_utils.Database, filt: ThemeFilter = ThemeFilter()) -> list[ThemeRow]:
    """Every theme under the filter as a tree, for a listing read top to bottom (`insight themes list`):
    scope by scope, active before inactive, each first-level theme by size followed by its sub-themes
    (largest first); a sub-theme whose parent is not listed stands at the first level."""
    rows = list_themes(db, filt, limit=-1).rows
    present = {r.id for r in rows}
    below: dict[int, list[ThemeRow]] = {}
    for r in rows:
        if r.parent_id is not None and r.parent_id in present:
            below.setdefault(r.parent_id, []).append(r)

    def key(r: ThemeRow) -> tuple[str, bool, int, int]:
        return (r.scope, r.status != "active", -r.size, r.id)

    out: list[ThemeRow] = []
    for top in sorted((r for r in rows if r.parent_id not in present), key=key):
        out.append(top)
        out.extend(sorted(below.get(top.id, []), key=key))
    return out


def theme_trends(
    db: sqlite_utils.Database, theme_ids: Iterable[int], known_windows: Sequence[str] | None = None
) -> dict[int, tuple[float, ...]]:
    """Share per window (oldest first, 0 where absent) for each theme id."""
    ids = list(theme_ids)
    if not ids:
        return {}
    known = list(known_windows if known_windows is not None else windows(db))
    position = {w: i for i, w in enumerate(known)}
    series = {i: [0.0] * len(known) for i in ids}
    marks = ",".join("?" * len(ids))
    for theme_id, window, share in db.execute(
        f"SELECT theme_id, window_start, share FROM theme_prevalence WHERE theme_id IN ({marks})", ids
    ):
        if window in position:
            series[theme_id][position[window]] = float(share)
    return {i: tuple(values) for i, values in series.items()}


def _json_list(text: str | None) -> list[Any]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def scope_source(scope: str) -> str | None:
    """The one source a theme scope draws from ('survey: <question>' -> survey); None for the pooled 'all'."""
    return Scope.parse(scope).source


def theme_detail(db: sqlite_utils.Database, theme_id: int) -> ThemeDetail | None:
    row = db.execute(
        """SELECT id, display_label, label, scope, keywords, phrases, quotes, size, share, mean_rating,
                  change, status, merged_into, kind, mentions, customers, reassigned, positive, neutral, negative,
                  level, parent_id, CASE WHEN previous_parent_id IS NOT parent_id THEN previous_parent_id END
           FROM themes WHERE id = ?""",
        [theme_id],
    ).fetchone()
    if row is None:
        return None
    (tid, label, generated, scope, keywords, phrases, quote_ids, size, share, rating, change, status, merged,
     kind, mentions, customers, reassigned, positive, neutral, negative, level, parent_id, moved_from) = row
    family = _labels(db, [i for i in (parent_id, moved_from) if i is not None])
    subthemes = list_themes(db, ThemeFilter(parents=(int(tid),)), limit=-1).rows if level == "parent" else []
    trend = [
        TrendPoint(w, int(u), int(c), float(s))
        for w, u, c, s in db.execute(
            "SELECT window_start, units, customers, share FROM theme_prevalence WHERE theme_id = ? ORDER BY window_start",
            [theme_id],
        )
    ]
    wanted = [int(i) for i in _json_list(quote_ids) if isinstance(i, int | str) and str(i).isdigit()]
    by_id = {q.unit_id: q for q in quotes_by_ids(db, wanted)}
    only = scope_source(scope)
    if only is not None and size:  # one source: no need to look at every unit
        sources = [(only, int(size))]
    else:
        sources = [
            (s, int(n))
            for s, n in db.execute(
                """SELECT d.source, COUNT(DISTINCT d.id) FROM theme_units ut JOIN units u ON u.id = ut.unit_id
                   JOIN documents d ON d.id = u.document_id WHERE ut.theme_id = ?
                   GROUP BY d.source ORDER BY COUNT(DISTINCT d.id) DESC""",
                [theme_id],
            )
        ]
    return ThemeDetail(
        id=int(tid), label=label, generated_label=generated, scope=scope,
        keywords=[str(k) for k in _json_list(keywords)], phrases=[str(p) for p in _json_list(phrases)],
        size=int(size), share=float(share), mean_rating=rating, change=change, status=status, merged_into=merged,
        trend=trend, representative=[by_id[i] for i in wanted if i in by_id], sources=sources,
        kind=kind or "topic", mentions=int(mentions or 0), customers=int(customers or 0),
        reassigned=int(reassigned or 0), sentiment=(int(positive or 0), int(neutral or 0), int(negative or 0)),
        level=level or "sub", parent=(int(parent_id), family[parent_id]) if parent_id is not None else None,
        moved_from=(int(moved_from), family[moved_from]) if moved_from is not None else None, subthemes=subthemes,
    )


QUOTE_COLUMNS = """u.id, u.document_id, u.text, d.source, COALESCE(u.started_at, d.created_at), u.question, u.speaker,
                   d.title, d.rating, d.customer_key, u.sentiment, d.external_id"""
QUOTE_WIDTH = 12  # columns in QUOTE_COLUMNS


def _quote(row: Sequence[Any], score: float | None = None) -> Quote:
    """A QUOTE_COLUMNS row (a further column, when there is one, is its score)."""
    unit_id, document_id, text, source, created_at, question, speaker, title, rating, customer_key = row[:10]
    return Quote(unit_id, document_id, text, source, created_at, question, speaker, title, rating, customer_key,
                 score=score if score is not None else (row[QUOTE_WIDTH] if len(row) > QUOTE_WIDTH else None),
                 sentiment=row[10], external_id=row[11])


def quotes_by_ids(db: sqlite_utils.Database, unit_ids: Sequence[int]) -> list[Quote]:
    if not unit_ids:
        return []
    marks = ",".join("?" * len(unit_ids))
    rows = db.execute(
        f"SELECT {QUOTE_COLUMNS} FROM units u JOIN documents d ON d.id = u.document_id WHERE u.id IN ({marks})",
        list(unit_ids),
    )
    found = {r[0]: _quote(r) for r in rows}
    return [found[i] for i in unit_ids if i in found]


def sub_theme_ids(db: sqlite_utils.Database, theme_id: int) -> list[int]:
    """The sub-themes whose mentions make up a theme: the theme itself for a sub-theme, its sub-themes for a
    parent. The same rule as the theme_units view, read from unit_themes directly where a page needs the
    (theme, similarity) index: through the view, a theme's first page of quotes took 2-10x longer on the
    165,000-mention bench database. Merges need no resolution: a merged theme's rows were moved on merge."""
    below = [r[0] for r in db.execute("SELECT id FROM themes WHERE parent_id = ? ORDER BY id", [theme_id])]
    return below or [theme_id]


def _theme_quote_sql(ids: Sequence[int], filt: ThemeFilter, params: dict[str, Any]) -> tuple[str, str]:
    """(FROM/WHERE of the mentions of these sub-themes under the filter, the narrowest FROM/WHERE that picks
    them: unit_themes alone, index-only, when no unit filter applies). `params` gets the values."""
    params.update({f"t{i}": t for i, t in enumerate(ids)})
    where = [f"ut.theme_id IN ({','.join(f':t{i}' for i in range(len(ids)))})"] + _unit_conditions(filt, params)
    base = f"""FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
               WHERE {' AND '.join(where)}"""
    # Themes are built from analysed units only, so without a unit filter the index alone holds them.
    return base, base if filt.needs_units or filt.window else f"FROM unit_themes ut WHERE {where[0]}"


def theme_quotes(
    db: sqlite_utils.Database, theme_id: int, filt: ThemeFilter = ThemeFilter(), *, limit: int = 50, offset: int = 0
) -> QuotePage:
    """A page of the theme's mentions, most typical (closest to their sub-theme's centroid) first. A parent's
    come from its sub-themes in turns (the most typical of each, then the second of each, ...), so its first
    page shows every side of it, not the tightest sub-theme alone."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    ids = sub_theme_ids(db, theme_id)
    base, narrow = _theme_quote_sql(ids, filt, params)
    if ids != [theme_id]:
        # the turns are taken over the narrow rows (ids and similarity), the text is read for the page only
        sql = f"""WITH page AS (
                      SELECT unit_id, similarity, turn_no FROM (
                          SELECT ut.unit_id AS unit_id, ut.similarity AS similarity, ROW_NUMBER() OVER (
                              PARTITION BY ut.theme_id ORDER BY ut.similarity DESC, ut.unit_id) AS turn_no {narrow})
                      ORDER BY turn_no, similarity DESC, unit_id LIMIT :limit OFFSET :offset)
                  SELECT {QUOTE_COLUMNS}, page.similarity FROM page JOIN units u ON u.id = page.unit_id
                  JOIN documents d ON d.id = u.document_id ORDER BY page.turn_no, page.similarity DESC, u.id"""
    else:  # in index order (theme, similarity), stopping at the limit
        sql = f"""SELECT {QUOTE_COLUMNS}, ut.similarity {base} ORDER BY ut.similarity DESC, ut.unit_id
                  LIMIT :limit OFFSET :offset"""
    rows = db.execute(sql, params).fetchall()
    return QuotePage([_quote(r) for r in rows], int(db.execute(f"SELECT COUNT(*) {narrow}", params).fetchone()[0]),
                     offset)


def theme_label(db: sqlite_utils.Database, theme_id: int) -> str | None:
    return _one(db, "SELECT display_label FROM themes WHERE id = ?", [theme_id])


# ---------------------------------------------------------------- segments


def move_counts(db: sqlite_utils.Database, snapshot_id: int | None = None) -> list[MoveCount]:
    """Customers per (from, to) segment move between the previous snapshot and this one (default: the
    latest), most customers first."""
    current = latest_snapshot(db) if snapshot_id is None else get_snapshot(db, snapshot_id)
    if current is None:
        return []
    previous = previous_snapshot(db, current)
    if previous is None:
        return []
    counts = Counter(segment_moves(db, previous.id, current.id).values())
    return [MoveCount(a, b, n) for (a, b), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def segment_transitions(db: sqlite_utils.Database, segment: str, snapshot_id: int | None = None) -> list[MoveCount]:
    """Customers who moved into or out of `segment` between the previous snapshot and this one."""
    return [m for m in move_counts(db, snapshot_id) if segment in (m.from_segment, m.to_segment)]


def orders_state(db: sqlite_utils.Database) -> tuple[Any, ...]:
    """A fingerprint of what a segment backtest reads (orders and the latest snapshot's rates): equal while
    nothing was imported, merged, forgotten or re-scored, so a result computed for it can be reused."""
    orders = db.execute(
        """SELECT COUNT(*), MAX(id), TOTAL(counts_for_rfm), TOTAL(customer_id), MAX(created_day),
                  TOTAL(net_revenue), COUNT(DISTINCT currency) FROM orders"""
    ).fetchone()
    snapshot = db.execute("SELECT id, created_at FROM rfm_snapshots ORDER BY as_of DESC LIMIT 1").fetchone()
    return (*orders, *(snapshot or (None, None)))


def purchases_state(db: sqlite_utils.Database) -> tuple[Any, ...]:
    """orders_state and a fingerprint of the order lines and the SKU -> category map (insight.analysis.affinity reads
    them too)."""
    lines = db.execute("SELECT COUNT(*), TOTAL(quantity), TOTAL(price), COUNT(category) FROM order_lines").fetchone()
    skus = db.execute("SELECT COUNT(*), MAX(loaded_at) FROM sku_categories").fetchone()
    return (*orders_state(db), *lines, *skus)


def lift_matrix(rows: Iterable[Any], segments: Sequence[str] | None = None, top: int | None = None) -> LiftMatrix:
    """Pivot link rows (anything with segment, theme_id, theme_label, lift, significant, customers; and score)."""
    cells: dict[tuple[int, str], LiftCell] = {}
    labels: dict[int, str] = {}
    best: dict[int, float] = {}
    seen_segments: list[str] = list(segments or [])
    for row in rows:
        if row.segment not in seen_segments:
            seen_segments.append(row.segment)
        lift = float(row.lift) if row.lift is not None else 0.0
        cells[(row.theme_id, row.segment)] = LiftCell(lift, bool(row.significant), int(row.customers))
        # a parent theme holds its sub-themes' mentions: marked, so it does not read as one more theme
        labels[row.theme_id] = row.theme_label + (" (parent)" if getattr(row, "level", "sub") == "parent" else "")
        # most distinctive first: the shrunken z-score of insight.analysis.links (two customers cannot top it), else lift
        strength = float(row.score) if getattr(row, "score", None) is not None else (
            lift if row.significant else lift / 10)
        best[row.theme_id] = max(best.get(row.theme_id, -math.inf), strength)
    ordered = sorted(labels, key=lambda t: (-best[t], labels[t]))
    if top is not None:
        ordered = ordered[:top]
    return LiftMatrix(seen_segments, [(t, labels[t]) for t in ordered], cells)


# ---------------------------------------------------------------- search

_TOKEN = re.compile(r"[\w']+", re.UNICODE)


def fts_query(text: str) -> str:
    """Turn what a person typed into a safe FTS5 query: words AND-ed, "quoted phrases" kept, trailing * = prefix."""
    parts: list[str] = []
    for phrase, word in re.findall(r'"([^"]+)"|(\S+)', text):
        if phrase:
            tokens = _TOKEN.findall(phrase)
            if tokens:
                parts.append('"' + " ".join(tokens) + '"')
            continue
        tokens = _TOKEN.findall(word)
        for i, token in enumerate(tokens):
            prefix = word.endswith("*") and i == len(tokens) - 1
            parts.append(f'"{token}"' + ("*" if prefix else ""))
    return " ".join(parts)


def _search_sql(text: str, filt: ThemeFilter, params: dict[str, Any]) -> str | None:
    match = fts_query(text)
    if not match:
        return None
    params["match"] = match
    where = ["units_fts MATCH :match"] + _unit_conditions(filt, params)
    return f"""FROM units_fts JOIN units u ON u.id = units_fts.rowid JOIN documents d ON d.id = u.document_id
               WHERE {' AND '.join(where)}"""


def search_units(
    db: sqlite_utils.Database, text: str, filt: ThemeFilter = ThemeFilter(), *, limit: int = 50, offset: int = 0,
    total: int | None = None,
) -> QuotePage:
    """Full-text search over analysed units, best match (bm25) first, in FTS5's own rank order (it stops at
    the page). `total` is the match count when the caller already has it (counting is ~40% of a search)."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    base = _search_sql(text, filt, params)
    if base is None:
        return QuotePage([], 0, offset)
    rows = db.execute(
        f"SELECT {QUOTE_COLUMNS}, -units_fts.rank {base} ORDER BY units_fts.rank LIMIT :limit OFFSET :offset", params
    ).fetchall()
    return QuotePage([_quote(r) for r in rows], count_search(db, text, filt) if total is None else total, offset)


def count_search(db: sqlite_utils.Database, text: str, filt: ThemeFilter = ThemeFilter()) -> int:
    params: dict[str, Any] = {}
    base = _search_sql(text, filt, params)
    if base is None:
        return 0
    # Matches first (FTS alone), then the unit filters: joined the other way round SQLite scans every unit.
    base = base.replace("FROM units_fts JOIN", "FROM units_fts CROSS JOIN", 1)
    return int(db.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0])


@dataclass
class VectorIndex:
    """Cached unit embeddings of one model, held in memory for "similar to this quote" (no model needed)."""

    model: str
    hashes: list[str]
    matrix: np.ndarray  # n x d float32, L2-normalised
    position: dict[str, int]


def embedding_model(db: sqlite_utils.Database) -> str | None:
    """The model of the latest theme run, else any model in the cache."""
    return _one(db, "SELECT model FROM theme_runs ORDER BY id DESC LIMIT 1") or _one(
        db, "SELECT model FROM embeddings LIMIT 1"
    )


def load_vector_index(db: sqlite_utils.Database, model: str | None = None) -> VectorIndex | None:
    model = model or embedding_model(db)
    if model is None:
        return None
    hashes: list[str] = []
    blobs: list[bytes] = []
    for text_hash, blob in db.execute("SELECT text_hash, vector FROM embeddings WHERE model = ?", [model]):
        hashes.append(text_hash)
        blobs.append(blob)
    if not hashes:
        return None
    raw = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(hashes), -1).astype(np.float32)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    matrix = (raw / np.where(norms == 0, 1, norms)).astype(np.float32)
    return VectorIndex(model, hashes, matrix, {h: i for i, h in enumerate(hashes)})


def similar_units(
    db: sqlite_utils.Database,
    unit_id: int,
    index: VectorIndex,
    filt: ThemeFilter = ThemeFilter(),
    *,
    limit: int = 50,
    candidates: int = 500,
) -> QuotePage:
    """Units whose cached embeddings are closest (cosine) to the unit's, excluding the unit itself."""
    text_hash = _one(db, "SELECT text_hash FROM units WHERE id = ?", [unit_id])
    if text_hash is None or text_hash not in index.position:
        return QuotePage([], 0, 0)
    scores = index.matrix @ index.matrix[index.position[text_hash]]
    count = min(candidates, len(scores))
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top])]
    score_of = {index.hashes[i]: float(scores[i]) for i in top if index.hashes[i] != text_hash}
    if not score_of:
        return QuotePage([], 0, 0)
    params: dict[str, Any] = {f"h{i}": h for i, h in enumerate(score_of)}
    where = [f"u.text_hash IN ({','.join(f':h{i}' for i in range(len(score_of)))})", "u.id != :self"]
    params["self"] = unit_id
    where += _unit_conditions(filt, params)
    rows = db.execute(
        f"SELECT {QUOTE_COLUMNS}, u.text_hash FROM units u JOIN documents d ON d.id = u.document_id "
        f"WHERE {' AND '.join(where)}",
        params,
    ).fetchall()
    quotes = sorted((_quote(r[:QUOTE_WIDTH], score_of[r[QUOTE_WIDTH]]) for r in rows), key=lambda q: (-(q.score or 0), q.unit_id))
    return QuotePage(quotes[:limit], min(len(quotes), limit), 0)


# ---------------------------------------------------------------- documents


def document(db: sqlite_utils.Database, document_id: int) -> DocumentView | None:
    """A whole document (every unit, context-only ones included) for reading a quote in context."""
    row = db.execute(
        """SELECT id, source, external_id, format, title, created_at, rating, customer_key, metadata
           FROM documents WHERE id = ?""",
        [document_id],
    ).fetchone()
    if row is None:
        return None
    try:
        metadata = json.loads(row[8]) if row[8] else {}
    except ValueError:
        metadata = {}
    units: list[DocUnit] = []
    for i, pos, kind, q, speaker, role, analyse, turn, text, started, passage, sentiment in db.execute(
        """SELECT id, position, kind, question, speaker, role, analyse, turn, text, started_at, passage, sentiment
           FROM units WHERE document_id = ? ORDER BY position""",
        [document_id],
    ):
        continued = bool(units) and passage is not None and units[-1].passage == passage
        units.append(DocUnit(i, pos, kind, q, speaker, role, bool(analyse), turn, text, started, passage, continued,
                             sentiment))
    doc_id, source, external_id, fmt, title, created_at, rating, customer_key = row[:8]
    return DocumentView(doc_id, source, external_id, fmt, title, created_at, rating, customer_key,
                        metadata=metadata if isinstance(metadata, dict) else {}, units=units)
