"""Theme descriptions: phrase labels from the theme's own mentions (no stop words, placeholders or greetings, no
two siblings alike), keywords free of stop words and placeholders, verbatim phrases counted per customer,
central quotes that never repeat each other."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from spacy.lang.en.stop_words import STOP_WORDS

from insight.analysis.embed import HashingEmbedder
from insight.analysis.label_phrases import GREETING_PHRASES
from insight.analysis.labels import (
    NOISE,
    SAMPLE_PER_THEME,
    describe_groups,
    doc_terms,
    general_label,
    keywords_by_group,
    normalise_quote,
    recurring_phrases,
    representative_quotes,
    short_label,
)
from insight.core.redact import PLACEHOLDERS

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
    from insight.analysis.nlp import load_pipeline

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

    from insight.analysis.labels import doc_terms

    nlp = spacy.blank("en")
    terms = [key for key, _ in doc_terms(nlp("Hi team, thanks: the serum pump leaked, please help"))]
    assert terms == ["team", "serum", "pump", "leaked", "help"]


def centroids_of(vectors: np.ndarray, groups: np.ndarray) -> dict[int, np.ndarray]:
    out = {}
    for g in sorted(set(groups.tolist()) - {NOISE}):
        mean = vectors[groups == g].mean(axis=0)
        out[g] = mean / np.linalg.norm(mean)
    return out


def near_copies(a: str, b: str) -> bool:
    left, right = ({"not" if w.endswith("n't") else w for w in words_of(label)} - (STOP_WORDS - {"not"}) for label in (a, b))
    return a == b or len(left & right) / len(left | right) >= 0.75


def describe(texts, groups, nlp=None, speakers=None, **options):
    groups = np.asarray(groups)
    vectors = HashingEmbedder().encode(texts)
    speakers = speakers or [f"c{i}" for i in range(len(texts))]
    return describe_groups(
        nlp or spacy.blank("en"), texts, groups, vectors, speakers, centroids_of(vectors, groups), **options
    )


def words_of(text: str) -> list[str]:
    return [w.strip(".,!?'").lower() for w in text.split()]


def assert_phrase_of_members(label: str, members: list[str]) -> None:
    """The label is a run of words one of the theme's mentions contains (apart from dropped pronouns)."""
    label_words = words_of(label)
    assert any(
        all(w in words_of(text) for w in label_words) for text in members
    ), f"{label!r} is not drawn from {members}"


def test_labels_are_phrases_from_the_themes_own_mentions():
    texts, groups = corpus()
    described = describe(texts, groups)
    for group, members in ((0, DELIVERY), (1, FABRIC)):
        label = described[group].label
        assert " / " not in label and 2 <= len(label.split()) <= 6, label
        assert_phrase_of_members(label, members)
    assert described[0].label == "parcel arrived late"  # said by most delivery customers, in their words
    assert described[1].label == "fabric feels cheap"
    assert described[0].keywords[:2] and described[0].keywords != [described[0].label]  # keywords stay


def test_labels_hold_no_stop_words_only_placeholders_or_greetings():
    mentions = [
        "Hi [NAME], merry christmas, the refill pouch leaked",
        "Happy holidays! refill pouch leaked in the box",
        "Thanks guys, refill pouch leaked everywhere [EMAIL]",
        "Hello, my refill pouch leaked again",
        "Merry christmas [NAME] and the refill pouch leaked",
    ]
    other = ["Lovely smell and soft skin", "Soft skin after a week", "Smell is lovely, skin soft", "Skin feels soft"]
    texts = mentions + other
    described = describe(texts, [0] * len(mentions) + [1] * len(other))
    for description in described.values():
        label = description.label.lower()
        assert not any(p.strip("[]").lower() in label.split() for p in PLACEHOLDERS), label
        assert "[" not in label and not any(g in label for g in GREETING_PHRASES), label
        assert not {"hi", "hello", "thanks", "guys", "merry"} & set(label.split()), label
        assert set(label.split()) - STOP_WORDS, label
    assert described[0].label == "refill pouch leaked"


def test_sibling_themes_never_share_a_label():
    # Two themes cut from one conversation: both would pick "discount code didn't work"; the second takes its
    # next best phrase, not a near-copy.
    shared = ["discount code didn't work", "discount code didn't work at checkout", "my discount code didn't work"]
    first = shared + ["discount code expired already", "code expired before I used it"]
    second = shared + ["checkout page froze", "checkout page froze on the phone"]
    texts = first + second
    described = describe(texts, [0] * len(first) + [1] * len(second))
    labels = [described[0].label, described[1].label]
    assert not near_copies(*labels), labels
    assert_phrase_of_members(labels[0], first)
    assert_phrase_of_members(labels[1], second)
    # The same mentions split in two: the best phrase of both is the same; only one theme gets it.
    twins = describe(shared * 2, [0, 0, 0, 1, 1, 1])
    assert not near_copies(twins[0].label, twins[1].label), (twins[0].label, twins[1].label)


