import sqlite3

import pytest

from insight.core.db import MIGRATIONS, open_db, schema_version, split_sql, table_counts, transaction


def test_fresh_database_has_every_table_and_pragmas(db, db_path):
    names = set(db.table_names())
    for table in ("import_batches", "customers", "customer_identifiers", "documents", "units", "attributes",
                  "orders", "order_lines", "rfm_snapshots", "rfm_scores", "embeddings", "theme_runs", "themes",
                  "unit_themes", "theme_prevalence", "theme_edits", "units_fts"):
        assert table in names
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert schema_version(db) == MIGRATIONS[-1].version


def test_reopening_applies_nothing_twice(db_path, clock):
    open_db(db_path, clock)
    db = open_db(db_path, clock)
    assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_fts_follows_unit_inserts_updates_and_deletes(db):
    db.execute("INSERT INTO documents (id, source, external_id, format, content_hash) VALUES (1,'survey','r1','t','h')")
    db.execute("INSERT INTO units (id, document_id, position, kind, text, text_hash) VALUES (1,1,0,'answer','shipping was slow','x')")
    db.conn.commit()
    match = lambda q: [r[0] for r in db.execute("SELECT rowid FROM units_fts WHERE units_fts MATCH ?", [q])]  # noqa: E731
    assert match("shipping") == [1]
    db.execute("UPDATE units SET text = 'the pump leaked' WHERE id = 1")
    assert match("shipping") == [] and match("pump") == [1]
    db.execute("DELETE FROM documents WHERE id = 1")  # cascades to units
    assert match("pump") == []


def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO units (document_id, position, kind, text, text_hash) VALUES (99, 0, 'answer', 't', 'h')")


def test_transaction_rolls_back_everything(db):
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute("INSERT INTO customers (display_key, created_at) VALUES ('a', 'now')")
            raise RuntimeError("boom")
    assert table_counts(db)["customers"] == 0


def test_split_sql_keeps_triggers_whole():
    statements = split_sql("CREATE TABLE a (x);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n SELECT 1;\n SELECT 2;\nEND;\n")
    assert len(statements) == 2 and statements[1].endswith("END;")
