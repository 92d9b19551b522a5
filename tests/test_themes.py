"""The themes pipeline on a small synthetic brand: scopes, cache reuse, determinism, stable ids across windows,
vanished themes, prevalence and the CSV export. Uses the HashingEmbedder and a blank spaCy pipeline."""

from __future__ import annotations

import csv
import hashlib
import random

import numpy as np
import pytest
import spacy

from insight.analysis.cluster import ClusterParams
from insight.analysis.embed import HashingEmbedder
from insight.analysis.queries import ThemeFilter, theme_detail, theme_listing
from insight.analysis.theme_store import StoredTheme, export_csv
from insight.analysis.themes import match_to_previous, run_themes, select_scopes
from insight.pipeline import theme_feedback

QUESTION = "What almost stopped you from buying?"
# Topic-sized themes for the synthetic data (the defaults' "leaf" selection finds finer sub-groups of phrases).
# The HashingEmbedder draws each synthetic topic as a few distinct phrase groups, and a topic here is often
# over 40% of its tiny scope: the catch-all split (tested in test_cluster.py) would cut it into its phrases.
PARAMS = ClusterParams(min_cluster_size=8, cluster_selection_method="eom", split_fraction=0)
# Every phrase of a topic repeats its anchor words, so topics are well separated for the HashingEmbedder.
TOPICS = {
    "delivery": ["parcel delivery arrived late", "parcel delivery took forever", "courier lost my parcel delivery",
                 "parcel delivery tracking never updated", "parcel delivery stuck at the depot",
                 "parcel delivery came a week late"],
    "fabric": ["fabric feels cheap", "fabric material pilled after washing", "fabric seams came apart",
               "fabric is thin and scratchy", "fabric colour faded after washing", "fabric material feels cheap"],
    "sizing": ["size runs small", "size chart was wrong", "size too tight around the waist", "had to size up twice",
               "size sleeves too long", "size chart runs small"],
    "price": ["price is too high", "found the price cheaper elsewhere", "price discount code failed at checkout",
              "too pricey a price for a tee", "price went up again", "price discount code never worked"],
}


def topic_text(topic: str, rng: random.Random) -> str:
    """One verbatim phrase of the topic plus four of its words: one blob per topic, phrases that recur."""
    words = sorted({w for phrase in TOPICS[topic] for w in phrase.split() if len(w) > 2})
    return f"{rng.choice(TOPICS[topic])}, {' '.join(rng.sample(words, 4))}"


def seed_units(
    db,
    counts: dict[str, int],
    window: str = "2026-10-01",
    source: str = "survey",
    question: str | None = QUESTION,
    seed: int = 0,
    tag: str = "",
) -> dict[str, list[int]]:
    """One document (anonymous customer) per unit; returns unit ids by topic."""
    rng = random.Random(seed)
    ids: dict[str, list[int]] = {}
    end = window[:8] + "28"
    for topic, count in counts.items():
        for i in range(count):
            text = topic_text(topic, rng)
            external = f"{tag}{window}-{topic}-{i}-{source}-{question}"
            doc_id = db.conn.execute(
                """INSERT INTO documents (source, external_id, format, created_at, window_start, window_end, rating,
                   content_hash) VALUES (?, ?, 'test', ?, ?, ?, ?, ?)""",
                (source, external, window + "T10:00:00+00:00", window, end, 4.0 if topic != "fabric" else 2.0,
                 hashlib.sha256(external.encode()).hexdigest()),
            ).lastrowid
            unit_id = db.conn.execute(
                """INSERT INTO units (document_id, position, kind, question, text, text_hash)
                   VALUES (?, 0, 'answer', ?, ?, ?)""",
                (doc_id, question, text, hashlib.sha256(text.encode()).hexdigest()),
            ).lastrowid
            ids.setdefault(topic, []).append(unit_id)
    db.conn.commit()
    return ids


@pytest.fixture
def nlp():
    return spacy.blank("en")


@pytest.fixture
def embedder():
    return HashingEmbedder()


