"""PII redaction of unit text: emails, phone numbers, card-like numbers and (with NER) person names.

Redaction happens at import time, so what is stored, embedded, shown and exported is the redacted text;
the raw text is kept only when the user asks for it (--keep-raw).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from insight.core.name_words import (
    DETERMINERS,
    PLACEHOLDER_WORDS,
    PRONOUN_I,
    NameWords,
    known_first_name,
    spacy_lexicon,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token


EMAIL_TOKEN = "[EMAIL]"
PHONE_TOKEN = "[PHONE]"
CARD_TOKEN = "[CARD]"
NAME_TOKEN = "[NAME]"
PLACEHOLDERS = (EMAIL_TOKEN, PHONE_TOKEN, CARD_TOKEN, NAME_TOKEN)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# 13-19 digits as cards are written: unbroken, in fours ('4111 1111 1111 1111', '-' or ' '), or Amex's and
# Diners' 4-6-5 / 4-6-4 (not after '+': '+5511961236487' is a phone); checked with Luhn so order totals and dates survive (an order number then a date,
# '#52250 2002-09-29', is not a card).
_CARD = re.compile(
    r"(?<![\d+-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\d]|-\d)"
)
# Phone numbers are found by Google's libphonenumber (the `phonenumbers` port): it knows each country's
# numbering plan, so order numbers, timestamps and barcodes, which no plan allows, are left alone.
PHONE_REGION_ENV = "INSIGHT_PHONE_REGION"
DEFAULT_PHONE_REGIONS = ("US", "GB")  # national numbers of both (a US 10-digit number never starts with 0)
_ENOUGH_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")
# Words that announce a phone number, with no other digits between them and it ("[PHONE]", a number already
# redacted, announces nothing: redacting twice changes nothing).
_PHONE_CUE = re.compile(
    r"(?i)\b(?<!\[)(?:call|ring|phone|tel|telephone|mobile|cell|cellphone|text|sms|whatsapp|number|reach)\b[^\d\n]{0,20}$"
)
_NOT_A_PHONE = re.compile(r"(?i)\b(?:order|ref|reference|tracking|sku|invoice|ticket|case|account|id|batch|lot|code)\b|#")


# Capitalised words (upper case in Unicode: "Élise" is capitalised, "élise" is not).
_WORD = re.compile(r"(?<![\w'’-])[^\W\d_][\w'’-]*")
_SENTENCE_END = ".!?:;\"“”(\n"


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in _SENTENCE_END


def common_words(texts: Iterable[str]) -> set[str]:
    """Words the batch itself writes in lower case: capitalised at a sentence start they are not names."""
    words: set[str] = set()
    for text in texts:
        words.update(w.lower() for w in _WORD.findall(text) if w[0].islower())
    return words


def could_name_someone(text: str, start: int, word: str, common: set[str]) -> bool:
    """False for words that cannot start a person's name here: 'I', or 'Clearer' opening a sentence when
    the batch also writes 'clearer'. Keeps NER off texts with no candidate, and its false positives out."""
    if word in PRONOUN_I or not word[:1].isupper():
        return False
    return not (_sentence_initial(text, start) and word.lower() in common)


def has_name_candidate(text: str, common: set[str]) -> bool:
    return any(could_name_someone(text, m.start(), m.group(), common) for m in _WORD.finditer(text))


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
    if _COUNTRY_CODE_BEFORE.search(match.string, 0, match.start()):
        return match.group()  # '+44 7400 120000 1328': a phone with its country code (then a number), no card
    digits = re.sub(r"\D", "", match.group())
    return CARD_TOKEN if _luhn_ok(digits) else match.group()


_COUNTRY_CODE_BEFORE = re.compile(r"\+\d{1,3}[ \t]?$")


def phone_regions(value: str | None = None) -> tuple[str, ...]:
    """The regions whose national numbers (no +country) count as phones: $INSIGHT_PHONE_REGION, e.g. 'US,GB'."""
    value = value if value is not None else os.environ.get(PHONE_REGION_ENV, "")
    regions = tuple(r.strip().upper() for r in value.split(",") if r.strip())
    return regions or DEFAULT_PHONE_REGIONS


def redact_phones(text: str, regions: Iterable[str] = DEFAULT_PHONE_REGIONS) -> str:
    """Numbers that are valid phone numbers in one of `regions` (or anywhere, written with +country), and
    numbers of a possible phone length right after a word like "call" or "text me on": fictional and
    unallocated ranges (07700 900123, 555-013-4471) fail validation, yet a customer wrote them as a phone."""
    if not _ENOUGH_DIGITS.search(text):
        return text
    import phonenumbers

    spans: set[tuple[int, int]] = set()
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        trunk = metadata.national_prefix if metadata is not None else None
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
            raw = match.raw_string.lstrip("( \t")
            # Where national numbers are dialled with a trunk 0 (UK, most of Europe), people write it:
            # "1234567890" is an order number, not Bedford's 01234 567890.
            if trunk == "0" and not raw.startswith(("+", "0")):
                continue
            if _ISO_DATE.search(raw):
                continue  # a price then a date ("$0.13 2000-01-01") is no one's number
            valid = phonenumbers.is_valid_number(match.number)
            cue = _PHONE_CUE.search(text[max(0, match.start - 40) : match.start])
            cued = cue is not None and not _NOT_A_PHONE.search(cue.group())
            if valid or (cued and len(re.sub(r"\D", "", match.raw_string)) >= 7):
                spans.add((match.start, match.end))
    # A number followed by more digits ("call (201) 555-0123 2 days ago", "+44 7400 120000 3pm") is one
    # candidate to the matcher, too long to be valid, and was kept whole: the valid number it starts with goes.
    for run in _PHONE_RUN.finditer(text):
        if not run.group().startswith("+") and text[: run.start()].rstrip(" \t").endswith("#"):
            continue  # '#131000 …': an order number ('# +44 …' is still a phone)
        candidate = run.group()
        if text[run.end() : run.end() + 1] == "/":  # its last group starts a date ('… 120000 01/01/2000')
            gaps = [m.start() for m in _GROUP_GAP.finditer(candidate)]
            if not gaps:
                continue
            candidate = candidate[: gaps[-1]]
        if not any(start < run.end() and run.start() < end for start, end in spans):
            length = _leading_phone(candidate, regions)
            if length:
                spans.add((run.start(), run.start() + length))
    for start, end in sorted(_outermost(spans), reverse=True):
        text = text[:start] + PHONE_TOKEN + text[end:]
    return text


_ISO_DATE = re.compile(r"(?<!\d)(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?!\d)")
_PHONE_RUN = re.compile(r"\+?\(?\d[\d \t()-]*\d")
_GROUP_GAP = re.compile(r"(?<=[\d)])[ \t]+(?=[\d(])")


def _leading_phone(run: str, regions: Iterable[str]) -> int | None:
    """The length of the longest valid phone number that `run` starts with and that ends at its end or before a
    space (the matcher misses "+44 7400 120000" after a stray "+ ")."""
    import phonenumbers

    if _ISO_DATE.search(run):
        return None
    for gap in [len(run), *reversed([m.start() for m in _GROUP_GAP.finditer(run)])]:
        prefix = run[:gap]
        if len(re.sub(r"\D", "", prefix)) < 7:
            return None
        for region in regions:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if metadata is not None and metadata.national_prefix == "0" and not prefix.lstrip("(").startswith(("+", "0")):
                continue  # as above: a UK national number is written with its 0
            try:
                number = phonenumbers.parse(prefix, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return gap
    return None


def _outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop spans inside others (two regions may read one number with different extents)."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


# "Hi Sarah," / "Thanks, Sarah!" at the start of a line: the greeted word is a name even when NER misses it.
_NAME = r"[^\W\d_][\w'’-]*"
_GREETING = re.compile(
    r"^[ \t]*(?i:hi|hello|hey|hiya|dear|morning|thanks|thank you|cheers)[ \t]*,?[ \t]+"
    rf"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?[ \t]+)?({_NAME})(?=[ \t]*(?:[,!.:]|$))",
    re.MULTILINE,
)
# "…let you know. Cheers, Holly" / "Best,\nMaría": a valediction then a name closing a line.
_VALEDICTION = (r"(?i:cheers|thanks|thanks again|thanks so much|thank you|thank you so much|many thanks|best|best wishes|all the best|regards|"
                r"kind regards|warm regards|warmly|sincerely|love|take care|xx|xo)")
_SIGNED = re.compile(
    rf"(?:^|(?<=[.!?])[ \t]+)[ \t]*{_VALEDICTION}[ \t]*[,!.]?[ \t]*\n?[ \t]*({_NAME})(?:[ \t]+({_NAME}))?"
    r"[ \t]*[.!]?[ \t]*$",
    re.MULTILINE,
)
# "So I'm Tomás, I work on…": someone introducing themselves by a given name.
_INTRODUCTION = re.compile(rf"(?<![\w'’])(?i:I'm|I’m|I am|my name is|my name's|this is|it's|it’s)[ \t]+({_NAME})(?![\w'’-])")
# A line that is only a name (or "Name at Shop"), among the last lines of a message: a sign-off.
_NAME_LINE = re.compile(rf"^[ \t]*(?:[-–—~][ \t]*)?({_NAME})(?:[ \t]+({_NAME}))?(?:[ \t]+(?:at|from|@)[ \t]+\S.*)?"
                        r"[ \t]*$")
SIGN_OFF_LINES = 3  # a sign-off is one of a text's last three non-empty lines


def _names_words(names: NameWords | set[str]) -> NameWords:
    return names if isinstance(names, NameWords) else NameWords(common=set(names), is_first_name=lambda w: False)


def redact_greetings(text: str, names: NameWords | set[str]) -> str:
    """Greeted names ("Hi Élise,"), self-introductions ("I'm Tomás") and signed names ("Cheers, Holly", a
    last line "María"), which NER often misses."""
    names = _names_words(names)

    def greeted(match: re.Match[str]) -> str:
        if not names.name_like(match.group(1)):
            return match.group()
        return match.group()[: match.start(1) - match.start()] + NAME_TOKEN

    def introduced(match: re.Match[str]) -> str:
        word = match.group(1)
        if not (names.is_first_name(word) and names.name_like(word)):
            return match.group()
        return match.group()[: match.start(1) - match.start()] + NAME_TOKEN

    text = _GREETING.sub(greeted, text)
    text = _INTRODUCTION.sub(introduced, text)
    text = _SIGNED.sub(lambda m: _replace_groups(m, names), text)
    return redact_sign_off_lines(text, names)


def _replace_groups(match: re.Match[str], names: NameWords) -> str:
    words = [g for g in match.groups() if g]
    if not names.signs_off(words):
        return match.group()
    start, end = match.start(1) - match.start(), match.end(match.lastindex or 1) - match.start()
    return match.group()[:start] + NAME_TOKEN + match.group()[end:]


def redact_sign_off_lines(text: str, names: NameWords | set[str]) -> str:
    """A message's closing line that holds only a name ("…let you know.\nMaría", "Amara\nFernleaf Support")."""
    names = _names_words(names)
    lines = text.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if len(filled) == 1:
        # A message split into sentences leaves the sign-off on its own: only a given name counts then.
        match = _NAME_LINE.match(lines[filled[0]])
        if not match or not names.is_first_name(match.group(1)):
            return text
    for i in filled[-SIGN_OFF_LINES:]:
        match = _NAME_LINE.match(lines[i])
        if match:
            lines[i] = _replace_groups(match, names)
    return "\n".join(lines)


