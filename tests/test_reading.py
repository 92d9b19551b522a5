"""The reading layer every importer shares: decoding, size limits, depth-limited JSON."""

import pytest

from ingest.errors import ImportFailure
from ingest.limits import MAX_COLUMNS
from ingest.reading import JsonTooDeep, decode, json_depth, load_json_limited, read_bytes, read_csv

TEXT = "Tomás Müller, café, 5 stars\n" * 50


def test_utf8_with_a_stray_bad_byte_stays_utf8_and_says_so():
    data = TEXT.encode("utf-8")
    decoded = decode("x.csv", data[:200] + b"\xff" + data[200:])
    assert decoded.encoding == "utf-8" and decoded.replaced == 1 and "Ã" not in decoded.text
    assert decoded.note == "1 byte(s) that are not valid utf-8 replaced with U+FFFD (first on line 7)"


def test_cp1252_stays_cp1252_and_its_undefined_bytes_are_replaced():
    """Old code: an undefined cp1252 byte (0x81, 0x8d, 0x8f, 0x90, 0x9d) refused the whole file."""
    data = TEXT.encode("cp1252") * 60  # past 64 KB
    decoded = decode("x.csv", data + b"\x81 end\n")
    assert decoded.encoding == "cp1252" and decoded.text.startswith("Tomás Müller") and decoded.replaced == 1


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_with_or_without_bom(encoding):
    """Old code refused UTF-16 without a BOM as 'NUL bytes: looks binary'."""
    decoded = decode("x.csv", TEXT.encode(encoding))
    assert decoded.text.lstrip("\ufeff") == TEXT


def test_binary_is_still_refused():
    with pytest.raises(ImportFailure, match="NUL bytes"):
        decode("x.bin", bytes(range(256)) * 10)


def test_a_file_name_that_is_not_utf8_is_refused(tmp_path):
    """Old code: UnicodeEncodeError when the name was stored or printed."""
    import os

    path = tmp_path / os.fsdecode(b"survey-\xff.csv")
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(ImportFailure, match="file name is not valid UTF-8"):
        read_bytes(path)


def test_csv_limits_columns_and_cells(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)) + "\n" + "x," * MAX_COLUMNS + "x\n")
    with pytest.raises(ImportFailure, match="line 1: 2,001 columns, over the limit of 2,000"):
        read_csv(path)
    path.write_text('id,text\n1,"' + "w " * 100_000 + '"\n2,short\n')
    with pytest.raises(ImportFailure, match=r"line 2: the cell in column 'text' has 200,000 characters"):
        read_csv(path)
    table = read_csv(path, long_cells="keep")  # the caller rejects that row
    assert len(table.rows) == 3


def test_json_depth_is_limited_without_recursion():
    assert json_depth({"a": [1, {"b": []}]}) == 4
    with pytest.raises(JsonTooDeep):
        load_json_limited("[" * 100_000 + "]" * 100_000)
    with pytest.raises(JsonTooDeep):
        load_json_limited("[" * 101 + "]" * 101)
    assert load_json_limited("[" * 100 + "]" * 100)


def test_a_stray_nul_byte_is_dropped_and_reported():
    data = TEXT.encode("utf-8")
    decoded = decode("x.csv", data[:100] + b"\x00" + data[100:])
    assert decoded.text == TEXT and decoded.note == "1 NUL byte(s) dropped"


@pytest.mark.parametrize("text", ["a,b\r\n1,\"x\ny\"\r\n2,z\r\n", "a,b\r1,x\r2,y", "a,b\n1,page\x0cbreak\n2,\u2028sep\n"])
def test_csv_lines_split_as_a_file_opened_with_newline_empty(text):
    import csv
    import io

    from ingest.reading import csv_lines

    assert list(csv.reader(csv_lines(text))) == list(csv.reader(io.StringIO(text, newline="")))
