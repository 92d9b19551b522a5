"""Interview transcripts into one document each: turns kept, customer turns split into one-idea passages.

Conventions (for the README):
- Customer key: `--customer` (an email, `#1001`, `order:1001`, `customer_id:42`), else a `customer:` line in
  the file's header (a leading `---` block in TXT/DOCX, a `NOTE` block in VTT), else the file name
  `YYYY-MM-DD_<email-or-#order>.<ext>`, e.g. `2026-10-03_jo@example.com.vtt`, `2026-10-03_#1001.docx`
  (`order-1001` also works). The date (header `date:` or file name) becomes the document's date.
- External id: `interview:<date>_<customer key>` when both are known, so a corrected transcript of the
  same interview (even in another format) updates it in place; else a hash of the transcript's turns, so
  re-importing the same file is a duplicate.
- Consecutive cues of one speaker are one turn; a cue without a speaker name continues the speaker before
  it (Zoom names only a turn's first cue). A transcript with no names at all is one unknown speaker. The interviewer is `--interviewer NAME[,NAME]` (a full
  name or a unique first name), else the speaker with the most question-like turns (ending in '?' or
  opening with what/why/how/do you/…); ties go to the speaker who spoke first. With three or more
  speakers, another speaker whose turns are mostly questions (2+) is a co-interviewer. A one-speaker
  transcript has no interviewer. Who was taken, and why, is in the summary.
- Interviewer turns are kept whole (role 'interviewer', not analysed), under their speaker name.
  Customers are stored as 'Customer' (or 'Customer 1', 'Customer 2'): their names are PII and never stored.
- Customer turns are split at spaCy sentence boundaries into passages of up to 3 sentences / 60 words,
  each with the timestamps of the cues it came from. Passages under 3 words ('Yeah.') are kept but not
  analysed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from spacy.language import Language

from ingest.dates import parse_datetime
from ingest.errors import ImportFailure
from ingest.limits import MAX_FIELD_CHARS
from ingest.model import DocumentDraft, ParsedFile, UnitDraft
from ingest.transcript_formats import Cue, read_transcript
from insight.core.identity import Identifier, identifier, normalise_email, parse_customer_ref

MAX_SENTENCES = 3
MAX_WORDS = 60
MIN_WORDS = 3
_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})[_ ](.+)$")
_QUESTION_START = re.compile(
    r"^(?:so,?\s+|and\s+|okay,?\s+|ok,?\s+|right,?\s+)?(?:what|why|how|when|where|which|who|whose|"
    r"do|does|did|is|are|was|were|have|has|can|could|would|will|should|tell me|walk me|talk me)\b",
    re.IGNORECASE,
)


@dataclass
class Turn:
    speaker: str
    text: str
    start: str | None
    end: str | None
    # (character offset in text, cue start, cue end) for timing passages inside the turn
    pieces: list[tuple[int, str | None, str | None]] = field(default_factory=list)


@dataclass
class Roles:
    interviewers: list[str]
    labels: dict[str, str]  # speaker -> stored label
    detail: str


def parse_interview(
    path: Path, *, fmt: str | None, customer: str | None, interviewer: str | None, nlp: Language
) -> ParsedFile:
    """Parse one transcript into a ParsedFile with a single interview document."""
    transcript = read_transcript(path, fmt)
    turns = merge_turns(transcript.cues)
    unnamed = all(cue.speaker is None for cue in transcript.cues)
    given = interviewer or transcript.header.get("interviewer")
    roles = assign_roles(path, turns, None if unnamed else given)
    ident, day = customer_key(path, customer, transcript.header)
    created_at = parse_datetime(day) if day else None
    units = _units(turns, roles, nlp)
    external_id = (
        f"interview:{day}_{ident.key}" if day and ident else f"interview:{_turns_hash(turns)}"
    )
    doc = DocumentDraft(
        source="interview",
        external_id=external_id,
        created_at=created_at,
        identifiers=[ident] if ident else [],
        title=transcript.header.get("title") or (f"Interview {day}" if day else Path(path).stem),
        metadata={
            "transcript_format": transcript.format,
            "interviewers": roles.interviewers,
            "customers": sorted(set(roles.labels.values()) - set(roles.interviewers)),
            "turns": len(turns),
            "duration": turns[-1].end or turns[-1].start,
        },
        units=units,
        record=Path(path).name,
    )
    details: dict[str, object] = {"interviewer": roles.detail, "turns": len(turns),
                                  "passages": sum(1 for u in units if u.role != "interviewer")}
    if unnamed:
        details["speakers"] = ("the transcript names no speakers: one unknown speaker, all text taken as the "
                               "customer's (write 'Name: text' lines, or VTT voice tags, to tell the interviewer apart)"
                               + (f"; --interviewer {given!r} not applied" if given else ""))
    if transcript.notes:
        details["encoding"] = "; ".join(transcript.notes)
    if ident is None:
        details["note"] = ("no customer key: pass --customer, add a 'customer:' header line, or name the file "
                           "YYYY-MM-DD_<email>.<ext>")
    return ParsedFile(str(path), "interview", transcript.format, [doc], rows_read=len(transcript.cues),
                      details=details)


def merge_turns(cues: list[Cue]) -> list[Turn]:
    """Consecutive cues of the same speaker become one turn; cue timings are kept for its passages."""
    turns: list[Turn] = []
    for cue in cues:
        speaker = cue.speaker or (turns[-1].speaker if turns else "Speaker")
        text = " ".join(cue.text.split())
        if turns and turns[-1].speaker == speaker:
            turn = turns[-1]
            turn.pieces.append((len(turn.text) + 1, cue.start, cue.end))
            turn.text = f"{turn.text} {text}"
            turn.end = cue.end or turn.end
        else:
            turns.append(Turn(speaker, text, cue.start, cue.end, [(0, cue.start, cue.end)]))
    return turns


def is_question(text: str) -> bool:
    text = text.strip()
    return text.endswith("?") or "? " in text or bool(_QUESTION_START.match(text))


# Speakers a transcript labels by their role: 'Host', 'Interviewer 2', 'Ana (Moderator)', 'Q' take the
# interviewer's part whatever they asked; 'Guest', 'Respondent', 'A' are never taken for the interviewer.
_INTERVIEWER_LABEL = re.compile(r"\b(?:co-?host|host|interviewer|moderator|facilitator|researcher)\b|^q(?:uestion)?$",
                                re.I)
_RESPONDENT_LABEL = re.compile(r"(?:guest|interviewee|respondent|participant|customer|caller|user|a|answer)(?: \d+)?",
                               re.I)


def assign_roles(path: str | Path, turns: list[Turn], given: str | None) -> Roles:
    speakers = list(dict.fromkeys(t.speaker for t in turns))
    questions = {s: sum(1 for t in turns if t.speaker == s and is_question(t.text)) for s in speakers}
    counts = {s: sum(1 for t in turns if t.speaker == s) for s in speakers}
    total_questions = sum(questions.values())
    by_role = [s for s in speakers if _INTERVIEWER_LABEL.search(s)]
    if given:
        chosen = [_match_speaker(path, name, speakers) for name in given.split(",") if name.strip()]
        detail = f"{', '.join(chosen)} (given)"
    elif len(speakers) == 1:
        chosen, detail = [], f"none: only one speaker ({_label_hint(speakers[0])}), all turns taken as the customer's"
    elif by_role and len(by_role) < len(speakers):
        chosen, detail = by_role, f"{', '.join(by_role)} (named by role)"
    else:
        candidates = [s for s in speakers if not _RESPONDENT_LABEL.fullmatch(s)] or speakers
        lead = max(candidates, key=lambda s: (questions[s], -speakers.index(s)))
        chosen = [lead]
        if len(speakers) >= 3:
            chosen += [s for s in speakers if s != lead and questions[s] >= 2 and questions[s] / counts[s] >= 0.5]
        if questions[lead] == 0:
            detail = f"{lead} (detected: no questions found, took the first speaker)"
        else:
            detail = f"{lead} (detected: asked {questions[lead]} of {total_questions} questions)"
        if len(chosen) > 1:
            detail += f"; also {', '.join(chosen[1:])} (mostly questions)"
    customers = [s for s in speakers if s not in chosen]
    labels = {s: s for s in chosen}
    for number, speaker in enumerate(customers, start=1):
        labels[speaker] = "Customer" if len(customers) == 1 else f"Customer {number}"
    return Roles(chosen, labels, detail)


def _label_hint(speaker: str) -> str:
    return speaker if re.fullmatch(r"[Ss]peaker( \d+)?", speaker) else "a named speaker"


def _match_speaker(path: str | Path, name: str, speakers: list[str]) -> str:
    wanted = name.strip().casefold()
    exact = [s for s in speakers if s.casefold() == wanted]
    partial = [s for s in speakers if s.casefold().split()[0] == wanted or s.casefold().startswith(wanted)]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    raise ImportFailure(path, f"--interviewer {name.strip()!r} matches {'several' if partial else 'no'} speaker(s)",
                        expected=f"one of the speakers: {', '.join(speakers)}")


def customer_key(path: str | Path, given: str | None, header: dict[str, str]) -> tuple[Identifier | None, str | None]:
    """(customer identifier, ISO day) from --customer, the file's header, or its name."""
    day: str | None = None
    ref: Identifier | None = None
    match = _FILE_NAME.match(Path(path).stem)
    if match:
        day = match.group(1)
        ref = _file_name_ref(match.group(2))
    for key in ("customer", "email", "order"):
        if key in header:
            value = header[key]
            found = identifier("order", value) if key == "order" else _customer_ref(value)
            ref = found or ref
            break
    if "date" in header and (when := parse_datetime(header["date"])):
        day = when[:10]
    if given:
        ref = _customer_ref(given)
        if ref is None:
            raise ImportFailure(path, f"--customer {given!r} is not a customer key",
                                expected="an email, #1001, order:1001 or customer_id:42")
    return ref, day


