"""Survey export layouts: telling the tools apart by their header rows and naming each column's role.

Detection looks only at the header rows:
- typeform: first column `#` (the response token), or `Submit Date (UTC)` / `Network ID` columns.
- google_forms: a `Timestamp` column (first, unless the columns were moved).
- surveymonkey: `Respondent ID` and `Collector ID` in row 1; row 2 holds the sub-answers
  (`Response`, `Open-Ended Response`, choice labels); a question's text spans its columns.
- qualtrics: `ResponseId` / `RecordedDate` export tags in row 1, question texts in row 2 and, in current
  exports, `{"ImportId":…}` JSON in row 3 (its `timeZone` is applied to the dates).
- post_purchase (Fairing, KnoCommerce, Zigpoll): one row per answer: a question column, a response
  column and an order, email or response id column.
- generic: any CSV with `--map` (see `generic_layout`).

A column's role comes from its name (`id`, `submitted`, `started`, `email`, `order`, `customer_id`,
`meta` for tool ids and hidden fields, `drop` for PII that is never stored: names, IP address, location)
or, failing that, it is a `question` judged by its content later (`ingest.survey_columns`).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field, replace

from ingest.errors import ImportFailure
from ingest.sheets import Sheet

WIDE_FORMATS = ("typeform", "google_forms", "surveymonkey", "qualtrics", "generic")
FORMATS = (*WIDE_FORMATS[:4], "post_purchase", "generic")
ALIASES = {
    "fairing": "post_purchase", "enquire": "post_purchase", "knocommerce": "post_purchase",
    "zigpoll": "post_purchase", "google": "google_forms", "googleforms": "google_forms",
    "google-forms": "google_forms", "survey_monkey": "surveymonkey", "monkey": "surveymonkey",
}
MAPPING_FIELDS = ("id", "text", "choice", "email", "customer_id", "order", "date")
EXPECTED = "a survey export (Typeform, Google Forms, SurveyMonkey, Qualtrics, Fairing/KnoCommerce) or a CSV with --map"

_NAME_ROLES: dict[str, str] = {
    **dict.fromkeys(("#", "respondent id", "responseid", "response id", "_recordid"), "id"),
    **dict.fromkeys(("submit date (utc)", "submit date", "submitted at", "recordeddate", "recorded date",
                     "timestamp", "end date"), "submitted"),
    **dict.fromkeys(("start date (utc)", "start date", "startdate", "started at"), "started"),
    **dict.fromkeys(("email", "e-mail", "email address", "email_address", "recipientemail", "recipient email",
                     "customer email", "customer_email", "emailaddress"), "email"),
    **dict.fromkeys(("order", "order_id", "order id", "orderid", "order_number", "order number", "order_name",
                     "order name", "order no", "order #"), "order"),
    **dict.fromkeys(("customer_id", "customer id", "customerid", "shopify_customer_id", "shopify customer id"),
                    "customer_id"),
    **dict.fromkeys(("first name", "last name", "first_name", "last_name", "recipientfirstname",
                     "recipientlastname", "recipient first name", "recipient last name", "ip address",
                     "ipaddress", "ip", "locationlatitude", "locationlongitude", "location latitude",
                     "location longitude", "locationaccuracy", "location accuracy", "name", "full name", "phone",
                     "phone number", "recipientphone", "recipient phone"), "drop"),
    **dict.fromkeys(("network id", "response type", "tags", "stage date (utc)", "collector id", "status",
                     "progress", "duration (in seconds)", "finished", "distributionchannel", "userlanguage",
                     "externalreference", "external data reference", "enddate", "score", "q_ballotboxstuffing",
                     "q_recaptchascore", "q_relevantidduplicate", "custom data 1", "custom data 2",
                     "custom data 3", "responseset", "response set", "externaldatareference", "distribution channel",
                     "user language", "q_url", "q_totalduration", "q_recaptchascore", "q_language", "duration"), "meta"),
}
# Qualtrics system fields: never answers, whatever the export calls them (legacy V1..V10 included).
_QUALTRICS_SYSTEM = re.compile(
    r"^(v\d+|q_[a-z_]+|response ?set|status|progress|finished|duration.*|ip ?address|location\w*|"
    r"recipient\w*|external\w*|distribution ?channel|user ?language|(start|end|recorded) ?date)$"
)
_META_INFO = re.compile(r"_(BROWSER|VERSION|OS|RESOLUTION|FIRST_CLICK|LAST_CLICK|PAGE_SUBMIT|CLICK_COUNT)$",
                        re.IGNORECASE)
# Typeform hidden fields and Qualtrics embedded data are identifiers such as `utm_source`, `order_id`.
_HIDDEN_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")
_TAGS = re.compile(r"<[^>]+>")
_LONG_QUESTION = ("question", "question title", "question_title", "question text", "question_text", "prompt")
_LONG_RESPONSE = ("response", "answer", "response value", "response_value", "answer text", "response text")


@dataclass
class Column:
    index: int
    name: str  # header (Qualtrics: the export tag)
    question: str  # what units and attributes are labelled with
    role: str  # id | submitted | started | email | order | customer_id | meta | drop | question | option
    option: str | None = None  # the choice a one-column-per-choice column stands for
    hint: str | None = None  # 'open' when the tool itself says the column is free text
    tz: str | None = None  # Qualtrics timeZone of a date column


@dataclass
class Layout:
    format: str
    header_rows: int
    columns: list[Column] = field(default_factory=list)
    dates_utc: bool = False
    identities: dict[str, str] = field(default_factory=dict)  # question -> how it was taken (for details)

    def by_role(self, role: str) -> list[Column]:
        return [c for c in self.columns if c.role == role]


def clean_header(text: str) -> str:
    """Headers as people read them: HTML tags (Typeform) and surrounding space removed."""
    return " ".join(_TAGS.sub("", text).split())


def field_words(row: list[str]) -> list[str]:
    """Headers as lower-case words, camel case split ("OriginalResponse" is "original response"): how a long
    export's columns are recognised by their words."""
    return [re.sub(r"(?<=[a-z])(?=[A-Z])", " ", clean_header(h)).casefold() for h in row]


