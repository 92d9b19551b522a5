"""Reading exported files the way they arrive: BOMs, cp1252 from Excel, ';' separators, multi-line cells."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import ImportFailure
from ingest.limits import MAX_COLUMNS, MAX_FIELD_CHARS, MAX_FILE_BYTES, MAX_JSON_DEPTH

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


def check_file_name(path: str | Path) -> None:
    """A file name that is not valid UTF-8 (bytes from another system) cannot be stored as text: refused."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise ImportFailure(path, "the file name is not valid UTF-8",
                            expected="a file name in UTF-8: rename the file and import it again") from None


def read_bytes(path: str | Path) -> bytes:
    path = Path(path)
    check_file_name(path)
    if not path.exists():
        raise ImportFailure(path, "file not found")
    if path.is_dir():
        raise ImportFailure(path, "is a folder", expected="a file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFailure(path, f"the file is {size / 2**20:,.0f} MB, over the limit of {MAX_FILE_BYTES // 2**20} MB",
                            expected="an export split into smaller files")
    data = path.read_bytes()
    if not data.strip():
        raise ImportFailure(path, "the file is empty")
    return data


def is_zip(data: bytes) -> bool:
    """XLSX and DOCX are zip files."""
    return data.startswith(_ZIP_MAGIC)


@dataclass(frozen=True)
class Decoded:
    """Decoded text and how: which encoding, and how many bytes could not be read (replaced by U+FFFD)."""

    text: str
    encoding: str
    replaced: int = 0
    first_bad_line: int | None = None
    nuls: int = 0  # stray NUL bytes dropped

    @property
    def note(self) -> str | None:
        """For an import's details: what was replaced or dropped, so a user can look."""
        notes = []
        if self.replaced:
            notes.append(f"{self.replaced} byte(s) that are not valid {self.encoding} replaced with U+FFFD "
                         f"(first on line {self.first_bad_line})")
        if self.nuls:
            notes.append(f"{self.nuls} NUL byte(s) dropped")
        return "; ".join(notes) or None


# A well-formed UTF-8 multi-byte sequence. cp1252 text almost never contains one; UTF-8 text is made of them.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the text is UTF-16 without a BOM: mostly-ASCII text puts NULs in every
    other byte (odd positions for little-endian)."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd >= 0.6 * half and even <= 0.05 * half:
        return "utf-16-le"
    if even >= 0.6 * half and odd <= 0.05 * half:
        return "utf-16-be"
    return None


_bad_bytes = threading.local()


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):  # registered for decoding only
        raise exc
    _bad_bytes.positions.append(exc.start)
    return "\ufffd", exc.end


codecs.register_error("insight-count-replace", _count_and_replace)


def _decode_replacing(data: bytes, encoding: str, nuls: int = 0) -> Decoded:
    """Decode, replacing bytes the encoding cannot read; count them and find the first one's line."""
    bad: list[int] = []
    _bad_bytes.positions = bad
    text = data.decode(encoding, errors="insight-count-replace")
    first = data[: bad[0]].count(b"\n") + 1 if bad else None
    return Decoded(text, encoding, len(bad), first, nuls)


def decode(path: str | Path, data: bytes) -> Decoded:
    """Decode exported text: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one when its NULs say
    so), else cp1252 as Excel writes. A stray NUL (at most one byte in 1,000) is dropped; more is binary. A file that is UTF-8 but for a stray bad byte stays UTF-8 with that byte
    replaced (reading the whole file as cp1252 would turn every 'á' into 'Ã¡'); bytes cp1252 leaves undefined
    are replaced too. Binary files are refused."""
    head = data[:_SNIFF_BYTES]
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise ImportFailure(path, f"this is {what}, not a text export", expected="a CSV, JSON, HTML or text file")
    if head.startswith(_ZIP_MAGIC):
        raise ImportFailure(path, "this is a zip-based file (XLSX/DOCX?) where text was expected")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_replacing(data, "utf-16")
    if b"\x00" in head and (utf16 := _utf16_without_bom(head)) is not None:
        return _decode_replacing(data, utf16)
    nuls = data.count(b"\x00")
    if nuls and nuls * 1000 > len(data):
        raise ImportFailure(path, "the file contains NUL bytes: it looks binary", expected="a text export")
    if nuls:  # a stray NUL or two in a text export (a broken database field): dropped, and reported
        data = data.replace(b"\x00", b"")
    if head.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return Decoded(data.decode("utf-8"), "utf-8", nuls=nuls)
    except UnicodeDecodeError:
        pass
    decoded = _decode_replacing(data, "utf-8", nuls)
    # cp1252 text has almost no well-formed UTF-8 sequences (its accents stand alone); UTF-8 text is full of them.
    if len(_UTF8_SEQUENCE.findall(data)) >= 2 * decoded.replaced:
        return decoded  # UTF-8 but for a few bad bytes
    return _decode_replacing(data, "cp1252", nuls)


def decode_text(path: str | Path, data: bytes) -> str:
    """`decode(path, data).text`, for callers that do not report replaced bytes."""
    return decode(path, data).text


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


MISALIGNED_SHARE = 0.05  # more rows than this that do not line up with the header: the header is off


