"""Tabular exports as rows of text: CSV via `ingest.reading`, or an XLSX workbook's first sheet via openpyxl.

Both give a `Sheet` whose rows keep the line (CSV) or row (XLSX) they came from, for error messages.
A data row with a cell over MAX_FIELD_CHARS is left out of the rows and rejected on its own (one pasted
5 MB answer must not refuse the whole survey), and bytes the decoder replaced are noted for the summary.
XLSX date cells become 'YYYY-MM-DD HH:MM:SS' text and whole numbers lose their '.0', so a workbook
reads exactly like the CSV export of the same data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from ingest.errors import ImportFailure, Rejected
from ingest.limits import MAX_FIELD_CHARS
from ingest.reading import decode, is_zip, long_cell, long_cell_reason, read_bytes, read_csv


@dataclass(frozen=True)
class Sheet:
    """Rows of a CSV or the first XLSX sheet, with the line/row each came from (for messages)."""

    path: str
    rows: list[list[str]]
    lines: list[int]
    unit: str = "line"  # "line" for CSV, "row" for XLSX
    rejected: list[Rejected] = field(default_factory=list)  # data rows left out: a cell over the limit
    encoding_note: str | None = None  # `Decoded.note`: bytes replaced or NULs dropped while decoding

    def record(self, index: int) -> str:
        return f"{self.unit} {self.lines[index]}"


def read_sheet(path: str | Path, expected: str = "a CSV or XLSX export") -> Sheet:
    """A CSV (any encoding `ingest.reading` handles) or an XLSX workbook's first sheet, as text cells.

    `expected` names what the caller wanted, for the error when the file is something else."""
    data = read_bytes(path)
    if is_zip(data):
        return _read_xlsx(path, data, expected)
    decoded = decode(path, data)
    text = decoded.text
    head = text.lstrip()[:200]
    if head.upper().startswith("WEBVTT") or "-->" in head:
        raise ImportFailure(path, "this is a transcript (subtitle cues), not a table", expected=expected)
    if head.startswith(("{", "[")):
        raise ImportFailure(path, "this is a JSON file, not a table export", expected=expected)
    if head.startswith("<"):
        raise ImportFailure(path, "this is an HTML/XML file, not a table export", expected=expected)
    table = read_csv(path, text, long_cells="keep")
    return _without_long_rows(Sheet(str(path), table.rows, table.lines, "line", encoding_note=decoded.note))


def _without_long_rows(sheet: Sheet) -> Sheet:
    """Data rows with a cell over MAX_FIELD_CHARS moved to `rejected`; a header that long refuses the file."""
    header = sheet.rows[0]
    if (column := long_cell(header)) is not None:
        raise ImportFailure(sheet.path, f"the header cell in column {column + 1} has {len(header[column]):,} "
                            "characters", record=sheet.record(0), expected=f"a header of up to {MAX_FIELD_CHARS:,}")
    rows, lines, rejected = [header], [sheet.lines[0]], []
    for row, number in zip(sheet.rows[1:], sheet.lines[1:], strict=True):
        if (too_long := long_cell_reason(row, header)) is None:
            rows.append(row)
            lines.append(number)
            continue
        rejected.append(Rejected(f"{sheet.unit} {number}", too_long))
    if not rejected:
        return sheet
    return Sheet(sheet.path, rows, lines, sheet.unit, rejected, sheet.encoding_note)


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
    return _without_long_rows(Sheet(str(path), rows, lines, "row"))


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
