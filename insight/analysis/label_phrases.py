"""Candidate label phrases cut from one mention: noun chunks, short clauses around each verb, short sentences.

A theme label should be a phrase customers wrote ("discount code didn't work at checkout", "bought as a gift",
"leaking pump"), not a list of keywords. spaCy's parse gives the pieces: base noun phrases (`Doc.noun_chunks`),
and for every verb its subject, negation, particle, object, adverb and first prepositional phrase, recombined
into a few short variants. Pronouns, determiners and fillers are trimmed from the edges; subjects that are
pronouns ("I", "it") and pronoun objects are dropped ("bought it as a gift" -> "bought as a gift").
Without a parser (a blank pipeline) the candidates are short word n-grams instead.

Each candidate has a key (its content lemmas in order, with "not" for a negation) so that "parcel arrived late"
and "Parcel arrives late" count as one phrase.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc, Span, Token

from insight.core.redact import PLACEHOLDERS

MAX_WORDS = 6
MAX_CHARS = 50
NEGATION = "not"
_NEGATION_WORDS = {"not", "no", "never", "cannot"}
# Spoken and written fillers: trimmed from phrase edges, ignored when comparing quotes.
FILLERS = frozenset({
    "honestly", "um", "umm", "uh", "uhm", "er", "erm", "like", "so", "well", "just", "really", "tbh", "actually",
    "basically", "literally", "yeah", "yes", "ok", "okay", "oh", "lol", "anyway", "also", "kinda",
})
# Greetings, thanks and forms of address open and close messages whatever they are about.
COURTESY_WORDS = frozenset({
    "hi", "hello", "hey", "hiya", "dear", "thanks", "thank", "thx", "cheers", "regards", "please", "pls", "sorry",
    "bye", "goodbye", "guys", "folks", "merry", "xx", "xoxo",
})
GREETING_PHRASES = (
    "happy holidays", "merry christmas", "happy new year", "good morning", "good afternoon", "good evening",
    "have a nice day", "have a great day", "have a good day", "nice day", "great day", "best wishes",
    "kind regards", "warm regards", "happy holiday", "season's greetings", "keep it up", "keep up the good work",
    "let me know", "look forward", "looking forward", "hear from you", "hear back", "many thanks", "thank you",
)
_GREETING_RE = re.compile(r"\b(?:" + "|".join(re.escape(g) for g in GREETING_PHRASES) + r")\b")
# Words that may be distinctive but say nothing on their own in a label ("like", "thing", "good").
GENERIC_WORDS = frozenset({
    "like", "want", "know", "think", "get", "got", "need", "thing", "things", "lot", "way", "really", "actually",
    "bit", "guess", "maybe", "honestly", "lol", "tbh", "use", "try", "tried", "good", "great", "nice", "ok", "okay",
    "yes", "yeah", "sure", "right", "time", "make", "go", "say", "said", "feel", "look", "stuff", "product",
    "products", "item", "day", "days", "year", "years", "people", "person", "guy", "one", "ones",
})
_EDGE_POS = {"DET", "PRON", "CCONJ", "SCONJ", "PUNCT", "ADP", "AUX", "PART", "INTJ", "SPACE", "SYM", "X", "NUM"}
_INNER_PUNCT_OK = {"-", "'", "’", "/", "&"}
_SUBJECTS = {"nsubj", "nsubjpass"}
_TIME_ADVERBS = {"always", "never", "still", "already", "finally", "barely", "hardly", "rarely", "only", "ever"}
_OBJECTS = ("dobj", "attr", "acomp", "oprd")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS), re.IGNORECASE)
_EDGE_JUNK = re.compile(r"^[\W_]+|[\W_]+$")
_BREAK_RE = re.compile(r"[.,!?;:()\[\]\"“”…/\n\r\t]+|\s[-–—]+\s")


@dataclass(frozen=True)
class Candidate:
    key: tuple[str, ...]  # content lemmas in order ("not" for a negation): what counts as the same phrase
    surface: str  # as the customer wrote it, trimmed


def is_content(token: Token) -> bool:
    """A word that can carry meaning in a label: alphabetic, not a stop word, greeting or placeholder."""
    lower = token.lower_
    lemma = (token.lemma_ or lower).lower()
    return (
        token.is_alpha
        and len(lower) > 1
        and lower not in STOP_WORDS
        and lemma not in STOP_WORDS
        and not token.is_stop
        and lower not in COURTESY_WORDS
        and lemma not in COURTESY_WORDS
    )


def lemma_of(token: Token) -> str:
    if token.dep_ == "neg":
        return NEGATION
    return (token.lemma_ or token.lower_).lower()


def mention_lemmas(doc: Doc, blocked: AbstractSet[int] = frozenset()) -> frozenset[str]:
    """The content lemmas of a mention (plus "not" when it negates something), to count who says a phrase."""
    found = {lemma_of(t) for t in doc if t.i not in blocked and is_content(t)}
    if doc.has_annotation("DEP") and any(t.dep_ == "neg" for t in doc):
        found.add(NEGATION)
    return frozenset(found)


def _capitals(token: Token) -> bool:
    return token.is_alpha and len(token.text) > 1 and token.text.isupper()


def _render(tokens: list[Token], shouting: bool) -> str:
    parts: list[str] = []
    for position, token in enumerate(tokens):
        text = token.text
        doc = token.doc
        in_caps_run = (
            text.isupper()
            and _capitals(token)
            and ((token.i > 0 and _capitals(doc[token.i - 1])) or (token.i + 1 < len(doc) and _capitals(doc[token.i + 1])))
        )
        if in_caps_run and not shouting:
            text = text.title()  # "FERNLEAF SKIN" is a name written in capitals
        if text == "i" and token.pos_ == "PRON":
            text = "I"
        keep_case = (
            text == "I"
            or (token.pos_ == "PROPN" and not token.is_sent_start and text[:1].isupper() and not shouting)
            or (in_caps_run and not shouting)
            or (text.isupper() and 2 <= len(text) <= 5 and token.is_alpha and not shouting)
        )
        parts.append(text if keep_case else text.lower())
        last = position == len(tokens) - 1
        if not last:
            following = tokens[position + 1]
            parts.append(token.whitespace_ if following.i == token.i + 1 else " ")
    return _EDGE_JUNK.sub("", "".join(parts))


def _trim(tokens: list[Token]) -> list[Token]:
    tokens = sorted(set(tokens), key=lambda t: t.i)

    def edge(token: Token, neighbour: Token | None) -> bool:
        if token.dep_ == "neg" or (neighbour is not None and token.lower_ in _TIME_ADVERBS):
            return False
        if token.pos_ == "AUX" and neighbour is not None and neighbour.dep_ == "neg":
            return False  # "didn't work" keeps its "did"
        return token.pos_ in _EDGE_POS or token.lower_ in FILLERS or token.lower_ in STOP_WORDS and not is_content(
            token
        ) and token.pos_ not in {"VERB", "NOUN", "PROPN", "ADJ"}

    while tokens and edge(tokens[0], tokens[1] if len(tokens) > 1 else None):
        tokens.pop(0)
    while tokens and (edge(tokens[-1], None) or tokens[-1].dep_ == "neg"):
        tokens.pop()
    return tokens


def _acceptable(tokens: list[Token], blocked: set[int]) -> bool:
    if not tokens or len(tokens) > MAX_WORDS + 2:
        return False
    words = [t for t in tokens if not t.is_punct and not (t.i > 0 and t.doc[t.i - 1].whitespace_ == "" and t.text[:1] in "'’n")]
    if not 1 <= len(words) <= MAX_WORDS:
        return False
    for token in tokens:
        if token.i in blocked or token.like_url or token.like_email or any(c.isdigit() for c in token.text):
            return False  # placeholders, links, order numbers and prices name no theme
        if token.is_punct and token.text not in _INNER_PUNCT_OK:
            return False
        if token.lower_ in COURTESY_WORDS or (token.lemma_ or "").lower() in COURTESY_WORDS:
            return False
        if token.dep_ == "cc" and not _coordination_inside(token, tokens):
            return False  # "cards and supported": half of a coordination
    content = [t for t in tokens if is_content(t)]
    if len(words) == 1 and tokens[0].pos_ not in {"NOUN", "PROPN"}:
        return False  # a lone verb or adjective ("rock", "stopped") names nothing
    return any(lemma_of(t) not in GENERIC_WORDS and t.lower_ not in GENERIC_WORDS for t in content)


def _coordination_inside(cc: Token, tokens: list[Token]) -> bool:
    inside = {t.i for t in tokens}
    conjuncts = [c for c in cc.head.children if c.dep_ == "conj" and c.i > cc.i]
    return cc.head.i in inside and any(c.i in inside for c in conjuncts)


def _subtree(token: Token, limit: int) -> list[Token] | None:
    tokens = list(token.subtree)
    return tokens if len(tokens) <= limit else None


def _noun_core(token: Token) -> list[Token]:
    """A noun with its compounds and adjectives ("discount code", "new card"), without clauses."""
    return [t for t in token.subtree if t == token or (t.head == token and t.dep_ in {"compound", "amod", "nummod", "det", "poss"})]


def _prep_phrase(prep: Token, limit: int = 4) -> list[Token]:
    """"as a gift" out of "as a gift for my sister": the preposition and its object, without nested phrases."""
    objects = [c for c in prep.children if c.dep_ == "pobj"]
    if not objects:
        return []
    whole = _subtree(prep, limit)
    if whole:
        return whole
    obj = objects[0]
    nested = {t.i for c in obj.children if c.dep_ in {"prep", "relcl", "acl", "cc", "conj"} for t in c.subtree}
    tokens = [prep] + [t for t in obj.subtree if t.i not in nested]
    return tokens if len(tokens) <= limit else []


def _verb_variants(verb: Token) -> list[list[Token]]:
    children = list(verb.children)
    core = [verb]
    for child in children:
        if child.dep_ == "neg":
            core.append(child)
            core += [c for c in children if c.dep_ in {"aux", "auxpass"} and c.i == child.i - 1]
        elif child.dep_ == "prt":
            core.append(child)
        elif child.dep_ == "advmod" and child.i == verb.i - 1 and child.lower_ in _TIME_ADVERBS:
            core.append(child)  # "always going to buy", "still waiting"
    copula = verb.pos_ == "AUX"
    if copula:  # "night cream would be amazing" keeps its "would"
        core += [c for c in children if c.dep_ == "aux" and c.i == verb.i - 1]
    obj: list[Token] = []
    for child in children:
        if child.dep_ in _OBJECTS and child.i > verb.i:
            if child.pos_ == "PRON":
                break
            obj = _subtree(child, 4) or _noun_core(child)
            break
    if not obj:  # "stopped stinging", "wanted to try something new"
        for child in children:
            if child.dep_ == "xcomp" and child.i > verb.i:
                obj = _subtree(child, 4) or []
                break
    if copula and not obj:
        return []
    subject: list[Token] = []
    for child in children:
        if child.dep_ in _SUBJECTS and child.pos_ not in {"PRON", "DET"}:
            subject = _subtree(child, 4) or _noun_core(child)
            break
    adverbs: list[Token] = []
    for child in children:
        if child.dep_ == "advmod" and child.i > verb.i and is_content(child):
            adverbs = _subtree(child, 3) or []
            break
    prep: list[Token] = []
    for child in children:
        if child.dep_ in {"prep", "agent"} and child.i > verb.i:
            prep = _prep_phrase(child)
            if prep:
                break
    variants = [core + obj, core + obj + prep, core + obj + adverbs, subject + core + obj, subject + core + obj + prep,
                subject + core + obj + adverbs]
    return [v for v in variants if len(v) > 1]


def placeholder_tokens(doc: Doc) -> set[int]:
    """Indices of the tokens that make up a PII placeholder ("[", "NAME", "]")."""
    blocked: set[int] = set()
    for match in _PLACEHOLDER_RE.finditer(doc.text):
        span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
        if span is not None:
            blocked.update(range(span.start, span.end))
    return blocked


def candidates(doc: Doc, blocked: set[int] | None = None, chunks: list[Span] | None = None) -> list[Candidate]:
    """Short phrases of one mention that could name its theme (duplicates removed, order of discovery).

    `chunks` are the doc's noun chunks when the caller already has them (they take a while to find)."""
    if blocked is None:
        blocked = placeholder_tokens(doc)
    if not doc.has_annotation("DEP"):
        return ngram_candidates(doc.text)
    letters = [c for c in doc.text if c.isalpha()]
    shouting = bool(letters) and sum(c.isupper() for c in letters) > 0.6 * len(letters)
    spans: list[list[Token]] = []
    for chunk in doc.noun_chunks if chunks is None else chunks:
        tokens = list(chunk)
        spans.append(tokens)
        for prep in chunk.root.children:
            if prep.dep_ == "prep" and prep.i > chunk.end - 1:
                tail = _prep_phrase(prep)
                if tail:
                    spans.append(tokens + tail)
    for token in doc:
        if token.pos_ in {"VERB", "AUX"} and token.dep_ not in {"aux", "auxpass"}:
            spans.extend(_verb_variants(token))
    for sentence in doc.sents:
        if len(sentence) <= MAX_WORDS + 4:
            spans.append(list(sentence))
    found: dict[tuple[str, ...], Candidate] = {}
    tried: set[frozenset[int]] = set()
    for span in spans:
        if len(span) > MAX_WORDS + 6:
            continue
        ids = frozenset(t.i for t in span)
        if ids in tried:
            continue  # variants often coincide (no adverb, no object)
        tried.add(ids)
        tokens = _trim(span)
        if not _acceptable(tokens, blocked):
            continue
        surface = _render(tokens, shouting)
        if len(surface) > MAX_CHARS or _GREETING_RE.search(surface.lower()):
            continue
        key = tuple(lemma_of(t) for t in tokens if is_content(t) or t.dep_ == "neg")
        if key and key not in found:
            found[key] = Candidate(key, surface)
    return list(found.values())


