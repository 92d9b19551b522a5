"""Survey exports into documents: one per response, a unit per open-text answer, attributes for choices.

`parse_survey` only parses; `ingest.store.store_parsed` writes. Decisions a user may want to know:
- Which columns are open text is judged by content (`ingest.survey_columns`), unless the tool says so
  (SurveyMonkey 'Open-Ended Response', Qualtrics `_TEXT`) or the user does (`--open-text`, `--choice`).
  The import details list how every question column was taken.
- External ids are the tool's response id prefixed with the format (`typeform:<#>`,
  `surveymonkey:<Respondent ID>`, `qualtrics:<ResponseId>`). Google Forms has none: a hash of the
  timestamp and email. Generic CSVs: the `id` column prefixed with a hash of the mapped question columns,
  so two unrelated surveys numbered 1, 2, 3 … do not overwrite each other. Whenever the id is missing or
  empty (no email on Google Forms, SurveyMonkey with blank Respondent IDs): `row-<hash>` of the date and
  the answers in header-name order (`row_hash`).
- Columns are read by header, never by position: units are ordered by question label and ids hash in
  header-name order, so an export with its columns reordered gives the same records.
- Identity questions (name, email, phone, address; `ingest.survey_columns.identity_kind`) are never
  analysed: an email becomes a customer key, the rest is dropped.
- Customer keys: email, customer id and order number columns (hidden fields included); a Shopify internal
  order id (10+ digits) is kept in metadata, not used as an order number. Names, IP addresses and
  locations are never stored.
- Blank answers are skipped; answers with nothing to analyse ('No', 'nothing') are kept as choices but
  never become units. A response with no answer at all is skipped and counted in the details.
- A CSV row with more or fewer cells than the header, or an unreadable date, is rejected (reported with its
  line); when more than `MISFIT_SHARE` of the rows do not line up, the header itself is off and the file
  is refused. Slashed dates are read day-first or month-first per column (`ingest.dates.date_order`),
  reported in the details with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from ingest.dates import date_order, parse_datetime
from ingest.errors import ImportFailure, Rejected
from ingest.model import DocumentDraft, ParsedFile, UnitDraft
from ingest.sheets import Sheet, read_sheet
from ingest.survey_columns import (
    CHOICE,
    EMAIL,
    EMPTY,
    OPEN,
    classify,
    identity_kind,
    is_blank,
    multi_select_separator,
    says_nothing,
    split_choice,
)
from ingest.survey_formats import (
    EXPECTED,
    FORMATS,
    Column,
    Layout,
    detect_format,
    generic_layout,
    normalise_format,
    split_title_row,
    wide_layout,
)
from ingest.survey_rows import misfit_rows, row_identifiers
from insight.core.identity import Identifier

# Tools that write several picks of one question into one cell (Google Forms ', ', Qualtrics ',').
_JOINED_PICKS = ("google_forms", "qualtrics", "generic")
_ID_COLUMN = {"typeform": "#", "surveymonkey": "Respondent ID", "qualtrics": "ResponseId"}


def parse_survey(
    path: Path, *, fmt: str | None, mapping: dict[str, list[str]], open_text: set[str], choice: set[str],
    known: dict[str, str] | None = None,
) -> ParsedFile:
    """Parse a survey export (format detected from its header unless given) into a ParsedFile.

    `known` maps question texts to 'open' or 'choice' as earlier imports stored them (see
    `known_question_kinds`): a small next-month export then reads its questions the same way instead of
    judging them afresh from a handful of answers.
    """
    try:
        chosen = normalise_format(fmt)
    except ValueError as exc:
        raise ImportFailure(path, str(exc)) from None
    if mapping and chosen not in (None, "generic"):
        raise ImportFailure(path, f"--map only applies to generic CSVs, not --format {chosen}")
    sheet, titles = split_title_row(read_sheet(path, EXPECTED))
    fmt_name = "generic" if mapping else chosen or detect_format(sheet)
    if fmt_name == "generic" and not mapping:
        raise ImportFailure(path, "--format generic needs a column mapping",
                            expected="--map id=ResponseNo,text=Q3,email=Email,date=Submitted")
    if fmt_name == "post_purchase":
        from ingest.survey_long import parse_long

        parsed = parse_long(sheet, open_text=open_text, choice=choice, known=known)
    else:
        layout = generic_layout(sheet, mapping) if fmt_name == "generic" else wide_layout(sheet, fmt_name, titles)
        parsed = parse_wide(sheet, layout, open_text=open_text, choice=choice, known=known)
    return _with_sheet_notes(parsed, sheet)


def _with_sheet_notes(parsed: ParsedFile, sheet: Sheet) -> ParsedFile:
    """Rows `read_sheet` left out (a cell over the limit) are rejected responses, and replaced bytes noted."""
    if sheet.rejected:
        parsed.rows_read += len(sheet.rejected)
        parsed.rejected = sorted([*parsed.rejected, *sheet.rejected], key=_record_number)
    if sheet.encoding_note:
        parsed.details["encoding"] = sheet.encoding_note
    return parsed


def _record_number(rejected: Rejected) -> int:
    number = rejected.record.rpartition(" ")[2]
    return int(number) if number.isdigit() else 0


def known_question_kinds(db: sqlite_utils.Database) -> dict[str, str]:
    """Question texts earlier survey imports stored as open text (units) or choices (attributes)."""
    choices = {name for (name,) in db.execute(
        "SELECT DISTINCT a.name FROM attributes a JOIN documents d ON d.id = a.document_id WHERE d.source = 'survey'")}
    opens = {q for (q,) in db.execute(
        "SELECT DISTINCT u.question FROM units u JOIN documents d ON d.id = u.document_id "
        "WHERE d.source = 'survey' AND u.question IS NOT NULL")}
    # A label stored both ways (two columns shared it once) says nothing about either: judged afresh.
    return {**{q: CHOICE for q in choices - opens}, **{q: OPEN for q in opens - choices}}


@dataclass
class Plan:
    """How one question column is read."""

    column: Column
    kind: str  # open | choice | option
    separator: str | None = None


def plan_columns(
    sheet: Sheet, layout: Layout, open_text: set[str], choice: set[str], known: dict[str, str] | None = None
) -> list[Plan]:
    """Classify question columns: the user's overrides, else the tool's hint, else how an earlier import
    stored the question, else the content."""
    known = known or {}
    questions = [c for c in layout.columns if c.role in ("question", "option")]
    wanted = {n.casefold() for n in open_text | choice}
    available = {n.casefold() for c in questions for n in (c.name, c.question)}
    missing = sorted(n for n in open_text | choice if n.casefold() not in available)
    if missing:
        raise ImportFailure(sheet.path, f"--open-text/--choice name no question column: {', '.join(missing)}",
                            expected=f"one of: {', '.join(dict.fromkeys(c.question for c in questions))}")
    forced_open = {n.casefold() for n in open_text}
    plans: list[Plan] = []
    identities = layout.identities
    rows = sheet.rows[layout.header_rows:]
    for column in questions:
        names = {column.name.casefold(), column.question.casefold()}
        values = [row[column.index] if column.index < len(row) else "" for row in rows]
        if column.role == "option" and not names & wanted:
            plans.append(Plan(column, "option"))
            continue
        identity = None if names & wanted else identity_kind(column.question, values)
        if identity is not None:
            column.role = "email" if identity == EMAIL else "drop"
            identities[column.question] = "customer key" if identity == EMAIL else f"{identity}: dropped"
            continue
        if names & wanted:
            kind, judged = (OPEN if names & forced_open else CHOICE), False
        elif column.hint in (OPEN, CHOICE):
            kind, judged = column.hint, False
        elif column.question in known:
            kind, judged = known[column.question], False
        else:
            kind, judged = classify(values).kind, True
        joined = layout.format in _JOINED_PICKS and (judged or kind == CHOICE)
        separator = multi_select_separator(values) if joined else None
        if separator and classify([p for v in values for p in split_choice(v, separator)]).kind == CHOICE:
            kind = CHOICE if judged and kind != EMAIL else kind
        else:
            separator = None
        if kind == EMAIL:
            column.role = "email"
        elif kind == EMPTY:
            column.role = "meta"
        elif kind == OPEN:
            plans.append(Plan(column, OPEN))
        else:
            plans.append(Plan(column, CHOICE, separator))
    return plans


def parse_wide(
    sheet: Sheet, layout: Layout, *, open_text: set[str], choice: set[str], known: dict[str, str] | None = None
) -> ParsedFile:
    """One document per data row of a wide export."""
    ids = layout.by_role("id")
    if layout.format in _ID_COLUMN and not ids:
        raise ImportFailure(sheet.path, f"no {_ID_COLUMN[layout.format]!r} column", record=sheet.record(0),
                            expected=f"a {layout.format} export with its response id column")
    if layout.format == "google_forms" and not layout.by_role("submitted"):
        raise ImportFailure(sheet.path, "no 'Timestamp' column", record=sheet.record(0),
                            expected="a Google Forms responses CSV")
    if len(sheet.rows) <= layout.header_rows:
        raise ImportFailure(sheet.path, "the export has a header but no responses", expected="data rows")
    width = len(sheet.rows[0])
    misfits = misfit_rows(sheet, layout.header_rows, width)
    plans = plan_columns(sheet, layout, open_text, choice, known)
    dates = _DateReader(sheet, layout)
    survey_key = _survey_key(plans) if layout.format == "generic" else ""
    parsed = ParsedFile(sheet.path, "survey", layout.format, [], rows_read=len(sheet.rows) - layout.header_rows)
    status = next((c for c in layout.columns if c.name.casefold() == "status"), None) \
        if layout.format == "qualtrics" else None
    empty = 0
    for i in range(layout.header_rows, len(sheet.rows)):
        row, record = sheet.rows[i], sheet.record(i)
        if i in misfits:
            parsed.rejected.append(Rejected(record, misfits[i]))
            continue
        row = row[:width] + [""] * (width - len(row))
        if status is not None and (kind := _not_a_response(row[status.index])):
            parsed.rejected.append(Rejected(record, f"a Qualtrics {kind} (Status {row[status.index].strip()!r}), "
                                                    "not a respondent's answers"))
            continue
        try:
            doc = _document(row, record, layout, plans, dates, survey_key)
        except _Reject as exc:
            parsed.rejected.append(Rejected(record, str(exc)))
            continue
        if doc is None:
            empty += 1
            continue
        parsed.documents.append(doc)
    parsed.details.update(_describe(plans, empty, layout, dates))
    return parsed


def _not_a_response(status: str) -> str | None:
    """Qualtrics' Status (its 'Response Type'): a preview or a test run by the survey's own team is no
    customer's answer. As text ("Survey Preview", "Survey Test") or as its numeric code, whose bits are flags:
    1 preview, 2 test (4 imported, 8 spam, 16 offline: 9 is a preview flagged as spam, 17 an offline preview)."""
    value = status.strip().casefold()
    if "preview" in value:
        return "survey preview"
    if value in {"survey test", "test"}:
        return "test response"
    if value.isdigit():
        code = int(value)
        if code & 1:
            return "survey preview"
        if code & 2:
            return "test response"
    return None


class _Reject(Exception):
    """One row is unusable; the message says why."""


class _DateReader:
    """Reads a layout's date columns, deciding day-first order once per column and applying time zones."""

    def __init__(self, sheet: Sheet, layout: Layout) -> None:
        self.utc = layout.dates_utc
        rows = sheet.rows[layout.header_rows:]
        self.columns = [*layout.by_role("submitted"), *layout.by_role("started")]
        self.orders = {
            c.index: date_order(row[c.index] for row in rows if c.index < len(row)) for c in self.columns
        }
        self.dayfirst = {index: order.dayfirst for index, order in self.orders.items()}

    def read(self, column: Column, row: list[str]) -> str | None:
        raw = row[column.index].strip()
        if not raw:
            return None
        value = parse_datetime(raw, dayfirst=self.dayfirst[column.index], assume_utc=self.utc)
        if value is None:
            raise _Reject(f"unreadable date {raw!r} in column {column.name!r} (expected a date such as "
                          "2026-10-03 14:22:10, 10/3/2026 14:22 or 3/10/26 14:22)")
        if column.tz and "+" not in value[10:] and "-" not in value[10:]:
            try:
                value = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(column.tz)).isoformat()
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return value

    def created_at(self, row: list[str]) -> tuple[str | None, str | None]:
        """(submitted or else started, started). An unreadable date rejects the row only when it is the one
        the response is dated by: a garbled start date next to a good submit date is left out."""
        found: dict[str, str] = {}
        errors: dict[str, _Reject] = {}
        for column in self.columns:
            try:
                value = self.read(column, row)
            except _Reject as exc:
                errors.setdefault(column.role, exc)
                continue
            if value:
                found.setdefault(column.role, value)
        if "submitted" in errors or ("started" in errors and "submitted" not in found):
            raise errors.get("submitted") or errors["started"]
        return found.get("submitted") or found.get("started"), found.get("started")


