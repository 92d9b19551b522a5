"""Writing parsed feedback into the database: one transaction per file, idempotent by external id + hash."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from ingest.errors import ImportFailure
from ingest.mentions import MENTIONS_VERSION, Mention, MentionSplitter
from ingest.model import DocumentDraft, ImportOptions, ImportSummary, ParsedFile, UnitDraft, format_family
from ingest.reading import file_sha256
from insight.core.clock import Clock, utc_now_iso
from insight.core.db import inserted_id, transaction
from insight.core.identity import CustomerResolver
from insight.core.redact import Redactor
from insight.core.text import text_hash
from insight.core.theme_counts import refresh_scopes
from insight.core.window import Window

Progress = Callable[[int], None]
REDACT_CHUNK = 1000  # documents redacted per NER batch


def month_window(created_at: str | None) -> Window | None:
    """The calendar month a document falls in: the default window when the user gives none."""
    if not created_at:
        return None
    try:
        day = datetime.fromisoformat(created_at).date()
    except ValueError:
        return None
    return Window.month(day.year, day.month)


@dataclass
class UnitRow:
    """One unit as stored: a mention of a passage, redacted, with its place in the document."""

    kind: str
    question: str | None
    speaker: str | None
    role: str
    analyse: bool
    turn: int | None
    passage: int
    context: str | None
    text: str
    raw_text: str | None
    started_at: str | None
    ended_at: str | None


def store_parsed(
    db: sqlite_utils.Database,
    parsed: ParsedFile,
    options: ImportOptions,
    redactor: Redactor,
    clock: Clock = utc_now_iso,
    progress: Progress | None = None,
    splitter: MentionSplitter | None = None,
) -> ImportSummary:
    """Write a parsed file atomically: new documents inserted, changed ones updated in place, same ones skipped.

    Redaction and mention splitting (the slow, model-bound work) run before the write transaction, so the
    write lock is held only for the inserts and another import or a reader never waits on spaCy.
    """
    if options.strict and parsed.rejected:
        first = parsed.rejected[0]
        raise ImportFailure(parsed.path, first.reason, record=first.record)
    splitter = splitter or MentionSplitter(loader=redactor.pipeline)
    sha = file_sha256(parsed.path)
    summary = ImportSummary(
        parsed.path, parsed.kind, parsed.format, None, parsed.rows_read, 0, 0, 0, list(parsed.rejected),
        details=dict(parsed.details),
    )
    docs, dropped, merged = _dedupe_within_file(parsed.documents)
    if dropped or merged:
        summary.details["repeated_in_file"] = {"identical_dropped": dropped, "merged": merged}
    seen = _existing_hashes(db, docs, parsed.format)
    prepared = _prepare_units(
        [d for d in docs if seen.get((d.source, d.external_id), (None, None))[1] != d.content_hash()],
        redactor, splitter, options, progress,
    )
    with transaction(db):
        existing = _existing_hashes(db, docs, parsed.format)  # again, under the lock: another import may have written since
        to_write = [d for d in docs if existing.get((d.source, d.external_id), (None, None))[1] != d.content_hash()]
        late = [d for d in to_write if id(d) not in prepared]
        if late:
            prepared.update(_prepare_units(late, redactor, splitter, options, None))
        summary.duplicates = len(docs) - len(to_write)
        windows = [options.window or month_window(d.created_at) for d in docs]
        batch_window = options.window or _span(windows)
        batch_id = inserted_id(db.conn.execute(
            """INSERT INTO import_batches (kind, format, file_path, file_sha256, window_start, window_end,
               rows_read, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                parsed.kind, parsed.format, parsed.path, sha,
                batch_window.start.isoformat() if batch_window else None,
                batch_window.end.isoformat() if batch_window else None,
                parsed.rows_read, clock(),
            ),
        ))
        summary.batch_id = batch_id
        resolver = CustomerResolver(db, parsed.kind, clock)
        themed = _themed_scopes(db, [existing[(d.source, d.external_id)][0] for d in to_write
                                     if (d.source, d.external_id) in existing])
        for doc in to_write:
            window = options.window or month_window(doc.created_at)
            previous = existing.get((doc.source, doc.external_id))
            doc_id = _write_document(
                db, doc, parsed.format, window, summary.batch_id, resolver, previous[0] if previous else None
            )
            if previous:
                summary.updated += 1
            else:
                summary.imported += 1
            summary.units += len(doc.units)
            summary.mentions += write_units(db, doc_id, prepared[id(doc)])
            if doc.attributes:
                db.conn.executemany(
                    "INSERT OR IGNORE INTO attributes (document_id, name, value) VALUES (?, ?, ?)",
                    [(doc_id, name, value) for name, value in doc.attributes],
                )
        if themed:  # updated documents' old mentions left their themes: their numbers move until the next run
            refresh_scopes(db, themed)
        summary.details["customers_created"] = resolver.created
        summary.details["customers_merged"] = resolver.merged
        summary.details["order_numbers_ambiguous"] = resolver.ambiguous
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


