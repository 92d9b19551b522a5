"""Parent themes over a scope's sub-themes: one clustering of the sub-themes' centroids.

The sub-themes are what HDBSCAN found (insight/analysis/cluster.py): fine, at the granularity the data supports. Parents
group them for a first read. They come from complete linkage over the sub-theme centroids (cosine), cut at the
number of parents whose grouping of the mentions has the best silhouette, within sqrt(k)..k/3 for k sub-themes
(`parent_range`): the data sets how many parents there are, within a range a reader can take in. Because parents are unions of sub-themes, every sub-theme has exactly one
parent and a parent's members are exactly its sub-themes' members.

Ids: a parent keeps the id of the previous run's parent whose sub-themes it mostly holds (one-to-one, by the
mentions of the sub-themes they share: `match_parents`), so renames and trends follow it; sub-theme ids are
kept by centroid matching first. A sub-theme whose parent changed is reported as moved.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

MAX_PARENTS = 30
MIN_SUBS_FOR_PARENTS = 4  # fewer sub-themes than this: each is its own parent
PARENT_OVERLAP = 0.5  # share of a new parent's mentions that must come from an old parent to keep its id
SILHOUETTE_SAMPLE = 4000  # mentions the silhouette of a cut is measured on (seeded sample)
# A parent holding more than this share of the judged mentions tells a first reader little ("skin": 69% of a
# skincare shop's reviews): among the cuts in range, one whose parents all stay below it is preferred.
MAX_PARENT_SHARE = 0.5


def parent_range(k: int, max_parents: int = MAX_PARENTS) -> range:
    """How many parents k sub-themes may have: from sqrt(k) (a parent holds about as many sub-themes as there
    are parents) to k / 3 (at least three sub-themes per parent on average), never more than `max_parents`."""
    low = max(2, math.ceil(math.sqrt(k)))
    return range(low, max(low, min(max_parents, k // 3)) + 1)


def parent_groups(
    centroids: np.ndarray,
    points: np.ndarray | None = None,
    point_subs: np.ndarray | None = None,
    max_parents: int = MAX_PARENTS,
    seed: int = 0,
) -> np.ndarray:
    """The parent index (0..p-1) of each sub-theme (rows of `centroids`, any order).

    Complete linkage on cosine distance between the sub-theme centroids: a parent's sub-themes are all within
    the cut distance of each other, so a parent reads as one subject. The cut is the number of parents in
    `parent_range` with the best silhouette (cosine), measured on the mentions themselves when given (`points`,
    with `point_subs` the sub-theme of each; a seeded sample of SILHOUETTE_SAMPLE), so big sub-themes weigh more
    than small ones; else on the centroids. A cut whose largest parent holds at most MAX_PARENT_SHARE of those
    mentions is preferred to any that does not. Fewer than MIN_SUBS_FOR_PARENTS sub-themes: each is its own parent.
    Parents are numbered by their first sub-theme.
    """
    k = int(centroids.shape[0])
    if k < MIN_SUBS_FOR_PARENTS:
        return np.arange(k, dtype=np.int64)
    x = np.asarray(centroids, dtype=np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    tree = linkage(x, method="complete", metric="cosine")
    if points is not None and point_subs is not None and len(point_subs):
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(point_subs), min(len(point_subs), SILHOUETTE_SAMPLE), replace=False)
        judged, subs_of = np.asarray(points)[chosen], np.asarray(point_subs)[chosen]
    else:
        judged, subs_of = x, np.arange(k)
    best, best_key = np.zeros(k, dtype=np.int64), None
    for n_parents in parent_range(k, max_parents):
        groups = fcluster(tree, n_parents, criterion="maxclust") - 1
        labels = groups[subs_of]
        if not 2 <= len(set(labels.tolist())) < len(labels):
            continue
        balanced = np.bincount(labels).max() <= MAX_PARENT_SHARE * len(labels)
        key = (balanced, _silhouette(judged, labels))
        if best_key is None or key > best_key:
            best, best_key = groups.astype(np.int64), key
    if best_key is None:
        return np.arange(k, dtype=np.int64)
    return _renumber(best)


def _silhouette(x: np.ndarray, groups: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(x, groups, metric="cosine"))


def _renumber(groups: np.ndarray) -> np.ndarray:
    """Parents numbered in order of their first sub-theme."""
    order: dict[int, int] = {}
    for g in groups.tolist():
        order.setdefault(g, len(order))
    return np.array([order[g] for g in groups.tolist()], dtype=np.int64)


def match_parents(
    new_children: list[dict[int, int]], old_parent_of: dict[int, int], min_overlap: float = PARENT_OVERLAP
) -> dict[int, int]:
    """new parent index -> old parent id, one-to-one (Hungarian on shared mentions).

    `new_children[i]`: {sub-theme id: its mentions in this run} for new parent i; `old_parent_of`: sub-theme id
    -> its parent before this run. Sub-theme ids are kept across runs, so a new parent and an old one share the
    mentions of the sub-themes they have in common. A pair is kept when those are at least `min_overlap` of the
    new parent's mentions and of the old parent's (counted over its sub-themes present in this run): a parent that
    split in two keeps its id on one side only, a parent that merely lost or gained a small sub-theme keeps it.
    """
    old_ids = sorted(set(old_parent_of.values()))
    if not new_children or not old_ids:
        return {}
    column = {old: j for j, old in enumerate(old_ids)}
    overlap = np.zeros((len(new_children), len(old_ids)))
    old_weight = np.zeros(len(old_ids))
    for i, subs in enumerate(new_children):
        for sub, mentions in subs.items():
            if sub in old_parent_of:
                overlap[i, column[old_parent_of[sub]]] += mentions
                old_weight[column[old_parent_of[sub]]] += mentions
    rows, cols = linear_sum_assignment(-overlap)
    out: dict[int, int] = {}
    for r, c in zip(rows, cols, strict=True):
        shared = overlap[r, c]
        if shared > 0 and shared >= min_overlap * sum(new_children[r].values()) and shared >= min_overlap * old_weight[c]:
            out[int(r)] = old_ids[c]
    return out


def parents_of_rows(vectors: np.ndarray, labels: np.ndarray, max_parents: int = MAX_PARENTS) -> np.ndarray:
    """Parent index per row for a flat clustering (labels 0..k-1, -1 unassigned stays -1): `parent_groups` over
    the normalised mean vector of each sub-theme, as the pipeline groups its sub-themes."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    if k == 0:
        return labels.copy()
    x = np.asarray(vectors, dtype=np.float64)
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, labels[labels >= 0], x[labels >= 0])
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    member = labels >= 0
    parents = parent_groups(sums, x[member], labels[member], max_parents)
    return np.where(labels >= 0, parents[np.maximum(labels, 0)], -1)
