"""A scope: the set of mentions clustered together. Survey answers are themed per question ('survey: What made
you buy today?'), the other kinds per source ('review', 'ticket', 'interview'), or everything pooled ('all').
Themes, links, briefs and the TUI store and show the scope as that string; this is the one place that builds
and reads it."""

from __future__ import annotations

from dataclasses import dataclass

POOLED = "all"
SURVEY = "survey"


@dataclass(frozen=True)
class Scope:
    source: str | None  # None: the pooled scope
    question: str | None = None  # survey scopes only

    @classmethod
    def of(cls, source: str, question: str | None = None, pool: bool = False) -> Scope:
        """The scope a mention of `source` (and survey `question`) is themed in."""
        if pool:
            return cls(None)
        return cls(source, question or None if source == SURVEY else None)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """'survey: <question>', 'survey', 'review', 'all' -> the Scope it names."""
        source, sep, question = text.partition(":")
        source = source.strip()
        if source == POOLED and not sep:
            return cls(None)
        return cls(source, question.strip() or None if source == SURVEY and sep else None)

    def __str__(self) -> str:
        if self.source is None:
            return POOLED
        return f"{SURVEY}: {self.question}" if self.source == SURVEY and self.question else self.source

    def within(self, wanted: str | None) -> bool:
        """`wanted` is a scope ('survey: What made you buy today?') or a source kind ('survey': every survey
        question's scope); None or '' takes every scope."""
        if not wanted:
            return True
        text = str(self)
        return text == wanted or (":" not in wanted and text.startswith(wanted + ":"))
