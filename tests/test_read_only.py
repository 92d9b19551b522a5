"""Read-only means read-only: a reader never creates or migrates a file, a missing database is a one-line
error naming it (in the TUI and every command that reads what was imported), and an old schema is migrated
once by the writer side before the TUI starts its readers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_fts_detect import at_version

from insight.analysis import queries
from insight.cli import cli
from insight.core.db import MIGRATIONS, DatabaseUnavailable, open_db, schema_version

LATEST = MIGRATIONS[-1].version


def files_of(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.glob(path.name + "*"))


def stored_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    finally:
        conn.close()


def test_a_reader_on_a_missing_file_is_an_error_and_creates_nothing(tmp_path):
    path = tmp_path / "typo.db"
    with pytest.raises(DatabaseUnavailable, match=f"^{path}: no such database file"):
        queries.connect_read(path)
    assert files_of(path) == []  # the old code created and migrated an empty typo.db


def test_a_reader_does_not_migrate_an_old_schema(tmp_path, monkeypatch):
    path = tmp_path / "v7.db"
    at_version(path, 7, monkeypatch).conn.close()
    with pytest.raises(DatabaseUnavailable, match=f"schema v7 is older than this insight's v{LATEST}"):
        queries.connect_read(path)
    assert stored_version(path) == 7  # the old code migrated it from the reader


def test_a_read_connection_is_opened_read_only(db, db_path):
    read = queries.connect_read(db_path)
    read.execute("PRAGMA query_only = OFF")  # mode=ro still refuses: the connection itself is read-only
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        read.execute("INSERT INTO customers (display_key, created_at) VALUES ('x', 'now')")
    assert schema_version(read) == LATEST


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("Name,Email\n#1001,jo@example.com\n" * 50)
    with pytest.raises(DatabaseUnavailable, match=f"^{path}: not an insight database"):
        queries.connect_read(path)
    result = CliRunner().invoke(cli, ["--db", str(path), "stats", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["error"].startswith(f"{path}: not an insight database")


@pytest.fixture
def started(monkeypatch) -> list[Path]:
    """`insight tui` without the app: records the database it would open, once it has checked the schema."""
    opened: list[Path] = []

    def run_tui(path: Path, briefs_dir: Path) -> None:
        queries.connect_read(path).conn.close()  # what the app's readers do first
        opened.append(path)

    monkeypatch.setattr("insight.commands.tui.run_tui", run_tui)
    return opened


@pytest.mark.parametrize("where", ["global", "own"])
def test_tui_on_a_missing_file_is_one_line_naming_it(tmp_path, started, where):
    path = tmp_path / "typo.db"
    args = ["--db", str(path), "tui"] if where == "global" else ["tui", "--db", str(path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and started == [] and result.stdout == ""
    [message] = result.stderr.splitlines()
    assert message.startswith(f"error: {path}: no such database file")
    assert files_of(path) == []


def test_tui_migrates_an_old_schema_once_before_the_readers(tmp_path, monkeypatch, started):
    path = tmp_path / "v7.db"
    at_version(path, 7, monkeypatch).conn.close()
    result = CliRunner().invoke(cli, ["tui", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert started == [path] and stored_version(path) == LATEST


READING_COMMANDS = [
    ["stats"], ["customer", "jo@example.com"], ["forget", "jo@example.com", "--yes"],
    ["themes"], ["themes", "list"], ["themes", "show", "1"], ["themes", "export", "--out", "{tmp}/t.csv"],
    ["themes", "rename", "1", "x"], ["themes", "merge", "1", "2"], ["themes", "split", "1"],
    ["links"], ["brief", "--all", "--out", "{tmp}/briefs"],
    ["segments"], ["segments", "validate"], ["segments", "export", "--all", "--out", "{tmp}/s.csv"],
    ["segments", "affinity"], ["segments", "due", "--within", "14d"],
]


@pytest.mark.parametrize("args", READING_COMMANDS, ids=" ".join)
def test_every_command_on_a_missing_database_is_one_line_and_creates_nothing(tmp_path, args):
    path = tmp_path / "typo.db"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    as_json = CliRunner().invoke(cli, ["--db", str(path), *args, "--json"])
    assert as_json.exit_code == 1, as_json.output
    assert json.loads(as_json.stdout) == {
        "ok": False, "error": f"{path}: no such database file (check --db or $INSIGHT_DB; "
                              "`insight import ...` or `insight demo` creates one)"}
    human = CliRunner().invoke(cli, ["--db", str(path), *args])
    assert human.exit_code == 1 and human.stdout == ""
    [message] = human.stderr.splitlines()
    assert message.startswith(f"error: {path}: no such database file")
    assert files_of(path) == [] and sorted(p.name for p in tmp_path.iterdir()) == []


def test_importing_still_creates_the_database(tmp_path, fixtures):
    path = tmp_path / "new.db"
    result = CliRunner().invoke(cli, ["--db", str(path), "import", "orders",
                                      str(fixtures / "orders" / "woocommerce_orders.csv"), "--json"])
    assert result.exit_code == 0, result.output
    assert schema_version(open_db(path)) == LATEST
    assert json.loads(CliRunner().invoke(cli, ["--db", str(path), "stats", "--json"]).stdout)["tables"]["orders"] > 0


def test_a_reader_opens_a_file_whose_name_looks_like_a_uri(tmp_path):
    """mode=ro needs a file: URI; a name with '?', '#', '%' or a space must still name that file."""
    path = tmp_path / "shop #2 50% ?mode=rw.db"
    open_db(path).conn.close()
    read = queries.connect_read(path)
    assert read.execute("PRAGMA database_list").fetchone()[2] == str(path.resolve())
    assert queries.db_state(read).empty


def test_sentiment_train_with_a_missing_database_is_one_line_and_creates_nothing(tmp_path):
    """Old code: `--db typo.db` created an empty database to hold the embedding cache."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("Love it\t1\nBroke in a day\t0\n")
    path = tmp_path / "typo.db"
    result = CliRunner().invoke(cli, ["--db", str(path), "sentiment", "train", str(labels),
                                      "--out", str(tmp_path / "head.json"), "--json"])
    assert result.exit_code == 1 and "no such database file" in json.loads(result.stdout)["error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.tsv"]


def test_the_tui_computes_links_and_briefs_over_read_only_connections(db, db_path, monkeypatch, tmp_path):
    """Old code: the link report and briefs came over a writer connection."""
    import insight.analysis.brief as brief
    import insight.analysis.links as links
    from tui.data import DataSource

    seen = []

    def try_to_write(read, *args, **kwargs):
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            read.execute("CREATE TABLE scribble (x)")
        seen.append(read)
        return None

    monkeypatch.setattr(links, "compute_links", try_to_write)
    monkeypatch.setattr(brief, "build_brief", try_to_write)
    monkeypatch.setattr("insight.analysis.brief_render.render_markdown", lambda b: "# brief")
    source = DataSource(db_path, briefs_dir=tmp_path / "briefs")
    source.links()
    assert source.brief_markdown("Champions") == "# brief"
    assert len(seen) == 2
