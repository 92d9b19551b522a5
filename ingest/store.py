"""Writing parsed feedback into the database: one transaction per file, idempotent by external id + hash."""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime

import sqlite_utils

from ingest.errors import ImportFailure
from ingest.model import DocumentDraft, ImportOptions, ImportSummary, ParsedFile, Window
from ingest.reading import file_sha256
from insight.clock import Clock, utc_now_iso
from insight.db import transaction
from insight.identity import CustomerResolver
from insight.redact import Redactor

Progress = Callable[[int], None]
REDACT_CHUNK = 1000  # documents redacted per NER batch


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def month_window(created_at: str | None) -> Window | None:
    """The calendar month a document falls in: the default window when the user gives none."""
    if not created_at:
        return None
    try:
        day = datetime.fromisoformat(created_at).date()
    except ValueError:
        return None
    last = calendar.monthrange(day.year, day.month)[1]
    return Window(date(day.year, day.month, 1), date(day.year, day.month, last))


def store_parsed(
    db: sqlite_utils.Database,
    parsed: ParsedFile,
    options: ImportOptions,
    redactor: Redactor,
    clock: Clock = utc_now_iso,
    progress: Progress | None = None,
) -> ImportSummary:
    """Write a parsed file atomically: new documents inserted, changed ones updated in place, same ones skipped."""
    if options.strict and parsed.rejected:
        first = parsed.rejected[0]
        raise ImportFailure(parsed.path, first.reason, record=first.record)
    sha = file_sha256(parsed.path)
    summary = ImportSummary(
        parsed.path, parsed.kind, parsed.format, None, parsed.rows_read, 0, 0, 0, list(parsed.rejected),
        details=dict(parsed.details),
    )
    docs = _dedupe_within_file(parsed.documents)
    with transaction(db):
        existing = _existing_hashes(db, docs)
        to_write = [d for d in docs if existing.get((d.source, d.external_id), (None, None))[1] != d.content_hash()]
        summary.duplicates = len(docs) - len(to_write)
        windows = [options.window or month_window(d.created_at) for d in docs]
        batch_window = options.window or _span(windows)
        batch_id = db.conn.execute(
            """INSERT INTO import_batches (kind, format, file_path, file_sha256, window_start, window_end,
               rows_read, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                parsed.kind, parsed.format, parsed.path, sha,
                batch_window.start.isoformat() if batch_window else None,
                batch_window.end.isoformat() if batch_window else None,
                parsed.rows_read, clock(),
            ),
        ).lastrowid
        summary.batch_id = int(batch_id)
        resolver = CustomerResolver(db, parsed.kind, clock)
        for done, doc, cleaned in _redacted_in_chunks(to_write, redactor, options.redact):
            window = options.window or month_window(doc.created_at)
            previous = existing.get((doc.source, doc.external_id))
            doc_id = _write_document(
                db, doc, parsed.format, window, summary.batch_id, resolver, previous[0] if previous else None
            )
            if previous:
                summary.updated += 1
            else:
                summary.imported += 1
            for position, (unit, clean) in enumerate(zip(doc.units, cleaned, strict=True)):
                db.conn.execute(
                    """INSERT INTO units (document_id, position, kind, question, speaker, role, analyse, turn,
                       text, raw_text, text_hash, started_at, ended_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        doc_id, position, unit.kind, unit.question, unit.speaker, unit.role, int(unit.analyse),
                        unit.turn, clean, unit.text if options.keep_raw else None, text_hash(clean),
                        unit.started_at, unit.ended_at,
                    ),
                )
                summary.units += 1
            if doc.attributes:
                db.conn.executemany(
                    "INSERT OR IGNORE INTO attributes (document_id, name, value) VALUES (?, ?, ?)",
                    [(doc_id, name, value) for name, value in doc.attributes],
                )
            if progress:
                progress(done)
        summary.details["customers_created"] = resolver.created
        summary.details["customers_merged"] = resolver.merged
        db.conn.execute(
            """UPDATE import_batches SET rows_imported = ?, rows_updated = ?, rows_duplicate = ?,
               rows_rejected = ?, details = ? WHERE id = ?""",
            (
                summary.imported, summary.updated, summary.duplicates, len(summary.rejected),
                json.dumps({**summary.details, "rejected": [r.as_dict() for r in summary.rejected]}),
                summary.batch_id,
            ),
        )
    return summary


