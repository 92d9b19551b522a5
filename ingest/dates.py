"""Dates as real exports write them, turned into ISO 8601 (shared by every importer).

Two functions:
- `parse_datetime(text, dayfirst=False, assume_utc=False)` -> 'YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]' or None.
  Accepts ISO 8601 (with 'T' or a space, fractions, 'Z', '+02:00', '-0500', ' -0500' as Shopify writes),
  slashed dates with 24h or AM/PM times (Google Forms '10/3/2026 14:22:10', SurveyMonkey
  '10/03/2026 02:22:10 PM', '03.10.2026 14:22'), year-first ones with a 'GMT+5:30' zone as Google Forms writes
  them in some locales ('2024/04/07 8:54:18 PM GMT+5:30'), and written-out dates ('March 3, 2026', '3 Mar 2026 2:22 PM',
  'Reviewed in the United States on March 3, 2026').
  The offset is kept as written; a naive time stays naive unless `assume_utc` (e.g. Typeform's '(UTC)'
  columns). A date alone becomes midnight. Unreadable text gives None, never a guess: callers reject the
  record with a message naming the value.
  Two-digit years (Excel re-saves: '3/11/20 23:38') are read as 2000-2068 / 1969-1999, as strptime's %y.
- `date_order(texts)`: whether a column of slashed dates is day-first, decided from every value of the column
  (a first field above 12 means day-first, a second field above 12 means month-first; US order when no
  value tells), with a sentence saying why for the import summary. `guess_dayfirst` is its bare answer.
  Decide once per column, then pass the answer to `parse_datetime`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil import parser as dateutil_parser

_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?))?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$",
    re.IGNORECASE,
)
# A zone as exports print it: 'Z', '+02:00', '-0500', 'UTC', Google Forms' 'GMT+5:30' / 'GMT-4', or a named
# abbreviation ('AST', 'CET'), which names no single offset and so is dropped (the local time stays naive).
_ZONE = r"(Z|(?:GMT|UTC)\s*[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}:?\d{2}|UTC|GMT|[A-Z]{3,4})"
_TIME = r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([AaPp]\.?[Mm]\.?)?)?"
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + _TIME + r"\s*" + _ZONE + "?$")
# Year first with slashes or dots (Google Forms in some locales: '2024/04/07 8:54:18 PM GMT+5:30').
_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})" + _TIME + r"\s*" + _ZONE + "?$")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_MONTH_WORD = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE
)


def parse_datetime(text: str | None, *, dayfirst: bool = False, assume_utc: bool = False) -> str | None:
    """ISO 8601 for a date/time as exports write it, or None when it is not one."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    value = _parse_iso(text) or _parse_slashed(text, dayfirst) or _parse_written(text, dayfirst)
    if value is None:
        return None
    if assume_utc and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


@dataclass(frozen=True)
class DateOrder:
    """How a column writes its slashed dates, and the evidence (for the import summary)."""

    dayfirst: bool
    reason: str
    slashed: int = 0  # how many values were slashed dates at all

    @property
    def label(self) -> str:
        return "day-first (D/M/Y)" if self.dayfirst else "month-first (M/D/Y)"


def date_order(texts: Iterable[str]) -> DateOrder:
    """Day-first or month-first, from all of a column's slashed dates (not the first one that tells).

    A first field above 12 can only be a day, a second field above 12 only a day too: whichever the column
    shows decides. When it shows both (two orders mixed in one column), the majority decides and each
    unambiguous value is still read its own way by `parse_datetime`."""
    day_first: list[str] = []
    month_first: list[str] = []
    slashed = 0
    for text in texts:
        match = _SLASHED.match(text.strip()) if text else None
        if not match:
            continue
        slashed += 1
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 >= second:
            day_first.append(text.strip())
        elif second > 12 >= first:
            month_first.append(text.strip())
    if day_first and month_first:
        dayfirst = len(day_first) > len(month_first)
        return DateOrder(dayfirst, f"mixed: {len(day_first)} values day-first (e.g. {day_first[0]!r}), "
                                   f"{len(month_first)} month-first (e.g. {month_first[0]!r})", slashed)
    if day_first:
        return DateOrder(True, f"a first field above 12, e.g. {day_first[0]!r}", slashed)
    if month_first:
        return DateOrder(False, f"a second field above 12, e.g. {month_first[0]!r}", slashed)
    return DateOrder(False, "no field above 12 in any value: US order assumed" if slashed else "no slashed dates",
                     slashed)