def redact_patterns(text: str, regions: Iterable[str] = DEFAULT_PHONE_REGIONS) -> str:
    """Emails, cards, phones: redaction that needs no language model."""
    changed = 1
    while changed:  # 'a@b.io+c@d.io': the second address starts where the first ended; redact until none is left
        text, changed = _EMAIL.subn(EMAIL_TOKEN, text)
    text = _CARD.sub(_card, text)
    return redact_phones(text, regions)


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
    # Regions whose national phone numbers are recognised (numbers written with +country always are).
    phone_regions: tuple[str, ...] = field(default_factory=phone_regions)
    # English dictionary words (default: the pipeline's lemmatizer tables) and given names (Faker's first-name lists).
    is_word: Callable[[str], bool] | None = None
    is_first_name: Callable[[str], bool] = known_first_name

    _phrases: set[tuple[str, ...]] | None = None
    _brand_words: set[str] | None = None
    # Words NER has tagged as an organisation, product or place, and as a person, in everything redacted so
    # far: "Fernleaf" is mostly an ORG, so its PERSON readings are mistakes.
    _other_votes: Counter[str] = field(default_factory=Counter)
    _person_votes: Counter[str] = field(default_factory=Counter)

    def _product_phrases(self) -> set[tuple[str, ...]]:
        if self.product_names_loader is not None:
            self.product_names |= set(self.product_names_loader())
            self.product_names_loader = None
            self._phrases = None
            self._brand_words = None
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
        cleaned = [redact_patterns(t, self.phone_regions) for t in texts]
        if not self.redacts_names:
            return cleaned
        nlp = self._pipeline()
        assert nlp is not None
        if self.is_word is None:
            self.is_word = spacy_lexicon(nlp)
        names = NameWords(common=common_words(cleaned), is_word=self.is_word, is_first_name=self.is_first_name)
        not_names = self._product_phrases()
        candidates = [t for t in dict.fromkeys(cleaned) if has_name_candidate(t, names.common)]
        # The tagger tells a proper noun from "Glass jar" or "Fingers crossed", which NER alone calls people.
        disable = [name for name in nlp.pipe_names if name not in NER_PIPES]
        docs = list(nlp.pipe(candidates, batch_size=self.batch_size, disable=disable))
        self._count_votes(docs)
        names.brands = self._product_brand_words() | {
            w for w, n in self._other_votes.items()
            if n >= BRAND_VOTES and n > 2 * self._person_votes[w] and not self.is_first_name(w)
        }
        redacted = {
            text: _replace_people(text, doc, names, not_names) for text, doc in zip(candidates, docs, strict=True)
        }
        return [redact_greetings(redacted.get(text, text), names) for text in cleaned]

    def _product_brand_words(self) -> set[str]:
        """Words of the product names that are neither English words nor given names: the brand ("Fernleaf
        Gift Card") and coined names, which are no one's name when they stand alone."""
        if self._brand_words is None:
            assert self.is_word is not None
            self._brand_words = {w for phrase in self._product_phrases() for w in phrase
                                 if len(w) > 2 and not self.is_word(w) and not self.is_first_name(w)}
        return self._brand_words

    def _count_votes(self, docs: list) -> None:  # noqa: ANN001
        for doc in docs:
            for entity in doc.ents:
                votes = self._person_votes if entity.label_ in PERSON_LABELS else self._other_votes
                if entity.label_ in PERSON_LABELS or entity.label_ in OTHER_NAME_LABELS:
                    votes.update(t.lower_ for t in entity if t.is_alpha and t.text[:1].isupper())

    def redact(self, text: str) -> str:
        return self.redact_many([text])[0]


