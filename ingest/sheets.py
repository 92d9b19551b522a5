"""Tabular exports as rows of text: CSV via `ingest.reading`, or an XLSX workbook's first sheet via openpyxl.

Both give a `Sheet` whose rows keep the line (CSV) or row (XLSX) they came from, for error messages.
XLSX date cells become 'YYYY-MM-DD HH:MM:SS' text and whole numbers lose their '.0', so a workbook
reads exactly like the CSV export of the same data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from ingest.errors import ImportFailure
from ingest.reading import decode_text, is_zip, read_bytes, read_csv


@dataclass(frozen=True)
class Sheet:
    """Rows of a CSV or the first XLSX sheet, with the line/row each came from (for messages)."""

    path: str
    rows: list[list[str]]
    lines: list[int]
    unit: str = "line"  # "line" for CSV, "row" for XLSX

    def record(self, index: int) -> str:
        return f"{self.unit} {self.lines[index]}"


def read_sheet(path: str | Path, expected: str = "a CSV or XLSX export") -> Sheet:
    """A CSV (any encoding `ingest.reading` handles) or an XLSX workbook's first sheet, as text cells.

    `expected` names what the caller wanted, for the error when the file is something else."""
    data = read_bytes(path)
    if is_zip(data):
        return _read_xlsx(path, data, expected)
    text = decode_text(path, data)
    head = text.lstrip()[:200]
    if head.upper().startswith("WEBVTT") or "-->" in head:
        raise ImportFailure(path, "this is a transcript (subtitle cues), not a table", expected=expected)
    if head.startswith(("{", "[")):
        raise ImportFailure(path, "this is a JSON file, not a table export", expected=expected)
    if head.startswith("<"):
        raise ImportFailure(path, "this is an HTML/XML file, not a table export", expected=expected)
    table = read_csv(path, text)
    return Sheet(str(path), table.rows, table.lines, "line")


def _read_xlsx(path: str | Path, data: bytes, expected: str) -> Sheet:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a non-workbook zip
        raise ImportFailure(path, "a zip file that is not an XLSX workbook (a DOCX?)", expected=expected) from None
    sheet = workbook.worksheets[0]
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            rows.append(cells)
            lines.append(number)
    workbook.close()
    if not rows:
        raise ImportFailure(path, "the workbook's first sheet is empty", expected="a header row and data rows")
    return Sheet(str(path), rows, lines, "row")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
