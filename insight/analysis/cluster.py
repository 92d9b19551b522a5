"""Themes from sentence embeddings: reduce with UMAP, find dense groups with HDBSCAN, win back outliers.

numpy in, numpy out: no database, no model loading. `cluster_embeddings(embeddings, ClusterParams())`
returns a `ClusterResult` whose labels are stable for a given input and `random_state`.

The pipeline, step by step (every knob is a field of `ClusterParams`):

1. Rows are L2-normalised, so cosine similarity is a dot product.
2. Cosine k-nearest neighbours: exact (blocked matrix products, BLAS) up to `exact_knn_max_points`
   points, NNDescent (pynndescent, seeded, one thread) above. UMAP receives this graph precomputed, which
   skips its slow pure-Python pairwise path for small inputs (under 4,096 points).
3. UMAP to `n_components` dimensions (`min_dist=0` packs dense groups tightly, which is what a density
   clusterer wants), started from a seeded PCA layout rather than UMAP's spectral one (an eigensolver that
   cost more than the rest of UMAP on 10,000 texts, for no better themes), 100 epochs. HDBSCAN on the raw
   384-d vectors leaves most points as noise: distances concentrate in high dimensions.
4. HDBSCAN on the reduced points, "eom" selection (the most stable groups). `min_cluster_size` defaults to a
   share of the input (`min_cluster_fraction`, 0.4%, floored at `min_cluster_floor`, 10 texts), so 200
   texts and 200,000 texts both give a readable number of themes (never more than n / min_cluster_size).
   "leaf" selection scores a little higher on Banking77's 77 small intents but splits large themes into
   fragments (on samples of 4 to 20 Banking77 intents, and on synthetic blobs), so it is not the default.
   Its weak side is the opposite: on a few hundred texts "eom" can keep one catch-all theme holding most of
   them (76% of the bundled sample's reviews). A theme above `split_fraction` (40%) of the texts is
   therefore clustered again on its own, and replaced by its parts only when they are distinct topics: no
   two part centroids at cosine `split_max_similarity` (0.9) or more in the original space. A genuinely
   common theme (one tight topic) stays whole; Banking77 is unaffected (no theme comes near 40%).
5. Similarity gate and outlier reassignment, both judged in the ORIGINAL embedding space against each
   theme's centroid (the normalised mean of its HDBSCAN members), with one threshold, `reassign_threshold`:
   - UMAP ties every point to its nearest neighbour, so an unrelated text can land inside a cluster. An
     HDBSCAN member whose cosine similarity to its theme's centroid is below the threshold is unassigned
     (`drop_dissimilar_members`), and centroids are recomputed without it.
   - HDBSCAN leaves points in sparse regions as noise (-1). Each such point is offered to its nearest
     theme and joins it when its cosine similarity to that theme's centroid is at least the threshold;
     it is then flagged in `ClusterResult.reassigned`. "Nearest" is measured where HDBSCAN worked
     (`reassign_space="reduced"`, the default: distance to the theme's mean position in the UMAP space,
     which follows the neighbour graph and so a theme's local shape; on Banking77 it puts about 1 NMI point
     more of the outliers right than a cosine argmax does) or by cosine in the original space
     (`reassign_space="original"`). A point below the threshold for that theme stays unassigned.
   So an assigned point is at least that similar to its theme (up to the small shift of a centroid when
   dissimilar members leave it). The default
   0.3 is "related at all" for all-MiniLM-L6-v2 (unrelated sentences score about 0 to 0.2 against each other,
   paraphrases 0.7 and more); a threshold above 1 turns both the gate and the reassignment off.
6. Themes are renumbered by size (after reassignment), largest first; ties go to the theme holding the
   smallest input index. `centroids` are those of step 5 (retained HDBSCAN members; reassigned points are
   not part of them), normalised, in the original embedding space.

7. Large inputs: above `fit_max_points` rows, steps 2-6 run on a sample of that many rows (stratified by the
   `strata` given, e.g. each mention's window, in proportion to their sizes; else a seeded random sample), and
   every other row is then assigned, in batches, to the theme whose centroid it is most similar to (cosine,
   original space) when it passes the gate a fitted noise point passes to join that theme: at least
   `reassign_threshold` and at least as similar as the theme's least similar member (its
   `reassign_member_quantile`), each member measured against the centroid of the other members, as a new
   row is (`assignment_gates`); below it, it stays unassigned. Neighbour graph, UMAP and HDBSCAN thus never see more than `fit_max_points` rows, and
   memory grows linearly with the input. `ClusterResult.fitted` / `assigned_after_fit` say how many rows were
   fitted and how many assigned afterwards (`assigned` marks them); below the limit nothing changes.

Determinism: the same input and `random_state` give identical labels (UMAP runs on one thread when seeded).
Cost: the first UMAP call in a process compiles numba functions (cached on disk by numba afterwards).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from insight.core.errors import InvalidValue

SELECTION_METHODS = ("eom", "leaf")
# Below this many documents, a theme's share of documents says little (8 interviews: every theme is in most of
# them), so the catch-all check counts mentions instead.
MIN_DOCUMENTS_FOR_SHARE = 25
REASSIGN_SPACES = ("reduced", "original")


@dataclass(frozen=True)
class ClusterParams:
    """Every knob of `cluster_embeddings`; a field left at None is derived from the number of points."""

    # Neighbour graph and UMAP reduction.
    n_neighbors: int = 20  # UMAP's neighbourhood: local enough to keep small themes apart
    n_components: int = 5  # reduced dimensions HDBSCAN works in
    min_dist: float = 0.0  # 0: pack dense groups tightly (clustering, not display)
    n_epochs: int = 100  # from a PCA start the groups have formed by then; 200 scored no better
    negative_sample_rate: int = 3  # UMAP's repulsion samples per edge (its default 5): 3 is faster, as good
    exact_knn_max_points: int = 20_000  # exact cosine neighbours up to here, NNDescent above
    # HDBSCAN.
    min_cluster_size: int | None = None  # None: max(min_cluster_floor, round(min_cluster_fraction * n))
    # A sub-theme holds at least this share of the texts. 0.4%: 30-text intents in a scope of 4,500 stay apart
    # (at 0.6%, 141 such intents came out as 65 themes), and the parent level gives the coarse view; measured on
    # Banking77, HWU64 and that mix (bench/themes_quality.py), not one set.
    min_cluster_fraction: float = 0.004
    min_cluster_floor: int = 10  # ... and never fewer texts than this
    min_samples: int | None = 5  # core-distance neighbours; None: HDBSCAN's default (= min_cluster_size)
    cluster_selection_method: str = "eom"  # "eom": HDBSCAN's most stable groups; "leaf": the finest ones
    cluster_selection_epsilon: float = 0.0
    # Catch-all themes: "eom" on a few hundred texts can keep one group holding most of them. A theme above
    # this share of the texts is clustered again on its own; the split is kept only when its parts are
    # distinct topics (no two part centroids closer than `split_max_similarity` in the original space),
    # so one genuinely common theme stays whole. 0 or >= 1 turns the check off.
    split_fraction: float = 0.2
    split_max_similarity: float = 0.9
    split_rounds: int = 3  # a part still above split_fraction is looked at again, up to this many times
    # Similarity gate and outlier reassignment (module docstring, step 5); a threshold above 1 turns both off.
    reassign_threshold: float = 0.3  # cosine similarity to a theme's centroid needed to be in the theme
    # A noise point joins a theme only when it is as close to the centroid as the theme's own members are: at
    # least this quantile of their similarities (0: its least similar member; negative: the fixed gate only).
    # 0 keeps Banking77 at 2.2% unassigned (0.05: 4.1%, 0.25: 8%, where unassigned costs NMI more than it gains).
    reassign_member_quantile: float = 0.0
    reassign_space: str = "reduced"  # where a noise point's nearest theme is measured: "reduced" or "original"
    drop_dissimilar_members: bool = True  # unassign HDBSCAN members below the threshold
    # Above this many rows, fit on a sample of this size and assign the rest (module docstring, step 7).
    fit_max_points: int = 100_000
    assign_batch: int = 50_000  # rows per matrix product when assigning the rest
    # A run over one window of a scope with themes first assigns the window's mentions to the stored themes with
    # the same gate, and keeps the themes when the share left unassigned is at most the share the scope's last
    # clustering left unassigned plus this margin (insight/analysis/theme_assign.py); above it, or negative, the window
    # is clustered afresh. 0.05: a new topic of 5% of the window or more gets clustered.
    keep_margin: float = 0.05
    random_state: int = 42

    def resolve(self, n_points: int) -> ClusterParams:
        """These parameters with every derived value filled in for `n_points` points; validates them."""
        if self.cluster_selection_method not in SELECTION_METHODS:
            raise InvalidValue(f"cluster_selection_method must be one of {SELECTION_METHODS}, "
                             f"not {self.cluster_selection_method!r}")
        if self.reassign_space not in REASSIGN_SPACES:
            raise InvalidValue(f"reassign_space must be one of {REASSIGN_SPACES}, not {self.reassign_space!r}")
        for name in ("n_neighbors", "n_components", "n_epochs", "negative_sample_rate", "min_cluster_floor",
                     "exact_knn_max_points", "fit_max_points", "assign_batch"):
            if getattr(self, name) < 1:
                raise InvalidValue(f"{name} must be at least 1, not {getattr(self, name)}")
        size = self.min_cluster_size
        if size is None:
            size = max(self.min_cluster_floor, round(self.min_cluster_fraction * n_points))
        size = max(2, int(size))
        samples = size if self.min_samples is None else max(1, min(int(self.min_samples), size))
        return replace(self, min_cluster_size=size, min_samples=samples)

    @property
    def cluster_size(self) -> int:
        """`min_cluster_size` as `resolve` filled it in."""
        if self.min_cluster_size is None:
            raise RuntimeError("ClusterParams.resolve() was not called")
        return self.min_cluster_size


@dataclass
class ClusterResult:
    """What `cluster_embeddings` found; arrays are aligned with the input rows, themes numbered 0..k-1."""

    labels: np.ndarray  # int64 (n,): theme index, -1 = unassigned
    reassigned: np.ndarray  # bool (n,): HDBSCAN noise that joined a theme through outlier reassignment
    probabilities: np.ndarray  # float32 (n,): HDBSCAN membership strength; 0 for noise and reassigned points
    similarity: np.ndarray  # float32 (n,): cosine similarity to the own theme's centroid; NaN if unassigned
    centroids: np.ndarray  # float32 (k, d): normalised mean of each theme's HDBSCAN members, original space
    reduced: np.ndarray | None  # float32 (n, n_components): the UMAP coordinates (NaN for rows assigned after
    # the fit); None when not computed
    params: ClusterParams  # the parameters used, derived values filled in (min_cluster_size: of the fit)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    assigned: np.ndarray | None = None  # bool (n,): rows outside the fitted sample (step 7); None: all fitted
    fitted: int = 0  # rows the clustering was fitted on (all of them below `fit_max_points`)
    assigned_after_fit: int = 0  # rows outside the sample that joined a theme (the rest stayed unassigned)

    def __post_init__(self) -> None:
        if self.assigned is None:
            self.assigned = np.zeros(self.labels.shape[0], dtype=bool)
            self.fitted = self.fitted or int(self.labels.shape[0])

    @property
    def not_fitted(self) -> int:
        """Rows outside the fitted sample (assigned to a theme afterwards or left unassigned)."""
        return 0 if self.assigned is None else int(self.assigned.sum())

    @property
    def n_clusters(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """Members per theme (reassigned points included), in theme order (so non-increasing)."""
        return np.bincount(self.labels[self.labels >= 0], minlength=self.n_clusters)


def cluster_embeddings(
    embeddings: np.ndarray, params: ClusterParams | None = None, documents: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> ClusterResult:
    """Group embedding rows into themes; see the module docstring for the steps and `ClusterParams`.

    `documents` (one id per row, optional) says which rows come from the same document: a theme's share for
    the catch-all check is then the share of documents it holds, as users see it, not of rows. `strata` (one
    value per row, optional, e.g. the window) stratifies the fitted sample of an input above `fit_max_points`.

    Inputs too small to hold two themes of `min_cluster_size` come back all unassigned.
    """
    p = params or ClusterParams()
    raw = _checked_shape(embeddings)
    if raw.shape[0] > p.fit_max_points:
        return _fit_sample_assign_rest(raw, p, documents, strata)  # normalises a batch at a time: no copy of all
    return _cluster_unit_rows(_unit_rows(raw), p, documents)


def _cluster_unit_rows(x: np.ndarray, params: ClusterParams, documents: np.ndarray | None) -> ClusterResult:
    """Steps 2-6 of the module docstring on normalised rows."""
    n = x.shape[0]
    p = params.resolve(n)
    seconds: dict[str, float] = {}
    n_neighbors = min(p.n_neighbors, n - 1)
    if n < 2 * p.cluster_size or n_neighbors < 2 or n <= p.n_components + 1:
        return _unassigned(x, p)

    started = time.perf_counter()
    knn_indices, knn_distances = _cosine_knn(x, n_neighbors, p)
    seconds["knn"] = time.perf_counter() - started

    started = time.perf_counter()
    reduced = _umap(x, knn_indices, knn_distances, n_neighbors, p)
    seconds["umap"] = time.perf_counter() - started

    started = time.perf_counter()
    labels, probabilities = _hdbscan(reduced, p)
    labels = _split_catch_alls(x, reduced, labels, p, documents)
    probabilities[labels < 0] = 0.0
    seconds["hdbscan"] = time.perf_counter() - started

    started = time.perf_counter()
    n_found = int(labels.max()) + 1
    centroids = _centroids(x, labels, n_found)
    if p.drop_dissimilar_members and p.reassign_threshold <= 1.0:
        member = np.flatnonzero(labels >= 0)
        too_far = member[_rowwise_cosine(x[member], centroids[labels[member]]) < p.reassign_threshold]
        if too_far.size:
            labels[too_far] = -1
            probabilities[too_far] = 0.0
            centroids = _centroids(x, labels, n_found)
    reassigned = _reassign(x, reduced, labels, centroids, p)
    relabelled = _split_catch_alls(x, reduced, labels, p, documents)
    if not np.array_equal(relabelled, labels):
        # A theme that outgrew the limit through reassignment is judged again, with its new members: its
        # parts keep the members HDBSCAN gave them, and the points left between them are offered again.
        labels = relabelled
        reassigned &= labels >= 0
        centroids = _centroids(x, np.where(reassigned, -1, labels), int(labels.max()) + 1)
        reassigned |= _reassign(x, reduced, labels, centroids, p)
    labels, centroids = _by_size(labels, centroids)
    similarity = np.full(n, np.nan, dtype=np.float32)
    member = np.flatnonzero(labels >= 0)
    similarity[member] = _rowwise_cosine(x[member], centroids[labels[member]])
    probabilities[reassigned] = 0.0
    seconds["reassign"] = time.perf_counter() - started
    return ClusterResult(labels, reassigned, probabilities, similarity, centroids, reduced, p, seconds)


def fit_sample(n: int, size: int, strata: np.ndarray | None, random_state: int) -> np.ndarray:
    """`size` of `n` row indices, ascending: each stratum in proportion to its rows (largest remainders),
    drawn at random within it with a fixed seed; a plain seeded sample without strata."""
    rng = np.random.default_rng(random_state)
    if size >= n:
        return np.arange(n)
    if strata is None:
        return np.sort(rng.choice(n, size=size, replace=False))
    codes = np.unique(np.asarray(strata).astype(str), return_inverse=True)[1].reshape(-1)
    counts = np.bincount(codes)
    quota = counts * (size / n)
    take = np.floor(quota).astype(np.int64)
    short = size - int(take.sum())
    if short > 0:  # the strata with the largest remainders get one more each
        take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(counts)))
    chosen = [rng.choice(order[bounds[s]:bounds[s + 1]], size=int(take[s]), replace=False)
              for s in range(counts.size) if take[s]]
    return np.sort(np.concatenate(chosen))


def assignment_gates(x: np.ndarray, result: ClusterResult) -> np.ndarray:
    """Per theme of a result fitted on rows `x`: the similarity to its centroid a new row needs to join it.

    The gate a noise point of the fit passes: `reassign_threshold`, and the `reassign_member_quantile` of the
    members' similarities, each member measured against the centroid of the theme's OTHER members. A member
    is part of its own centroid and a new row is not; on a theme of 30 members that self-similarity alone
    would turn away about one new row in six that is as typical as the members. -inf when gates are off.
    """
    p = result.params
    if p.reassign_threshold > 1.0:
        return np.full(result.n_clusters, -np.inf)
    gates = np.full(result.n_clusters, p.reassign_threshold, dtype=np.float64)
    if p.reassign_member_quantile < 0:
        return gates
    members = np.where(result.reassigned, -1, result.labels)  # the centroids' own members
    rows = np.flatnonzero(members >= 0)
    theme = members[rows]
    sums = _cluster_sums(x, members, result.n_clusters)
    along = np.einsum("ij,ij->i", x[rows].astype(np.float64), sums[theme])  # x . S, with |x| = 1
    rest = np.sqrt(np.maximum((sums**2).sum(axis=1)[theme] - 2.0 * along + 1.0, 0.0))  # |S - x|
    with np.errstate(invalid="ignore", divide="ignore"):
        held_out = np.where(rest > 1e-9, (along - 1.0) / rest, np.nan)
    order = np.argsort(theme, kind="stable")
    theme, held_out = theme[order], held_out[order]
    bounds = np.searchsorted(theme, np.arange(result.n_clusters + 1))
    for t in range(result.n_clusters):
        own = held_out[bounds[t]:bounds[t + 1]]
        own = own[np.isfinite(own)]
        if own.size:
            gates[t] = max(gates[t], float(np.quantile(own, p.reassign_member_quantile)))
    return gates


def assign_to_centroids(
    x: np.ndarray, centroids: np.ndarray, gates: np.ndarray, batch: int = 50_000
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, similarity) of unit rows: the most similar centroid (cosine) when at least its gate, else -1
    (similarity NaN). Batched, so memory is `batch` x themes whatever the number of rows."""
    n = x.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    similarity = np.full(n, np.nan, dtype=np.float32)
    if centroids.shape[0] == 0:
        return labels, similarity
    for start in range(0, n, batch):
        sims = x[start:start + batch] @ centroids.T
        nearest = sims.argmax(axis=1)
        best = sims[np.arange(nearest.size), nearest]
        ok = best >= gates[nearest]
        labels[start:start + batch] = np.where(ok, nearest, -1)
        similarity[start:start + batch] = np.where(ok, best, np.nan)
    return labels, similarity


