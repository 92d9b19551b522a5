"""Transcript files into cues (speaker, text, start, end): WebVTT (Zoom, Teams), SRT, Otter TXT, plain, DOCX.

- vtt: `WEBVTT`, then cues (optional id line, `00:00:01.230 --> 00:00:04.560`, text). Teams puts the speaker
  in voice tags `<v Ana Silva>…</v>`; Zoom writes `Ana Silva: …` in the cue text. `NOTE` blocks may carry
  `key: value` lines (customer, date, interviewer, title) taken as the file's header.
- srt: numbered cues with `00:00:01,230 --> 00:00:04,560`; speakers as a `NAME:` prefix or `[NAME]`.
- otter: `Speaker Name  0:01` (name, two or more spaces, a timestamp), then the paragraph.
- plain: `Speaker: text`, `[00:01:02] Speaker: text`, or Rev's `Speaker (00:01:02):` with the text below;
  lines without a speaker continue the previous turn.
- timestamps: `00:01:02 text` or `[0:05] text` lines, or a timestamp line with the text below (YouTube,
  Otter without speakers): no speaker names at all, read as one unknown speaker.
A cue without a speaker name (Zoom writes the name on the first cue of a turn only) continues the speaker
before it. A cue over MAX_FIELD_CHARS, or a transcript over MAX_DOCUMENT_CHARS, refuses the file.
- docx: paragraphs read as lines (a bold run opening a paragraph is the speaker), then read as otter or plain.
Text files may open with a `---` block of `key: value` lines (customer, date, interviewer, title).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.docx_text import docx_paragraphs
from ingest.errors import ImportFailure
from ingest.limits import MAX_DOCUMENT_CHARS, MAX_FIELD_CHARS
from ingest.reading import decode, is_zip, read_bytes

TRANSCRIPT_FORMATS = ("vtt", "srt", "otter", "plain", "timestamps", "docx")
_FORMAT_ALIASES = {"zoom": "vtt", "teams": "vtt", "webvtt": "vtt", "text": "plain", "txt": "plain", "rev": "plain"}
EXPECTED = "a transcript: WebVTT (Zoom/Teams), SRT, Otter TXT, 'Speaker: text' lines or a DOCX of them"
HEADER_KEYS = ("customer", "email", "order", "date", "interviewer", "title")

_TIMING = re.compile(r"^\s*([\d:.,]+)\s*-->\s*([\d:.,]+)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>|$)", re.DOTALL)
_TAG = re.compile(r"</?[^>]+>")
# A speaker name: capitalised, up to five words, maybe a bracketed affiliation ('Hannah Cole (Fernleaf)').
_NAME = r"[A-Z\u00c0-\u024f][\w.'’\-]*(?: [\w.'’\-]+| \([^()\d]{1,30}\)){0,4}?"
_PREFIX = re.compile(rf"^({_NAME}|[Ss]peaker \d+)\s*:\s*(.*)$", re.DOTALL)
_BRACKET = re.compile(r"^\[([^\]\d][^\]]{0,40})\]\s*(.*)$", re.DOTALL)
_OTTER = re.compile(r"^(.{1,60}?)(?:\s{2,}|\t)(\d{1,2}:\d{2}(?::\d{2})?)\s*$")
# Zoom's saved closed captions: "[Saar Moshiashvili] 13:32:23" above each caption's lines (read like Otter's)
_SPEAKER_STAMP = re.compile(r"^\[([^\]]{1,60})\]\s+(\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_STAMP = r"\[?(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)\]?"
_STAMPED_LINE = re.compile(rf"^{_STAMP}(?:\s+(.*))?$")
_PLAIN = re.compile(
    rf"^(?:\[?(\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\.\d+)?)\]?\s+)?({_NAME}|[Ss]peaker \d+)"
    r"(?:\s*\((\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)\))?\s*:\s*(.*)$"
)


@dataclass
class Cue:
    speaker: str | None
    text: str
    start: str | None = None  # HH:MM:SS.mmm from the start of the recording
    end: str | None = None
    line: int = 0


@dataclass
class Transcript:
    format: str  # zoom_vtt | teams_vtt | vtt | srt | otter | zoom_captions | plain | timestamps ('docx:' in front for DOCX)
    cues: list[Cue]
    header: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. bytes replaced while decoding


def normalise_format(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    key = _FORMAT_ALIASES.get(fmt.strip().lower(), fmt.strip().lower())
    if key not in TRANSCRIPT_FORMATS:
        raise ValueError(f"unknown transcript format {fmt!r}; known formats: {', '.join(TRANSCRIPT_FORMATS)} "
                         f"(also {', '.join(sorted(_FORMAT_ALIASES))})")
    return key


def read_transcript(path: str | Path, fmt: str | None = None) -> Transcript:
    """Cues of a transcript file, format detected from its content unless given."""
    try:
        chosen = normalise_format(fmt)
    except ValueError as exc:
        raise ImportFailure(path, str(exc)) from None
    data = read_bytes(path)
    if is_zip(data) or chosen == "docx":
        return _read_docx(path, data)
    decoded = decode(path, data)
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
    transcript = parse_transcript_text(path, text, chosen)
    if decoded.note:
        transcript.notes.append(decoded.note)
    return transcript


_LINE_STAMP = re.compile(r"^\[?\d{1,2}:\d{2}(?::\d{2})?\]?[ \t]+")


def _without_constant_stamp(body: str) -> str:
    """Every line opening with the same timestamp ('0:00 Michael  00:00', '0:00 Hello…', as a player's copy of
    an Otter transcript writes it) says nothing: that prefix is removed. Timestamps that differ from line to
    line are the transcript's own (`timestamps` format) and stay."""
    lines = [line for line in body.split("\n") if line.strip()]
    first = _LINE_STAMP.match(lines[0].strip()) if len(lines) >= 3 else None
    if first is None or not all(line.strip().startswith(first.group(0)) for line in lines):
        return body
    size = len(first.group(0))
    return "\n".join(line.strip()[size:] if line.strip() else line for line in body.split("\n"))


