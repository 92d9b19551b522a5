"""PII redaction of unit text: emails, phone numbers, card-like numbers and (with NER) person names.

Redaction happens at import time, so what is stored, embedded, shown and exported is the redacted text;
the raw text is kept only when the user asks for it (--keep-raw).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language


EMAIL_TOKEN = "[EMAIL]"
PHONE_TOKEN = "[PHONE]"
CARD_TOKEN = "[CARD]"
NAME_TOKEN = "[NAME]"
PLACEHOLDERS = (EMAIL_TOKEN, PHONE_TOKEN, CARD_TOKEN, NAME_TOKEN)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# 13-19 digits in groups (cards); checked with Luhn so order totals and dates survive.
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Phone numbers: optional +country, optional (area), then groups; at least 9 digits overall.
_PHONE = re.compile(r"(?<![\w#])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]?\d{2,5}){1,4}(?![\w])")


# Capitalised words; the pronoun "I" and its contractions are never names.
_CAPITALISED = re.compile(r"(?<![\w'’-])[^\W\d_a-z][\w'’-]*")
_LOWER_WORD = re.compile(r"(?<![\w'’-])[^\W\d_A-Z][\w'’-]*")
_PRONOUN_I = {"I", "I'm", "I’m", "I've", "I’ve", "I'd", "I’d", "I'll", "I’ll"}
_SENTENCE_END = ".!?:;\"“”(\n"


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in _SENTENCE_END


def common_words(texts: Iterable[str]) -> set[str]:
    """Words the batch itself writes in lower case: capitalised at a sentence start they are not names."""
    words: set[str] = set()
    for text in texts:
        words.update(w.lower() for w in _LOWER_WORD.findall(text))
    return words


def could_name_someone(text: str, start: int, word: str, common: set[str]) -> bool:
    """False for words that cannot start a person's name here: 'I', or 'Clearer' opening a sentence when
    the batch also writes 'clearer'. Keeps NER off texts with no candidate, and its false positives out."""
    if word in _PRONOUN_I:
        return False
    return not (_sentence_initial(text, start) and word.lower() in common)


def has_name_candidate(text: str, common: set[str]) -> bool:
    return any(could_name_someone(text, m.start(), m.group(), common) for m in _CAPITALISED.finditer(text))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_TOKEN if _luhn_ok(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 9 or len(digits) > 15:
        return text
    # ISO dates and times are not phone numbers.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        return text
    return PHONE_TOKEN


def redact_patterns(text: str) -> str:
    """Emails, cards, phones: cheap regex redaction that needs no model."""
    text = _EMAIL.sub(EMAIL_TOKEN, text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub(_phone, text)


@dataclass
class Redactor:
    """Redacts batches of texts; names only when the spaCy pipeline has an NER component.

    The pipeline can be given directly (tests) or as a loader that is only called when there is text to
    redact, so a re-import of unchanged files never pays for loading spaCy. Identical texts (agent macros,
    "n/a") go through NER once.
    """

    nlp: Language | None = None
    enabled: bool = True
    batch_size: int = 64
    loader: Callable[[], Language | None] | None = None

    def _pipeline(self) -> Language | None:
        if self.nlp is None and self.loader is not None:
            self.nlp = self.loader()
            self.loader = None
        return self.nlp

    @property
    def redacts_names(self) -> bool:
        nlp = self._pipeline()
        return nlp is not None and nlp.has_pipe("ner")

    def redact_many(self, texts: Iterable[str]) -> list[str]:
        texts = list(texts)
        if not self.enabled or not texts:
            return texts
        cleaned = [redact_patterns(t) for t in texts]
        if not self.redacts_names:
            return cleaned
        nlp = self._pipeline()
        assert nlp is not None
        common = common_words(cleaned)
        candidates = [t for t in dict.fromkeys(cleaned) if has_name_candidate(t, common)]
        disable = [name for name in nlp.pipe_names if name not in ("tok2vec", "ner")]
        docs = nlp.pipe(candidates, batch_size=self.batch_size, disable=disable)
        redacted = {text: _replace_people(text, doc, common) for text, doc in zip(candidates, docs, strict=True)}
        return [redacted.get(text, text) for text in cleaned]

    def redact(self, text: str) -> str:
        return self.redact_many([text])[0]


def _replace_people(text: str, doc, common: set[str]) -> str:  # noqa: ANN001 - spaCy Doc
    spans = [
        (e.start_char, e.end_char)
        for e in doc.ents
        if e.label_ == "PERSON"
        and e.text.strip("[]") not in ("EMAIL", "PHONE", "CARD", "NAME")
        and could_name_someone(text, e.start_char, e[0].text, common)
    ]
    for start, end in reversed(spans):
        text = text[:start] + NAME_TOKEN + text[end:]
    return text