def test_a_phrase_said_by_one_customer_many_times_does_not_label_a_theme():
    texts = ["pump broke after a week"] * 4 + ["lid cracked in transit", "lid cracked on arrival", "cracked lid"]
    speakers = ["same"] * 4 + ["a", "b", "c"]
    described = describe(texts, [0] * len(texts), speakers=speakers)
    assert "cracked" in described[0].label and "pump" not in described[0].label


def test_general_themes_are_labelled_plainly():
    praise = ["love it", "great product", "thanks", "love it!", "amazing, thank you", "ok"]
    topic = ["the pump leaked", "pump leaked in my bag", "leaking pump", "pump leaked everywhere"]
    texts = praise + topic
    groups = [0] * len(praise) + [1] * len(topic)
    described = describe(texts, groups, general_groups={0})
    assert described[0].label == "general praise"
    assert "pump" in described[1].label
    neutral = ["positive"] * 0 + ["neutral"] * len(texts)
    assert describe(texts, groups, general_groups={0}, sentiments=neutral)[0].label == "general comments"
    assert general_label(["terrible", "not good", "bad"]) == "general complaints"
    assert general_label(["no idea", "nothing to add", "see above"]) == "general comments"


def test_an_embed_callable_judges_few_candidates_and_keeps_phrases_from_mentions():
    texts, groups = corpus()
    asked: list[list[str]] = []
    embedder = HashingEmbedder()

    def embed(phrases: list[str]) -> np.ndarray:
        asked.append(list(phrases))
        return embedder.encode(phrases)

    described = describe(texts, groups, embed=embed, embed_candidates=5)
    assert len(asked) == 1 and 0 < len(asked[0]) <= 5 * 2  # one batch, at most 5 per theme
    assert_phrase_of_members(described[0].label, DELIVERY)
    assert_phrase_of_members(described[1].label, FABRIC)


def test_without_a_parser_or_any_phrase_labels_fall_back_to_keywords():
    texts = ["zebra", "zebra", "zebra", "yak", "yak", "yak"]
    described = describe(texts, [0, 0, 0, 1, 1, 1], speakers=["a", "a", "a", "b", "b", "b"])
    assert described[0].label in {"zebra", "(no distinctive words)"}
    assert described[1].label != described[0].label


def test_spacy_reads_each_sampled_text_once():
    seen: list[str] = []
    blank = spacy.blank("en")

    class CountingNlp:
        pipe_names: list[str] = []

        def pipe(self, texts, **_):
            texts = list(texts)
            seen.extend(texts)
            return blank.pipe(texts)

    texts = [f"parcel {i} arrived late" for i in range(SAMPLE_PER_THEME + 200)] + ["fabric cheap"] * 10
    groups = np.array([0] * (SAMPLE_PER_THEME + 200) + [1] * 10)
    vectors = HashingEmbedder().encode(texts)
    describe_groups(CountingNlp(), texts, groups, vectors, [str(i) for i in range(len(texts))], centroids_of(vectors, groups))
    assert len(seen) == SAMPLE_PER_THEME + 10


def test_quotes_never_repeat_each_other_after_normalising():
    texts = [
        "nothing, I was always going to buy",
        "Honestly, nothing, I was always going to buy",
        "Um, nothing... I was just always going to buy!",
        "so I kept the subscription going",
        "so I kept the subscripton going",
        "the price almost put me off but I tried it",
        "a friend recommended it so I ordered",
    ]
    assert normalise_quote(texts[0]) == normalise_quote(texts[1]) == normalise_quote(texts[2])
    vectors = HashingEmbedder().encode(texts)
    centroid = vectors.mean(axis=0) / np.linalg.norm(vectors.mean(axis=0))
    chosen = representative_quotes(vectors, np.arange(len(texts)), centroid, texts, k=5)
    picked = [texts[i] for i in chosen]
    assert len(chosen) == 4, picked
    assert len({normalise_quote(t) for t in picked}) == 4
    assert sum("subscri" in t for t in picked) == 1  # the typo'd copy is the same quote
    assert sum("always going to buy" in t for t in picked) == 1


