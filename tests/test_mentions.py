"""Mentions: passages split into sentences and clauses; courtesies kept as context; old databases re-derived."""

from __future__ import annotations

import pytest
import spacy
from spacy.tokens import Doc

from ingest.mentions import FRAGMENT, GREETING, SIGN_OFF, THANKS, MentionSplitter, context_of, split_doc
from ingest.model import DocumentDraft, ImportOptions, ParsedFile, UnitDraft
from ingest.store import rederive_mentions, store_parsed
from insight.core.redact import Redactor


def split(text: str, nlp=None) -> list[tuple[str, str | None]]:
    return [(m.text, m.context) for m in MentionSplitter(nlp=nlp).split_many([text])[0]]


def test_courtesies_are_context_and_content_is_not():
    assert context_of("Thanks!") == THANKS
    assert context_of("Thank you so much for your help") == THANKS
    assert context_of("Thanks, Holly!") == THANKS
    assert context_of("Hi Élise") == GREETING
    assert context_of("Hello team") == GREETING
    assert context_of("Cheers, Holly") == SIGN_OFF
    assert context_of("Best regards") == SIGN_OFF
    assert context_of("...") == FRAGMENT
    assert context_of("Thanks, the serum really works") is None
    assert context_of("Hi, my parcel never came") is None
    assert context_of("Nothing, I was always going to buy") is None


def test_rule_based_split_without_a_parser():
    assert split("Thanks!") == [("Thanks!", THANKS)]
    assert split("Great moisturizer but ordering took 3 weeks") == [
        ("Great moisturizer", None), ("but ordering took 3 weeks", None)]
    assert split("Hi Élise,\nThe pump leaks. Can you send a new one?\nThanks,\nMaría") == [
        ("Hi Élise,", GREETING), ("The pump leaks.", None), ("Can you send a new one?", None),
        ("Thanks,", THANKS), ("María", SIGN_OFF)]
    # a contrast word ending the sentence, or a piece too short to stand alone, is not split off
    assert split("It works though") == [("It works though", None)]
    assert split("Great serum but pricey") == [("Great serum but pricey", None)]


@pytest.mark.slow
def test_parsed_split_finds_clauses_with_their_own_subject(nlp_sm):
    # the customer's own punctuation stays with the mention (the passage reads back from its mentions)
    assert [t for t, _ in split("Slow shipping, good sunscreen.", nlp_sm)] == ["Slow shipping,", "good sunscreen."]
    assert [t for t, _ in split("The serum is great and the pump leaks", nlp_sm)] == [
        "The serum is great", "and the pump leaks"]
    assert split("After two weeks, my skin is better.", nlp_sm) == [("After two weeks, my skin is better.", None)]
    assert split("Ok. The box arrived crushed.", nlp_sm) == [("Ok. The box arrived crushed.", None)]
    # a clause that goes on about what the sentence already named is the same topic, qualified
    assert len(split("I loaded the new drivers and it works flawlessly!", nlp_sm)) == 1
    assert len(split("The battery doesn't last long but a new battery would solve that.", nlp_sm)) == 1
    # "and <clause>" with a pronoun subject goes on about the same thing, whatever nouns follow
    assert len(split("I put that free app on for word processing and it works like a charm.", nlp_sm)) == 1
    assert [t for t, _ in split("The cream is lovely and the delivery was quick.", nlp_sm)] == [
        "The cream is lovely", "and the delivery was quick."]


def tagged(words: list[str], pos: list[str]) -> Doc:
    """A doc tagged by hand (no model): the topic rule needs parts of speech only."""
    return Doc(spacy.blank("en").vocab, words=words, pos=pos, sent_starts=[True] + [False] * (len(words) - 1))


def test_a_contrast_splits_only_where_the_clause_names_a_thing_of_its_own():
    two_topics = tagged(["Great", "moisturizer", "but", "ordering", "took", "three", "weeks"],
                        ["ADJ", "NOUN", "CCONJ", "NOUN", "VERB", "NUM", "NOUN"])
    assert split_doc(two_topics) == ["Great moisturizer", "but ordering took three weeks"]
    qualified = tagged(["The", "screen", "is", "bright", "but", "the", "screen", "scratches", "easily"],
                       ["DET", "NOUN", "AUX", "ADJ", "CCONJ", "DET", "NOUN", "VERB", "ADV"])
    assert split_doc(qualified) == ["The screen is bright but the screen scratches easily"]


def parsed(words: list[str], pos: list[str], heads: list[int], deps: list[str]) -> Doc:
    """A doc parsed by hand (no model): heads are absolute token indices."""
    return Doc(spacy.blank("en").vocab, words=words, pos=pos, heads=heads, deps=deps,
               sent_starts=[True] + [False] * (len(words) - 1))


