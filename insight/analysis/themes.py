"""The themes pipeline: select units by scope -> embed (cached) -> cluster -> match to the previous run ->
replay researchers' edits -> label -> store.

A scope is one conversation: each survey question on its own, then interviews, reviews and tickets (or all
pooled). A theme keeps its id from run to run when its centroid matches the previous run's (one-to-one, by
cosine similarity above a threshold), so a rename sticks and prevalence per window forms a trend.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import sqlite_utils
from scipy.optimize import linear_sum_assignment
from spacy.language import Language

from insight.analysis.cluster import ClusterParams, cluster_embeddings
from insight.analysis.embed import Embedder, embed_units, normalise_rows
from insight.analysis.general_mentions import is_low_information
from insight.analysis.labels import NOISE, describe_groups
from insight.analysis.parent_themes import draft_parents, write_parents
from insight.analysis.sentiment import ScopeSentiment
from insight.analysis.theme_assign import assign_window, stored_descriptions
from insight.analysis.theme_edits import replay_edits
from insight.analysis.theme_store import StoredTheme, centroid_blob, change_of, scope_themes
from insight.core.clock import Clock, utc_now_iso
from insight.core.db import inserted_id, transaction
from insight.core.errors import InvalidValue
from insight.core.scope import Scope
from insight.core.text import text_hash
from insight.core.theme_counts import refresh_prevalence, refresh_theme_counts
from insight.core.window import SOURCES, Window

MIN_SCOPE_UNITS = 20  # fewer units than this: no themes, a note instead
MATCH_THRESHOLD = 0.8  # centroid cosine similarity for "the same theme as last run"

StageProgress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ScopeUnits:
    """The analysable units of one scope, in unit id order."""

    scope: str
    unit_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)  # customer, or the document when anonymous
    sources: list[str] = field(default_factory=list)
    ratings: list[float | None] = field(default_factory=list)
    windows: list[str | None] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    document_mentions: list[int] = field(default_factory=list)  # analysed mentions in the unit's document

    def document_count(self, indices: list[int] | None = None) -> int:
        """Documents among the given mentions (all when None): what sizes and shares count."""
        chosen = range(len(self.documents)) if indices is None else indices
        return len({self.documents[i] for i in chosen})


@dataclass
class ThemeSummary:
    id: int
    label: str  # the researcher's label when renamed, else the generated one
    size: int  # documents (a document counts once however many of its mentions joined)
    share: float  # of the scope's documents
    change: str
    keywords: list[str]
    phrases: list[str]
    reassigned: int
    mean_rating: float | None
    sources: dict[str, int]
    mentions: int = 0
    customers: int = 0
    kind: str = "topic"
    sentiment: dict[str, int] = field(default_factory=dict)  # mentions by sentiment
    level: str = "sub"  # parent | sub
    parent_id: int | None = None  # a sub-theme's parent
    moved_from: int | None = None  # a sub-theme's parent before this run, when it moved
    children: list[int] = field(default_factory=list)  # a parent's sub-theme ids, largest first


@dataclass
class ThemeRunSummary:
    scope: str
    units: int  # mentions themed
    documents: int = 0
    run_id: int | None = None
    embedded: int = 0
    reused: int = 0
    unassigned: int = 0
    reassigned: int = 0
    themes: list[ThemeSummary] = field(default_factory=list)  # sub-themes
    parents: list[ThemeSummary] = field(default_factory=list)  # parent themes, each listing its sub-themes
    vanished: list[dict] = field(default_factory=list)  # {id, label} of sub-themes
    vanished_parents: list[dict] = field(default_factory=list)  # {id, label}
    note: str | None = None  # why a scope was skipped
    seconds: float = 0.0
    fitted: int = 0  # topic mentions the clustering was fitted on (a large scope: a sample of them)
    assigned_after_fit: int = 0  # mentions outside that sample that joined the nearest theme
    not_fitted: int = 0  # mentions outside the sample (assigned or not)
    kept_themes: bool = False  # a window run that assigned its mentions to the stored themes (theme_assign.py)
    # Mentions per sentiment label, what read them and how the document context moved them (ScopeSentiment.report)
    sentiment: dict | None = None


def select_scopes(
    db: sqlite_utils.Database,
    source: str | None = None,
    question: str | None = None,
    window: str | None = None,
    pool: bool = False,
) -> list[ScopeUnits]:
    """Group the analysable units (analyse=1, non-blank) into scopes, filtered by source, question and window."""
    if source is not None and source not in SOURCES:
        raise InvalidValue(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    where, params = ["u.analyse = 1", "TRIM(u.text) <> ''"], []
    if source:
        where.append("d.source = ?")
        params.append(source)
    if window:
        span = Window.parse(window)
        where.append("d.window_start BETWEEN ? AND ?")
        params += [span.start.isoformat(), span.end.isoformat()]
    rows = db.conn.execute(
        f"""SELECT u.id, u.text, u.text_hash, u.question, d.source, d.id, d.customer_id, d.rating, d.window_start,
                   COUNT(*) OVER (PARTITION BY d.id) AS analysed
            FROM units u JOIN documents d ON d.id = u.document_id
            WHERE {" AND ".join(where)} ORDER BY u.id""",
        params,
    ).fetchall()
    if question:
        rows = [r for r in rows if r[3] is not None and r[3] in _matching_questions({x[3] for x in rows}, question)]
    pooled_name = source if pool and source else None
    scopes: dict[str, ScopeUnits] = {}
    for unit_id, text, hashed, unit_question, doc_source, doc_id, customer, rating, window_start, analysed in rows:
        name = pooled_name or str(Scope.of(doc_source, unit_question, pool))
        scope = scopes.setdefault(name, ScopeUnits(name))
        scope.unit_ids.append(unit_id)
        scope.texts.append(text)
        scope.hashes.append(hashed)
        scope.speakers.append(f"c{customer}" if customer is not None else f"d{doc_id}")
        scope.sources.append(doc_source)
        scope.ratings.append(rating)
        scope.windows.append(window_start)
        scope.documents.append(doc_id)
        scope.document_mentions.append(analysed)
    order = {s: i for i, s in enumerate(SOURCES)}
    return sorted(scopes.values(), key=lambda s: (order.get(Scope.parse(s.scope).source or "", -1), s.scope))


def _matching_questions(questions: set[str | None], wanted: str) -> set[str]:
    """The exact question if present (case-insensitive), else every question containing the text."""
    known = {q for q in questions if q}
    exact = {q for q in known if q.casefold() == wanted.casefold().strip()}
    return exact or {q for q in known if wanted.casefold().strip() in q.casefold()}


def match_to_previous(
    centroids: np.ndarray, previous: list[StoredTheme], threshold: float = MATCH_THRESHOLD
) -> dict[int, int]:
    """cluster index -> previous theme id: one-to-one (Hungarian on cosine similarity), only above threshold."""
    candidates = [(t.id, centroid) for t in previous
                  if (centroid := t.centroid) is not None and centroid.shape[0] == centroids.shape[1]]
    if len(centroids) == 0 or not candidates:
        return {}
    old = normalise_rows(np.stack([c for _, c in candidates]))
    similarity = normalise_rows(centroids) @ old.T
    rows, cols = linear_sum_assignment(-similarity)
    return {int(r): candidates[c][0] for r, c in zip(rows, cols, strict=True) if similarity[r, c] >= threshold}


SentimentScorer = Callable[[np.ndarray, list[str], list[float | None], list[int]], ScopeSentiment]
"""(vectors, texts, star rating where a review is one mention else None, document ids) -> ScopeSentiment: a
(label, score -1..1) per mention, and how they were read (insight.analysis.sentiment.scorer_for)."""
GENERAL_KEY = -(10**9)  # group key of a new general theme (existing themes: their id; new clusters: -(k + 1))


def run_themes(
    db: sqlite_utils.Database,
    embedder: Embedder,
    nlp: Language | None,
    *,
    source: str | None = None,
    question: str | None = None,
    window: str | None = None,
    pool: bool = False,
    params: ClusterParams | None = None,
    clock: Clock = utc_now_iso,
    progress: StageProgress | None = None,
    min_units: int = MIN_SCOPE_UNITS,
    match_threshold: float = MATCH_THRESHOLD,
    sentiment: SentimentScorer | None = None,
) -> list[ThemeRunSummary]:
    """Theme every scope selected by the filters; one summary per scope (skipped scopes carry a note).

    The mentions are taken as stored: `insight.pipeline.theme_feedback` re-derives stale ones first.
    """
    params = params or ClusterParams()
    summaries: list[ThemeRunSummary] = []
    for scope in select_scopes(db, source, question, window, pool):
        started = time.perf_counter()
        if len(scope.unit_ids) < min_units:
            summaries.append(
                ThemeRunSummary(
                    scope.scope, len(scope.unit_ids), scope.document_count(),
                    note=f"skipped: {len(scope.unit_ids)} mentions, at least {min_units} are needed for themes",
                )
            )
            continue
        summary = _run_scope(db, embedder, nlp, scope, window, params, clock, progress, match_threshold, sentiment)
        summary.seconds = round(time.perf_counter() - started, 3)
        summaries.append(summary)
    return summaries


@dataclass(frozen=True)
class FitCounts:
    """How a scope's topic mentions were clustered: fitted directly, or assigned to a theme after a sampled fit."""

    fitted: int = 0
    assigned_after_fit: int = 0  # mentions outside the fitted sample that joined a theme
    not_fitted: int = 0  # mentions outside the fitted sample (assigned or left unassigned)