def _document(
    row: list[str], record: str, layout: Layout, plans: list[Plan], dates: _DateReader, survey_key: str
) -> DocumentDraft | None:
    created_at, started_at = dates.created_at(row)
    identifiers, metadata = row_identifiers(row, layout.columns)
    if started_at and started_at != created_at:
        metadata["started_at"] = started_at
    units: list[UnitDraft] = []
    attributes: list[tuple[str, str]] = []
    for plan in plans:
        value = row[plan.column.index]
        if is_blank(value):
            continue
        if plan.kind == OPEN:
            if not says_nothing(value):
                units.append(UnitDraft(text=value.strip(), kind="answer", question=plan.column.question))
        elif plan.kind == "option":
            attributes.append((plan.column.question, plan.column.option or value.strip()))
        else:
            attributes.extend((plan.column.question, part) for part in split_choice(value, plan.separator))
    if not units and not attributes:
        return None
    units.sort(key=lambda u: (u.question or "").casefold())  # column order never changes a record
    return DocumentDraft(
        source="survey",
        external_id=_external_id(row, layout, plans, created_at, identifiers, survey_key),
        previous_ids=[_legacy_id(row, layout, created_at, identifiers, survey_key)],
        created_at=created_at,
        identifiers=identifiers,
        metadata=metadata,
        units=units,
        attributes=list(dict.fromkeys(attributes)),
        record=record,
    )


