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
    batch_size: int = 256
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
        unique = list(dict.fromkeys(cleaned))
        disable = [name for name in nlp.pipe_names if name not in ("tok2vec", "ner")]
        docs = nlp.pipe(unique, batch_size=self.batch_size, disable=disable)
        redacted = {text: _replace_people(text, doc) for text, doc in zip(unique, docs, strict=True)}
        return [redacted[text] for text in cleaned]

    def redact(self, text: str) -> str:
        return self.redact_many([text])[0]


def _replace_people(text: str, doc) -> str:  # noqa: ANN001 - spaCy Doc
    spans = [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
    for start, end in reversed(spans):
        if text[start:end] in PLACEHOLDERS or text[start:end].strip("[]") in ("EMAIL", "PHONE", "CARD", "NAME"):
            continue
        text = text[:start] + NAME_TOKEN + text[end:]
    return text
