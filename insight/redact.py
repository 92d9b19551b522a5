"""PII redaction of unit text: emails, phone numbers, card-like numbers and (with NER) person names.

Redaction happens at import time, so what is stored, embedded, shown and exported is the redacted text;
the raw text is kept only when the user asks for it (--keep-raw).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


# "Hi Sarah," / "Thanks, Sarah!" at the start of a line: the greeted word is a name even when NER misses it.
_GREETING = re.compile(
    r"^[ \t]*(?i:hi|hello|hey|hiya|dear|morning|thanks|thank you|cheers)[ \t]*,?[ \t]+"
    r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+)?([^\W\d_a-z][\w'’-]*)(?=[ \t]*(?:[,!.:]|$))",
    re.MULTILINE,
)


def redact_greetings(text: str, common: set[str]) -> str:
    def name(match: re.Match[str]) -> str:
        word = match.group(1)
        if word.lower() in common or word in _PRONOUN_I or word.strip("[]") in ("EMAIL", "PHONE", "CARD", "NAME"):
            return match.group()
        return match.group()[: match.start(1) - match.start()] + NAME_TOKEN

    return _GREETING.sub(name, text)


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
    # The brand's product names (from its order lines), read on first use: an entity that is one of them, or
    # two or more of its words in a row ("Cloud Moisturiser"), is a product, not a person. Single words are
    # not enough: "Terry" or "Rose" may name a product and a customer.
    product_names: set[str] = field(default_factory=set)
    product_names_loader: Callable[[], Iterable[str]] | None = None

    _phrases: set[tuple[str, ...]] | None = None

    def _product_phrases(self) -> set[tuple[str, ...]]:
        if self.product_names_loader is not None:
            self.product_names |= set(self.product_names_loader())
            self.product_names_loader = None
            self._phrases = None
        if self._phrases is None:
            self._phrases = product_phrases(self.product_names)
        return self._phrases

    def _pipeline(self) -> Language | None:
        if self.nlp is None and self.loader is not None:
            self.nlp = self.loader()
            self.loader = None
        return self.nlp

    def pipeline(self) -> Language | None:
        """The spaCy pipeline (loaded on first use), shared with the mention splitter."""
        return self._pipeline()

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
        not_names = self._product_phrases()
        candidates = [t for t in dict.fromkeys(cleaned) if has_name_candidate(t, common)]
        # The tagger tells a proper noun from "Glass jar" or "Fingers crossed", which NER alone calls people.
        disable = [name for name in nlp.pipe_names if name not in NER_PIPES]
        docs = nlp.pipe(candidates, batch_size=self.batch_size, disable=disable)
        redacted = {
            text: _replace_people(text, doc, common, not_names) for text, doc in zip(candidates, docs, strict=True)
        }
        return [redact_greetings(redacted.get(text, text), common) for text in cleaned]

    def redact(self, text: str) -> str:
        return self.redact_many([text])[0]


NER_PIPES = ("tok2vec", "tagger", "attribute_ruler", "ner")
PERSON_LABELS = ("PERSON", "PER")  # English pipelines; multilingual ones (xx_ent_wiki_sm)


def product_phrases(names: Iterable[str]) -> set[tuple[str, ...]]:
    """Each product name's words, whole and every run of two or more of them, lower-cased."""
    phrases: set[tuple[str, ...]] = set()
    for name in names:
        words = tuple(w.lower() for w in _NAME_WORD.findall(name))
        if words:
            phrases.add(words)
        for size in range(2, len(words)):
            phrases.update(words[i:i + size] for i in range(len(words) - size + 1))
    return phrases


_NAME_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def is_person(entity, text: str, common: set[str], not_names: set[tuple[str, ...]]) -> bool:  # noqa: ANN001
    if entity.label_ not in PERSON_LABELS or entity.text.strip("[]") in ("EMAIL", "PHONE", "CARD", "NAME"):
        return False
    if not could_name_someone(text, entity.start_char, entity[0].text, common):
        return False
    words = tuple(t.text.lower() for t in entity if t.is_alpha)
    if words and words in not_names:
        return False  # a product name
    tagged = entity.doc.has_annotation("POS")
    return not tagged or any(t.pos_ == "PROPN" for t in entity)


def _replace_people(text: str, doc, common: set[str], not_names: set[tuple[str, ...]] = frozenset()) -> str:  # noqa: ANN001
    spans = [(e.start_char, e.end_char) for e in doc.ents if is_person(e, text, common, not_names)]
    for start, end in reversed(spans):
        text = text[:start] + NAME_TOKEN + text[end:]
    return text