def _fit_sample_assign_rest(
    raw: np.ndarray, params: ClusterParams, documents: np.ndarray | None, strata: np.ndarray | None
) -> ClusterResult:
    """Step 7 of the module docstring: fit on `fit_max_points` rows, assign the others to the nearest theme.
    Rows are normalised as they are used (the sample, then one batch at a time), never all at once."""
    n = raw.shape[0]
    started = time.perf_counter()
    sample = fit_sample(n, params.fit_max_points, strata, params.random_state)
    fitted_rows = _unit_rows(raw[sample])
    fit = _cluster_unit_rows(fitted_rows, params, None if documents is None else np.asarray(documents)[sample])
    seconds = {"sample": time.perf_counter() - started - sum(fit.seconds.values()), **fit.seconds}
    started = time.perf_counter()
    rest = np.ones(n, dtype=bool)
    rest[sample] = False
    rest_rows = np.flatnonzero(rest)
    labels = np.full(n, -1, dtype=np.int64)
    similarity = np.full(n, np.nan, dtype=np.float32)
    labels[sample], similarity[sample] = fit.labels, fit.similarity
    gates = assignment_gates(fitted_rows, fit)
    del fitted_rows
    for start in range(0, rest_rows.size, params.assign_batch):
        rows = rest_rows[start:start + params.assign_batch]
        labels[rows], similarity[rows] = assign_to_centroids(_unit_rows(raw[rows]), fit.centroids, gates,
                                                             params.assign_batch)
    labels, centroids = _by_size(labels, fit.centroids)  # the rest can change the order of sizes
    seconds["assign"] = time.perf_counter() - started
    reassigned = np.zeros(n, dtype=bool)
    reassigned[sample] = fit.reassigned
    probabilities = np.zeros(n, dtype=np.float32)
    probabilities[sample] = fit.probabilities
    reduced = None
    if fit.reduced is not None:
        reduced = np.full((n, fit.reduced.shape[1]), np.nan, dtype=np.float32)
        reduced[sample] = fit.reduced
    return ClusterResult(labels, reassigned, probabilities, similarity, centroids, reduced, fit.params, seconds,
                         assigned=rest, fitted=int(sample.size), assigned_after_fit=int((labels[rest] >= 0).sum()))