def normalise_format(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    key = fmt.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise ValueError(f"unknown survey format {fmt!r}; known formats: {', '.join(FORMATS)} "
                         f"(also {', '.join(sorted(ALIASES))})")
    return key


def detect_format(sheet: Sheet) -> str:
    """The tool that wrote this export, from its header rows; ImportFailure saying in one line what was
    expected and what was found instead."""
    header = [clean_header(h).casefold() for h in sheet.rows[0]]
    names = set(header)
    second = {clean_header(h).casefold() for h in sheet.rows[1]} if len(sheet.rows) > 1 else set()
    if _is_qualtrics(names, second):
        return "qualtrics"
    if "respondent id" in names and _second_row_blank_under(sheet, header.index("respondent id")) and (
        names & {"collector id", "start date", "end date"} or second & {"response", "open-ended response"}
    ):
        return "surveymonkey"
    if header[0] == "#" or "submit date (utc)" in names or "network id" in names:
        return "typeform"
    if header[0] in _GOOGLE_TIMESTAMP:
        return "google_forms"
    spaced = field_words(sheet.rows[0])
    if _long_column(spaced, "question") is not None and _long_column(spaced, "response") is not None:
        return "post_purchase"
    other = _other_kind(names)
    if other:
        raise ImportFailure(sheet.path, other, record=sheet.record(0), expected="a survey export")
    if names & set(_GOOGLE_TIMESTAMP):  # Google Forms with its columns moved
        return "google_forms"
    raise ImportFailure(sheet.path, f"no survey tool's columns among {_shown(sheet.rows[0])}",
                        record=sheet.record(0), expected=DETECTION_EXPECTED)


_GOOGLE_TIMESTAMP = ("timestamp", "marca temporal", "horodateur", "zeitstempel", "carimbo de data/hora")
DETECTION_EXPECTED = ("Typeform '#', Google Forms 'Timestamp', SurveyMonkey 'Respondent ID', Qualtrics "
                      "'ResponseId', or 'Question'+'Response' columns; else --format generic --map")


def _is_qualtrics(names: set[str], second: set[str]) -> bool:
    """Current exports (`ResponseId`, `RecordedDate`), older ones (`ResponseID`, `ResponseSet`) and legacy
    ones whose row 1 is V1..V10 with `ResponseID`, `StartDate`… in row 2."""
    if "responseid" in names or "responseset" in names or {"startdate", "recordeddate"} <= names:
        return True
    return {"v1", "v2"} <= names and bool(second & {"responseid", "responseset"})


def _second_row_blank_under(sheet: Sheet, index: int) -> bool:
    """SurveyMonkey's second header row is empty under its metadata columns; a data row would hold an id."""
    return len(sheet.rows) > 1 and not (index < len(sheet.rows[1]) and sheet.rows[1][index].strip())


def _shown(header: list[str], limit: int = 4) -> str:
    """'12 columns: 'Foo', 'Bar', … ': enough to recognise the file, short enough for one line."""
    cells = [clean_header(h) for h in header if h.strip()]
    shown = ", ".join(repr(c if len(c) <= 24 else c[:23] + "…") for c in cells[:limit])
    return f"{len(header)} columns ({shown}{', …' if len(cells) > limit else ''})"


def _other_kind(names: set[str]) -> str | None:
    if {"financial status", "lineitem name"} & names or {"invoice", "stockcode"} <= names:
        return "this is an orders export (use `insight import orders`)"
    if {"order status", "order total"} <= names or {"order id", "order total"} <= names:
        return "this is an orders export (use `insight import orders`)"
    if {"ticket id", "requester", "subject", "requester email"} & names and "subject" in names:
        return "this is a support-ticket export (use `insight import ticket`)"
    if "rating" in names and names & {"review_body", "body", "reviewer_name", "review_title", "content"}:
        return "this is a review export (use `insight import review`)"
    return None


def name_role(name: str, fmt: str) -> str:
    """A column's role from its header alone."""
    key = name.casefold()
    role = _NAME_ROLES.get(key)
    if role:
        if fmt == "google_forms" and role == "submitted" and key != "timestamp":
            return "question"
        return role
    if key.startswith(("utm_", "utm ")):
        return "meta"
    if fmt in ("typeform", "qualtrics") and _HIDDEN_FIELD.match(name) and not re.fullmatch(r"q\d+(_\w+)?", key):
        return "meta"
    return "question"


_TOOL_HEADER = ("#", "submit date (utc)", "network id", *_GOOGLE_TIMESTAMP)


def split_title_row(sheet: Sheet) -> tuple[Sheet, dict[int, str]]:
    """A row of question titles above a Typeform / Google Forms header (a spreadsheet of the export: each
    'choose many' question's text over the first of its choices' columns, the other cells empty) is taken
    off; the titles, by column, name those questions (`wide_layout`). Any other sheet comes back as it was."""
    if len(sheet.rows) < 3:
        return sheet, {}
    top, header = sheet.rows[0], [clean_header(h).casefold() for h in sheet.rows[1]]
    filled = {i: clean_header(c) for i, c in enumerate(top) if c.strip()}
    names = {clean_header(c).casefold() for c in top}
    if (top[0].strip() or not filled or len(filled) > len(top) / 2 or names & set(_TOOL_HEADER)
            or not (header[0] == "#" or set(header) & set(_TOOL_HEADER[1:]))):
        return sheet, {}
    return replace(sheet, rows=sheet.rows[1:], lines=sheet.lines[1:]), filled


def wide_layout(sheet: Sheet, fmt: str, titles: dict[int, str] | None = None) -> Layout:
    """Columns of a one-row-per-response export (`titles`: question titles from a row above the header)."""
    if fmt in ("surveymonkey", "qualtrics"):
        layout = _surveymonkey_layout(sheet) if fmt == "surveymonkey" else _qualtrics_layout(sheet)
        keep_repeats_apart(sheet, layout)
        return layout
    header = [clean_header(h) for h in sheet.rows[0]]
    columns = [Column(i, h, h, name_role(h, fmt)) for i, h in enumerate(header)]
    _mark_option_columns(sheet, columns, 1, titles or {})
    layout = Layout(fmt, 1, columns, dates_utc=fmt == "typeform")
    keep_repeats_apart(sheet, layout)
    return layout


def _mark_option_columns(sheet: Sheet, columns: list[Column], first_data_row: int, titles: dict[int, str]) -> None:
    """Typeform writes a 'choose many' question as one column per choice, headed by the choice, holding the
    choice when picked. A run of such columns is one question, named after its title when a title row gives
    one over the run's first column, else after its choices; a choice nobody picked in this export (an empty
    column inside or at the edge of the run) stays in the run, so next month's export names the question the
    same way."""
    def values(column: Column) -> set[str]:
        return {row[column.index].strip().casefold() for row in sheet.rows[first_data_row:]
                if column.index < len(row) and row[column.index].strip()}

    seen = {c.index: values(c) for c in columns if c.role == "question"}
    picked = {i for i, v in seen.items() if v and v == {columns[i].name.casefold()}}
    candidate = {i for i, v in seen.items() if i in picked or (not v and columns[i].name.casefold() != "other")}
    runs: list[list[Column]] = []
    for column in columns:
        follows = bool(runs and runs[-1] and runs[-1][-1].index == column.index - 1)
        if column.index in candidate and follows and column.index not in titles:  # a title starts a question
            runs[-1].append(column)
        elif column.index in candidate:
            runs.append([column])
    for run in runs:
        if not any(c.index in picked for c in run):
            continue
        name = titles.get(run[0].index) or " / ".join(c.name for c in run)
        for member in run:
            member.role, member.option, member.question = "option", member.name, name
        after = run[-1].index + 1
        if after < len(columns) and columns[after].role == "question" and columns[after].name.casefold() == "other":
            columns[after].question, columns[after].hint = f"{name} / Other", "open"


def _surveymonkey_layout(sheet: Sheet) -> Layout:
    if len(sheet.rows) < 2:
        raise ImportFailure(sheet.path, "only one header row", record=sheet.record(0),
                            expected="SurveyMonkey's two header rows (questions, then sub-answers)")
    top = [clean_header(h) for h in sheet.rows[0]]
    sub = [clean_header(h) for h in sheet.rows[1]] + [""] * max(0, len(top) - len(sheet.rows[1]))
    columns: list[Column] = []
    question = ""
    for i, name in enumerate(top):
        if name:
            role = name_role(name, "surveymonkey")
            question = name if role == "question" else ""
        elif not question or not sub[i]:  # nothing heads this cell: a trailing separator
            columns.append(Column(i, f"column {i + 1}", f"column {i + 1}", "drop"))
            continue
        else:
            role = "question"
        label = sub[i]
        if role != "question":
            columns.append(Column(i, name, name, role))
        elif label.casefold() in ("response", ""):
            columns.append(Column(i, question, question, "question"))
        elif label.casefold().startswith("other"):
            columns.append(Column(i, f"{question} (other)", f"{question} (other)", "question", hint="open"))
        elif label.casefold() == "open-ended response":
            columns.append(Column(i, question, question, "question", hint="open"))
        else:
            columns.append(Column(i, f"{question} — {label}", f"{question} — {label}", "question", option=label))
    for column in columns:
        if column.option:
            values = {row[column.index].strip().casefold() for row in sheet.rows[2:]
                      if column.index < len(row) and row[column.index].strip()}
            if values and values == {column.option.casefold()}:
                column.role, column.question = "option", column.question.rsplit(" — ", 1)[0]
    return Layout("surveymonkey", 2, columns)


def _qualtrics_layout(sheet: Sheet) -> Layout:
    """Row 1 export tags, row 2 question texts, row 3 (current exports) `{"ImportId": …}` per column.

    Legacy exports head their metadata columns V1..V10 in row 1 and name them in row 2 (V1 ResponseID,
    V8 StartDate, V9 EndDate): the row-2 name is taken as the tag. A column is an answer only when it is a
    question: in current exports its ImportId starts with QID; system fields (ResponseSet, Location*,
    Recipient*, IPAddress…) and embedded data never are. A choice's "other" text column (`Q1_TEXT`) that
    carries its choice's label is labelled '<question> (other)', so the two never share a label."""
    tags = [clean_header(h) for h in sheet.rows[0]]
    texts = [clean_header(h) for h in sheet.rows[1]] if len(sheet.rows) > 1 else list(tags)
    texts += [""] * (len(tags) - len(texts))
    import_ids: list[dict[str, str]] = []
    header_rows = 2
    if _is_response_row(tags, texts):  # tags only (a re-saved or trimmed export): row 2 is the first response
        texts, header_rows = list(tags), 1
    json_row = next((i for i in (1, 2) if i < len(sheet.rows) and _is_import_id_row(sheet.rows[i])), None)
    if json_row is not None:  # row 3 as usual; row 2 when the export has no question-text row
        header_rows = json_row + 1
        import_ids = [_import_id(c) or {} for c in sheet.rows[json_row]]
        if json_row == 1:
            texts = list(tags)
    columns: list[Column] = []
    for i, tag in enumerate(tags):
        info = import_ids[i] if i < len(import_ids) else {}
        if re.fullmatch(r"V\d+", tag) and texts[i]:
            tag = texts[i]  # legacy: V1 -> ResponseID
        text = texts[i] or tag
        import_id = str(info.get("ImportId", ""))
        role = name_role(tag, "qualtrics")
        if role == "question" and (
            (not import_id.upper().startswith("QID") and (import_id or _QUALTRICS_SYSTEM.match(tag.casefold())))
            or _META_INFO.search(import_id or tag)
        ):
            role = "meta"  # a system field, embedded data or the browser "meta info" question: not an answer
        is_text = tag.upper().endswith("_TEXT") or import_id.upper().endswith("_TEXT")
        question = re.sub(r"\s+-\s+Selected Choice$", "", text)
        question = re.sub(r"\s+-\s+Text$", "", question) if is_text else question
        columns.append(Column(i, tag, question, role, hint="open" if is_text else None, tz=info.get("timeZone")))
    if not any(c.role == "submitted" for c in columns):
        for column in columns:
            if column.name.casefold() in ("enddate", "end date"):
                column.role = "submitted"  # older exports have no RecordedDate
    labels = {c.question.casefold() for c in columns if c.role == "question" and not c.hint}
    for column in columns:
        if column.role == "question" and column.hint == "open" and column.question.casefold() in labels:
            column.question = f"{column.question} (other)"
    return Layout("qualtrics", header_rows, columns)


_RESPONSE_ID = re.compile(r"R_[A-Za-z0-9]{10,}")


def _is_response_row(tags: list[str], row: list[str]) -> bool:
    """Row 2 of a Qualtrics export is a response, not the question texts, when its ResponseId cell holds an id
    ('R_sni2WzOxHCTnhZL'); question-text rows hold 'Response ID' there."""
    names = [t.casefold() for t in tags]
    index = next((names.index(n) for n in ("responseid", "response id", "_recordid") if n in names), None)
    return index is not None and index < len(row) and bool(_RESPONSE_ID.fullmatch(row[index].strip()))


def _is_import_id_row(row: list[str]) -> bool:
    """Most filled cells are `{"ImportId": …}` JSON: a header row, never a response."""
    filled = [c for c in row if c.strip()]
    return bool(filled) and sum(_import_id(c) is not None for c in filled) >= 0.5 * len(filled)


def _import_id(cell: str) -> dict[str, str] | None:
    """The `{"ImportId": "QID3_TEXT", "timeZone": …}` of a current Qualtrics export's third row."""
    text = cell.strip()
    if not (text.startswith("{") and "importid" in text.casefold()):
        return None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        # Some exports (and tools that re-save them) write the row as Python literals: {'ImportId': 'endDate'}
        try:
            parsed = ast.literal_eval(text) if len(text) < 10_000 else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    if not isinstance(parsed, dict):
        return None
    return {str(k) if str(k).casefold() != "importid" else "ImportId": str(v) for k, v in parsed.items()}


def keep_repeats_apart(sheet: Sheet, layout: Layout) -> None:
    """The same question asked in several columns (about several images, products…) stays several
    questions: each is labelled with its place among the columns of that label ('Q [1]', 'Q [2]'), which
    another export with its columns reordered gives again."""
    groups: dict[str, list[Column]] = {}
    for column in layout.columns:
        filled = any(column.index < len(r) and r[column.index].strip() for r in sheet.rows[layout.header_rows:])
        if column.role == "question" and filled:
            groups.setdefault(column.question.casefold(), []).append(column)
    for group in groups.values():
        if len(group) > 1:
            for n, column in enumerate(group, start=1):
                column.question = f"{column.question} [{n}]"


def generic_layout(sheet: Sheet, mapping: dict[str, list[str]]) -> Layout:
    """`--map id=ResponseNo,text=Q3,text=Q4,choice=Q1,email=Email,order=Order,customer_id=Cust,date=Submitted`.

    Mapped `text` columns are open text and `choice` columns choices, whatever their content; when neither
    is mapped, every other column is judged by its content as for the tools' exports.
    """
    unknown = sorted(set(mapping) - set(MAPPING_FIELDS))
    if unknown:
        raise ImportFailure(sheet.path, f"unknown --map field(s) {', '.join(unknown)}",
                            expected=f"fields among {', '.join(MAPPING_FIELDS)}")
    header = [clean_header(h) for h in sheet.rows[0]]
    index = {h.casefold(): i for i, h in reversed(list(enumerate(header)))}
    columns = [Column(i, h, h, name_role(h, "generic")) for i, h in enumerate(header)]
    explicit = "text" in mapping or "choice" in mapping
    if explicit:
        for column in columns:
            if column.role == "question":
                column.role = "meta"
    roles = {"id": "id", "date": "submitted", "email": "email", "order": "order", "customer_id": "customer_id",
             "text": "question", "choice": "question"}
    for key, names in mapping.items():
        for name in names:
            position = index.get(clean_header(name).casefold())
            if position is None:
                raise ImportFailure(sheet.path, f"--map {key}={name}: no column {name!r}", record=sheet.record(0),
                                    expected=f"one of the columns: {', '.join(header)}")
            column = columns[position]
            column.role = roles[key]
            column.hint = "open" if key == "text" else "choice" if key == "choice" else None
    mapped = {index[clean_header(n).casefold()] for names in mapping.values() for n in names}
    for column in columns:
        if column.index not in mapped and column.role != "drop" and any(
            roles[key] == column.role and key not in ("text", "choice") for key in mapping
        ):
            column.role = "meta"  # the user mapped this role to another column
    return Layout("generic", 1, columns)


# One-row-per-answer exports from other tools name their columns in their own words ('question_category',
# 'answer_content', 'student_id', 'answer_datetime'): a header holding one of a role's words and none of the words
# that make it another column is taken when no known name is there.
_LONG_WORDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "question": (frozenset({"question", "prompt"}), frozenset({"id", "number", "no", "order", "type"})),
    "response": (frozenset({"answer", "response", "reply"}), frozenset({"id", "date", "time", "datetime", "type",
                                                                        "count", "other", "status"})),
    "customer_id": (frozenset({"customer"}), frozenset({"name", "email", "agent", "type", "group"})),
    # who answered, in another system's ids ('student_id', 'user_id'): groups a response, never a customer key
    "respondent": (frozenset({"student", "user", "respondent", "responder", "participant", "member", "client"}),
                   frozenset({"name", "email", "agent", "type", "group", "language"})),
    "date": (frozenset({"datetime", "timestamp", "date", "time", "created", "submitted"}),
             frozenset({"order", "birth", "due", "updated"})),
}