def cluster_scope(
    vectors: np.ndarray, texts: list[str], params: ClusterParams, documents: list[int] | None = None,
    windows: list[str | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int | None, FitCounts]:
    """(labels, reassigned, centroids, general cluster index or None, fit counts): low-information mentions
    ("love it") form one general cluster, the rest is clustered by `cluster_embeddings` (a large scope on a
    sample stratified by window)."""
    general = np.array([is_low_information(t) for t in texts], dtype=bool)
    if general.sum() < params.resolve(len(texts)).min_cluster_size:
        general[:] = False
    rest = np.flatnonzero(~general)
    owners = None if documents is None else np.asarray(documents)[rest]
    strata = None if windows is None else np.asarray(windows, dtype=object)[rest]
    result = cluster_embeddings(vectors if rest.size == len(texts) else vectors[rest], params, owners, strata)
    fit = FitCounts(result.fitted, result.assigned_after_fit, result.not_fitted)
    labels = np.full(len(texts), NOISE, dtype=np.int64)
    reassigned = np.zeros(len(texts), dtype=bool)
    labels[rest] = result.labels
    reassigned[rest] = result.reassigned
    centroids = np.asarray(result.centroids, dtype=np.float32).reshape(-1, vectors.shape[1])
    if not general.any():
        return labels, reassigned, centroids, None, fit
    index = centroids.shape[0]
    labels[general] = index
    centre = normalise_rows(vectors[general].mean(axis=0, keepdims=True)).astype(np.float32)
    return labels, reassigned, np.vstack([centroids, centre]), index, fit


def _run_scope(
    db: sqlite_utils.Database,
    embedder: Embedder,
    nlp: Language | None,
    scope: ScopeUnits,
    window: str | None,
    params: ClusterParams,
    clock: Clock,
    progress: StageProgress | None,
    match_threshold: float,
    sentiment: SentimentScorer | None,
) -> ThemeRunSummary:
    step = (lambda done, total: progress(f"embedding {scope.scope}", done, total)) if progress else None
    vectors, stats = embed_units(db, embedder, list(zip(scope.hashes, scope.texts, strict=True)), step)
    kept = assign_window(db, scope.scope, embedder.name, vectors, scope.texts, params) if window else None
    keep = kept is not None and kept.fits(params.keep_margin)
    if kept is not None and keep:  # the window fits the stored themes: no re-clustering
        labels, cluster_centroids, general_cluster = kept.labels, kept.centroids, kept.general_cluster
        reassigned = np.zeros(len(labels), dtype=bool)
        fit = FitCounts(0, kept.topic_mentions - kept.unassigned, kept.topic_mentions)
    else:
        labels, reassigned, cluster_centroids, general_cluster, fit = cluster_scope(
            vectors, scope.texts, params, scope.documents, scope.windows)

    previous = {t.id: t for t in scope_themes(db, scope.scope)}
    general_ids = {r[0] for r in db.conn.execute(
        "SELECT id FROM themes WHERE scope = ? AND kind = 'general' AND level = 'sub' ORDER BY id", (scope.scope,))}
    topic_centroids = cluster_centroids[: general_cluster if general_cluster is not None else None]
    matched = match_to_previous(
        topic_centroids, [t for t in previous.values() if t.id not in general_ids and t.level == "sub"],
        match_threshold
    )
    if general_cluster is not None:
        live = [i for i in sorted(general_ids) if previous[i].status == "active"] or sorted(general_ids)
        matched[general_cluster] = live[-1] if live else GENERAL_KEY
    # Group keys: an existing theme id (> 0), or -(cluster + 1) for a cluster that is a new theme.
    members: dict[int, list[int]] = defaultdict(list)
    for index, cluster in enumerate(labels):
        if cluster >= 0:
            members[matched.get(int(cluster), -(int(cluster) + 1))].append(index)
    members = replay_edits(db, scope.scope, members, vectors)
    general_key = matched.get(general_cluster) if general_cluster is not None else None
    groups = np.full(len(labels), NOISE, dtype=int)
    keys = sorted(members, key=lambda k: (-len(members[k]), k))
    centroids: dict[int, np.ndarray] = {}
    for position, key in enumerate(keys):
        groups[members[key]] = position
        centroids[position] = normalise_rows(vectors[members[key]].mean(axis=0, keepdims=True))[0]
    general_positions = {keys.index(general_key)} if general_key in members else set()
    read = _score_sentiment(sentiment, vectors, scope)
    scored = read.readings if read is not None else None

    def embed_phrases(texts: list[str]) -> np.ndarray:  # candidate labels, through the same cache
        return embed_units(db, embedder, [(text_hash(t), t) for t in texts])[0]

    if keep and min(keys, default=0) > 0:  # kept themes keep their words
        described = stored_descriptions(db, keys, groups, vectors, centroids, scope.texts, scope.speakers)
    else:
        described = describe_groups(
            nlp, scope.texts, groups, vectors, scope.speakers, centroids, general_groups=general_positions,
            sentiments=[label for label, _ in scored] if scored is not None else None, embed=embed_phrases,
        )
    parents = draft_parents(
        db, scope=scope.scope, nlp=nlp, texts=scope.texts, speakers=scope.speakers, vectors=vectors, groups=groups,
        sub_keys=keys, sub_described=described, general_positions=general_positions, previous=previous,
        sentiments=[label for label, _ in scored] if scored is not None else None, embed=embed_phrases,
    )

    n = len(labels)
    summary = ThemeRunSummary(
        scope.scope, n, scope.document_count(), embedded=stats.embedded, reused=stats.reused,
        unassigned=int((groups == NOISE).sum()), reassigned=int(reassigned[groups != NOISE].sum()),
        fitted=fit.fitted, assigned_after_fit=fit.assigned_after_fit, not_fitted=fit.not_fitted,
        kept_themes=keep, sentiment=read.report() if read is not None else None,
    )
    windows = sorted({w for w in scope.windows if w})
    span = Window.parse(window) if window else None
    with transaction(db):
        run_id = inserted_id(db.conn.execute(
            """INSERT INTO theme_runs (scope, created_at, model, window_start, window_end, params, units, themes,
               unassigned, embedded, reused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                scope.scope, clock(), embedder.name,
                span.start.isoformat() if span else (windows[0] if windows else None),
                span.end.isoformat() if span else None,
                json.dumps({**asdict(params), "match_threshold": match_threshold, "window": window,
                            "kept_themes": keep}, default=str),
                n, len(keys), summary.unassigned, stats.embedded, stats.reused,
            ),
        ))
        summary.run_id = run_id
        if scored is not None:
            db.conn.executemany(
                "UPDATE units SET sentiment = ?, sentiment_score = ? WHERE id = ?",
                [(label, round(score, 4), unit_id) for unit_id, (label, score) in zip(scope.unit_ids, scored,
                                                                                       strict=True)],
            )
        theme_of: dict[int, int] = {}
        cluster_of = {theme_id: cluster for cluster, theme_id in matched.items()}
        changes: dict[int, str] = {}
        for position, key in enumerate(keys):
            idx = members[key]
            info = described[position]
            share = scope.document_count(idx) / max(1, summary.documents)
            row = {
                "label": info.label,
                "keywords": json.dumps(info.keywords, ensure_ascii=False),
                "phrases": json.dumps(info.phrases, ensure_ascii=False),
                "quotes": json.dumps([scope.unit_ids[i] for i in info.quotes]),
                # Matching uses the centroid of the cluster the theme matched (not of its members after merges
                # and splits were replayed), so each side of a merge is recognised again next time.
                "centroid": centroid_blob(
                    cluster_centroids[cluster_of[key]] if key in cluster_of else centroids[position]
                ),
                "kind": "general" if position in general_positions else "topic",
            }
            old = previous.get(key)
            change = change_of(old, share)
            if old is not None:
                db.conn.execute(
                    """UPDATE themes SET label = :label, keywords = :keywords, phrases = :phrases, quotes = :quotes,
                       centroid = :centroid, kind = :kind, status = 'active', last_run_id = :run, change = :change
                       WHERE id = :id""",
                    {**row, "run": run_id, "change": change, "id": key},
                )
                theme_id = key
            else:
                theme_id = inserted_id(db.conn.execute(
                    """INSERT INTO themes (scope, label, keywords, phrases, quotes, centroid, kind, status,
                       first_run_id, last_run_id, change)
                       VALUES (:scope, :label, :keywords, :phrases, :quotes, :centroid, :kind, 'active', :run, :run,
                       'new')""",
                    {**row, "scope": scope.scope, "run": run_id},
                ))
            theme_of[position] = theme_id
            changes[theme_id] = change
        # Themes that found no units keep the status an edit gave them (merged, split); active ones vanish.
        # A matched theme that was merged or split away still gets the centroid of its cluster, to be found again.
        for cluster, theme_id in matched.items():
            if theme_id not in members and theme_id > 0:
                db.conn.execute(
                    "UPDATE themes SET centroid = ? WHERE id = ?", (centroid_blob(cluster_centroids[cluster]), theme_id)
                )
        for theme in previous.values():
            if theme.id not in members and theme.status == "active" and theme.level == "sub":
                db.conn.execute("UPDATE themes SET status = 'vanished', change = 'vanished' WHERE id = ?", (theme.id,))
                summary.vanished.append({"id": theme.id, "label": theme.display_label})
        _store_assignments(db, scope, summary.run_id, groups, theme_of, vectors, centroids, reassigned, window)
        plan = write_parents(
            db, parents, scope=scope.scope, run_id=summary.run_id, unit_ids=scope.unit_ids, sub_ids=theme_of,
            previous=previous, document_share=lambda idx: scope.document_count(idx) / max(1, summary.documents),
        )
        summary.vanished_parents = plan.vanished
        # Every theme of the scope is recounted (a vanished one has no members left); a window run counts the
        # window's mentions only, as its summary does.
        recount = [*theme_of.values(), *plan.theme_of.values(),
                   *(t.id for t in previous.values() if t.id not in theme_of.values())]
        counts = refresh_theme_counts(db, recount, unit_ids=scope.unit_ids if window else None)
        refresh_prevalence(db, scope.scope)
    parent_of_sub = {theme_of[sub]: parent_id for position, parent_id in plan.theme_of.items()
                     for sub in plan.children[position]}
    for position, key in enumerate(keys):
        theme_id, idx = theme_of[position], members[key]
        c, old, info = counts[theme_id], previous.get(key), described[position]
        summary.themes.append(
            ThemeSummary(
                theme_id, (old.user_label if old and old.user_label else None) or info.label, c.documents, c.share,
                changes[theme_id], info.keywords, info.phrases, c.reassigned, c.mean_rating,
                dict(Counter(source for _, source in {(scope.documents[i], scope.sources[i]) for i in idx})
                     .most_common()), c.mentions, c.customers,
                "general" if position in general_positions else "topic",
                {"positive": c.positive, "neutral": c.neutral, "negative": c.negative},
                parent_id=parent_of_sub.get(theme_id), moved_from=plan.moved.get(theme_id),
            )
        )
    by_id = {theme.id: theme for theme in summary.themes}
    for position, parent_id in plan.theme_of.items():
        c, subs = counts[parent_id], [theme_of[p] for p in plan.children[position]]
        old, info = previous.get(parent_id), parents.described[position]
        label = (old.user_label if old and old.user_label else None) or info.label
        summary.parents.append(
            ThemeSummary(
                parent_id, label, c.documents, c.share, plan.changes[parent_id], info.keywords, info.phrases,
                c.reassigned, c.mean_rating, _merge_counts([by_id[s].sources for s in subs]), c.mentions,
                c.customers, "general" if position in parents.general else "topic",
                {"positive": c.positive, "neutral": c.neutral, "negative": c.negative},
                level="parent", children=sorted(subs, key=lambda s: (-by_id[s].size, s)),
            )
        )
    summary.parents.sort(key=lambda t: (-t.size, t.id))
    return summary


def _merge_counts(parts: list[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total.most_common())


def _score_sentiment(
    sentiment: SentimentScorer | None, vectors: np.ndarray, scope: ScopeUnits
) -> ScopeSentiment | None:
    """Sentiment of every mention; a review that is a single mention passes its stars as a prior, and every
    mention its document, so unsure readings can be read in their document's context."""
    if sentiment is None:
        return None
    priors = [
        rating if source == "review" and count == 1 else None
        for rating, source, count in zip(scope.ratings, scope.sources, scope.document_mentions, strict=True)
    ]
    return sentiment(vectors, scope.texts, priors, scope.documents)


def _store_assignments(
    db: sqlite_utils.Database,
    scope: ScopeUnits,
    run_id: int,
    groups: np.ndarray,
    theme_of: dict[int, int],
    vectors: np.ndarray,
    centroids: dict[int, np.ndarray],
    reassigned: np.ndarray,
    window: str | None,
) -> None:
    """Replace the scope's unit_themes rows: all of them for a full run, the run's units for a window run."""
    if window is None:
        db.conn.execute("DELETE FROM unit_themes WHERE scope = ?", (scope.scope,))
    similarity = np.full(len(groups), np.nan)
    for group, centroid in centroids.items():  # one matrix product per theme, not one per mention
        members = np.flatnonzero(groups == group)
        similarity[members] = vectors[members] @ centroid
    rows = (
        (unit_id, scope.scope, None, run_id, None, 0) if group == NOISE
        else (unit_id, scope.scope, theme_of[group], run_id, float(sim), int(moved))
        for unit_id, group, sim, moved in zip(scope.unit_ids, groups.tolist(), similarity.tolist(), reassigned.tolist(),
                                              strict=True)
    )
    db.conn.executemany(
        """INSERT OR REPLACE INTO unit_themes (unit_id, scope, theme_id, run_id, similarity, reassigned)
           VALUES (?, ?, ?, ?, ?, ?)""",
        rows,
    )
