"""`insight stats`, `insight forget` and `insight datasette-metadata`: what is in the database, erasing a
customer, and describing the database to Datasette."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from insight.analysis.forget import forget_customer, preview
from insight.commands.common import db_from_context, fail_command, json_option
from insight.core.db import database_error, open_existing, schema_version, table_counts
from insight.output import emit, plain_line


@click.command("stats")
@json_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Row counts per table, and documents/units per source."""
    path = db_from_context(ctx)
    try:
        db = open_existing(path)
    except sqlite3.OperationalError as exc:  # a migration to apply while an import holds the write lock
        fail_command(database_error(path, exc), as_json)
    counts = table_counts(db)
    per_source = {
        source: {"documents": docs, "units": units, "analysed_units": analysed}
        for source, docs, units, analysed in db.execute(
            """SELECT d.source, COUNT(DISTINCT d.id), COUNT(u.id), COALESCE(SUM(u.analyse), 0)
               FROM documents d LEFT JOIN units u ON u.document_id = d.id GROUP BY d.source ORDER BY d.source"""
        )
    }
    payload = {"db": str(path), "schema_version": schema_version(db), "tables": counts, "sources": per_source}

    def render(console: Console) -> None:
        table = Table(title=plain_line(f"{path} (schema v{payload['schema_version']})"))
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in counts.items():
            table.add_row(plain_line(name), f"{rows:,}")
        console.print(table)
        if per_source:
            by_source = Table(title="feedback by source")
            for column in ("source", "documents", "units", "analysed"):
                by_source.add_column(column, justify="right" if column != "source" else "left")
            for source, row in per_source.items():
                by_source.add_row(plain_line(source), f"{row['documents']:,}", f"{row['units']:,}", f"{row['analysed_units']:,}")
            console.print(by_source)

    emit(payload, as_json, render)


@click.command("forget")
@click.argument("customer")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (required with --json).")
@json_option
@click.pass_context
def forget(ctx: click.Context, customer: str, yes: bool, as_json: bool) -> None:
    """Erase a customer (email, #order or customer_id:ID) with their orders and feedback, and every trace
    of them: import file names, cached embeddings, theme quotes and counts, the search index; then the
    database file is rewritten (VACUUM) so the deleted bytes do not survive in it."""
    path = db_from_context(ctx)
    try:
        db = open_existing(path)
        found = preview(db, customer)
        if found.customer_id is None:
            fail_command(f"no customer matches {customer!r}", as_json)
        if not yes:
            if as_json:
                fail_command(f"erasing {customer} cannot be undone: pass --yes to confirm", as_json)
            click.echo(
                f"Erase {customer} (customer {found.customer_id}): {found.identifiers} identifiers, "
                f"{found.orders} orders, {found.documents} documents ({found.units} units)?",
                err=True,
            )
            click.confirm("This cannot be undone. Erase?", abort=True, err=True)
        result = forget_customer(db, customer)
    except sqlite3.OperationalError as exc:
        fail_command(database_error(path, exc), as_json)
    payload = {"ok": True, **asdict(result)}
    if not result.erased_from_disk:
        payload["warning"] = UNFLUSHED

    def render(console: Console) -> None:
        console.print(plain_line(
            f"Erased customer {result.customer_id}: {result.identifiers} identifiers, {result.orders} orders, "
            f"{result.documents} documents ({result.units} units), {result.embeddings} cached embeddings; "
            f"{result.themes_recounted} themes recounted, {result.import_paths} import file names removed; "
            + ("database file rewritten." if result.erased_from_disk else "")
        ))
        if not result.erased_from_disk:
            click.echo(f"warning: {UNFLUSHED}", err=True)

    emit(payload, as_json, render)


UNFLUSHED = ("another insight process (the TUI?) has the database open, so its write-ahead log still holds old "
             "pages: close it and run `insight forget` again (or `sqlite3 DB 'PRAGMA wal_checkpoint(TRUNCATE)'`)")



@click.command("datasette-metadata")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write metadata.json here (default: print it on stdout).")
@click.option("--name", help="The database's name in Datasette (default: the --db file name without .db).")
@click.pass_context
def datasette_metadata(ctx: click.Context, out: Path | None, name: str | None) -> None:
    """Datasette's metadata.json for this database: table and column descriptions, search on units,
    facets and sort defaults. Then: datasette insight.db --metadata metadata.json"""
    from insight.core.datasette_meta import database_name, metadata

    text = json.dumps(metadata(name or database_name(db_from_context(ctx))), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{out}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"wrote {out}", err=True)


COMMANDS = [stats, forget, datasette_metadata]
