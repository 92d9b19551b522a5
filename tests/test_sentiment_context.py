"""A mention's sentiment in its document's context: the empirical-Bayes shrinkage and its guards."""

from __future__ import annotations

import numpy as np
import pytest

from insight.analysis.sentiment import SentimentHead, scorer_for
from insight.analysis.sentiment_context import (
    CONFIDENT,
    MIN_DOCUMENTS,
    MIN_OWN_WEIGHT,
    in_document_context,
    within_document_spread,
)


def rave_reviews(n: int, unsure: float = 0.1) -> tuple[list[float], list[int]]:
    """n reviews of three mentions: two clear praise (0.8, 0.6) and one unsure reading."""
    scores, documents = [], []
    for doc in range(n):
        scores += [0.8, 0.6, unsure]
        documents += [doc, doc, doc]
    return scores, documents


def test_an_unsure_mention_in_a_glowing_review_leans_positive():
    scores, documents = rave_reviews(MIN_DOCUMENTS)
    adjusted, fit = in_document_context(scores, documents, noise=0.05)
    assert fit.weight is not None and MIN_OWN_WEIGHT <= fit.weight < 1
    assert fit.documents == MIN_DOCUMENTS
    # the unsure third mention moves toward the review's mean (0.5), the others toward it too, order kept
    assert 0.1 < adjusted[2] < 0.5
    assert 0.5 < adjusted[1] < 0.6 and 0.5 < adjusted[0] < 0.8
    assert adjusted[0] > adjusted[1] > adjusted[2]


def test_the_weight_is_one_minus_noise_over_the_spread():
    scores, documents = rave_reviews(MIN_DOCUMENTS)
    spread, means, shared, shared_documents = within_document_spread(np.array(scores), np.array(documents))
    assert shared.all() and shared_documents == MIN_DOCUMENTS and means[:3] == pytest.approx([0.5, 0.5, 0.5])
    assert spread == pytest.approx(np.var([0.8, 0.6, 0.1], ddof=1))
    _, fit = in_document_context(scores, documents, noise=0.05)
    assert fit.weight == pytest.approx(1 - 0.05 / spread, abs=1e-4)


def test_a_confident_complaint_in_a_glowing_review_stays_a_complaint():
    scores, documents = rave_reviews(MIN_DOCUMENTS, unsure=-0.95)
    adjusted, _ = in_document_context(scores, documents, noise=0.3)
    assert abs(-0.95) >= CONFIDENT
    assert adjusted[2] == pytest.approx(-0.95)


def test_noisy_heads_never_drown_a_mentions_own_words():
    scores, documents = rave_reviews(MIN_DOCUMENTS)
    _, fit = in_document_context(scores, documents, noise=10.0)
    assert fit.weight == MIN_OWN_WEIGHT


def test_one_mention_documents_too_few_documents_or_no_noise_change_nothing():
    single = [0.2, -0.3, 0.1] * MIN_DOCUMENTS
    adjusted, fit = in_document_context(single, list(range(len(single))), noise=0.2)
    assert fit.weight is None and list(adjusted) == single
    few, few_docs = rave_reviews(MIN_DOCUMENTS - 1)
    adjusted, fit = in_document_context(few, few_docs, noise=0.2)
    assert fit.weight is None and list(adjusted) == few
    many, many_docs = rave_reviews(MIN_DOCUMENTS)
    adjusted, fit = in_document_context(many, many_docs, noise=None)
    assert fit.weight is None and list(adjusted) == many


def test_fixed_mentions_neither_move_nor_count():
    scores, documents = rave_reviews(MIN_DOCUMENTS, unsure=-0.5)
    fixed = [False, False, True] * MIN_DOCUMENTS
    adjusted, fit = in_document_context(scores, documents, noise=0.01, fixed=fixed)
    assert adjusted[2] == -0.5
    # with the third mention out, each review's mean is 0.7 and its two mentions stay on either side of it
    assert 0.7 < adjusted[0] <= 0.8 and 0.6 <= adjusted[1] < 0.7


def test_the_shipped_head_keeps_its_noise_and_the_scorer_reads_documents():
    head = SentimentHead.load()
    assert head is not None and head.score_noise is not None and 0 < head.score_noise < 1
    score = scorer_for(head.model)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, head.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = ["Nothing, I was always going to buy."] + ["It came on Tuesday."] * 5
    read = score(vectors, texts, [None] * 6, [0, 0, 1, 1, 2, 2])
    found = read.readings
    assert len(found) == 6 and all(label in {"negative", "neutral", "positive"} for label, _ in found)
    assert found[0] == ("neutral", 0.0)
    # the run can say how it read them: two documents of two read mentions (the forced one is left out) are
    # too few for the context
    report = read.report()
    assert read.reader == "head" and report["context_weight"] is None and report["context_documents"] == 2
    assert report["positive"] + report["neutral"] + report["negative"] == 6


def test_a_run_says_how_it_read_sentiment():
    from insight.analysis.sentiment import ScopeSentiment
    from insight.analysis.sentiment_context import ContextFit
    from insight.commands.themes import sentiment_line

    read = ScopeSentiment([("positive", 0.6), ("negative", -0.4), ("positive", 0.3)], "head", ContextFit(0.47, 25, 2))
    report = read.report()
    assert (report["positive"], report["neutral"], report["negative"]) == (2, 0, 1)
    assert "2 positive, 0 neutral, 1 negative" in sentiment_line(report)
    assert "25 documents" in sentiment_line(report) and "own weight 0.47" in sentiment_line(report)
    alone = ScopeSentiment([("neutral", 0.0)], "head", ContextFit(None, 3, 0)).report()
    assert "read alone" in sentiment_line(alone) and "too few" in sentiment_line(alone)
    assert "VADER" in sentiment_line(ScopeSentiment([("neutral", 0.0)], "lexicon").report())
