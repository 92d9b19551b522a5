"""The TUI's read-only query layer, on the fixed small brand (tests/tui_snapshots/brand.py)."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest
from tui_snapshots.brand import THEMES, build_small_brand

from insight.analysis import queries
from insight.analysis.queries import ThemeFilter
from insight.analysis.theme_edits import merge_themes


@pytest.fixture
def brand(tmp_path):
    path = tmp_path / "brand.db"
    build_small_brand(path).conn.close()
    return queries.connect_read(path)


def label_of(index: int) -> str:
    return THEMES[index - 1].label


def test_empty_database_state_names_the_commands_to_run(db, db_path):
    db = queries.connect_read(db_path)  # empty and migrated (the `db` fixture)
    state = queries.db_state(db)
    assert state.empty
    steps = " ".join(state.next_steps())
    for command in ("insight import orders", "insight import survey", "insight segments", "insight themes"):
        assert command in steps
    assert queries.overview(db).top_themes == []


def test_read_connection_refuses_writes(brand):
    with pytest.raises(sqlite3.OperationalError):
        brand.execute("DELETE FROM themes")


def test_overview_counts_sources_per_window_and_compares_the_last_two_windows(brand):
    view = queries.overview(brand)
    assert (view.state.documents, view.state.units, view.state.themes) == (150, 205, 10)
    by_key = {(s.source, s.window_start): s for s in view.sources}
    assert by_key[("interview", "2026-11-01")].units == 4  # interviewer turns are context, not analysed
    assert by_key[("review", "2026-10-01")].linked_share == pytest.approx(11 / 14)
    assert [t.size for t in view.top_themes] == sorted((t.size for t in view.top_themes), reverse=True)
    assert view.windows == ("2026-10-01", "2026-11-01")
    deltas = [abs(c.delta) for c in view.changes]
    assert deltas == sorted(deltas, reverse=True)
    assert view.snapshot.as_of == "2026-11-24"


def test_list_themes_sorts_and_pages(brand):
    first = queries.list_themes(brand, limit=4)
    second = queries.list_themes(brand, limit=4, offset=4)
    assert first.total == second.total == 10
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}
    assert first.rows[0].label == "shipping cost / delivery fee" and first.rows[0].size == 28
    by_label = queries.list_themes(brand, sort="label", descending=False)
    assert [r.label for r in by_label.rows] == sorted(t.label for t in THEMES)
    assert len(first.rows[0].trend) == 2
    with pytest.raises(ValueError, match="unknown sort"):
        queries.list_themes(brand, sort="nope")


def test_theme_filters_count_only_the_matching_units(brand):
    reviews = queries.list_themes(brand, ThemeFilter(source="review"))
    assert {r.label for r in reviews.rows} == {"fabric quality / holes", "fast delivery"}
    assert sum(r.size for r in reviews.rows) == 29
    assert sum(r.share for r in reviews.rows) == pytest.approx(1.0)
    question = queries.list_themes(brand, ThemeFilter(question="What made you buy?"))
    assert {r.label for r in question.rows} == {"merino wool / sustainable", "friend recommendation"}
    october = queries.list_themes(brand, ThemeFilter(window="2026-10-01"))
    assert {r.label: r.size for r in october.rows}["shipping cost / delivery fee"] == 12
    at_risk = queries.list_themes(brand, ThemeFilter(segment="At Risk"))
    expected = brand.execute(
        """SELECT COUNT(*) FROM unit_themes ut JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id
           JOIN rfm_scores s ON s.customer_id = d.customer_id AND s.snapshot_id = 2
           WHERE s.segment = 'At Risk' AND ut.theme_id = 7"""
    ).fetchone()[0]
    assert {r.id: r.size for r in at_risk.rows}[7] == expected > 0
    assert queries.list_themes(brand, ThemeFilter(text="deliv")).total == 2


def test_theme_detail_and_its_quotes_pages(brand):
    detail = queries.theme_detail(brand, 1)
    assert detail.label == label_of(1) and detail.phrases == ["shipping cost", "delivery fee"]
    assert [p.window_start for p in detail.trend] == ["2026-10-01", "2026-11-01"]
    assert [q.text for q in detail.representative] == list(THEMES[0].texts[:3])
    assert detail.sources == [("survey", 28)]
    page1 = queries.theme_quotes(brand, 1, limit=10)
    page2 = queries.theme_quotes(brand, 1, limit=10, offset=10)
    assert page1.total == 28 and page1.next_offset == 10
    assert not {q.unit_id for q in page1.rows} & {q.unit_id for q in page2.rows}
    scores = [q.score for q in page1.rows + page2.rows]
    assert scores == sorted(scores, reverse=True)
    assert queries.theme_detail(brand, 999) is None


def test_merged_themes_count_as_the_kept_theme(tmp_path):
    path = tmp_path / "m.db"
    db = build_small_brand(path)
    merge_themes(db, 1, 2)
    read = queries.connect_read(path)
    assert queries.theme_quotes(read, 1, limit=1).total == 28 + 18
    assert 2 not in {r.id for r in queries.list_themes(read).rows}
    stopped = {r.id: r.size for r in queries.list_themes(read, ThemeFilter(question="What almost stopped you from buying?")).rows}
    assert stopped[1] == 46


def test_segments_table_and_transitions(brand):
    rows = queries.segment_table(brand)
    assert {r.segment for r in rows} == {"Champions", "Loyal Customers", "New Customers", "At Risk", "Hibernating"}
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    assert sum(r.revenue_share for r in rows) == pytest.approx(1.0)
    champions = next(r for r in rows if r.segment == "Champions")
    assert champions.frequency == 6 and champions.revenue_share == max(r.revenue_share for r in rows)
    moves = {(m.from_segment, m.to_segment): m.customers for m in queries.segment_transitions(brand, "Loyal Customers")}
    assert moves == {("Loyal Customers", "At Risk"): 3, ("Champions", "Loyal Customers"): 2}


def test_move_counts_are_every_segments_transitions(brand):
    every = queries.move_counts(brand)
    assert [m.customers for m in every] == sorted((m.customers for m in every), reverse=True)
    segments = {r.segment for r in queries.segment_table(brand)}
    for segment in segments:
        assert queries.segment_transitions(brand, segment) == [
            m for m in every if segment in (m.from_segment, m.to_segment)]
    assert {(m.from_segment, m.to_segment) for m in every} >= {("Loyal Customers", "At Risk"),
                                                                ("Champions", "Loyal Customers")}


def test_fts_query_is_safe_for_anything_typed():
    assert queries.fts_query('"where is" ord*') == '"where is" "ord"*'
    assert queries.fts_query("fee!( AND OR") == '"fee" "AND" "OR"'
    assert queries.fts_query('  "" ') == ""


def test_search_finds_words_phrases_and_prefixes_with_filters(brand):
    found = queries.search_units(brand, "shipping cost")
    assert found.total > 0 and all("shipping" in q.text.lower() and "cost" in q.text.lower() for q in found.rows)
    assert queries.search_units(brand, '"where is my order"').rows[0].source == "ticket"
    prefix = queries.search_units(brand, "blist*")
    assert prefix.total >= 1 and "blisters" in prefix.rows[0].text
    only_reviews = queries.search_units(brand, "delivery", ThemeFilter(source="review"))
    assert only_reviews.total > 0 and {q.source for q in only_reviews.rows} == {"review"}
    assert queries.search_units(brand, "!!!").total == 0
    assert queries.search_units(brand, "unbeknownst").total == 0


def test_similar_units_uses_cached_vectors(brand):
    index = queries.load_vector_index(brand)
    assert index.model == "sentence-transformers/all-MiniLM-L6-v2"
    seed = queries.theme_quotes(brand, 4, limit=1).rows[0]
    similar = queries.similar_units(brand, seed.unit_id, index, limit=5)
    assert len(similar.rows) == 5 and seed.unit_id not in {q.unit_id for q in similar.rows}
    theme_of = dict(brand.execute("SELECT unit_id, theme_id FROM unit_themes").fetchall())
    assert all(theme_of[q.unit_id] == 4 for q in similar.rows)
    interviewer_turn = 1  # no embedding: context only
    assert queries.similar_units(brand, interviewer_turn, index).rows == []


def test_document_returns_every_unit_in_order(brand):
    doc = queries.document(brand, 1)
    assert doc.source == "interview" and len(doc.units) == 8
    assert [u.position for u in doc.units] == list(range(8))
    assert [u.analyse for u in doc.units[:2]] == [False, True]
    assert doc.metadata["speakers"] == ["Interviewer", "Customer"]
    assert queries.document(brand, 10_000) is None


def test_lift_matrix_pivots_rows_most_over_indexed_first():
    row = lambda seg, tid, label, lift, sig: SimpleNamespace(  # noqa: E731
        segment=seg, theme_id=tid, theme_label=label, lift=lift, significant=sig, customers=3)
    matrix = queries.lift_matrix([row("A", 1, "one", 1.2, False), row("B", 1, "one", 0.8, False),
                                  row("A", 2, "two", 2.5, True), row("B", 3, "three", 3.0, False)])
    assert matrix.segments == ["A", "B"]
    assert [t for t, _ in matrix.themes] == [2, 3, 1]
    assert matrix.cells[(2, "A")].significant and (2, "B") not in matrix.cells


def test_reads_do_not_wait_for_a_running_import(tmp_path):
    path = tmp_path / "busy.db"
    writer = build_small_brand(path)
    writer.conn.execute("BEGIN IMMEDIATE")  # an import holding the write lock mid-file
    writer.conn.execute(
        "INSERT INTO documents (source, external_id, format, content_hash) VALUES ('survey', 'new', 'typeform', 'h')"
    )
    reader = queries.connect_read(path)
    assert queries.db_state(reader).documents == 150  # answers at once, sees only committed rows
    writer.conn.rollback()
