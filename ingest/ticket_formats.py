"""Help-desk exports read into one neutral shape: a ticket with its messages, each tagged with who wrote it.

One reader per tool (Zendesk JSON and CSV, Freshdesk JSON and CSV, Gorgias, Help Scout, Intercom, a mapped CSV).
Readers decide roles (customer / agent / system) and visibility from each tool's own fields; cleaning
the text and building documents happens in `ingest.tickets`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest import fields
from ingest.dates import guess_dayfirst, parse_datetime
from ingest.email_clean import placeholder_name
from ingest.errors import ImportFailure, Rejected
from ingest.fields import FieldError
from ingest.limits import MAX_MARKUP_CHARS
from ingest.reading import CsvTable, header_index, long_cell_reason, misaligned_rows


@dataclass
class Message:
    body: str
    role: str  # customer | agent | system
    is_html: bool | None = None  # None: decide from the text
    public: bool = True  # False: an internal note, never imported
    created_at: str | None = None


@dataclass
class Ticket:
    id: str
    record: str
    subject: str | None = None
    created_at: str | None = None
    email: str | None = None
    customer_id: str | None = None  # the shop's own customer id, when the help desk carries it
    messages: list[Message] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


Records = tuple[list[Ticket], list[Rejected]]


def when(value: Any, *, dayfirst: bool = False, name: str = "date") -> str | None:
    """ISO 8601 from ISO strings, '2026-10-03 14:22:10', or epoch seconds (Intercom); a wrong type or an
    impossible epoch is a FieldError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FieldError(f"{name} is {fields.kind_of(value)}, expected a date")
    if isinstance(value, (int, float)):
        return fields.epoch(value, name)
    if re.fullmatch(r"\d{9,10}", value.strip()):
        return fields.epoch(int(value), name)
    if len(value) > 100:
        raise FieldError(f"{name} has {len(value):,} characters, expected a date")
    return parse_datetime(value, dayfirst=dayfirst)


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _tags(value: Any, split: str | None = None) -> list[str]:
    """Tags as tools write them: ['a', 'b'], [{'name': 'a'}], [{'tag': 'a'}], {'tags': [...]}, 'a b' or 'a, b'."""
    if isinstance(value, dict):
        value = value.get("tags") or value.get("data") or []
    if isinstance(value, str):
        parts = re.split(split, value) if split else re.split(r"[,\s]+", value)
        return [p.strip() for p in parts if p.strip()]
    out = []
    for item in fields.items(value, "tags"):
        name = item.get("name") or item.get("tag") if isinstance(item, dict) else item
        if name:
            out.append(fields.scalar(name, "tags") or "")
    return [t for t in out if t]


def _id(value: Any, name: str = "id") -> str | None:
    return fields.scalar(value, name)


def _email(value: Any, name: str = "email") -> str | None:
    return fields.text(value, name, limit=320)


def _list_of(data: Any, *keys: str) -> list[Any] | None:
    """The record list from an export: a bare list, or under one of `keys` (nested paths with '.')."""
    if isinstance(data, list):
        return data
    for key in keys:
        found = _get(data, *key.split("."))
        if isinstance(found, list):
            return found
    return None


def _require_list(path: Path, data: Any, fmt: str, *keys: str) -> list[dict[str, Any]]:
    items = _list_of(data, *keys)
    if items is None:
        items = [data] if isinstance(data, dict) else None
    if items is None:
        raise ImportFailure(path, f"no {fmt} records found", expected=f"a list of records or {', '.join(keys)}")
    return items


# A record whose data does not fit what the reader expects (a number where a list belongs) is rejected with
# the error's message; FieldError names the field, the others are the rarer shapes no check foresaw.
_RECORD_ERRORS = (FieldError, TypeError, ValueError, AttributeError, KeyError, OverflowError, OSError)