def theme_of_units(db, unit_ids: list[int]) -> set[int | None]:
    marks = ",".join("?" * len(unit_ids))
    return {r[0] for r in db.execute(f"SELECT theme_id FROM unit_themes WHERE unit_id IN ({marks})", unit_ids)}


def topic_theme(db, ids: dict[str, list[int]], topic: str) -> int:
    """The theme most of a topic's units went to."""
    marks = ",".join("?" * len(ids[topic]))
    row = db.execute(
        f"""SELECT theme_id, COUNT(*) FROM unit_themes WHERE unit_id IN ({marks}) AND theme_id IS NOT NULL
            GROUP BY theme_id ORDER BY 2 DESC LIMIT 1""",
        ids[topic],
    ).fetchone()
    return row[0]


def test_scopes_split_by_question_and_source_and_skip_context_units(db):
    seed_units(db, {"delivery": 3})
    seed_units(db, {"price": 2}, question="What made you buy?")
    seed_units(db, {"fabric": 4}, source="review", question=None)
    db.conn.execute("UPDATE units SET analyse = 0 WHERE id = (SELECT MIN(id) FROM units)")
    db.conn.commit()
    scopes = {s.scope: len(s.unit_ids) for s in select_scopes(db)}
    assert scopes == {f"survey: {QUESTION}": 2, "survey: What made you buy?": 2, "review": 4}
    assert [s.scope for s in select_scopes(db, pool=True)] == ["all"]
    assert [s.scope for s in select_scopes(db, source="survey", pool=True)] == ["survey"]
    assert [s.scope for s in select_scopes(db, source="review")] == ["review"]
    assert [s.scope for s in select_scopes(db, question="made you")] == ["survey: What made you buy?"]


def test_window_filter_and_bad_window(db):
    seed_units(db, {"delivery": 3}, window="2026-10-01")
    seed_units(db, {"delivery": 5}, window="2026-11-01", tag="n")
    (scope,) = select_scopes(db, window="2026-11-01..2026-11-30")
    assert len(scope.unit_ids) == 5 and set(scope.windows) == {"2026-11-01"}
    assert [len(s.unit_ids) for s in select_scopes(db, window="2026-10")] == [3]
    with pytest.raises(ValueError, match="START..END"):
        select_scopes(db, window="november")
    with pytest.raises(ValueError, match="unknown source"):
        select_scopes(db, source="tweets")


