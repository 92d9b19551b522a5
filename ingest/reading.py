"""Reading exported files the way they arrive: BOMs, cp1252 from Excel, ';' separators, multi-line cells."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ImportFailure

# Check a few KB for NUL bytes and other binary signatures before parsing.
_SNIFF_BYTES = 8192
_BINARY_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"SQLite format 3": "an SQLite database",
}
_ZIP_MAGIC = b"PK\x03\x04"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_bytes(path: str | Path) -> bytes:
    path = Path(path)
    if not path.exists():
        raise ImportFailure(path, "file not found")
    if path.is_dir():
        raise ImportFailure(path, "is a folder", expected="a file")
    data = path.read_bytes()
    if not data.strip():
        raise ImportFailure(path, "the file is empty")
    return data


def is_zip(data: bytes) -> bool:
    """XLSX and DOCX are zip files."""
    return data.startswith(_ZIP_MAGIC)


def decode_text(path: str | Path, data: bytes) -> str:
    """Decode exported text: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252 as Excel writes."""
    head = data[:_SNIFF_BYTES]
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ImportFailure(path, f"this is {what}, not a text export", expected="a CSV, JSON, HTML or text file")
    if head.startswith(_ZIP_MAGIC):
        raise ImportFailure(path, "this is a zip-based file (XLSX/DOCX?) where text was expected")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in head:
        raise ImportFailure(path, "the file contains NUL bytes: it looks binary", expected="a text export")
    if head.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportFailure(
                path, f"undecodable byte 0x{data[exc.start]:02x}", record=f"line {line}", expected="UTF-8 or cp1252 text"
            ) from None


def read_text(path: str | Path) -> str:
    return decode_text(path, read_bytes(path))


@dataclass(frozen=True)
class CsvTable:
    """Rows of a CSV with the physical line each row starts on (for error messages)."""

    path: str
    rows: list[list[str]]
    lines: list[int]
    delimiter: str

    def record(self, index: int) -> str:
        return f"line {self.lines[index]}"


def sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: str | Path, text: str | None = None) -> CsvTable:
    """Parse a CSV export into rows, keeping line numbers; ragged rows are kept for the caller to judge."""
    if text is None:
        text = read_text(path)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailure(path, f"malformed CSV: {exc}", record=f"line {reader.line_num}") from None
    if not rows:
        raise ImportFailure(path, "no rows found", expected="a header row and data rows")
    return CsvTable(str(path), rows, lines, delimiter)


def header_index(header: list[str]) -> dict[str, int]:
    """Column name (trimmed, case-folded) to its first position."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip().casefold(), i)
    return index
