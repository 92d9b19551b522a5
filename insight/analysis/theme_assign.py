"""A window run that keeps the scope's themes: the new window's mentions are assigned to the stored sub-themes.

A monthly window added to a large scope mostly says what the scope already says. So a run over one window
(`insight themes --window 2026-11`) of a scope that has themes first offers the window's mentions to the stored
sub-themes' centroids with the gate a fitted theme applies (`insight.analysis.cluster.assign_to_centroids`: the most
similar centroid, joined only at cosine `reassign_threshold` or more and at least as close as that theme's least
similar stored member). When the share of the window's mentions left without a theme is at most the share the
scope's last clustering left unassigned plus `ClusterParams.keep_margin` (5 points: distinct new text of 5% of the
window would be left over), the themes have not changed much: they are kept (their centroids, so their ids, and through the usual matching
their edits and parents; their label, keywords and phrases too, quotes are picked again from the window) and the
run goes on from this assignment, with no neighbour graph, UMAP, HDBSCAN or spaCy pass over the sub-themes:
its cost grows with the window's mentions, not the scope's. Above it (a new topic, or one that drifted), the
window is clustered again as before. The stored themes offered are the scope's topic sub-themes with a centroid
of the right size: active, vanished (found again when mentions come back) and merged ones (their mentions
follow the merge when it is replayed).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from insight.analysis.cluster import ClusterParams, assign_to_centroids
from insight.analysis.general_mentions import is_low_information
from insight.analysis.labels import NOISE, ThemeDescription, representative_quotes
from insight.analysis.theme_store import centroid_from_blob, last_run_model


@dataclass
class WindowAssignment:
    """The window's mentions against the stored themes, shaped as `cluster_scope` returns a clustering."""

    labels: np.ndarray  # index into `centroids` per mention, NOISE when unassigned
    centroids: np.ndarray  # the stored centroids offered (then the general theme's, when there is one)
    general_cluster: int | None  # index of the general theme among `centroids`
    topic_mentions: int  # mentions offered to the topic themes
    unassigned: int  # of those, the ones no theme took
    baseline: float  # share of the mentions the scope's last clustering run left unassigned

    @property
    def unassigned_share(self) -> float:
        """Of all the window's mentions (general ones included, as a run's unassigned share counts them)."""
        return self.unassigned / max(1, self.labels.shape[0])

    def fits(self, margin: float) -> bool:
        """The window says what the stored themes say: no more left over than their own clustering left."""
        return margin >= 0 and self.unassigned_share <= self.baseline + margin


def baseline_unassigned(db: sqlite_utils.Database, scope: str) -> float | None:
    """Share of its mentions the scope's last clustering run left unassigned (runs that kept themes do not
    count, so the baseline cannot creep up from month to month); None before any."""
    row = db.conn.execute(
        """SELECT unassigned, units FROM theme_runs WHERE scope = ? AND NOT COALESCE(json_extract(params,
           '$.kept_themes'), 0) ORDER BY id DESC LIMIT 1""",
        (scope,),
    ).fetchone()
    return None if row is None else row[0] / max(1, row[1])


def stored_gates(db: sqlite_utils.Database, theme_ids: list[int], params: ClusterParams) -> dict[int, float]:
    """theme id -> the similarity a new mention needs: `reassign_threshold`, and the `reassign_member_quantile`
    of the theme's stored members' similarities (members HDBSCAN or the assignment put there, not reassigned
    outliers). Themes with no stored member get the threshold only."""
    gates = {theme_id: params.reassign_threshold for theme_id in theme_ids}
    if params.reassign_member_quantile < 0 or not theme_ids:
        return gates
    rows = db.conn.execute(
        f"""SELECT theme_id, similarity FROM unit_themes WHERE reassigned = 0 AND similarity IS NOT NULL
            AND theme_id IN ({",".join("?" * len(theme_ids))}) ORDER BY theme_id""",
        theme_ids,
    ).fetchall()
    if not rows:
        return gates
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    sims = np.array([r[1] for r in rows], dtype=np.float64)
    bounds = np.flatnonzero(np.diff(ids)) + 1
    for theme_id, own in zip(ids[np.concatenate(([0], bounds))], np.split(sims, bounds), strict=True):
        gates[int(theme_id)] = max(params.reassign_threshold, float(np.quantile(own, params.reassign_member_quantile)))
    return gates


