"""Post-purchase survey apps (Fairing, KnoCommerce, Zigpoll): one row per answer, grouped into responses.

Rows are grouped into one document by the first key present: a response id column, else the order
(number or id), else the customer email or id plus the day answered, else another system's respondent id
('student_id', 'user_id': a grouping key only, never taken for a customer) plus the day. The external id is that key
(`post_purchase:order:1001`), so next month's export, which repeats the rows, updates nothing. Each
question is judged open text or choice over all of its answers (as in `ingest.survey_columns`); the
'Other' free-text column always becomes a unit labelled '<question> (other)'.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ingest.dates import date_order, parse_datetime
from ingest.errors import ImportFailure, Rejected
from ingest.model import DocumentDraft, ParsedFile, UnitDraft
from ingest.sheets import Sheet
from ingest.survey_columns import CHOICE, EMAIL, OPEN, classify, identity_kind, is_blank, says_nothing
from ingest.survey_formats import Column, clean_header, long_columns, name_role
from ingest.survey_rows import misfit_rows, row_identifiers
from insight.core.identity import Identifier, identifier

_KEY_ROLES = {"order": "order", "email": "email", "customer_id": "customer_id"}


@dataclass
class _Group:
    key: str
    record: str
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def parse_long(
    sheet: Sheet, *, open_text: set[str], choice: set[str], known: dict[str, str] | None = None
) -> ParsedFile:
    found = long_columns(sheet)
    header = [clean_header(h) for h in sheet.rows[0]]
    width = len(header)
    parsed = ParsedFile(sheet.path, "survey", "post_purchase", [], rows_read=len(sheet.rows) - 1)
    if len(sheet.rows) < 2:
        raise ImportFailure(sheet.path, "the export has a header but no answers", expected="data rows")
    used = set(found.values())
    columns = [
        Column(i, h, h, _KEY_ROLES.get(_key_of(found, i), "meta") if i in used else name_role(h, "post_purchase"))
        for i, h in enumerate(header)
    ]
    for column in columns:
        if column.index in used and column.role == "meta":
            column.role = "skip"  # question, response, other, response id, date: read below
        elif column.role == "question":
            column.role = "meta"
    q_at, r_at, other_at, date_at = found["question"], found["response"], found.get("other"), found.get("date")
    order = date_order(r[date_at] for r in sheet.rows[1:] if date_at is not None and date_at < len(r))
    date_column = header[date_at] if date_at is not None else ""
    dayfirst = order.dayfirst
    groups: dict[str, _Group] = {}
    by_question: dict[str, list[str]] = defaultdict(list)
    misfits = misfit_rows(sheet, 1, width)
    for i in range(1, len(sheet.rows)):
        row, record = sheet.rows[i], sheet.record(i)
        if i in misfits:
            parsed.rejected.append(Rejected(record, misfits[i]))
            continue
        row = row[:width] + [""] * (width - len(row))
        question = " ".join(row[q_at].split())
        if not question:
            parsed.rejected.append(Rejected(record, f"no question in column {header[q_at]!r}"))
            continue
        date_raw = row[date_at].strip() if date_at is not None else ""
        if date_raw and parse_datetime(date_raw, dayfirst=dayfirst) is None:
            parsed.rejected.append(Rejected(record, f"unreadable date {date_raw!r} in column {date_column!r}"))
            continue
        key = _group_key(row, found, date_raw, dayfirst)
        if key is None:
            parsed.rejected.append(Rejected(record, "no response id, order or customer to group this answer by"))
            continue
        groups.setdefault(key, _Group(key, record)).rows.append((i, row))
        by_question[question].append(row[r_at])
    kinds = _question_kinds(sheet, by_question, open_text, choice, known or {})
    for group in groups.values():
        doc = _document(group, columns, kinds, q_at, r_at, other_at, date_at, dayfirst)
        if doc is not None:
            parsed.documents.append(doc)
    open_qs = [q for q, k in kinds.items() if k == OPEN]
    choice_qs = [q for q, k in kinds.items() if k == CHOICE]
    identity_qs = {q: "customer key" if k == EMAIL else "dropped" for q, k in kinds.items() if k in (EMAIL, _DROP)}
    if identity_qs:
        parsed.details["identity_questions"] = identity_qs
    parsed.details.update({
        "open_text": open_qs, "choices": choice_qs, "responses": len(groups),
        "note": f"{len(groups)} responses from {parsed.rows_read} answer rows | open text: "
                f"{'; '.join(open_qs) or 'none'} | choices: {'; '.join(choice_qs) or 'none'}"
                + (f" | dates: {date_column} {order.label}: {order.reason}" if order.slashed else ""),
    })
    if order.slashed and date_at is not None:
        parsed.details["date_order"] = {date_column: f"{order.label}: {order.reason}"}
    return parsed


def _key_of(found: dict[str, int], index: int) -> str:
    return next(k for k, v in found.items() if v == index)


def _group_key(row: list[str], found: dict[str, int], date_raw: str, dayfirst: bool) -> str | None:
    for key in ("response_id", "order"):
        if key in found and row[found[key]].strip():
            return f"{key.replace('_', '')}:{row[found[key]].strip().lstrip('#')}"
    day = (parse_datetime(date_raw, dayfirst=dayfirst) or "")[:10]
    for key in ("email", "customer_id", "respondent"):
        if key in found and row[found[key]].strip():
            return f"{key.replace('_', '')}:{row[found[key]].strip().casefold()}:{day}"
    return None


def _question_kinds(
    sheet: Sheet, by_question: dict[str, list[str]], open_text: set[str], choice: set[str], known: dict[str, str]
) -> dict[str, str]:
    lowered = {q.casefold(): q for q in by_question}
    missing = sorted(n for n in open_text | choice if n.casefold() not in lowered)
    if missing:
        raise ImportFailure(sheet.path, f"--open-text/--choice name no question: {', '.join(missing)}",
                            expected=f"one of: {', '.join(by_question)}")
    forced = {n.casefold(): OPEN for n in open_text} | {n.casefold(): CHOICE for n in choice}
    kinds: dict[str, str] = {}
    for question, values in by_question.items():
        identity = None if question.casefold() in forced else identity_kind(question, values)
        if identity is not None:  # "What's your name?" asked as a question: never feedback
            kinds[question] = EMAIL if identity == EMAIL else _DROP
            continue
        kind = forced.get(question.casefold()) or known.get(question) or classify(values).kind
        kinds[question] = OPEN if kind == OPEN else CHOICE
    return kinds


_DROP = "drop"


def _document(
    group: _Group, columns: list[Column], kinds: dict[str, str], q_at: int, r_at: int, other_at: int | None,
    date_at: int | None, dayfirst: bool,
) -> DocumentDraft | None:
    units: list[UnitDraft] = []
    attributes: list[tuple[str, str]] = []
    metadata: dict[str, str] = {}
    identifiers: list[Identifier] = []
    dates: list[str] = []
    for _, row in group.rows:
        question, response = " ".join(row[q_at].split()), row[r_at].strip()
        ids, meta = row_identifiers(row, columns)
        identifiers.extend(i for i in ids if i not in identifiers)
        for name, value in meta.items():
            metadata.setdefault(name, value)
        if date_at is not None and (when := parse_datetime(row[date_at], dayfirst=dayfirst)):
            dates.append(when)
        if kinds[question] == EMAIL:
            if (ident := identifier("email", response)) is not None and ident not in identifiers:
                identifiers.append(ident)
        elif kinds[question] == _DROP:
            pass
        elif not is_blank(response):
            if kinds[question] == OPEN:
                if not says_nothing(response):
                    units.append(UnitDraft(text=response, kind="answer", question=question))
            else:
                attributes.append((question, response))
        other = row[other_at].strip() if other_at is not None else ""
        if other and not says_nothing(other):
            units.append(UnitDraft(text=other, kind="answer", question=f"{question} (other)"))
    if not units and not attributes:
        return None
    identifiers.sort(key=lambda i: ("email", "customer_id", "order").index(i.kind))
    return DocumentDraft(
        source="survey",
        external_id=f"post_purchase:{group.key}",
        created_at=min(dates) if dates else None,
        identifiers=identifiers,
        metadata=metadata,
        units=units,
        attributes=list(dict.fromkeys(attributes)),
        record=group.record,
    )