def _long_column(header: list[str], role: str) -> int | None:
    """Where a long export keeps `role` ('question', 'response', …): a known name, else a header by its words."""
    names = {"question": _LONG_QUESTION, "response": _LONG_RESPONSE}.get(role, ())
    for name in names:
        if name in header:
            return header.index(name)
    wanted, unwanted = _LONG_WORDS[role]
    for i, name in enumerate(header):
        words = re.findall(r"[a-z]+", name)
        if len(words) <= 3 and set(words) & wanted and not set(words) & unwanted:  # a field name, not a question
            return i
    return None


def long_columns(sheet: Sheet) -> dict[str, int]:
    """Post-purchase app exports: which column holds the question, response, other text, keys and date."""
    header = field_words(sheet.rows[0])
    wanted = {
        "question": _LONG_QUESTION,
        "response": _LONG_RESPONSE,
        "other": ("other response", "other_response", "other", "other text", "clarification", "response other",
                  "other answer"),
        "response_id": ("response id", "response_id", "submission id", "submission_id", "survey response id"),
        "order": ("order number", "order_number", "order name", "order_name", "order id", "order_id", "order"),
        "email": ("customer email", "customer_email", "email", "email address"),
        "customer_id": ("customer id", "customer_id", "shopify customer id"),
        "date": ("created at", "created_at", "inserted_at", "response date", "responded at", "submitted at",
                 "timestamp", "date", "order created at", "order_created_at"),
    }
    found: dict[str, int] = {}
    for key, names in wanted.items():
        for name in names:
            if name in header:
                found[key] = header.index(name)
                break
    for key in _LONG_WORDS:
        if key not in found and (index := _long_column(header, key)) is not None and index not in found.values():
            found[key] = index
    if "question" not in found or "response" not in found:
        raise ImportFailure(sheet.path, "no question and response columns", record=sheet.record(0),
                            expected="a post-purchase survey export with one row per answer")
    if not {"response_id", "order", "email", "customer_id", "respondent"} & set(found):
        raise ImportFailure(sheet.path, "no order, email or response id column to group answers by",
                            record=sheet.record(0), expected="an 'Order ID', 'Customer Email' or 'Response ID' column")
    return found
