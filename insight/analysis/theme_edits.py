"""Researchers' edits to themes: rename, merge, split. Each is applied now and recorded in theme_edits.

Why they survive a re-run: a rename lives on the theme id, and ids are kept by centroid matching. Merges and
splits are replayed by `replay_edits` after every run's matching, in the order they were made: a merge moves
whatever the other theme matched into the kept one; a split sends the units its parent matched to the nearest
of the parts' centroids (the parts also take part in matching, so they can be found directly too).
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import sqlite_utils
from sklearn.cluster import KMeans
from spacy.language import Language

from insight.analysis.embed import Embedder, cached_embeddings, embed_units, normalise_rows
from insight.analysis.labels import describe_groups
from insight.analysis.theme_store import (
    StoredTheme,
    centroid_blob,
    centroid_from_blob,
    get_theme,
    last_run_model,
)
from insight.core.clock import Clock, utc_now_iso
from insight.core.db import inserted_id, transaction
from insight.core.errors import InsightError
from insight.core.theme_counts import refresh_prevalence, refresh_theme_counts


class ThemeEditError(InsightError, ValueError):
    """An edit that cannot be applied (unknown id, different scopes, inactive theme, too few units)."""


def _record(db: sqlite_utils.Database, clock: Clock, action: str, theme_id: int, other: int | None, payload: dict) -> None:
    db.conn.execute(
        "INSERT INTO theme_edits (created_at, action, theme_id, other_theme_id, payload) VALUES (?, ?, ?, ?, ?)",
        (clock(), action, theme_id, other, json.dumps(payload, ensure_ascii=False)),
    )


def _theme(db: sqlite_utils.Database, theme_id: int) -> StoredTheme:
    try:
        return get_theme(db, theme_id)
    except LookupError as exc:
        raise ThemeEditError(str(exc)) from None


def rename_theme(db: sqlite_utils.Database, theme_id: int, label: str, clock: Clock = utc_now_iso) -> None:
    """Give a theme the researcher's own label; it wins over the generated one in every run after."""
    label = label.strip()
    if not label:
        raise ThemeEditError("a theme label cannot be empty")
    theme = _theme(db, theme_id)
    with transaction(db):
        db.conn.execute("UPDATE themes SET user_label = ? WHERE id = ?", (label, theme_id))
        _record(db, clock, "rename", theme_id, None, {"label": label, "previous": theme.display_label})


def _member_rows(db: sqlite_utils.Database, theme_id: int) -> list[tuple]:
    """(unit_id, text_hash, text, speaker, rating) of a theme's current units."""
    return db.conn.execute(
        """SELECT u.id, u.text_hash, u.text, COALESCE('c' || d.customer_id, 'd' || d.id), d.rating
           FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
           WHERE ut.theme_id = ? ORDER BY u.id""",
        (theme_id,),
    ).fetchall()


def _json_fields(db: sqlite_utils.Database, theme_id: int) -> list[list]:
    """keywords, phrases, quotes of a theme as lists."""
    row = db.conn.execute("SELECT keywords, phrases, quotes FROM themes WHERE id = ?", (theme_id,)).fetchone()
    return [json.loads(value or "[]") for value in row]


def _interleave(first: list, second: list, limit: int) -> list:
    out: list = []
    for pair in zip(first + [None] * len(second), second + [None] * len(first), strict=False):
        for item in pair:
            if item is not None and item not in out:
                out.append(item)
    return out[:limit]


