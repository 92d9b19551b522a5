import pytest
import spacy

from insight.core.redact import Redactor, redact_patterns


def test_patterns_redact_contact_details_but_not_orders_or_dates():
    text = "email jo.b@example.com or call (612) 555-0147 / +44 20 7946 0958; card 4111 1111 1111 1111"
    assert redact_patterns(text) == "email [EMAIL] or call [PHONE] / [PHONE]; card [CARD]"
    kept = "order #100234 on 2026-10-03 cost $45.00, 3 items"
    assert redact_patterns(kept) == kept


def test_order_numbers_timestamps_and_barcodes_are_not_phone_numbers():
    # The old regex made these "order [PHONE] never came", "delivered [PHONE]:22:10", "SKU [PHONE]".
    for text in ("order 1234567890 never came", "delivered 2026-10-03 14:22:10", "SKU 4006381333931",
                 "tracking 9400 1000 0000 0000 0000 00", "ref 2026-11-24T10:15:00Z"):
        assert redact_patterns(text) == text


def test_national_numbers_follow_the_configured_region(monkeypatch):
    from insight.core.redact import phone_regions

    uk = "it's 020 7946 0958 or 0161 496 0000"
    assert redact_patterns(uk, ("US",)) == uk  # not US numbers
    assert redact_patterns(uk, ("GB",)) == "it's [PHONE] or [PHONE]"
    assert redact_patterns("612-555-0123 or 020 7946 0958", ("US", "GB")) == "[PHONE] or [PHONE]"
    monkeypatch.setenv("INSIGHT_PHONE_REGION", "gb, ie")
    assert phone_regions() == ("GB", "IE")
    assert Redactor(nlp=spacy.blank("en")).redact(uk) == "it's [PHONE] or [PHONE]"
    monkeypatch.setenv("INSIGHT_PHONE_REGION", "")
    assert phone_regions() == ("US", "GB")


def test_fictional_numbers_count_when_written_as_a_phone():
    # 07700 900xxx (Ofcom's drama range) and area code 555 fail validation, but "call me on" says what they are.
    assert redact_patterns("ring me on 07700 900123 if you want more") == "ring me on [PHONE] if you want more"
    assert redact_patterns("text me at 555-013-4471, or my number is 07700 900123") == (
        "text me at [PHONE], or my number is [PHONE]"
    )
    for kept in ("call me about order 1234567890", "phone case SKU 4006381333931", "07700 900123 units sold"):
        assert redact_patterns(kept) == kept


def test_redactor_without_ner_skips_names_and_can_be_disabled():
    redactor = Redactor(nlp=spacy.blank("en"))
    assert not redactor.redacts_names
    assert redactor.redact("Priya said mail me at p@example.org") == "Priya said mail me at [EMAIL]"
    assert Redactor(enabled=False).redact("p@example.org") == "p@example.org"


def test_redactor_replaces_person_entities_when_the_pipeline_has_ner():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")  # a rule-based stand-in for a statistical NER
    ruler.add_patterns([{"label": "PERSON", "pattern": "Oluwaseun"}, {"label": "ORG", "pattern": "Fernleaf"}])
    redactor = Redactor(nlp=nlp)
    assert redactor.redacts_names
    assert redactor.redact_many(["Oluwaseun at Fernleaf was lovely, oluwaseun@example.com"]) == [
        "[NAME] at Fernleaf was lovely, [EMAIL]"
    ]


def test_pipeline_loader_runs_only_when_there_is_text():
    calls = []

    def loader():
        calls.append(1)
        return spacy.blank("en")

    redactor = Redactor(loader=loader)
    assert redactor.redact_many([]) == [] and calls == []
    assert redactor.redact_many(["mail a@example.com", "mail a@example.com"]) == ["mail [EMAIL]", "mail [EMAIL]"]
    assert calls == [1]


def test_sentence_initial_common_words_are_not_taken_for_names():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    # A rule-based stand-in that makes the classic mistakes of a small statistical model.
    ruler.add_patterns([{"label": "PERSON", "pattern": p} for p in ("Clearer", "Priya", "Priya Raman")])
    texts = ["Clearer skin after a week", "my skin is clearer now", "Priya Raman told me", "ask Priya about it"]
    assert Redactor(nlp=nlp).redact_many(texts) == [
        "Clearer skin after a week", "my skin is clearer now", "[NAME] told me", "ask [NAME] about it"
    ]


