"""Mention-level themes and sentiment on real multi-aspect reviews: SemEval-2016 Task 5 laptops.

As a user would: `insight import review reviews.csv` (450 real laptop reviews, one CSV export) into a fresh
database, then `insight themes --source review`. Then every annotated sentence with exactly one aspect
category is found among the mentions of its review, and scored:

- aspects: the theme of the mention holding the sentence (the longest mention inside it when the sentence
  was split into clauses) against the sentence's category: NMI (arithmetic) and ARI, unassigned counted as one
  more cluster (-1), as in bench/themes_quality.py;
- sentiment: the mention's sentiment against the annotated polarity (accuracy, macro-F1 over
  negative / neutral / positive), next to VADER on the same sentences.

References in the same run, on the same sentence vectors (all-MiniLM-L6-v2): k-means with the true k, and
BERTopic's default pipeline when it is installed (`.venv/bin/pip install -r bench/requirements.txt`).
The sentences are for measuring only: nothing here trains or tunes on them.

    .venv/bin/python bench/aspects_quality.py                 # about 2-3 minutes here
    .venv/bin/python bench/aspects_quality.py --keep /tmp/laptops.db
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "semeval16_laptops"
TARGETS = {"nmi": 0.45, "macro_f1": 0.65, "accuracy": 0.78}
CLASSES = ("negative", "neutral", "positive")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def insight(db: Path, *args: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "insight.cli", "--db", str(db), *args, "--json"],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"insight {' '.join(args)} failed:\n{out.stderr[-2000:]}\n{out.stdout[-2000:]}")
    return json.loads(out.stdout)


def one_category_sentences(folder: Path) -> list[dict]:
    with (folder / "sentences.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        cats = [c for c in row["categories"].split(";") if c]
        pols = [p for p in row["polarities"].split(";") if p]
        if len(set(cats)) == 1 and len(set(pols)) == 1:
            out.append({"review": row["review_id"], "text": row["text"], "category": cats[0], "polarity": pols[0]})
    return out


def mention_of(sentence: str, mentions: list[tuple[str, int | None, str | None]]) -> tuple[int | None, str | None] | None:
    """(theme, sentiment) of the mention holding the sentence, or of the longest mention inside it."""
    target = norm(sentence)
    holding = [m for m in mentions if target in norm(m[0])]
    if holding:
        best = min(holding, key=lambda m: len(m[0]))
        return best[1], best[2]
    inside = [m for m in mentions if norm(m[0]) and norm(m[0]) in target]
    if inside:
        best = max(inside, key=lambda m: len(m[0]))
        return best[1], best[2]
    return None


def clause_sentiments(sentence: str, mentions: list[tuple[str, int | None, str | None]]) -> list[str] | None:
    """Sentiments of the clauses a sentence was split into (None when one mention holds the whole sentence)."""
    target = norm(sentence)
    if any(target in norm(m[0]) for m in mentions):
        return None
    return [m[2] or "neutral" for m in mentions if norm(m[0]) and norm(m[0]) in target]


def combined(labels: list[str]) -> str:
    """One reading of a sentence from its clauses': mixed (both polarities) is neutral, else the polarity found."""
    polar = {label for label in labels if label != "neutral"}
    return polar.pop() if len(polar) == 1 else "neutral"


