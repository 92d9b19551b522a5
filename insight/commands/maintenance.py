"""`insight stats` and `insight forget`: what is in the database, and erasing a customer."""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table

from insight.commands.common import db_from_context, json_option
from insight.db import open_db, schema_version, table_counts
from insight.forget import forget_customer
from insight.output import emit, plain_line, print_error


@click.command("stats")
@json_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Row counts per table, and documents/units per source."""
    path = db_from_context(ctx)
    db = open_db(path)
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
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
def forget(ctx: click.Context, customer: str, yes: bool, as_json: bool) -> None:
    """Erase a customer (email, #order or customer_id:ID) with their orders and feedback."""
    db = open_db(db_from_context(ctx))
    if not yes and not as_json:
        click.confirm(f"Erase {customer} and everything tied to them?", abort=True, err=True)
    result = forget_customer(db, customer)
    if result.customer_id is None:
        print_error(f"no customer matches {customer!r}", as_json)
        raise SystemExit(1)
    payload = {"ok": True, **asdict(result)}
    emit(
        payload,
        as_json,
        lambda c: c.print(
            f"Erased customer {result.customer_id}: {result.identifiers} identifiers, {result.orders} orders, "
            f"{result.documents} documents ({result.units} units)."
        ),
    )


COMMANDS = [stats, forget]