def tightness(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Mean cosine similarity of each theme's members to its centroid, original space (NaN for an empty theme).

    The measure of "one topic": paraphrases of one complaint sit near their centroid, a catch-all's mixed
    topics pull its centroid to the middle, away from all of them.
    """
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    if k == 0:
        return np.zeros(0)
    centroids = _centroids(x, labels, k)
    member = np.flatnonzero(labels >= 0)
    sims = _rowwise_cosine(x[member], centroids[labels[member]])
    totals = np.bincount(labels[member], weights=sims, minlength=k)
    counts = np.bincount(labels[member], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def _split_catch_alls(
    x: np.ndarray, reduced: np.ndarray, labels: np.ndarray, p: ClusterParams, documents: np.ndarray | None = None
) -> np.ndarray:
    """Split a theme holding more than `split_fraction` of the texts, unless it is as tight as the scope's
    typical theme (its tightness at least the median of the scope's themes): a big theme that is one topic
    stays whole, a catch-all of several topics is replaced by its parts. With no theme of regular size to
    compare with (two or three big themes), nothing is split.

    Parts come from HDBSCAN on the theme's own points ("eom", then "leaf"), else from k-means (k = 2..4,
    best silhouette) when HDBSCAN sees one blob; a split whose parts are near-copies of each other
    (`split_max_similarity`) is not kept.
    """
    if not 0 < p.split_fraction < 1:
        return labels
    labels = labels.copy()
    owners = np.arange(len(labels))
    if documents is not None:
        by_document = np.unique(np.asarray(documents), return_inverse=True)[1]
        if by_document.max() + 1 >= MIN_DOCUMENTS_FOR_SHARE:  # a handful of long interviews: count mentions
            owners = by_document
    limit = p.split_fraction * (int(owners.max()) + 1 if owners.size else 0)
    for _ in range(max(1, p.split_rounds)):
        if labels.max() < 0:
            return labels
        tight = tightness(x, labels)
        sizes = _owners_per_theme(labels, owners, tight.size)
        regular = tight[(sizes <= limit) & np.isfinite(tight)]
        # The typical theme is one of regular size; with none to compare with (a few big themes), none is split.
        if not regular.size:
            break
        typical = float(np.median(regular))
        next_label = int(labels.max()) + 1
        changed = False
        for theme in range(next_label):
            members = np.flatnonzero(labels == theme)
            if sizes[theme] <= limit or members.size < 2 * int(p.min_cluster_size or 2):
                continue
            if tight[theme] >= typical:
                continue  # as tight as a typical theme: one common topic
            sub_labels = _parts(x[members], reduced[members], p)
            if sub_labels is None:
                continue
            labels[members] = np.where(sub_labels >= 0, sub_labels + next_label, -1)
            next_label += int(sub_labels.max()) + 1
            changed = True
        labels = _compact(labels)
        if not changed:
            break
    return labels


def _owners_per_theme(labels: np.ndarray, owners: np.ndarray, k: int) -> np.ndarray:
    """Distinct owners (documents, or the rows themselves) per theme."""
    member = labels >= 0
    if not member.any():
        return np.zeros(k, dtype=np.int64)
    pairs = np.unique(np.stack([labels[member], owners[member]]), axis=1)
    return np.bincount(pairs[0], minlength=k)


def _parts(x: np.ndarray, reduced: np.ndarray, p: ClusterParams) -> np.ndarray | None:
    """Labels of a theme's distinct parts (-1: fits none), or None when it does not come apart."""
    candidates = []
    for method in ("eom", "leaf"):
        sub_labels, _ = _hdbscan(reduced, replace(p, cluster_selection_method=method))
        if sub_labels.max() >= 1:
            candidates.append(sub_labels)
            break
    if not candidates:
        candidates.append(_kmeans_parts(reduced, p))
    sub_labels = candidates[0]
    parts = int(sub_labels.max()) + 1
    if parts < 2:
        return None
    part_centroids = _centroids(x, sub_labels, parts)
    closeness = part_centroids @ part_centroids.T
    np.fill_diagonal(closeness, -1.0)
    if closeness.max() >= p.split_max_similarity:
        return None  # one topic, drawn in parts
    return sub_labels


def _kmeans_parts(reduced: np.ndarray, p: ClusterParams) -> np.ndarray:
    """k-means with the k in 2..4 of best silhouette: for a catch-all HDBSCAN sees as one dense blob."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best, best_score = np.zeros(reduced.shape[0], dtype=np.int64), -1.0
    sample = min(reduced.shape[0], 5000)
    for k in range(2, 5):
        if reduced.shape[0] < k * int(p.min_cluster_size or 2):
            break
        labels = KMeans(n_clusters=k, n_init=3, random_state=p.random_state).fit_predict(reduced)
        score = float(silhouette_score(reduced, labels, sample_size=sample, random_state=p.random_state))
        if score > best_score:
            best, best_score = labels.astype(np.int64), score
    return best


def _compact(labels: np.ndarray) -> np.ndarray:
    """Renumber the themes 0..k-1 (order is fixed later, by size)."""
    kept = np.unique(labels[labels >= 0])
    mapping = np.full(int(labels.max()) + 2 if labels.size else 1, -1, dtype=np.int64)
    mapping[kept] = np.arange(kept.size)
    return np.where(labels >= 0, mapping[np.maximum(labels, 0)], -1).astype(np.int64)


def _checked_shape(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"embeddings must be a 2-D array (texts x dimensions), got shape {x.shape}")
    return x


def _unit_rows(embeddings: np.ndarray) -> np.ndarray:
    x = _checked_shape(embeddings)
    if not np.isfinite(x).all():
        raise ValueError("embeddings contain NaN or infinite values")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def _unassigned(x: np.ndarray, p: ClusterParams) -> ClusterResult:
    n = x.shape[0]
    return ClusterResult(
        labels=np.full(n, -1, dtype=np.int64),
        reassigned=np.zeros(n, dtype=bool),
        probabilities=np.zeros(n, dtype=np.float32),
        similarity=np.full(n, np.nan, dtype=np.float32),
        centroids=np.zeros((0, x.shape[1]), dtype=np.float32),
        reduced=None,
        params=p,
    )


def _cosine_knn(x: np.ndarray, k: int, p: ClusterParams) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows by cosine distance (1 - similarity), itself first, nearest first."""
    if x.shape[0] <= p.exact_knn_max_points:
        return _exact_cosine_knn(x, k)
    import numba
    from pynndescent import NNDescent

    threads = numba.get_num_threads()  # NNDescent sets numba's thread count process-wide
    try:
        index = NNDescent(x, metric="cosine", n_neighbors=k, random_state=p.random_state, n_jobs=1,
                          low_memory=True, compressed=True, verbose=False)
        indices, distances = index.neighbor_graph
    finally:
        numba.set_num_threads(threads)
    return indices.astype(np.int64), distances.astype(np.float32)


def _exact_cosine_knn(x: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        stop = min(start + block, n)
        sims = x[start:stop] @ x.T
        rows = np.arange(stop - start)
        sims[rows, rows + start] = np.inf  # itself first, even among exact duplicates
        # The k-th largest value of each row (np.partition is several times faster than argpartition), then
        # every entry at or above it: k per row, more on ties, ordered by similarity then index.
        kth = np.partition(sims, n - k, axis=1)[:, n - k]
        row, col = np.nonzero(sims >= kth[:, None])
        value = sims[row, col]
        order = np.lexsort((col, -value, row))
        starts = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=stop - start))[:-1]))
        take = order[starts[:, None] + np.arange(k)]
        indices[start:stop] = col[take]
        distances[start:stop] = np.clip(1.0 - value[take], 0.0, 2.0)
    return indices, distances