def scores(truth: list[str], found: list[int]) -> tuple[float, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return normalized_mutual_info_score(truth, found), adjusted_rand_score(truth, found)


def sentiment_scores(truth: list[str], found: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return accuracy_score(truth, found), f1_score(truth, found, labels=list(CLASSES), average="macro")


def vader(texts: list[str]) -> list[str]:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return []
    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        c = analyzer.polarity_scores(text)["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def references(texts: list[str], truth: list[str]) -> dict[str, tuple[float, float]]:
    from sklearn.cluster import KMeans

    from insight.analysis.embed import load_embedder

    vectors = load_embedder().encode(texts)
    out = {}
    k = len(set(truth))
    out[f"k-means, true k={k}"] = scores(truth, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(vectors))
    try:
        from bertopic import BERTopic
    except ImportError:
        return out
    topics, _ = BERTopic().fit_transform(texts, vectors)
    out["BERTopic default"] = scores(truth, list(topics))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--keep", type=Path, help="database to write (default: a temporary file)")
    parser.add_argument("--no-references", action="store_true")
    args = parser.parse_args()
    if not (args.data / "reviews.csv").exists():
        sys.exit(f"{args.data}: reviews.csv not found (SemEval-2016 laptops, ../shared/data/semeval16_laptops)")
    db = args.keep or Path(tempfile.mkdtemp()) / "laptops.db"
    if db.exists():
        db.unlink()
    started = time.perf_counter()
    imported = insight(db, "import", "review", str(args.data / "reviews.csv"))
    run = insight(db, "themes", "--source", "review")
    seconds = time.perf_counter() - started
    summary = imported["files"][0] if "files" in imported else imported
    print(f"import: {summary.get('imported')} reviews, {summary.get('mentions')} mentions; "
          f"themes: {sum(len(s['themes']) for s in run['scopes'])}; import + themes {seconds:.1f} s")
    for scope in run["scopes"]:
        general = sum(t["size"] for t in scope["themes"] if t.get("kind") == "general")
        biggest = max((t["share"] for t in scope["themes"]), default=0)
        print(f"  {scope['scope']}: {scope['units']} mentions, {len(scope['themes'])} themes, "
              f"{scope['unassigned']} unassigned, largest theme {biggest:.1%} of documents, general {general} docs")

    import sqlite3

    conn = sqlite3.connect(db)
    by_author: dict[str, list[tuple[str, int | None, str | None]]] = defaultdict(list)
    for author, text, theme, sentiment in conn.execute(
        """SELECT json_extract(d.metadata, '$.author'), u.text, ut.theme_id, u.sentiment
           FROM units u JOIN documents d ON d.id = u.document_id
           LEFT JOIN unit_themes ut ON ut.unit_id = u.id ORDER BY u.id"""
    ):
        by_author[str(author)].append((text, theme, sentiment))
    sentences = one_category_sentences(args.data)
    truth, found, polarity, felt, missing = [], [], [], [], 0
    split_gold, split_longest, split_combined, felt_combined = [], [], [], []
    for s in sentences:
        mentions = by_author.get(f"Reviewer {s['review']}", [])
        hit = mention_of(s["text"], mentions)
        if hit is None:
            missing += 1
            continue
        truth.append(s["category"])
        found.append(hit[0] if hit[0] is not None else -1)
        polarity.append(s["polarity"])
        felt.append(hit[1] or "neutral")
        clauses = clause_sentiments(s["text"], mentions)
        if clauses:
            split_gold.append(s["polarity"])
            split_longest.append(felt[-1])
            split_combined.append(combined(clauses))
        felt_combined.append(combined(clauses) if clauses else felt[-1])
    nmi, ari = scores(truth, found)
    print(f"\nsentences with one category: {len(sentences)}, found among the mentions: {len(truth)} "
          f"({missing} not found), categories: {len(set(truth))}")
    print(f"  aspects  insight mentions           NMI {nmi:.3f}  ARI {ari:.3f}  "
          f"unassigned {found.count(-1) / len(found):.1%}")
    if not args.no_references:
        texts = [s["text"] for s in sentences]
        for name, (r_nmi, r_ari) in references(texts, [s["category"] for s in sentences]).items():
            print(f"  aspects  {name:<27} NMI {r_nmi:.3f}  ARI {r_ari:.3f}  (all {len(texts)} sentences)")
    if any(f for f in felt if f != "neutral") or conn.execute("SELECT COUNT(sentiment) FROM units").fetchone()[0]:
        acc, f1 = sentiment_scores(polarity, felt)
        print(f"  sentiment insight mentions          accuracy {acc:.3f}  macro-F1 {f1:.3f}")
        if split_gold:  # where the scoring rule (the longest clause) is weakest: a split sentence
            acc, f1 = sentiment_scores(split_gold, split_longest)
            c_acc, c_f1 = sentiment_scores(split_gold, split_combined)
            print(f"    of which split into clauses: {len(split_gold)} sentences ({split_gold.count('neutral')} of "
                  f"{polarity.count('neutral')} neutrals): longest clause {acc:.3f} / {f1:.3f}; clauses combined "
                  f"(mixed = neutral) {c_acc:.3f} / {c_f1:.3f}")
            acc, f1 = sentiment_scores(polarity, felt_combined)
            print(f"    every sentence, split ones read from their clauses combined: accuracy {acc:.3f}  "
                  f"macro-F1 {f1:.3f}")
    lexicon = vader([s["text"] for s in sentences if mention_of(s["text"], by_author.get(f"Reviewer {s['review']}", []))])
    if lexicon:
        acc, f1 = sentiment_scores(polarity, lexicon)
        print(f"  sentiment VADER (same sentences)    accuracy {acc:.3f}  macro-F1 {f1:.3f}")
    print(f"\ntargets: aspect NMI >= {TARGETS['nmi']}, sentiment macro-F1 >= {TARGETS['macro_f1']}, "
          f"accuracy >= {TARGETS['accuracy']}")


if __name__ == "__main__":
    main()