def parse_transcript_text(path: str | Path, text: str, fmt: str | None = None) -> Transcript:
    header, body, offset = _front_matter(text)
    body = _without_constant_stamp(body)
    chosen = fmt or _detect(body)
    if chosen == "vtt":
        transcript = _parse_vtt(path, body, offset)
    elif chosen == "srt":
        transcript = _parse_srt(body, offset)
    elif chosen == "otter":
        transcript = _parse_otter(body, offset)
    elif chosen == "timestamps":
        transcript = _parse_timestamps(body, offset)
    else:
        transcript = _parse_plain(body, offset)
    transcript.header = {**transcript.header, **header}
    transcript.cues = [c for c in transcript.cues if c.text.strip()]
    if not transcript.cues:
        raise ImportFailure(path, f"found no transcript text ({_what_is_it(body)})", expected=EXPECTED)
    _check_sizes(path, transcript.cues)
    return transcript


def _check_sizes(path: str | Path, cues: list[Cue]) -> None:
    total = 0
    for cue in cues:
        if len(cue.text) > MAX_FIELD_CHARS:
            raise ImportFailure(path, f"a cue of {len(cue.text):,} characters", record=f"line {cue.line}",
                                expected=f"cues of up to {MAX_FIELD_CHARS:,} characters")
        total += len(cue.text)
    if total > MAX_DOCUMENT_CHARS:
        raise ImportFailure(path, f"the transcript has {total:,} characters of text",
                            expected=f"up to {MAX_DOCUMENT_CHARS:,} per transcript")


def _what_is_it(body: str) -> str:
    first = body.strip().split("\n", 1)[0]
    if first.count(",") >= 3 or first.count(";") >= 3:
        return "the first line looks like a CSV header: a survey or orders export?"
    if re.match(r"\s*(?:\{|\[\s*[\[{\"\d\]]|<)", first):
        return "the file looks like JSON or HTML"
    return "no cues and no 'Speaker: text' lines"


def _front_matter(text: str) -> tuple[dict[str, str], str, int]:
    """A leading `---` block of `key: value` lines; returns (header, rest, lines consumed)."""
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 0
    for end in range(1, min(len(lines), 30)):
        if lines[end].strip() == "---":
            header = _key_values(lines[1:end])
            return header, "\n".join(lines[end + 1 :]), end + 1
    return {}, text, 0


def _key_values(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in HEADER_KEYS and value.strip():
            found[key.strip().lower()] = value.strip()
    return found


def _detect(body: str) -> str:
    stripped = body.lstrip("\ufeff \n")
    if stripped.upper().startswith("WEBVTT"):
        return "vtt"
    lines = [line for line in body.split("\n") if line.strip()]
    timings = [line for line in lines[:200] if _TIMING.match(line)]
    if timings:
        return "srt" if "," in timings[0].split("-->")[0] else "vtt"
    otter = sum(1 for line in lines[:400] if _OTTER.match(line.strip()) or _SPEAKER_STAMP.match(line.strip()))
    if otter and otter >= 0.2 * min(len(lines), 400):
        return "otter"
    sample = [line.strip() for line in lines[:400]]
    named = sum(1 for line in sample if _PLAIN.match(line))
    stamped = sum(1 for line in sample if _STAMPED_LINE.match(line))
    if stamped >= 2 and stamped >= 0.3 * len(sample) and named < 0.1 * len(sample):
        return "timestamps"
    return "plain"


_CLOCK = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,9}))?|(\d{1,2})[.,](\d{1,9})")


