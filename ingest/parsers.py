"""Which parser reads which kind of feedback, with the user's options: one place for the CLI and the demo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from ingest.model import ParsedFile

# File endings picked up when a folder is given (other kinds read every file).
FOLDER_SUFFIXES: dict[str, tuple[str, ...]] = {
    "interview": (".vtt", ".srt", ".txt", ".docx"),
    "review": (".html", ".htm", ".csv", ".mhtml"),
}


@dataclass(frozen=True)
class ParseOptions:
    fmt: str | None = None
    mapping: dict[str, list[str]] = field(default_factory=dict)
    open_text: frozenset[str] = frozenset()
    choice: frozenset[str] = frozenset()
    customer: str | None = None
    interviewer: str | None = None


def feedback_parser(
    kind: str, db: sqlite_utils.Database, nlp: Callable[[], Any], options: ParseOptions = ParseOptions()
) -> Callable[[Path], ParsedFile]:
    """The function that parses one file of `kind`; `nlp` loads the spaCy pipeline when a parser needs it."""
    if kind == "survey":
        from ingest.surveys import known_question_kinds, parse_survey

        # Questions keep the kind (open text / choice) earlier imports gave them.
        return lambda path: parse_survey(
            path, fmt=options.fmt, mapping=options.mapping, open_text=set(options.open_text),
            choice=set(options.choice), known=known_question_kinds(db),
        )
    if kind == "interview":
        from ingest.interviews import parse_interview

        return lambda path: parse_interview(
            path, fmt=options.fmt, customer=options.customer, interviewer=options.interviewer, nlp=nlp()
        )
    if kind == "review":
        from ingest.reviews import parse_reviews

        return lambda path: parse_reviews(path, fmt=options.fmt)
    if kind == "ticket":
        from ingest.tickets import parse_tickets

        return lambda path: parse_tickets(path, fmt=options.fmt, mapping=options.mapping)
    raise ValueError(f"unknown feedback kind {kind!r}; expected survey, interview, review or ticket")