def _redacted_in_chunks(
    docs: list[DocumentDraft], redactor: Redactor, redact: bool, chunk: int = REDACT_CHUNK
) -> Iterator[tuple[int, DocumentDraft, list[str]]]:
    """(documents done, document, its redacted unit texts): redaction (NER) runs a chunk at a time so the
    progress bar moves while it works, with chunks big enough for spaCy's batching and common-word stats."""
    for start in range(0, len(docs), chunk):
        part = docs[start : start + chunk]
        texts = [u.text for d in part for u in d.units]
        cleaned = iter(redactor.redact_many(texts) if redact else texts)
        for offset, doc in enumerate(part, start=start + 1):
            yield offset, doc, [next(cleaned) for _ in doc.units]


def _dedupe_within_file(docs: list[DocumentDraft]) -> list[DocumentDraft]:
    """The same record twice in one file (e.g. a review on two pages) is kept once: the last one wins."""
    by_key: dict[tuple[str, str], DocumentDraft] = {}
    for doc in docs:
        by_key[(doc.source, doc.external_id)] = doc
    return list(by_key.values())


def _existing_hashes(db: sqlite_utils.Database, docs: list[DocumentDraft]) -> dict[tuple[str, str], tuple[int, str]]:
    found: dict[tuple[str, str], tuple[int, str]] = {}
    sources = {d.source for d in docs}
    for source in sources:
        ids = [d.external_id for d in docs if d.source == source]
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for doc_id, external_id, content_hash in db.execute(
                f"SELECT id, external_id, content_hash FROM documents WHERE source = ? AND external_id IN ({marks})",
                [source, *chunk],
            ):
                found[(source, external_id)] = (doc_id, content_hash)
    return found


def _span(windows: list[Window | None]) -> Window | None:
    present = [w for w in windows if w]
    if not present:
        return None
    return Window(min(w.start for w in present), max(w.end for w in present))


def _write_document(
    db: sqlite_utils.Database,
    doc: DocumentDraft,
    fmt: str,
    window: Window | None,
    batch_id: int,
    resolver: CustomerResolver,
    previous_id: int | None,
) -> int:
    customer_id = resolver.resolve(doc.identifiers)
    customer_key = doc.identifiers[0].key if doc.identifiers else None
    if previous_id is not None and customer_id is None:
        # The same record seen without identifiers (a review on a page vs. in an export with the email)
        # keeps the customer link an earlier import established.
        customer_id, customer_key = db.execute(
            "SELECT customer_id, customer_key FROM documents WHERE id = ?", [previous_id]
        ).fetchone()
    values = {
        "source": doc.source,
        "external_id": doc.external_id,
        "format": fmt,
        "batch_id": batch_id,
        "customer_id": customer_id,
        "customer_key": customer_key,
        "created_at": doc.created_at,
        "window_start": window.start.isoformat() if window else None,
        "window_end": window.end.isoformat() if window else None,
        "title": doc.title,
        "rating": doc.rating,
        "content_hash": doc.content_hash(),
        "metadata": json.dumps(doc.metadata, ensure_ascii=False, default=str),
    }
    if previous_id is not None:
        db.conn.execute("DELETE FROM units WHERE document_id = ?", (previous_id,))
        db.conn.execute("DELETE FROM attributes WHERE document_id = ?", (previous_id,))
        assignments = ", ".join(f"{k} = ?" for k in values)
        db.conn.execute(f"UPDATE documents SET {assignments} WHERE id = ?", (*values.values(), previous_id))
        return previous_id
    columns = ", ".join(values)
    marks = ", ".join("?" * len(values))
    return int(db.conn.execute(f"INSERT INTO documents ({columns}) VALUES ({marks})", tuple(values.values())).lastrowid)