def _timestamp(raw: str) -> str | None:
    """'1:02' / '00:01:02,5' / '01:02.300' -> 'HH:MM:SS.mmm'; None for anything else ('1.2.3')."""
    match = _CLOCK.fullmatch(raw.strip())
    if match is None:
        return None
    if match.group(5) is not None:  # seconds only: '5.300'
        hours, minutes, seconds, fraction = 0, 0, int(match.group(5)), match.group(6)
    else:
        hours, minutes, seconds, fraction = int(match.group(1) or 0), int(match.group(2)), int(match.group(3)), match.group(4)
    millis = int((fraction + "000")[:3]) if fraction else 0
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _blocks(body: str, offset: int) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the (1-based) line each starts on."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(body.split("\n"), start=offset + 1):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _split_speaker(text: str) -> tuple[str | None, str]:
    """'Ana Silva: text' or '[Ana Silva] text' -> ('Ana Silva', 'text')."""
    for pattern in (_PREFIX, _BRACKET):
        match = pattern.match(text)
        if match:
            return match.group(1).strip(), match.group(2).strip()
    return None, text


def _parse_vtt(path: str | Path, body: str, offset: int) -> Transcript:
    blocks = _blocks(body, offset)
    if not blocks or not blocks[0][1][0].lstrip("\ufeff").upper().startswith("WEBVTT"):
        raise ImportFailure(path, "no 'WEBVTT' line at the top", record="line 1", expected="a WebVTT file")
    header: dict[str, str] = {}
    cues: list[Cue] = []
    voiced = prefixed = False
    for start_line, lines in blocks[1:]:
        if lines[0].startswith("NOTE"):
            header.update(_key_values([lines[0][4:], *lines[1:]]))
            continue
        if lines[0].startswith(("STYLE", "REGION")):
            continue
        timing = _find_timing(lines)
        if timing is None:
            if cues:  # a blank or space-only line inside a cue (YouTube writes one after the timing line)
                cues[-1].text = f"{cues[-1].text} {_plain_text(lines)}".strip()
                continue
            raise ImportFailure(path, f"a cue without a timing line: {lines[0][:60]!r}", record=f"line {start_line}",
                                expected="'00:00:01.230 --> 00:00:04.560'")
        timing_at, begin, end = timing
        raw = "\n".join(lines[timing_at + 1 :])
        voices = _VOICE.findall(raw)
        if voices:
            voiced = True
            for name, said in voices:
                cues.append(Cue(name.strip(), " ".join(_TAG.sub("", said).split()), _timestamp(begin),
                                _timestamp(end), start_line))
            continue
        speaker, said = _split_speaker(_plain_text(lines[timing_at + 1 :]))
        prefixed = prefixed or speaker is not None
        cues.append(Cue(speaker, said, _timestamp(begin), _timestamp(end), start_line))
    fmt = "teams_vtt" if voiced else "zoom_vtt" if prefixed else "vtt"
    return Transcript(fmt, _without_rolling_repeats(cues), header)


def _plain_text(lines: list[str]) -> str:
    return " ".join(_TAG.sub("", "\n".join(lines)).split())


def _repeat(previous: str, text: str) -> str:
    """The end of `previous` that `text` opens with: all of it, or its last two or more words ('' if none)."""
    tail = previous
    while tail and not text.startswith(tail):  # the previous cue's last words, longest first
        cut = tail.find(" ")
        tail = tail[cut + 1 :] if cut >= 0 else ""
    return tail if tail == previous or len(tail.split()) >= 2 else ""


def _without_rolling_repeats(cues: list[Cue]) -> list[Cue]:
    """Auto-captions (YouTube) roll: each cue repeats the line before it, or all of the previous cue, then adds
    words. In a file where most unnamed cues do so, the repeat is cut, so every word is kept once, and a cue that
    only repeats is dropped. Named cues (Zoom, Teams) and transcripts that do not roll are left as they are."""
    pairs = [(a.text, b.text) for a, b in zip(cues, cues[1:], strict=False) if a.speaker is None and b.speaker is None]
    rolling = sum(1 for a, b in pairs if a and _repeat(a, b))
    if rolling < 2 or rolling < 0.5 * len(pairs):
        return cues
    kept: list[Cue] = []
    previous: str | None = None
    for cue in cues:
        full = cue.text
        if cue.speaker is None and previous:
            cue.text = full[len(_repeat(previous, full)):].strip()
        previous = full if cue.speaker is None else None
        if cue.text:
            kept.append(cue)
    return kept


def _find_timing(lines: list[str]) -> tuple[int, str, str] | None:
    """The timing line among a cue's first two lines: its position, and the begin and end it gives."""
    for i, line in enumerate(lines[:2]):
        if found := _TIMING.match(line):
            return i, found.group(1), found.group(2)
    return None