def test_an_and_clause_splits_only_where_its_subject_is_a_new_thing():
    new_subject = parsed(["The", "cream", "is", "lovely", "and", "the", "delivery", "was", "quick"],
                         ["DET", "NOUN", "AUX", "ADJ", "CCONJ", "DET", "NOUN", "AUX", "ADJ"],
                         [1, 2, 2, 2, 2, 6, 7, 2, 7],
                         ["det", "nsubj", "ROOT", "acomp", "cc", "det", "nsubj", "conj", "acomp"])
    assert split_doc(new_subject) == ["The cream is lovely", "and the delivery was quick"]
    # "it" refers back: the new noun ("charm") is not what the clause is about
    pronoun = parsed(["I", "love", "this", "cream", "and", "it", "works", "like", "a", "charm"],
                     ["PRON", "VERB", "DET", "NOUN", "CCONJ", "PRON", "VERB", "ADP", "DET", "NOUN"],
                     [1, 1, 3, 1, 1, 6, 1, 6, 9, 7],
                     ["nsubj", "ROOT", "det", "dobj", "cc", "nsubj", "conj", "prep", "det", "pobj"])
    assert split_doc(pronoun) == ["I love this cream and it works like a charm"]
    # a contrast needs only a new noun in its clause: "but" marks the turn itself
    contrast = parsed(["I", "love", "this", "cream", "but", "it", "took", "three", "weeks"],
                      ["PRON", "VERB", "DET", "NOUN", "CCONJ", "PRON", "VERB", "NUM", "NOUN"],
                      [1, 1, 3, 1, 1, 6, 1, 8, 6],
                      ["nsubj", "ROOT", "det", "dobj", "cc", "nsubj", "conj", "nummod", "dobj"])
    assert split_doc(contrast) == ["I love this cream", "but it took three weeks"]


def _review(text: str, external_id: str = "r1") -> ParsedFile:
    doc = DocumentDraft("review", external_id, created_at="2026-10-03T10:00:00",
                        units=[UnitDraft(text=text, kind="review")])
    return ParsedFile("reviews.csv", "review", "generic_review_csv", [doc], rows_read=1)


def test_store_splits_a_two_topic_review_and_stays_idempotent(db, clock, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("x")
    parsed = _review("Great moisturizer but ordering took 3 weeks. Thanks!")
    parsed.path = str(path)
    first = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    rows = db.execute("SELECT text, analyse, context, passage FROM units ORDER BY position").fetchall()
    assert rows == [("Great moisturizer", 1, None, 0), ("but ordering took 3 weeks.", 1, None, 0),
                    ("Thanks!", 0, THANKS, 0)]
    assert (first.units, first.mentions) == (1, 3)
    again = store_parsed(db, parsed, ImportOptions(), Redactor(), clock)
    assert (again.imported, again.updated, again.duplicates) == (0, 0, 1)
    assert db["units"].count == 3


def test_an_old_database_is_rederived_without_losing_text(db, clock, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("x")
    parsed = _review("Great moisturizer but ordering took 3 weeks.")
    parsed.path = str(path)
    store_parsed(db, parsed, ImportOptions(keep_raw=True), Redactor(), clock)
    # as a database from before mentions: one whole unit, no splitter version
    doc_id = db.execute("SELECT id FROM documents").fetchone()[0]
    db.execute("DELETE FROM units")
    db.execute("""INSERT INTO units (document_id, position, kind, role, analyse, text, raw_text, text_hash)
                  VALUES (?, 0, 'review', 'customer', 1, ?, ?, 'h')""",
               [doc_id, "Great moisturizer but ordering took 3 weeks.", "raw"])
    db.execute("UPDATE documents SET mentions_version = NULL")
    db.conn.commit()
    assert rederive_mentions(db, MentionSplitter()) == 1
    rows = db.execute("SELECT text, raw_text, passage FROM units ORDER BY position").fetchall()
    assert rows == [("Great moisturizer", "raw", 0), ("but ordering took 3 weeks.", None, 0)]
    assert rederive_mentions(db, MentionSplitter()) == 0
    hits = db.execute("SELECT COUNT(*) FROM units_fts WHERE units_fts MATCH 'ordering'").fetchone()[0]
    assert hits == 1


def test_low_information_mentions_are_told_from_ones_that_name_something():
    from insight.analysis.general_mentions import is_low_information

    for text in ("Love it!", "Great product, will buy again", "Merry Christmas guys!", "You guys rock"):
        assert is_low_information(text), text
    for text in ("Love this serum", "fast shipping", "Nothing", "not really", "great quality"):
        assert not is_low_information(text), text


def test_redaction_and_splitting_run_before_the_write_lock_is_taken(db, clock, tmp_path):
    """A second import (or a reader) must not wait on spaCy: the slow work happens outside the transaction."""
    seen: list[bool] = []

    class Watching(Redactor):
        def redact_many(self, texts):
            seen.append(db.conn.in_transaction)
            return super().redact_many(texts)

    path = tmp_path / "reviews.csv"
    path.write_text("x")
    parsed = _review("Great moisturizer but ordering took 3 weeks.")
    parsed.path = str(path)
    store_parsed(db, parsed, ImportOptions(), Watching(), clock)
    assert seen == [False]


def test_a_leading_sentence_without_words_joins_the_next_one():
    from ingest.mentions import _merge_empty_sentences

    # A parser can cut "... here.\n. (#1)" so that the first piece has no word: it joins the next one, and no
    # sentence is lost or repeated (this raised IndexError on two pieces and dropped the third of three).
    assert _merge_empty_sentences([":)", "Card arrived."]) == [":) Card arrived."]
    assert _merge_empty_sentences(["...", "Card arrived.", "Thanks."]) == ["... Card arrived.", "Thanks."]
    assert _merge_empty_sentences(["Card arrived.", "!!"]) == ["Card arrived. !!"]
