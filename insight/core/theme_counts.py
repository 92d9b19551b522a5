"""The counts stored on every theme (mentions, customers, documents, share, sentiment split, prevalence per
window), recomputed from `unit_themes` whenever the mentions under a theme change: a theme run, a user's edit,
a re-import that replaced a document's mentions, a forgotten customer. Kept with the schema because every
writer, the importers included, must leave them consistent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import sqlite_utils


def refresh_prevalence(db: sqlite_utils.Database, scope: str) -> None:
    """Rebuild theme_prevalence for every theme of a scope, both levels, (call inside a transaction)."""
    db.conn.execute("DELETE FROM theme_prevalence WHERE theme_id IN (SELECT id FROM themes WHERE scope = ?)", (scope,))
    db.conn.execute(
        """INSERT INTO theme_prevalence (theme_id, window_start, units, customers, share, documents)
           WITH assigned AS (
               SELECT ut.theme_id, d.window_start, d.id AS document_id,
                      COALESCE('c' || d.customer_id, 'd' || d.id) AS who
               FROM theme_units ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
               WHERE ut.scope = ? AND d.window_start IS NOT NULL
           ),
           totals AS (SELECT d.window_start, COUNT(DISTINCT d.id) AS n
                      FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
                      WHERE ut.scope = ? AND d.window_start IS NOT NULL GROUP BY d.window_start)
           SELECT a.theme_id, a.window_start, COUNT(*), COUNT(DISTINCT a.who),
                  COUNT(DISTINCT a.document_id) * 1.0 / t.n, COUNT(DISTINCT a.document_id)
           FROM assigned a JOIN totals t ON t.window_start = a.window_start
           GROUP BY a.theme_id, a.window_start""",
        (scope, scope),
    )


@dataclass(frozen=True)
class ThemeCounts:
    """A theme's numbers as every view shows them: a document or customer counts once per theme."""

    documents: int
    mentions: int
    customers: int
    reassigned: int
    share: float  # documents in the theme / documents with a themed mention in the scope
    mean_rating: float | None  # over documents
    positive: int
    neutral: int
    negative: int


def scope_counts(
    db: sqlite_utils.Database, scope: str, unit_ids: list[int] | None = None
) -> dict[int, ThemeCounts]:
    """Counts of every theme with members in a scope, at both levels (the theme_units view): the one home of
    size and share.

    `unit_ids` narrows them to those mentions (a run over one window counts that window's)."""
    only = "" if unit_ids is None else " AND ut.unit_id IN (SELECT value FROM json_each(?))"
    extra = () if unit_ids is None else (json.dumps(unit_ids),)
    total = db.conn.execute(
        "SELECT COUNT(DISTINCT u.document_id) FROM unit_themes ut JOIN units u ON u.id = ut.unit_id "
        f"WHERE ut.scope = ?{only}",
        (scope, *extra),
    ).fetchone()[0]
    rows = db.conn.execute(
        """WITH m AS (
               SELECT ut.theme_id, u.document_id, d.rating, ut.reassigned, u.sentiment,
                      COALESCE('c' || d.customer_id, 'd' || d.id) AS who
               FROM theme_units ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
               WHERE ut.scope = ?{only}
           ),
           ratings AS (SELECT theme_id, AVG(rating) AS mean_rating
                       FROM (SELECT DISTINCT theme_id, document_id, rating FROM m) GROUP BY theme_id)
           SELECT m.theme_id, COUNT(DISTINCT m.document_id), COUNT(*), COUNT(DISTINCT m.who), SUM(m.reassigned),
                  SUM(m.sentiment = 'positive'), SUM(m.sentiment = 'neutral'), SUM(m.sentiment = 'negative'),
                  r.mean_rating
           FROM m JOIN ratings r ON r.theme_id = m.theme_id GROUP BY m.theme_id""".replace("{only}", only),
        (scope, *extra),
    ).fetchall()
    return {
        r[0]: ThemeCounts(r[1], r[2], r[3], int(r[4] or 0), r[1] / total if total else 0.0, r[8],
                          int(r[5] or 0), int(r[6] or 0), int(r[7] or 0))
        for r in rows
    }


def refresh_theme_counts(
    db: sqlite_utils.Database, theme_ids: list[int], unit_ids: list[int] | None = None
) -> dict[int, ThemeCounts]:
    """Store size (documents), share, mentions, customers, reassigned, sentiment and mean rating of these
    themes from unit_themes (inside a transaction); a theme with no members gets zeros. `unit_ids`: count
    only those mentions (see scope_counts)."""
    out: dict[int, ThemeCounts] = {}
    scopes: dict[str, list[int]] = defaultdict(list)
    for theme_id in theme_ids:
        row = db.conn.execute("SELECT scope FROM themes WHERE id = ?", (theme_id,)).fetchone()
        if row:
            scopes[row[0]].append(theme_id)
    empty = ThemeCounts(0, 0, 0, 0, 0.0, None, 0, 0, 0)
    for scope, ids in scopes.items():
        counts = scope_counts(db, scope, unit_ids)
        for theme_id in ids:
            c = counts.get(theme_id, empty)
            db.conn.execute(
                """UPDATE themes SET size = ?, share = ?, mean_rating = ?, mentions = ?, customers = ?, reassigned = ?,
                   positive = ?, neutral = ?, negative = ? WHERE id = ?""",
                (c.documents, c.share, c.mean_rating, c.mentions, c.customers, c.reassigned, c.positive, c.neutral,
                 c.negative, theme_id),
            )
            out[theme_id] = c
    return out


def refresh_scopes(db: sqlite_utils.Database, scopes: set[str] | None = None) -> None:
    """Recount every theme (and prevalence) of these scopes, all when None: after mentions changed under them
    (re-derived, re-imported, forgotten). Call inside a transaction."""
    if scopes is None:
        scopes = {r[0] for r in db.conn.execute("SELECT DISTINCT scope FROM themes")}
    for scope in sorted(scopes):
        ids = [r[0] for r in db.conn.execute("SELECT id FROM themes WHERE scope = ?", (scope,))]
        refresh_theme_counts(db, ids)
        refresh_prevalence(db, scope)
