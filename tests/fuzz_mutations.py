"""Mutated variants of the bundled sample exports, and the check every import of one must pass.

Used by tests/test_fuzz_imports.py (a small fixed budget) and bench/fuzz_imports.py (a larger one, --seed).
A variant is (kind, file name, bytes). `check_variant` imports it with the real CLI in-process (click's
CliRunner, a blank spaCy pipeline) and returns what went wrong, if anything: an import must be accepted, or
refused with one line naming the file; print exactly one JSON object with --json; leave the database
unchanged when refused; and import nothing new on a second run (idempotent). Human (non --json) output must
not crash either.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import signal
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from insight.cli import cli
from insight.core.db import open_db

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
KINDS = ("survey", "interview", "review", "ticket", "orders")
BIG = 5 * 1024 * 1024


@dataclass(frozen=True)
class Variant:
    kind: str
    name: str
    data: bytes
    mutation: str
    seed_file: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.seed_file} [{self.mutation}]"


# --- seeds: the sample files, cut small so a variant imports in well under a second -------------------------


def _head_lines(path: Path, lines: int) -> bytes:
    with path.open("rb") as fh:
        return b"".join(fh.readline() for _ in range(lines))


def _tickets_head(path: Path, count: int) -> bytes:
    data = json.loads(path.read_text(encoding="utf-8"))
    tickets = data["tickets"][:count]
    users = {t.get("requester_id") for t in tickets} | {c.get("author_id") for t in tickets for c in t.get("comments", [])}
    small = {**data, "tickets": tickets, "users": [u for u in data.get("users", []) if u.get("id") in users]}
    return json.dumps(small, indent=2, ensure_ascii=False).encode("utf-8")


def seeds() -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) for every kind of sample export."""
    interviews = sorted((SAMPLE / "interviews").iterdir())
    out = [
        ("survey", "survey_typeform_2026-10.csv", _head_lines(SAMPLE / "survey_typeform_2026-10.csv", 25)),
        ("orders", "orders_shopify.csv", _head_lines(SAMPLE / "orders_shopify.csv", 40)),
        ("ticket", "tickets_zendesk.json", _tickets_head(SAMPLE / "tickets_zendesk.json", 6)),
        ("review", "judgeme_export.csv", _head_lines(SAMPLE / "reviews" / "judgeme_export.csv", 20)),
        ("review", "rich-barrier-cream.html", (SAMPLE / "reviews" / "rich-barrier-cream.html").read_bytes()),  # microdata
        ("review", "niacinamide-serum.html", (SAMPLE / "reviews" / "niacinamide-serum.html").read_bytes()),  # JSON-LD
    ]
    for path in interviews:
        out.append(("interview", path.name, path.read_bytes()))
    return out


# --- mutations ------------------------------------------------------------------------------------------------

Mutation = Callable[[random.Random, str, bytes], tuple[str, bytes] | None]


