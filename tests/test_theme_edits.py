"""Rename, merge and split: applied at once, recorded, and still in force after the themes are re-run."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from test_themes import PARAMS, QUESTION, seed_units, topic_theme

from insight.analysis.embed import HashingEmbedder
from insight.analysis.queries import theme_detail, theme_listing
from insight.analysis.theme_edits import ThemeEditError, merge_themes, rename_theme, replay_edits, split_theme
from insight.analysis.themes import run_themes

SCOPE = f"survey: {QUESTION}"


@pytest.fixture
def themed(db, clock):
    """Three topics themed once; returns (db, unit ids by topic, theme id by topic)."""
    ids = seed_units(db, {"delivery": 30, "fabric": 30, "sizing": 30})
    run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock)
    return db, ids, {topic: topic_theme(db, ids, topic) for topic in ids}


def rerun(db, clock, **kwargs):
    (summary,) = run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock, **kwargs)
    return summary


def members_of_edited_away_themes(db) -> int:
    """Mentions whose theme was merged or split away: membership (theme_units) relies on there being none."""
    return db.execute("""SELECT COUNT(*) FROM unit_themes ut JOIN themes t ON t.id = ut.theme_id
                         WHERE t.status IN ('merged', 'split')""").fetchone()[0]


def edits(db) -> list[tuple]:
    return db.execute("SELECT action, theme_id, other_theme_id FROM theme_edits ORDER BY id").fetchall()


def test_rename_survives_a_rerun(themed, clock):
    db, ids, themes = themed
    rename_theme(db, themes["delivery"], "  Late parcels  ", clock=clock)
    assert theme_detail(db, themes["delivery"]).label == "Late parcels"
    summary = rerun(db, clock)
    assert {t.id: t.label for t in summary.themes}[themes["delivery"]] == "Late parcels"
    assert theme_detail(db, themes["delivery"]).generated_label != "Late parcels"
    assert edits(db) == [("rename", themes["delivery"], None)]


def test_merge_moves_units_and_stays_merged_after_rerun(themed, clock):
    db, ids, themes = themed
    keep, other = themes["delivery"], themes["fabric"]
    sizes = {t.id: t.size for t in theme_listing(db)}
    merge_themes(db, keep, other, clock=clock)
    assert theme_detail(db, keep).size == sizes[keep] + sizes[other]
    merged = theme_detail(db, other)
    assert (merged.status, merged.merged_into, merged.size) == ("merged", keep, 0)
    assert db.execute("SELECT COUNT(*) FROM unit_themes WHERE theme_id = ?", [other]).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM theme_prevalence WHERE theme_id = ?", [other]).fetchone()[0] == 0

    seed_units(db, {"fabric": 10, "delivery": 10}, seed=5, tag="more")
    summary = rerun(db, clock)
    active = {t.id for t in summary.themes}
    assert other not in active and keep in active
    assert topic_theme(db, ids, "fabric") == keep
    assert theme_detail(db, other).status == "merged"
    assert {t.id: t.size for t in summary.themes}[keep] >= 75
    assert members_of_edited_away_themes(db) == 0
    members = db.execute("SELECT COUNT(*) FROM theme_units WHERE theme_id = ? AND sub_theme_id = ?", [keep, keep])
    assert members.fetchone()[0] == db.execute("SELECT COUNT(*) FROM unit_themes WHERE theme_id = ?", [keep]).fetchone()[0]


def test_split_creates_parts_that_survive_a_rerun(db, clock):
    ids = seed_units(db, {"delivery": 30, "fabric": 30, "sizing": 30})
    # Theme once with a high match threshold irrelevant; then merge two topics to have something worth splitting.
    run_themes(db, HashingEmbedder(), spacy.blank("en"), params=PARAMS, clock=clock)
    delivery, fabric = topic_theme(db, ids, "delivery"), topic_theme(db, ids, "fabric")
    merge_themes(db, delivery, fabric, clock=clock)
    children = split_theme(db, delivery, k=2, nlp=spacy.blank("en"), clock=clock)
    assert len(children) == 2
    assert theme_detail(db, delivery).status == "split"
    parts = {topic: topic_theme(db, ids, topic) for topic in ("delivery", "fabric")}
    assert set(parts.values()) == set(children)
    labels = {c: theme_detail(db, c).label for c in children}
    assert any("parcel" in labels[parts["delivery"]] or "late" in labels[parts["delivery"]] for _ in [0])
    assert theme_detail(db, children[0]).size + theme_detail(db, children[1]).size == 60

    summary = rerun(db, clock)
    after = {topic: topic_theme(db, ids, topic) for topic in ("delivery", "fabric")}
    assert after == parts
    active = {t.id for t in summary.themes}
    assert set(children) <= active and delivery not in active and fabric not in active
    assert [e[0] for e in edits(db)] == ["merge", "split"]
    assert members_of_edited_away_themes(db) == 0


def test_edit_errors_are_clear(themed, clock):
    db, ids, themes = themed
    with pytest.raises(ThemeEditError, match="no theme with id 999"):
        rename_theme(db, 999, "x")
    with pytest.raises(ThemeEditError, match="empty"):
        rename_theme(db, themes["delivery"], "  ")
    with pytest.raises(ThemeEditError, match="itself"):
        merge_themes(db, themes["delivery"], themes["delivery"])
    merge_themes(db, themes["delivery"], themes["fabric"])
    with pytest.raises(ThemeEditError, match="merged"):
        merge_themes(db, themes["sizing"], themes["fabric"])
    with pytest.raises(ThemeEditError, match="k >= 2"):
        split_theme(db, themes["sizing"], k=1)
    with pytest.raises(ThemeEditError, match="too few"):
        split_theme(db, themes["sizing"], k=40)
    seed_units(db, {"price": 25, "fabric": 25}, source="review", question=None)
    review = rerun(db, clock, source="review").themes[0].id
    with pytest.raises(ThemeEditError, match="different scopes"):
        merge_themes(db, themes["sizing"], review)
    assert [e[0] for e in edits(db)] == ["merge"]


def test_split_without_cached_vectors_asks_for_an_embedder(themed, clock):
    db, ids, themes = themed
    db.conn.execute("DELETE FROM embeddings")
    db.conn.commit()
    with pytest.raises(ThemeEditError, match="pass an embedder"):
        split_theme(db, themes["sizing"])
    assert len(split_theme(db, themes["sizing"], embedder=HashingEmbedder(), nlp=spacy.blank("en"))) == 2


def test_replay_applies_edits_in_order(db, clock):
    seed_units(db, {"delivery": 2})
    vectors = np.eye(4, dtype=np.float32)
    rows = []
    for label in ("a", "b", "c"):
        rows.append(db.conn.execute(
            "INSERT INTO themes (scope, label, centroid) VALUES (?, ?, ?)",
            (SCOPE, label, np.eye(4, dtype="<f4")[len(rows)].tobytes()),
        ).lastrowid)
    a, b, c = rows
    db.conn.execute("INSERT INTO theme_edits (created_at, action, theme_id, other_theme_id) VALUES ('t', 'merge', ?, ?)",
                    (a, b))
    db.conn.execute("INSERT INTO theme_edits (created_at, action, theme_id, other_theme_id) VALUES ('t', 'merge', ?, ?)",
                    (c, a))
    db.conn.commit()
    grouped = replay_edits(db, SCOPE, {a: [0], b: [1], c: [2], -1: [3]}, vectors)
    assert grouped == {c: [0, 1, 2], -1: [3]}