def test_texts_without_a_name_candidate_skip_ner():
    seen = []
    nlp = spacy.blank("en")

    @spacy.Language.component("spy")
    def spy(doc):
        seen.append(doc.text)
        return doc

    nlp.add_pipe("spy", name="ner")
    Redactor(nlp=nlp).redact_many(["love it", "I'm obsessed", "Love it. love it", "Siobhán helped me"])
    assert seen == ["Siobhán helped me"]


def test_texts_in_another_language_still_go_through_ner():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PERSON", "pattern": p} for p in ("María García", "Lucia de la Vega")])
    assert Redactor(nlp=nlp).redact_many(["Hola, soy María García y la crema me pica",
                                          "Lucia de la Vega was rude on the phone"]) == [
        "Hola, soy [NAME] y la crema me pica", "[NAME] was rude on the phone"
    ]


def test_greeted_names_are_redacted_even_when_ner_misses_them():
    from insight.core.redact import redact_greetings

    text = "Hi Guadalupe,\nThanks for waiting. Dear Mr Okafor, see below.\nHi there, Hello,\nthanks!"
    assert redact_greetings(text, set()) == (
        "Hi [NAME],\nThanks for waiting. Dear Mr Okafor, see below.\nHi there, Hello,\nthanks!"
    )
    assert redact_greetings("Dear Mr Okafor,\nyour order", set()) == "Dear Mr [NAME],\nyour order"
    assert redact_greetings("Hi Team, a question", {"team"}) == "Hi Team, a question"


def test_product_names_are_not_people_but_a_first_name_in_one_still_is():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PERSON", "pattern": p} for p in ("Cloud Moisturiser", "Priya", "Terry")])
    redactor = Redactor(nlp=nlp, product_names_loader=lambda: ["Cloud Moisturiser - 50ml", "Terry Headband"])
    assert redactor.redact_many(["Is the Cloud Moisturiser safe? Priya said so", "Terry on the phone was great"]) == [
        "Is the Cloud Moisturiser safe? [NAME] said so", "[NAME] on the phone was great"
    ]


def test_order_lines_give_the_product_names(tmp_path):
    from ingest.orders import product_names
    from insight.core.db import open_db

    db = open_db(tmp_path / "t.db")
    assert product_names(db) == []
    db.execute("INSERT INTO orders (id, platform, order_number, created_at, created_day, content_hash) "
               "VALUES (1, 'shopify', '1', '2026-11-01T10:00:00+00:00', '2026-11-01', 'h')")
    db.execute("INSERT INTO order_lines (order_id, position, name) VALUES (1, 0, 'Cloud Moisturiser - 50ml')")
    assert product_names(db) == ["Cloud Moisturiser - 50ml"]


@pytest.mark.slow
def test_the_real_model_keeps_common_nouns_it_tags_as_people():
    from insight.analysis.nlp import load_pipeline

    redactor = Redactor(nlp=load_pipeline().nlp)
    assert redactor.redact_many(["Glass jar is lovely and reusable.", "My skin reacts to everything. Fingers crossed.",
                                 "Thanks Sarah, the parcel came today."]) == [
        "Glass jar is lovely and reusable.", "My skin reacts to everything. Fingers crossed.",
        "Thanks [NAME], the parcel came today.",
    ]


def test_a_multilingual_pipeline_redacts_names_in_every_language():
    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PER", "pattern": "Lucía"}])
    assert Redactor(nlp=nlp).redact_many(["Hola, tuve una reacción con la crema y Lucía me ayudó"]) == [
        "Hola, tuve una reacción con la crema y [NAME] me ayudó"
    ]


def _ner(*people: str, nlp=None):
    """A blank pipeline whose 'ner' is an entity ruler tagging `people` as PERSON: the mistakes (and hits) of a
    small statistical model, made on purpose."""
    nlp = nlp or spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "PERSON", "pattern": p} for p in people])
    return nlp


ENGLISH = {"box", "arrived", "crushed", "stung", "hello", "world", "precision", "cooker", "zoom", "cloud",
           "moisturiser", "kettle", "dented", "madam", "sir", "leaping", "bunny", "hall", "fair", "trade", "tidy",
           "jar", "refillery", "routine", "set", "support", "disappeared"}