def _checked(path: Path, items: list[Any], label: str, build: Callable[[dict[str, Any], str], Ticket | None]) -> Records:
    tickets: list[Ticket] = []
    rejected: list[Rejected] = []
    for i, item in enumerate(items, 1):
        record = f"record {i}"
        if not isinstance(item, dict):
            rejected.append(Rejected(f"{label} {record}", f"{fields.kind_of(item)}, not a JSON object"))
            continue
        if isinstance(item.get("__line__"), int):
            record = f"line {item['__line__']}"
        try:
            ticket_id = _id(item.get("id"))
            if ticket_id is None:
                rejected.append(Rejected(f"{label} {record}", "no id"))
                continue
            ticket = build(item, f"{label} {ticket_id} ({record})")
        except _RECORD_ERRORS as exc:
            reason = str(exc) if isinstance(exc, FieldError) else f"unexpected data ({type(exc).__name__}: {exc})"
            rejected.append(Rejected(f"{label} {record}", reason[:300]))
            continue
        if ticket is not None:
            tickets.append(ticket)
    return tickets, rejected


def _body(value: Any, name: str) -> str:
    """A message body: text, up to MAX_MARKUP_CHARS before HTML is stripped."""
    return fields.text(value, name, limit=MAX_MARKUP_CHARS) or ""


# --- Zendesk ------------------------------------------------------------------------------------------------


def read_zendesk_json(path: Path, data: Any) -> Records:
    """API pages ({"tickets", "users"}), one ticket ({"ticket", "comments"}) or the NDJSON full export."""
    users = {_id(u.get("id"), "users.id"): u for u in (_list_of(_get(data, "users")) or []) if isinstance(u, dict)
             and not isinstance(u.get("id"), (dict, list, bool))}
    if isinstance(data, dict) and isinstance(data.get("ticket"), dict):
        ticket = dict(data["ticket"])
        ticket.setdefault("comments", data.get("comments") or [])
        items: list[Any] = [ticket]
    else:
        items = _require_list(path, data, "Zendesk ticket", "tickets", "results")

    def build(t: dict[str, Any], record: str) -> Ticket:
        requester_id = _id(t.get("requester_id"), "requester_id")
        requester = users.get(requester_id) or fields.obj(t.get("requester"), "requester")
        email = _email(requester.get("email")) or _email(t.get("requester_email"), "requester_email")
        if not email and _get(t, "via", "channel") == "email":
            email = _email(_get(t, "via", "source", "from", "address"), "via.source.from.address")
        messages = []
        for c in fields.objects(t.get("comments"), "comments"):
            author_id = _id(c.get("author_id"), "comments.author_id")
            author = users.get(author_id) or {}
            is_customer = author_id == requester_id or author.get("role") == "end-user"
            html_body = _body(c.get("html_body"), "comments.html_body")
            plain = _body(c.get("plain_body"), "comments.plain_body") or _body(c.get("body"), "comments.body")
            messages.append(Message(
                body=plain or html_body or "", role="customer" if is_customer else "agent",
                is_html=None if plain else True, public=c.get("public", True) is not False,
                created_at=when(c.get("created_at"), name="comments.created_at"),
            ))
        description = _body(t.get("description"), "description")
        subject = fields.text(t.get("subject"), "subject") or fields.text(t.get("raw_subject"), "raw_subject")
        name = placeholder_name(description)
        if name and subject and name.casefold() in subject.casefold():
            subject = None  # 'Conversa com Ana Silva': the help desk's title for a chat, naming the customer
        if not messages and description:
            messages.append(Message(description, "customer", created_at=when(t.get("created_at"), name="created_at")))
        satisfaction = fields.scalar(_get(t, "satisfaction_rating", "score"), "satisfaction_rating.score")
        return Ticket(
            id=_id(t["id"]) or "", record=record, subject=subject,
            created_at=when(t.get("created_at"), name="created_at"), email=email,
            customer_id=_id(requester.get("external_id"), "requester.external_id"),
            messages=messages,
            metadata={
                "status": fields.scalar(t.get("status"), "status"), "priority": fields.scalar(t.get("priority"), "priority"),
                "type": fields.scalar(t.get("type"), "type"),
                "tags": _tags(t.get("tags")), "channel": fields.scalar(_get(t, "via", "channel"), "via.channel")
                or fields.scalar(t.get("channel"), "channel"),
                "updated_at": when(t.get("updated_at"), name="updated_at"),
                "solved_at": when(t.get("solved_at"), name="solved_at"),
                "satisfaction": satisfaction if satisfaction not in (None, "unoffered") else None,
                "requester_id": requester_id,
            },
        )

    return _checked(path, items, "ticket", build)


