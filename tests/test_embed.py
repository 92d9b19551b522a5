"""The embedding cache (a text is embedded once per model), the hashing embedder, and offline loading."""

from __future__ import annotations

import numpy as np
import pytest

from insight.analysis.embed import (
    DEFAULT_MODEL_NAME,
    EmbedderUnavailable,
    HashingEmbedder,
    cached_embeddings,
    embed_units,
    load_embedder,
)


class CountingEmbedder(HashingEmbedder):
    """Records every text it is asked to encode."""

    def __init__(self) -> None:
        super().__init__(name="counting", dim=16)
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts)


def pairs(texts: list[str]) -> list[tuple[str, str]]:
    return [(f"h:{t}", t) for t in texts]


def test_hashing_embedder_is_normalised_deterministic_and_word_sensitive():
    embedder = HashingEmbedder()
    a, b, c = embedder.encode(["late delivery again", "delivery late again", "lovely soft fabric"])
    assert np.allclose(np.linalg.norm([a, b, c], axis=1), 1.0, atol=1e-5)
    assert np.allclose(a, b)  # same bag of words
    assert float(a @ c) < 0.6
    assert np.array_equal(embedder.encode(["late delivery again"])[0], a)


def test_second_call_reuses_the_cache(db):
    embedder = CountingEmbedder()
    texts = ["parcel came late", "fabric feels cheap", "great price"]
    first, stats = embed_units(db, embedder, pairs(texts))
    assert (stats.embedded, stats.reused) == (3, 0)
    assert first.shape == (3, 16) and first.dtype == np.float32

    again, stats = embed_units(db, embedder, pairs(texts + ["new answer"]))
    assert (stats.embedded, stats.reused) == (1, 3)
    assert embedder.seen == texts + ["new answer"]
    assert np.array_equal(again[:3], first)
    assert db.execute("SELECT COUNT(*) FROM embeddings WHERE model = 'counting'").fetchone()[0] == 4


def test_duplicate_texts_are_encoded_once_and_returned_in_input_order(db):
    embedder = CountingEmbedder()
    vectors, stats = embed_units(db, embedder, pairs(["a b", "c d", "a b"]))
    assert embedder.seen == ["a b", "c d"]
    assert (stats.embedded, stats.reused) == (2, 0)
    assert np.array_equal(vectors[0], vectors[2])


def test_cache_is_keyed_by_model(db):
    embed_units(db, HashingEmbedder(name="one", dim=8), pairs(["same text"]))
    _, stats = embed_units(db, HashingEmbedder(name="two", dim=8), pairs(["same text"]))
    assert stats.embedded == 1
    assert set(cached_embeddings(db, "one", ["h:same text"])) == {"h:same text"}


def test_batches_report_progress_and_survive_in_the_cache(db, monkeypatch):
    monkeypatch.setattr("insight.analysis.embed.ENCODE_BATCH", 2)
    calls: list[tuple[int, int]] = []
    texts = [f"text number {i}" for i in range(5)]
    embed_units(db, HashingEmbedder(), pairs(texts), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert len(cached_embeddings(db, "hashing-bow", [f"h:{t}" for t in texts])) == 5


def test_empty_input(db):
    vectors, stats = embed_units(db, HashingEmbedder(), [])
    assert vectors.shape[0] == 0 and (stats.embedded, stats.reused) == (0, 0)


def test_unknown_model_fails_clearly_without_downloading(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(EmbedderUnavailable) as info:
        load_embedder("no-such-org/no-such-model-xyz")
    assert "no-such-org/no-such-model-xyz" in str(info.value)
    assert "nothing is downloaded" in str(info.value)


def test_missing_local_folder_is_named(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(EmbedderUnavailable) as info:
        load_embedder(str(folder))
    assert str(folder) in str(info.value)


@pytest.mark.slow
def test_bundled_model_loads_offline_and_embeds():
    embedder = load_embedder()
    assert embedder.name == DEFAULT_MODEL_NAME
    vectors = embedder.encode(["The parcel arrived late", "Delivery took forever", "I love the colour"])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
