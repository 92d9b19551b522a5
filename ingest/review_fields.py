"""One review's fields as any extractor or export reads them, with ratings and dates normalised for storage."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.dates import parse_datetime


@dataclass
class FoundReview:
    """One review as one extractor saw it; fields it could not find stay None."""

    body: str
    extractor: str
    title: str | None = None
    rating: float | None = None  # normalised to 1-5
    author: str | None = None
    date: str | None = None  # ISO 8601
    verified: bool | None = None
    product: str | None = None
    email: str | None = None
    review_id: str | None = None
    extractors: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body or self.title or ""


_LATEST_EPOCH = 4_102_444_800  # 2100-01-01: later epoch seconds are not a review's date
_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)")
_SHORT_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})")
_OUT_OF = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:out of|of|/)\s*(\d+(?:[.,]\d+)?)", re.I)


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _NUMBER.search(str(value))
    return float(match.group(1).replace(",", ".")) if match else None


def normalise_rating(value: object, best: object = None, worst: object = None) -> float | None:
    """A score on any scale mapped onto 1-5 (schema.org defaults: best 5, worst 1; 0-100 scales start at 0)."""
    score = _number(value)
    if score is None:
        return None
    high = _number(best) or 5.0
    low = _number(worst)
    if low is None:
        low = 1.0 if high <= 10 else 0.0
    if high <= low or not low <= score <= high:
        return None
    if (low, high) == (1.0, 5.0):
        return round(score, 2)
    return round(1 + (score - low) * 4 / (high - low), 2)


def rating_from_text(text: str | None) -> float | None:
    """'4.0 out of 5 stars', 'Rated 4 out of 5', '4/5', '5.0 star rating', '4 stars'."""
    if not text:
        return None
    match = _OUT_OF.search(text)
    if match:
        return normalise_rating(match.group(1), match.group(2))
    if re.search(r"\bstars?\b|\brating\b|\brated\b", text, re.I):
        return normalise_rating(text)
    return None


def review_date(value: object, *, dayfirst: bool = False) -> str | None:
    """ISO 8601 from what pages and exports print: ISO, 'March 3, 2026', '2026-03-03 10:12:00 UTC', epoch,
    and the two-digit-year '10/18/26' review widgets display."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10_000_000_000 else value
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat() if 0 < seconds < _LATEST_EPOCH else None
    if not isinstance(value, str) or len(value) > 100:
        return None  # a list, an object, or pages of text: not a date
    text = str(value).strip()
    if re.fullmatch(r"\d{10}(\d{3})?", text):
        return review_date(int(text))
    short = _SHORT_YEAR.fullmatch(text)
    if short:
        text = f"{short.group(1)}/{short.group(2)}/20{short.group(3)}"
    return parse_datetime(text, dayfirst=dayfirst)


def norm_key(value: str | None) -> str:
    """Case, punctuation and spacing removed: the form two renderings of the same words share."""
    return " ".join(re.findall(r"\w+", (value or "").casefold()))


def short_field(value: str | None) -> str | None:
    """A name-like field: its first line only (broken markup can swallow the rest of the review into it)."""
    if not value:
        return None
    return value.split("\n", 1)[0][:80] or None


def flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("true", "1", "yes", "verified", "verified buyer", "verified purchase")