# --- Freshdesk ----------------------------------------------------------------------------------------------

# Freshdesk API v2 codes (developers.freshdesk.com/api/#tickets).
FRESHDESK_STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
FRESHDESK_PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
FRESHDESK_SOURCE = {1: "email", 2: "portal", 3: "phone", 4: "forum", 5: "twitter", 6: "facebook", 7: "chat",
                    8: "mobihelp", 9: "feedback widget", 10: "outbound email"}


def _code(value: Any, names: dict[int, str], name: str) -> str | None:
    """A Freshdesk number code as its name ('2' -> 'open'); an unknown code stays as given (custom statuses)."""
    code = fields.scalar(value, name)
    if code is None:
        return None
    return names.get(int(code), code) if code.isdigit() else code


def read_freshdesk_json(path: Path, data: Any) -> Records:
    """The Freshdesk API: a list of tickets (GET /api/v2/tickets), or one ticket with its conversations
    (?include=conversations,requester). Customer messages are the description and incoming conversations;
    private ones are notes."""
    items = _require_list(path, data, "Freshdesk ticket", "tickets", "results")

    def build(t: dict[str, Any], record: str) -> Ticket:
        requester_id = _id(t.get("requester_id"), "requester_id")
        requester = fields.obj(t.get("requester"), "requester")
        created = when(t.get("created_at"), name="created_at")
        description = fields.text(t.get("description_text"), "description_text") or fields.text(
            t.get("structured_description"), "structured_description")
        html = _body(t.get("description"), "description")
        messages = []
        if description or html:
            messages.append(Message(description or html, "customer", is_html=None if description else True,
                                    created_at=created))
        email = _email(requester.get("email"), "requester.email") or _email(t.get("email"))
        for c in fields.objects(t.get("conversations"), "conversations"):
            plain = fields.text(c.get("body_text"), "conversations.body_text")
            body = plain or _body(c.get("body"), "conversations.body")
            by_customer = c.get("incoming") is True or (
                requester_id is not None and _id(c.get("user_id"), "conversations.user_id") == requester_id)
            if by_customer and not email:
                email = _email(c.get("from_email"), "conversations.from_email")
            messages.append(Message(
                body=body, role="customer" if by_customer else "agent", is_html=None if plain else True,
                public=c.get("private") is not True, created_at=when(c.get("created_at"), name="conversations.created_at"),
            ))
        return Ticket(
            id=_id(t["id"]) or "", record=record, subject=fields.text(t.get("subject"), "subject"),
            created_at=created, email=email, messages=messages,
            metadata={
                "status": _code(t.get("status"), FRESHDESK_STATUS, "status"),
                "priority": _code(t.get("priority"), FRESHDESK_PRIORITY, "priority"),
                "channel": _code(t.get("source"), FRESHDESK_SOURCE, "source"),
                "type": fields.scalar(t.get("type"), "type"), "tags": _tags(t.get("tags")),
                "updated_at": when(t.get("updated_at"), name="updated_at"), "requester_id": requester_id,
            },
        )

    return _checked(path, items, "ticket", build)


# --- Gorgias ------------------------------------------------------------------------------------------------


