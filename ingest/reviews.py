"""`insight import review`: product reviews from saved HTML pages and from review-app CSV exports.

A review has no id that survives being seen on two pages or in two exports, so its external id is a
hash of what identifies it to a reader: product, author, day and words. The same review found twice
(two pages, JSON-LD and microdata of one page, a page and an export) is therefore stored once.
"""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.dates import guess_dayfirst
from ingest.errors import ImportFailure, Rejected
from ingest.limits import MAX_FIELD_CHARS
from ingest.model import DocumentDraft, ParsedFile, UnitDraft
from ingest.reading import CsvTable, decode, long_cell_reason, misaligned_rows, read_bytes, read_csv
from ingest.review_extractors import LOOKED_FOR, FoundReview, extract_reviews, norm_key, parse_html
from ingest.review_fields import normalise_rating, rating_from_text, review_date
from insight.core.identity import Identifier, identifier

HTML_FORMATS = ("html", "mhtml")
CSV_FORMATS = ("csv", "judgeme", "yotpo", "google_play", "appstore")
_HTML_SIGN = re.compile(r"<\s*(!doctype|html|head|body|div|section|article|script|span|p|ul|li|table|meta)\b", re.I)


def parse_reviews(path: Path, *, fmt: str | None = None) -> ParsedFile:
    """One saved page (HTML/MHTML) or one CSV export -> review documents; a page without reviews says why."""
    path = Path(path)
    if fmt is not None and fmt not in HTML_FORMATS + CSV_FORMATS:
        raise ImportFailure(path, f"unknown review format {fmt!r}", expected=", ".join(HTML_FORMATS + CSV_FORMATS))
    decoded = decode(path, read_bytes(path))
    text = decoded.text
    if fmt in CSV_FORMATS or (fmt is None and _is_csv(path, text)):
        parsed = parse_review_csv(path, text, fmt=None if fmt == "csv" else fmt)
    else:
        parsed = parse_review_page(path, text)
    if decoded.note:
        parsed.details["encoding"] = decoded.note
    return parsed


def _is_csv(path: Path, text: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return True
    if suffix in (".html", ".htm", ".mhtml", ".mht"):
        return False
    return not (text.lstrip().startswith("<") or _is_mime(text))


def _is_mime(text: str) -> bool:
    head = text[:2000].lower()
    return "mime-version:" in head and "content-type: multipart/" in head


def _html_of_mhtml(path: Path, text: str) -> str:
    """The page inside a browser's 'Save as single file' (.mhtml): its first text/html part."""
    message = email.message_from_string(text)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    raise ImportFailure(path, "this MHTML file has no text/html part", expected="a page saved from a browser")


# --- HTML pages ----------------------------------------------------------------------------------------------


def parse_review_page(path: Path, text: str) -> ParsedFile:
    if _is_mime(text):
        text = _html_of_mhtml(path, text)
    if not _HTML_SIGN.search(text[:200_000]):
        raise ImportFailure(path, "this is not an HTML page", expected="a saved review page (.html) or a review CSV")
    page = extract_reviews(parse_html(text))
    if not page.reviews:  # badly broken markup (an unclosed <title>) can hide everything from lxml
        second = extract_reviews(parse_html(text, lenient=True))
        if second.reviews:
            page = second
            page.warnings.append("the HTML is malformed; read with the lenient html.parser")
    docs: list[DocumentDraft] = []
    rejected: list[Rejected] = []
    for i, review in enumerate(page.reviews, 1):
        record = f"review {i} on {path.name}"
        longest = max(len(review.body or ""), len(review.title or ""))
        if longest > MAX_FIELD_CHARS:
            rejected.append(Rejected(record, f"the review has {longest:,} characters, over the limit of {MAX_FIELD_CHARS:,}"))
        else:
            docs.append(_document(review, record))
    details: dict[str, object] = {"extractors": page.found_by}
    if page.product:
        details["product"] = page.product
    if page.warnings:
        details["warnings"] = page.warnings
    if not docs and not rejected:
        details["note"] = f"no reviews found; looked for {LOOKED_FOR}"
    fmt = "+".join(page.found_by) if page.found_by else "html"
    return ParsedFile(str(path), "review", fmt, docs, rejected, rows_read=sum(page.found_by.values()), details=details)


# --- documents -----------------------------------------------------------------------------------------------


def review_external_id(product: str | None, author: str | None, date: str | None, text: str) -> str:
    """Stable across pages and exports: normalised product, author, day and words."""
    key = "\x1f".join((norm_key(product), norm_key(author), (date or "")[:10], norm_key(text)))
    return "review:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _document(review: FoundReview, record: str, identifiers: list[Identifier] | None = None) -> DocumentDraft:
    text = review.body or review.title or ""
    metadata = {
        "author": review.author,  # PII: kept out of unit text, never embedded
        "verified": review.verified,
        "product": review.product,
        "review_id": review.review_id,
    }
    email_id = identifier("email", review.email) if review.email else None
    ids = [i for i in [email_id, *(identifiers or [])] if i is not None]
    return DocumentDraft(
        source="review",
        external_id=review_external_id(review.product, review.author, review.date, text),
        created_at=review.date,
        identifiers=ids,
        title=review.title if review.body else None,
        rating=review.rating,
        metadata={k: v for k, v in metadata.items() if v is not None},
        units=[UnitDraft(text=text, kind="review")],
        record=record,
    )


# --- CSV exports ---------------------------------------------------------------------------------------------

# Header names after normalising case, '_' and '-' to spaces; the first present wins.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "body": ("body", "review content", "review text", "review body", "review", "content", "text", "comment",
             "comments", "feedback"),
    "title": ("title", "review title", "headline", "summary", "subject"),
    "rating": ("rating", "review score", "star rating", "stars", "score", "review rating"),
    "date": ("review date", "review submit date and time", "date", "created at", "created", "published at",
             "submitted at", "timestamp"),
    "author": ("reviewer name", "display name", "author", "reviewer", "user name", "nickname", "name", "user"),
    "email": ("reviewer email", "email", "customer email", "user email", "e mail"),
    "order": ("order id", "order number", "order name", "order"),
    "product": ("product title", "product name", "product", "product handle", "package name", "app name", "item"),
    "verified": ("verified buyer", "verified purchase", "verified"),
    "review_id": ("review id", "id"),
    "moderation": ("curated", "moderation status", "moderation", "review status", "status", "published"),
}
# What a review app's moderation column says of a review that is not a customer's real review (Judge.me's
# `curated` 'spam'): such a row is listed as rejected, not stored.
_NOT_PUBLISHED = frozenset({"spam", "rejected", "deleted", "trash", "trashed", "fake"})
CSV_SIGNATURES: dict[str, tuple[str, ...]] = {
    "judgeme": ("reviewer email", "product handle"),
    "yotpo": ("review content", "review score"),
    "google_play": ("package name", "star rating"),
    "appstore": ("version", "rating", "title", "review"),
}


