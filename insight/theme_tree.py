"""Parent themes over a scope's sub-themes: one clustering of the sub-themes' centroids.

The sub-themes are what HDBSCAN found (insight/cluster.py): fine, at the granularity the data supports. Parents
group them for a first read. They come from Ward linkage over the sub-theme centroids (the same vectors the
sub-themes were judged by), cut at the number of parents with the best silhouette (cosine) between 2 and
`max_parents` (never more than half the sub-themes, so a parent holds two on average): the data sets how many
parents there are, not a constant. Because parents are unions of sub-themes, every sub-theme has exactly one
parent and a parent's members are exactly its sub-themes' members.

Ids: a parent keeps the id of the previous run's parent whose sub-themes it mostly holds (one-to-one, by the
mentions of the sub-themes they share: `match_parents`), so renames and trends follow it; sub-theme ids are
kept by centroid matching first. A sub-theme whose parent changed is reported as moved.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

MAX_PARENTS = 30
MIN_SUBS_FOR_PARENTS = 4  # fewer sub-themes than this: each is its own parent
PARENT_OVERLAP = 0.5  # share of a new parent's mentions that must come from an old parent to keep its id


def parent_groups(centroids: np.ndarray, max_parents: int = MAX_PARENTS) -> np.ndarray:
    """The parent index (0..p-1) of each sub-theme, from its centroid (rows: sub-themes, any order).

    Parents are numbered by their first sub-theme, so sub-themes given largest first give parents roughly in
    size order. Fewer than MIN_SUBS_FOR_PARENTS sub-themes, or no cut that scores a positive silhouette: every
    sub-theme is its own parent (nothing groups them).
    """
    k = int(centroids.shape[0])
    if k < MIN_SUBS_FOR_PARENTS:
        return np.arange(k, dtype=np.int64)
    x = np.asarray(centroids, dtype=np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    tree = linkage(x, method="ward")
    best, best_score = np.arange(k, dtype=np.int64), 0.0
    for n_parents in range(2, min(max_parents, k // 2) + 1):
        groups = fcluster(tree, n_parents, criterion="maxclust") - 1
        if len(set(groups.tolist())) < 2:
            continue
        score = _silhouette(x, groups)
        if score > best_score:
            best, best_score = groups.astype(np.int64), score
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