NER_PIPES = ("tok2vec", "tagger", "attribute_ruler", "ner")
PERSON_LABELS = ("PERSON", "PER")  # English pipelines; multilingual ones (xx_ent_wiki_sm)
# Labels that make a word a brand when NER gives them BRAND_VOTES times and twice as often as PERSON (places
# are left out: small models call many unfamiliar given names a GPE).
OTHER_NAME_LABELS = ("ORG", "PRODUCT")
BRAND_VOTES = 3


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


def person_tokens(entity: Span, text: str, names: NameWords, not_names: AbstractSet[tuple[str, ...]]) -> list[Token]:
    """The tokens of a PERSON entity that name someone: none for a product, brand, mark, honorific or common
    words; the entity is cut at a line break ("Ben\nFernleaf Support" is a sign-off above a signature)."""
    if entity.label_ not in PERSON_LABELS or entity.text.strip("[]") in PLACEHOLDER_WORDS:
        return []
    tokens: list[Token] = []
    for token in entity:
        if "\n" in token.text or (tokens and "\n" in tokens[-1].whitespace_):
            break
        tokens.append(token)
    while tokens and tokens[0].lower_ in DETERMINERS:
        tokens = tokens[1:]
    words = [t for t in tokens if t.is_alpha or t.text.rstrip(".").isalpha()]
    if not words or not could_name_someone(text, words[0].idx, words[0].text, names.common):
        return []
    if tuple(t.lower_ for t in words if t.is_alpha) in not_names:
        return []  # a product name
    if not names.could_be_person([t.text for t in words]):
        return []
    if entity.doc.has_annotation("POS") and not any(t.pos_ == "PROPN" for t in words):
        return []
    return tokens


def is_person(entity: Span, text: str, names: NameWords, not_names: AbstractSet[tuple[str, ...]]) -> bool:
    return bool(person_tokens(entity, text, names, not_names))


def _replace_people(text: str, doc: Doc, names: NameWords, not_names: AbstractSet[tuple[str, ...]] = frozenset()) -> str:
    spans = []
    for entity in doc.ents:
        tokens = person_tokens(entity, text, names, not_names)
        if tokens:
            spans.append((tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)))
    for start, end in reversed(spans):
        text = text[:start] + NAME_TOKEN + text[end:]
    return text
