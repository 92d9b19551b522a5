"""A mention's sentiment read in its document: shrink an unsure reading toward the document's tone.

A sentence such as "My MacBook Pro is no exception." or "It took some getting used to." says little on its own;
in a review whose other sentences rave, it is praise. The head scores each mention alone, so the document's
other mentions are evidence it never sees. This is the classic empirical-Bayes (James-Stein) estimate:

    adjusted = document mean + w * (own score - document mean),   w = tau^2 / (tau^2 + sigma^2)

- sigma^2, the head's own noise: the mean squared error of its cross-validated scores against the training
  labels (-1 / 0 / +1), stored with the head (`meta.cv.score_noise`) by insight/analysis/sentiment_train.py;
- tau^2 + sigma^2, the spread of mentions around their document's mean, measured on the scope's own scores
  (unbiased, pooled over documents with two or more analysed mentions): no label of the user's data is read.

So the weight comes from the data in hand (one per scope): a scope whose documents hold one tone throughout leans
on the document more; one whose documents wander keeps more of each mention's own reading. Three guards:
- a mention the head reads confidently (|score| >= CONFIDENT: in cross-validation on the training data such
  readings are almost never wrong) keeps its own score, so one clear complaint in a glowing review stays negative;
- w never drops below MIN_OWN_WEIGHT: a mention's own words always count;
- with fewer than MIN_DOCUMENTS multi-mention documents the spread cannot be measured, and nothing changes.
One-mention documents are never changed (their stars, when they have some, are the prior instead:
insight.analysis.sentiment.with_star_prior).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONFIDENT = 0.9
MIN_OWN_WEIGHT = 0.25
MIN_DOCUMENTS = 20


@dataclass(frozen=True)
class ContextFit:
    weight: float | None  # w above; None when the context was not used
    documents: int  # documents with two or more analysed mentions
    adjusted: int  # mentions whose score changed


def within_document_spread(scores: np.ndarray, documents: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, int]:
    """Pooled unbiased variance of scores around their document's mean, over documents with two or more
    scores; with each score's document mean, which scores are in such a document, and how many such documents
    there are. Vectorised: a scope can hold a million mentions."""
    _, inverse = np.unique(documents, return_inverse=True)
    counts = np.bincount(inverse)
    means = (np.bincount(inverse, weights=scores) / counts)[inverse]
    shared = counts[inverse] >= 2
    freedom = int((counts[counts >= 2] - 1).sum())
    spread = float(((scores - means)[shared] ** 2).sum()) / freedom if freedom else 0.0
    return spread, means, shared, int((counts >= 2).sum())


def in_document_context(scores: Sequence[float], documents: Sequence[int], noise: float | None,
                        fixed: Sequence[bool] | None = None) -> tuple[np.ndarray, ContextFit]:
    """Scores shrunk toward their document's mean (see the module docstring); `fixed` mentions (a forced
    reading such as "Nothing, I was always going to buy") neither move nor count toward the mean."""
    values = np.asarray(scores, dtype=np.float64)
    out = values.copy()
    usable = ~np.asarray(fixed, dtype=bool) if fixed is not None else np.ones(len(values), dtype=bool)
    if not usable.any():
        return out, ContextFit(None, 0, 0)
    own = values[usable]
    spread, means, shared, documents_shared = within_document_spread(own, np.asarray(documents)[usable])
    if noise is None or noise <= 0 or documents_shared < MIN_DOCUMENTS:
        return out, ContextFit(None, documents_shared, 0)
    weight = max(MIN_OWN_WEIGHT, min(1.0, 1.0 - noise / spread)) if spread > 0 else 1.0
    moved = shared & (np.abs(own) < CONFIDENT)
    adjusted = own.copy()
    adjusted[moved] = means[moved] + weight * (own[moved] - means[moved])
    out[usable] = adjusted
    return out, ContextFit(round(weight, 4), documents_shared, int(np.sum(out != values)))