def test_sign_offs_on_their_own_line_and_after_a_valediction_are_names():
    # The old code left all of these: NER misses a name alone on a line or after "Cheers,".
    redactor = Redactor(nlp=_ner(), is_word=ENGLISH.__contains__)
    assert redactor.redact_many([
        "If the first box shows up I'll let you know.\nMaría",
        "Thanks for sorting it. Cheers, Holly",
        "Your refund is on its way.\nAmara\nFernleaf Support",
        "Tracking updates within 24 hours.\nJordan at Fernleaf",
        "Best,\nOluwaseun Adeyemi",
        "Thanks so much, Mateo.",
        "So I'm Tomás, I work on the research side",
        "Amara",
        "Jordan at Fernleaf",
    ]) == [
        "If the first box shows up I'll let you know.\n[NAME]",
        "Thanks for sorting it. Cheers, [NAME]",
        "Your refund is on its way.\n[NAME]\nFernleaf Support",
        "Tracking updates within 24 hours.\n[NAME] at Fernleaf",
        "Best,\n[NAME]",
        "Thanks so much, [NAME].",
        "So I'm [NAME], I work on the research side",
        "[NAME]",  # a sign-off left alone when a message is split into sentences
        "[NAME] at Fernleaf",
    ]


def test_closing_lines_that_are_not_names_stay():
    redactor = Redactor(nlp=_ner(), is_word=ENGLISH.__contains__)
    texts = ["It leaked everywhere.\nFernleaf Support", "love it\nThanks", "I'm Happy with it", "Sent from Gmail",
             "the jar is great\nsupport was slow", "Thanks!", "Fernleaf", "Amazing", "Okafor"]
    assert redactor.redact_many(texts + ["support was quick", "so happy"])[: len(texts)] == texts


def test_greetings_redact_names_that_start_with_a_non_ascii_letter():
    # The old code kept "Hi Élise," (it counted "Élise" as a lower-case word) while it redacted "Hi Elise,".
    redactor = Redactor(nlp=_ner(), is_word=ENGLISH.__contains__)
    assert redactor.redact_many(["Hi Élise,\nyour parcel left today", "Hi Elise,\nsorry", "Dear Łucja, thanks",
                                 "Hi Ömer!"]) == [
        "Hi [NAME],\nyour parcel left today", "Hi [NAME],\nsorry", "Dear [NAME], thanks", "Hi [NAME]!"
    ]


def test_words_of_other_classes_that_ner_takes_for_people_are_kept():
    # Each class the issue found, plus a member of the class it did not list; the old code redacted them all.
    mistakes = ["Leaping Bunny", "Fair Trade", "the Cloud Moisturiser", "my Routine Set", "Fernleaf", "Box",
                "Kettle", "Madam", "Sir", "Stung", "Instagram", "WhatsApp", "Zoom", "Hello World", "Gmail",
                "Precision Cooker", "Tidy Jar Refillery"]
    nlp = _ner(*mistakes, "Priya", "Holly", "Mr Hall", "Siobhán")
    redactor = Redactor(nlp=nlp, is_word=ENGLISH.__contains__,
                        product_names_loader=lambda: ["Cloud Moisturiser - 50ml", "The Routine Set", "Fernleaf Gift Card"])
    texts = [
        "Certified by Leaping Bunny and Fair Trade, love it.",
        "Is the Cloud Moisturiser safe? and my Routine Set came late",
        "How did you decide to try Fernleaf?",
        "Box arrived crushed. Kettle arrived dented.",
        "Madam, I want a refund. Sir, please help.",
        "Stung like crazy after one use.",
        "Saw it on Instagram, then asked on WhatsApp and Zoom.",
        "My Hello World test order. Sent from Gmail.",
        "Precision Cooker and Tidy Jar Refillery are my other favourites.",
    ]
    assert redactor.redact_many(texts) == texts
    assert redactor.redact_many(["Priya and Holly said Mr Hall helped", "Siobhán called"]) == [
        "[NAME] and [NAME] said [NAME] helped", "[NAME] called"
    ]


def test_an_entity_stops_at_a_line_break():
    redactor = Redactor(nlp=_ner("Ben\nFernleaf Support"), is_word=ENGLISH.__contains__)
    assert redactor.redact("Please try again now.\nBen\nFernleaf Support") == "Please try again now.\n[NAME]\nFernleaf Support"


def test_words_mostly_tagged_as_an_organisation_are_brands():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "ORG", "pattern": [{"LOWER": "glowco"}]},
                        {"label": "PERSON", "pattern": "Glowco disappeared"},
                        {"label": "PERSON", "pattern": "Okonkwo"}])
    redactor = Redactor(nlp=nlp, is_word=ENGLISH.__contains__)
    assert redactor.redact_many(["I buy from Glowco", "Glowco is great", "bought Glowco twice",
                                 "if Glowco disappeared", "Okonkwo helped"])[3:] == ["if Glowco disappeared", "[NAME] helped"]


