"""What parsers produce and what the store consumes: plain dataclasses, no database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ingest.errors import Rejected
from insight.core.identity import Identifier
from insight.core.window import Window


@dataclass
class UnitDraft:
    text: str
    kind: str  # answer | turn | review | message
    question: str | None = None
    speaker: str | None = None
    role: str = "customer"  # customer | interviewer | agent | system
    analyse: bool = True
    turn: int | None = None
    started_at: str | None = None
    ended_at: str | None = None


@dataclass
class DocumentDraft:
    source: str
    external_id: str
    created_at: str | None = None  # ISO 8601
    identifiers: list[Identifier] = field(default_factory=list)
    title: str | None = None
    rating: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    units: list[UnitDraft] = field(default_factory=list)
    attributes: list[tuple[str, str]] = field(default_factory=list)
    record: str = ""  # where it came from in the file, for messages
    # ids an earlier version of the importer gave this record: a stored document found under one of them is
    # this record (it is updated and takes the new id), not another one
    previous_ids: list[str] = field(default_factory=list)

    def content_hash(self) -> str:
        """Hash of everything parsed: a re-import with the same hash is a duplicate."""
        payload = {
            "created_at": self.created_at,
            "identifiers": sorted(i.key for i in self.identifiers),
            "title": self.title,
            "rating": self.rating,
            "metadata": self.metadata,
            "units": [asdict(u) for u in self.units],
            "attributes": sorted(self.attributes),
        }
        encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


@dataclass
class ParsedFile:
    path: str
    kind: str
    format: str
    documents: list[DocumentDraft]
    rejected: list[Rejected] = field(default_factory=list)
    rows_read: int = 0
    details: dict[str, Any] = field(default_factory=dict)  # e.g. interviewer taken, columns classified


@dataclass
class ImportOptions:
    window: Window | None = None
    redact: bool = True
    keep_raw: bool = False
    strict: bool = False  # fail the whole file on any rejected record


@dataclass
class ImportSummary:
    path: str
    kind: str
    format: str
    batch_id: int | None
    rows_read: int
    imported: int
    updated: int
    duplicates: int
    rejected: list[Rejected]
    units: int = 0  # passages: answers, messages, reviews, interview passages
    mentions: int = 0  # what they were split into (the stored units)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "kind": self.kind,
            "format": self.format,
            "batch_id": self.batch_id,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "rejected_records": [r.as_dict() for r in self.rejected],
            "units": self.units,
            "mentions": self.mentions,
            "details": self.details,
        }


def format_family(fmt: str) -> str:
    """The tool behind a format ('zendesk_csv' and 'zendesk' are both Zendesk's): an old id is only ever
    matched to a record the same tool wrote."""
    return fmt.split("_")[0].split("+")[0]
