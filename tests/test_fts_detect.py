"""The full-text index is declared the way Datasette and sqlite-utils find it (migration 8), on a fresh
database and on one migrated from schema 7, whose index is rebuilt without losing a row."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from insight.core.db import MIGRATIONS, connect, migrate, open_db

# Datasette's own detection query (datasette.utils.detect_fts_sql), as it runs on a table's page.
DATASETTE_DETECT_FTS = """
    select name from sqlite_master
        where rootpage = 0
        and (
            sql like '%VIRTUAL TABLE%USING FTS%content="{table}"%'
            or sql like '%VIRTUAL TABLE%USING FTS%content=[{table}]%'
            or (
                tbl_name = "{table}"
                and sql like '%VIRTUAL TABLE%USING FTS%'
            )
        )
"""


def at_version(path: Path, version: int, monkeypatch: pytest.MonkeyPatch) -> sqlite_utils.Database:
    """A database as an older insight left it: only the migrations up to `version` applied."""
    with monkeypatch.context() as patch:
        patch.setattr("insight.core.db.MIGRATIONS", [m for m in MIGRATIONS if m.version <= version])
        db = connect(path)
        migrate(db)
    return db


def add_units(db: sqlite_utils.Database, texts: list[str]) -> None:
    doc = db.conn.execute(
        "INSERT INTO documents (source, external_id, format, content_hash) VALUES ('survey', 'r1', 't', 'h')"
    ).lastrowid
    db.conn.executemany(
        "INSERT INTO units (document_id, position, kind, question, text, text_hash) VALUES (?, ?, 'answer', 'Why?', ?, ?)",
        [(doc, i, text, f"h{i}") for i, text in enumerate(texts)],
    )
    db.conn.commit()


def matches(db: sqlite_utils.Database, query: str) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT u.text FROM units_fts JOIN units u ON u.id = units_fts.rowid WHERE units_fts MATCH ? ORDER BY u.id",
        [query])]


def detected(db: sqlite_utils.Database) -> tuple[str | None, list[str]]:
    datasette = [r[0] for r in db.execute(DATASETTE_DETECT_FTS.format(table="units"))]
    return db["units"].detect_fts(), datasette


def test_a_fresh_database_has_a_detectable_index(db):
    assert detected(db) == ("units_fts", ["units_fts"])
    add_units(db, ["the parcel arrived late"])
    assert matches(db, "parcel") == ["the parcel arrived late"]


def test_schema_7_is_migrated_to_a_detectable_index_with_every_row(tmp_path, monkeypatch):
    path = tmp_path / "v7.db"
    old = at_version(path, 7, monkeypatch)
    add_units(old, ["the parcel arrived late", "lovely fabric, shipping slow", "shipping was free"])
    assert detected(old) == (None, [])  # what Datasette saw before: content='units'
    old.conn.close()

    db = open_db(path)
    assert detected(db) == ("units_fts", ["units_fts"])
    assert matches(db, "shipping") == ["lovely fabric, shipping slow", "shipping was free"]
    assert matches(db, "arriving") == ["the parcel arrived late"]  # still the porter stemmer
    db.conn.execute("UPDATE units SET sentiment = 'negative'")  # no re-index for sentiment (migration 3)
    db.conn.execute("UPDATE units SET text = 'the pump leaked' WHERE text = 'shipping was free'")
    db.conn.execute("DELETE FROM units WHERE text = 'the parcel arrived late'")
    db.conn.commit()
    assert matches(db, "shipping") == ["lovely fabric, shipping slow"] and matches(db, "pump") == ["the pump leaked"]
    assert matches(db, "parcel") == []
    # Raises (SQLITE_CORRUPT_VTAB) when the index disagrees with the rows of `units`.
    db.execute("INSERT INTO units_fts (units_fts, rank) VALUES ('integrity-check', 1)")
