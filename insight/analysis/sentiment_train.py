"""Training a sentiment head on labelled sentences: read labels, embed (through the cache), fit, cross-validate.

The head is scikit-learn's multinomial LogisticRegression over the sentence vectors; only its numbers are kept
(insight/analysis/sentiment.py scores with numpy). Two choices are made by 5-fold cross-validation on the training data
alone, never on an evaluation set:
- C (regularisation), by out-of-fold log-loss, so probabilities stay calibrated (the neutral band reads them);
- the neutral band: with neutral examples, the |P(pos) - P(neg)| cut that maximises out-of-fold macro-F1 over the
  three classes; with binary labels only there is nothing to tune it on, so the band is 1/3 (a mention is neutral
  unless one side is at least twice as likely as the other: P >= 2/3).

The shipped head is `python -m insight.analysis.sentiment_train DATA_DIR` (DATA_DIR = ../shared/data): the 3,000 UCI
sentiment labelled sentences (Amazon, Yelp, IMDb; 1 positive, 0 negative) plus weakly-labelled neutral examples:
HWU64 requests to a home assistant (questions and commands: weather, alarms, calendar, facts...), keeping only
scenarios that carry no opinion (not 'general', not music likes) and only texts in which VADER's lexicon finds
no sentiment word (compound 0); and 500 generated factual sentences (`generated_neutrals`: "My son set it up
last week.", "It comes in grey.", "Does it come with a charger?"), since HWU64 has requests but little
first-person narration. They teach the head what opinion-free text looks like; none is from laptops, reviews
or any evaluation data.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from insight.analysis.embed import Embedder, embed_units
from insight.analysis.sentiment import LABELS, SHIPPED_HEAD, SentimentHead, label_for, lexicon_features
from insight.core.errors import InsightError

C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
BAND_GRID = tuple(round(x, 2) for x in np.arange(0.0, 0.91, 0.02))
BINARY_BAND = 1 / 3
FOLDS = 5
# Weight of the lexicon features beside the unit-length vector (their scores are in -1..1). 1, 3 and 10 gave
# the same cross-validated figures on the shipped training data; 3 lets them count without dominating.
LEXICON_SCALE = 3.0
SEED = 13
TARGETS = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}  # what a perfect score would be, per label
# Spelling of labels accepted in a labels file (case-insensitive).
_NAMED = {
    "negative": "negative", "neg": "negative", "-": "negative",
    "neutral": "neutral", "neu": "neutral", "none": "neutral",
    "positive": "positive", "pos": "positive", "+": "positive",
}
_TEXT_COLUMNS = ("text", "sentence", "review", "comment", "body", "mention")
_LABEL_COLUMNS = ("label", "sentiment", "polarity", "liked", "class", "target")


class LabelsError(InsightError, ValueError):
    """A labels file that cannot be read: the message names the file, the record and what was expected."""


@dataclass(frozen=True)
class Labelled:
    text: str
    label: str  # one of LABELS


@dataclass(frozen=True)
class CvReport:
    folds: int
    c: float
    band: float
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    n: dict[str, int]
    neutral_share: float  # held-out sentences inside the neutral band
    score_noise: float = 0.0  # mean squared error of held-out scores against the labels (-1 / 0 / +1)


def _strip_quotes(field: str) -> str:
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"').strip()
    return field


def _normalise_label(raw: str, numeric: dict[str, str]) -> str | None:
    raw = raw.strip().lower()
    return _NAMED.get(raw) or numeric.get(raw)


def read_labels(path: str | Path) -> list[Labelled]:
    """Text + label rows from a .csv (comma, quoted fields) or .tsv/.txt (tab, unquoted) file.

    A header row is optional: with one, the text and label columns are found by name (text, sentence, review...
    / label, sentiment, polarity...); without one, the label is the last column and the text the one before it.
    Labels: negative/neutral/positive (or neg/neu/pos), or numbers: 0/1 (0 negative, 1 positive), or -1/0/1
    when any -1 appears (0 is then neutral). Blank lines are skipped.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelsError(f"{path}: cannot read ({exc})") from exc
    if path.suffix.lower() == ".csv":
        lines = list(csv.reader(io.StringIO(raw, newline="")))
    else:  # not str.splitlines: it also breaks at U+0085 and friends, which occur inside real sentences
        lines = [[_strip_quotes(f) for f in line.rstrip("\r").split("\t")] for line in raw.split("\n")]
    rows = [(i + 1, r) for i, r in enumerate(lines) if any(f.strip() for f in r)]
    if not rows:
        raise LabelsError(f"{path}: no rows (expected text and label columns)")
    values = {r[-1].strip().lower() for _, r in rows}
    numeric = {"-1": "negative", "0": "neutral", "1": "positive"} if "-1" in values else {"0": "negative", "1": "positive"}
    text_col, label_col = -2, -1
    first_line, first = rows[0]
    header = [f.strip().lower() for f in first]
    if len(first) >= 2 and _normalise_label(first[-1], numeric) is None:
        named_text = next((header.index(n) for n in _TEXT_COLUMNS if n in header), None)
        named_label = next((header.index(n) for n in _LABEL_COLUMNS if n in header), None)
        if named_text is not None and named_label is not None:
            text_col, label_col = named_text, named_label
        elif len(first) == 2:
            text_col, label_col = 0, 1
        else:
            missing = [f"{kind} column ({'/'.join(names)})" for kind, names, col in
                       (("text", _TEXT_COLUMNS, named_text), ("label", _LABEL_COLUMNS, named_label)) if col is None]
            raise LabelsError(f"{path}: header {first} has no {' and no '.join(missing)}")
        rows = rows[1:]
    out: list[Labelled] = []
    for line, row in rows:
        if len(row) < 2 or max(text_col, label_col) >= len(row):
            raise LabelsError(f"{path}: line {line}: expected a text and a label column, got {len(row)} field(s)")
        label = _normalise_label(row[label_col], numeric)
        if label is None:
            raise LabelsError(
                f"{path}: line {line}: label {row[label_col]!r} is not negative/neutral/positive or 0/1"
            )
        text = row[text_col].strip()
        if text:
            out.append(Labelled(text, label))
    if not out:
        raise LabelsError(f"{path}: no labelled rows (expected text and label columns)")
    return out