def test_run_finds_the_topics_labels_them_and_stores_everything(db, embedder, nlp, clock):
    ids = seed_units(db, {"delivery": 40, "fabric": 30, "sizing": 25})
    (summary,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    assert summary.scope == f"survey: {QUESTION}" and summary.units == 95
    assert (summary.embedded, summary.reused) == (len({*db.execute("SELECT text_hash FROM units")}), 0)
    themes = {topic: topic_theme(db, ids, topic) for topic in ids}
    assert len(set(themes.values())) == 3
    for topic, theme_id in themes.items():
        members = [r[0] for r in db.execute("SELECT unit_id FROM unit_themes WHERE theme_id = ?", [theme_id])]
        assert len(set(members) & set(ids[topic])) >= 0.9 * len(members)
        info = theme_detail(db, theme_id)
        vocabulary = " ".join(TOPICS[topic])
        assert any(word in vocabulary for word in info.label.split(" / ")[0].split())
        assert info.change == "new" and info.status == "active"
        assert 3 <= len(info.representative) <= 5 and all(q.source == "survey" for q in info.representative)
        assert info.trend and info.trend[0].window_start == "2026-10-01"
    fabric = theme_detail(db, themes["fabric"])
    assert fabric.mean_rating == pytest.approx(2.0)
    assert db.execute("SELECT COUNT(*) FROM unit_themes").fetchone()[0] == 95
    run = db.execute("SELECT units, themes, model, created_at FROM theme_runs").fetchone()
    assert run == (95, len(summary.themes), "hashing-bow", clock())
    assert sum(t.size for t in summary.themes) + summary.unassigned == 95
    assert summary.themes == sorted(summary.themes, key=lambda t: -t.size)


def test_second_run_reuses_every_embedding_and_is_deterministic(db, embedder, nlp, clock):
    seed_units(db, {"delivery": 30, "fabric": 30, "price": 25})
    (first,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    before = db.execute("SELECT unit_id, theme_id, similarity FROM unit_themes ORDER BY unit_id").fetchall()
    labels = [(t.id, t.label, t.size) for t in first.themes]
    (second,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    assert (second.embedded, second.reused) == (0, first.embedded)
    assert [(t.id, t.label, t.size) for t in second.themes] == labels
    assert {t.change for t in second.themes} == {"stable"}
    after = db.execute("SELECT unit_id, theme_id, similarity FROM unit_themes ORDER BY unit_id").fetchall()
    assert [r[:2] for r in after] == [r[:2] for r in before]


def test_same_data_in_two_databases_gives_the_same_themes(tmp_path, embedder, nlp, clock):
    from insight.core.db import open_db

    results = []
    for name in ("a.db", "b.db"):
        db = open_db(tmp_path / name, clock)
        seed_units(db, {"delivery": 30, "sizing": 30})
        (summary,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
        results.append(
            ([(t.label, t.size, t.keywords, t.phrases) for t in summary.themes],
             db.execute("SELECT unit_id, theme_id FROM unit_themes ORDER BY unit_id").fetchall())
        )
    assert results[0] == results[1]


def test_themes_keep_their_ids_across_windows(db, embedder, nlp, clock):
    october = seed_units(db, {"delivery": 30, "fabric": 40}, window="2026-10-01")
    (first,) = run_themes(db, embedder, nlp, params=PARAMS, window="2026-10-01..2026-10-31", clock=clock)
    delivery, fabric = topic_theme(db, october, "delivery"), topic_theme(db, october, "fabric")

    november = seed_units(db, {"delivery": 60, "fabric": 20, "sizing": 20}, window="2026-11-01", seed=1)
    (second,) = run_themes(db, embedder, nlp, params=PARAMS, window="2026-11-01..2026-11-30", clock=clock)
    assert second.embedded == len({*db.execute(
        "SELECT text_hash FROM units u JOIN documents d ON d.id = u.document_id WHERE d.window_start = '2026-11-01'"
    )} - {*db.execute(
        "SELECT text_hash FROM units u JOIN documents d ON d.id = u.document_id WHERE d.window_start = '2026-10-01'"
    )})
    assert topic_theme(db, november, "delivery") == delivery
    assert topic_theme(db, november, "fabric") == fabric
    sizing = topic_theme(db, november, "sizing")
    assert sizing not in {delivery, fabric}
    changes = {t.id: t.change for t in second.themes}
    assert (changes[delivery], changes[fabric], changes[sizing]) == ("grown", "shrunk", "new")
    # October's assignments stay: prevalence shows both windows for the kept themes.
    windows = {r[0]: r[1] for r in db.execute(
        "SELECT window_start, units FROM theme_prevalence WHERE theme_id = ? ORDER BY window_start", [delivery]
    )}
    assert set(windows) == {"2026-10-01", "2026-11-01"} and windows["2026-11-01"] > windows["2026-10-01"]

    seed_units(db, {"delivery": 30, "sizing": 30}, window="2026-12-01", seed=2)
    (third,) = run_themes(db, embedder, nlp, params=PARAMS, window="2026-12-01..2026-12-31", clock=clock)
    assert {v["id"] for v in third.vanished} == {fabric}
    statuses = {t.id: t.status for t in theme_listing(db, ThemeFilter(include_inactive=True))}
    assert statuses[fabric] == "vanished" and statuses[delivery] == statuses[sizing] == "active"


def test_small_scopes_are_skipped_with_a_note(db, embedder, nlp):
    seed_units(db, {"delivery": 5}, source="ticket", question=None)
    (summary,) = run_themes(db, embedder, nlp, params=PARAMS)
    assert summary.run_id is None and "at least 20" in summary.note
    assert db.execute("SELECT COUNT(*) FROM theme_runs").fetchone()[0] == 0


def test_match_to_previous_is_one_to_one_and_thresholded():
    def theme(tid, vec):
        return StoredTheme(tid, "s", "l", None, np.array(vec, dtype=np.float32), 1, 0.1, "active", None, None)

    new = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 0, 1]], dtype=np.float32)
    previous = [theme(7, [1, 0, 0]), theme(8, [0, 1, 0])]
    # Cluster 0 and 1 both resemble theme 7; only one may take it. Cluster 2 resembles nothing.
    assert match_to_previous(new, previous, threshold=0.8) == {0: 7}


def test_export_writes_one_row_per_unit(db, embedder, nlp, clock, tmp_path):
    seed_units(db, {"delivery": 30, "fabric": 30})
    seed_units(db, {"price": 3}, source="ticket", question=None)
    run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    out = tmp_path / "themes.csv"
    count = export_csv(db, out)
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert count == len(rows) == 63
    themed = [r for r in rows if r["theme_id"]]
    assert len(themed) >= 55
    label_of = {t.id: t.label for t in theme_listing(db)}
    assert all(r["theme_label"] == label_of[int(r["theme_id"])] for r in themed)
    tickets = [r for r in rows if r["source"] == "ticket"]
    assert len(tickets) == 3 and all(r["theme_id"] == "" and r["scope"] == "" for r in tickets)
    assert {r["reassigned"] for r in themed} <= {"0", "1"}


def test_cli_runs_lists_shows_exports_and_edits(db_path, clock, monkeypatch, tmp_path):
    import json

    from click.testing import CliRunner

    from insight.analysis.nlp import LoadedPipeline
    from insight.cli import cli
    from insight.core.db import open_db

    db = open_db(db_path, clock)
    seed_units(db, {"delivery": 30, "fabric": 30, "sizing": 30})
    monkeypatch.setattr("insight.analysis.embed.load_embedder", lambda name=None: HashingEmbedder())
    monkeypatch.setattr("insight.analysis.nlp.cached_pipeline", lambda name=None: LoadedPipeline(spacy.blank("en"), "test", False, ""))
    runner = CliRunner()

    def call(*args: str) -> dict:
        result = runner.invoke(cli, ["--db", str(db_path), "themes", *args, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    run = call("--param", "min_cluster_size=8", "--param", "cluster_selection_method=eom", "--param", "split_fraction=0")
    (scope,) = run["scopes"]
    assert scope["units"] == 90 and len(scope["themes"]) == 3 and scope["embedded"] > 0
    listed = call("list", "--level", "sub")["themes"]
    assert [t["id"] for t in listed] == [t["id"] for t in scope["themes"]]
    tree = call("list")["themes"]
    assert {t["id"] for t in tree} == {t["id"] for t in scope["themes"]} | {t["id"] for t in scope["parents"]}
    first, second, third = (t["id"] for t in listed)
    shown = call("show", str(first))
    assert shown["id"] == first and shown["representative"] and shown["trend"]
    assert call("export", "--out", str(tmp_path / "t.csv"))["rows"] == 90
    assert call("rename", str(first), "Late parcels")["ok"]
    assert call("merge", str(first), str(second))["ok"]
    parts = call("split", str(third), "--k", "2")["result"]
    assert len(parts) == 2
    again = call("--param", "min_cluster_size=8", "--param", "cluster_selection_method=eom")["scopes"][0]
    assert again["reused"] == scope["embedded"] and again["embedded"] == 0
    labels = {t["id"]: t["label"] for t in again["themes"]}
    assert labels[first] == "Late parcels" and second not in labels and set(parts) <= set(labels)

    bad = runner.invoke(cli, ["--db", str(db_path), "themes", "merge", str(first), "999"])
    assert bad.exit_code != 0 and "no theme with id 999" in bad.output
    bad = runner.invoke(cli, ["--db", str(db_path), "themes", "--param", "nonsense=1"])
    assert bad.exit_code != 0 and "expected NAME=VALUE" in bad.output


@pytest.mark.slow
def test_real_model_finds_the_topics_and_caches(db, clock):
    from insight.analysis.embed import DEFAULT_MODEL_NAME, load_embedder
    from insight.analysis.nlp import load_pipeline

    ids = seed_units(db, {"delivery": 22, "fabric": 22, "sizing": 22})
    embedder = load_embedder()
    (summary,) = run_themes(db, embedder, load_pipeline().nlp, clock=clock)
    assert summary.embedded > 0 and summary.reused == 0
    themes = {topic: topic_theme(db, ids, topic) for topic in ids}
    assert len(set(themes.values())) == 3
    assert summary.unassigned <= 0.1 * summary.units
    assert db.execute("SELECT DISTINCT model FROM embeddings").fetchall() == [(DEFAULT_MODEL_NAME,)]
    (again,) = run_themes(db, embedder, load_pipeline().nlp, clock=clock)
    assert again.embedded == 0 and [t.id for t in again.themes] == [t.id for t in summary.themes]


def test_a_document_counts_once_per_theme_however_many_of_its_mentions_join(db, embedder, nlp, clock):
    ids = seed_units(db, {"delivery": 30, "fabric": 30, "sizing": 30})
    rng = random.Random(5)
    # every delivery document says it twice: a second mention, same passage
    for unit_id in ids["delivery"]:
        doc_id = db.execute("SELECT document_id FROM units WHERE id = ?", [unit_id]).fetchone()[0]
        text = topic_text("delivery", rng)
        db.conn.execute("""INSERT INTO units (document_id, position, kind, question, passage, text, text_hash)
                           VALUES (?, 1, 'answer', ?, 0, ?, ?)""",
                        (doc_id, QUESTION, text, hashlib.sha256(text.encode()).hexdigest()))
    db.conn.execute("UPDATE documents SET mentions_version = 1")
    db.conn.commit()
    (summary,) = theme_feedback(db, embedder, nlp, params=PARAMS, clock=clock)
    assert summary.units == 120 and summary.documents == 90
    theme = topic_theme(db, ids, "delivery")
    size, mentions, share = db.execute("SELECT size, mentions, share FROM themes WHERE id = ?", [theme]).fetchone()
    docs = db.execute("""SELECT COUNT(DISTINCT u.document_id) FROM unit_themes ut JOIN units u ON u.id = ut.unit_id
                         WHERE ut.theme_id = ?""", [theme]).fetchone()[0]
    assert size == docs <= 30 < mentions and share == pytest.approx(size / 90)


def _sizes_match_members(db) -> None:
    for theme_id, size in db.execute("SELECT id, size FROM themes"):
        members = db.execute("""SELECT COUNT(DISTINCT u.document_id) FROM theme_units ut
                                JOIN units u ON u.id = ut.unit_id WHERE ut.theme_id = ?""", [theme_id]).fetchone()[0]
        assert size == members, theme_id


def test_a_window_run_shows_the_windows_numbers(db, embedder, nlp, clock):
    seed_units(db, {"delivery": 30, "fabric": 30, "sizing": 30}, window="2026-10-01")
    seed_units(db, {"delivery": 10, "fabric": 25, "sizing": 25}, window="2026-11-01", tag="n", seed=3)
    run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    (summary,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock, window="2026-11")
    assert summary.documents == 60
    assert sum(t.size for t in summary.themes) <= 60 and all(t.share <= 1 for t in summary.themes)
    for t in summary.themes:
        stored = db.execute("SELECT size FROM themes WHERE id = ?", [t.id]).fetchone()[0]
        assert stored == t.size


def test_rederiving_old_documents_recounts_every_scope(db, embedder, nlp, clock):
    seed_units(db, {"delivery": 30, "fabric": 30, "sizing": 30})
    seed_units(db, {"delivery": 30, "fabric": 30}, source="review", question=None, tag="r")
    run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    # the reviews come back as written by an older splitter: one review now says two things
    db.execute("UPDATE documents SET mentions_version = NULL WHERE source = 'review'")
    db.execute("UPDATE units SET text = text || '. But the box arrived crushed' WHERE id IN "
               "(SELECT u.id FROM units u JOIN documents d ON d.id = u.document_id WHERE d.source = 'review' LIMIT 5)")
    db.conn.commit()
    theme_feedback(db, embedder, nlp, params=PARAMS, clock=clock, source="survey")
    _sizes_match_members(db)  # the review themes lost members and say so
