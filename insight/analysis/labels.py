"""Describing a theme in the customers' own words: a readable label, distinctive terms, recurring phrases, quotes.

- label: a short phrase customers wrote ("discount code didn't work at checkout", "bought as a gift"), chosen
  among noun phrases and short clauses cut from the theme's own mentions (insight/analysis/label_phrases.py): said by
  many of the theme's customers (its content words present in their mentions), made of the theme's distinctive
  words, rarer in sibling themes, and close to the theme centre (by the mentions that use it, or, with an
  injected `embed`, by the phrase's own vector). Labels are handed out best score first, so two themes never
  get the same or a near-identical label: the second takes its next best. When nothing qualifies, the top
  keywords ("shipping delays / late"). A theme the caller flags as general gets "general praise",
  "general complaints" or "general comments".
- keywords: class-based TF-IDF (c-TF-IDF, as in BERTopic) over spaCy lemmas and noun chunks, with stop words,
  punctuation, numbers, greetings and PII placeholders removed. Words every theme shares score low.
- phrases: verbatim 2-5 word n-grams of the lower-cased unit text used by at least 3 different customers,
  ranked by how much more often the theme uses them than the scope as a whole.
- quotes: central mentions of readable length, diversified by maximal marginal relevance, never two that say
  the same thing (equal after dropping case, punctuation and fillers; one containing the other; nearly the
  same characters; cosine >= 0.9), from different customers where possible.
Large themes are described from a fixed-seed sample of their units (spaCy is the slow part).
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

from insight.analysis.label_phrases import (
    COURTESY_WORDS,
    FILLERS,
    GENERIC_WORDS,
    GREETING_PHRASES,
    Candidate,
    candidates,
    mention_lemmas,
    placeholder_tokens,
)
from insight.core.redact import PLACEHOLDERS

NOISE = -1
SAMPLE_PER_THEME = 1000  # at most this many units per theme are read for keywords and phrases ...
SPACY_BUDGET = 30_000  # ... and at most about this many in all go through spaCy (the slow part), min 150 a theme
MIN_PHRASE_CUSTOMERS = 3
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS), re.IGNORECASE)
_PLACEHOLDER_WORDS = {p.strip("[]").lower() for p in PLACEHOLDERS}
_WORD_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# Phrase segments break at punctuation and placeholders: n-grams never straddle a sentence or a redaction.
_SEGMENT_BREAK = re.compile(r"[.,!?;:()\[\]\"“”…/\n\r\t]+|\s[-–—]+\s")
_NO_START = {
    "a", "an", "the", "and", "or", "but", "so", "because", "of", "to", "with", "for", "as", "than", "i", "i'm",
    "me", "my", "we", "our", "it", "it's", "you", "your", "this", "that", "there", "is", "was", "be",
}
# Words that may be distinctive but say nothing in a label ("serum / like / cleanser"); used only when a theme
# has nothing better.
GENERIC_LABEL_WORDS = {
    "like", "want", "know", "think", "get", "got", "need", "thing", "things", "lot", "way", "really", "actually",
    "bit", "guess", "maybe", "honestly", "lol", "tbh", "use", "try", "tried", "good", "great", "nice", "ok", "okay",
    "yes", "yeah", "sure", "right", "time", "make", "go", "say", "said", "feel", "look",
}
MIN_PHRASE_LIFT = 1.5  # a phrase must be this much more frequent in the theme than in the scope
_NO_END = {
    "a", "an", "the", "and", "or", "but", "so", "because", "of", "to", "in", "on", "at", "for", "with", "by",
    "from", "as", "is", "was", "are", "were", "be", "been", "am", "have", "has", "had", "do", "did", "does",
    "my", "your", "our", "their", "his", "her", "its", "very", "really", "than", "that", "which", "i", "we",
    "you", "they", "he", "she", "would", "could", "will", "can", "just", "if", "when", "not", "no", "this",
}


@dataclass
class ThemeDescription:
    keywords: list[str] = field(default_factory=list)
    label: str = ""
    phrases: list[str] = field(default_factory=list)
    quotes: list[int] = field(default_factory=list)  # indices into the texts given


# Greetings and thanks (COURTESY_WORDS, GREETING_PHRASES) open and close messages whatever they are about: as
# keywords they name no theme ("serum / skin / hi", "guys / happy holidays / merry christmas").
_GREETING_KEYS = {phrase.replace("'s", "").strip() for phrase in GREETING_PHRASES}


def _is_term_token(token) -> bool:
    lower = token.lower_
    lemma = (token.lemma_ or lower).lower()
    return (
        token.is_alpha
        and len(lower) > 1
        and not token.is_stop
        and lower not in STOP_WORDS
        and lemma not in STOP_WORDS
        and lower not in _PLACEHOLDER_WORDS
        and lower not in COURTESY_WORDS
        and lemma not in COURTESY_WORDS
    )


def doc_terms(doc, blocked: AbstractSet[int] = frozenset(), chunks=None) -> list[tuple[str, str]]:
    """(term key, surface form) pairs of one spaCy doc: content lemmas plus multi-word noun chunks.

    `blocked` holds the indices of placeholder tokens ("[", "NAME", "]"), never part of a term; `chunks` the
    doc's noun chunks when the caller already has them.
    """
    terms = [((t.lemma_ or t.lower_).lower(), t.lower_) for t in doc if t.i not in blocked and _is_term_token(t)]
    if doc.has_annotation("DEP"):
        for chunk in doc.noun_chunks if chunks is None else chunks:
            tokens = [t for t in chunk]
            while tokens and not _is_term_token(tokens[0]):
                tokens.pop(0)
            while tokens and not _is_term_token(tokens[-1]):
                tokens.pop()
            if 2 <= len(tokens) <= 4 and all(t.is_alpha and t.i not in blocked for t in tokens):
                surface = " ".join(t.lower_ for t in tokens)
                if surface in _GREETING_KEYS:
                    continue
                key = " ".join((t.lemma_ or t.lower_).lower() for t in tokens)
                terms.append((key, surface))
    return terms


def sample_indices(groups: np.ndarray, per_group: int, seed: int = 0) -> np.ndarray:
    """At most `per_group` indices of each group (fixed seed), in ascending order."""
    rng = np.random.default_rng(seed)
    chosen: list[np.ndarray] = []
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        if len(members) > per_group:
            members = np.sort(rng.choice(members, size=per_group, replace=False))
        chosen.append(members)
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=int)


def _pipe(nlp: Language | None, texts: list[str]):
    if nlp is None:
        from spacy.lang.en import English

        nlp = English()
    disable = [name for name in nlp.pipe_names if name == "ner"]
    return nlp.pipe(texts, batch_size=256, disable=disable)


@dataclass
class SampleReading:
    """What the one spaCy pass over a scope's sample yields, per sampled text (in `picked` order)."""

    picked: np.ndarray  # indices into the texts
    groups: np.ndarray  # group of each picked text
    terms: list[list[tuple[str, str]]]  # keyword terms (key, surface)
    lemmas: list[frozenset[str]]  # content lemmas, to count who says a phrase
    candidates: list[list[Candidate]]  # label phrases cut from the text


