"""Erasing one customer on request: every trace of them, then the file rewritten so none survives on disk.

Besides their identifiers, orders, feedback and scores (foreign-key cascades), a customer leaves traces in
places no cascade reaches: the file path of an import named after them (interview transcripts carry the
email), cached embeddings of their texts, their unit ids in themes' stored quotes, theme and prevalence
counts that still count them, and the full-text index. SQLite also keeps deleted bytes in free pages and
the write-ahead log, so the erase runs with secure_delete on and ends with a VACUUM and a WAL truncate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from insight.core.db import FTS_TABLE, transaction
from insight.core.identity import find_customer_id, parse_customer_ref
from insight.core.theme_counts import refresh_scopes

FORGOTTEN_PATH = "[forgotten]"
FORGOTTEN_TEXT = "[forgotten]"
CHECKPOINT_WAIT_MS = 3000


@dataclass
class Forgotten:
    customer_id: int | None
    identifiers: int = 0
    documents: int = 0
    units: int = 0
    orders: int = 0
    embeddings: int = 0
    import_paths: int = 0
    themes_recounted: int = 0
    erased_from_disk: bool = False
    scopes: list[str] = field(default_factory=list)


def find_customer(db: sqlite_utils.Database, ref: str) -> int | None:
    ident = parse_customer_ref(ref)
    if ident is None:
        return None
    return find_customer_id(db, ident)


def preview(db: sqlite_utils.Database, ref: str) -> Forgotten:
    """What forgetting `ref` would erase, without changing anything (for the confirmation prompt)."""
    result = Forgotten(find_customer(db, ref))
    if result.customer_id is not None:
        _count(db, result.customer_id, _identifiers(db, result.customer_id), result)
    return result


def forget_customer(db: sqlite_utils.Database, ref: str, vacuum: bool = True) -> Forgotten:
    """Delete everything tied to the customer `ref` names (an email, '#order', or 'customer_id:ID')."""
    customer_id = find_customer(db, ref)
    result = Forgotten(customer_id)
    if customer_id is None:
        return result
    db.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten with zeros, not left in free pages
    with transaction(db):
        identifiers = _identifiers(db, customer_id)
        _count(db, customer_id, identifiers, result)
        unit_ids, hashes, themes = _their_units(db, customer_id, identifiers)
        result.import_paths = _rewrite_import_batches(db, customer_id, identifiers)
        db.conn.execute("DELETE FROM documents WHERE customer_id = ?", [customer_id])
        keys = [f"{kind}:{value}" for kind, value in identifiers]
        db.conn.executemany("DELETE FROM documents WHERE customer_key = ?", [(k,) for k in keys])
        db.conn.execute("DELETE FROM customers WHERE id = ?", [customer_id])
        result.embeddings = _delete_unshared_embeddings(db, hashes)
        _prune_quotes(db, set(unit_ids))
        result.scopes = _recount(db, themes)
        result.themes_recounted = len(themes)
        # FTS5 keeps a deleted row's terms in old index segments until they are merged: merge them now.
        db.conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    if vacuum:
        result.erased_from_disk = erase_free_space(db)
    return result


def erase_free_space(db: sqlite_utils.Database) -> bool:
    """Rebuild the file without its free pages, and empty the write-ahead log, which holds old page images.
    False when another connection (an open TUI) kept the log from being emptied."""
    db.conn.execute("VACUUM")
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return True
    # The checkpoint waits for readers through the busy handler: a few seconds, not the writers' minute.
    timeout = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
    try:
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return not busy


def _identifiers(db: sqlite_utils.Database, customer_id: int) -> list[tuple[str, str]]:
    rows = db.execute("SELECT kind, value FROM customer_identifiers WHERE customer_id = ?", [customer_id])
    display = db.execute("SELECT display_key FROM customers WHERE id = ?", [customer_id]).fetchone()
    found = [(kind, value) for kind, value in rows]
    if display and display[0] and "@" in display[0] and ("email", display[0]) not in found:
        found.append(("email", display[0]))
    return found


def _documents_sql() -> str:
    return "(SELECT id FROM documents WHERE customer_id = ? OR customer_key IN (SELECT value FROM json_each(?)))"


def _doc_args(customer_id: int, identifiers: list[tuple[str, str]]) -> list:
    return [customer_id, json.dumps([f"{kind}:{value}" for kind, value in identifiers])]


def _count(db: sqlite_utils.Database, customer_id: int, identifiers: list[tuple[str, str]], result: Forgotten) -> None:
    one = lambda sql, args: int(db.execute(sql, args).fetchone()[0])  # noqa: E731
    args = _doc_args(customer_id, identifiers)
    result.identifiers = one("SELECT COUNT(*) FROM customer_identifiers WHERE customer_id = ?", [customer_id])
    result.documents = one(f"SELECT COUNT(*) FROM documents WHERE id IN {_documents_sql()}", args)
    result.units = one(f"SELECT COUNT(*) FROM units WHERE document_id IN {_documents_sql()}", args)
    result.orders = one("SELECT COUNT(*) FROM orders WHERE customer_id = ?", [customer_id])


def _their_units(
    db: sqlite_utils.Database, customer_id: int, identifiers: list[tuple[str, str]]
) -> tuple[list[int], set[str], set[int]]:
    """Their unit ids, the text hashes of those units, and the themes those units belong to."""
    rows = db.conn.execute(
        f"SELECT id, text_hash FROM units WHERE document_id IN {_documents_sql()}", _doc_args(customer_id, identifiers)
    ).fetchall()
    unit_ids = [r[0] for r in rows]
    themes = {
        r[0]
        for r in db.conn.execute(
            "SELECT DISTINCT theme_id FROM unit_themes WHERE theme_id IS NOT NULL AND unit_id IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps(unit_ids)],
        )
    }
    return unit_ids, {r[1] for r in rows}, themes


def _rewrite_import_batches(db: sqlite_utils.Database, customer_id: int, identifiers: list[tuple[str, str]]) -> int:
    """Imports of a file that held only this customer (a transcript named after them) or whose path names
    one of their identifiers lose the path and the per-record details; other imports lose any mention of
    their identifiers in the details (rejected records)."""
    values = [value for kind, value in identifiers if kind == "email" or (kind == "customer_id" and len(value) >= 5)]
    values += [value.split("@")[0] for kind, value in identifiers if kind == "email" and len(value.split("@")[0]) >= 4]
    own = {
        r[0]
        for r in db.conn.execute(
            """SELECT d.batch_id FROM documents d WHERE d.batch_id IS NOT NULL GROUP BY d.batch_id
               HAVING SUM(d.customer_id = ?) = COUNT(*)""",
            [customer_id],
        )
    }
    own_sha = {r[0] for r in db.conn.execute(
        "SELECT file_sha256 FROM import_batches WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(own))]
    )}
    rewritten = 0
    for batch_id, path, sha, details in db.conn.execute(
        "SELECT id, file_path, file_sha256, details FROM import_batches"
    ).fetchall():
        lowered = (path or "").lower()
        if batch_id in own or sha in own_sha or any(v.lower() in lowered for v in values):
            db.conn.execute(
                "UPDATE import_batches SET file_path = ?, details = ? WHERE id = ?",
                (FORGOTTEN_PATH, json.dumps(_counts_only(details)), batch_id),
            )
            rewritten += 1
        elif details and any(v.lower() in details.lower() for v in values):
            db.conn.execute(
                "UPDATE import_batches SET details = ? WHERE id = ?", (_scrub(details, values), batch_id)
            )
    return rewritten


def _counts_only(details: str | None) -> dict:
    try:
        parsed = json.loads(details) if details else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {k: v for k, v in parsed.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _scrub(details: str, values: list[str]) -> str:
    """Drop rejected records that mention them; replace any other mention."""
    try:
        parsed = json.loads(details)
    except json.JSONDecodeError:
        parsed = None
    mentions = lambda item: any(v.lower() in json.dumps(item, ensure_ascii=False).lower() for v in values)  # noqa: E731
    if isinstance(parsed, dict) and isinstance(parsed.get("rejected"), list):
        parsed["rejected"] = [r for r in parsed["rejected"] if not mentions(r)]
        details = json.dumps(parsed, ensure_ascii=False)
    for value in sorted(values, key=len, reverse=True):
        details = _replace_insensitive(details, value, FORGOTTEN_TEXT)
    return details


def _replace_insensitive(text: str, old: str, new: str) -> str:
    lowered, old_lower, out, start = text.lower(), old.lower(), [], 0
    while (found := lowered.find(old_lower, start)) >= 0:
        out.append(text[start:found] + new)
        start = found + len(old)
    return "".join(out) + text[start:]


def _delete_unshared_embeddings(db: sqlite_utils.Database, hashes: set[str]) -> int:
    """Cached vectors of their texts, unless another unit still has the same text (an agent macro, 'n/a')."""
    before = db.conn.total_changes
    db.conn.execute(
        """DELETE FROM embeddings WHERE text_hash IN (SELECT value FROM json_each(?))
           AND text_hash NOT IN (SELECT text_hash FROM units)""",
        [json.dumps(sorted(hashes))],
    )
    return db.conn.total_changes - before


def _prune_quotes(db: sqlite_utils.Database, unit_ids: set[int]) -> None:
    if not unit_ids:
        return
    for theme_id, quotes in db.conn.execute("SELECT id, quotes FROM themes WHERE quotes IS NOT NULL").fetchall():
        try:
            ids = json.loads(quotes)
        except json.JSONDecodeError:
            continue
        if isinstance(ids, list) and any(i in unit_ids for i in ids):
            kept = [i for i in ids if i not in unit_ids]
            db.conn.execute("UPDATE themes SET quotes = ? WHERE id = ?", (json.dumps(kept), theme_id))


def _recount(db: sqlite_utils.Database, themes: set[int]) -> list[str]:
    """Every theme of the scopes they were in (shares of the others move too), and those scopes' prevalence."""
    if not themes:
        return []
    scopes = sorted({r[0] for r in db.conn.execute(
        "SELECT DISTINCT scope FROM themes WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(themes))]
    )})
    refresh_scopes(db, set(scopes))
    return scopes