def _customer_ref(text: str) -> Identifier | None:
    """Like `parse_customer_ref`, but a person's name ('Jo Bloggs') is not taken for a customer id."""
    ref = parse_customer_ref(text)
    if ref is not None and ref.kind == "customer_id" and " " in ref.value:
        return None
    return ref


def _file_name_ref(text: str) -> Identifier | None:
    if email := normalise_email(text):
        return Identifier("email", email)
    order = re.fullmatch(r"(?:#|order[-_ ]?#?)(\w+)", text.strip(), re.IGNORECASE)
    return identifier("order", order.group(1)) if order else None


def _turns_hash(turns: list[Turn]) -> str:
    payload = json.dumps([[t.speaker, " ".join(t.text.split())] for t in turns], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


# Words of a speaker label that name a role or a title, not the person ("Unknown Speaker", "Dr Ng", "Guest 2").
_LABEL_WORDS = {"speaker", "unknown", "guest", "interviewee", "interviewer", "respondent", "participant", "customer",
                "caller", "user", "host", "moderator", "dr", "mr", "mrs", "ms", "miss", "prof", "sir"}


def speaker_name_pattern(speakers: list[str]) -> re.Pattern[str] | None:
    """The customers' own names as their transcript labels them ("Tailor", "Emma Reyes"), to be removed from
    every turn: a customer's label becomes "Customer N", and "So welcome, Tailor." must not keep the name.
    Each capitalised word of a label, as written or in capitals ("TAILOR"); never a role or title word."""
    words = {w for speaker in speakers for w in re.findall(r"[^\W\d_][\w'-]+", speaker)
             if w[:1].isupper() and w.casefold() not in _LABEL_WORDS and len(w) >= 2}
    if not words:
        return None
    forms = sorted({form for w in words for form in (w, w.upper())}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, forms)) + r")(?![\w-])")