def ngram_candidates(text: str, high: int = 4) -> list[Candidate]:
    """Without a parser: word n-grams within a clause, not starting or ending on a stop word or filler."""
    found: dict[tuple[str, ...], Candidate] = {}
    for part in _BREAK_RE.split(_PLACEHOLDER_RE.sub(" . ", text).lower()):
        words = _WORD_RE.findall(part)
        for n in range(1, min(high, len(words)) + 1):
            for start in range(len(words) - n + 1):
                gram = words[start : start + n]
                if any(_unusable(w) for w in (gram[0], gram[-1])):
                    continue
                if any(w in COURTESY_WORDS for w in gram):
                    continue
                content = tuple(
                    NEGATION if w in _NEGATION_WORDS or w.endswith(("n't", "n’t")) else w
                    for w in gram
                    if w in _NEGATION_WORDS or w.endswith(("n't", "n’t")) or (w not in STOP_WORDS and w not in FILLERS and w.isalpha())
                )
                if not any(w not in GENERIC_WORDS for w in content) or _GREETING_RE.search(" ".join(gram)):
                    continue
                found.setdefault(content, Candidate(content, " ".join(gram)))
    return list(found.values())


def _unusable(word: str) -> bool:
    return word in STOP_WORDS or word in FILLERS or word.isdigit() or len(word) < 2