def embed_texts(texts: Sequence[str], embedder: Embedder, db=None, batch: int = 256,
                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Vectors of `texts`; with a database, through its embedding cache (same keys as the themes pipeline)."""
    if db is not None:
        from insight.core.text import text_hash

        vectors, _ = embed_units(db, embedder, [(text_hash(t), t.strip()) for t in texts], progress=progress)
        return vectors
    parts = []
    for start in range(0, len(texts), batch):
        parts.append(np.asarray(embedder.encode(list(texts[start : start + batch])), dtype=np.float32))
        if progress:
            progress(min(start + batch, len(texts)), len(texts))
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)


def _fit(x: np.ndarray, y: np.ndarray, c: float):
    """One fit, on one BLAS thread: the matrices are small (thousands x 388), and threaded OpenBLAS made each fit
    3.6x slower on an idle 2-core machine and 25x slower with other jobs on its cores."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return LogisticRegression(C=c, max_iter=2000).fit(x, y)


def _scores(probs: np.ndarray, classes: list[str]) -> np.ndarray:
    return probs[:, classes.index("positive")] - probs[:, classes.index("negative")]


def metrics(gold: Sequence[str] | np.ndarray, predicted: Sequence[str], labels: Sequence[str] = LABELS) -> dict:
    """Accuracy, macro-F1 over `labels`, per-class F1 and the confusion matrix (rows gold, columns predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    labels = list(labels)
    per_class = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(np.mean(per_class)),
        "per_class_f1": {lab: float(f) for lab, f in zip(labels, per_class, strict=True)},
        "confusion": confusion_matrix(gold, predicted, labels=labels).tolist(),
        "labels": labels,
    }


def _out_of_fold(x: np.ndarray, y: np.ndarray, c: float, classes: list[str]) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros((len(y), len(classes)))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x, y):
        model = _fit(x[train], y[train], c)
        probs[test] = model.predict_proba(x[test])[:, [list(model.classes_).index(k) for k in classes]]
    return probs


def train_head(vectors: np.ndarray, labels: Sequence[str], model_name: str,
               band: float | None = None, meta: dict | None = None,
               c_grid: Sequence[float] = C_GRID, texts: Sequence[str] | None = None,
               lexicon_scale: float = LEXICON_SCALE) -> tuple[SentimentHead, CvReport]:
    """Fit a head on (vectors, labels); C and (unless given) the neutral band by cross-validation. With the
    `texts`, the head also reads their lexicon features (insight.analysis.sentiment.lexicon_features x lexicon_scale)."""
    from sklearn.metrics import log_loss

    y = np.asarray(labels)
    classes = [k for k in LABELS if k in set(labels)]
    if not {"negative", "positive"} <= set(classes):
        raise LabelsError("training needs both negative and positive examples")
    counts = {k: int((y == k).sum()) for k in classes}
    if min(counts.values()) < FOLDS:
        raise LabelsError(f"training needs at least {FOLDS} examples of each label, got {counts}")
    x = np.asarray(vectors, dtype=np.float64)
    scale = lexicon_scale if texts is not None and lexicon_scale > 0 else 0.0
    if texts is not None and scale:
        x = np.hstack([x, lexicon_features(list(texts)).astype(np.float64) * scale])
    best_c, best_loss, best_probs = c_grid[0], float("inf"), None
    for c in c_grid:
        probs = _out_of_fold(x, y, c, classes)
        loss = log_loss(y, probs, labels=classes)
        if loss < best_loss:
            best_c, best_loss, best_probs = c, loss, probs
    if best_probs is None:
        raise LabelsError(f"no C in {list(c_grid)} gave a finite cross-validated log loss")
    oof = _scores(best_probs, classes)
    if band is None:
        if "neutral" in classes:
            band = max(BAND_GRID, key=lambda b: (metrics(y, [label_for(s, b) for s in oof], classes)["macro_f1"], -b))
        else:
            band = BINARY_BAND
    # Without neutral labels the figures are for the sign of the score (nothing to check the band against);
    # neutral_share says how many held-out sentences the band would call neutral.
    cut = band if "neutral" in classes else 0.0
    cv = metrics(y, [label_for(s, cut) if s != 0 else "neutral" for s in oof], classes)
    # How far a held-out score lies from its label: the head's noise, which the document context weighs
    # against the spread of a document's mentions (insight/analysis/sentiment_context.py).
    noise = float(np.mean((oof - np.array([TARGETS[k] for k in y])) ** 2))
    report = CvReport(FOLDS, best_c, float(band), cv["accuracy"], cv["macro_f1"], cv["per_class_f1"], counts,
                      float(np.mean(np.abs(oof) < band)), noise)
    model = _fit(x, y, best_c)
    order = [list(model.classes_).index(k) for k in classes]
    coef, intercept = model.coef_, model.intercept_
    if len(classes) == 2:  # sklearn keeps one row for two classes: scores are (-z, +z) under a softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        order = [0, 1]
    info = dict(meta or {})
    info["cv"] = {"folds": FOLDS, "C": best_c, "band": float(band), "accuracy": round(cv["accuracy"], 4),
                  "macro_f1": round(cv["macro_f1"], 4), "neutral_share": round(report.neutral_share, 4),
                  "score_noise": round(noise, 4), "n": counts}
    head = SentimentHead(model_name, tuple(classes), np.asarray(coef)[order].astype(np.float32),
                         np.asarray(intercept)[order].astype(np.float32), float(band), info, scale)
    return head, report


def read_uci(data_dir: Path) -> list[Labelled]:
    """The UCI Sentiment Labelled Sentences (3,000 sentences, 1 positive / 0 negative)."""
    rows: list[Labelled] = []
    for name in ("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"):
        rows.extend(read_labels(data_dir / "sentiment_sentences" / name))
    return rows


OPINION_SCENARIOS = {"general", "music"}  # praise, jokes, "I like this song": not opinion-free


def weak_neutrals(data_dir: Path, limit: int = 1000) -> list[Labelled]:
    """Opinion-free requests from HWU64 (see the module docstring), `limit` of them drawn with a fixed seed."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    path = data_dir / "hwu64" / "train.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [r["text"].strip() for r in csv.DictReader(handle) if r["scenario"] not in OPINION_SCENARIOS]
    texts = sorted({t for t in texts if t and vader.polarity_scores(t)["compound"] == 0})
    random.Random(SEED).shuffle(texts)
    return [Labelled(t, "neutral") for t in texts[:limit]]


# Generated factual sentences: who bought or used what, when, and plain facts about an item, with no opinion.
# Product-agnostic on purpose (no laptops, no reviews' aspects); they cover what HWU64 lacks: first-person
# declarative narration, which real feedback is full of ("I ordered it on Monday.").
_WHO = ("I", "We", "My wife", "My husband", "My son", "My daughter", "My partner", "Our team", "A friend of mine",
        "My mother")
_DID = ("ordered it", "bought this", "received the package", "opened the box", "set it up", "picked it up",
        "paid by card", "had it delivered to the office", "got this one", "unpacked it", "registered it",
        "read the instructions", "switched to this model", "compared a few options", "placed the order")
_WHEN = ("on Monday", "last week", "two weeks ago", "in March", "for a birthday", "after work", "yesterday",
         "in the morning", "before the trip", "at the weekend", "last month", "on the first of June")
_FACTS = (
    "It comes in {colour}.", "The box contained a cable and a manual.", "It is available in {n} sizes.",
    "The manual is in English and French.", "It weighs about {n}00 grams.", "I have had it for {n} weeks.",
    "This is my {nth} order from them.", "I use it {often}.", "I bought it to replace my old one.",
    "The order number is on the receipt.", "It was shipped from the warehouse in {place}.",
    "I was looking for something for {purpose}.", "It has {n} buttons on the side.",
    "The parcel was left with a neighbour.", "The {colour} one is slightly larger.", "We have {n} of them at home.",
    "Is there a {colour} version?", "Does it come with a charger?", "Can I change the delivery address?",
    "How long is the warranty?",
)
_FILL = {
    "colour": ("black", "white", "grey", "blue", "green", "red"), "n": ("two", "three", "four", "five"),
    "nth": ("second", "third", "first"), "often": ("every day", "on weekends", "twice a week", "at work"),
    "place": ("Leeds", "Ohio", "Lyon", "Osaka"), "purpose": ("the kitchen", "travel", "school", "the garden"),
}


def generated_neutrals(limit: int = 500) -> list[Labelled]:
    """`limit` generated factual sentences (fixed seed): narration and facts with no opinion in them."""
    rng = random.Random(SEED)
    texts = {f"{who} {did} {when}." for who in _WHO for did in _DID for when in _WHEN}
    for template in _FACTS:
        for _ in range(12):
            texts.add(template.format(**{k: rng.choice(v) for k, v in _FILL.items()}))
    narration = sorted(t for t in texts if not any(t.startswith(f.split("{")[0]) for f in _FACTS))
    facts = sorted(texts - set(narration))
    rng.shuffle(narration)
    chosen = facts + narration[: max(0, limit - len(facts))]
    return [Labelled(t, "neutral") for t in chosen[:limit]]


def shipped_training_set(data_dir: Path) -> list[Labelled]:
    return read_uci(data_dir) + weak_neutrals(data_dir) + generated_neutrals()


def main(argv: list[str] | None = None) -> None:
    """Rebuild the shipped head: python -m insight.analysis.sentiment_train DATA_DIR [--db CACHE.db]."""
    import argparse

    from insight.analysis.embed import load_embedder
    from insight.core.db import open_db

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--db", type=Path, default=None, help="embedding cache (an insight database file)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "models" / SHIPPED_HEAD)
    args = parser.parse_args(argv)
    rows = shipped_training_set(args.data_dir)
    embedder = load_embedder()
    db = open_db(args.db) if args.db else None
    vectors = embed_texts([r.text for r in rows], embedder, db)
    meta = {"trained_on": "UCI Sentiment Labelled Sentences (Kotzias et al. 2015; 3,000) + HWU64 opinion-free "
                          "requests as weak neutrals (Liu et al. 2019; CC BY 4.0) + 500 generated factual "
                          "sentences, with VADER lexicon features"}
    head, report = train_head(vectors, [r.label for r in rows], embedder.name, meta=meta, texts=[r.text for r in rows])
    head.save(args.out)
    print(f"wrote {args.out}: {report.n}, C {report.c}, band {report.band:.2f}; {report.folds}-fold cross-validated "
          f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