def _units(turns: list[Turn], roles: Roles, nlp: Language) -> list[UnitDraft]:
    named = speaker_name_pattern([s for s in dict.fromkeys(t.speaker for t in turns)
                                  if s not in roles.interviewers and not _RESPONDENT_LABEL.fullmatch(s)])

    def without_names(text: str) -> str:
        return named.sub("[NAME]", text) if named is not None else text

    customer_turns = [i for i, t in enumerate(turns) if t.speaker not in roles.interviewers]
    passages = dict(zip(customer_turns, split_passages([turns[i].text for i in customer_turns], nlp), strict=True))
    units: list[UnitDraft] = []
    for index, turn in enumerate(turns):
        label = roles.labels[turn.speaker]
        if turn.speaker in roles.interviewers:
            for begin, text in _pieces(turn.text, MAX_FIELD_CHARS):  # a very long turn: several units
                units.append(UnitDraft(text=without_names(text), kind="turn", speaker=label, role="interviewer", analyse=False,
                                       turn=index, started_at=_time_at(turn, begin, start=True), ended_at=turn.end))
            continue
        for begin, end, text in passages[index]:
            units.append(UnitDraft(
                text=without_names(text), kind="turn", speaker=label, role="customer", analyse=len(text.split()) >= MIN_WORDS,
                turn=index, started_at=_time_at(turn, begin, start=True), ended_at=_time_at(turn, end - 1, start=False),
            ))
    return units


