"""insight.analysis.cluster on synthetic themes: Gaussian blobs on the unit sphere in 384 dimensions (no model).

The first UMAP call of the session loads (or, on a fresh install, compiles) numba functions; every call after
that takes well under a second on these few hundred points.
"""

from __future__ import annotations

import numpy as np
import pytest

from insight.analysis.cluster import ClusterParams, ClusterResult, cluster_embeddings

DIM = 384


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def blobs(sizes: list[int], spread: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points around random unit centres (per-dimension noise `spread`), normalised; returns (x, truth, centres).

    With spread 0.05 a point's cosine similarity to its own centre is about 0.7, to another centre about 0.
    """
    rng = np.random.default_rng(seed)
    centres = unit(rng.normal(size=(len(sizes), DIM)))
    x = np.concatenate([c + rng.normal(scale=spread, size=(size, DIM)) for c, size in zip(centres, sizes, strict=True)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return unit(x).astype(np.float32), truth, centres


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when a and b group the points identically (label names aside)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.fixture(scope="module")
def four() -> tuple[np.ndarray, np.ndarray, ClusterResult]:
    x, truth, _ = blobs([80, 60, 40, 20])
    return x, truth, cluster_embeddings(x, ClusterParams())


def test_finds_the_blobs(four):
    x, truth, result = four
    assert result.n_clusters == 4
    assert (result.labels >= 0).all()
    assert same_partition(result.labels, truth)
    assert result.labels.dtype == np.int64 and result.labels.shape == (len(x),)


def test_labels_are_numbered_by_size(four):
    _, truth, result = four
    # truth blobs are 80, 60, 40, 20 in input order: theme i is blob i
    assert (result.labels == truth).all()
    assert list(result.sizes) == [80, 60, 40, 20]


def test_equal_sizes_are_ordered_by_first_member():
    x, truth, _ = blobs([50, 50, 50], seed=3)
    order = np.random.default_rng(1).permutation(len(x))
    x, truth = x[order], truth[order]
    result = cluster_embeddings(x)
    assert list(result.sizes) == [50, 50, 50]
    firsts = [int(np.flatnonzero(result.labels == k)[0]) for k in range(3)]
    assert firsts == sorted(firsts)
    assert result.labels[0] == 0


def test_centroids_are_normalised_and_in_the_original_space(four):
    x, truth, result = four
    assert result.centroids.shape == (4, DIM)
    np.testing.assert_allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)
    for k in range(4):
        mean = unit(x[truth == k].mean(axis=0))
        assert float(result.centroids[k] @ mean) > 0.999
    member = result.labels >= 0
    expected = np.einsum("ij,ij->i", x[member], result.centroids[result.labels[member]])
    np.testing.assert_allclose(result.similarity[member], expected, atol=1e-5)


def test_reduced_coordinates_and_resolved_params(four):
    x, _, result = four
    assert result.reduced is not None and result.reduced.shape == (len(x), result.params.n_components)
    assert result.params.min_cluster_size == 10  # 200 points: the floor
    assert set(result.seconds) == {"knn", "umap", "hdbscan", "reassign"}


def test_same_seed_same_labels():
    x, _, _ = blobs([60, 50, 40], spread=0.08, seed=5)
    first = cluster_embeddings(x, ClusterParams(random_state=7))
    second = cluster_embeddings(x.copy(), ClusterParams(random_state=7))
    assert (first.labels == second.labels).all()
    assert (first.reassigned == second.reassigned).all()
    np.testing.assert_array_equal(first.centroids, second.centroids)
    np.testing.assert_array_equal(first.reduced, second.reduced)


# "leaf" selection with small themes leaves many HDBSCAN noise points on these blobs: material for the rule.
NOISY = dict(cluster_selection_method="leaf", min_cluster_size=5, drop_dissimilar_members=False,
             reassign_member_quantile=-1.0)


@pytest.mark.parametrize("space", ["reduced", "original"])
def test_noise_is_reassigned_only_at_or_above_the_threshold(space):
    x, _, _ = blobs([80, 60, 40, 20])
    raw = cluster_embeddings(x, ClusterParams(reassign_threshold=2.0, reassign_space=space, **NOISY))
    every = cluster_embeddings(x, ClusterParams(reassign_threshold=-1.0, reassign_space=space, **NOISY))
    noise = raw.labels == -1
    assert noise.sum() >= 20 and not raw.reassigned.any()
    assert (every.reassigned == noise).all()  # threshold -1: every noise point joins its nearest theme
    assert (every.probabilities[noise] == 0).all()
    threshold = float(np.median(every.similarity[noise]))
    some = cluster_embeddings(x, ClusterParams(reassign_threshold=threshold, reassign_space=space, **NOISY))
    expected = noise & (every.similarity >= threshold)
    assert 0 < expected.sum() < noise.sum()
    assert (some.reassigned == expected).all()
    assert (some.labels[noise & ~expected] == -1).all()
    assert (some.similarity[some.reassigned] >= threshold).all()
    # Reassigned points join the same theme whatever the threshold; HDBSCAN's members do not move.
    joined = some.labels >= 0
    assert same_partition(some.labels[joined], every.labels[joined])
    assert same_partition(some.labels[~noise], raw.labels[~noise])
    if space == "original":  # the nearest theme is the most similar centroid
        best = (x[expected] @ some.centroids.T).argmax(axis=1)
        assert (some.labels[expected] == best).all()


def test_unrelated_points_stay_unassigned():
    """UMAP pulls a lone point into its nearest neighbour's cluster; the similarity gate takes it back out."""
    x, truth, _ = blobs([60, 60, 60], spread=0.03, seed=11)
    strangers = unit(np.random.default_rng(13).normal(size=(5, DIM))).astype(np.float32)
    points = np.concatenate([x, strangers])
    result = cluster_embeddings(points)
    assert same_partition(result.labels[:180], truth)
    assert (result.labels[180:] == -1).all()
    assert not result.reassigned.any()
    assert np.isnan(result.similarity[180:]).all() and (result.probabilities[180:] == 0).all()
    assert (result.similarity[:180] >= result.params.reassign_threshold).all()
    ungated = cluster_embeddings(points, ClusterParams(reassign_threshold=2.0))
    assert (ungated.labels[180:] >= 0).any()  # what the gate is for


@pytest.mark.parametrize("n", [0, 1, 2, 5, 12])
def test_tiny_inputs_come_back_unassigned(n):
    x, _, _ = blobs([n], seed=2) if n else (np.zeros((0, DIM), dtype=np.float32), None, None)
    result = cluster_embeddings(x)
    assert result.labels.shape == (n,) and (result.labels == -1).all()
    assert not result.reassigned.any()
    assert result.centroids.shape == (0, DIM)
    assert result.n_clusters == 0 and result.reduced is None


def test_two_hundred_points_with_defaults():
    x, truth, _ = blobs([50, 50, 50, 50], spread=0.06, seed=21)
    result = cluster_embeddings(x)
    assert result.n_clusters == 4
    assert same_partition(result.labels, truth)
    assert (result.labels == -1).mean() <= 0.05


def test_min_cluster_size_scales_with_the_input():
    params = ClusterParams()
    assert params.resolve(200).min_cluster_size == 10
    assert params.resolve(3_000).min_cluster_size == 12
    assert params.resolve(200_000).min_cluster_size == 800
    assert ClusterParams(min_cluster_size=7).resolve(200_000).min_cluster_size == 7
    assert params.resolve(200).min_samples == 5
    assert ClusterParams(min_samples=None).resolve(3_000).min_samples == 12


def test_bad_input_and_params_are_refused():
    with pytest.raises(ValueError, match="2-D"):
        cluster_embeddings(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        cluster_embeddings(np.full((30, 4), np.nan))
    with pytest.raises(ValueError, match="cluster_selection_method"):
        ClusterParams(cluster_selection_method="biggest").resolve(100)
    with pytest.raises(ValueError, match="reassign_space"):
        ClusterParams(reassign_space="elsewhere").resolve(100)


@pytest.mark.slow  # NNDescent's numba functions compile on first use: about 20 s, not cached across processes
def test_neighbour_search_beyond_the_exact_limit_agrees():
    x, truth, _ = blobs([60, 40, 30], seed=8)
    result = cluster_embeddings(x, ClusterParams(exact_knn_max_points=50))  # NNDescent path
    kept = result.labels >= 0  # the outlier gate may leave a stray point out; the groups must agree
    assert kept.mean() > 0.95 and same_partition(result.labels[kept], truth[kept])


def _catch_all(distinct_topics: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One HDBSCAN theme holding 90% of 200 points that form two tight groups in the reduced space;
    in the original space the groups are two topics, or one topic drawn twice."""
    rng = np.random.default_rng(3)
    reduced = np.concatenate([rng.normal(0, 0.05, (90, 5)), rng.normal(3, 0.05, (90, 5)), rng.normal(9, 0.05, (20, 5))])
    a, b, c = unit(rng.normal(size=(3, DIM)))
    second = b if distinct_topics else a
    x = unit(np.concatenate([a + rng.normal(0, 0.03, (90, DIM)), second + rng.normal(0, 0.03, (90, DIM)),
                             c + rng.normal(0, 0.03, (20, DIM))])).astype(np.float32)
    labels = np.array([0] * 180 + [1] * 20)
    return x, reduced.astype(np.float32), labels


def test_a_catch_all_theme_of_distinct_topics_is_split():
    from insight.analysis.cluster import _split_catch_alls

    x, reduced, labels = _catch_all(distinct_topics=True)
    split = _split_catch_alls(x, reduced, labels, ClusterParams().resolve(len(x)))
    assert len(set(split[:90].tolist())) == 1 and len(set(split[90:180].tolist())) == 1
    assert split[0] != split[100] and split[0] >= 0 and split[100] >= 0
    assert set(split[180:].tolist()) == {split[180]}


def test_one_common_topic_stays_whole():
    from insight.analysis.cluster import _split_catch_alls

    x, reduced, labels = _catch_all(distinct_topics=False)
    assert (_split_catch_alls(x, reduced, labels, ClusterParams().resolve(len(x))) == labels).all()


def test_a_noise_point_joins_only_when_as_close_as_the_themes_own_members():
    x, _, _ = blobs([80, 60, 40, 20])
    params = {**NOISY, "reassign_threshold": -1.0}
    loose = cluster_embeddings(x, ClusterParams(**params))
    gated = cluster_embeddings(x, ClusterParams(**{**params, "reassign_member_quantile": 0.25}))
    assert gated.reassigned.sum() < loose.reassigned.sum()
    members = (gated.labels >= 0) & ~gated.reassigned
    for theme in np.unique(gated.labels[gated.reassigned]):
        own = gated.similarity[members & (gated.labels == theme)]
        joined = gated.similarity[gated.reassigned & (gated.labels == theme)]
        # centroids move a little when points join, so compare with a small tolerance
        assert joined.min() >= np.quantile(own, 0.25) - 0.02


def test_a_catch_all_is_split_but_a_tight_big_theme_is_kept():
    from insight.analysis.cluster import _split_catch_alls, tightness

    rng = np.random.default_rng(1)
    # three loose topics HDBSCAN put in one theme (45%), one tight big theme (25%), three small regular ones
    x, truth, _ = blobs([30, 30, 30, 50, 20, 20, 20])
    x[truth == 3] = unit(x[truth == 3] + 3 * x[truth == 3].mean(axis=0))  # much tighter
    corners = np.array([[0, 0], [8, 0], [0, 8], [30, 30], [-30, 30], [30, -30], [-30, -30]], dtype=float)
    reduced = (corners[truth] + rng.normal(scale=0.5, size=(len(truth), 2))).astype(np.float32)
    labels = np.array([0, 0, 0, 1, 2, 3, 4])[truth]
    tight = tightness(x, labels)
    assert tight[1] > np.median(tight[2:]) > tight[0]
    split = _split_catch_alls(x, reduced, labels, ClusterParams(min_cluster_size=10, min_samples=5).resolve(len(x)))
    catch_all = split[truth <= 2]
    assert len(set(catch_all[catch_all >= 0].tolist())) == 3  # its three topics
    assert len(set(split[truth == 3].tolist())) == 1  # the tight big theme stays whole
