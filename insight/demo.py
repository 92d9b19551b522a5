"""The whole pipeline on the bundled sample brand: import, segment, theme, link, brief.

Each step calls the same library functions as the individual commands, so the demo is also an end-to-end
check of them. Re-running it on the same database is cheap: imports are idempotent and embeddings cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from ingest.errors import ImportFailure
from ingest.model import ImportOptions, ImportSummary
from ingest.parsers import FOLDER_SUFFIXES, feedback_parser
from ingest.store import store_parsed
from insight.core.redact import Redactor
from insight.output import line, plain_line

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "sample"
# The sample brand's "today": its data ends on 2026-11-20. Fixed so the demo reads the same any day.
SAMPLE_AS_OF = date(2026, 11, 24)
WINDOW_DAYS = 30
# The sample brand reports in USD; its few Canadian orders are converted at this fixed rate (1 CAD = 0.73 USD).
SAMPLE_RATES = {"CAD": 0.73}

Log = Callable[[Any], None]  # a str, or a rich Text built with insight.output.line()


@dataclass
class DemoReport:
    imports: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    themes: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, Any] = field(default_factory=dict)
    briefs: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def sample_files(sample_dir: Path) -> dict[str, list[Path]]:
    """The sample's files grouped by import kind."""
    interviews = sample_dir / "interviews"
    reviews = sample_dir / "reviews"
    return {
        "orders": sorted(sample_dir.glob("orders*.csv")),
        "survey": sorted(sample_dir.glob("survey*.csv")),
        "interview": sorted(p for p in interviews.glob("*") if p.suffix.lower() in FOLDER_SUFFIXES["interview"]),
        "review": sorted(p for p in reviews.glob("*") if p.suffix.lower() in FOLDER_SUFFIXES["review"]),
        "ticket": sorted(sample_dir.glob("tickets*.json")),
    }


def import_sample(db: sqlite_utils.Database, sample_dir: Path, nlp: Any, report: DemoReport, log: Log) -> None:
    from ingest.orders import import_orders, product_names

    files = sample_files(sample_dir)
    redactor = Redactor(nlp=nlp, product_names_loader=lambda: product_names(db))  # read after the orders are in
    for kind in ("orders", "survey", "interview", "review", "ticket"):
        started = time.perf_counter()
        for path in files[kind]:
            try:
                if kind == "orders":
                    summary: ImportSummary = import_orders(db, path, fmt=None, mapping={}, strict=False, progress=None)
                else:
                    summary = store_parsed(db, feedback_parser(kind, db, lambda: nlp)(path), ImportOptions(), redactor)
            except ImportFailure as exc:
                report.failures.append({"file": str(path), "error": exc.message})
                log(line("  ", ("failed", "red"), " ", plain_line(exc.message)))
                continue
            report.imports.append(summary.as_dict())
        report.timings[f"import {kind}"] = round(time.perf_counter() - started, 2)
        done = [s for s in report.imports if s["kind"] == kind]
        log(
            f"  {kind:<9} {len(files[kind]):>3} files: {sum(s['imported'] for s in done):>5} new, "
            f"{sum(s['updated'] for s in done)} updated, {sum(s['duplicates'] for s in done)} duplicate, "
            f"{sum(s['rejected'] for s in done)} rejected"
        )
        if kind == "orders":
            load_sample_categories(db, sample_dir, report, log)


def load_sample_categories(db: sqlite_utils.Database, sample_dir: Path, report: DemoReport, log: Log) -> None:
    """The sample shop's SKU -> category sheet (its Shopify export has no product type): what
    `insight segments affinity --categories FILE` would store."""
    from ingest.sku_categories import load_category_map

    path = sample_dir / "product_categories.csv"
    if not path.exists():
        return
    try:
        loaded = load_category_map(db, path)
    except ImportFailure as exc:
        report.failures.append({"file": str(path), "error": exc.message})
        log(line("  ", ("failed", "red"), " ", plain_line(exc.message)))
        return
    log(plain_line(f"  categories: {loaded.skus} SKUs from {path.name}"))


def compute_segments(db: sqlite_utils.Database, as_of: date, report: DemoReport, log: Log) -> None:
    """Two snapshots, one window apart, so the demo can show who moved between segments."""
    from insight.analysis.rfm import RfmConfig, compute_snapshot

    started = time.perf_counter()
    config = RfmConfig(rates=dict(SAMPLE_RATES), currency="USD")
    for day in (as_of - timedelta(days=WINDOW_DAYS), as_of):
        summary = compute_snapshot(db, as_of=day, config=config)
        report.snapshots.append(_as_dict(summary))
    report.timings["segments"] = round(time.perf_counter() - started, 2)
    latest = report.snapshots[-1]
    log(f"  RFM snapshots as of {as_of - timedelta(days=WINDOW_DAYS)} and {as_of}: {latest.get('customers')} customers scored")


def compute_themes(db: sqlite_utils.Database, nlp: Any, model: str | None, report: DemoReport, log: Log) -> None:
    from insight.analysis.embed import load_embedder
    from insight.analysis.sentiment import scorer_for
    from insight.pipeline import theme_feedback

    started = time.perf_counter()
    embedder = load_embedder(model)
    report.timings["model load"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    for summary in theme_feedback(db, embedder, nlp, sentiment=scorer_for(embedder.name)):
        row = _as_dict(summary)
        report.themes.append(row)
    report.timings["themes"] = round(time.perf_counter() - started, 2)
    log(f"  {len(report.themes)} scopes themed with {getattr(embedder, 'name', model)}")


def compute_links_and_briefs(db: sqlite_utils.Database, out_dir: Path, report: DemoReport, log: Log) -> None:
    from insight.analysis.brief_render import write_briefs
    from insight.analysis.links import compute_links

    started = time.perf_counter()
    links = compute_links(db)
    significant = [r for r in links.rows if r.significant]
    report.links = {
        "snapshot_id": links.snapshot_id,
        "pairs": len(links.rows),
        "significant": len(significant),
        "coverage": _as_dict(links.coverage),
    }
    report.briefs = [str(p) for p in write_briefs(db, None, "md", out_dir)]
    report.timings["links + briefs"] = round(time.perf_counter() - started, 2)
    log(plain_line(f"  {len(significant)} significant theme x segment links; {len(report.briefs)} briefs in {out_dir}/"))


def _as_dict(value: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, dict):
        return value
    return {"value": str(value)}


def run_demo(
    db: sqlite_utils.Database,
    *,
    sample_dir: Path = SAMPLE_DIR,
    as_of: date = SAMPLE_AS_OF,
    model: str | None = None,
    spacy_model: str | None = None,
    briefs_dir: Path = Path("briefs"),
    log: Log = lambda message: None,
) -> DemoReport:
    from insight.analysis.nlp import cached_pipeline

    report = DemoReport()
    pipeline = cached_pipeline(spacy_model)
    report.notes.append(pipeline.message)
    log(line(("1/4 import", "bold"), " ", plain_line(sample_dir)))
    import_sample(db, sample_dir, pipeline.nlp, report, log)
    log("[bold]2/4 segments[/]")
    compute_segments(db, as_of, report, log)
    log("[bold]3/4 themes[/]")
    compute_themes(db, pipeline.nlp, model, report, log)
    log("[bold]4/4 links and briefs[/]")
    compute_links_and_briefs(db, briefs_dir, report, log)
    return report