def read_gorgias(path: Path, data: Any) -> Records:
    items = _require_list(path, data, "Gorgias ticket", "data", "tickets")

    def build(t: dict[str, Any], record: str) -> Ticket:
        customer = fields.obj(t.get("customer"), "customer")
        raw = fields.objects(t.get("messages"), "messages")
        messages = []
        for m in raw:
            plain = fields.text(m.get("body_text"), "messages.body_text") or fields.text(
                m.get("stripped_text"), "messages.stripped_text")
            messages.append(Message(
                body=plain or _body(m.get("body_html"), "messages.body_html"),
                role="agent" if m.get("from_agent") else "customer", is_html=None if plain else True,
                public=m.get("public", True) is not False and m.get("channel") != "internal-note",
                created_at=when(m.get("created_datetime") or m.get("sent_datetime"), name="messages.created_datetime"),
            ))
        return Ticket(
            id=_id(t["id"]) or "", record=record, subject=fields.text(t.get("subject"), "subject"),
            created_at=when(t.get("created_datetime"), name="created_datetime"),
            email=_email(customer.get("email"), "customer.email") or next(
                (_email(_get(m, "sender", "email"), "messages.sender.email") for m in raw if not _get(m, "from_agent")),
                None),
            customer_id=_id(customer.get("external_id"), "customer.external_id"), messages=messages,
            metadata={
                "status": fields.scalar(t.get("status"), "status"), "priority": fields.scalar(t.get("priority"), "priority"),
                "channel": fields.scalar(t.get("channel"), "channel"),
                "tags": _tags(t.get("tags")), "solved_at": when(t.get("closed_datetime"), name="closed_datetime"),
                "updated_at": when(t.get("updated_datetime"), name="updated_datetime"),
            },
        )

    return _checked(path, items, "ticket", build)


# --- Help Scout ---------------------------------------------------------------------------------------------

_HELPSCOUT_AGENT_TYPES = {"reply", "message"}
_HELPSCOUT_EITHER = {"chat", "phone"}


def read_helpscout(path: Path, data: Any) -> Records:
    items = _require_list(path, data, "Help Scout conversation", "_embedded.conversations", "conversations")

    def build(c: dict[str, Any], record: str) -> Ticket:
        customer = fields.obj(c.get("primaryCustomer") or c.get("customer"), "primaryCustomer")
        messages = []
        for th in fields.objects(_get(c, "_embedded", "threads") or c.get("threads"), "threads"):
            kind = str(th.get("type", "")).lower()
            by = str(_get(th, "createdBy", "type") or "").lower()
            if kind == "customer" or (kind in _HELPSCOUT_EITHER and by == "customer"):
                role = "customer"
            elif kind in _HELPSCOUT_AGENT_TYPES or kind in _HELPSCOUT_EITHER:
                role = "agent"
            else:  # note, lineitem (status changes), forwards: not part of the conversation
                continue
            messages.append(Message(
                body=_body(th.get("body"), "threads.body") or _body(th.get("text"), "threads.text"), role=role,
                is_html=True, public=kind != "note" and th.get("state", "published") in ("published", None),
                created_at=when(th.get("createdAt"), name="threads.createdAt"),
            ))
        return Ticket(
            id=_id(c["id"]) or "", record=record, subject=fields.text(c.get("subject"), "subject"),
            created_at=when(c.get("createdAt"), name="createdAt"),
            email=_email(customer.get("email"), "primaryCustomer.email"), messages=messages,
            metadata={
                "status": fields.scalar(c.get("status"), "status"),
                "channel": fields.scalar(c.get("type") or _get(c, "source", "type"), "type"),
                "tags": _tags(c.get("tags")), "solved_at": when(c.get("closedAt"), name="closedAt"),
                "number": fields.scalar(c.get("number"), "number"),
            },
        )

    return _checked(path, items, "conversation", build)


# --- Intercom -----------------------------------------------------------------------------------------------

_INTERCOM_CUSTOMER = {"user", "lead", "contact"}
_INTERCOM_SKIP_PARTS = {"note", "note_and_reopen"}