def _norm_header(name: str) -> str:
    """'Review_Date', 'review-date', 'reviewDate', 'review.date' -> 'review date' (camelCase and the dotted
    paths of flattened JSON exports, as Okendo's 'reviewer.email', 'dateCreated', split into words)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.strip())
    return " ".join(re.split(r"[\s_\-.]+", spaced.casefold())).strip()


@dataclass(frozen=True)
class ReviewColumns:
    positions: dict[str, int]

    def get(self, row: list[str], field: str) -> str | None:
        index = self.positions.get(field)
        if index is None or index >= len(row):
            return None
        return row[index].strip() or None


# When no header is one of the names above, a header holding one of a field's words (and none of the words that
# make it another field) is taken: 'Feedback Text', 'Customer Comment', 'rate', 'Overall rating', 'Feedback Date'.
_FIELD_WORDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "body": (frozenset({"text", "review", "comment", "comments", "feedback", "body", "content", "opinion", "remarks"}),
             frozenset({"title", "date", "time", "id", "name", "email", "rating", "score", "stars", "reply", "response",
                        "link", "url", "language", "version", "count", "votes", "helpful", "sentiment", "label",
                        "length", "category", "type", "product", "author", "reviewer", "source", "status"})),
    "title": (frozenset({"title", "headline", "subject", "summary"}),
              frozenset({"product", "item", "app", "page", "listing", "reply"})),
    "rating": (frozenset({"rating", "rate", "rated", "stars", "star", "score", "grade", "overall"}),
               frozenset({"sentiment", "date", "id", "helpful", "count", "average", "avg", "total", "daily", "label",
                          "confidence", "probability"})),
    "date": (frozenset({"date", "time", "timestamp", "created", "submitted", "published", "posted", "datetime"}),
             frozenset({"reply", "updated", "update", "millis", "epoch", "modified", "response", "birth"})),
    "author": (frozenset({"author", "reviewer", "name", "nickname", "user", "username"}),
               frozenset({"product", "email", "id", "app", "package", "file", "item", "store", "shop"})),
}


def _by_words(header: list[str], field: str, taken: set[int]) -> int | None:
    wanted, unwanted = _FIELD_WORDS[field]
    for i, name in enumerate(header):
        words = set(re.findall(r"[a-z]+", _norm_header(name)))
        if i not in taken and words & wanted and not words & unwanted:
            return i
    return None


def _columns(path: Path, header: list[str]) -> ReviewColumns:
    names: dict[str, int] = {}
    for i, name in enumerate(header):
        names.setdefault(_norm_header(name), i)
    positions: dict[str, int] = {}
    for field, candidates in CSV_COLUMNS.items():
        for candidate in candidates:
            if candidate in names and names[candidate] not in positions.values():
                positions[field] = names[candidate]
                break
    for field in _FIELD_WORDS:
        if field not in positions and (index := _by_words(header, field, set(positions.values()))) is not None:
            positions[field] = index
    if "body" not in positions and "title" not in positions:
        raise ImportFailure(
            path, "no review text column", record="line 1",
            expected="a column named one of: " + ", ".join(CSV_COLUMNS["body"] + CSV_COLUMNS["title"]),
        )
    return ReviewColumns(positions)


# Columns that say a CSV is another kind of export (help-desk tickets, orders), not reviews: a Freshdesk
# ticket export has 'Subject' and 'Description', which would otherwise read as review title and text.
OTHER_EXPORTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("a help-desk ticket export", ("ticket id",), "insight import ticket"),
    ("a help-desk ticket export", ("requester email",), "insight import ticket"),
    ("a help-desk ticket export", ("status", "priority", "subject"), "insight import ticket"),
    ("an orders export", ("financial status",), "insight import orders"),
    ("an orders export", ("lineitem name",), "insight import orders"),
)


def _refuse_other_exports(path: Path, header: list[str]) -> None:
    names = {_norm_header(h) for h in header}
    for what, columns, command in OTHER_EXPORTS:
        if all(c in names for c in columns):
            shown = ", ".join(h for h in header if _norm_header(h) in columns)
            raise ImportFailure(path, f"this looks like {what} (columns {shown}), not reviews", record="line 1",
                                expected=f"a review export; import this one with `{command}`")


def _detect_csv_format(header: list[str]) -> str:
    names = {_norm_header(h) for h in header}
    for fmt, signature in CSV_SIGNATURES.items():
        if all(column in names for column in signature):
            return fmt
    return "csv"


# A rating cell that says there is no rating ('No overall review', 'n/a', '-', 'not rated'): no rating, not a bad row.
_NO_RATING = re.compile(r"(?:no\b.*|none|n/?a|-+|not rated|unrated|null)", re.I)


def _says_no_rating(value: str) -> bool:
    return bool(_NO_RATING.fullmatch(value.strip())) and not re.search(r"\d|★", value)


def _csv_rating(value: str | None) -> float | None:
    if value is None or _says_no_rating(value):
        return None
    if "★" in value:
        return normalise_rating(value.count("★"))
    return rating_from_text(value) if re.search(r"[a-zA-Z/]", value) else normalise_rating(value)


def _truthy(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "yes", "1", "verified", "y", "verified buyer")


def parse_review_csv(path: Path, text: str, *, fmt: str | None = None) -> ParsedFile:
    table: CsvTable = read_csv(path, text, long_cells="keep")
    header, rows = table.rows[0], table.rows[1:]
    _refuse_other_exports(path, header)
    columns = _columns(path, header)
    docs: list[DocumentDraft] = []
    rejected: list[Rejected] = []
    misfits = misaligned_rows(table, "authors, stars and dates")
    dayfirst = guess_dayfirst(columns.get(row, "date") or "" for i, row in enumerate(rows, 1) if i not in misfits)
    for offset, row in enumerate(rows, 1):
        record = table.record(offset)
        if offset in misfits:
            rejected.append(Rejected(record, misfits[offset]))
            continue
        if (too_long := long_cell_reason(row, header)) is not None:
            rejected.append(Rejected(record, too_long))
            continue
        moderation = (columns.get(row, "moderation") or "").casefold()
        if moderation in _NOT_PUBLISHED:
            rejected.append(Rejected(record, f"marked {moderation!r} by the review app, not a published review"))
            continue
        body = columns.get(row, "body") or ""
        title = columns.get(row, "title")
        if not body and not title:
            rejected.append(Rejected(record, "no review text (body and title are empty)"))
            continue
        rating_raw = columns.get(row, "rating")
        rating = _csv_rating(rating_raw)
        if rating_raw and rating is None and not _says_no_rating(rating_raw):
            rejected.append(Rejected(record, f"rating {rating_raw!r} is not a score on a 1-5 scale"))
            continue
        date_raw = columns.get(row, "date")
        date = review_date(date_raw, dayfirst=dayfirst)
        if date_raw and date is None:
            rejected.append(Rejected(record, f"date {date_raw!r} is not a date"))
            continue
        review = FoundReview(
            body=body, extractor="csv", title=title, rating=rating, author=columns.get(row, "author"), date=date,
            verified=_truthy(columns.get(row, "verified")), product=columns.get(row, "product"),
            email=columns.get(row, "email"), review_id=columns.get(row, "review_id"),
        )
        ids = [i for i in (identifier("order", columns.get(row, "order")),) if i]
        docs.append(_document(review, record, ids))
    return ParsedFile(
        str(path), "review", fmt or _detect_csv_format(header), docs, rejected, rows_read=len(rows),
        details={"columns": {f: header[i] for f, i in columns.positions.items()}},
    )