def _umap(x: np.ndarray, knn_indices: np.ndarray, knn_distances: np.ndarray, n_neighbors: int,
          p: ClusterParams) -> np.ndarray:
    import umap

    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=p.n_components,
        min_dist=p.min_dist,
        n_epochs=p.n_epochs,
        negative_sample_rate=p.negative_sample_rate,
        metric="cosine",
        precomputed_knn=(knn_indices, knn_distances, None),
        init=_pca_init(x, p.n_components, p.random_state),
        random_state=p.random_state,
        n_jobs=1,  # UMAP is only reproducible on one thread
        low_memory=True,
        verbose=False,
    )
    with warnings.catch_warnings():
        # We pass our own neighbour graph without a search index: transform() is unavailable, as intended.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        reduced = reducer.fit_transform(x)
    return np.asarray(reduced, dtype=np.float32)


def _pca_init(x: np.ndarray, n_components: int, random_state: int, iterations: int = 30) -> np.ndarray:
    """UMAP's starting layout: the rows projected on their top principal axes, scaled to +-10.

    UMAP's default spectral start solves an eigenproblem on the neighbour graph that took 9 of 17 seconds on
    10,000 texts here, and gave no better themes. The axes come from subspace iteration on the d x d covariance
    (matrix products only), seeded, so the start is deterministic.
    """
    centred = x - x.mean(axis=0)
    covariance = (centred.T @ centred).astype(np.float64)
    width = min(n_components + 5, covariance.shape[0])
    basis = np.random.default_rng(random_state).normal(size=(covariance.shape[0], width))
    for _ in range(iterations):
        basis, _ = np.linalg.qr(covariance @ basis)
    values, vectors = np.linalg.eigh(basis.T @ covariance @ basis)
    axes = basis @ vectors[:, np.argsort(values)[::-1][:n_components]]
    coords = centred @ axes.astype(np.float32)
    if coords.shape[1] < n_components:  # fewer input dimensions than output ones
        coords = np.pad(coords, ((0, 0), (0, n_components - coords.shape[1])))
    scale = np.abs(coords).max()
    return (coords * (10.0 / scale if scale > 0 else 1.0)).astype(np.float32)


