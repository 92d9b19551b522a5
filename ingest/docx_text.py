"""The paragraphs of a .docx, read safely: only word/document.xml, with its size checked before inflating.

python-docx opens every part of the package (a 200 MB image took 782 MB of memory) and trusts the zip (a
157 KB file inflating to 53 MB ran over a minute, then crashed). Here: the zip's directory is checked, only
word/document.xml is inflated, in chunks, stopping at MAX_DOCX_XML_BYTES or MAX_DOCX_RATIO times its
compressed size (declared sizes can lie), and parsed by lxml without entities, network or huge trees.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ingest.errors import ImportFailure
from ingest.limits import MAX_DOCX_RATIO, MAX_DOCX_XML_BYTES

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCUMENT = "word/document.xml"
_FALSE = {"0", "false", "off", "none"}


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool


def docx_paragraphs(path: str | Path, data: bytes, expected: str) -> list[list[Run]]:
    """Each paragraph of the document body as its runs (text, bold), in order."""
    xml = _document_xml(path, data, expected)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportFailure(path, f"the Word document's text is corrupt XML ({exc.msg})", expected=expected) from None
    if root.tag != f"{_W}document":
        raise ImportFailure(path, "word/document.xml is not a Word document body", expected=expected)
    return [_runs(p) for p in root.iter(f"{_W}p")]


def _document_xml(path: str | Path, data: bytes, expected: str) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo(_DOCUMENT)
    except KeyError:
        raise ImportFailure(path, "a zip file that is not a Word document (an XLSX?)", expected=expected) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ImportFailure(path, "a corrupt or truncated zip file (.docx)", expected=expected) from None
    limit = min(MAX_DOCX_XML_BYTES, max(info.compress_size, 1) * MAX_DOCX_RATIO)
    if info.file_size > limit:
        raise ImportFailure(path, f"the document text would inflate to {info.file_size:,} bytes "
                                  f"(from {info.compress_size:,}; limit {limit:,}): a zip bomb?", expected=expected)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(1 << 16):
                size += len(chunk)
                if size > limit:  # the directory under-declared the size
                    raise ImportFailure(path, f"the document text inflates past {limit:,} bytes: a zip bomb?",
                                        expected=expected)
                chunks.append(chunk)
    except ImportFailure:
        raise
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise ImportFailure(path, f"a corrupt .docx: its text cannot be unpacked ({type(exc).__name__})",
                            expected=expected) from None
    return b"".join(chunks)


def _runs(paragraph: etree._Element) -> list[Run]:
    runs: list[Run] = []
    for run in paragraph.iter(f"{_W}r"):
        parts = []
        for node in run:
            if node.tag == f"{_W}t":
                parts.append(node.text or "")
            elif node.tag == f"{_W}tab":
                parts.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
        if parts:
            runs.append(Run("".join(parts), _is_bold(run)))
    return runs


def _is_bold(run: etree._Element) -> bool:
    """Direct bold formatting (w:rPr/w:b), as python-docx's Run.bold reads it."""
    bold = run.find(f"{_W}rPr/{_W}b")
    return bold is not None and str(bold.get(f"{_W}val", "true")).lower() not in _FALSE
