"""Sentiment per mention: a small linear head over the mention vectors the themes pipeline already has.

The head is a multinomial logistic regression (negative / neutral / positive, or negative / positive when trained
on binary labels only) stored as plain numbers in JSON, so scoring is one matrix product in numpy: no sklearn and
no model call at run time, because the vectors come from the embedding cache. score = P(positive) - P(negative),
in -1..+1; a mention is neutral when |score| is inside the head's neutral band (chosen by cross-validation on the
training data, see insight/analysis/sentiment_train.py). The shipped weights fit all-MiniLM-L6-v2 only; for another
embedding model `SentimentHead.load` returns None and callers use `fallback_sentiment` (the VADER lexicon).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from insight.analysis.embed import _DEFAULT_ALIASES, DEFAULT_MODEL_NAME
from insight.analysis.sentiment_context import ContextFit, in_document_context
from insight.core.errors import InvalidValue

DEFAULT_MODEL = DEFAULT_MODEL_NAME
SHIPPED_HEAD = "sentiment-all-MiniLM-L6-v2.json"  # in insight/analysis/models/
HEAD_ENV_VAR = "INSIGHT_SENTIMENT_HEAD"  # a head the user trained, used instead of the shipped one
FORMAT = "insight-sentiment-head/1"
LABELS = ("negative", "neutral", "positive")
# VADER's own documented cut-offs for its compound score (README of vaderSentiment): >= 0.05 positive,
# <= -0.05 negative, neutral between.
VADER_NEUTRAL = 0.05
# Star prior: a review's stars are the author's own verdict on the text, so for a one-mention review they weigh
# as much as the head's reading of it (the two scores are averaged).
STAR_WEIGHT = 0.5


@dataclass(frozen=True)
class Sentiment:
    label: str  # 'negative' | 'neutral' | 'positive'
    score: float  # -1 (negative) .. +1 (positive)


def label_for(score: float, band: float) -> str:
    """The label of a score: neutral inside (-band, +band)."""
    if score >= band:
        return "positive"
    if score <= -band:
        return "negative"
    return "neutral"


def _same_model(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    return a == b or (a in _DEFAULT_ALIASES and b in _DEFAULT_ALIASES)


def _warn(message: str) -> None:
    print(f"insight: {message}", file=sys.stderr)


@dataclass(frozen=True)
class SentimentHead:
    """Loaded weights for one embedding model: coef (k x d), intercept (k), classes, neutral band."""

    model: str
    classes: tuple[str, ...]  # subset of LABELS, in coef row order
    coef: np.ndarray
    intercept: np.ndarray
    band: float
    meta: dict[str, Any]
    lexicon_scale: float = 0.0  # > 0: the head also reads LEXICON_FEATURES of the text, times this

    @property
    def dim(self) -> int:
        """Dimensions of the vectors it takes (the lexicon features come on top)."""
        return int(self.coef.shape[1]) - (len(LEXICON_FEATURES) if self.lexicon_scale else 0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentimentHead:
        if data.get("format") != FORMAT:
            raise InvalidValue(f"not a sentiment head (format {data.get('format')!r}, expected {FORMAT!r})")
        classes = tuple(data["classes"])
        if not set(classes) <= set(LABELS) or not {"negative", "positive"} <= set(classes):
            raise InvalidValue(f"classes {list(classes)} must include negative and positive, and be among {LABELS}")
        coef = np.asarray(data["coef"], dtype=np.float32)
        intercept = np.asarray(data["intercept"], dtype=np.float32)
        scale = float(data.get("lexicon_scale", 0.0))
        extra = len(LEXICON_FEATURES) if scale else 0
        if (coef.ndim != 2 or coef.shape[0] != len(classes) or intercept.shape != (len(classes),)
                or coef.shape[1] != int(data.get("dim", coef.shape[1] - extra)) + extra):
            raise InvalidValue(f"coef {coef.shape} / intercept {intercept.shape} do not match {len(classes)} classes")
        return cls(str(data["model"]), classes, coef, intercept, float(data["band"]), dict(data.get("meta", {})),
                   scale)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model,
            "dim": self.dim,
            "classes": list(self.classes),
            "band": self.band,
            "lexicon_scale": self.lexicon_scale,
            "coef": [[round(float(x), 6) for x in row] for row in self.coef],
            "intercept": [round(float(x), 6) for x in self.intercept],
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path | None = None, model_name: str = DEFAULT_MODEL) -> SentimentHead | None:
        """The head at `path` (default: $INSIGHT_SENTIMENT_HEAD, else the one shipped in the package, read
        offline), if it fits `model_name`.

        Returns None, with a one-line message on stderr, when the weights were trained on another embedding model
        (name differs) or cannot be read: the caller then uses `fallback_sentiment`. A dimension mismatch with the
        actual vectors is caught again by `score`.
        """
        path = path or os.environ.get(HEAD_ENV_VAR) or None
        try:
            if path is None:
                text = resources.files("insight.analysis").joinpath("models", SHIPPED_HEAD).read_text(encoding="utf-8")
                where = f"insight/analysis/models/{SHIPPED_HEAD}"
            else:
                text = Path(path).read_text(encoding="utf-8")
                where = str(path)
            head = cls.from_dict(json.loads(text))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _warn(f"sentiment head {path or SHIPPED_HEAD} unusable ({exc}); using the VADER lexicon instead")
            return None
        if not _same_model(head.model, model_name):
            _warn(
                f"sentiment head {where} was trained on {head.model} vectors, not {model_name}; using the VADER "
                f"lexicon instead (train a head for this model with `insight sentiment train LABELS.tsv --model "
                f"{model_name}`)"
            )
            return None
        return head

    def probabilities(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """(n x len(classes)) class probabilities (softmax of the linear scores). A head with lexicon features
        needs the mentions' `texts` too."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or (vectors.shape[0] and vectors.shape[1] != self.dim):
            raise ValueError(f"sentiment head for {self.model} expects {self.dim}-d vectors, got shape {vectors.shape}")
        if self.lexicon_scale:
            if texts is None or len(texts) != vectors.shape[0]:
                raise ValueError("this sentiment head reads the texts too (lexicon features): pass them")
            vectors = np.hstack([vectors, lexicon_features(texts) * self.lexicon_scale])
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def raw_scores(self, vectors: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """P(positive) - P(negative) per vector, in -1..+1."""
        probs = self.probabilities(vectors, texts)
        return probs[:, self.classes.index("positive")] - probs[:, self.classes.index("negative")]

    @property
    def score_noise(self) -> float | None:
        """The cross-validated mean squared error of its scores (heads trained before it was kept: None)."""
        value = self.meta.get("cv", {}).get("score_noise")
        return float(value) if isinstance(value, (int, float)) and value > 0 else None

    def score(self, vectors: np.ndarray, texts: list[str] | None = None) -> list[Sentiment]:
        """One Sentiment per row of `vectors` (L2-normalised embeddings of this head's model; with `texts`
        when the head reads lexicon features)."""
        return [Sentiment(label_for(float(s), self.band), round(float(s), 4))
                for s in self.raw_scores(vectors, texts)]


def with_star_prior(sentiment: Sentiment, rating: float | None, band: float | None = None) -> Sentiment:
    """For a review with stars (1-5) and ONE mention: the stars are a prior on that mention's sentiment.

    Stars map linearly to -1..+1 (1 -> -1, 3 -> 0, 5 -> +1) and are averaged with the head's score
    (STAR_WEIGHT); the label is read from the combined score with the same neutral band (default: the shipped
    head's). No rating (or one outside 1-5) leaves the sentiment as it is. Callers apply it only to one-mention
    reviews: in a longer review the stars judge the whole, not each sentence.
    """
    if rating is None or not 1 <= float(rating) <= 5:
        return sentiment
    stars = (float(rating) - 3.0) / 2.0
    combined = (1 - STAR_WEIGHT) * sentiment.score + STAR_WEIGHT * stars
    if band is None:
        band = _shipped_band()
    return Sentiment(label_for(combined, band), round(combined, 4))


@lru_cache(maxsize=1)
def _shipped_band() -> float:
    try:
        text = resources.files("insight.analysis").joinpath("models", SHIPPED_HEAD).read_text(encoding="utf-8")
        return float(json.loads(text)["band"])
    except (OSError, ValueError, KeyError):
        return 0.3


_VADER: Any = None
# What the VADER lexicon reads in a text (its negation, intensifier and "but" rules included), fed to a head
# beside the vector: a sentence model's vector blurs "not good" with "good"; the lexicon does not.
LEXICON_FEATURES = ("compound", "pos", "neg", "neu")


def _vader() -> Any:
    global _VADER
    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    return _VADER


def lexicon_features(texts: list[str]) -> np.ndarray:
    """(n x 4) VADER's compound, positive, negative and neutral scores per text."""
    vader = _vader()
    rows = [vader.polarity_scores(text or "") for text in texts]
    return np.array([[row[k] for k in LEXICON_FEATURES] for row in rows], dtype=np.float32).reshape(-1, 4)


def fallback_sentiment(texts: list[str], quiet: bool = False) -> list[Sentiment]:
    """VADER lexicon sentiment, for when the embedding model has no trained head (weaker: see README)."""
    if _VADER is None and not quiet:
        _warn("sentiment from the VADER lexicon (no trained head for this embedding model)")
    vader = _vader()
    out = []
    for text in texts:
        compound = float(vader.polarity_scores(text or "")["compound"])
        out.append(Sentiment(label_for(compound, VADER_NEUTRAL), round(compound, 4)))
    return out


@dataclass(frozen=True)
class ScopeSentiment:
    """A scope's mentions read by `scorer_for`: one (label, score) per mention, what read them, and how the
    document context moved them (None: not used), so a run can say how its sentiment was arrived at."""

    readings: list[tuple[str, float]]
    reader: str  # "head" (the trained head) | "lexicon" (VADER: no head fits the embedding model)
    context: ContextFit | None = None

    def report(self) -> dict[str, Any]:
        counts = {label: 0 for label in LABELS}
        for label, _ in self.readings:
            counts[label] += 1
        context = self.context
        return {**counts, "reader": self.reader,
                "context_weight": context.weight if context else None,
                "context_documents": context.documents if context else 0,
                "context_adjusted": context.adjusted if context else 0}


def scorer_for(model_name: str, head_path: str | Path | None = None):
    """The themes pipeline's scorer for vectors of `model_name`: (vectors, texts, star priors, documents) ->
    ScopeSentiment. The trained head when one fits the model, else the VADER lexicon (with a message). With the
    mentions' document ids, the head's unsure readings are read in their document's context
    (insight/analysis/sentiment_context.py; the lexicon has no noise figure, so it is not)."""
    head = SentimentHead.load(head_path, model_name=model_name)

    def score(vectors: np.ndarray, texts: list[str], priors: list[float | None],
              documents: list[int] | None = None) -> ScopeSentiment:
        found = head.score(vectors, list(texts)) if head is not None else fallback_sentiment(list(texts))
        forced = [says_nothing(text) for text in texts]
        found = [Sentiment("neutral", 0.0) if nothing else one for one, nothing in zip(found, forced, strict=True)]
        band = head.band if head is not None else VADER_NEUTRAL
        fit = None
        if head is not None and documents is not None:
            adjusted, fit = in_document_context([s.score for s in found], documents, head.score_noise, forced)
            found = [Sentiment(label_for(float(x), band), round(float(x), 4)) for x in adjusted]
        readings = [(s.label, s.score) for s in (with_star_prior(one, prior, band) for one, prior in
                                                 zip(found, priors, strict=True))]
        return ScopeSentiment(readings, "head" if head is not None else "lexicon", fit)

    return score


# "Nothing…", "nope", "n/a" answer the question with nothing; a bare "no" does only as a phrase of its own
# ("No.", "No, I was always going to buy"): "No bass sound at all" is a complaint, "No viruses!" praise, and
# "None of the techs knew" a complaint.
_SAYS_NOTHING = re.compile(
    r"^\W*(?:(?:nothing|nope|nah|not really|not a thing|n/?a)\b|none\b(?!\s+of\b)|"
    r"no(?:\s+(?:really|at all|honestly|whatsoever|tbh|lol))?\s*(?:[,.!;:\-\u2013\u2014)]|$))", re.I)
_BUT = re.compile(r"\b(?:but|except|apart from|other than|besides|only|though)\b", re.I)


def says_nothing(text: str) -> bool:
    """'Nothing, I was always going to buy' answers a question ("what almost stopped you?") with no complaint:
    neutral, whatever the negation reads like to a sentence model. 'Nothing but the price' is not."""
    return bool(_SAYS_NOTHING.match(text)) and not _BUT.search(text)
