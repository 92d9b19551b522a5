"""`insight links` and `insight brief`: themes x segments statistics, and persona briefs per segment."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from insight.commands.common import db_from_context, json_option
from insight.core.db import open_existing
from insight.core.errors import InsightError
from insight.core.safe_text import printable
from insight.output import emit, fail, line, plain_line

if TYPE_CHECKING:
    from insight.analysis.links import AttributeRow, LinkReport, LinkRow, TransitionTheme

as_of_option = click.option("--as-of", "as_of", metavar="DATE", help="Use the latest RFM snapshot on or before DATE.")
window_option = click.option(
    "--window", metavar="W", help="Only feedback of this window: START..END (ISO dates) or a month YYYY-MM."
)


@click.command("links")
@as_of_option
@window_option
@click.option("--scope", metavar="S", help="One theme scope ('survey: <question>', interview, review, ticket) "
              "or a source kind (survey = every survey question).")
@click.option("--min-expected", default=5.0, show_default=True, help="Chi-square only when every expected count "
              "reaches this; Fisher's exact test otherwise.")
@click.option("--alpha", default=0.05, show_default=True, help="False discovery rate (Benjamini-Hochberg).")
@click.option("--min-support", default=5, show_default=True, type=click.IntRange(min=1),
              help="Over-indexed needs at least this many of the segment's customers (as well as q <= alpha).")
@click.option("--all", "show_all", is_flag=True, help="Every segment x theme pair, not only over-indexed ones.")
@json_option
@click.pass_context
def links(ctx: click.Context, as_of: str | None, window: str | None, scope: str | None, min_expected: float,
          alpha: float, min_support: int, show_all: bool, as_json: bool) -> None:
    """Which themes and survey answers over-index in which RFM segment (customers counted once each).

    Within a segment, themes are ranked by distinctiveness (z): the log-odds ratio with an informative prior
    (Monroe et al. 2008), which a theme raised by two customers cannot top; raw lift, counts and q stand beside it.
    """
    from insight.analysis.links import (
        compute_links,  # scipy takes a second to import: only when the command runs
    )

    db = open_existing(db_from_context(ctx))
    try:
        report = compute_links(db, as_of=as_of, window=window, scope=scope, min_expected=min_expected, alpha=alpha,
                               min_support=min_support)
    except InsightError as exc:
        raise fail(str(exc)) from None
    emit(links_payload(report, show_all), as_json, lambda console: render_links(console, report, show_all))


def shown_rows(report: LinkReport, show_all: bool) -> list[LinkRow]:
    """Over-indexed rows (or every row), segment by segment, most distinctive first."""
    from insight.analysis.links import rank_key, segment_sort_key, telling_level

    if not show_all:  # of a parent and its sub-themes, the level that says something (links.telling_level)
        return telling_level(report.over_indexed_rows(), lambda r: r.over_indexed)
    return sorted(report.rows, key=lambda r: (segment_sort_key(r.segment), *rank_key(r)))


def shown_attributes(report: LinkReport, show_all: bool) -> list[AttributeRow]:
    from insight.analysis.links import rank_key, segment_sort_key

    rows = report.attribute_rows if show_all else [r for r in report.attribute_rows if r.over_indexed]
    return sorted(rows, key=lambda r: (segment_sort_key(r.segment), *rank_key(r)))


def links_payload(report: LinkReport, show_all: bool) -> dict[str, Any]:
    rows = shown_rows(report, show_all)
    attributes = shown_attributes(report, show_all)
    coverage = asdict(report.coverage) | {
        "linked_share": report.coverage.linked_share,
        "scored_share": report.coverage.scored_share,
    }
    return {
        "snapshot": {
            "id": report.snapshot_id,
            "as_of": report.as_of,
            "previous_id": report.previous_snapshot_id,
            "previous_as_of": report.previous_as_of,
        },
        "window": report.window,
        "scope": report.scope,
        "alpha": report.alpha,
        "min_expected": report.min_expected,
        "min_support": report.min_support,
        "ranking": {
            "measure": "z-score of the log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008)",
            "prior_customers": report.prior_customers,
        },
        "tests": len(report.rows) + len(report.attribute_rows),
        "coverage": coverage,
        "rows": [asdict(r) for r in rows],
        "attribute_rows": [asdict(r) for r in attributes],
        "transition_themes": [asdict(t) for t in report.transition_themes],
        "notes": report.notes,
    }


def render_links(console: Console, report: LinkReport, show_all: bool) -> None:
    cov = report.coverage
    console.print(line(("Snapshot", "bold"), plain_line(
        f" {report.as_of or '(none)'} · window {report.window or 'all'}" + (f" · scope {report.scope}" if report.scope else "")
    )))
    console.print(
        f"Coverage: {cov.units:,} analysed units; {cov.linked:,} ({cov.linked_share:.0%}) linked to a customer, "
        f"{cov.scored:,} ({cov.scored_share:.0%}) to a scored customer; {cov.anonymous:,} anonymous, "
        f"{cov.not_scored:,} from customers not in the snapshot."
    )
    if cov.by_source:
        console.print(plain_line("  " + " · ".join(f"{s.source}: {s.scored}/{s.units} in a segment" for s in cov.by_source)))
    for note in report.notes:
        console.print(plain_line(note, "yellow"))
    rows = shown_rows(report, show_all)
    title = "segment x theme, most distinctive first within a segment (z)"
    if not show_all:
        title += f"; over-indexed: q <= {report.alpha:g}, at least {report.min_support} customers"
    table = Table(title=title)
    numeric = ("customers", "share", "lift", "z", "q", "mentions")
    for column in ("segment", "theme", "scope", *numeric):
        table.add_column(column, justify="right" if column in numeric else "left")
    for r in rows:
        label = r.theme_label + (" (parent theme)" if r.level == "parent" else "")
        table.add_row(plain_line(r.segment), plain_line(label), plain_line(r.scope),
                      f"{r.customers}/{r.segment_customers}", f"{r.share:.0%}",
                      f"{r.lift:.2f}", f"{r.score:.1f}", f"{r.q_value:.3g}" + (" *" if r.over_indexed else ""),
                      str(r.units))
    console.print(table if rows else "No theme over-indexes in any segment (try --all).")
    small = [r for r in report.rows if r.significant and not r.over_indexed]
    if small and not show_all:
        console.print(f"{len(small)} more significant segment x theme pair{'s' if len(small) > 1 else ''} rest on "
                      f"fewer than {report.min_support} customers: not called over-indexed (--all lists them).")
    attributes = shown_attributes(report, show_all)
    if attributes:
        at = Table(title="segment x survey answer")
        for column in ("segment", "question", "answer", "customers", "share", "lift", "z", "q"):
            at.add_column(column)
        for a in attributes:
            at.add_row(plain_line(a.segment), plain_line(a.name), plain_line(a.value),
                       f"{a.customers}/{a.segment_customers}", f"{a.share:.0%}",
                       f"{a.lift:.2f}", f"{a.score:.1f}", f"{a.q_value:.3g}" + (" *" if a.over_indexed else ""))
        console.print(at)
    if report.transition_themes:
        render_moves(console, report)


def render_moves(console: Console, report: LinkReport, moves: int = 8, per_move: int = 3) -> None:
    """The largest moves, each with the themes (raised by 2+ movers) most over-represented vs those who stayed."""
    by_move: dict[tuple[str, str], list[TransitionTheme]] = {}
    for t in report.transition_themes:
        by_move.setdefault((t.from_segment, t.to_segment), []).append(t)
    console.print(f"[bold]Moves since {report.previous_as_of}[/]: what movers said before moving "
                  "(share of movers with feedback vs those who stayed)")
    for (from_seg, to_seg), themes in list(by_move.items())[:moves]:
        first = themes[0]
        console.print(plain_line(f"  {from_seg} -> {to_seg}: {first.movers} customers, "
                                 f"{first.movers_with_feedback} with feedback"))
        shown = sorted((t for t in themes if t.customers >= 2), key=lambda t: -(t.share - (t.baseline_share or 0)))
        for t in shown[:per_move]:
            baseline = f"{t.baseline_share:.0%}" if t.baseline_share is not None else "n/a"
            console.print(plain_line(f"    {t.theme_label} ({t.scope}): {t.customers} ({t.share:.0%} vs {baseline})"))
        if not shown:
            console.print("    no theme raised by two or more of them")
    if len(by_move) > moves:
        console.print(f"  … {len(by_move) - moves} smaller moves (--json lists them all)")


@click.command("brief")
@click.option("--segment", "segments", multiple=True, metavar="NAME", help="A segment (repeatable); case-insensitive.")
@click.option("--all", "all_segments", is_flag=True, help="A brief for every segment of the snapshot.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write files here (one per segment).")
@as_of_option
@window_option
@click.option("--templates", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder with your own activation.toml / brief.toml / brief.html.")
@click.option("--min-support", default=5, show_default=True, type=click.IntRange(min=1),
              help="A theme is called over-indexed only when at least this many of the segment's customers raised it.")
@json_option
@click.pass_context
def brief(ctx: click.Context, segments: tuple[str, ...], all_segments: bool, fmt: str, out: Path | None,
          as_of: str | None, window: str | None, templates: Path | None, min_support: int, as_json: bool) -> None:
    """Persona briefs: who a segment is, what they say, why they buy, what stops them, how to reach them.

    One segment without --out prints the brief; otherwise one file per segment is written (default folder
    briefs/) and the paths are printed.
    """
    from insight.analysis.brief import build_brief, segments_in
    from insight.analysis.brief_render import render, write_briefs
    from insight.analysis.links import no_snapshot_message

    if not segments and not all_segments:
        raise fail("give --segment NAME (repeatable) or --all")
    db = open_existing(db_from_context(ctx))
    try:
        names = segments_in(db, as_of) if all_segments else list(segments)
        if not names:
            raise InsightError(no_snapshot_message(as_of))
        if len(names) == 1 and out is None:
            one = build_brief(db, names[0], as_of=as_of, window=window, templates=templates, min_support=min_support)
            if as_json:
                emit({"segment": one.segment, "brief": asdict(one)}, True, lambda c: None)
            else:
                click.echo(printable(render(one, fmt, templates)), nl=False)  # customers' words: no terminal control
            return
        paths = write_briefs(db, names, fmt, out or Path("briefs"), as_of=as_of, window=window, templates=templates,
                             min_support=min_support)
    except InsightError as exc:
        raise fail(str(exc)) from None
    def render_paths(console: Console) -> None:
        for path in paths:
            console.print(plain_line(path))

    emit({"format": fmt, "files": [str(p) for p in paths]}, as_json, render_paths)


COMMANDS = [links, brief]