def test_quotes_skip_near_identical_vectors_and_prefer_new_customers_and_readable_length():
    texts = [
        "the serum pump jammed on day two",
        "my serum pump jammed after two days",
        "pump jammed",
        "the pump jammed and the serum leaked into my bag",
        "pump stopped working within the first week of use",
        "serum pump is stuck and will not press down",
    ]
    vectors = HashingEmbedder().encode(texts)
    vectors[1] = vectors[0]  # the same meaning to the model
    centroid = vectors.mean(axis=0) / np.linalg.norm(vectors.mean(axis=0))
    speakers = ["ann", "bob", "cy", "ann", "ann", "dee"]
    speakers[4] = "eve"
    chosen = representative_quotes(vectors, np.arange(len(texts)), centroid, texts, k=3, speakers=speakers)
    assert not {0, 1} <= set(chosen)
    assert 2 not in chosen  # a two-word fragment while longer ones remain
    assert len({speakers[i] for i in chosen}) == 3  # three customers, though ann has two central lines
    everyone = representative_quotes(vectors, np.arange(len(texts)), centroid, texts, k=5, speakers=speakers)
    assert len(everyone) == 5 and 2 in everyone  # the fragment and ann's other lines fill up when needed


@pytest.mark.slow
def test_labels_with_the_parser_read_like_the_mentions():
    from insight.analysis.label_phrases import candidates
    from insight.analysis.nlp import load_pipeline

    loaded = load_pipeline()
    if loaded.name == "blank:en":
        pytest.fail("no spaCy model installed: " + loaded.message)
    nlp = loaded.nlp
    found = {c.surface for c in candidates(nlp("bought it as a gift for my sister"))}
    assert "bought as a gift" in found  # the pronoun object dropped
    found = {c.surface for c in candidates(nlp("The discount code didn't work at checkout"))}
    assert "discount code didn't work at checkout" in found and "discount code" in found
    assert not candidates(nlp("Hi [NAME], merry christmas to you guys!"))
    themes = {
        0: ["Slow shipping.", "shipping was so slow", "slow shipping again", "Shipping is slow", "very slow shipping"],
        1: ["bought it as a gift", "bought as a gift for my mum", "I bought it as a gift", "a gift for my sister"],
        2: ["the pump leaks after a week", "leaking pump", "pump leaks everywhere", "my pump leaks", "the pump leaks"],
    }
    texts = [t for members in themes.values() for t in members]
    groups = [g for g, members in themes.items() for _ in members]
    described = describe(texts, groups, nlp=nlp)
    assert described[0].label == "slow shipping"
    assert described[1].label == "bought as a gift"
    assert described[2].label in {"pump leaks", "leaking pump"}


def test_a_theme_whose_keywords_repeat_a_sibling_label_takes_a_phrase_fewer_customers_used():
    first = ["keyboard!", "keyboard.", "keyboard?", "Keyboard", "keyboard sturdy"]
    second = ["keyboard!", "keyboard.", "keyboard?", "Keyboard", "keyboard slick"]
    described = describe(first + second, [0] * 5 + [1] * 5)
    assert described[1].keywords == ["keyboard"]  # "slick" is one customer's word
    assert {described[0].label, described[1].label} == {"keyboard", "keyboard slick"}


def test_a_theme_no_keyword_describes_is_named_by_its_central_quote():
    from insight.analysis.labels import NO_WORDS, label_from_quote

    assert label_from_quote(["n/a...", "Nichts"]) == "n/a"
    assert label_from_quote(["[NAME]", "[NAME], ehrlich gesagt"]) == "ehrlich gesagt"  # placeholders are no words
    long = label_from_quote(["es un poco caro pero vale la pena cada centavo que pagas por él"])
    assert long is not None and long.endswith("…") and len(long) <= 41 and " " in long
    assert label_from_quote(["...", "[NAME]"]) is None
    assert NO_WORDS == "(no distinctive words)"


def test_describe_groups_names_a_wordless_theme_by_a_quote_not_a_placeholder():
    import numpy as np
    import spacy

    from insight.analysis.labels import NO_WORDS, describe_groups

    texts = ["n/a...", "N/A lol", "[NAME]", "n/a", "N/A.",
             "parcel arrived late", "late parcel again", "courier lost my parcel", "parcel late", "the parcel was late"]
    groups = np.array([0] * 5 + [1] * 5)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(10, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centroids = {g: vectors[groups == g].mean(axis=0) for g in (0, 1)}
    described = describe_groups(spacy.blank("en"), texts, groups, vectors, [f"c{i}" for i in range(10)], centroids)
    assert described[0].keywords == [] and described[0].label != NO_WORDS
    assert described[0].label.lower() == "n/a"
    assert "parcel" in described[1].label


def test_a_label_of_foreign_function_words_is_not_kept():
    from insight.analysis.labels import only_function_words

    assert only_function_words("die meine") and only_function_words("de la / que")
    assert not only_function_words("son") and not only_function_words("gift for my son")
    assert not only_function_words("die Feuchtigkeitscreme")
