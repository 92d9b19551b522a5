"""`insight sentiment`: train a sentiment head on your own labels, or score a few texts with it."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from insight.commands.common import db_from_context, json_option
from insight.output import emit, fail, progress_bar


def _cache_db(ctx: click.Context):
    """The database whose embedding cache to use: the one given by --db/$INSIGHT_DB (which must exist: a typo
    is an error, not a new empty file), or the default one when it exists."""
    from insight.core.db import open_existing

    root = ctx.find_root()
    path = db_from_context(ctx)
    given = root.get_parameter_source("db_path") not in (None, click.core.ParameterSource.DEFAULT)
    return open_existing(path) if given or path.exists() else None


def _embedder(model: str | None):
    from insight.analysis.embed import EmbedderUnavailable, load_embedder

    try:
        return load_embedder(model)
    except EmbedderUnavailable as exc:
        raise fail(str(exc)) from None


@click.group("sentiment")
def sentiment() -> None:
    """Sentiment per mention: train a head on your own labelled sentences, or try it on a few texts.

    \b
    The shipped head (all-MiniLM-L6-v2) is used by default; one you train is used when
    $INSIGHT_SENTIMENT_HEAD names its file. Examples:
      insight sentiment train labels.tsv --out my-head.json
      insight sentiment score "Delivery took three weeks." "Love the fabric"
    """


@sentiment.command("train")
@click.argument("labels", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", metavar="NAME_OR_PATH", help="Sentence-transformers model (default: bundled all-MiniLM-L6-v2).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("sentiment-head.json"),
              show_default=True, help="Where to write the head (JSON).")
@click.option("--band", type=click.FloatRange(0, 1), default=None,
              help="Neutral band on P(pos) - P(neg) (default: chosen by cross-validation, or 1/3 for 0/1 labels).")
@json_option
@click.pass_context
def train(ctx: click.Context, labels: tuple[Path, ...], model: str | None, out: Path, band: float | None,
          as_json: bool) -> None:
    """Train a sentiment head on LABELS files (.csv or .tsv: text and label columns).

    \b
    Labels: negative/neutral/positive, or 0/1 (0 negative, 1 positive). With a database (--db, or an existing
    insight.db) the vectors come from and go to its embedding cache. Prints 5-fold cross-validated figures.
    """
    from insight.analysis.sentiment_train import LabelsError, embed_texts, read_labels, train_head

    try:
        rows = [row for path in labels for row in read_labels(path)]
    except LabelsError as exc:
        raise fail(str(exc)) from None
    embedder = _embedder(model)
    db = _cache_db(ctx)
    with progress_bar("embedding", len(rows), quiet=as_json) as update:
        vectors = embed_texts([r.text for r in rows], embedder, db, progress=lambda done, total: update(done))
    try:
        head, report = train_head(vectors, [r.label for r in rows], embedder.name, band=band,
                                  meta={"trained_on": [str(p) for p in labels]}, texts=[r.text for r in rows])
    except LabelsError as exc:
        raise fail(f"{', '.join(map(str, labels))}: {exc}") from None
    head.save(out)
    payload = {"out": str(out), "model": embedder.name, "classes": list(head.classes), "n": report.n,
               "cv": {"folds": report.folds, "C": report.c, "band": report.band, "accuracy": report.accuracy,
                      "macro_f1": report.macro_f1, "per_class_f1": report.per_class_f1,
                      "neutral_share": report.neutral_share}}

    def render(console: Console) -> None:
        console.print(f"Trained on {sum(report.n.values()):,} sentences {report.n} with {embedder.name}.")
        console.print(f"{report.folds}-fold cross-validated: accuracy {report.accuracy:.3f}, macro-F1 "
                      f"{report.macro_f1:.3f} over {', '.join(head.classes)} (C {report.c}); neutral band "
                      f"{report.band:.2f} holds {report.neutral_share:.0%} of held-out sentences.")
        console.print(f"Wrote {out}. Use it with: export INSIGHT_SENTIMENT_HEAD={out.resolve()}")

    emit(payload, as_json, render)


@sentiment.command("score")
@click.argument("texts", nargs=-1, required=True)
@click.option("--model", metavar="NAME_OR_PATH", help="Sentence-transformers model (default: bundled all-MiniLM-L6-v2).")
@click.option("--head", "head_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A head trained with `insight sentiment train` (default: $INSIGHT_SENTIMENT_HEAD or the shipped one).")
@click.option("--stars", type=click.FloatRange(1, 5), default=None, help="Star rating of a one-mention review (prior).")
@json_option
def score(texts: tuple[str, ...], model: str | None, head_path: Path | None, stars: float | None, as_json: bool) -> None:
    """Score TEXTS (each one mention) with the sentiment head, or VADER when the model has no head."""
    from insight.analysis.sentiment import SentimentHead, fallback_sentiment, with_star_prior

    embedder = _embedder(model)
    head = SentimentHead.load(head_path, model_name=embedder.name)
    if head is None:
        results, method = fallback_sentiment(list(texts)), "vader"
    else:
        results, method = head.score(embedder.encode(list(texts)), list(texts)), f"head ({head.model})"
    if stars is not None:
        results = [with_star_prior(r, stars, band=head.band if head else None) for r in results]
    payload = {"method": method, "results": [{"text": t, "label": r.label, "score": r.score}
                                             for t, r in zip(texts, results, strict=True)]}

    def render(console: Console) -> None:
        table = Table(title=f"sentiment by {method}")
        for column in ("label", "score", "text"):
            table.add_column(column, justify="right" if column == "score" else "left")
        for t, r in zip(texts, results, strict=True):
            table.add_row(r.label, f"{r.score:+.2f}", t)
        console.print(table)

    emit(payload, as_json, render)


COMMANDS = [sentiment]
