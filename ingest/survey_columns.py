"""Deciding what a survey column holds from its content: open text, a choice, a number scale, emails.

Survey tools do not say which questions are free text, and users rename questions every month, so no list
of question titles is kept: each column is judged by its answers.

- `scale`: at least 90% of answers are numbers (NPS 0-10, 1-5 ratings, yes/no exported as 1/0).
- `email`: at least 80% of answers are email addresses (a "What's your email?" question): a customer key.
- `open`: answers are long (8+ words on average), or mostly unique: with 10+ answers, fewer than half
  of them repeat another answer; with fewer than 10 answers (too few to see repetition), 4+ words on
  average or sentence punctuation.
- `choice`: everything else (short answers that repeat).
- `empty`: no answers at all.

Identity questions ("What is your name?", "Your email", "Phone number", "Shipping address") are not
feedback: `identity_kind` recognises them by what the header asks AND by what the answers look like, so
a name column is caught when its header says so (and its answers are short, not sentences) and an email
or phone column is caught by its answers alone whatever its header. Emails become customer keys;
names, phones and addresses are dropped, never stored.

Blank answers (`BLANK`: '', 'n/a', '-', 'null') are no answer at all. Answers that say nothing
(`NOTHING_TO_SAY`: 'no', 'none', 'nothing', 'not a thing', 'ok', 'thanks', …, or no letters at all: ':)')
are real choices ("No" to a yes/no question) but never
become open-text units (a unit is something to analyse); both are left out of the judgement above, so an
"Anything else?" column full of "No" is still seen as open text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

BLANK = frozenset({"", "-", "--", ".", "n/a", "na", "n.a.", "null", "nil", "not applicable", "#n/a"})
NOTHING_TO_SAY = frozenset(
    {"no", "none", "nothing", "nope", "nah", "no comment", "no comments", "nothing else", "nothing really",
     "not really", "not a thing", "nothing at all", "none really", "that's all", "thats all", "all good", "idk",
     "ok", "okay", "yes", "thanks", "thank you", "no thanks", "no thank you"}
)
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SENTENCE = re.compile(r"[.!?](?:\s|$)")

OPEN, CHOICE, SCALE, EMAIL, EMPTY = "open", "choice", "scale", "email", "empty"


_PHONE = re.compile(r"^\+?[\d\s().-]{7,22}$")
_ASKS_NAME = re.compile(
    r"\b(your\s+(?:full\s+|first\s+|last\s+|given\s+|family\s+)?names?|full\s+names?|first\s+names?|"
    r"last\s+names?|surnames?|family\s+names?|given\s+names?|names?\s+and\s+surnames?|nombre|prénom)\b"
    r"|^\s*(?:name|names|nom|nombre|vorname|nachname)\s*[:?*]?\s*(?:\(.*\))?\s*$",
    re.IGNORECASE,
)
_ASKS_EMAIL = re.compile(r"\be-?mail(?:\s+address)?\b", re.IGNORECASE)
_ASKS_PHONE = re.compile(r"\b(phone|mobile|telephone|cell\s*phone|whatsapp|tel\.?|tel[eé]fono|telefone|"
                         r"t[eé]l[eé]phone|telefon|celular|m[oó]vil|handynummer)\b", re.IGNORECASE)
_ASKS_ADDRESS = re.compile(
    r"\b((?:home|postal|mailing|shipping|billing|street|your)\s+address|^address|post\s*code|postcode|"
    r"zip(?:\s*code)?|postal\s+code)\b", re.IGNORECASE)


def identity_kind(header: str, values: Sequence[str]) -> str | None:
    """'email', 'name', 'phone' or 'address' when a column asks who the respondent is; None for feedback.

    By header: the header asks for a name / email / phone / address and the answers are short (a name is
    not a sentence: "Name one thing we should change" holds sentences). By content alone: 80% of the
    answers are emails or phone numbers. Names are not guessed from content alone: short capitalised
    answers ('Dew Serum', 'Ana Silva') look alike without a list of names; redaction still masks names
    inside answers."""
    answers = [v.strip() for v in values if not is_blank(v)]
    if not answers:
        return None
    n = len(answers)
    share = lambda pattern: sum(1 for a in answers if pattern.match(a)) / n  # noqa: E731
    short = sum(len(a.split()) for a in answers) / n <= 5 and sum(1 for a in answers if _SENTENCE.search(a)) / n < 0.3
    # a leading apostrophe is the spreadsheet's mark for "keep as text" ("'+56954886178" in Typeform exports)
    phones = sum(1 for a in answers if _PHONE.match(a.lstrip("'")) and sum(c.isdigit() for c in a) >= 7) / n
    if share(_EMAIL) >= 0.8 or (_ASKS_EMAIL.search(header) and short):
        return EMAIL
    if phones >= 0.8 or (_ASKS_PHONE.search(header) and short):
        return "phone"
    if _ASKS_ADDRESS.search(header) and not _ASKS_EMAIL.search(header) and short:
        return "address"
    if _ASKS_NAME.search(header) and short:
        return "name"
    return None


def is_blank(text: str | None) -> bool:
    """No answer at all: skipped everywhere."""
    return text is None or text.strip().casefold() in BLANK


def says_nothing(text: str | None) -> bool:
    """Blank, or an answer with nothing to analyse ('No.', 'nothing'): never an open-text unit."""
    if is_blank(text):
        return True
    assert text is not None
    return text.strip().strip(".!").strip().casefold() in NOTHING_TO_SAY or not any(c.isalpha() for c in text)


@dataclass(frozen=True)
class ColumnProfile:
    """Why a column was classified the way it was (reported in the import details)."""

    kind: str
    answers: int
    avg_words: float
    repeated_share: float


def classify(values: Sequence[str]) -> ColumnProfile:
    """Open text, choice, scale, email or empty, from the answers alone."""
    answers = [v.strip() for v in values if not says_nothing(v)]
    if not answers:  # only 'Yes'/'No'/'OK': a choice, judged on those
        answers = [v.strip() for v in values if not is_blank(v)]
    n = len(answers)
    if n == 0:
        return ColumnProfile(EMPTY, 0, 0.0, 0.0)
    words = sum(len(a.split()) for a in answers) / n
    counts = Counter(a.casefold() for a in answers)
    repeated = sum(c for c in counts.values() if c > 1) / n
    numeric = sum(1 for a in answers if _NUMBER.match(a)) / n
    if numeric >= 0.9:
        return ColumnProfile(SCALE, n, words, repeated)
    if sum(1 for a in answers if _EMAIL.match(a)) / n >= 0.8:
        return ColumnProfile(EMAIL, n, words, repeated)
    if words >= 8:
        kind = OPEN
    elif n >= 10:
        kind = OPEN if repeated < 0.5 else CHOICE
    else:
        sentences = sum(1 for a in answers if _SENTENCE.search(a)) / n
        kind = OPEN if words >= 4 or sentences >= 0.5 else CHOICE
    return ColumnProfile(kind, n, words, repeated)


def multi_select_separator(values: Sequence[str], separators: Sequence[str] = (", ", ",", ";")) -> str | None:
    """The separator a choice column joins several picks with (Google Forms ', ', Qualtrics ','), if any.

    A cell counts as joined picks when at least half of its parts also occur in another distinct answer of the
    column (as a whole answer or as a part of another), and 80% of the cells holding the separator must look
    so: free text with commas ("Fast, and cheap") and a choice label with a comma that respondents picked
    alike do not. The caller still checks the parts read as choices.
    """
    answers = [v.strip() for v in values if v and v.strip()]
    for sep in (TIGHT_COMMA, *separators):
        joined = [a for a in answers if _parts(a, sep) != [a]]
        if not joined:
            continue
        # a part counts once per distinct answer holding it: a label with a comma in it ('> 5 years, including
        # internships') repeated by many respondents is one choice, not picks that recur
        part_counts = Counter(p.strip().casefold() for a in set(answers) for p in _parts(a, sep))
        splittable = sum(1 for a in joined if _recurring_share(_parts(a, sep), part_counts) >= 0.5)
        if splittable / len(joined) >= 0.8:
            return sep
    return None


# Qualtrics joins picks with a bare ',' while its labels hold ', ' ('Business, Economics, and Finance,Statistics,
# Data Science'): a comma with no space after it (and not inside a number, '1,500') is tried first.
TIGHT_COMMA = "<comma without a space>"
_TIGHT = re.compile(r",(?=\S)(?!(?<=\d,)\d)")


def _parts(value: str, separator: str) -> list[str]:
    return _TIGHT.split(value) if separator == TIGHT_COMMA else value.split(separator)


def _recurring_share(parts: list[str], counts: Counter[str]) -> float:
    keys = [p.strip().casefold() for p in parts if p.strip()]
    return sum(1 for k in keys if counts[k] >= 2) / len(keys) if keys else 0.0


def split_choice(value: str, separator: str | None) -> list[str]:
    if separator is None:
        return [value.strip()]
    return [p.strip() for p in _parts(value, separator) if p.strip()] or [value.strip()]


_INTERNAL_ID = re.compile(r"^\d{10,}$")


def looks_like_internal_order_id(value: str) -> bool:
    """Shopify's internal order id (5123456789012) is not the order number (#1001) orders are keyed by."""
    return bool(_INTERNAL_ID.match(value.strip()))
