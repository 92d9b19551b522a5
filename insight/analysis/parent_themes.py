"""The parent level of a theme run: group the run's sub-themes, keep parent ids, replay edits, label, store.

Called by the themes pipeline (insight/analysis/themes.py) inside the run's transaction, after the sub-themes are
stored and before counts are refreshed. The grouping itself is insight/analysis/theme_tree.py; a parent's members are
its sub-themes' members (the theme_units view), so this module stores parent rows and `parent_id` only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import sqlite_utils
from spacy.language import Language

from insight.analysis.embed import normalise_rows
from insight.analysis.labels import NOISE, ThemeDescription, describe_groups
from insight.analysis.theme_edits import parents_before_merges, replay_edits
from insight.analysis.theme_store import StoredTheme, centroid_blob, change_of
from insight.analysis.theme_tree import SILHOUETTE_SAMPLE, match_parents, parent_groups
from insight.core.db import inserted_id


@dataclass
class ParentPlan:
    """What the run decided for the parent level (positions index the run's sub-theme groups)."""

    theme_of: dict[int, int] = field(default_factory=dict)  # parent position -> parent theme id
    children: dict[int, list[int]] = field(default_factory=dict)  # parent position -> sub positions
    moved: dict[int, int] = field(default_factory=dict)  # sub theme id -> its previous parent id
    changes: dict[int, str] = field(default_factory=dict)  # parent theme id -> change
    vanished: list[dict] = field(default_factory=list)  # {id, label} of parents with no sub-theme left


@dataclass
class ParentDraft:
    """The parent level worked out before the run's write transaction (labels may embed, which writes)."""

    keys: list[int]  # per parent position: an existing parent id (> 0) or a negative key for a new parent
    subs: list[list[int]]  # per parent position: the sub-theme positions under it
    groups: np.ndarray  # parent position per mention (NOISE when unassigned)
    centroids: dict[int, np.ndarray]
    described: dict[int, ThemeDescription]
    general: set[int]


def draft_parents(
    db: sqlite_utils.Database,
    *,
    scope: str,
    nlp: Language | None,
    texts: Sequence[str],
    speakers: Sequence[str],
    vectors: np.ndarray,
    groups: np.ndarray,
    sub_keys: list[int],
    sub_described: dict[int, ThemeDescription],
    general_positions: set[int],
    previous: dict[int, StoredTheme],
    sentiments: Sequence[str] | None,
    embed: Callable[[list[str]], np.ndarray] | None,
) -> ParentDraft:
    """Group the run's sub-themes (positions 0..k-1 of `groups`; `sub_keys[p]` is the previous theme id a
    sub-theme matched, negative for a new one) under parents, keep parent ids, replay parent edits, label.

    General themes ("love it") are their own parent."""
    k = len(sub_keys)
    centroids = np.zeros((k, vectors.shape[1]), dtype=np.float32)
    for position in range(k):
        centroids[position] = normalise_rows(vectors[groups == position].mean(axis=0, keepdims=True))[0]
    topical = [p for p in range(k) if p not in general_positions]
    parent_of = np.full(k, -1, dtype=np.int64)
    if topical:
        member = np.flatnonzero(np.isin(groups, topical))
        if member.size > SILHOUETTE_SAMPLE:  # the silhouette reads a sample: copy only its vectors
            member = np.sort(np.random.default_rng(0).choice(member, SILHOUETTE_SAMPLE, replace=False))
        position_in_topical = np.full(k, -1, dtype=np.int64)
        position_in_topical[topical] = np.arange(len(topical))
        parent_of[topical] = parent_groups(centroids[topical], vectors[member], position_in_topical[groups[member]])
    next_parent = int(parent_of.max()) + 1 if k else 0
    for position in sorted(general_positions):
        parent_of[position] = next_parent
        next_parent += 1

    children: dict[int, list[int]] = defaultdict(list)
    for position in range(k):
        children[int(parent_of[position])].append(position)
    mentions = np.bincount(groups[groups >= 0], minlength=k)
    new_children = [{sub_keys[p]: int(mentions[p]) for p in children[parent]} for parent in range(next_parent)]
    old_parent_of = {
        t.id: t.parent_id for t in previous.values()
        if t.level == "sub" and t.parent_id is not None and t.parent_id in previous
    }
    matched = match_parents(new_children, parents_before_merges(db, scope, old_parent_of))
    keyed = {matched.get(parent, -(parent + 1)): subs for parent, subs in children.items()}
    keyed = replay_edits(db, scope, keyed, centroids, level="parent")
    keys = sorted(keyed, key=lambda key: (-sum(int(mentions[p]) for p in keyed[key]), key))

    parent_groups_of_mentions = np.full(len(groups), NOISE, dtype=int)
    parent_centroids: dict[int, np.ndarray] = {}
    for position, key in enumerate(keys):
        mask = np.isin(groups, keyed[key])
        parent_groups_of_mentions[mask] = position
        parent_centroids[position] = normalise_rows(vectors[mask].mean(axis=0, keepdims=True))[0]
    general = {i for i, key in enumerate(keys) if set(keyed[key]) <= general_positions}
    described: dict[int, ThemeDescription] = {}
    if any(len(keyed[key]) > 1 for key in keys):
        described = describe_groups(
            nlp, texts, parent_groups_of_mentions, vectors, speakers, parent_centroids,
            general_groups=general, sentiments=sentiments, embed=embed,
        )
    for position, key in enumerate(keys):
        subs = sorted(keyed[key], key=lambda p: (-int(mentions[p]), p))
        if len(subs) == 1:  # a parent of one sub-theme says what its sub-theme says
            described[position] = sub_described[subs[0]]
        elif described[position].label.casefold() in {sub_described[p].label.casefold() for p in subs}:
            # named like one of its sub-themes, it would read as that one: name it by its two largest instead
            described[position] = replace(
                described[position], label=f"{sub_described[subs[0]].label} / {sub_described[subs[1]].label}"
            )
    return ParentDraft(keys, [keyed[key] for key in keys], parent_groups_of_mentions, parent_centroids, described,
                       general)


def write_parents(
    db: sqlite_utils.Database,
    draft: ParentDraft,
    *,
    scope: str,
    run_id: int,
    unit_ids: Sequence[int],
    sub_ids: dict[int, int],
    previous: dict[int, StoredTheme],
    document_share: Callable[[list[int]], float],
) -> ParentPlan:
    """Insert or update the parent rows and point each sub-theme (position -> id in `sub_ids`) at its parent;
    parents of the previous run left with no sub-theme vanish. Inside the run's transaction."""
    plan = ParentPlan()
    for position, key in enumerate(draft.keys):
        info = draft.described[position]
        idx = [int(i) for i in np.flatnonzero(draft.groups == position)]
        share = document_share(idx)
        row = {
            "label": info.label,
            "keywords": json.dumps(info.keywords, ensure_ascii=False),
            "phrases": json.dumps(info.phrases, ensure_ascii=False),
            "quotes": json.dumps([int(unit_ids[i]) for i in info.quotes]),
            "centroid": centroid_blob(draft.centroids[position]),
            "kind": "general" if position in draft.general else "topic",
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
            parent_id = inserted_id(db.conn.execute(
                """INSERT INTO themes (scope, label, keywords, phrases, quotes, centroid, kind, level, status,
                   first_run_id, last_run_id, change)
                   VALUES (:scope, :label, :keywords, :phrases, :quotes, :centroid, :kind, 'parent', 'active', :run,
                   :run, 'new')""",
                {**row, "scope": scope},
            ))
        plan.theme_of[position] = parent_id
        plan.children[position] = list(draft.subs[position])
        plan.changes[parent_id] = change
        for sub in draft.subs[position]:
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
