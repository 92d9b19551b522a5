"""Theme labels against true categories: group a labelled set by its category, label the groups, print both.

Reads ../shared/data/banking77/test.csv (text,category) or ../shared/data/semeval16_laptops/sentences.csv
(text,categories; sentences with one category), embeds the texts with all-MiniLM-L6-v2 (cached under
bench/.cache/), treats each category as a theme and calls `describe_groups` with the real spaCy pipeline, with
and without the `embed` callable. Prints, for --groups categories (largest first), the category, the phrase
label (no embed, then with embed), the old keyword label (`short_label` of the keywords) and the first quote.
Judging whether a label "reads like the category" is left to the reader; collisions between labels are counted.

    .venv/bin/python bench/labels_quality.py --set banking77 --groups 20
    .venv/bin/python bench/labels_quality.py --set laptops --groups 20
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

import numpy as np

from insight.analysis.embed import load_embedder, normalise_rows
from insight.analysis.labels import describe_groups, short_label
from insight.analysis.nlp import load_pipeline

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data next to the checkout (a worktree may sit one level deeper).
SHARED = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")
CACHE = ROOT / "bench" / ".cache"


def load(name: str) -> tuple[list[str], list[str]]:
    if name == "banking77":
        path = SHARED / "banking77" / "test.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    else:
        path = SHARED / "semeval16_laptops" / "sentences.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [(r["text"], r["categories"]) for r in csv.DictReader(handle) if r["categories"] and ";" not in r["categories"] and "|" not in r["categories"]]
    return [t for t, _ in rows], [c for _, c in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("banking77", "laptops"), default="banking77")
    parser.add_argument("--groups", type=int, default=20)
    args = parser.parse_args()
    texts, categories = load(args.set)
    cache = CACHE / f"labels-{args.set}-{len(texts)}.npy"
    embedder = load_embedder()
    if cache.exists():
        vectors = np.load(cache)
    else:
        vectors = embedder.encode(texts)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    names = [c for c, _ in Counter(categories).most_common()]
    index = {c: i for i, c in enumerate(names)}
    groups = np.array([index[c] for c in categories])
    centroids = {g: normalise_rows(vectors[groups == g].mean(axis=0, keepdims=True))[0] for g in range(len(names))}
    speakers = [f"s{i}" for i in range(len(texts))]
    nlp = load_pipeline().nlp
    started = time.perf_counter()
    plain = describe_groups(nlp, texts, groups, vectors, speakers, centroids)
    seconds_plain = time.perf_counter() - started
    started = time.perf_counter()
    embedded = describe_groups(nlp, texts, groups, vectors, speakers, centroids, embed=embedder.encode)
    seconds_embed = time.perf_counter() - started
    print(f"{args.set}: {len(texts)} texts, {len(names)} categories; describe_groups {seconds_plain:.1f} s, "
          f"with embed {seconds_embed:.1f} s")
    for label_set, name in ((plain, "plain"), (embedded, "embed")):
        counts = Counter(d.label for d in label_set.values())
        print(f"  {name}: {sum(n - 1 for n in counts.values() if n > 1)} repeated labels over {len(names)} groups")
    for g in range(min(args.groups, len(names))):
        quote = texts[plain[g].quotes[0]] if plain[g].quotes else ""
        print(f"{names[g]:<32} | {plain[g].label:<38} | {embedded[g].label:<38} | "
              f"{short_label(plain[g].keywords, plain[g].phrases):<40} | {quote[:60]}")


if __name__ == "__main__":
    main()