def spacy_sample_size(groups: np.ndarray) -> int:
    """Texts read per group: SAMPLE_PER_THEME, less when many groups share the SPACY_BUDGET (min 150)."""
    return max(150, min(SAMPLE_PER_THEME, SPACY_BUDGET // max(len(np.unique(groups)), 1)))


def read_sample(nlp: Language | None, texts: Sequence[str], groups: np.ndarray, seed: int = 0) -> SampleReading:
    """Run spaCy once over a fixed-seed sample of every group: keyword terms, lemmas and label candidates."""
    groups = np.asarray(groups)
    picked = sample_indices(groups, spacy_sample_size(groups), seed)
    reading = SampleReading(picked, groups[picked], [], [], [])
    for doc in _pipe(nlp, [texts[i] for i in picked]):
        blocked = placeholder_tokens(doc)
        chunks = list(doc.noun_chunks) if doc.has_annotation("DEP") else []
        reading.terms.append(doc_terms(doc, blocked, chunks))
        reading.lemmas.append(mention_lemmas(doc, blocked))
        reading.candidates.append(candidates(doc, blocked, chunks))
    return reading


def term_scores(reading: SampleReading) -> dict[int, dict[str, tuple[float, int]]]:
    """c-TF-IDF score and document frequency of every term in every group (NOISE counts as a class for idf)."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    doc_freq: dict[int, Counter[str]] = defaultdict(Counter)
    for group, terms in zip(reading.groups, reading.terms, strict=True):
        counts[int(group)].update(key for key, _ in terms)
        doc_freq[int(group)].update({key for key, _ in terms})
    total_per_term: Counter[str] = Counter()
    for counter in counts.values():
        total_per_term.update(counter)
    classes = [g for g in counts if counts[g]]
    average = sum(sum(counts[g].values()) for g in classes) / max(len(classes), 1)
    scores: dict[int, dict[str, tuple[float, int]]] = {}
    for group, counter in counts.items():
        class_total = sum(counter.values()) or 1
        scores[group] = {
            key: (count / class_total * math.log(1 + average / total_per_term[key]), doc_freq[group][key])
            for key, count in counter.items()
        }
    return scores


def _keywords(reading: SampleReading, scores: dict[int, dict[str, tuple[float, int]]], top_n: int) -> dict[int, list[str]]:
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for terms in reading.terms:
        for key, surface in terms:
            surfaces[key][surface] += 1
    sizes = Counter(int(g) for g in reading.groups)
    result: dict[int, list[str]] = {}
    for group in sizes:
        if group == NOISE:
            continue
        min_df = 2 if sizes[group] >= 5 else 1
        scored = [(score, key) for key, (score, df) in scores.get(group, {}).items() if df >= min_df]
        scored.sort(key=lambda item: (-item[0], item[1]))
        result[group] = [surfaces[key].most_common(1)[0][0] for _, key in scored[:top_n]]
    return result


def keywords_by_group(
    nlp: Language | None, texts: Sequence[str], groups: np.ndarray, top_n: int = 10, seed: int = 0
) -> dict[int, list[str]]:
    """c-TF-IDF keywords (surface forms) for every group except NOISE; NOISE still counts as a class for idf."""
    reading = read_sample(nlp, texts, groups, seed)
    return _keywords(reading, term_scores(reading), top_n)


def short_label(
    keywords: Sequence[str], phrases: Sequence[str] = (), max_parts: int = 3, max_chars: int = 40
) -> str:
    """'parcel arrived late / delivery': the top keywords, where possible in the customers' own phrasing.

    A multi-word keyword absorbs the single words it contains; then a short verbatim phrase that holds two of
    the top keywords stands in for the parts it covers.
    """
    parts: list[str] = []
    for term in keywords[:10]:
        term_words = set(term.split())
        if any(term_words <= set(part.split()) for part in parts):
            continue
        absorbed = [part for part in parts if set(part.split()) < term_words]
        if absorbed:
            parts = [term if part == absorbed[0] else part for part in parts if part not in absorbed[1:]]
        elif len(parts) < max_parts + 2:
            parts.append(term)
    parts = [part for part in parts if part not in GENERIC_LABEL_WORDS] or parts[:1]
    top = {word for term in keywords[:5] for word in term.split()}
    for phrase in phrases[:5]:
        words = phrase.split()
        hits = set(words) & top
        covered = [part for part in parts if set(part.split()) & hits]
        if len(words) > 3 or len(hits) < 2 or not covered or phrase in parts:
            continue
        parts = [phrase if part == covered[0] else part for part in parts if part not in covered[1:]]
    label = ""
    for part in parts[:max_parts]:
        candidate = f"{label} / {part}" if label else part
        if label and len(candidate) > max_chars:
            break
        label = candidate
    return label or NO_WORDS


NO_WORDS = "(no distinctive words)"  # no keyword stands out: describe_groups then labels by a quote
QUOTE_LABEL_CHARS = 40


@lru_cache(maxsize=1)
def _foreign_stop_words() -> frozenset[str]:
    """Stop words of the other languages customers of an English-speaking shop often write in: a German answer
    read with English rules gives keywords like "die meine" ("the my")."""
    from spacy.lang.de.stop_words import STOP_WORDS as DE
    from spacy.lang.es.stop_words import STOP_WORDS as ES
    from spacy.lang.fr.stop_words import STOP_WORDS as FR
    from spacy.lang.it.stop_words import STOP_WORDS as IT
    from spacy.lang.nl.stop_words import STOP_WORDS as NL
    from spacy.lang.pt.stop_words import STOP_WORDS as PT

    return frozenset().union(DE, ES, FR, IT, NL, PT)


def only_function_words(label: str) -> bool:
    """True when a label of two or more words has only stop words of English or of another common language
    ("die meine"). One word is let through: "son" or "door" is an English noun as well as a stop word."""
    words = [w for part in label.split(" / ") for w in re.findall(r"\w+", part.lower())]
    return len(words) >= 2 and all(w in STOP_WORDS or w in _foreign_stop_words() for w in words)


def label_from_quote(quotes: Sequence[str]) -> str | None:
    """A theme no keyword describes (answers in other languages, "n/a…") is named by its most central quote,
    in the customer's words: placeholders and trailing punctuation dropped, cut at a word under
    QUOTE_LABEL_CHARS. None when no quote has a word left."""
    for quote in quotes:
        text = re.sub(r"\s+", " ", _PLACEHOLDER_RE.sub(" ", quote)).strip(" ,.;:!?…-–—'\"")
        if not re.search(r"\w", text):
            continue
        if len(text) > QUOTE_LABEL_CHARS:
            cut = text[:QUOTE_LABEL_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:")
            text = f"{cut}…"
        return text
    return None


def _segments(text: str) -> list[list[str]]:
    text = _PLACEHOLDER_RE.sub(" | ", text.lower()).replace("|", ".")
    return [words for part in _SEGMENT_BREAK.split(text) if (words := _WORD_RE.findall(part))]


def _ngrams(text: str, low: int = 2, high: int = 5) -> set[str]:
    found: set[str] = set()
    for words in _segments(text):
        for n in range(low, min(high, len(words)) + 1):
            for start in range(len(words) - n + 1):
                gram = words[start : start + n]
                if gram[0] in _NO_START or gram[-1] in _NO_END or gram[-1].replace("’", "'").endswith("'"):
                    continue
                if all(w in STOP_WORDS or w.isdigit() for w in gram):
                    continue
                found.add(" ".join(gram))
    return found


def recurring_phrases(
    texts: Sequence[str],
    groups: np.ndarray,
    speakers: Sequence[str],
    min_customers: int = MIN_PHRASE_CUSTOMERS,
    top_n: int = 8,
    seed: int = 0,
) -> dict[int, list[str]]:
    """Verbatim n-grams that at least `min_customers` different speakers used in a group, most distinctive first.

    `speakers` identifies who wrote each text (customer id, or the document when anonymous). A phrase contained
    in a longer kept phrase used by nearly as many customers is dropped.
    """
    groups = np.asarray(groups)
    picked = sample_indices(groups, SAMPLE_PER_THEME, seed)
    who: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    grams_of: dict[int, set[str]] = {}
    for index in picked:
        grams = _ngrams(texts[index])
        grams_of[int(index)] = grams
        group = int(groups[index])
        for gram in grams:
            who[group][gram].add(speakers[index])
    overall: Counter[str] = Counter()
    candidates = {g for group, by_gram in who.items() if group != NOISE for g, s in by_gram.items() if len(s) >= min_customers}
    for grams in grams_of.values():
        overall.update(grams & candidates)
    group_sizes = Counter(int(groups[i]) for i in picked)
    total = max(len(picked), 1)
    result: dict[int, list[str]] = {}
    for group, by_gram in who.items():
        if group == NOISE:
            continue
        scored = []
        for gram, people in by_gram.items():
            if len(people) < min_customers:
                continue
            lift = (len(people) / group_sizes[group]) / (overall[gram] / total)
            if lift < MIN_PHRASE_LIFT and len(group_sizes) > 1:
                continue
            scored.append((len(people) * math.log(1 + lift), len(people), gram))
        scored.sort(key=lambda item: (-item[0], item[2]))
        kept: list[tuple[int, str]] = []
        for _, count, gram in sorted(scored, key=lambda item: (-len(item[2].split()), -item[0])):
            if any(f" {gram} " in f" {longer} " and longer_count >= 0.8 * count for longer_count, longer in kept):
                continue
            kept.append((count, gram))
        keep = {gram for _, gram in kept}
        ranked = [gram for _, _, gram in scored if gram in keep]
        result[group] = _chain_overlaps(ranked, by_gram)[:top_n]
    return result


def _join(left: list[str], right: list[str]) -> list[str] | None:
    """left + the rest of right, when right starts with at least two of left's last words."""
    for k in range(min(len(left), len(right)) - 1, 1, -1):
        if left[-k:] == right[:k]:
            return left + right[k:]
    return None


def _chain_overlaps(ranked: list[str], people: dict[str, set[str]], max_words: int = 12) -> list[str]:
    """Join n-grams that overlap by two words or more and come from the same customers into the longer run they
    were cut from ("bigger size at a better" + "at a better price per" -> "bigger size at a better price per")."""
    remaining = list(ranked)
    out: list[str] = []
    while remaining:
        phrase = remaining.pop(0)
        if any(f" {phrase} " in f" {done} " for done in out):
            continue
        words = phrase.split()
        who = people[phrase]
        grown = True
        while grown and len(words) < max_words:
            grown = False
            for other in remaining:
                piece = other.split()
                if len(who & people[other]) < 0.8 * max(len(who), len(people[other])):
                    continue
                joined = _join(words, piece) or _join(piece, words)
                if joined is None or len(joined) > max_words:
                    continue
                words = joined
                remaining.remove(other)
                grown = True
                break
        out.append(" ".join(words))
    return out


# --- labels -------------------------------------------------------------------------------------------------

Embed = Callable[[list[str]], np.ndarray]  # texts -> L2-normalised rows, the same model as the mention vectors
EMBED_CANDIDATES = 12  # phrases per theme embedded when an `embed` callable is given (~5 ms each)
CANDIDATES_PER_THEME = 200  # most frequent candidate phrases scored per theme
NEAR_LABEL_COSINE = 0.9  # two labels this close in meaning are one label
# A two-to-four word phrase reads best; a single word says little, six words are a sentence.
_LENGTH_FACTOR = {1: 0.5, 2: 1.0, 3: 1.0, 4: 0.95, 5: 0.85, 6: 0.75}


@dataclass
class LabelChoice:
    surface: str
    key: tuple[str, ...]
    score: float
    customers: int  # different customers in the sample whose mentions hold the phrase's words
    vector: np.ndarray | None = None
    backup: bool = False  # said by fewer customers than a label needs: used only to avoid a repeated label


def _content_set(key: Sequence[str]) -> frozenset[str]:
    return frozenset(k for k in key if k not in GENERIC_WORDS)


def _collides(a: LabelChoice, b: LabelChoice) -> bool:
    """Near-copies: the same meaningful words, three in four of them shared, or (embedded) nearly the same
    meaning. "card" and "new card", "disposable card" and "disposable virtual card" may coexist; "code didn't
    work" and "discount code didn't work" may not."""
    left, right = _content_set(a.key) or frozenset(a.key), _content_set(b.key) or frozenset(b.key)
    if left == right or a.surface == b.surface:
        return True
    if len(left & right) / len(left | right) >= 0.75:
        return True
    return a.vector is not None and b.vector is not None and float(a.vector @ b.vector) >= NEAR_LABEL_COSINE


def rank_label_candidates(
    reading: SampleReading,
    scores: dict[int, dict[str, tuple[float, int]]],
    speakers: Sequence[str],
    embeddings: np.ndarray,
    centroids: dict[int, np.ndarray],
    embed: Embed | None = None,
    embed_candidates: int = EMBED_CANDIDATES,
) -> dict[int, list[LabelChoice]]:
    """Every group's candidate phrases, best first.

    score = sqrt(share of the group's customers whose mention holds the phrase's words)
            x sum of the phrase words' c-TF-IDF weights in the group (normalised to the group's best word)
            x a length factor x how much rarer the phrase is in sibling groups x closeness to the centre.
    """
    positions: dict[int, list[int]] = defaultdict(list)
    for position, group in enumerate(reading.groups):
        positions[int(group)].append(position)
    who_says: dict[tuple[str, ...], dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for position, found in enumerate(reading.candidates):
        group, speaker = int(reading.groups[position]), speakers[reading.picked[position]]
        for candidate in found:
            who_says[candidate.key][group].add(speaker)
    group_customers = {
        group: len({speakers[reading.picked[p]] for p in members}) for group, members in positions.items()
    }
    ranked: dict[int, list[LabelChoice]] = {}
    for group, centroid in centroids.items():
        members = positions.get(group, [])
        if not members:
            ranked[group] = []
            continue
        ranked[group] = _rank_group(
            group, members, reading, scores.get(group, {}), speakers, embeddings, centroid, who_says, group_customers
        )
    if embed is not None:
        _rerank_by_embedding(ranked, embed, embed_candidates, centroids, embeddings, reading, positions)
    return ranked


def _rank_group(
    group: int,
    members: list[int],
    reading: SampleReading,
    scores: dict[str, tuple[float, int]],
    speakers: Sequence[str],
    embeddings: np.ndarray,
    centroid: np.ndarray,
    who_says: dict[tuple[str, ...], dict[int, set[str]]],
    group_customers: dict[int, int],
) -> list[LabelChoice]:
    customers = group_customers[group]
    best_word = max((score for key, (score, _) in scores.items() if " " not in key), default=0.0) or 1.0
    # A word only one mention of the theme uses is no part of what the theme is about.
    rare = 0.25 if customers >= 4 else 1.0
    weight = {
        key: score / best_word * (rare if df < 2 else 1.0) for key, (score, df) in scores.items() if " " not in key
    }
    postings: dict[str, set[int]] = defaultdict(set)
    produced: dict[tuple[str, ...], list[int]] = defaultdict(list)
    surfaces: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for position in members:
        for lemma in reading.lemmas[position]:
            postings[lemma].add(position)
        for candidate in reading.candidates[position]:
            produced[candidate.key].append(position)
            surfaces[candidate.key][candidate.surface] += 1
    similarity = {p: float(embeddings[reading.picked[p]] @ centroid) for p in members}
    mean_similarity = max(float(np.mean(list(similarity.values()))), 1e-6)
    min_customers = 2 if customers >= 4 else 1
    frequent = sorted(produced, key=lambda k: (-len(who_says[k][group]), k))[:CANDIDATES_PER_THEME]
    choices: list[LabelChoice] = []
    for key in frequent:
        lemmas = set(key)
        holding = set(produced[key])
        if all(lemma in postings for lemma in lemmas):
            holding |= set.intersection(*(postings[lemma] for lemma in lemmas))
        support = len({speakers[reading.picked[p]] for p in holding})
        backup = support < min_customers
        info = sum(weight.get(lemma, 0.0) * (0.3 if lemma in GENERIC_WORDS else 1.0) for lemma in lemmas)
        if info <= 0:
            continue
        surface = min(surfaces[key].items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]
        share_here = len(who_says[key][group]) / customers
        share_elsewhere = max(
            (len(people) / group_customers[other] for other, people in who_says[key].items() if other not in (group, NOISE)),
            default=0.0,
        )
        distinct = share_here / (share_here + share_elsewhere)
        central = np.clip(np.mean([similarity[p] for p in produced[key]]) / mean_similarity, 0.5, 1.5)
        length = _LENGTH_FACTOR.get(len(surface.split()), 0.6)
        score = math.sqrt(support / customers) * info * length * (0.25 + 0.75 * distinct) * float(central)
        choices.append(LabelChoice(surface, key, score * (0.3 if backup else 1.0), support, backup=backup))
    choices.sort(key=lambda c: (-c.score, c.surface))
    return choices


def _rerank_by_embedding(
    ranked: dict[int, list[LabelChoice]],
    embed: Embed,
    per_group: int,
    centroids: dict[int, np.ndarray],
    embeddings: np.ndarray,
    reading: SampleReading,
    positions: dict[int, list[int]],
) -> None:
    """Embed each group's top phrases; closeness to the own centre (relative to its mentions') replaces the
    mention-based closeness, and a phrase nearer another group's centre than its own is marked down."""
    heads = {group: choices[:per_group] for group, choices in ranked.items()}
    phrases = sorted({c.surface for choices in heads.values() for c in choices})
    if not phrases:
        return
    vectors = dict(zip(phrases, np.asarray(embed(phrases), dtype=np.float32), strict=True))
    order = sorted(centroids)
    matrix = np.stack([centroids[g] for g in order])
    for group, choices in heads.items():
        members = positions.get(group, [])
        mean_similarity = max(float(np.mean(embeddings[reading.picked[members]] @ centroids[group])), 1e-6)
        for choice in choices:
            choice.vector = vectors[choice.surface]
            to_all = matrix @ choice.vector
            own = float(to_all[order.index(group)])
            nearest_other = max((float(v) for g, v in zip(order, to_all, strict=True) if g != group), default=-1.0)
            closeness = float(np.clip(own / mean_similarity, 0.3, 1.5))
            choice.score *= closeness * (1.0 if own >= nearest_other else 0.6)
        heads[group] = sorted(choices, key=lambda c: (-c.score, c.surface))
        ranked[group] = heads[group] + ranked[group][per_group:]


def choose_labels(ranked: dict[int, list[LabelChoice]]) -> dict[int, LabelChoice]:
    """One phrase per group, best score first across groups, skipping phrases that near-copy a label given."""
    pool = sorted(
        ((choice.score, group, rank, choice) for group, choices in ranked.items() for rank, choice in enumerate(choices)),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    chosen: dict[int, LabelChoice] = {}
    for _, group, _, choice in pool:
        if choice.backup or group in chosen or any(_collides(choice, other) for other in chosen.values()):
            continue
        chosen[group] = choice
    return chosen


def _fallback_labels(
    ranked: dict[int, list[LabelChoice]],
    chosen: dict[int, LabelChoice],
    keywords: dict[int, list[str]],
    phrases: dict[int, list[str]],
    groups: Sequence[int],
) -> dict[int, str]:
    """Labels for groups no phrase was left for: the keywords, unless a sibling already reads the same; then
    the group's best phrase that fewer customers used, if it repeats no label."""
    taken = [c.surface for c in chosen.values()]
    labels: dict[int, str] = {}
    for group in groups:
        label = short_label(keywords.get(group, []), phrases.get(group, []))
        if label in taken:
            given = [c for c in chosen.values()]
            for choice in ranked.get(group, []):
                if choice.backup and not any(_collides(choice, other) for other in given):
                    chosen[group] = choice
                    label = choice.surface
                    break
        labels[group] = label
        taken.append(label)
    return labels


# --- general themes ---------------------------------------------------------------------------------------------

POSITIVE_WORDS = frozenset({
    "love", "loved", "loving", "great", "good", "amazing", "awesome", "excellent", "perfect", "fantastic",
    "wonderful", "brilliant", "best", "happy", "nice", "lovely", "recommend", "recommended", "thanks", "thank",
    "beautiful", "superb", "fab", "fabulous", "impressed", "pleased", "satisfied", "glad", "enjoy", "enjoyed",
    "favourite", "favorite", "gorgeous", "outstanding", "incredible", "delighted", "cool", "ok", "okay", "fine",
})
NEGATIVE_WORDS = frozenset({
    "bad", "terrible", "awful", "horrible", "worst", "poor", "hate", "hated", "disappointed", "disappointing",
    "useless", "rubbish", "broken", "waste", "not", "no", "never", "didn't", "don't", "doesn't", "isn't", "wasn't",
    "won't", "can't", "meh", "annoying", "angry", "upset", "unhappy",
})
GENERAL_LABELS = {"positive": "general praise", "negative": "general complaints", None: "general comments"}


def general_label(texts: Sequence[str], sentiments: Sequence[str | None] | None = None) -> str:
    """'general praise' when most mentions are positive, 'general complaints' when most are negative, else
    'general comments'. Uses the stored per-mention sentiment when given, else a small word list."""
    if sentiments is not None and any(s for s in sentiments):
        known = [s for s in sentiments if s]
        tally = Counter(known)
    else:
        tally = Counter()
        for text in texts:
            words = set(re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'")))
            if words & NEGATIVE_WORDS:
                tally["negative"] += 1
            elif words & POSITIVE_WORDS:
                tally["positive"] += 1
            else:
                tally["neutral"] += 1
        known = list(tally.elements())
    for mood in ("positive", "negative"):
        if known and tally[mood] >= 0.6 * len(known):
            return GENERAL_LABELS[mood]
    return GENERAL_LABELS[None]


# --- quotes -----------------------------------------------------------------------------------------------------

QUOTE_MIN_WORDS = 4
QUOTE_MAX_WORDS = 60
DUPLICATE_COSINE = 0.9
DUPLICATE_CHARS = 0.85  # difflib ratio of the normalised texts: the same sentence with a typo or two
_MULTIWORD_FILLERS = re.compile(r"\b(?:i mean|you know|kind of|sort of|to be honest)\b")


def normalise_quote(text: str) -> str:
    """Lower case, no punctuation, no fillers: 'Honestly, nothing!' and 'nothing' compare equal."""
    text = _MULTIWORD_FILLERS.sub(" ", text.lower().replace("’", "'"))
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text)
    return " ".join(w for w in words if w not in FILLERS)


def representative_quotes(
    embeddings: np.ndarray,
    members: np.ndarray,
    centroid: np.ndarray,
    texts: Sequence[str],
    k: int = 5,
    pool: int = 100,
    diversity: float = 0.3,
    min_words: int = QUOTE_MIN_WORDS,
    *,
    speakers: Sequence[str] | None = None,
    max_words: int = QUOTE_MAX_WORDS,
) -> list[int]:
    """Up to k member indices: central units first, each next one chosen by maximal marginal relevance.

    Never two that say the same (see `normalise_quote`, `_same_as_any`, cosine >= 0.9); a customer already quoted
    is passed over while other customers remain; fragments under `min_words` and walls over `max_words` are used
    only when there are not enough readable ones.
    """
    members = np.asarray(members)
    if len(members) == 0:
        return []
    centrality = embeddings[members] @ centroid
    order = np.argsort(-centrality, kind="stable")[: max(pool * 20, 1000)]  # a big theme's centre is enough
    ranked = [int(i) for i in members[order]]
    readable = [i for i in ranked if min_words <= len(texts[i].split()) <= max_words]
    readable_set = set(readable)
    rest = [i for i in ranked if i not in readable_set]
    rest.sort(key=lambda i: len(texts[i].split()) > max_words)  # fragments before walls, each by centrality
    chosen: list[int] = []
    keys: list[str] = []
    for tier in (readable, rest):
        left = tier[:pool]
        while len(chosen) < k and left:
            best = _next_quote(left, chosen, keys, embeddings, centroid, texts, speakers, diversity)
            if best is None:
                break
            chosen.append(best)
            keys.append(normalise_quote(texts[best]))
            left = [i for i in left if i != best]
        if len(chosen) >= k:
            break
    return chosen


def _same_as_any(key: str, keys: list[str]) -> bool:
    for other in keys:
        if key == other:
            return True
        matcher = difflib.SequenceMatcher(None, key, other, autojunk=False)
        if matcher.real_quick_ratio() >= DUPLICATE_CHARS and matcher.quick_ratio() >= DUPLICATE_CHARS:
            if matcher.ratio() >= DUPLICATE_CHARS:
                return True
        short, long = sorted((key, other), key=len)
        if f" {short} " in f" {long} " and len(short) >= 0.8 * len(long):
            return True
    return False


def _next_quote(
    left: list[int],
    chosen: list[int],
    keys: list[str],
    embeddings: np.ndarray,
    centroid: np.ndarray,
    texts: Sequence[str],
    speakers: Sequence[str] | None,
    diversity: float,
) -> int | None:
    """The best next quote by maximal marginal relevance that repeats no chosen one (customers not yet quoted
    first); the text comparisons run only on the front runners."""
    quoted = {speakers[j] for j in chosen} if speakers is not None else set()
    vectors = embeddings[left]
    redundancy = (vectors @ embeddings[chosen].T).max(axis=1) if chosen else np.zeros(len(left))
    score = (1 - diversity) * (vectors @ centroid) - diversity * redundancy
    order = [left[i] for i in np.argsort(-score, kind="stable") if redundancy[i] < DUPLICATE_COSINE]
    fresh = [i for i in order if speakers is None or speakers[i] not in quoted]
    for index in fresh + [i for i in order if i not in set(fresh)]:
        key = normalise_quote(texts[index])
        if key and not _same_as_any(key, keys):
            return index
    return None


# --- everything -------------------------------------------------------------------------------------------------


def describe_groups(
    nlp: Language | None,
    texts: Sequence[str],
    groups: np.ndarray,
    embeddings: np.ndarray,
    speakers: Sequence[str],
    centroids: dict[int, np.ndarray],
    seed: int = 0,
    *,
    general_groups: set[int] | frozenset[int] = frozenset(),
    sentiments: Sequence[str | None] | None = None,
    embed: Embed | None = None,
    embed_candidates: int = EMBED_CANDIDATES,
) -> dict[int, ThemeDescription]:
    """Label, keywords, phrases and quotes for every group in `centroids` (NOISE units only inform idf).

    `general_groups` are labelled plainly ("general praise"); `sentiments` ('positive'|'neutral'|'negative' per
    text) decides which; `embed` (texts -> normalised vectors, the model behind `embeddings`) lets candidate
    phrases be judged by their own meaning (at most `embed_candidates` per group).
    """
    groups = np.asarray(groups)
    reading = read_sample(nlp, texts, groups, seed)
    scores = term_scores(reading)
    keywords = _keywords(reading, scores, 10)
    phrases = recurring_phrases(texts, groups, speakers, seed=seed)
    topical = {g: c for g, c in centroids.items() if g not in general_groups}
    ranked = rank_label_candidates(reading, scores, speakers, embeddings, topical, embed, embed_candidates)
    labels = choose_labels(ranked)
    fallback = _fallback_labels(ranked, labels, keywords, phrases, [g for g in topical if g not in labels])
    described: dict[int, ThemeDescription] = {}
    for group, centroid in centroids.items():
        words = keywords.get(group, [])
        members = np.flatnonzero(groups == group)
        if group in general_groups:
            sample = members[:SAMPLE_PER_THEME]
            label = general_label(
                [texts[i] for i in sample], [sentiments[i] for i in sample] if sentiments is not None else None
            )
        else:
            label = fallback.get(group) or labels[group].surface
        quotes = representative_quotes(embeddings, members, centroid, texts, speakers=speakers)
        if label == NO_WORDS or only_function_words(label):
            label = label_from_quote([texts[i] for i in quotes]) or label
        described[group] = ThemeDescription(
            keywords=words,
            label=label,
            phrases=phrases.get(group, []),
            quotes=quotes,
        )
    return described
