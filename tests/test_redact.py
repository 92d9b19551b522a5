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