def read_intercom(path: Path, data: Any) -> Records:
    items = _require_list(path, data, "Intercom conversation", "conversations", "data")

    def role_of(author: Any) -> str:
        kind = str(_get(author, "type") or "").lower()
        return "customer" if kind in _INTERCOM_CUSTOMER else "agent" if kind == "admin" else "system"

    def build(c: dict[str, Any], record: str) -> Ticket:
        source = fields.obj(c.get("source"), "source")
        messages = []
        first = _body(source.get("body"), "source.body")
        if first:
            messages.append(Message(first, role_of(source.get("author")), True,
                                    created_at=when(c.get("created_at"), name="created_at")))
        parts = fields.items(_get(c, "conversation_parts", "conversation_parts"), "conversation_parts")
        for part in parts:
            if not isinstance(part, dict) or not part.get("body"):
                continue
            role = role_of(part.get("author"))
            if role == "system":  # bots and workflows: automated, not anyone's words
                continue
            messages.append(Message(_body(part["body"], "conversation_parts.body"), role, True,
                                    public=part.get("part_type") not in _INTERCOM_SKIP_PARTS,
                                    created_at=when(part.get("created_at"), name="conversation_parts.created_at")))
        contacts = fields.items(_get(c, "contacts", "contacts"), "contacts")
        first_contact = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
        author = fields.obj(source.get("author"), "source.author")
        return Ticket(
            id=_id(c["id"]) or "", record=record,
            subject=_plain(fields.text(source.get("subject"), "source.subject") or fields.text(c.get("title"), "title")),
            created_at=when(c.get("created_at"), name="created_at"),
            email=_email(author.get("email") if role_of(author) == "customer" else first_contact.get("email")),
            customer_id=_id(first_contact.get("external_id"), "contacts.external_id"), messages=messages,
            metadata={
                "status": fields.scalar(c.get("state"), "state"), "priority": fields.scalar(c.get("priority"), "priority"),
                "channel": fields.scalar(source.get("type"), "source.type"),
                "tags": _tags(c.get("tags")), "solved_at": when(_get(c, "statistics", "last_close_at"), name="last_close_at"),
                "updated_at": when(c.get("updated_at"), name="updated_at"),
            },
        )

    return _checked(path, items, "conversation", build)


def _plain(value: Any) -> str | None:
    if not value:
        return None
    return re.sub(r"<[^>]+>", "", str(value)).strip() or None


# --- CSV exports --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvShape:
    """Which header means what in one tool's CSV export (names compared case-insensitively)."""

    name: str
    signature: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    tag_split: str | None = None


CSV_SHAPES = (
    CsvShape("freshdesk", ("ticket id", "subject"), {
        "id": ("ticket id",), "text": ("description",), "subject": ("subject",),
        "email": ("requester email", "email", "contact email", "contact", "requester"),
        "date": ("created time", "created at"), "status": ("status",), "priority": ("priority",), "channel": ("source",),
        "type": ("type",), "tags": ("tags",), "solved_at": ("resolved time", "closed time"),
    }, tag_split=r"\s*,\s*"),
    CsvShape("zendesk_csv", ("id", "requester email"), {
        "id": ("id",), "text": ("description",), "subject": ("subject",), "email": ("requester email",),
        "customer_id": ("requester external id",), "date": ("created at",), "status": ("status",),
        "priority": ("priority",), "channel": ("via",), "type": ("ticket type",), "tags": ("tags",),
        "solved_at": ("solved at",), "satisfaction": ("satisfaction score",),
    }),
)
GENERIC_FIELDS = ("id", "text", "email", "customer_id", "order", "date", "subject", "status", "tags", "channel",
                  "priority", "role")
_AGENT_ROLE_VALUES = {"agent", "admin", "staff", "support", "true", "1", "yes", "operator", "team"}


# A ticket CSV no tool's shape fits, read without --map when its header names a ticket id and the message in
# words these lists hold ('ticket_id' + 'description', 'Ticket ID' + 'Ticket Description', 'latest_customer_message').
_GUESSED_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ticket id", "ticket number", "ticket no", "case id", "case number", "conversation id"),
    "text": ("description", "ticket description", "customer message", "latest customer message", "message",
             "message body", "body", "issue description", "complaint", "comment"),
    "subject": ("subject", "ticket subject", "title"),
    "email": ("requester email", "customer email", "email", "email address", "contact email"),
    "date": ("created at", "created", "created date", "date created", "created time", "timestamp", "date",
             "ticket created"),
    "status": ("status", "ticket status"), "priority": ("priority", "ticket priority"),
    "channel": ("channel", "ticket channel", "source", "via"), "tags": ("tags",),
}