def test_the_lexicon_comes_from_the_lemmatizer_tables():
    from spacy.lookups import Lookups

    from insight.core.name_words import _lexicon_from_tables, spacy_lexicon

    lookups = Lookups()
    lookups.add_table("lemma_index", {"noun": ["box", "kettle"], "verb": ["arrive", "crush"]})
    lookups.add_table("lemma_exc", {"verb": {"stung": ["sting"]}})
    lookups.add_table("lemma_rules", {"verb": [["ed", "e"], ["ed", ""]], "noun": [["es", ""], ["s", ""]]})
    is_word = _lexicon_from_tables(lookups)
    assert [w for w in ("Box", "boxes", "arrived", "crushed", "Stung", "sting", "Priya", "ed") if is_word(w)] == [
        "Box", "boxes", "arrived", "crushed", "Stung", "sting"
    ]  # "sting": the base form of an irregular one
    assert spacy_lexicon(spacy.blank("en"))("box") is False


@pytest.mark.slow
def test_the_real_model_on_the_words_the_issue_found():
    from insight.analysis.nlp import load_pipeline

    redactor = Redactor(nlp=load_pipeline().nlp, product_names_loader=lambda: ["Cloud Moisturiser - 50ml"])
    kept = ["Box arrived crushed.", "Stung like crazy.", "Sent from Gmail", "Is the Cloud Moisturiser safe?",
            "Madam, I want a refund.", "We spoke on Zoom yesterday", "Certified by Leaping Bunny."]
    assert redactor.redact_many(kept) == kept
    assert redactor.redact_many(["Hi Élise,\nthanks", "Let me know.\nMaría", "Cheers, Holly"]) == [
        "Hi [NAME],\nthanks", "Let me know.\n[NAME]", "Cheers, [NAME]"
    ]


@pytest.mark.slow
def test_the_real_model_on_the_hand_labelled_fixture(fixtures):
    """tests/fixtures/redaction/names.json: texts with the names they hold. With the old code the small model
    left 10 of its 22 names and redacted 8 words that name no one."""
    import json
    import re

    from insight.analysis.nlp import load_pipeline

    items = json.loads((fixtures / "redaction" / "names.json").read_text())
    redactor = Redactor(nlp=load_pipeline().nlp,
                        product_names_loader=lambda: ["Cloud Moisturiser - 50ml", "Fernleaf Gift Card"])
    out = redactor.redact_many([item["text"] for item in items])
    words = re.compile(r"[^\W\d_][\w'’-]*")
    left = wrong = 0
    for item, redacted in zip(items, out, strict=True):
        kept = set(words.findall(redacted))
        left += sum(1 for name in item["names"] if name in kept)
        wrong += sum(1 for w in words.findall(item["text"]) if w not in kept and w not in item["names"])
    total = sum(len(item["names"]) for item in items)
    assert wrong == 0 and left <= total // 10


def test_given_names_come_from_a_permissive_name_list():
    """Faker's first-name lists (MIT) replace gender-guesser (GPLv3): names of many countries, accents folded."""
    import importlib.metadata

    from insight.core.name_words import given_names, known_first_name

    assert all(known_first_name(n) for n in ["Siobhán", "Siobhan", "Tomás", "Priya", "Aoife", "Holly", "Amara",
                                             "Chinedu", "Grzegorz", "Zoë", "Mateo", "Yuki"])
    assert not any(known_first_name(w) for w in ["Box", "Stung", "Precision", "Cooker", "Refillery", "Moisturiser"])
    assert len(given_names()) > 15_000
    assert "GPL" not in (importlib.metadata.metadata("faker").get("License") or "")


def test_order_numbers_before_dates_and_phones_before_numbers():
    """Found by the property tests: '#131000 01/01/2000' read as a phone; '+44 7400 120000 1328' as a card."""
    from insight.core.redact import redact_patterns

    assert redact_patterns("#131000 01/01/2000") == "#131000 01/01/2000"
    assert redact_patterns("+44 7400 120000 1328") == "[PHONE] 1328"
    assert redact_patterns("# +44 7400 120000 0") == "# [PHONE] 0"
    assert redact_patterns("card 4111 1111 1111 1111") == "card [CARD]"