def _time_at(turn: Turn, offset: int, *, start: bool) -> str | None:
    """The start (or end) time of the cue holding character `offset` of the turn."""
    chosen = turn.pieces[0]
    for piece in turn.pieces:
        if piece[0] <= offset:
            chosen = piece
    return chosen[1] if start else (chosen[2] or turn.end)


def split_passages(texts: list[str], nlp: Language) -> list[list[tuple[int, int, str]]]:
    """Each text as passages (start char, end char, text): whole sentences, up to 3 or 60 words each."""
    keep = {"tok2vec", "parser", "senter", "sentencizer"}
    disable = [name for name in nlp.pipe_names if name not in keep]
    # spaCy refuses texts over nlp.max_length (E088) and needs ~1 GB per 100,000 characters: long turns go
    # through it in pieces cut at whitespace.
    pieces = [(i, begin, piece) for i, text in enumerate(texts) for begin, piece in _pieces(text, MAX_FIELD_CHARS)]
    sentences: list[list[tuple[int, int]]] = [[] for _ in texts]
    docs = nlp.pipe([piece for _, _, piece in pieces], batch_size=64, disable=disable)
    for (i, begin, piece), doc in zip(pieces, docs, strict=True):
        if doc.has_annotation("SENT_START"):
            found = [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
        else:
            found = [(m.start(), m.end()) for m in re.finditer(r"[^.!?]+(?:[.!?]+|$)", piece) if m.group().strip()]
        sentences[i].extend((begin + a, begin + b) for a, b in found)
    return [_group(text, found) for text, found in zip(texts, sentences, strict=True)]


def _pieces(text: str, size: int) -> list[tuple[int, str]]:
    """`text` as (offset, piece) of at most `size` characters, cut at whitespace where there is some."""
    if len(text) <= size:
        return [(0, text)]
    out: list[tuple[int, str]] = []
    begin = 0
    while begin < len(text):
        end = min(begin + size, len(text))
        if end < len(text):
            space = text.rfind(" ", begin + size // 2, end)
            end = space + 1 if space > 0 else end
        out.append((begin, text[begin:end]))
        begin = end
    return out


def _group(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    passages: list[tuple[int, int, str]] = []
    begin: int | None = None  # the open passage's first sentence; `end` is its last one's end
    end = count = words = 0
    for s_begin, s_end in sentences:
        n = len(text[s_begin:s_end].split())
        if begin is not None and (count >= MAX_SENTENCES or words + n > MAX_WORDS):
            passages.append((begin, end, text[begin:end].strip()))
            begin = None
        if begin is None:
            begin, count, words = s_begin, 0, 0
        end, count, words = s_end, count + 1, words + n
    if begin is not None:
        passages.append((begin, end, text[begin:end].strip()))
    return [p for p in passages if p[2]] or [(0, len(text), text.strip())]
