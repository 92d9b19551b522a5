"""Datasette's metadata.json for an insight database, from the one description of the schema
(insight/core/schema_docs.toml, kept beside insight/core/db.py): titles, descriptions, column descriptions, the full-text
search on `units`, facets and sort defaults. `insight datasette-metadata` writes it."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import sqlite_utils

from insight.core.db import FTS_TABLE

DOCS = Path(__file__).with_name("schema_docs.toml")
# Datasette's table options that the docs may set, as metadata.json spells them.
TABLE_OPTIONS = ("facets", "sort", "sort_desc", "label_column", "fts_table", "fts_pk", "size", "hidden")
# SQLite's own and FTS5's shadow tables: not part of the schema a person reads (Datasette hides them too).
SHADOW_SUFFIXES = ("_data", "_idx", "_docsize", "_config", "_content")


@cache
def schema_docs() -> dict[str, Any]:
    with DOCS.open("rb") as handle:
        return tomllib.load(handle)


def metadata(database: str) -> dict[str, Any]:
    """metadata.json for Datasette serving the insight file whose name (without .db) is `database`."""
    docs = schema_docs()
    tables: dict[str, Any] = {}
    for name, table in docs["tables"].items():
        entry: dict[str, Any] = {"title": table["title"], "description": table["description"]}
        entry.update({option: table[option] for option in TABLE_OPTIONS if option in table})
        entry["columns"] = dict(table["columns"])
        tables[name] = entry
    return {
        "title": docs["title"],
        "description": docs["description"],
        "databases": {database: {"description": docs["description"], "tables": tables}},
    }


def database_name(path: str | Path) -> str:
    """The name Datasette gives a database file: its file name without the extension."""
    return Path(path).stem


def described_schema(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Every table and view of `db` a person browses (FTS shadow tables left out) -> its columns, generated ones
    (themes.display_label) included as Datasette shows them (table_xinfo; hidden = 1 is a virtual table's own)."""
    names = [n for n in db.table_names() if not _shadow(n)] + db.view_names()
    return {name: [row[1] for row in db.execute(f"PRAGMA table_xinfo([{name}])") if row[6] != 1] for name in names}


def undocumented(db: sqlite_utils.Database) -> list[str]:
    """'table' or 'table.column' of `db` that the docs do not describe."""
    tables = schema_docs()["tables"]
    missing = []
    for name, columns in described_schema(db).items():
        if name not in tables:
            missing.append(name)
            continue
        missing += [f"{name}.{c}" for c in columns if c not in tables[name]["columns"]]
    return missing


def stale(db: sqlite_utils.Database) -> list[str]:
    """'table' or 'table.column' the docs describe that `db` does not have."""
    schema = described_schema(db)
    gone = []
    for name, table in schema_docs()["tables"].items():
        if name not in schema:
            gone.append(name)
            continue
        gone += [f"{name}.{c}" for c in table["columns"] if c not in schema[name]]
    return gone


def _shadow(name: str) -> bool:
    return (name.startswith(FTS_TABLE + "_") and name.endswith(SHADOW_SUFFIXES)) or name.startswith("sqlite_")
