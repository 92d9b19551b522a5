"""Errors an importer raises: each names the file, the record and what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from insight.core.errors import InsightError


class ImportFailure(InsightError):
    """A whole file cannot be imported; nothing from it is written."""

    def __init__(self, path: str | Path, problem: str, *, record: str | None = None, expected: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.record = record
        self.expected = expected
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}"
        if self.record:
            where += f", {self.record}"
        text = f"{where}: {self.problem}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


@dataclass(frozen=True)
class Rejected:
    """One record left out of an otherwise good file, reported in the summary."""

    record: str  # 'line 14', 'ticket 3021', 'review 7 on page.html'
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"record": self.record, "reason": self.reason}
