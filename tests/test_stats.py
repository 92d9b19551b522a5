"""`insight stats` from the command line: row counts, feedback per source, and readable during an import."""

from __future__ import annotations

import json
import re
import sqlite3

from click.testing import CliRunner
from test_themes import seed_units

from insight.cli import cli
from insight.core.db import MIGRATIONS, open_db


def stats(db_path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db_path), "stats", *args])


def test_stats_of_an_empty_database(db, db_path):
    result = stats(db_path, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["schema_version"] == MIGRATIONS[-1].version and payload["sources"] == {}
    assert payload["tables"]["documents"] == 0 and payload["tables"]["units"] == 0
    assert not any(name.startswith("units_fts") for name in payload["tables"])


def test_stats_count_documents_units_and_analysed_units_per_source(db_path, db):
    seed_units(db, {"delivery": 3, "fabric": 2})
    doc = db.conn.execute(
        "INSERT INTO documents (source, external_id, format, content_hash) VALUES ('interview', 'i1', 'vtt', 'h')"
    ).lastrowid
    db.conn.executemany(
        "INSERT INTO units (document_id, position, kind, role, analyse, text, text_hash) VALUES (?, ?, 'turn', ?, ?, ?, ?)",
        [(doc, 0, "interviewer", 0, "How did you find us?", "a"), (doc, 1, "customer", 1, "On TikTok.", "b")],
    )
    db.conn.commit()
    payload = json.loads(stats(db_path, "--json").output)
    assert payload["sources"] == {
        "interview": {"documents": 1, "units": 2, "analysed_units": 1},
        "survey": {"documents": 5, "units": 5, "analysed_units": 5},
    }
    assert payload["tables"]["documents"] == 6 and payload["tables"]["units"] == 7
    shown = stats(db_path)
    assert shown.exit_code == 0 and "feedback by source" in shown.output and "interview" in shown.output
    assert "schema v" in shown.output


def test_stats_reads_while_an_import_holds_the_write_lock(db_path, db):
    seed_units(db, {"delivery": 2})
    holder = sqlite3.connect(db_path)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO customers (display_key, created_at) VALUES ('x', 'now')")
    try:
        result = stats(db_path, "--json")
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sources"]["survey"]["documents"] == 2


def test_stats_print_every_table_with_its_count_and_the_sources(db_path, db):
    seed_units(db, {"delivery": 3})
    db.conn.execute("INSERT INTO customers (display_key, created_at) VALUES ('jo@example.com', 'now')")
    db.conn.commit()
    payload = json.loads(stats(db_path, "--json").output)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'units_fts%'")}
    assert set(payload["tables"]) == tables  # every table, no FTS shadow table, no view (theme_units)
    for name, rows in payload["tables"].items():
        assert rows == db.execute(f"SELECT COUNT(*) FROM [{name}]").fetchone()[0], name
    shown = stats(db_path)
    assert shown.exit_code == 0 and shown.stderr == ""
    assert f"{db_path}(schemav{MIGRATIONS[-1].version})" in "".join(shown.stdout.split())  # the title may wrap
    for name, rows in payload["tables"].items():
        assert re.search(rf"│ {name}\s+│\s+{rows:,} │", shown.stdout), name
    assert re.search(r"│ survey\s+│\s+3 │\s+3 │\s+3 │", shown.stdout)


def test_stats_of_an_empty_database_show_no_source_table(db, db_path):
    shown = stats(db_path)
    assert shown.exit_code == 0 and "documents" in shown.stdout and "feedback by source" not in shown.stdout


def test_stats_change_nothing(db_path, db):
    seed_units(db, {"delivery": 2})
    db.conn.close()
    before = db_path.read_bytes()
    assert stats(db_path, "--json").exit_code == 0 and stats(db_path).exit_code == 0
    after = open_db(db_path)
    after.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after.conn.close()
    assert db_path.read_bytes() == before