def _parse_srt(body: str, offset: int) -> Transcript:
    cues: list[Cue] = []
    for start_line, lines in _blocks(body, offset):
        timing = _find_timing(lines)
        if timing is None:
            if cues:  # a stray line: part of the previous cue's text
                cues[-1].text += " " + " ".join(lines)
            continue
        timing_at, begin, end = timing
        speaker, said = _split_speaker(" ".join(_TAG.sub("", "\n".join(lines[timing_at + 1 :])).split()))
        cues.append(Cue(speaker, said, _timestamp(begin), _timestamp(end), start_line))
    return Transcript("srt", cues)


def _parse_otter(body: str, offset: int) -> Transcript:
    cues: list[Cue] = []
    bracketed = 0
    for number, line in enumerate(body.split("\n"), start=offset + 1):
        text = line.strip()
        if not text or text.lower().startswith("transcribed by"):
            continue
        match = _OTTER.match(text) or _SPEAKER_STAMP.match(text)
        if match:
            bracketed += match.re is _SPEAKER_STAMP
            cues.append(Cue(match.group(1).strip(), "", _timestamp(match.group(2)), None, number))
        elif cues:
            cues[-1].text = f"{cues[-1].text} {text}".strip()
    for current, following in zip(cues, cues[1:], strict=False):
        current.end = following.start
    return Transcript("zoom_captions" if cues and bracketed > len(cues) / 2 else "otter", cues)


def _parse_timestamps(body: str, offset: int) -> Transcript:
    """'00:01:02 text' lines, or a timestamp alone on a line with its text below: no speakers."""
    cues: list[Cue] = []
    for number, line in enumerate(body.split("\n"), start=offset + 1):
        text = line.strip()
        if not text:
            continue
        match = _STAMPED_LINE.match(text)
        if match:
            cues.append(Cue(None, (match.group(2) or "").strip(), _timestamp(match.group(1)), None, number))
        elif cues:
            cues[-1].text = f"{cues[-1].text} {text}".strip()
        else:
            cues.append(Cue(None, text, None, None, number))
    for current, following in zip(cues, cues[1:], strict=False):
        current.end = following.start
    return Transcript("timestamps", cues)


def _parse_plain(body: str, offset: int) -> Transcript:
    """'Speaker: text' lines. A one-word name seen only once, without a timestamp, is text ('Also: …')."""
    candidates: list[tuple[int, str, re.Match[str] | None]] = []
    for number, line in enumerate(body.split("\n"), start=offset + 1):
        text = line.strip()
        if text:
            candidates.append((number, text, _PLAIN.match(text)))
    counts: dict[str, int] = {}
    for _, _, match in candidates:
        if match:
            counts[match.group(2).strip()] = counts.get(match.group(2).strip(), 0) + 1
    frequent = {name for name, n in counts.items() if n >= 2} or set(counts)

    def is_turn(match: re.Match[str] | None) -> bool:
        """Seen twice, or a full name ('Tom Lee: Same.'), a 'Speaker 3' or a timestamped line."""
        if match is None:
            return False
        name = match.group(2).strip()
        return name in frequent or " " in name or bool(match.group(1) or match.group(3))

    cues: list[Cue] = []
    for number, text, match in candidates:
        if is_turn(match):
            assert match is not None
            stamp = match.group(1) or match.group(3)
            cues.append(Cue(match.group(2).strip(), match.group(4).strip(), _timestamp(stamp) if stamp else None,
                            None, number))
        elif cues:
            cues[-1].text = f"{cues[-1].text} {text}".strip()
    for current, following in zip(cues, cues[1:], strict=False):
        if current.start and following.start:
            current.end = following.start
    return Transcript("plain", cues)


def _read_docx(path: str | Path, data: bytes) -> Transcript:
    """Paragraphs as lines (a bold run opening a paragraph is the speaker), then read as otter or plain."""
    lines: list[str] = []
    for runs in docx_paragraphs(path, data, EXPECTED):
        text = "".join(r.text for r in runs).strip()
        if not text:
            continue
        bold = "".join(r.text for r in _leading_bold_runs(runs)).strip()
        if bold and text.startswith(bold) and not _OTTER.match(text):
            name = bold.rstrip(":").strip()
            rest = text[len(bold) :].lstrip(": ").strip()
            text = f"{name}: {rest}"
        lines.append(text)
    if not lines:
        raise ImportFailure(path, "the Word document has no text", expected=EXPECTED)
    transcript = parse_transcript_text(path, "\n".join(lines))
    transcript.format = f"docx:{transcript.format}"
    return transcript


def _leading_bold_runs(runs: list) -> list:  # list[docx_text.Run]
    leading = []
    for run in runs:
        if run.bold and run.text.strip():
            leading.append(run)
        elif run.text.strip():
            break
        else:
            leading.append(run)
    return leading if any(r.bold for r in leading) else []