def guess_csv_mapping(path: Path, header: list[str]) -> dict[str, list[str]] | None:
    """The --map a generic ticket CSV would need, from its header's names; None when no ticket id column is
    named, ImportFailure when one is but no message column (a metrics export holds no customer words)."""
    names = {" ".join(re.split(r"[\s_\-]+", h.strip().casefold())): h for h in reversed(header)}
    mapping: dict[str, list[str]] = {}
    for fieldname, candidates in _GUESSED_COLUMNS.items():
        found = next((names[c] for c in candidates if c in names), None)
        if found is not None:
            mapping[fieldname] = [found]
    if "id" in mapping and "text" not in mapping:
        raise ImportFailure(path, f"this ticket CSV ({mapping['id'][0]!r} ids) has no message text column",
                            record="line 1", expected="a column named one of: " + ", ".join(_GUESSED_COLUMNS["text"])
                            + " (or --map text=COLUMN)")
    return mapping if {"id", "text"} <= set(mapping) else None


def detect_csv_shape(header: list[str]) -> CsvShape | None:
    names = set(header_index(header))
    return next((s for s in CSV_SHAPES if all(col in names for col in s.signature)), None)


def read_csv_tickets(path: Path, table: CsvTable, shape: CsvShape | None, mapping: dict[str, list[str]]) -> Records:
    """One row per ticket (Freshdesk, Zendesk views) or, with --map, rows grouped by id (one row per message)."""
    header = table.rows[0]
    index = header_index(header)
    if shape is None:
        columns = _mapped_columns(path, header, mapping)
        tag_split = None
    else:
        columns = {f: [index[c] for c in names if c in index][:1] for f, names in shape.columns.items()}
        tag_split = shape.tag_split
    if not columns.get("text"):
        raise ImportFailure(path, f"this {shape.name if shape else 'ticket'} CSV has no message text column",
                            record="line 1", expected="a 'Description' column (select it when exporting)")
    tickets: dict[str, Ticket] = {}
    rejected: list[Rejected] = []

    def cell(row: list[str], fieldname: str) -> str | None:
        for i in columns.get(fieldname, []):
            if i < len(row) and row[i].strip():
                return row[i].strip()
        return None

    misfits = misaligned_rows(table, "ticket ids, subjects and dates")
    dayfirst = guess_dayfirst((cell(row, "date") or "")[:100] for i, row in enumerate(table.rows[1:], 1)
                              if i not in misfits)
    for offset, row in enumerate(table.rows[1:], 1):
        record = table.record(offset)
        if offset in misfits:
            rejected.append(Rejected(record, misfits[offset]))
            continue
        ticket_id = cell(row, "id")
        if ticket_id is None:
            rejected.append(Rejected(record, f"no ticket id in column {header[columns['id'][0]]!r}"))
            continue
        if (too_long := long_cell_reason(row, header)) is not None:
            rejected.append(Rejected(record, too_long))
            continue
        role = "agent" if (cell(row, "role") or "").lower() in _AGENT_ROLE_VALUES else "customer"
        try:
            date = when(cell(row, "date"), dayfirst=dayfirst)
            solved = when(cell(row, "solved_at"), dayfirst=dayfirst, name="solved at")
        except _RECORD_ERRORS as exc:
            rejected.append(Rejected(record, str(exc)[:300]))
            continue
        ticket = tickets.get(ticket_id)
        if ticket is None:
            ticket = tickets[ticket_id] = Ticket(
                id=ticket_id, record=f"ticket {ticket_id} ({record})", subject=cell(row, "subject"),
                created_at=date, email=cell(row, "email") if role == "customer" else None,
                customer_id=cell(row, "customer_id"),
                metadata={
                    "status": cell(row, "status"), "priority": cell(row, "priority"),
                    "channel": cell(row, "channel"), "type": cell(row, "type"),
                    "tags": _tags(cell(row, "tags") or "", tag_split), "solved_at": solved,
                    "satisfaction": _satisfaction(cell(row, "satisfaction")),
                },
            )
            if cell(row, "order"):
                ticket.metadata["order"] = cell(row, "order")
        elif role == "customer" and not ticket.email:
            ticket.email = cell(row, "email")
        for i in columns.get("text", []):
            if i < len(row) and row[i].strip():
                ticket.messages.append(Message(row[i], role, created_at=date))
    return list(tickets.values()), rejected


