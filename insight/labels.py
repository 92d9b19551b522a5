"""Describing a theme in the customers' own words: distinctive terms, a short label, recurring phrases, quotes.

- keywords: class-based TF-IDF (c-TF-IDF, as in BERTopic) over spaCy lemmas and noun chunks, with stop words,
  punctuation, numbers and PII placeholders removed. Words every theme shares score low by construction.
- label: the top two or three keywords, shown in the form customers wrote them ("shipping delays / late").
- phrases: verbatim 2-5 word n-grams of the lower-cased unit text used by at least 3 different customers,
  ranked by how much more often the theme uses them than the scope as a whole.
- quotes: the units nearest the theme centroid, diversified with maximal marginal relevance.
Large themes are described from a fixed-seed sample of their units (spaCy is the slow part).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

from insight.redact import PLACEHOLDERS

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


def clean_text(text: str) -> str:
    """Unit text with PII placeholders blanked out, for term extraction."""
    return _PLACEHOLDER_RE.sub(" ", text)


# Greetings and thanks open and close messages whatever they are about: as keywords they name no theme
# ("serum / skin / hi", "new order / refund / thanks").
COURTESY_WORDS = frozenset({
    "hi", "hello", "hey", "hiya", "dear", "thanks", "thank", "thx", "cheers", "regards", "please", "pls", "sorry",
    "bye", "goodbye",
})


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


def doc_terms(doc) -> list[tuple[str, str]]:
    """(term key, surface form) pairs of one spaCy doc: content lemmas plus multi-word noun chunks."""
    terms = [((t.lemma_ or t.lower_).lower(), t.lower_) for t in doc if _is_term_token(t)]
    if doc.has_annotation("DEP"):
        for chunk in doc.noun_chunks:
            tokens = [t for t in chunk]
            while tokens and not _is_term_token(tokens[0]):
                tokens.pop(0)
            while tokens and not _is_term_token(tokens[-1]):
                tokens.pop()
            if 2 <= len(tokens) <= 4 and all(t.is_alpha for t in tokens):
                key = " ".join((t.lemma_ or t.lower_).lower() for t in tokens)
                terms.append((key, " ".join(t.lower_ for t in tokens)))
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


def keywords_by_group(
    nlp: Language | None, texts: Sequence[str], groups: np.ndarray, top_n: int = 10, seed: int = 0
) -> dict[int, list[str]]:
    """c-TF-IDF keywords (surface forms) for every group except NOISE; NOISE still counts as a class for idf."""
    groups = np.asarray(groups)
    per_group = max(150, min(SAMPLE_PER_THEME, SPACY_BUDGET // max(len(np.unique(groups)), 1)))
    picked = sample_indices(groups, per_group, seed)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    doc_freq: dict[int, Counter[str]] = defaultdict(Counter)
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[int] = Counter()
    for index, doc in zip(picked, _pipe(nlp, [clean_text(texts[i]) for i in picked]), strict=True):
        group = int(groups[index])
        sizes[group] += 1
        terms = doc_terms(doc)
        for key, surface in terms:
            counts[group][key] += 1
            surfaces[key][surface] += 1
        doc_freq[group].update({key for key, _ in terms})
    total_per_term: Counter[str] = Counter()
    for counter in counts.values():
        total_per_term.update(counter)
    classes = [g for g in sizes if counts[g]]
    average = sum(sum(counts[g].values()) for g in classes) / max(len(classes), 1)
    result: dict[int, list[str]] = {}
    for group in sizes:
        if group == NOISE:
            continue
        class_total = sum(counts[group].values()) or 1
        min_df = 2 if sizes[group] >= 5 else 1
        scored = [
            (count / class_total * math.log(1 + average / total_per_term[key]), key)
            for key, count in counts[group].items()
            if doc_freq[group][key] >= min_df
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        result[group] = [surfaces[key].most_common(1)[0][0] for _, key in scored[:top_n]]
    return result


def short_label(
    keywords: Sequence[str], phrases: Sequence[str] = (), max_parts: int = 3, max_chars: int = 40
) -> str:
    """'parcel arrived late / delivery': the top keywords, where possible in the customers' own phrasing.

    A multi-word keyword absorbs the single words it contains; then a short verbatim phrase that holds two of
    the top keywords stands in for the parts it covers.
    """
    parts: list[str] = []
    for term in keywords[:10]:
        words = set(term.split())
        if any(words <= set(part.split()) for part in parts):
            continue
        absorbed = [part for part in parts if set(part.split()) < words]
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
    return label or "(no distinctive words)"


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
        for _, people, gram in sorted(scored, key=lambda item: (-len(item[2].split()), -item[0])):
            if any(f" {gram} " in f" {longer} " and longer_people >= 0.8 * people for longer_people, longer in kept):
                continue
            kept.append((people, gram))
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


def representative_quotes(
    embeddings: np.ndarray,
    members: np.ndarray,
    centroid: np.ndarray,
    texts: Sequence[str],
    k: int = 5,
    pool: int = 30,
    diversity: float = 0.3,
    min_words: int = 4,
) -> list[int]:
    """Up to k member indices: central units first, each next one chosen by maximal marginal relevance.

    Near-duplicates (cosine > 0.95 to a chosen quote, or the same text) are skipped; very short units are used
    only when there are not enough longer ones.
    """
    members = np.asarray(members)
    if len(members) == 0:
        return []
    centrality = embeddings[members] @ centroid
    ranked = members[np.argsort(-centrality, kind="stable")]
    long_enough = [i for i in ranked if len(texts[i].split()) >= min_words]
    candidates = (long_enough + [i for i in ranked if i not in set(long_enough)])[:pool]
    relevance = {int(i): float(embeddings[i] @ centroid) for i in candidates}
    chosen: list[int] = []
    seen_texts: set[str] = set()
    while len(chosen) < k:
        best, best_score = None, -math.inf
        for index in candidates:
            index = int(index)
            if index in chosen or texts[index].strip().lower() in seen_texts:
                continue
            redundancy = max((float(embeddings[index] @ embeddings[j]) for j in chosen), default=0.0)
            if redundancy > 0.95:
                continue
            score = (1 - diversity) * relevance[index] - diversity * redundancy
            if score > best_score:
                best, best_score = index, score
        if best is None:
            break
        chosen.append(best)
        seen_texts.add(texts[best].strip().lower())
    return chosen


def describe_groups(
    nlp: Language | None,
    texts: Sequence[str],
    groups: np.ndarray,
    embeddings: np.ndarray,
    speakers: Sequence[str],
    centroids: dict[int, np.ndarray],
    seed: int = 0,
) -> dict[int, ThemeDescription]:
    """Keywords, label, phrases and quotes for every group in `centroids` (NOISE units only inform idf)."""
    groups = np.asarray(groups)
    keywords = keywords_by_group(nlp, texts, groups, seed=seed)
    phrases = recurring_phrases(texts, groups, speakers, seed=seed)
    described: dict[int, ThemeDescription] = {}
    for group, centroid in centroids.items():
        words = keywords.get(group, [])
        described[group] = ThemeDescription(
            keywords=words,
            label=short_label(words, phrases.get(group, [])),
            phrases=phrases.get(group, []),
            quotes=representative_quotes(embeddings, np.flatnonzero(groups == group), centroid, texts),
        )
    return described
