"""Datasette's metadata.json (`insight datasette-metadata`, from insight/core/schema_docs.toml): every table, view
and column of a fresh database is described and nothing described is gone; the FTS table it names for
`units` is the one Datasette's own detection query finds; facets, sorts and labels name real columns."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_fts_detect import DATASETTE_DETECT_FTS

from insight.cli import cli
from insight.core.datasette_meta import database_name, described_schema, metadata, stale, undocumented


def test_every_table_view_and_column_of_a_fresh_database_is_described(db):
    assert undocumented(db) == []
    assert stale(db) == []
    schema = described_schema(db)
    assert set(db.view_names()) <= set(schema) and "units" in schema and "units_fts_data" not in schema
    tables = metadata("insight")["databases"]["insight"]["tables"]
    assert set(tables) == set(schema)
    for name, table in tables.items():
        assert table["title"] and table["description"], name
        assert set(table["columns"]) == set(schema[name]) and all(table["columns"].values()), name


def test_the_fts_table_named_is_the_one_datasette_detects(db):
    units = metadata("insight")["databases"]["insight"]["tables"]["units"]
    detected = [row[0] for row in db.execute(DATASETTE_DETECT_FTS.format(table="units"))]
    assert detected == [units["fts_table"]] == [db["units"].detect_fts()]
    assert units["fts_pk"] in [c.name for c in db["units"].columns]


def test_facets_sorts_and_labels_name_real_columns(db):
    schema = described_schema(db)
    for name, table in metadata("insight")["databases"]["insight"]["tables"].items():
        named = [*table.get("facets", []), *(table[key] for key in ("sort", "sort_desc", "label_column") if key in table)]
        assert set(named) <= set(schema[name]), name


def test_the_command_prints_or_writes_it_under_the_files_name(tmp_path):
    runner = CliRunner()
    printed = runner.invoke(cli, ["--db", str(tmp_path / "fernleaf.db"), "datasette-metadata"])
    assert printed.exit_code == 0, printed.output
    assert list(json.loads(printed.stdout)["databases"]) == ["fernleaf"] == [database_name("x/fernleaf.db")]
    assert not (tmp_path / "fernleaf.db").exists()  # describing a database never creates one
    out = tmp_path / "metadata.json"
    written = runner.invoke(cli, ["--db", "demo.db", "datasette-metadata", "--out", str(out), "--name", "shop"])
    assert written.exit_code == 0 and written.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8")) == metadata("shop")
    refused = runner.invoke(cli, ["datasette-metadata", "--out", str(tmp_path / "no" / "such" / "dir.json")])
    assert refused.exit_code == 1 and "cannot write" in refused.output and "Traceback" not in refused.output