def _hdbscan(reduced: np.ndarray, p: ClusterParams) -> tuple[np.ndarray, np.ndarray]:
    import hdbscan

    model = hdbscan.HDBSCAN(
        min_cluster_size=p.min_cluster_size,
        min_samples=p.min_samples,
        cluster_selection_method=p.cluster_selection_method,
        cluster_selection_epsilon=p.cluster_selection_epsilon,
        metric="euclidean",
        core_dist_n_jobs=1,
    )
    model.fit(reduced.astype(np.float64))
    return model.labels_.astype(np.int64), model.probabilities_.astype(np.float32)


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Normalised mean of each cluster's rows (zero for an empty cluster)."""
    sums = _cluster_sums(x, labels, k)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _cluster_sums(values: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per-cluster sums of rows (k x columns, float64); rows labelled -1 are left out."""
    from scipy.sparse import csr_matrix

    member = np.flatnonzero(labels >= 0)
    onehot = csr_matrix((np.ones(member.size), (labels[member], member)), shape=(k, labels.shape[0]))
    return np.asarray(onehot @ values.astype(np.float64))


def _reassign(x: np.ndarray, reduced: np.ndarray, labels: np.ndarray, centroids: np.ndarray,
              p: ClusterParams) -> np.ndarray:
    """Move noise points into their nearest theme when similar enough (in place); returns who moved."""
    reassigned = np.zeros(labels.shape[0], dtype=bool)
    noise = np.flatnonzero(labels == -1)
    member = labels >= 0
    counts = np.bincount(labels[member], minlength=centroids.shape[0])
    themes = np.flatnonzero(counts)  # themes the similarity gate may have emptied are skipped
    if themes.size == 0 or noise.size == 0 or p.reassign_threshold > 1.0:
        return reassigned
    if p.reassign_space == "reduced":
        centres = _cluster_sums(reduced, labels, centroids.shape[0])[themes] / counts[themes, None]
        points = reduced[noise].astype(np.float64)
        # Squared distances up to the per-point constant |point|^2, which does not change the argmin.
        nearest = themes[((centres**2).sum(axis=1)[None, :] - 2.0 * points @ centres.T).argmin(axis=1)]
    else:
        nearest = themes[(x[noise] @ centroids[themes].T).argmax(axis=1)]
    gate = np.maximum(p.reassign_threshold, _member_gates(x, labels, centroids, p.reassign_member_quantile))
    accepted = _rowwise_cosine(x[noise], centroids[nearest]) >= gate[nearest]
    if p.reassign_space == "reduced" and p.reassign_member_quantile >= 0 and not accepted.all():
        # Not close enough to the theme nearest in the reduced space: the most similar theme may take it.
        similar = themes[(x[noise] @ centroids[themes].T).argmax(axis=1)]
        second = ~accepted & (_rowwise_cosine(x[noise], centroids[similar]) >= gate[similar])
        nearest = np.where(second, similar, nearest)
        accepted |= second
    labels[noise[accepted]] = nearest[accepted]
    reassigned[noise[accepted]] = True
    return reassigned


def _member_gates(x: np.ndarray, labels: np.ndarray, centroids: np.ndarray, quantile: float) -> np.ndarray:
    """Per theme: the `quantile` of its members' cosine similarities to its centroid (0: the least similar
    member); no gate (zeros) when the quantile is negative or the theme is empty."""
    gates = np.zeros(centroids.shape[0])
    if quantile < 0:
        return gates
    member = np.flatnonzero(labels >= 0)
    sims = _rowwise_cosine(x[member], centroids[labels[member]])
    order = np.argsort(labels[member], kind="stable")
    grouped, sims = labels[member][order], sims[order]
    bounds = np.searchsorted(grouped, np.arange(centroids.shape[0] + 1))
    for theme in range(centroids.shape[0]):
        own = sims[bounds[theme]:bounds[theme + 1]]
        if own.size:
            gates[theme] = float(np.quantile(own, quantile))
    return gates


def _rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot product of matching rows (cosine similarity for unit rows)."""
    return np.einsum("ij,ij->i", a, b)


def _by_size(labels: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber non-empty themes by size, largest first; ties: the theme holding the smallest row index first."""
    k = centroids.shape[0]
    member = np.flatnonzero(labels >= 0)
    sizes = np.bincount(labels[member], minlength=k)
    first = np.full(k, labels.shape[0], dtype=np.int64)
    np.minimum.at(first, labels[member], member)
    kept = np.flatnonzero(sizes)
    order = kept[np.lexsort((first[kept], -sizes[kept]))]  # old theme numbers, in their new order
    new_number = np.full(k + 1, -1, dtype=np.int64)  # index k: the unassigned
    new_number[order] = np.arange(order.size)
    return new_number[np.where(labels >= 0, labels, k)], centroids[order]
