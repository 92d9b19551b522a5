import pytest
import spacy

from insight.redact import Redactor, redact_patterns


def test_patterns_redact_contact_details_but_not_orders_or_dates():
    text = "email jo.b@example.com or call 07700 900123 / +1 (555) 123-4567; card 4111 1111 1111 1111"
    assert redact_patterns(text) == "email [EMAIL] or call [PHONE] / [PHONE]; card [CARD]"
    kept = "order #100234 on 2026-10-03 cost $45.00, 3 items"
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
    from insight.redact import redact_greetings

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
    from insight.db import open_db

    db = open_db(tmp_path / "t.db")
    assert product_names(db) == []
    db.execute("INSERT INTO orders (id, platform, order_number, created_at, created_day, content_hash) "
               "VALUES (1, 'shopify', '1', '2026-11-01T10:00:00+00:00', '2026-11-01', 'h')")
    db.execute("INSERT INTO order_lines (order_id, position, name) VALUES (1, 0, 'Cloud Moisturiser - 50ml')")
    assert product_names(db) == ["Cloud Moisturiser - 50ml"]


@pytest.mark.slow
def test_the_real_model_keeps_common_nouns_it_tags_as_people():
    from insight.nlp import load_pipeline

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
