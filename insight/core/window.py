"""A window (the 30-day or calendar-month span feedback is read in) and the kinds of feedback: the values
every layer shares, parsed in one place so every `--window` takes the same forms."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from insight.core.errors import InvalidValue

SOURCES = ("survey", "interview", "review", "ticket")


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @classmethod
    def month(cls, year: int, month: int) -> Window:
        """The calendar month: the window a document falls in when the user names none."""
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def parse(cls, text: str) -> Window:
        """'2026-10' (a calendar month) or '2026-10-01..2026-10-31' (inclusive): what every --window takes."""
        text = text.strip()
        month = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if month and 1 <= int(month.group(2)) <= 12:
            return cls.month(int(month.group(1)), int(month.group(2)))
        try:
            start_text, end_text = text.split("..")
            window = cls(date.fromisoformat(start_text.strip()), date.fromisoformat(end_text.strip()))
        except ValueError:
            raise InvalidValue(
                f"window {text!r} is not a month (YYYY-MM, e.g. 2026-10) or START..END with ISO dates, "
                "e.g. 2026-10-01..2026-10-31"
            ) from None
        if window.end < window.start:
            raise InvalidValue(f"window {text!r} ends before it starts")
        return window
