"""`insight demo`: the whole pipeline on the bundled sample, then the TUI (or a printed summary)."""

from __future__ import annotations

import time
from dataclasses import asdict
from itertools import groupby
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from insight.analysis import queries
from insight.analysis.rfm import RfmError
from insight.commands.common import db_from_context, fail_command, json_option
from insight.commands.themes import sentiment_line
from insight.core.db import open_db
from insight.demo import SAMPLE_AS_OF, SAMPLE_DIR, DemoReport, run_demo
from insight.output import emit, err_console, line, plain_line


@click.command("demo")
@click.option("--no-tui", is_flag=True, help="Print the summary instead of opening the TUI.")
@click.option("--sample-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=SAMPLE_DIR,
              show_default=True, help="Folder holding the sample exports.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=SAMPLE_AS_OF.isoformat(), show_default=True,
              help="The sample's 'today' (its orders end 2026-11-20).")
@click.option("--model", default=None, help="Embedding model name or path (default: all-MiniLM-L6-v2, offline).")
@click.option("--spacy-model", default=None, help="spaCy pipeline (default: en_core_web_sm, else the packaged copy).")
@click.option("--briefs", "briefs_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("briefs"),
              show_default=True, help="Where the persona briefs are written.")
@json_option
@click.pass_context
def demo(ctx, no_tui, sample_dir, as_of, model, spacy_model, briefs_dir, as_json):
    """Import the bundled sample brand, compute segments, themes, links and briefs, then browse them."""
    db_path = db_from_context(ctx)
    db = open_db(db_path)
    started = time.perf_counter()
    log = (lambda message: None) if as_json else err_console.print
    try:
        report = run_demo(
            db, sample_dir=sample_dir, as_of=as_of.date() if hasattr(as_of, "date") else as_of, model=model,
            spacy_model=spacy_model, briefs_dir=briefs_dir, log=log,
        )
    except RfmError as exc:  # a --sample-dir without orders (or none before --as-of): not a bug of ours
        fail_command(f"{sample_dir}: {exc}", as_json)
    report.timings["total"] = round(time.perf_counter() - started, 2)
    if no_tui or as_json:
        emit({"db": str(db_path), **asdict(report)}, as_json, lambda console: render_summary(console, db_path, report))
    else:
        from insight.commands.tui import run_tui

        run_tui(db_path)
    if report.failures:
        raise SystemExit(1)


def render_summary(console: Console, db_path: Path, report: DemoReport) -> None:
    db = queries.connect_read(db_path)
    console.rule(f"insight demo: {db_path}")
    sources = Table(title="Feedback by source")
    for column in ("source", "documents", "analysed mentions", "linked to a customer"):
        sources.add_column(column, justify="left" if column == "source" else "right")
    for source, grouped in groupby(sorted(queries.sources_by_window(db), key=lambda r: r.source), key=lambda r: r.source):
        rows = list(grouped)
        units = sum(r.units for r in rows)
        linked = sum(r.linked_units for r in rows)
        sources.add_row(plain_line(source), f"{sum(r.documents for r in rows):,}", f"{units:,}", f"{linked / units:.0%}" if units else "-")
    console.print(sources)
    segments = Table(title="RFM segments (latest snapshot)")
    for column in ("segment", "customers", "share", "revenue share", "median recency (days)", "orders"):
        segments.add_column(column, justify="left" if column == "segment" else "right")
    for row in queries.segment_table(db):
        segments.add_row(plain_line(row.segment), f"{row.customers:,}", f"{row.share:.0%}", f"{row.revenue_share:.0%}",
                         f"{row.recency_days:.0f}", f"{row.frequency:.1f}")
    console.print(segments)
    for run in report.themes:
        scope = run["scope"]
        if run.get("note"):
            console.print(plain_line(f"{scope}: {run['note']}", "dim"))
            continue
        table = Table(
            title=plain_line(f"Themes: {scope} ({run['units']} mentions from {run.get('documents', 0)} documents, "
                             f"{run['unassigned']} unassigned; {run['embedded']} embedded, {run['reused']} from cache)"),
            title_justify="left",
            caption=plain_line(sentiment_line(run["sentiment"])) if run.get("sentiment") else None,
            caption_justify="left",
        )
        for column in ("theme", "documents", "share", "+ / -", "change"):
            table.add_column(column, justify="left" if column == "theme" else "right")
        for theme in queries.list_themes(db, queries.ThemeFilter(scope=scope, top_level=True), limit=6).rows:
            label = theme.label + (" (general)" if theme.kind == "general" else "")
            if theme.subthemes > 1:  # a parent: what it holds
                label += f" ({theme.subthemes} sub-themes; largest: {theme.largest})"
            table.add_row(plain_line(label), str(theme.size),
                          f"{theme.share:.0%}", f"+{theme.positive} / -{theme.negative}", plain_line(theme.change or ""))
        console.print(table)
    if report.links:
        coverage = report.links.get("coverage", {})
        console.print(
            f"Links: {report.links['significant']} significant theme x segment pairs (of {report.links['pairs']} tested); "
            f"{coverage.get('scored', 0):,} of {coverage.get('units', 0):,} analysed mentions belong to a scored customer, "
            f"{coverage.get('anonymous', 0):,} are anonymous."
        )
    console.print(f"Briefs: {len(report.briefs)} written" + (f" to {Path(report.briefs[0]).parent}/" if report.briefs else ""))
    console.print("Timings (s): " + ", ".join(f"{k} {v}" for k, v in report.timings.items()))
    for failure in report.failures:
        console.print(line(("failed:", "red"), " ", plain_line(failure["error"])))
    console.print(line("Next: ", plain_line(f"insight --db {db_path} tui", "bold"), " to browse; ",
                       ("insight --help", "bold"), " for every command."))


COMMANDS = [demo]
