"""How `run_themes` grows with the size of one scope: 100,000, 300,000 and 1,000,000 mentions. Prints figures.

Data: the 13,083 real customer messages of Banking77 (train + test, ../shared/data/banking77/), embedded once
with the real model (all-MiniLM-L6-v2; kept in --vectors between runs). To reach N distinct mentions, each
message is reused about N / 13,083 times as "<text> (#k)"; the cache is pre-filled for those variants with the
message's real vector plus a small Gaussian perturbation (sigma 0.02 per dimension, then renormalised). So
clustering and labelling see N distinct points with the structure of real customer messages, over three monthly
windows, and every vector is a cache hit (`embedding included` adds N / the encoding speed measured here).

Each size runs in two fresh processes: one builds the database (rows inserted directly; timed, not part of the
figure), one runs `run_themes` once with the real spaCy pipeline, the sentiment head and the real model for label
phrases. The second one's peak resident memory is read from the kernel (`os.wait4` -> ru_maxrss), so each size
gets its own figure. Steps: reading the scope (select_scopes), the embedding cache read (embed_units), the
clustering fit on the sample (neighbours, UMAP, HDBSCAN, gates), the assignment of the other mentions, sentiment,
labels (describe_groups, both levels), storage (assignments, counts, prevalence, theme rows) and the rest (general
mentions, matching, edits).

    .venv/bin/python bench/themes_scale.py                                 # 100k, 300k, 1M
    .venv/bin/python bench/themes_scale.py --units 100000 --encode-repeats 0
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data" / "banking77"
WINDOWS = ("2026-08-01", "2026-09-01", "2026-10-01")
NEW_WINDOW = "2026-11-01"  # the month added after the full run
BUILD_BATCH = 50_000
# Step name -> the functions of insight.analysis.themes whose time it sums (cluster_embeddings is split by its stages).
STEPS = ("read scope", "embedding cache read", "clustering fit", "assignment", "sentiment", "labels", "storage",
         "other")


def read_rows(folder: Path) -> list[dict]:
    rows: list[dict] = []
    for name in ("train.csv", "test.csv"):
        with (folder / name).open(encoding="utf-8") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def read_texts(folder: Path) -> list[str]:
    return [row["text"].strip() for row in read_rows(folder)]


def sha(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def base_vectors(args) -> tuple[list[str], np.ndarray, str]:
    """Banking77's texts and their real vectors (embedded once, then read from the --vectors cache)."""
    from insight.analysis.embed import embed_units, load_embedder
    from insight.core.db import open_db

    texts = read_texts(args.data)
    embedder = load_embedder()
    scratch = open_db(args.vectors)
    vectors, _ = embed_units(scratch, embedder, [(sha(t), t) for t in texts])
    scratch.close()
    return texts, vectors, embedder.name