def guess_dayfirst(texts: Iterable[str]) -> bool:
    """Day-first when the column's slashed dates say so (see `date_order`); month-first (US) otherwise."""
    return date_order(texts).dayfirst


def _offset(token: str | None) -> str:
    if not token or token.upper() in ("Z", "UTC", "GMT"):
        return "+00:00" if token else ""
    token = re.sub(r"^(?:GMT|UTC)\s*", "", token, flags=re.IGNORECASE)
    if token[0] not in "+-":
        return ""  # a named zone ('AST'): no one offset
    sign, rest = token[0], token[1:]
    if ":" in rest:
        hours, minutes = rest.split(":")
    elif len(rest) > 2:  # '0530'
        hours, minutes = rest[:-2], rest[-2:]
    else:  # 'GMT-4'
        hours, minutes = rest, "0"
    return f"{sign}{int(hours):02d}:{int(minutes):02d}"


def _parse_iso(text: str) -> datetime | None:
    if len(text) == 19 and text[4] == "-" and text[10] in " T" and text[13] == ":":  # fast path, most exports
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    match = _ISO.match(text)
    if not match:
        return None
    day, time, zone = match.groups()
    if time:
        if len(time.split(":")[0]) == 1:
            time = "0" + time
        if time.count(":") == 1:
            time += ":00"
        time = time.replace(",", ".")
        if "." in time:
            whole, fraction = time.split(".")
            time = f"{whole}.{(fraction + '000000')[:6]}"
    try:
        return datetime.fromisoformat(f"{day}T{time or '00:00:00'}{_offset(zone)}")
    except ValueError:
        return None


def _parse_slashed(text: str, dayfirst: bool) -> datetime | None:
    match = _SLASHED.match(text)
    if match:
        a, b, year, hour, minute, second, fraction, ampm, zone = match.groups()
        first, second_part = int(a), int(b)
        if first > 12 >= second_part:
            dayfirst = True
        elif second_part > 12 >= first:
            dayfirst = False
        day, month = (first, second_part) if dayfirst else (second_part, first)
    elif match := _YEAR_FIRST.match(text):
        year, b, a, hour, minute, second, fraction, ampm, zone = match.groups()
        month, day = int(b), int(a)
    else:
        return None
    full_year = int(year)
    if len(year) == 2:  # Excel: '3/11/20'; the pivot strptime's %y uses
        full_year += 2000 if full_year <= 68 else 1900
    h = int(hour or 0)
    if ampm:
        pm = ampm[0].lower() == "p"
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if pm else 0)
    micro = int((fraction + "000000")[:6]) if fraction else 0
    try:
        value = datetime(full_year, month, day, h, int(minute or 0), int(second or 0), micro)
    except ValueError:
        return None
    if zone:
        return datetime.fromisoformat(value.isoformat() + _offset(zone))
    return value


def _parse_written(text: str, dayfirst: bool) -> datetime | None:
    """'March 3, 2026', '3 Mar 2026 14:22': only with a month word and a four-digit year, so 'Yes' or '5'
    are never taken for dates."""
    if not (_MONTH_WORD.search(text) and _YEAR.search(text)):
        return None
    for fuzzy in (False, True):  # fuzzy: 'Reviewed in the United States on March 3, 2026'
        try:
            return dateutil_parser.parse(text, dayfirst=dayfirst, fuzzy=fuzzy)
        except (ValueError, OverflowError):
            continue
    return None