def _external_id(
    row: list[str], layout: Layout, plans: list[Plan], created_at: str | None, identifiers: list[Identifier],
    key: str,
) -> str:
    """The tool's response id when it wrote one; else a stable hash (see `row_hash`)."""
    prefix = f"{layout.format}:{key + ':' if key else ''}"
    ids = layout.by_role("id")
    value = row[ids[0].index].strip() if ids else ""
    if value:
        return prefix + value
    if not ids and layout.format == "google_forms" and created_at and any(i.kind == "email" for i in identifiers):
        basis = [created_at, *(i.key for i in identifiers if i.kind == "email")]
        return prefix + hashlib.sha256("\x1f".join(basis).encode("utf-8")).hexdigest()[:20]
    return prefix + row_hash(row, layout, plans, created_at)


def _legacy_id(
    row: list[str], layout: Layout, created_at: str | None, identifiers: list[Identifier], key: str
) -> str:
    """The id earlier versions gave a response without one (a hash of the row in column order), so a
    database they wrote matches the same response again instead of storing it twice."""
    prefix = f"{layout.format}:{key + ':' if key else ''}"
    if layout.format == "google_forms" and created_at and any(i.kind == "email" for i in identifiers):
        basis = [created_at, *(i.key for i in identifiers if i.kind == "email")]
    else:
        basis = [created_at or "", *row]
    return prefix + hashlib.sha256("\x1f".join(basis).encode("utf-8")).hexdigest()[:20]