def build_db(path: Path, texts: list[str], vectors: np.ndarray, units: int, model: str, window_units: int) -> None:
    """`units` documents with one mention each across three monthly windows, their jittered vectors cached, and
    `window_units` more in a fourth month, not analysed yet (the run process switches them on after the full run,
    to time a window added to the database). Documents are marked as split by the current splitter (each
    message is its one mention), as an import does."""
    from ingest.mentions import MENTIONS_VERSION
    from insight.analysis.embed import normalise_rows
    from insight.core.db import open_db, transaction

    db = open_db(path)
    rng = np.random.default_rng(0)
    for start in range(0, units + window_units, BUILD_BATCH):
        stop = min(start + BUILD_BATCH, units + window_units)
        index = np.arange(start, stop)
        base = index % len(texts)
        jittered = normalise_rows(vectors[base] + rng.normal(0, 0.02, (stop - start, vectors.shape[1])))
        doc_rows, unit_rows, cache_rows = [], [], []
        for i, b, vector in zip(index.tolist(), base.tolist(), jittered, strict=True):
            text = texts[b] if i < len(texts) else f"{texts[b]} (#{i // len(texts)})"
            window = WINDOWS[i % len(WINDOWS)] if i < units else NEW_WINDOW
            doc_rows.append((i + 1, "ticket", f"t{i}", "bench", f"{window}T12:00:00+00:00", window, sha(f"d{i}"),
                             MENTIONS_VERSION))
            unit_rows.append((i + 1, i + 1, 0, "message", text, sha(text), int(i < units)))
            cache_rows.append((model, sha(text), vectors.shape[1], vector.astype("<f4").tobytes()))
        with transaction(db):
            db.conn.executemany(
                """INSERT INTO documents (id, source, external_id, format, created_at, window_start, content_hash,
                   mentions_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""", doc_rows)
            db.conn.executemany(
                """INSERT INTO units (id, document_id, position, kind, text, text_hash, analyse)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                unit_rows)
            db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, text_hash, dim, vector) VALUES (?, ?, ?, ?)", cache_rows)
    db.close()


class StepClock:
    """Wraps functions of insight.analysis.themes so each call adds its duration to a step."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cluster: dict[str, float] = {}
        self.depth = 0  # inside describe_groups: its phrase embeddings count as labels

    def wrap(self, module, name: str, step: str) -> None:
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            if step == "embedding cache read" and self.depth:
                return original(*args, **kwargs)
            self.depth += step == "labels"
            started = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started
                self.depth -= step == "labels"
            if name == "cluster_embeddings":
                self.result = result
                for stage, spent in result.seconds.items():
                    self.cluster[stage] = self.cluster.get(stage, 0.0) + spent
            return result

        setattr(module, name, wrapper)


def agreement(db, folder: Path, assigned: np.ndarray | None) -> dict[str, str]:
    """NMI / ARI of the stored themes against Banking77's intents (mention i is message i mod 13,083), for the
    fitted mentions and for those assigned after the fit (unassigned count as one more label)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    intents = [row["category"] for row in read_rows(folder)]
    rows = db.conn.execute("SELECT unit_id, COALESCE(theme_id, -1) FROM unit_themes ORDER BY unit_id").fetchall()
    truth = np.array([intents[(unit_id - 1) % len(intents)] for unit_id, _ in rows])
    found = np.array([theme for _, theme in rows])
    parts = {"all": np.ones(len(rows), dtype=bool)}
    if assigned is not None and assigned.shape[0] == len(rows) and assigned.any():
        parts |= {"fitted": ~assigned, "assigned after the fit": assigned}
    return {name: f"NMI {normalized_mutual_info_score(truth[m], found[m]):.3f} ARI "
                  f"{adjusted_rand_score(truth[m], found[m]):.3f} unassigned {(found[m] < 0).mean():.1%}"
            for name, m in parts.items()}


def child_run(db_path: Path, folder: Path) -> dict:
    """One run_themes over the whole database; step times and counts as a dict."""
    from insight.analysis import parent_themes
    from insight.analysis import themes as pipeline
    from insight.analysis.embed import load_embedder
    from insight.analysis.nlp import load_pipeline
    from insight.analysis.sentiment import scorer_for
    from insight.core.db import open_db, transaction

    embedder = load_embedder()
    nlp = load_pipeline().nlp
    scorer = scorer_for(embedder.name)
    clock = StepClock()
    for name, step in (("select_scopes", "read scope"), ("embed_units", "embedding cache read"),
                       ("cluster_embeddings", "clustering"), ("_score_sentiment", "sentiment"),
                       ("describe_groups", "labels"), ("_store_assignments", "storage"),
                       ("refresh_theme_counts", "storage"), ("refresh_prevalence", "storage")):
        clock.wrap(pipeline, name, step)
    clock.wrap(parent_themes, "describe_groups", "labels")  # the parent level's labels
    db = open_db(db_path)
    started = time.perf_counter()
    (summary,) = pipeline.run_themes(db, embedder, nlp, sentiment=scorer)
    total = time.perf_counter() - started
    steps = dict(clock.seconds)
    clustering = steps.pop("clustering", 0.0)
    steps["assignment"] = clock.cluster.get("assign", 0.0)
    steps["clustering fit"] = clustering - steps["assignment"]
    steps["other"] = total - sum(steps.values())
    largest = sorted(summary.themes, key=lambda t: -t.size)[:5]
    scores = agreement(db, folder, getattr(clock, "result", None) and clock.result.assigned)
    window: dict = {}
    with transaction(db):
        added = db.conn.execute("UPDATE units SET analyse = 1 WHERE analyse = 0").rowcount
    cluster_stages = dict(clock.cluster)
    if added:
        clock.seconds.clear()
        clock.cluster.clear()
        started = time.perf_counter()
        (month,) = pipeline.run_themes(db, embedder, nlp, sentiment=scorer, window=NEW_WINDOW[:7])
        window = {"seconds": time.perf_counter() - started, "units": month.units, "kept": month.kept_themes,
                  "unassigned": month.unassigned, "themes": len(month.themes), "steps": dict(clock.seconds)}
    return {
        "window": window,
        "intents": scores,
        "total": total, "steps": steps, "cluster": cluster_stages, "units": summary.units,
        "themes": len(summary.themes), "unassigned": summary.unassigned, "reassigned": summary.reassigned,
        "fitted": summary.fitted, "assigned_after_fit": summary.assigned_after_fit, "not_fitted": summary.not_fitted,
        "largest": [f"#{t.id} {t.label} ({t.size:,})" for t in largest],
    }


def run_child(arguments: list[str]) -> tuple[dict, float, int]:
    """(the child's JSON result, wall seconds, peak RSS in bytes) of `themes_scale.py --child ...`."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *arguments],
                               stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"child {' '.join(arguments)} failed with exit code {process.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    return result, time.perf_counter() - started, int(usage.ru_maxrss) * 1024  # Linux: kilobytes


def encoding_rate(texts: list[str], sample: int, repeats: int) -> float | None:
    if repeats <= 0:
        return None
    from insight.analysis.embed import load_embedder

    embedder = load_embedder()
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        embedder.encode(texts[:sample])
        rates.append(sample / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", default="100000,300000,1000000", help="comma-separated scope sizes")
    parser.add_argument("--encode-repeats", type=int, default=3, help="encoding-speed measurements (0: skip)")
    parser.add_argument("--encode-sample", type=int, default=2000, help="texts per encoding-speed measurement")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--vectors", type=Path, default=Path(tempfile.gettempdir()) / "insight-bench-vectors.db",
                        help="embedding cache of the Banking77 texts, kept between bench runs")
    parser.add_argument("--workdir", type=Path, default=None, help="where the databases are built (default: temp)")
    parser.add_argument("--window-units", type=int, default=30_000,
                        help="mentions of a month added after the full run and themed with --window (0: skip)")
    parser.add_argument("--child", choices=("build", "run"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.child == "build":
        texts, vectors, model = base_vectors(args)
        build_db(args.db, texts, vectors, int(args.units), model, args.window_units)
        print(json.dumps({"units": int(args.units)}))
        return
    if args.child == "run":
        result = child_run(args.db, args.data)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["cpu"] = usage.ru_utime + usage.ru_stime  # of the whole process, model loading included
        text = json.dumps(result)
        # Also kept beside the temporary databases' folder, for a look at every figure after the run.
        (Path(tempfile.gettempdir()) / f"insight-themes-scale-{result['units']}.json").write_text(text + "\n")
        print(text)
        return

    sizes = [int(s.replace("_", "")) for s in args.units.split(",") if s.strip()]
    if not (args.data / "train.csv").exists():
        raise SystemExit(f"{args.data / 'train.csv'}: not found. Pass --data with Banking77's folder.")
    texts = read_texts(args.data)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (other work shares "
          f"the cores); {len(texts):,} Banking77 texts")
    rate = encoding_rate(texts, args.encode_sample, args.encode_repeats)
    if rate:
        print(f"encoding speed: median {rate:,.0f} texts/s over {args.encode_repeats} runs of "
              f"{args.encode_sample:,} texts")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for units in sizes:
            path = Path(tmp) / f"scale-{units}.db"
            _, built, _ = run_child(["--child", "build", "--units", str(units), "--db", str(path), "--data",
                                     str(args.data), "--vectors", str(args.vectors),
                                     "--window-units", str(args.window_units)])
            size = path.stat().st_size
            result, wall, peak = run_child(["--child", "run", "--db", str(path), "--data", str(args.data)])
            total = result["total"]
            print(f"\n{units:,} mentions in one scope (database built in {built:.0f} s, {size / 1e9:.2f} GB; "
                  f"not timed below)")
            print(f"  run_themes: {total:.1f} s (the process: {wall:.1f} s and {result['cpu']:.0f} s of CPU time, "
                  f"with model loading, the month below and the intent scores), peak RSS "
                  f"{peak / 2**30:.2f} GiB; {result['themes']} themes, {result['unassigned']:,} unassigned "
                  f"({result['unassigned'] / result['units']:.1%}), {result['reassigned']:,} reassigned")
            if result["not_fitted"]:
                print(f"  fitted on {result['fitted']:,} mentions, {result['assigned_after_fit']:,} of the other "
                      f"{result['not_fitted']:,} assigned to the nearest theme")
            else:
                print(f"  fitted on all {result['fitted']:,} topic mentions (at or under the fit limit)")
            steps = result["steps"]
            print("  steps: " + ", ".join(f"{name} {steps.get(name, 0.0):.1f} s ({steps.get(name, 0.0) / total:.0%})"
                                          for name in STEPS))
            print("  clustering stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in result["cluster"].items()))
            if rate:
                print(f"  embedding included (estimate): {total:.1f} + {units:,} / {rate:,.0f} texts/s = "
                      f"{total + units / rate:.1f} s")
            print("  largest themes: " + "; ".join(result["largest"]))
            month = result["window"]
            if month:
                how = ("assigned to the stored themes, kept" if month["kept"] else "clustered again")
                print(f"  then a month of {month['units']:,} new mentions (--window {NEW_WINDOW[:7]}): "
                      f"{month['seconds']:.1f} s, {how}; {month['unassigned']:,} unassigned "
                      f"({month['unassigned'] / max(1, month['units']):.1%}), {month['themes']} themes; "
                      + ", ".join(f"{k} {v:.1f} s" for k, v in month["steps"].items()))
            print("  against Banking77's 77 intents (not timed): "
                  + "; ".join(f"{name}: {text}" for name, text in result["intents"].items()))
            path.unlink()
            sys.stdout.flush()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