def merge_themes(db: sqlite_utils.Database, keep_id: int, other_id: int, clock: Clock = utc_now_iso) -> None:
    """Fold `other_id` into `keep_id` (same scope): its units, words, phrases and quotes join the kept theme."""
    if keep_id == other_id:
        raise ThemeEditError("cannot merge a theme with itself")
    keep, other = _theme(db, keep_id), _theme(db, other_id)
    if keep.scope != other.scope:
        raise ThemeEditError(f"themes {keep_id} ({keep.scope}) and {other_id} ({other.scope}) are in different scopes")
    for theme in (keep, other):
        if theme.status != "active":
            raise ThemeEditError(f"theme {theme.id} is {theme.status}; only active themes can be merged")
    if keep.level != other.level:
        raise ThemeEditError(
            f"theme {keep_id} is a {keep.level} theme and {other_id} a {other.level} theme; merge themes of one level"
        )
    if keep.level == "parent":
        _merge_parents(db, keep, other, clock)
        return
    keep_words, keep_phrases, keep_quotes = _json_fields(db, keep_id)
    other_words, other_phrases, other_quotes = _json_fields(db, other_id)
    # Both themes keep their own centroid, so a re-run recognises each side and the replayed merge joins them;
    # the size-weighted mix only rescores the members' similarity.
    centroid = None
    if keep.centroid is not None and other.centroid is not None:
        weighted = keep.centroid * max(keep.size, 1) + other.centroid * max(other.size, 1)
        centroid = normalise_rows(weighted[None, :])[0]
    with transaction(db):
        db.conn.execute("UPDATE unit_themes SET theme_id = ? WHERE theme_id = ?", (keep_id, other_id))
        db.conn.execute(
            "UPDATE themes SET keywords = ?, phrases = ?, quotes = ? WHERE id = ?",
            (
                json.dumps(_interleave(keep_words, other_words, 10), ensure_ascii=False),
                json.dumps(_interleave(keep_phrases, other_phrases, 8), ensure_ascii=False),
                json.dumps(_interleave(keep_quotes, other_quotes, 5)),
                keep_id,
            ),
        )
        db.conn.execute(
            "UPDATE themes SET status = 'merged', merged_into = ?, change = 'merged' WHERE id = ?", (keep_id, other_id)
        )
        _rescore_similarity(db, keep_id, centroid, last_run_model(db, keep.scope))
        refresh_theme_counts(db, [keep_id, other_id])
        refresh_prevalence(db, keep.scope)
        _record(db, clock, "merge", keep_id, other_id, {"kept": keep.display_label, "merged": other.display_label})


def _merge_parents(db: sqlite_utils.Database, keep: StoredTheme, other: StoredTheme, clock: Clock) -> None:
    """Fold one parent theme into another: its sub-themes move under the kept parent."""
    keep_words, keep_phrases, keep_quotes = _json_fields(db, keep.id)
    other_words, other_phrases, other_quotes = _json_fields(db, other.id)
    moved = [r[0] for r in db.conn.execute("SELECT id FROM themes WHERE parent_id = ? ORDER BY id", (other.id,))]
    with transaction(db):
        db.conn.execute("UPDATE themes SET parent_id = ? WHERE parent_id = ?", (keep.id, other.id))
        db.conn.execute(
            "UPDATE themes SET keywords = ?, phrases = ?, quotes = ? WHERE id = ?",
            (
                json.dumps(_interleave(keep_words, other_words, 10), ensure_ascii=False),
                json.dumps(_interleave(keep_phrases, other_phrases, 8), ensure_ascii=False),
                json.dumps(_interleave(keep_quotes, other_quotes, 5)),
                keep.id,
            ),
        )
        db.conn.execute(
            "UPDATE themes SET status = 'merged', merged_into = ?, change = 'merged' WHERE id = ?", (keep.id, other.id)
        )
        refresh_theme_counts(db, [keep.id, other.id])
        refresh_prevalence(db, keep.scope)
        _record(db, clock, "merge", keep.id, other.id,
                {"kept": keep.display_label, "merged": other.display_label, "subs": moved})


def parents_before_merges(db: sqlite_utils.Database, scope: str, parent_of: dict[int, int]) -> dict[int, int]:
    """sub-theme id -> parent, with parent merges undone: a sub-theme that a merge moved under the kept parent
    counts for the merged one again, so the next run recognises both sides and the replayed merge joins them."""
    out = dict(parent_of)
    edits = db.conn.execute(
        """SELECT e.theme_id, e.other_theme_id, e.payload FROM theme_edits e JOIN themes t ON t.id = e.theme_id
           WHERE t.scope = ? AND t.level = 'parent' AND e.action = 'merge' ORDER BY e.id DESC""",
        (scope,),
    ).fetchall()
    for keep_id, other_id, payload in edits:
        for sub in json.loads(payload or "{}").get("subs", []):
            if out.get(int(sub)) == keep_id:
                out[int(sub)] = int(other_id)
    return out