def _satisfaction(value: str | None) -> str | None:
    """Zendesk writes 'Unoffered' / 'Offered' when there is no score: not a rating."""
    return None if value is None or value.lower() in ("unoffered", "offered") else value


def _mapped_columns(path: Path, header: list[str], mapping: dict[str, list[str]]) -> dict[str, list[int]]:
    unknown = sorted(set(mapping) - set(GENERIC_FIELDS))
    if unknown:
        raise ImportFailure(path, f"--map names unknown field(s) {', '.join(unknown)}",
                            expected="fields among " + ", ".join(GENERIC_FIELDS))
    for required in ("id", "text"):
        if required not in mapping:
            raise ImportFailure(path, f"generic ticket CSV needs --map {required}=COLUMN",
                                expected="e.g. --map id=Ticket,text=Body,email=Requester,date=Created,subject=Subject")
    index = header_index(header)
    columns: dict[str, list[int]] = {}
    for fieldname, names in mapping.items():
        for name in names:
            if name.strip().casefold() not in index:
                raise ImportFailure(path, f"--map {fieldname}={name}: no such column", record="line 1",
                                    expected="one of the header's columns: " + ", ".join(header))
            columns.setdefault(fieldname, []).append(index[name.strip().casefold()])
    return columns


JSON_READERS: dict[str, Callable[[Path, Any], Records]] = {
    "zendesk": read_zendesk_json,
    "freshdesk": read_freshdesk_json,
    "gorgias": read_gorgias,
    "helpscout": read_helpscout,
    "intercom": read_intercom,
}


def unwrap_records(data: Any) -> Any:
    """Records under a key no tool's shape names (`{"zendesk_tickets": [...]}`, `{"export": {"items": [...]}}`,
    as scripts that saved an API's pages write them): the lone list of objects, found down to three objects deep;
    anything else comes back as it was."""
    node = data
    for _ in range(3):
        if not isinstance(node, dict):
            return data
        lists = [v for v in node.values() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
        objects = [v for v in node.values() if isinstance(v, dict)]
        if len(lists) == 1:
            return lists[0]
        if lists or len(objects) != 1:
            return data
        node = objects[0]
    return data


def detect_json_format(data: Any) -> str | None:
    """Which tool wrote this JSON, from the keys only that tool uses."""
    if isinstance(data, dict):
        if _is_freshdesk(data) or _is_freshdesk(next(iter(_list_of(data, "tickets") or []), None)):
            return "freshdesk"
        if "tickets" in data or isinstance(data.get("ticket"), dict):
            return "zendesk"
        if isinstance(_get(data, "_embedded", "conversations"), list):
            return "helpscout"
        if data.get("type") == "conversation.list" or isinstance(data.get("conversations"), list):
            return "intercom"
        items = _list_of(data, "data")
        sample = items[0] if items else data
    else:
        sample = data[0] if data else None
    if not isinstance(sample, dict):
        return None
    keys = set(sample)
    if _is_freshdesk(sample):
        return "freshdesk"
    if keys & {"requester_id", "submitter_id"} or ("via" in keys and "description" in keys):
        return "zendesk"
    if {"subject", "description"} <= keys and keys & {"requester_email", "requester_name", "requester", "zendesk_id"}:
        return "zendesk"  # a flattened Zendesk ticket (requester fields inlined), as reporting scripts save them
    if "messages" in keys and ("created_datetime" in keys or "customer" in keys):
        return "gorgias"
    if keys & {"primaryCustomer", "threads"} or isinstance(_get(sample, "_embedded", "threads"), list):
        return "helpscout"
    if "conversation_parts" in keys or sample.get("type") == "conversation":
        return "intercom"
    return None


# Keys of a Freshdesk ticket that Zendesk (which also has requester_id) never writes.
_FRESHDESK_KEYS = {"description_text", "fr_due_by", "fr_escalated", "responder_id", "fwd_emails", "reply_cc_emails"}


def _is_freshdesk(sample: Any) -> bool:
    return isinstance(sample, dict) and len(_FRESHDESK_KEYS & set(sample)) >= 1 and "id" in sample