def row_hash(row: list[str], layout: Layout, plans: list[Plan], created_at: str | None) -> str:
    """A response's identity when the tool gave it none (Google Forms, SurveyMonkey with empty Respondent
    IDs): its date and its answers and customer keys in header-name order, so the next export, or the same
    file with its columns reordered, gives the same id. Tool metadata (collector, IP, network id) is left
    out: it is not the response."""
    kept = {id(p.column) for p in plans} | {
        id(c) for c in layout.columns if c.role in ("email", "order", "customer_id")
    }
    pairs = sorted(
        (c.question.casefold(), c.name.casefold(), row[c.index].strip())
        for c in layout.columns if id(c) in kept and not is_blank(row[c.index])
    )
    basis = [created_at or "", *("\x1e".join(pair) for pair in pairs)]
    return "row-" + hashlib.sha256("\x1f".join(basis).encode("utf-8")).hexdigest()[:20]


def _survey_key(plans: list[Plan]) -> str:
    names = sorted({p.column.question for p in plans})
    return hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:8]


def _describe(plans: list[Plan], empty: int, layout: Layout, dates: _DateReader) -> dict[str, object]:
    """What the user needs to check the classification and override it, and how dates and identity
    questions were read."""
    open_cols = list(dict.fromkeys(p.column.question for p in plans if p.kind == OPEN))
    choice_cols = list(dict.fromkeys(p.column.question for p in plans if p.kind != OPEN))
    details: dict[str, object] = {"open_text": open_cols, "choices": choice_cols}
    if empty:
        details["empty_responses"] = empty
    if layout.identities:
        details["identity_questions"] = dict(layout.identities)
    date_notes = {c.name: f"{dates.orders[c.index].label}: {dates.orders[c.index].reason}"
                  for c in dates.columns if dates.orders[c.index].slashed}
    if date_notes:
        details["date_order"] = date_notes
    note = (f"open text: {'; '.join(open_cols) or 'none'} | choices: {'; '.join(choice_cols) or 'none'}"
            " (override with --open-text/--choice)")
    if layout.identities:
        note += " | identity, not feedback: " + "; ".join(f"{q} ({how})" for q, how in layout.identities.items())
    if date_notes:
        note += " | dates: " + "; ".join(f"{name} {how}" for name, how in date_notes.items())
    details["note"] = note
    return details


__all__ = ["FORMATS", "known_question_kinds", "parse_survey", "parse_wide", "plan_columns", "row_identifiers"]