def _split_parent(
    db: sqlite_utils.Database, theme: StoredTheme, k: int, nlp: Language | None, clock: Clock
) -> list[int]:
    """Split a parent theme into k parents, grouping its sub-themes by their centroids (k-means)."""
    subs = db.conn.execute(
        "SELECT id, centroid, size FROM themes WHERE parent_id = ? AND status = 'active' ORDER BY size DESC, id",
        (theme.id,),
    ).fetchall()
    subs = [(int(i), centroid_from_blob(blob), int(size)) for i, blob, size in subs if blob is not None]
    if len(subs) < k:
        raise ThemeEditError(
            f"theme {theme.id} is a parent of {len(subs)} sub-themes: too few to split into {k} parents "
            f"(split one of its sub-themes instead)"
        )
    centroids = normalise_rows(np.stack([c for _, c, _ in subs]))
    parts = KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(centroids)
    order = sorted(range(k), key=lambda p: (-sum(size for (_, _, size), q in zip(subs, parts, strict=True) if q == p), p))
    groups = [order.index(int(p)) for p in parts]
    children: list[int] = []
    with transaction(db):
        for g in range(k):
            members = [sub for sub, group in zip(subs, groups, strict=True) if group == g]
            weights = np.array([max(size, 1) for _, _, size in members], dtype=np.float32)
            centroid = normalise_rows((np.stack([c for _, c, _ in members]) * weights[:, None]).sum(0)[None, :])[0]
            labels = db.conn.execute(
                f"SELECT display_label FROM themes WHERE id IN ({','.join('?' * len(members))}) "
                "ORDER BY size DESC, id", [m[0] for m in members],
            ).fetchall()
            label = labels[0][0] if len(members) == 1 else f"{labels[0][0]} / {labels[1][0]}"
            child = inserted_id(db.conn.execute(
                """INSERT INTO themes (scope, label, centroid, level, status, first_run_id, last_run_id, change)
                   SELECT scope, ?, ?, 'parent', 'active', last_run_id, last_run_id, 'split' FROM themes
                   WHERE id = ?""",
                (label, centroid_blob(centroid), theme.id),
            ))
            db.conn.executemany("UPDATE themes SET parent_id = ? WHERE id = ?", [(child, m[0]) for m in members])
            children.append(child)
        db.conn.execute("UPDATE themes SET status = 'split', change = 'split' WHERE id = ?", (theme.id,))
        refresh_theme_counts(db, [theme.id, *children])
        refresh_prevalence(db, theme.scope)
        _record(db, clock, "split", theme.id, None, {"k": k, "children": children, "level": "parent"})
    return children


def _rescore_similarity(db: sqlite_utils.Database, theme_id: int, centroid: np.ndarray | None, model: str | None) -> None:
    """Cosine similarity of each member to the theme's new centroid, where the cached vector is at hand."""
    if centroid is None or model is None:
        return
    rows = _member_rows(db, theme_id)
    vectors = cached_embeddings(db, model, [r[1] for r in rows])
    db.conn.executemany(
        "UPDATE unit_themes SET similarity = ? WHERE unit_id = ? AND theme_id = ?",
        [(float(vectors[h] @ centroid), unit_id, theme_id) for unit_id, h, *_ in rows if h in vectors
         and vectors[h].shape == centroid.shape],
    )


