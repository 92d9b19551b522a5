"""The scope string themes are stored under: built and read in one place (insight/core/scope.py)."""

from __future__ import annotations

import pytest

from insight.core.scope import Scope


@pytest.mark.parametrize("text, source, question", [
    ("survey: What made you buy today?", "survey", "What made you buy today?"),
    ("survey", "survey", None),
    ("review", "review", None),
    ("all", None, None),
    ("survey: Why: really?", "survey", "Why: really?"),  # a question may hold a colon
])
def test_round_trip(text, source, question):
    scope = Scope.parse(text)
    assert (scope.source, scope.question) == (source, question)
    assert str(scope) == text


def test_built_from_a_mention():
    assert str(Scope.of("survey", "Why?")) == "survey: Why?"
    assert str(Scope.of("survey", "")) == "survey"
    assert str(Scope.of("ticket", "ignored for other kinds")) == "ticket"
    assert str(Scope.of("review", None, pool=True)) == "all"


def test_within_a_scope_or_a_kind():
    question = Scope.parse("survey: Why?")
    assert question.within("survey") and question.within("survey: Why?") and question.within(None)
    assert not question.within("survey: Other?") and not question.within("review") and not question.within("all")
    assert Scope.parse("all").within("all") and not Scope.parse("all").within("survey")
    assert not Scope.parse("review").within("rev")