def assign_window(
    db: sqlite_utils.Database,
    scope: str,
    model: str,
    vectors: np.ndarray,
    texts: list[str],
    params: ClusterParams,
) -> WindowAssignment | None:
    """The window's mentions assigned to the scope's stored themes; None when there is nothing to assign to
    (no stored topic sub-theme, another embedding model, centroids of another size)."""
    if params.reassign_threshold > 1.0 or last_run_model(db, scope) != model or not len(vectors):
        return None
    baseline = baseline_unassigned(db, scope)
    if baseline is None:
        return None
    rows = db.conn.execute(
        """SELECT id, centroid, status, merged_into FROM themes WHERE scope = ? AND level = 'sub' AND kind = 'topic'
           AND status IN ('active', 'vanished', 'merged') AND centroid IS NOT NULL ORDER BY id""",
        (scope,),
    ).fetchall()
    stored = [(int(i), centroid_from_blob(blob), status, merged_into) for i, blob, status, merged_into in rows]
    stored = [s for s in stored if s[1] is not None and s[1].shape[0] == vectors.shape[1]]
    if not any(status == "active" for _, _, status, _ in stored):
        return None
    ids = [theme_id for theme_id, _, _, _ in stored]
    gates = stored_gates(db, ids, params)
    into = {theme_id: merged_into for theme_id, _, status, merged_into in stored if status == "merged"}
    for theme_id, target in into.items():  # a merged theme's members now sit in the theme it joined
        seen = {theme_id}
        while target in into and target not in seen:
            seen.add(target)
            target = into[target]
        if target in gates:
            gates[theme_id] = max(gates[theme_id], gates[target])
    centroids = np.stack([c for _, c, _, _ in stored]).astype(np.float32)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)

    general_id = db.conn.execute(
        "SELECT id FROM themes WHERE scope = ? AND kind = 'general' AND status = 'active' ORDER BY id DESC LIMIT 1",
        (scope,),
    ).fetchone()
    general = (np.array([is_low_information(t) for t in texts], dtype=bool) if general_id
               else np.zeros(len(texts), dtype=bool))
    topic = np.flatnonzero(~general)
    labels = np.full(len(texts), NOISE, dtype=np.int64)
    found, _ = assign_to_centroids(vectors[topic], centroids, np.array([gates[i] for i in ids]), params.assign_batch)
    labels[topic] = found
    general_cluster = None
    if general.any():
        general_cluster = centroids.shape[0]
        labels[general] = general_cluster
        centre = vectors[general].mean(axis=0, keepdims=True)
        centroids = np.vstack([centroids, centre / max(float(np.linalg.norm(centre)), 1e-12)]).astype(np.float32)
    return WindowAssignment(labels, centroids, general_cluster, int(topic.size), int((found < 0).sum()), baseline)


def stored_descriptions(
    db: sqlite_utils.Database,
    keys: list[int],
    groups: np.ndarray,
    vectors: np.ndarray,
    centroids: dict[int, np.ndarray],
    texts: Sequence[str],
    speakers: Sequence[str],
) -> dict[int, ThemeDescription]:
    """Per group position: the stored theme's label, keywords and phrases (a kept theme keeps its words), with
    quotes picked from the window's mentions (`representative_quotes`). `keys[p]` is the theme id of position p."""
    rows = {r[0]: r[1:] for r in db.conn.execute(
        f"SELECT id, label, keywords, phrases FROM themes WHERE id IN ({','.join('?' * len(keys))})", keys)}
    described: dict[int, ThemeDescription] = {}
    for position, key in enumerate(keys):
        label, keywords, phrases = rows.get(key, ("", None, None))
        members = np.flatnonzero(groups == position)
        described[position] = ThemeDescription(
            keywords=json.loads(keywords or "[]"), label=label or "", phrases=json.loads(phrases or "[]"),
            quotes=representative_quotes(vectors, members, centroids[position], texts, speakers=speakers),
        )
    return described
