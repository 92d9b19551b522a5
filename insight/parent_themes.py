"""The parent level of a theme run: group the run's sub-themes, keep parent ids, replay edits, label, store.

Called by the themes pipeline (insight/themes.py) inside the run's transaction, after the sub-themes are
stored and before counts are refreshed. The grouping itself is insight/theme_tree.py; a parent's members are
its sub-themes' members (the theme_units view), so this module stores parent rows and `parent_id` only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils
from spacy.language import Language

from insight.embed import normalise_rows
from insight.labels import NOISE, ThemeDescription, describe_groups
from insight.theme_edits import replay_parent_edits
from insight.theme_store import StoredTheme, centroid_blob, change_of
from insight.theme_tree import match_parents, parent_groups


@dataclass
class ParentPlan:
    """What the run decided for the parent level (positions index the run's sub-theme groups)."""

    theme_of: dict[int, int] = field(default_factory=dict)  # parent position -> parent theme id
    children: dict[int, list[int]] = field(default_factory=dict)  # parent position -> sub positions
    moved: dict[int, int] = field(default_factory=dict)  # sub theme id -> its previous parent id
    changes: dict[int, str] = field(default_factory=dict)  # parent theme id -> change
    vanished: list[dict] = field(default_factory=list)  # {id, label} of parents with no sub-theme left


def store_parents(
    db: sqlite_utils.Database,
    *,
    scope: str,
    run_id: int,
    nlp: Language | None,
    texts: Sequence[str],
    unit_ids: Sequence[int],
    speakers: Sequence[str],
    vectors: np.ndarray,
    groups: np.ndarray,
    sub_ids: dict[int, int],
    sub_described: dict[int, ThemeDescription],
    general_positions: set[int],
    previous: dict[int, StoredTheme],
    sentiments: Sequence[str] | None,
    embed: Callable[[list[str]], np.ndarray] | None,
    document_share: Callable[[list[int]], float],
) -> ParentPlan:
    """Group the run's sub-themes (positions 0..k-1 of `groups`) under parents and write them.

    General themes ("love it") are their own parent. Returns the plan, for the run summary."""
    k = len(sub_ids)
    centroids = np.zeros((k, vectors.shape[1]), dtype=np.float32)
    for position in range(k):
        centroids[position] = normalise_rows(vectors[groups == position].mean(axis=0, keepdims=True))[0]
    topical = [p for p in range(k) if p not in general_positions]
    parent_of = np.full(k, -1, dtype=np.int64)
    if topical:
        parent_of[topical] = parent_groups(centroids[topical])
    next_parent = int(parent_of.max()) + 1
    for position in sorted(general_positions):
        parent_of[position] = next_parent
        next_parent += 1

    children: dict[int, list[int]] = defaultdict(list)
    for position in range(k):
        children[int(parent_of[position])].append(position)
    mentions = np.bincount(groups[groups >= 0], minlength=k)
    new_children = [{sub_ids[p]: int(mentions[p]) for p in children[parent]} for parent in range(next_parent)]
    old_parent_of = {
        t.id: t.parent_id for t in previous.values()
        if t.level == "sub" and t.parent_id is not None and t.parent_id in previous
        and previous[t.parent_id].status in ("active", "vanished")
    }
    matched = match_parents(new_children, old_parent_of)
    # Keys: an existing parent id (> 0) or -(position + 1) for a new parent; edits replay on them.
    keyed = {matched.get(parent, -(parent + 1)): subs for parent, subs in children.items()}
    keyed = replay_parent_edits(db, scope, keyed, centroids)
    keys = sorted(keyed, key=lambda key: (-sum(int((groups == p).sum()) for p in keyed[key]), key))

    parent_groups_of_mentions = np.full(len(groups), NOISE, dtype=int)
    parent_centroids: dict[int, np.ndarray] = {}
    for position, key in enumerate(keys):
        mask = np.isin(groups, keyed[key])
        parent_groups_of_mentions[mask] = position
        parent_centroids[position] = normalise_rows(vectors[mask].mean(axis=0, keepdims=True))[0]
    general_parents = {i for i, key in enumerate(keys) if set(keyed[key]) <= general_positions}
    multi = [i for i, key in enumerate(keys) if len(keyed[key]) > 1]
    described: dict[int, ThemeDescription] = {}
    if multi:
        described = describe_groups(
            nlp, texts, parent_groups_of_mentions, vectors, speakers, parent_centroids,
            general_groups=general_parents, sentiments=sentiments, embed=embed,
        )

    plan = ParentPlan()
    for position, key in enumerate(keys):
        subs = keyed[key]
        # A parent of one sub-theme says what its sub-theme says.
        info = described[position] if len(subs) > 1 else sub_described[subs[0]]
        idx = [int(i) for i in np.flatnonzero(parent_groups_of_mentions == position)]
        share = document_share(idx)
        row = {
            "label": info.label,
            "keywords": json.dumps(info.keywords, ensure_ascii=False),
            "phrases": json.dumps(info.phrases, ensure_ascii=False),
            "quotes": json.dumps([int(unit_ids[i]) for i in info.quotes]),
            "centroid": centroid_blob(parent_centroids[position]),
            "kind": "general" if position in general_parents else "topic",
            "run": run_id,
        }
        old = previous.get(key) if key > 0 else None
        change = change_of(old, share)
        if old is not None:
            db.conn.execute(
                """UPDATE themes SET label = :label, keywords = :keywords, phrases = :phrases, quotes = :quotes,
                   centroid = :centroid, kind = :kind, level = 'parent', parent_id = NULL, status = 'active',
                   last_run_id = :run, change = :change WHERE id = :id""",
                {**row, "change": change, "id": key},
            )
            parent_id = key
        else:
            parent_id = int(db.conn.execute(
                """INSERT INTO themes (scope, label, keywords, phrases, quotes, centroid, kind, level, status,
                   first_run_id, last_run_id, change)
                   VALUES (:scope, :label, :keywords, :phrases, :quotes, :centroid, :kind, 'parent', 'active', :run,
                   :run, 'new')""",
                {**row, "scope": scope},
            ).lastrowid)
        plan.theme_of[position] = parent_id
        plan.children[position] = list(subs)
        plan.changes[parent_id] = change
        for sub in subs:
            sub_id = sub_ids[sub]
            before = previous[sub_id].parent_id if sub_id in previous else None
            moved_from = before if before is not None and before != parent_id else None
            if moved_from is not None:
                plan.moved[sub_id] = moved_from
            db.conn.execute(
                "UPDATE themes SET parent_id = ?, previous_parent_id = ? WHERE id = ?", (parent_id, moved_from, sub_id)
            )
    kept = set(plan.theme_of.values())
    for theme in previous.values():
        if theme.level == "parent" and theme.id not in kept and theme.status == "active":
            db.conn.execute("UPDATE themes SET status = 'vanished', change = 'vanished' WHERE id = ?", (theme.id,))
            plan.vanished.append({"id": theme.id, "label": theme.display_label})
    return plan