def truncate(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    return name, data[: rng.randrange(1, max(2, len(data)))]


def flip_bytes(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    out = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return name, bytes(out)


def nul_bytes(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    i = rng.randrange(len(data))
    return name, data[:i] + b"\x00" * rng.randint(1, 4) + data[i:]


def invalid_utf8(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    i = rng.randrange(len(data))
    return name, data[:i] + rng.choice([b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\x80"]) + data[i:]


def utf16_no_bom(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return name, text.encode(rng.choice(["utf-16-le", "utf-16-be"]))


def cp1252_after_64k(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    """cp1252 text, long enough that the odd byte (undefined in cp1252: 0x81 0x8d 0x8f 0x90 0x9d) sits past 64 KB."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.splitlines(keepends=True)
    if len(lines) < 3:
        return None
    body = lines[1:]
    while sum(len(x) for x in lines) < 70_000:
        lines.extend(body)
    raw = "".join(lines).encode("cp1252", errors="replace")
    i = rng.randrange(66_000, len(raw))
    return name, raw[:i] + rng.choice([b"\x81", b"\x8d", b"\x9d"]) + raw[i:]


def _csv_rows(data: bytes) -> list[list[str]] | None:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows if len(rows) >= 2 and len(rows[0]) >= 2 else None


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def drop_header_cell(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    rows = _csv_rows(data)
    if rows is None:
        return None
    i = rng.randrange(len(rows[0]))
    rows[0] = rows[0][:i] + rows[0][i + 1 :]
    return name, _csv_bytes(rows)


def rename_header_cell(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    rows = _csv_rows(data)
    if rows is None:
        return None
    rows[0][rng.randrange(len(rows[0]))] = rng.choice(["", "Column", "id", "Email", "[/]", "text", "Date"])
    return name, _csv_bytes(rows)


def shuffle_columns(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    rows = _csv_rows(data)
    if rows is None:
        return None
    order = list(range(len(rows[0])))
    rng.shuffle(order)
    return name, _csv_bytes([[row[i] if i < len(row) else "" for i in order] for row in rows])


def duplicate_rows(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    rows = _csv_rows(data)
    if rows is None:
        return None
    extra = [rng.choice(rows[1:]) for _ in range(rng.randint(1, 5))]
    return name, _csv_bytes(rows + extra)


def many_columns(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    rows = _csv_rows(data)
    if rows is None:
        return None
    width = 10_000
    rows[0] = rows[0] + [f"Extra {i}" for i in range(width)]
    for row in rows[1:]:
        row.extend("x" for _ in range(width))
    return name, _csv_bytes(rows)


def _big_text() -> str:
    return ("word " * (BIG // 5))[:BIG]


def huge_field(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    """A 5 MB cell (CSV), string (JSON), cue (transcript) or review body (HTML)."""
    rows = _csv_rows(data) if name.endswith(".csv") else None
    if rows is not None:
        row = rng.randrange(1, len(rows))
        rows[row][rng.randrange(len(rows[row]))] = _big_text()
        return name, _csv_bytes(rows)
    if name.endswith(".json"):
        value = json.loads(data)
        strings = list(_string_slots(value))
        if not strings:
            return None
        holder, key = rng.choice(strings)
        holder[key] = _big_text()
        return name, json.dumps(value).encode("utf-8")
    text = data.decode("utf-8", errors="replace")
    if name.endswith((".html", ".htm")):
        bodies = list(re.finditer(r'"reviewBody"\s*:\s*"(?:[^"\\]|\\.)*"', text))
        if bodies:  # JSON-LD
            body = rng.choice(bodies)
            return name, (text[: body.start()] + '"reviewBody": ' + json.dumps(_big_text()) + text[body.end() :]).encode()
        bodies = list(re.finditer(r'itemprop="reviewBody">', text))
        if not bodies:
            return None
        at = rng.choice(bodies).end()
        return name, (text[:at] + _big_text() + text[at:]).encode("utf-8")
    if name.endswith((".vtt", ".srt", ".txt")):
        lines = text.split("\n")
        i = rng.randrange(len(lines) // 2, len(lines))
        lines[i] = lines[i] + " " + _big_text()
        return name, "\n".join(lines).encode("utf-8")
    return None


def _string_slots(value: object) -> Iterator[tuple[dict | list, str | int]]:
    stack = [value]
    while stack:
        node = stack.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, child in pairs:
            if isinstance(child, str):
                yield node, key
            elif isinstance(child, (dict, list)):
                stack.append(child)


_WRONG_VALUES: list[object] = [1e20, 5, ["x"], {"a": 1}, None, True, 12345, "", [], -1, "x" * 300]


def wrong_json_types(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    """A few fields of the JSON (or of the page's JSON-LD) get a value of another type."""
    if name.endswith(".json"):
        value = json.loads(data)
        _retype(rng, value)
        return name, json.dumps(value).encode("utf-8")
    if name.endswith(".html"):
        text = data.decode("utf-8")
        opening = '<script type="application/ld+json">'
        blocks = [m.end() for m in re.finditer(re.escape(opening), text)]
        with_reviews = [b for b in blocks if "Review" in text[b : text.find("</script>", b)]]
        if not blocks:
            return None
        start = rng.choice(with_reviews or blocks)
        end = text.index("</script>", start)
        try:
            value = json.loads(text[start:end])
        except json.JSONDecodeError:
            return None
        _retype(rng, value)
        return name, (text[:start] + json.dumps(value) + text[end:]).encode("utf-8")
    return None


def _retype(rng: random.Random, value: object) -> None:
    slots: list[tuple[dict | list, str | int]] = []
    stack = [value]
    while stack:
        node = stack.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
        for key, child in pairs:
            slots.append((node, key))
            if isinstance(child, (dict, list)):
                stack.append(child)
    for holder, key in rng.sample(slots, min(len(slots), rng.randint(1, 6))):
        holder[key] = rng.choice(_WRONG_VALUES)  # type: ignore[index]


def deep_nesting(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    depth = 10_000
    if name.endswith(".json"):
        value = json.loads(data)
        slots = [slot for slot in _string_slots(value)]
        if not slots:
            return name, b"[" * depth + b"]" * depth
        holder, key = rng.choice(slots)
        holder[key] = "__DEEP__"  # type: ignore[index]
        deep = "[" * depth + "1" + "]" * depth
        return name, json.dumps(value).replace('"__DEEP__"', deep, 1).encode("utf-8")
    if name.endswith(".html"):
        text = data.decode("utf-8")
        nested = "<div>" * depth + "deep" + "</div>" * depth
        ld = '<script type="application/ld+json">' + '{"a":' * depth + "1" + "}" * depth + "</script>"
        at = text.find("<body")
        at = text.index(">", at) + 1 if at >= 0 else 0
        return name, (text[:at] + rng.choice([nested, ld, nested + ld]) + text[at:]).encode("utf-8")
    return None


def other_kind(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    """Handled in `variants`: another kind's export given to this importer."""
    return None


# --- .docx -------------------------------------------------------------------------------------------------


def _docx_parts(data: bytes) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {n: archive.read(n) for n in archive.namelist()}
    except zipfile.BadZipFile:
        return None


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def corrupt_docx(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    parts = _docx_parts(data)
    if parts is None or "word/document.xml" not in parts:
        return None
    how = rng.choice(["truncate", "flip compressed", "method", "bad xml", "no document", "empty xml"])
    if how == "truncate":
        return name, data[: rng.randrange(30, len(data) - 1)]
    if how == "flip compressed":
        out = bytearray(data)
        start = data.find(b"word/document.xml") + 40
        for _ in range(10):
            i = rng.randrange(start, min(len(out), start + 4000))
            out[i] ^= 0xFF
        return name, bytes(out)
    if how == "method":  # an unsupported compression method number in the local and central headers
        out = bytearray(data)
        for marker in (b"PK\x03\x04", b"PK\x01\x02"):
            at = out.find(marker)
            while at >= 0:
                offset = 8 if marker == b"PK\x03\x04" else 10
                out[at + offset] = 99
                at = out.find(marker, at + 4)
        return name, bytes(out)
    if how == "bad xml":
        xml = parts["word/document.xml"]
        parts["word/document.xml"] = xml[: rng.randrange(10, len(xml))]
    elif how == "no document":
        parts.pop("word/document.xml")
    else:
        parts["word/document.xml"] = b""
    return name, _zip(parts)


def bomb_docx(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes] | None:
    """A document.xml that inflates to 60 MB, or a 200 MB image part next to a normal document."""
    parts = _docx_parts(data)
    if parts is None or "word/document.xml" not in parts:
        return None
    if rng.random() < 0.5:
        xml = parts["word/document.xml"]
        at = xml.rfind(b"</w:body>")
        parts["word/document.xml"] = xml[:at] + b" " * (60 * 1024 * 1024) + xml[at:]
    else:
        parts["word/media/image1.png"] = b"\x89PNG" + b"\x00" * (200 * 1024 * 1024)
    return name, _zip(parts)


# --- file names --------------------------------------------------------------------------------------------

ODD_NAMES = [
    b"[bold red]x[/] ",
    b"unbalanced [/] ",
    b"\x1b]0;pwned\x07 ",
    b"\x1b[2J\x1b[H ",
    b"not-utf8-\xff\xfe ",
    b"line\nbreak ",
    "é ü 😀 ".encode(),
    b"-dash ",
]


_odd_names = iter(())


# Markup, an unbalanced '[/]' (a folder '[' and a file ']'), escape sequences and bytes that are not UTF-8 at once.
HOSTILE_NAME = b"[bold]\x1b]0;t\x07\x1b[2J\xff "


def hostile_name(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    return os.fsdecode(HOSTILE_NAME + os.fsencode(name)), data


def odd_name(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    """The same content under a file name with markup, escape sequences, invalid UTF-8 or a newline (the
    names are taken in turn, so a dozen variants use each one)."""
    global _odd_names
    prefix = next(_odd_names, None)
    if prefix is None:
        _odd_names = iter(rng.sample(ODD_NAMES, len(ODD_NAMES)))
        prefix = next(_odd_names)
    return os.fsdecode(prefix + os.fsencode(name)), data


TEXT_MUTATIONS: dict[str, Mutation] = {
    "truncate": truncate,
    "byte flips": flip_bytes,
    "NUL bytes": nul_bytes,
    "invalid UTF-8": invalid_utf8,
    "UTF-16 without BOM": utf16_no_bom,
    "cp1252 byte after 64 KB": cp1252_after_64k,
    "drop header cell": drop_header_cell,
    "rename header cell": rename_header_cell,
    "shuffle columns": shuffle_columns,
    "duplicate rows": duplicate_rows,
    "10,000 columns": many_columns,
    "5 MB field": huge_field,
    "wrong JSON types": wrong_json_types,
    "nesting depth 10,000": deep_nesting,
    "odd file name": odd_name,
    "hostile file name": hostile_name,
}
DOCX_MUTATIONS: dict[str, Mutation] = {
    "truncate": truncate,
    "byte flips": flip_bytes,
    "corrupt docx": corrupt_docx,
    "bomb docx": bomb_docx,
    "odd file name": odd_name,
    "hostile file name": hostile_name,
}
# Each mutation and seed is expensive in its own way; these run once per seed in every budget.
ALWAYS = ("5 MB field", "10,000 columns", "nesting depth 10,000", "corrupt docx", "bomb docx", "UTF-16 without BOM",
          "cp1252 byte after 64 KB", "wrong JSON types", "odd file name", "hostile file name")


def variants(count: int, seed: int, *, each_seed: bool = True) -> list[Variant]:
    """`count` variants, reproducible by seed: first every applicable ALWAYS mutation of every seed file (or,
    with each_seed=False, of one seed file per kind and mutation), each importer given another kind's export,
    then random mutations up to `count`."""
    global _odd_names
    rng = random.Random(seed)
    _odd_names = iter(())
    base = seeds()
    out: list[Variant] = []
    done: set[tuple[str, str, bool]] = set()
    for kind, name, data in base:
        table = DOCX_MUTATIONS if name.endswith(".docx") else TEXT_MUTATIONS
        for mutation in ALWAYS:
            key = (kind, mutation, name.endswith(".docx"))
            if mutation not in table or (not each_seed and key in done):
                continue
            if (made := table[mutation](rng, name, data)) is not None:
                out.append(Variant(kind, made[0], made[1], mutation, name))
                done.add(key)
    kinds_done: set[str] = set()
    for kind, name, _data in base:  # another kind's export, given to this importer
        if not each_seed and kind in kinds_done:
            continue
        kinds_done.add(kind)
        other = rng.choice([b for b in base if b[0] != kind])
        out.append(Variant(kind, other[1], other[2], f"a {other[0]} export", name))
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        kind, name, data = rng.choice(base)
        table = DOCX_MUTATIONS if name.endswith(".docx") else TEXT_MUTATIONS
        mutation = rng.choice(list(table))
        made = table[mutation](rng, name, data)
        if made is not None:
            out.append(Variant(kind, made[0], made[1], mutation, name))
    return out


# --- checking one variant ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    variant: Variant
    status: str  # accepted | refused | failed
    seconds: float
    problems: list[str] = field(default_factory=list)
    error: str | None = None  # the refusal, when refused

    @property
    def traceback(self) -> bool:
        return any(p.startswith(("traceback", "internal error")) for p in self.problems)

    @property
    def hang(self) -> bool:
        return any(p.startswith("hang") for p in self.problems)


class Hang(Exception):
    """An import ran past the time limit."""


def _state(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'units_fts%'")]
        return tuple((t, *conn.execute(f'SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM "{t}"').fetchone()) for t in sorted(tables))


def _write(folder: Path, variant: Variant) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / variant.name
    try:
        path.write_bytes(variant.data)
    except OSError:  # a name the file system refuses (too long): keep the content under its seed's name
        path = folder / variant.seed_file
        path.write_bytes(variant.data)
    return path


def _run(args: list[str], limit: float):
    runner = CliRunner()
    if limit > 0 and hasattr(signal, "SIGALRM"):
        def on_alarm(signum, frame):  # noqa: ANN001, ARG001
            raise Hang()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return runner.invoke(cli, args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    return runner.invoke(cli, args)


def _problem_of_exception(result) -> str | None:  # noqa: ANN001 - click Result
    exc = result.exception
    if exc is None or isinstance(exc, SystemExit):
        return None
    if isinstance(exc, Hang):
        return "hang: ran past the time limit"
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames)
                  if "/ingest/" in f.filename or "/insight/" in f.filename), "?")
    return f"traceback: {type(exc).__name__}: {str(exc)[:200]} (at {where})"


def check_variant(variant: Variant, db: Path, folder: Path, *, limit: float = 30.0, human: bool = False) -> Outcome:
    """Import the variant twice with --json (and once without, when `human`), and judge what happened."""
    path = _write(folder, variant)
    if not db.exists():
        open_db(db).conn.close()
    before = _state(db)
    args = ["--db", str(db), "import", variant.kind, str(path), "--json"]
    if variant.kind != "orders":
        args += ["--spacy-model", "blank:en"]
    os.environ["INSIGHT_DEBUG"] = "1"  # a bug raises, so it is seen here as a traceback
    started = time.perf_counter()
    result = _run(args, limit)
    seconds = time.perf_counter() - started
    outcome = Outcome(variant, "failed", seconds)
    if (problem := _problem_of_exception(result)) is not None:
        outcome.problems.append(problem)
        return outcome
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    try:
        payload = json.loads(result.stdout)
        assert isinstance(payload, dict) and len(lines) == 1
    except (json.JSONDecodeError, AssertionError):
        outcome.problems.append(f"--json printed {len(lines)} line(s), not one JSON object: {result.stdout[:200]!r}")
        return outcome
    if result.exit_code == 0:
        outcome.status = "accepted"
        again = _run(args, limit)
        if (problem := _problem_of_exception(again)) is not None:
            outcome.problems.append(f"second import: {problem}")
        else:
            totals = json.loads(again.stdout)["totals"]
            if totals["imported"] or totals["updated"]:
                outcome.problems.append(f"not idempotent: the second import added {totals['imported']} and "
                                        f"updated {totals['updated']}")
    elif result.exit_code == 1 and payload.get("failed"):
        outcome.status = "refused"
        error = payload["failed"][0]["error"]
        outcome.error = error
        if len(payload["failed"]) != 1 or "\n" in error.strip() or str(path) not in error:
            outcome.problems.append(f"refusal is not one line naming the file: {error[:200]!r}")
        if _state(db) != before:
            outcome.problems.append("the database changed although the file was refused")
    else:
        outcome.problems.append(f"exit code {result.exit_code} with {result.stdout[:200]!r}")
    if human:
        plain = _run([a for a in args if a != "--json"], limit)
        if (problem := _problem_of_exception(plain)) is not None:
            outcome.problems.append(f"without --json: {problem}")
    return outcome
