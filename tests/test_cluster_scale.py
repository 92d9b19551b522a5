"""Large scopes: fit on a sample, assign the rest to the nearest theme with the fit's own gate (insight.analysis.cluster,
step 7), on synthetic blobs in 384 dimensions (no model), and the counts a themes run reports."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import spacy
from sklearn.metrics import adjusted_rand_score

from insight.analysis.cluster import (
    ClusterParams,
    assign_to_centroids,
    assignment_gates,
    cluster_embeddings,
    fit_sample,
)
from insight.analysis.embed import HashingEmbedder
from insight.analysis.themes import run_themes
from tests.test_cluster import DIM, blobs, unit
from tests.test_themes import PARAMS, seed_units

SIX = [150, 130, 110, 100, 90, 70]  # 650 points


def test_sample_and_assign_gives_the_themes_of_a_full_fit():
    x, truth, _ = blobs([2 * s for s in SIX], seed=3)
    full = cluster_embeddings(x, ClusterParams())
    sampled = cluster_embeddings(x, ClusterParams(fit_max_points=400))
    assert full.n_clusters == sampled.n_clusters == 6
    assert adjusted_rand_score(full.labels, truth) > 0.99
    both = (full.labels >= 0) & (sampled.labels >= 0)
    assert adjusted_rand_score(full.labels[both], sampled.labels[both]) > 0.99
    assert (sampled.labels >= 0).mean() > 0.97  # a typical row is as close as a member: about 1 in 70 is not
    assert (sampled.fitted, int(sampled.assigned.sum())) == (400, len(x) - 400)
    assert sampled.assigned_after_fit == int((sampled.labels[sampled.assigned] >= 0).sum())
    assert list(sampled.sizes) == sorted(sampled.sizes, reverse=True)  # renumbered by size after the assignment
    # Assigned rows are not HDBSCAN noise, have no UMAP coordinates, and carry their similarity.
    assert not sampled.reassigned[sampled.assigned].any()
    assert np.isnan(sampled.reduced[sampled.assigned]).all()
    assert not np.isnan(sampled.reduced[~sampled.assigned]).any()
    member = sampled.labels >= 0
    expected = np.einsum("ij,ij->i", x[member], sampled.centroids[sampled.labels[member]])
    np.testing.assert_allclose(sampled.similarity[member], expected, atol=1e-5)


def test_below_the_limit_nothing_changes():
    x, _, _ = blobs(SIX[:3], seed=1)
    default = cluster_embeddings(x, ClusterParams())
    at_limit = cluster_embeddings(x, ClusterParams(fit_max_points=len(x)))
    np.testing.assert_array_equal(default.labels, at_limit.labels)
    np.testing.assert_array_equal(default.centroids, at_limit.centroids)
    assert (at_limit.fitted, at_limit.assigned_after_fit, int(at_limit.assigned.sum())) == (len(x), 0, 0)


def test_assigned_rows_pass_the_gate_the_fitted_noise_passes():
    x, _, centres = blobs(SIX, seed=3)
    rng = np.random.default_rng(9)
    # Rows related to blob 0 (cosine about 0.45: above the fixed 0.3) but less similar than its least similar
    # member (about 0.65), and rows unrelated to every blob.
    side = unit(rng.normal(size=(40, DIM)))
    side -= (side @ centres[0])[:, None] * centres[0]
    related = unit(0.45 * centres[0] + np.sqrt(1 - 0.45**2) * unit(side)).astype(np.float32)
    unrelated = unit(rng.normal(size=(40, DIM))).astype(np.float32)
    extra = np.concatenate([related, unrelated])
    params = ClusterParams(fit_max_points=500)
    # The sample depends on the row count and seed only: put the extra rows where it does not look, so the
    # fit sees blob points only and every extra row is judged by the assignment.
    n = len(x) + len(extra)
    outside = np.setdiff1d(np.arange(n), fit_sample(n, 500, None, params.random_state))
    is_extra = np.zeros(n, dtype=bool)
    is_extra[outside[: len(extra)]] = True
    points = np.empty((n, DIM), dtype=np.float32)
    points[is_extra], points[~is_extra] = extra, x
    result = cluster_embeddings(points, params)
    assert result.fitted == 500 and result.assigned.sum() == n - 500 and not result.assigned[~is_extra].all()
    assert result.n_clusters == 6
    gates = assignment_gates(points[~result.assigned], _fitted_part(result, ~result.assigned))
    assert (gates[:6] > 0.55).all()  # the members' own closeness, well above the fixed 0.3
    joined = result.assigned & (result.labels >= 0)
    assert (result.similarity[joined] >= gates[result.labels[joined]] - 1e-6).all()
    assert (result.labels[is_extra] == -1).all()  # 0.45 is related, but less than any member of blob 0 is
    assert (result.labels[result.assigned & ~is_extra] >= 0).mean() > 0.95
    assert result.assigned_after_fit == int(joined.sum())


def _fitted_part(result, fitted: np.ndarray):
    """The result restricted to its fitted rows (what the gates were computed from)."""
    return replace(result, labels=result.labels[fitted], reassigned=result.reassigned[fitted],
                   probabilities=result.probabilities[fitted], similarity=result.similarity[fitted],
                   reduced=None, assigned=np.zeros(int(fitted.sum()), dtype=bool))


def test_assign_to_centroids_takes_the_most_similar_theme_above_its_gate():
    centroids = np.eye(3, 4, dtype=np.float32)
    rows = unit(np.array([[0.9, 0.1, 0, 0], [0.1, 0.6, 0, 0.79], [0, 0, 0.2, 0.98]], dtype=np.float32))
    labels, similarity = assign_to_centroids(rows, centroids, np.array([0.5, 0.8, 0.1]), batch=2)
    assert labels.tolist() == [0, -1, 2]
    assert similarity[0] > 0.9 and np.isnan(similarity[1]) and 0.1 < similarity[2] < 0.3
    none, _ = assign_to_centroids(rows, np.zeros((0, 4), dtype=np.float32), np.zeros(0))
    assert (none == -1).all()


def test_fit_sample_is_stratified_in_proportion_and_seeded():
    strata = np.array(["2026-08"] * 600 + ["2026-09"] * 300 + [None] * 100, dtype=object)
    picked = fit_sample(len(strata), 100, strata, random_state=1)
    assert picked.size == 100 and np.unique(picked).size == 100 and (np.diff(picked) > 0).all()
    chosen = strata[picked]
    assert [int((chosen == w).sum()) for w in ("2026-08", "2026-09")] == [60, 30]
    assert int(sum(c is None for c in chosen)) == 10
    np.testing.assert_array_equal(picked, fit_sample(len(strata), 100, strata, random_state=1))
    assert not np.array_equal(picked, fit_sample(len(strata), 100, strata, random_state=2))
    plain = fit_sample(1000, 100, None, random_state=1)
    assert plain.size == 100 and np.unique(plain).size == 100
    np.testing.assert_array_equal(fit_sample(50, 100, strata[:50], random_state=1), np.arange(50))


def test_a_themes_run_says_how_many_mentions_were_fitted_and_assigned(db, clock):
    ids = seed_units(db, {"delivery": 60, "fabric": 50, "sizing": 40})
    params = replace(PARAMS, fit_max_points=80)
    (summary,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=params, clock=clock)
    total = sum(len(v) for v in ids.values())
    assert summary.fitted == 80 and summary.not_fitted == total - 80
    assigned = db.execute("SELECT COUNT(*) FROM unit_themes WHERE theme_id IS NOT NULL").fetchone()[0]
    assert 0 < summary.assigned_after_fit <= summary.not_fitted
    assert assigned == total - summary.unassigned
    assert len(summary.themes) == 3
