"""How long `run_themes` takes on 100,000 units, with embedding excluded and included. Prints figures.

Data: the 13,083 real customer messages of Banking77 (train + test, ../shared/data/banking77/), embedded once
with the real model (all-MiniLM-L6-v2). To reach 100,000 distinct units, each message is reused about 7.6 times as
"<text> (#k)"; the cache is pre-filled for those variants with the message's real vector plus a small Gaussian
perturbation (sigma 0.02 per dimension, then renormalised). So the clustering and labelling see 100,000 distinct
points with the structure of real customer messages, and `embedding excluded` means every vector is a cache hit.

`embedding included` = the excluded figure + 100,000 / (texts per second measured encoding real Banking77 texts
on this machine, median of --repeats runs). Run: .venv/bin/python bench/themes_scale.py [--units N] [--repeats R]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insight import themes as pipeline  # noqa: E402
from insight.db import open_db, transaction  # noqa: E402
from insight.embed import embed_units, load_embedder, normalise_rows  # noqa: E402
from insight.nlp import load_pipeline  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "banking77"
WINDOWS = ("2026-08-01", "2026-09-01", "2026-10-01")


def read_texts(folder: Path) -> list[str]:
    texts: list[str] = []
    for name in ("train.csv", "test.csv"):
        with (folder / name).open(encoding="utf-8") as handle:
            texts += [row["text"].strip() for row in csv.DictReader(handle)]
    return texts


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def build_db(path: Path, texts: list[str], base_vectors: np.ndarray, units: int, model: str) -> None:
    """100k documents/units across three monthly windows, and their (perturbed) vectors in the cache."""
    db = open_db(path)
    rng = np.random.default_rng(0)
    with transaction(db):
        doc_rows, unit_rows, cache_rows = [], [], []
        for i in range(units):
            base = i % len(texts)
            text = texts[base] if i < len(texts) else f"{texts[base]} (#{i // len(texts)})"
            window = WINDOWS[i % len(WINDOWS)]
            doc_rows.append((i + 1, "ticket", f"t{i}", "bench", f"{window}T12:00:00+00:00", window, sha(f"d{i}")))
            unit_rows.append((i + 1, i + 1, 0, "message", text, sha(text)))
            vector = base_vectors[base] + rng.normal(0, 0.02, base_vectors.shape[1]).astype(np.float32)
            cache_rows.append((model, sha(text), base_vectors.shape[1],
                               normalise_rows(vector[None, :])[0].astype("<f4").tobytes()))
        db.conn.executemany(
            """INSERT INTO documents (id, source, external_id, format, created_at, window_start, content_hash)
               VALUES (?, ?, ?, ?, ?, ?, ?)""", doc_rows)
        db.conn.executemany(
            "INSERT INTO units (id, document_id, position, kind, text, text_hash) VALUES (?, ?, ?, ?, ?, ?)", unit_rows)
        db.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (model, text_hash, dim, vector) VALUES (?, ?, ?, ?)", cache_rows)
    db.close()


def timed(module, name: str, sink: dict[str, float]) -> None:
    """Wrap module.name so each call adds its duration to sink[name]."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            sink[name] = sink.get(name, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--encode-sample", type=int, default=2000, help="texts per encoding-speed measurement")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--vectors", type=Path, default=Path(tempfile.gettempdir()) / "insight-bench-vectors.db",
                        help="embedding cache of the Banking77 texts, kept between bench runs")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"

    texts = read_texts(args.data)
    embedder = load_embedder()
    nlp = load_pipeline().nlp
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (other work shares "
          f"the cores); model {embedder.name}; spaCy {load_pipeline().name}")

    rates = []
    sample = texts[: args.encode_sample]
    for _ in range(args.repeats):
        started = time.perf_counter()
        embedder.encode(sample)
        rates.append(len(sample) / (time.perf_counter() - started))
    rate = statistics.median(rates)
    print(f"encoding speed: median {rate:,.0f} texts/s over {args.repeats} runs of {len(sample):,} Banking77 texts")

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        scratch = open_db(args.vectors)
        base_vectors, stats = embed_units(scratch, embedder, [(sha(t), t) for t in texts])
        print(f"Banking77 vectors: {stats.embedded:,} embedded, {stats.reused:,} reused from {args.vectors} "
              f"({time.perf_counter() - started:.1f} s)")
        path = Path(tmp) / "bench.db"
        build_db(path, texts, base_vectors, args.units, embedder.name)
        stages: dict[str, float] = {}
        for name in ("embed_units", "cluster_embeddings", "describe_groups", "replay_edits"):
            timed(pipeline, name, stages)
        totals = []
        for attempt in range(args.repeats):
            db = open_db(path)
            stages.clear()
            started = time.perf_counter()
            (summary,) = pipeline.run_themes(db, embedder, nlp)
            total = time.perf_counter() - started
            totals.append(total)
            other = total - sum(stages.values())
            print(
                f"run {attempt + 1}: {total:.1f} s for {summary.units:,} units -> {len(summary.themes)} themes, "
                f"{summary.unassigned:,} unassigned ({summary.unassigned / summary.units:.1%}), "
                f"{summary.reassigned:,} reassigned; embedded {summary.embedded}, reused {summary.reused:,}; "
                + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + f", select+store {other:.1f} s; "
                + f"changes {sorted({t.change for t in summary.themes})}"
            )
            db.close()
        median = statistics.median(totals)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        print(f"\n{args.units:,} units end to end, embedding excluded (all cache hits): median {median:.1f} s")
        print(f"embedding included (estimate): {median:.1f} + {args.units:,} / {rate:,.0f} texts/s = "
              f"{median + args.units / rate:.1f} s")
        db = open_db(path)
        print("largest themes of the last run:")
        for theme in sorted(summary.themes, key=lambda t: -t.size)[:8]:
            print(f"  #{theme.id} {theme.label} ({theme.size:,}) {theme.phrases[:2]}")


if __name__ == "__main__":
    main()