def split_theme(
    db: sqlite_utils.Database,
    theme_id: int,
    *,
    k: int = 2,
    embedder: Embedder | None = None,
    nlp: Language | None = None,
    clock: Clock = utc_now_iso,
) -> list[int]:
    """Re-cluster one theme's units into k parts (KMeans on their embeddings); returns the new theme ids.

    Vectors come from the cache of the model the scope was last themed with; pass `embedder` to embed any that
    are missing. Labels of the parts are computed among the parts only, so they say what tells them apart; without
    `nlp` the default spaCy pipeline is loaded (once per process).
    """
    theme = _theme(db, theme_id)
    if theme.status != "active":
        raise ThemeEditError(f"theme {theme_id} is {theme.status}; only active themes can be split")
    if k < 2:
        raise ThemeEditError("split needs k >= 2 parts")
    if theme.level == "parent":
        return _split_parent(db, theme, k, nlp, clock)
    rows = _member_rows(db, theme_id)
    if len(rows) < 2 * k:
        raise ThemeEditError(f"theme {theme_id} has {len(rows)} units: too few to split into {k} parts")
    model = embedder.name if embedder is not None else last_run_model(db, theme.scope)
    if model is None:
        raise ThemeEditError(f"scope {theme.scope!r} has no theme run to take embeddings from")
    hashes = [r[1] for r in rows]
    if embedder is not None:
        vectors, _ = embed_units(db, embedder, [(r[1], r[2]) for r in rows])
    else:
        cached = cached_embeddings(db, model, hashes)
        missing = sum(1 for h in hashes if h not in cached)
        if missing:
            raise ThemeEditError(
                f"{missing} units of theme {theme_id} have no cached embedding for {model}; pass an embedder"
            )
        vectors = np.stack([cached[h] for h in hashes])
    parts = KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(vectors)
    order = sorted(range(k), key=lambda p: (-int((parts == p).sum()), p))
    groups = np.array([order.index(int(p)) for p in parts])
    centroids = {g: normalise_rows(vectors[groups == g].mean(axis=0, keepdims=True))[0] for g in range(k)}
    texts = [r[2] for r in rows]
    if nlp is None:
        from insight.analysis.nlp import cached_pipeline

        nlp = cached_pipeline().nlp
    described = describe_groups(nlp, texts, groups, vectors, [r[3] for r in rows], centroids)
    run_id = db.conn.execute("SELECT last_run_id FROM themes WHERE id = ?", (theme_id,)).fetchone()[0]
    children: list[int] = []
    with transaction(db):
        for g in range(k):
            info = described[g]
            child = inserted_id(db.conn.execute(
                """INSERT INTO themes (scope, label, keywords, phrases, quotes, centroid, status, first_run_id,
                   last_run_id, change) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, 'split')""",
                (
                    theme.scope, info.label, json.dumps(info.keywords, ensure_ascii=False),
                    json.dumps(info.phrases, ensure_ascii=False), json.dumps([rows[i][0] for i in info.quotes]),
                    centroid_blob(centroids[g]), run_id, run_id,
                ),
            ))
            children.append(child)
        db.conn.executemany(
            "UPDATE unit_themes SET theme_id = ?, similarity = ? WHERE unit_id = ? AND theme_id = ?",
            [
                (children[g], float(vectors[i] @ centroids[g]), rows[i][0], theme_id)
                for i, g in enumerate(groups)
            ],
        )
        db.conn.execute("UPDATE themes SET status = 'split', change = 'split' WHERE id = ?", (theme_id,))
        refresh_theme_counts(db, [theme_id, *children])
        refresh_prevalence(db, theme.scope)
        _record(db, clock, "split", theme_id, None, {"k": k, "children": children, "model": model})
    return children


def replay_edits(
    db: sqlite_utils.Database, scope: str, members: dict[int, list[int]], vectors: np.ndarray, level: str = "sub"
) -> dict[int, list[int]]:
    """Apply the scope's merges and splits of themes of `level`, oldest first, to a run's grouping {theme key:
    item indices}: for sub-themes the items are mentions, for parents the sub-themes (rows of `vectors`).

    A merge moves whatever the other theme holds into the kept one; a split sends the split theme's items to the
    nearest of its parts' stored centroids. New themes carry negative keys and are left alone; the result keeps
    only non-empty groups, sorted indices.
    """
    grouped: dict[int, list[int]] = defaultdict(list, {k: list(v) for k, v in members.items()})
    edits = db.conn.execute(
        """SELECT e.action, e.theme_id, e.other_theme_id, e.payload FROM theme_edits e
           JOIN themes t ON t.id = e.theme_id
           WHERE t.scope = ? AND t.level = ? AND e.action IN ('merge', 'split') ORDER BY e.id""",
        (scope, level),
    ).fetchall()
    for action, theme_id, other_id, payload in edits:
        if action == "merge" and grouped.get(other_id):
            grouped[theme_id].extend(grouped.pop(other_id))
        elif action == "split" and grouped.get(theme_id):
            parts = _stored_centroids(db, [int(c) for c in json.loads(payload or "{}").get("children", [])])
            if not parts or next(iter(parts.values())).shape[0] != vectors.shape[1]:
                continue
            ids = list(parts)
            indices = grouped.pop(theme_id)
            nearest = np.argmax(vectors[indices] @ np.stack(list(parts.values())).T, axis=1)
            for index, part in zip(indices, nearest, strict=True):
                grouped[ids[int(part)]].append(index)
    return {key: sorted(value) for key, value in grouped.items() if value}


def _stored_centroids(db: sqlite_utils.Database, theme_ids: list[int]) -> dict[int, np.ndarray]:
    """theme id -> its stored (normalised) centroid, for those that have one."""
    if not theme_ids:
        return {}
    rows = db.conn.execute(
        f"SELECT id, centroid FROM themes WHERE id IN ({','.join('?' * len(theme_ids))})", theme_ids
    ).fetchall()
    found = {int(tid): centroid_from_blob(blob) for tid, blob in rows if blob is not None}
    return {tid: normalise_rows(found[tid][None, :])[0] for tid in theme_ids if tid in found}
