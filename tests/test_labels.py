"""Theme descriptions: keywords free of stop words and placeholders, short labels, verbatim phrases counted per
customer, diverse central quotes."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from spacy.lang.en.stop_words import STOP_WORDS

from insight.embed import HashingEmbedder
from insight.labels import (
    NOISE,
    describe_groups,
    doc_terms,
    keywords_by_group,
    recurring_phrases,
    representative_quotes,
    short_label,
)
from insight.redact import PLACEHOLDERS

DELIVERY = [
    "The parcel arrived late and [NAME] never replied",
    "My parcel arrived late, again. Email me at [EMAIL]",
    "Delivery was slow and the parcel arrived late",
    "Courier lost the parcel for a week, call [PHONE]",
    "Parcel arrived late and the box was crushed",
    "The tracking never updated and delivery was slow",
]
FABRIC = [
    "The fabric feels cheap and thin",
    "Fabric feels cheap after one wash",
    "The material pilled and the fabric feels cheap",
    "Seams came apart, the fabric is thin",
    "Colour faded and the fabric feels scratchy",
    "Thin fabric, it pilled quickly",
]
GENERIC = ["It was okay I guess", "Nothing really, it was fine", "I would say it was just okay"]


def corpus() -> tuple[list[str], np.ndarray]:
    texts = DELIVERY + FABRIC + GENERIC
    groups = np.array([0] * len(DELIVERY) + [1] * len(FABRIC) + [NOISE] * len(GENERIC))
    return texts, groups


def assert_clean(terms: list[str]) -> None:
    placeholder_words = {p.strip("[]").lower() for p in PLACEHOLDERS}
    for term in terms:
        for word in term.split():
            assert word not in STOP_WORDS, term
            assert word not in placeholder_words, term
            assert word.isalpha(), term


def test_keywords_are_distinctive_and_free_of_stop_words_and_placeholders():
    texts, groups = corpus()
    keywords = keywords_by_group(spacy.blank("en"), texts, groups)
    assert set(keywords) == {0, 1}  # nothing for the unassigned
    assert keywords[0][:3] and set(keywords[0][:4]) & {"parcel", "late", "arrived"}
    assert set(keywords[1][:4]) & {"fabric", "cheap", "feels", "thin"}
    assert not set(keywords[0]) & set(keywords[1][:2])
    for terms in keywords.values():
        assert_clean(terms)


@pytest.mark.slow
def test_keywords_with_lemmas_and_noun_chunks():
    from insight.nlp import load_pipeline

    loaded = load_pipeline()
    if loaded.name == "blank:en":
        pytest.fail("no spaCy model installed: " + loaded.message)
    texts, groups = corpus()
    keywords = keywords_by_group(loaded.nlp, texts, groups)
    assert_clean(keywords[0] + keywords[1])
    assert "parcel" in keywords[0][:3]
    terms = doc_terms(loaded.nlp("The shipping delays were awful and [EMAIL] never answered"))
    assert ("shipping delay", "shipping delays") in terms  # noun chunk, determiner stripped, lemma as key
    assert ("delay", "delays") in terms
    assert not {key for key, _ in terms} & {"the", "be", "email", "never"}


def test_short_label_prefers_phrases_and_absorbs_their_words():
    assert short_label(["delay", "shipping delay", "late", "courier"]) == "shipping delay / late / courier"
    assert short_label(["parcel", "late", "delivery"], ["parcel arrived late"]) == "parcel arrived late / delivery"
    assert short_label([]) == "(no distinctive words)"
    long = short_label(["extraordinarily", "complicated", "checkout", "experience"], max_chars=30)
    assert len(long) <= 30 and long.startswith("extraordinarily")


def test_recurring_phrases_count_different_customers_not_repeats():
    texts, groups = corpus()
    speakers = [f"c{i}" for i in range(len(texts))]
    phrases = recurring_phrases(texts, groups, speakers)
    assert phrases[0][0] == "parcel arrived late"
    assert "fabric feels cheap" in phrases[1]
    # The same three delivery texts from one customer are one voice: the phrase no longer recurs.
    same_person = ["c0" if "arrived late" in t else s for t, s in zip(texts, speakers, strict=True)]
    assert "parcel arrived late" not in recurring_phrases(texts, groups, same_person).get(0, [])
    for found in phrases.values():
        for phrase in found:
            assert "email" not in phrase and "[" not in phrase
            assert phrase.split()[0] not in {"the", "and", "a"}


def test_phrases_never_straddle_a_placeholder_or_a_sentence():
    texts = ["late parcel [NAME] called", "late parcel. called", "late parcel, called", "late parcel called"]
    phrases = recurring_phrases(texts, np.zeros(4, dtype=int), ["a", "b", "c", "d"], min_customers=2)
    assert "late parcel" in phrases[0]
    assert "parcel called" not in phrases[0]


def test_representative_quotes_are_central_and_not_duplicates():
    texts = ["parcel arrived late"] * 3 + ["parcel arrived late and box crushed", "courier lost parcel", "x"]
    vectors = HashingEmbedder().encode(texts)
    centroid = vectors[:5].mean(axis=0)
    centroid /= np.linalg.norm(centroid)
    chosen = representative_quotes(vectors, np.arange(len(texts)), centroid, texts, k=4, min_words=2)
    assert len(chosen) == len({texts[i] for i in chosen})
    assert chosen[0] in {0, 1, 2, 3}
    assert 5 not in chosen[:3]


def test_describe_groups_combines_everything():
    texts, groups = corpus()
    vectors = HashingEmbedder().encode(texts)
    centroids = {g: vectors[groups == g].mean(axis=0) for g in (0, 1)}
    described = describe_groups(spacy.blank("en"), texts, groups, vectors, [str(i) for i in range(len(texts))], centroids)
    assert set(described) == {0, 1}
    assert "late" in described[0].label or "parcel" in described[0].label
    assert all(groups[i] == 0 for i in described[0].quotes) and 3 <= len(described[0].quotes) <= 5


def test_overlapping_ngrams_of_one_repeated_sentence_are_joined():
    sentence = "would love a bigger size at a better price per ml"
    texts = [sentence, f"{sentence} please", f"honestly {sentence}", "price is fine", "love the smell"]
    phrases = recurring_phrases(texts, np.array([0, 0, 0, 1, 1]), ["a", "b", "c", "d", "e"])
    assert phrases[0] == [sentence]  # one run, not six overlapping 5-grams


def test_generic_words_stay_out_of_labels_unless_nothing_else_is_left():
    assert short_label(["serum", "like", "cleanser"]) == "serum / cleanser"
    assert short_label(["lol", "self care"]) == "self care"
    assert short_label(["ok", "yeah"]) == "ok"


def test_greetings_and_thanks_are_not_keywords():
    import spacy

    from insight.labels import doc_terms

    nlp = spacy.blank("en")
    terms = [key for key, _ in doc_terms(nlp("Hi team, thanks: the serum pump leaked, please help"))]
    assert terms == ["team", "serum", "pump", "leaked", "help"]
