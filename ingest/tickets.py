"""`insight import ticket`: support conversations as documents, each customer message a unit.

Agent replies are kept for context (role 'agent', not analysed); internal notes are left out: the
customer never saw them and they are not the customer's words. Customer messages lose quoted
earlier mail, signatures, auto-replies and HTML; a message with nothing left becomes no unit. A
follow-up that only thanks or agrees ("Perfect, thanks!") is kept for context and not analysed.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ingest.email_clean import clean_message, is_acknowledgement
from ingest.errors import ImportFailure, Rejected
from ingest.fields import FieldError
from ingest.limits import MAX_DOCUMENT_CHARS, MAX_FIELD_CHARS
from ingest.model import DocumentDraft, ParsedFile, UnitDraft, format_family
from ingest.reading import JsonTooDeep, decode, load_json_limited, read_bytes, read_csv
from ingest.ticket_formats import (
    CSV_SHAPES,
    JSON_READERS,
    Message,
    Records,
    Ticket,
    detect_csv_shape,
    detect_json_format,
    guess_csv_mapping,
    read_csv_tickets,
    unwrap_records,
)
from insight.core.identity import identifier

CSV_FORMATS = tuple(shape.name for shape in CSV_SHAPES) + ("generic",)
FORMATS = tuple(JSON_READERS) + CSV_FORMATS
JSON_SHAPES_HELP = (
    "Freshdesk API JSON ([tickets] with description_text, conversations), Zendesk JSON ({\"tickets\": [...], \"users\": [...]}, one ticket per line, or {\"ticket\", \"comments\"}), "
    "Gorgias ({\"data\": [tickets with messages]}), Help Scout ({\"_embedded\": {\"conversations\"}}), "
    "Intercom ({\"conversations\": [...]})"
)


def parse_tickets(path: Path, *, fmt: str | None = None, mapping: dict[str, list[str]] | None = None) -> ParsedFile:
    """One help-desk export -> one document per ticket; the format is detected unless given."""
    path = Path(path)
    mapping = mapping or {}
    if fmt is not None and fmt not in FORMATS:
        raise ImportFailure(path, f"unknown ticket format {fmt!r}", expected=", ".join(FORMATS))
    decoded = decode(path, read_bytes(path))
    text = decoded.text
    if mapping or fmt in CSV_FORMATS or not text.lstrip().startswith(("{", "[")):
        fmt, (tickets, rejected) = _read_csv(path, text, fmt, mapping)
    else:
        data = load_json(path, text)
        if detect_json_format(data) is None:
            data = unwrap_records(data)
        fmt = fmt or detect_json_format(data)
        if fmt is None:
            raise ImportFailure(path, "not a ticket export this tool knows", expected=JSON_SHAPES_HELP)
        tickets, rejected = JSON_READERS[fmt](path, data)
    docs = []
    for ticket in tickets:
        try:
            docs.append(ticket_document(ticket, help_desk=fmt))
        except FieldError as exc:
            rejected.append(Rejected(ticket.record, str(exc)))
    tickets = [t for t in tickets if t.record not in {r.record for r in rejected}]
    messages = [u for d in docs for u in d.units]
    details: dict[str, Any] = {
        "messages": sum(len(t.messages) for t in tickets),
        "customer_messages": sum(1 for u in messages if u.role == "customer"),
        "internal_notes_skipped": sum(1 for t in tickets for m in t.messages if not m.public),
        "empty_after_cleaning": sum(1 for t in tickets for m in t.messages if m.public) - len(messages),
    }
    if decoded.note:
        details["encoding"] = decoded.note
    return ParsedFile(str(path), "ticket", fmt, docs, rejected, rows_read=len(tickets) + len(rejected), details=details)


def _read_csv(path: Path, text: str, fmt: str | None, mapping: dict[str, list[str]]) -> tuple[str, Records]:
    table = read_csv(path, text, long_cells="keep")
    if mapping or fmt == "generic":
        return "generic", read_csv_tickets(path, table, None, mapping)
    shape = next((s for s in CSV_SHAPES if s.name == fmt), None) or detect_csv_shape(table.rows[0])
    guessed = guess_csv_mapping(path, table.rows[0]) if shape is None else None
    if guessed is not None:
        return "generic", read_csv_tickets(path, table, None, guessed)
    if shape is None:
        raise ImportFailure(
            path, "a CSV this tool does not recognise as Zendesk or Freshdesk", record="line 1",
            expected="--map id=COLUMN,text=COLUMN[,email=…,date=…,subject=…] for a generic ticket CSV",
        )
    return shape.name, read_csv_tickets(path, table, shape, mapping)


def load_json(path: Path, text: str) -> Any:
    """A JSON document, or JSON lines (Zendesk's full export writes one ticket per line); nested deeper than
    MAX_JSON_DEPTH is refused."""
    try:
        return load_json_limited(text)
    except JsonTooDeep as exc:
        raise ImportFailure(path, str(exc), expected="a ticket export (they nest a few levels)") from None
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise ImportFailure(path, f"invalid JSON: {exc.msg}", record=f"line {exc.lineno}, column {exc.colno}",
                                expected="a JSON export or one JSON object per line") from None
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = load_json_limited(line)
        except JsonTooDeep as exc:
            raise ImportFailure(path, str(exc), record=f"line {number}") from None
        except json.JSONDecodeError as exc:
            raise ImportFailure(path, f"invalid JSON: {exc.msg}", record=f"line {number}, column {exc.colno}",
                                expected="one JSON object per line") from None
        if isinstance(item, dict):
            item["__line__"] = number
        items.append(item)
    return items


def _in_order(messages: list[Message]) -> list[Message]:
    """Oldest first (Help Scout lists newest first); left as exported when times are missing or mixed."""
    try:
        if all(m.created_at for m in messages):
            return sorted(messages, key=lambda m: datetime.fromisoformat(m.created_at or ""))
    except (TypeError, ValueError):
        pass
    return messages


def ticket_document(ticket: Ticket, help_desk: str = "generic") -> DocumentDraft:
    """A ticket as a document. Its id is the help desk's own number, unique in that help desk only, so it is
    stored as '<help desk>:<number>' ('zendesk:3021'): Freshdesk's ticket 1 never overwrites Zendesk's ticket 1.
    A ticket stored by earlier versions under the bare number is matched by it (same help desk only)."""
    units: list[UnitDraft] = []
    visible = [m for m in _in_order(ticket.messages) if m.public]
    customer_spoke = False
    total = 0
    for turn, message in enumerate(visible):
        text = clean_message(message.body, is_html=message.is_html)
        if not text:
            continue
        if len(text) > MAX_FIELD_CHARS:
            raise FieldError(f"message {turn + 1} has {len(text):,} characters, over the limit of {MAX_FIELD_CHARS:,}")
        total += len(text)
        if total > MAX_DOCUMENT_CHARS:
            raise FieldError(f"the ticket's messages have over {MAX_DOCUMENT_CHARS:,} characters")
        # The customer's follow-ups that only say thanks are kept for context, not analysed.
        analyse = message.role == "customer" and not (customer_spoke and is_acknowledgement(text))
        customer_spoke = customer_spoke or message.role == "customer"
        units.append(UnitDraft(
            text=text, kind="message", role=message.role, analyse=analyse, turn=turn, started_at=message.created_at,
        ))
    identifiers = [i for i in (identifier("email", ticket.email), identifier("customer_id", ticket.customer_id)) if i]
    order = ticket.metadata.get("order")
    if order and (order_id := identifier("order", order)):
        identifiers.append(order_id)
    metadata = {k: v for k, v in ticket.metadata.items() if v not in (None, "", [])}
    metadata["messages"] = len(visible)
    return DocumentDraft(
        source="ticket", external_id=f"{format_family(help_desk)}:{ticket.id}", previous_ids=[ticket.id],
        created_at=ticket.created_at or (visible[0].created_at if visible else None),
        identifiers=identifiers, title=ticket.subject, metadata=metadata, units=units, record=ticket.record,
    )
