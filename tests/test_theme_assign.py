"""Window runs that keep the scope's themes (insight/analysis/theme_assign.py): the window's mentions are assigned to the
stored sub-themes with the fit's gate, and the scope is clustered again only when too many find no theme.
HashingEmbedder and a blank spaCy pipeline, the synthetic topics of test_themes.py."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import spacy

import insight.analysis.themes as pipeline
from insight.analysis.embed import HashingEmbedder
from insight.analysis.theme_assign import baseline_unassigned, stored_gates
from insight.analysis.themes import run_themes
from tests.test_themes import PARAMS, seed_units, topic_theme


@pytest.fixture
def themed(db, clock):
    """A scope themed over October: delivery, fabric and sizing."""
    october = seed_units(db, {"delivery": 40, "fabric": 35, "sizing": 30}, window="2026-10-01")
    (first,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock)
    assert not first.kept_themes and len(first.themes) == 3
    return october


def test_a_window_that_says_what_the_scope_says_keeps_the_themes_without_clustering(db, clock, themed, monkeypatch):
    ids = {topic: topic_theme(db, themed, topic) for topic in themed}

    def no_clustering(*args, **kwargs):
        raise AssertionError("the window should have been assigned, not clustered")

    monkeypatch.setattr(pipeline, "cluster_embeddings", no_clustering)
    november = seed_units(db, {"delivery": 30, "fabric": 10, "sizing": 20}, window="2026-11-01", seed=5, tag="n")
    (second,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock, window="2026-11")
    assert second.kept_themes and second.fitted == 0 and second.not_fitted == 60
    assert second.assigned_after_fit == 60 - second.unassigned
    assert second.unassigned / 60 <= baseline_unassigned(db, second.scope) + PARAMS.keep_margin
    for topic, theme_id in ids.items():
        assert topic_theme(db, november, topic) == theme_id
    assert {t.id for t in second.themes} == set(ids.values())
    assert sum(t.mentions for t in second.themes) == 60 - second.unassigned  # the window's numbers
    # October's assignments stay: prevalence has both windows.
    windows = {r[0] for r in db.execute("SELECT window_start FROM theme_prevalence WHERE theme_id = ?",
                                        [ids["delivery"]])}
    assert windows == {"2026-10-01", "2026-11-01"}


def test_a_window_with_a_new_topic_is_clustered_again(db, clock, themed):
    ids = {topic: topic_theme(db, themed, topic) for topic in themed}
    november = seed_units(db, {"delivery": 30, "price": 30}, window="2026-11-01", seed=6, tag="n")
    (second,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock, window="2026-11")
    assert not second.kept_themes and second.fitted == 60
    assert topic_theme(db, november, "delivery") == ids["delivery"]
    assert topic_theme(db, november, "price") not in ids.values()


def test_a_negative_keep_share_always_clusters_again(db, clock, themed):
    seed_units(db, {"delivery": 30, "fabric": 10, "sizing": 20}, window="2026-11-01", seed=5, tag="n")
    params = replace(PARAMS, keep_margin=-1.0)
    (second,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=params, clock=clock, window="2026-11")
    assert not second.kept_themes and second.fitted == 60


def test_stored_gates_are_the_least_similar_member_or_the_threshold(db, clock, themed):
    rows = db.execute("""SELECT theme_id, MIN(similarity) FROM unit_themes WHERE reassigned = 0
                         AND theme_id IS NOT NULL GROUP BY theme_id""").fetchall()
    gates = stored_gates(db, [r[0] for r in rows] + [10**6], PARAMS)
    for theme_id, lowest in rows:
        assert gates[theme_id] == pytest.approx(max(PARAMS.reassign_threshold, lowest))
    assert gates[10**6] == PARAMS.reassign_threshold  # no stored member
    assert set(stored_gates(db, [rows[0][0]], replace(PARAMS, reassign_member_quantile=-1)).values()) == {
        PARAMS.reassign_threshold}


def test_kept_themes_keep_their_words_and_get_quotes_from_the_window(db, clock, themed, monkeypatch):
    before = dict(db.execute("SELECT id, label || keywords || phrases FROM themes WHERE level = 'sub'").fetchall())

    def no_labelling(*args, **kwargs):
        raise AssertionError("kept themes should keep their words, not be described again")

    monkeypatch.setattr(pipeline, "describe_groups", no_labelling)
    november = seed_units(db, {"delivery": 30, "fabric": 10, "sizing": 20}, window="2026-11-01", seed=5, tag="n")
    (second,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock, window="2026-11")
    assert second.kept_themes
    after = dict(db.execute("SELECT id, label || keywords || phrases FROM themes WHERE level = 'sub'").fetchall())
    assert after == before
    window_units = {u for ids in november.values() for u in ids}
    for theme_id, quotes in db.execute("SELECT id, quotes FROM themes WHERE level = 'sub'"):
        assert quotes and set(json.loads(quotes)) <= window_units, theme_id


def test_the_baseline_is_the_last_clustering_not_a_kept_window(db, clock, themed):
    (scope,) = {r[0] for r in db.execute("SELECT scope FROM theme_runs")}
    first = db.execute("SELECT unassigned * 1.0 / units FROM theme_runs").fetchone()[0]
    assert baseline_unassigned(db, scope) == pytest.approx(first)
    assert baseline_unassigned(db, "no such scope") is None
    seed_units(db, {"delivery": 30, "fabric": 10, "sizing": 20}, window="2026-11-01", seed=5, tag="n")
    (kept,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock, window="2026-11")
    assert kept.kept_themes
    assert baseline_unassigned(db, scope) == pytest.approx(first)  # the kept run does not move it
    seed_units(db, {"price": 40, "delivery": 20}, window="2026-12-01", seed=7, tag="d")
    (refit,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock, window="2026-12")
    assert not refit.kept_themes
    assert baseline_unassigned(db, scope) == pytest.approx(refit.unassigned / refit.units)