def write_units(db: sqlite_utils.Database, doc_id: int, rows: list[UnitRow]) -> int:
    """Insert a document's units in order and mark it as split by the current splitter."""
    db.conn.executemany(
        """INSERT INTO units (document_id, position, kind, question, speaker, role, analyse, turn, passage,
           context, text, raw_text, text_hash, started_at, ended_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                doc_id, position, r.kind, r.question, r.speaker, r.role, int(r.analyse), r.turn, r.passage,
                r.context, r.text, r.raw_text, text_hash(r.text), r.started_at, r.ended_at,
            )
            for position, r in enumerate(rows)
        ],
    )
    db.conn.execute("UPDATE documents SET mentions_version = ? WHERE id = ?", (MENTIONS_VERSION, doc_id))
    return len(rows)


def _prepare_units(
    docs: list[DocumentDraft],
    redactor: Redactor,
    splitter: MentionSplitter,
    options: ImportOptions,
    progress: Progress | None,
    chunk: int = REDACT_CHUNK,
) -> dict[int, list[UnitRow]]:
    """Each document's units, keyed by id(document): passages redacted (NER sees the whole passage), then
    the customer's analysable passages split into mentions. Context passages (an interviewer's question, an
    agent's reply) stay whole."""
    out: dict[int, list[UnitRow]] = {}
    for start in range(0, len(docs), chunk):
        part = docs[start : start + chunk]
        texts = [u.text for d in part for u in d.units]
        cleaned = iter(redactor.redact_many(texts) if options.redact else texts)
        redacted = [[next(cleaned) for _ in d.units] for d in part]
        to_split = [t for d, texts_ in zip(part, redacted, strict=True) for u, t in zip(d.units, texts_, strict=True)
                    if u.analyse]
        mentions = iter(splitter.split_many(to_split))
        for doc, texts_ in zip(part, redacted, strict=True):
            rows: list[UnitRow] = []
            for passage, (unit, clean) in enumerate(zip(doc.units, texts_, strict=True)):
                pieces = next(mentions) if unit.analyse else [Mention(clean)]
                rows += _mention_rows(unit, passage, pieces, unit.text if options.keep_raw else None)
            out[id(doc)] = rows
        if progress:
            progress(min(start + chunk, len(docs)))
    return out


def _mention_rows(unit: UnitDraft, passage: int, pieces: list[Mention], raw: str | None) -> list[UnitRow]:
    """A passage's units: one per mention (its courtesies as context), the raw text on the first only."""
    return [
        UnitRow(
            unit.kind, unit.question, unit.speaker, unit.role, unit.analyse and mention.context is None, unit.turn,
            passage, mention.context if unit.analyse else None, mention.text, raw if index == 0 else None,
            unit.started_at, unit.ended_at,
        )
        for index, mention in enumerate(pieces)
    ]


def rederive_mentions(
    db: sqlite_utils.Database, splitter: MentionSplitter, progress: Progress | None = None, chunk: int = 500
) -> int:
    """Split the documents an older splitter wrote (whole texts before mentions existed) into mentions.

    Works from the stored, already redacted units, so nothing is re-imported and nothing imported is lost: a
    passage's raw text (kept with --keep-raw) stays on its first mention. Unit ids change, so theme
    assignments of those documents go until the next `insight themes`. Returns how many documents were
    rewritten (those whose split did not change keep their units and ids).
    """
    ids = [r[0] for r in db.execute(
        "SELECT id FROM documents WHERE mentions_version IS NULL OR mentions_version < ? ORDER BY id",
        [MENTIONS_VERSION],
    ).fetchall()]
    rewritten = 0
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        marks = ",".join("?" * len(part))
        units: dict[int, list[tuple]] = {}
        for row in db.execute(
            f"""SELECT document_id, kind, question, speaker, role, analyse, turn, text, raw_text, started_at,
                ended_at, passage FROM units WHERE document_id IN ({marks}) ORDER BY document_id, position""",
            part,
        ):
            units.setdefault(row[0], []).append(row[1:])
        passages = [u for doc_id in part for u in _passages(units.get(doc_id, []))]
        mentions = iter(splitter.split_many([p[6] for p in passages if p[4]]))
        rows: dict[int, list[UnitRow]] = {}
        for doc_id in part:
            out: list[UnitRow] = []
            for index, p in enumerate(_passages(units.get(doc_id, []))):
                kind, question, speaker, role, analyse, turn, text, raw, started, ended = p
                unit = UnitDraft(text, kind, question, speaker, role, bool(analyse), turn, started, ended)
                out += _mention_rows(unit, index, next(mentions) if analyse else [Mention(text)], raw)
            rows[doc_id] = out
        with transaction(db):
            for doc_id in part:
                stored = [(u[6], bool(u[4])) for u in units.get(doc_id, [])]
                if stored == [(r.text, r.analyse) for r in rows[doc_id]]:
                    # Nothing to split: keep the units (and their ids, theme assignments) as they are.
                    db.conn.execute("UPDATE documents SET mentions_version = ? WHERE id = ?",
                                    (MENTIONS_VERSION, doc_id))
                    continue
                db.conn.execute("DELETE FROM units WHERE document_id = ?", (doc_id,))
                write_units(db, doc_id, rows[doc_id])
                rewritten += 1
        if progress:
            progress(min(start + chunk, len(ids)))
    return rewritten


def _themed_scopes(db: sqlite_utils.Database, document_ids: list[int]) -> set[str]:
    """Scopes in which these documents' mentions have themes (an update will take those assignments away)."""
    scopes: set[str] = set()
    for start in range(0, len(document_ids), 500):
        part = document_ids[start : start + 500]
        marks = ",".join("?" * len(part))
        scopes |= {r[0] for r in db.conn.execute(
            f"""SELECT DISTINCT ut.scope FROM unit_themes ut JOIN units u ON u.id = ut.unit_id
                WHERE u.document_id IN ({marks})""", part)}
    return scopes


def _passages(units: list[tuple]) -> list[tuple]:
    """Stored units back as passages: mentions of one passage (same `passage`) joined, old whole units as is."""
    out: list[tuple] = []
    last_passage: object = object()
    for u in units:
        passage = u[10]
        if passage is not None and passage == last_passage and out:
            prev = out[-1]
            out[-1] = (*prev[:4], prev[4] or u[4], prev[5], f"{prev[6]} {u[6]}", prev[7] or u[7], prev[8], u[9])
        else:
            out.append(u[:10])
        last_passage = passage
    return out


def _dedupe_within_file(docs: list[DocumentDraft]) -> tuple[list[DocumentDraft], int, int]:
    """The same record more than once in one file, as (documents, repeats dropped, repeats merged).

    An identical repeat (a review on two pages) is kept once. A repeat that says more (a respondent's answers
    on several rows of a long export, a ticket's comments one per row) adds its units, attributes and
    identifiers to the record's first appearance: nothing the file holds is dropped, and the summary says so.
    """
    by_key: dict[tuple[str, str], DocumentDraft] = {}
    dropped = merged = 0
    for doc in docs:
        key = (doc.source, doc.external_id)
        first = by_key.get(key)
        if first is None:
            by_key[key] = doc
        elif doc.content_hash() == first.content_hash():
            dropped += 1
        else:
            merged += 1
            _merge_repeat(first, doc)
    return list(by_key.values()), dropped, merged


def _merge_repeat(first: DocumentDraft, repeat: DocumentDraft) -> None:
    """`repeat`'s units, attributes and identifiers not already in `first`, added to it (in file order)."""
    units = {(u.text, u.question, u.speaker) for u in first.units}
    first.units.extend(u for u in repeat.units if (u.text, u.question, u.speaker) not in units)
    first.attributes.extend(a for a in repeat.attributes if a not in first.attributes)
    keys = {i.key for i in first.identifiers}
    first.identifiers.extend(i for i in repeat.identifiers if i.key not in keys)
    for name, value in repeat.metadata.items():
        first.metadata.setdefault(name, value)
    first.created_at = first.created_at or repeat.created_at
    first.title = first.title or repeat.title
    first.rating = first.rating if first.rating is not None else repeat.rating


def _existing_hashes(
    db: sqlite_utils.Database, docs: list[DocumentDraft], fmt: str,
) -> dict[tuple[str, str], tuple[int, str]]:
    found: dict[tuple[str, str], tuple[int, str]] = {}
    formats: dict[tuple[str, str], str] = {}
    sources = {d.source for d in docs}
    for source in sources:
        ids = [i for d in docs if d.source == source for i in (d.external_id, *d.previous_ids) if i]
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for doc_id, external_id, content_hash, stored_format in db.execute(
                "SELECT id, external_id, content_hash, format FROM documents "
                f"WHERE source = ? AND external_id IN ({marks})",
                [source, *chunk],
            ):
                found[(source, external_id)] = (doc_id, content_hash)
                formats[(source, external_id)] = stored_format
    family = format_family(fmt)
    for doc in docs:
        key = (doc.source, doc.external_id)
        if key not in found:
            legacy = next((found[(doc.source, i)] for i in doc.previous_ids if (doc.source, i) in found
                           and format_family(formats[(doc.source, i)]) == family), None)
            if legacy is not None:
                found[key] = (legacy[0], "")  # stored under its old id: rewritten with the new one
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
    return inserted_id(db.conn.execute(f"INSERT INTO documents ({columns}) VALUES ({marks})", tuple(values.values())))
