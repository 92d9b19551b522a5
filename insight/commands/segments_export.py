"""`insight segments export`: a segment's members (or who left it) as a CSV Klaviyo or Shopify imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from insight.analysis.segment_export import FORMATS, ExportError, ExportResult, export_segments, table, to_csv
from insight.commands.common import db_from_context, json_option
from insight.core.db import open_existing
from insight.output import emit, err_console, plain_line, print_error

REASONS = {
    "no_contact": "no email or phone known (a billing address, platform id or order number only): never guessed",
    "erased": "erased since the snapshot (insight forget, or merged into another customer)",
}


@click.command("export")
@click.option("--segment", "segment", default=None, metavar="NAME", help="The segment to export (e.g. 'At Risk').")
@click.option("--all", "all_segments", is_flag=True, help="Every segment, one row per customer with their segment.")
@click.option("--lifecycle", "lifecycle", default=None, metavar="STAGE",
              help="A lifecycle stage instead of a segment: Active, At Risk or Lapsed.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="Column names for the platform's CSV import (see the README for the mapping).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CSV here (default: standard output; with --json, the rows go in the JSON).")
@click.option("--suppress-moved", is_flag=True,
              help="Instead: everyone who LEFT the segment(s) since the previous snapshot (e.g. At Risk -> Active), "
                   "to suppress from that segment's campaigns.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Use the latest snapshot on or before this date (default: the latest).")
@json_option
@click.pass_context
def export(ctx, segment, all_segments, lifecycle, fmt, out, suppress_moved, as_of, as_json) -> None:
    """Activation lists: a segment's members, or who left it, as CSV for Klaviyo, Shopify or any tool.

    \b
    Each row: email, segment, lifecycle, R/F/M scores, last order date, the segment the customer came from
    and the snapshot that first showed them in this one. Reads the stored snapshots (run `insight segments` first; two snapshots for --suppress-moved). Only
    emails customers really have are written; the summary says how many members were left out and why.
    """
    if sum((bool(segment), all_segments, bool(lifecycle))) != 1:
        print_error("give one of --segment NAME, --all or --lifecycle STAGE", as_json)
        raise SystemExit(2)
    db = open_existing(db_from_context(ctx))
    try:
        result = export_segments(db, segment=segment, as_of=as_of.date().isoformat() if as_of else None,
                                 suppress_moved=suppress_moved, lifecycle=lifecycle)
    except ExportError as exc:
        print_error(str(exc), as_json)
        raise SystemExit(1) from None
    text = to_csv(result, fmt)
    payload: dict[str, Any] = {"ok": True, "format": fmt, "out": str(out) if out else None, **result.as_dict(),
                               "not_exported_reasons": {k: REASONS[k] for k in result.not_exported}}
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            print_error(f"{out}: cannot write: {exc.strerror or exc}", as_json)
            raise SystemExit(1) from None
    elif as_json:
        header, records = table(result, fmt)
        payload["columns"], payload["rows"] = header, records
    else:
        click.echo(text, nl=False)
    # The CSV may be on stdout: the summary then goes to stderr, so a pipe gets the file alone.
    emit(payload, as_json, lambda console: _render(console if out is not None else err_console, result, out))


def _render(console: Console, result: ExportResult, out: Path | None) -> None:
    if result.lifecycle is not None:
        scope = every = f"lifecycle stage {result.lifecycle}"
    elif len(result.segments) > 1:
        scope, every = "any segment", "every segment"
    else:
        scope = every = result.segments[0]
    if result.suppress_moved:
        who = f"customers who left {scope} between {result.previous_snapshot} and {result.snapshot}"
    else:
        who = f"members of {every} (snapshot {result.snapshot})"
    where = f" to {out}" if out is not None else ""
    console.print(plain_line(f"{len(result.rows):,} of {result.members:,} {who} exported{where}"))
    for reason, count in result.not_exported.items():
        console.print(plain_line(f"  not exported: {count:,} — {REASONS[reason]}"))
    if result.erased_unknown_segment:
        console.print(plain_line(f"  and {result.erased_unknown_segment:,} customers scored in that snapshot were "
                                 "erased since (insight forget, or merged); their segments went with them"))
    if result.several_emails:
        console.print(plain_line(f"  {result.several_emails:,} have several emails: the one on their latest order "
                                 "is written"))