def misaligned_rows(table: CsvTable, what: str = "fields") -> dict[int, str]:
    """Data rows (indices into `table.rows`) whose cells do not line up with the header, with the reason to
    reject them; ImportFailure when they are more than a few, since then the header itself is off (a deleted
    header cell shifts every value one column over: authors read as dates, stars as text).

    A row must have one cell per header column; trailing empty cells past the header are tolerated when no
    row fills them (a tool that ends every row with a separator), and rows may stop before trailing header
    columns Excel left unnamed."""
    header = table.rows[0]
    width = len(header)
    named = width
    while named > 1 and not header[named - 1].strip():
        named -= 1
    rows = range(1, len(table.rows))
    overfull = any(len(table.rows[i]) > width and any(c.strip() for c in table.rows[i][width:]) for i in rows)
    misfits: dict[int, str] = {}
    for i in rows:
        cells = len(table.rows[i])
        if cells < named or (cells > width and overfull):
            misfits[i] = (f"{cells} cells but the header has {width}: the row does not line up with the header"
                          " (a stray separator, an unquoted line break or a missing cell?)")
    if len(misfits) >= 2 and len(misfits) > MISALIGNED_SHARE * len(rows):
        first = min(misfits)
        raise ImportFailure(
            table.path,
            f"{len(misfits)} of {len(rows)} rows do not have the header's {width} cells (first: "
            f"{table.record(first)} has {len(table.rows[first])}): {what} would be read from the wrong columns",
            record="line 1", expected="one cell per header column in every row (was a header cell deleted?)",
        )
    return misfits


def sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


@contextmanager
def csv_field_limit(limit: int) -> Iterator[None]:
    """The csv module's own limit (128 KB) would refuse a file for one long cell: ours is checked per cell."""
    old = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


# Line breaks str.splitlines knows that a file opened with newline="" does not split on.
_OTHER_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def csv_lines(text: str) -> Iterable[str]:
    """The lines of `text` as `open(path, newline="")` gives them, for csv.reader. io.StringIO would copy
    the text at 4 bytes a character (+560 MB for a 140 MB orders export); splitlines keeps it compact, and
    is used unless the text holds a break character (form feed, U+2028...) it would split on too."""
    if any(ch in text for ch in _OTHER_LINE_BREAKS):
        return io.StringIO(text, newline="")
    return text.splitlines(keepends=True)


def read_csv(path: str | Path, text: str | None = None, *, long_cells: str = "refuse") -> CsvTable:
    """Parse a CSV export into rows, keeping line numbers; ragged rows are kept for the caller to judge.

    A header of more than MAX_COLUMNS columns is refused. A cell over MAX_FIELD_CHARS refuses the file
    (`long_cells="refuse"`), or is left for the caller to reject its record (`"keep"`; see `long_cell`)."""
    if text is None:
        text = read_text(path)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    with csv_field_limit(max(len(text), 1) + 1):
        try:
            for row in reader:
                if len(row) > MAX_COLUMNS:
                    raise ImportFailure(path, f"{len(row):,} columns, over the limit of {MAX_COLUMNS:,}",
                                        record=f"line {start}", expected="a CSV export with fewer columns")
                if any(cell.strip() for cell in row):
                    rows.append(row)
                    lines.append(start)
                    if long_cells == "refuse" and (column := long_cell(row)) is not None:
                        name = rows[0][column] if column < len(rows[0]) else f"column {column + 1}"
                        raise ImportFailure(path, f"the cell in column {name!r} has {len(row[column]):,} characters",
                                            record=f"line {start}", expected=f"cells of up to {MAX_FIELD_CHARS:,}")
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ImportFailure(path, f"malformed CSV: {exc}", record=f"line {reader.line_num}") from None
    if not rows:
        raise ImportFailure(path, "no rows found", expected="a header row and data rows")
    return CsvTable(str(path), rows, lines, delimiter)


def long_cell(row: list[str], limit: int = MAX_FIELD_CHARS) -> int | None:
    """The position of the first cell longer than `limit`, or None."""
    return next((i for i, cell in enumerate(row) if len(cell) > limit), None)


def long_cell_reason(row: list[str], header: list[str], limit: int = MAX_FIELD_CHARS) -> str | None:
    """Why a row is rejected for a cell over `limit`, naming the cell's column; None when no cell is."""
    column = long_cell(row, limit)
    if column is None:
        return None
    name = header[column] if column < len(header) else f"column {column + 1}"
    return f"the cell in column {name!r} has {len(row[column]):,} characters, over the limit of {limit:,}"


class JsonTooDeep(ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH (or than Python's parser can follow)."""


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a loaded JSON value, without recursion; stops counting past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def load_json_limited(text: str, *, strict: bool = True, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that raises JsonTooDeep instead of RecursionError, and for any nesting over `max_depth`
    (code walking the result recurses: depth 900 would overflow there instead)."""
    try:
        value = json.loads(text, strict=strict)
    except RecursionError:
        raise JsonTooDeep(f"JSON nested deeper than Python can read (limit {max_depth})") from None
    if json_depth(value, max_depth) > max_depth:
        raise JsonTooDeep(f"JSON nested more than {max_depth} levels deep")
    return value


def header_index(header: list[str]) -> dict[str, int]:
    """Column name (trimmed, case-folded) to its first position."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip().casefold(), i)
    return index
