"""The read model of themes in two levels (parents over sub-themes), on the small brand with parents added."""

from __future__ import annotations

import pytest
from tui_snapshots.brand import PARENTS, THEMES, add_theme_tree, build_small_brand

from insight.analysis import queries
from insight.analysis.queries import ThemeFilter


@pytest.fixture
def tree_path(tmp_path):
    path = tmp_path / "tree.db"
    build_small_brand(path).conn.close()
    add_theme_tree(path)
    return path


@pytest.fixture
def tree(tree_path):
    return queries.connect_read(tree_path)


@pytest.fixture
def legacy(tmp_path):
    path = tmp_path / "legacy.db"
    build_small_brand(path).conn.close()
    return queries.connect_read(path)


def parent_id(db, label: str) -> int:
    return db.execute("SELECT id FROM themes WHERE label = ? AND level = 'parent'", [label]).fetchone()[0]


def documents_of(db, theme_ids: list[int]) -> int:
    marks = ",".join("?" * len(theme_ids))
    return db.execute(
        f"SELECT COUNT(DISTINCT u.document_id) FROM unit_themes ut JOIN units u ON u.id = ut.unit_id "
        f"WHERE ut.theme_id IN ({marks})", theme_ids,
    ).fetchone()[0]


def test_the_first_level_lists_active_parents_with_their_subthemes_in_the_same_order(tree):
    full = queries.theme_tree(tree)
    active = [p for p in PARENTS if p.status == "active"]
    assert full.total == len(active) == len(full.nodes)
    assert {n.theme.label for n in full.nodes} == {p.label for p in active}
    assert [n.theme.size for n in full.nodes] == sorted((n.theme.size for n in full.nodes), reverse=True)
    for node in full.nodes:
        spec = next(p for p in PARENTS if p.label == node.theme.label)
        assert node.theme.level == "parent" and node.theme.subthemes == len(spec.subthemes)
        # a parent counts a document once, however many of its sub-themes hold one of its mentions
        assert node.theme.size == documents_of(tree, list(spec.subthemes))
        if len(spec.subthemes) == 1:
            assert node.subthemes == [] and not node.theme.expandable  # it would only repeat itself
            assert node.shown == [node.theme]
            continue
        assert node.open and node.shown == [node.theme, *node.subthemes]
        assert {s.id for s in node.subthemes} == set(spec.subthemes)
        assert all(s.parent_id == node.theme.id and s.level == "sub" for s in node.subthemes)
        assert [s.size for s in node.subthemes] == sorted((s.size for s in node.subthemes), reverse=True)
        assert node.theme.largest == node.subthemes[0].label
        feelings = node.theme.positive + node.theme.negative + node.theme.neutral
        assert feelings == sum(s.positive + s.negative + s.neutral for s in node.subthemes) > 0


def test_only_the_parents_asked_for_are_open_and_every_parent_comes_with_its_subthemes(tree):
    checkout = parent_id(tree, "cost at checkout")
    nodes = queries.theme_tree(tree, expand={checkout}).nodes
    assert [n.theme.id for n in nodes if n.open] == [checkout]
    closed = queries.theme_tree(tree, expand=()).nodes
    assert not any(n.open for n in closed) and all(n.shown == [n.theme] for n in closed)
    assert {n.theme.id: n.subthemes for n in closed} == {n.theme.id: n.subthemes for n in nodes}
    by_label = queries.theme_tree(tree, sort="label", descending=False, expand={checkout}).nodes
    opened = next(n for n in by_label if n.theme.id == checkout)
    assert [s.label for s in opened.subthemes] == sorted(s.label for s in opened.subthemes)


def test_a_subtheme_that_moved_names_the_parent_it_left(tree):
    delivery = next(n for n in queries.theme_tree(tree).nodes if n.theme.label == "product and delivery")
    moved = {s.label: s.moved_from for s in delivery.subthemes}
    assert moved == {"fast delivery": (parent_id(tree, "shipping speed"), "shipping speed"),
                     "fabric quality / holes": None}
    detail = queries.theme_detail(tree, 8)
    assert detail.parent == (delivery.theme.id, "product and delivery")
    assert detail.moved_from == (parent_id(tree, "shipping speed"), "shipping speed")


def test_a_label_filter_finds_a_parent_by_a_subthemes_label_and_opens_it(tree):
    found = queries.theme_tree(tree, ThemeFilter(text="exchange"), expand=())
    [node] = found.nodes
    assert node.theme.label == "orders and returns" and found.total == 1 and node.open
    assert [s.label for s in node.subthemes] == ["where is my order", "returns and exchanges"]
    own = queries.theme_tree(tree, ThemeFilter(text="checkout"), expand=())
    assert [n.theme.label for n in own.nodes] == ["cost at checkout"] and not own.nodes[0].open


def test_unit_filters_count_parents_over_their_subthemes_mentions(tree):
    at_risk = queries.theme_tree(tree, ThemeFilter(segment="At Risk"))
    expected = dict(tree.execute(  # the theme_units view: each mention in its sub-theme and in its parent
        """SELECT tu.theme_id, COUNT(DISTINCT u.document_id) FROM theme_units tu JOIN units u ON u.id = tu.unit_id
           JOIN documents d ON d.id = u.document_id JOIN rfm_scores s ON s.customer_id = d.customer_id
           WHERE s.segment = 'At Risk' AND s.snapshot_id = (SELECT MAX(id) FROM rfm_snapshots)
           GROUP BY tu.theme_id""").fetchall())
    shown = {row.id: row.size for node in at_risk.nodes for row in (node.theme, *node.subthemes)}
    assert shown == {i: n for i, n in expected.items() if i in shown} and len(shown) > len(at_risk.nodes)
    assert {n.theme.id for n in at_risk.nodes} == {
        i for i in expected if tree.execute("SELECT level FROM themes WHERE id = ?", [i]).fetchone()[0] == "parent"}
    for node in at_risk.nodes:
        if node.subthemes:
            assert node.theme.size <= sum(s.size for s in node.subthemes)
            assert node.theme.customers <= sum(s.customers for s in node.subthemes)
            assert node.theme.size >= max(s.size for s in node.subthemes)
    reviews = queries.theme_tree(tree, ThemeFilter(source="review"))
    [node] = reviews.nodes
    assert node.theme.label == "product and delivery"
    assert node.theme.size == documents_of(tree, [7, 8]) and node.theme.share == pytest.approx(1.0)


def test_a_parents_detail_has_its_subthemes_quotes_and_prevalence(tree):
    checkout = parent_id(tree, "cost at checkout")
    detail = queries.theme_detail(tree, checkout)
    assert detail.level == "parent" and detail.parent is None
    assert [s.id for s in detail.subthemes] == [1, 3]
    assert detail.sources == [("survey", documents_of(tree, [1, 3]))]
    assert detail.representative and {q.unit_id for q in detail.representative} <= {
        r[0] for r in tree.execute("SELECT unit_id FROM unit_themes WHERE theme_id IN (1, 3)")}
    assert [p.window_start for p in detail.trend] == ["2026-10-01", "2026-11-01"]
    quotes = queries.theme_quotes(tree, checkout, limit=500)
    mentions = tree.execute("SELECT COUNT(*) FROM unit_themes WHERE theme_id IN (1, 3)").fetchone()[0]
    assert quotes.total == len(quotes.rows) == len({q.unit_id for q in quotes.rows}) == mentions
    sub_of = dict(tree.execute("SELECT unit_id, theme_id FROM unit_themes WHERE theme_id IN (1, 3)").fetchall())
    first = queries.theme_quotes(tree, checkout, limit=4).rows  # the sub-themes take turns
    assert [sub_of[q.unit_id] for q in first].count(1) == [sub_of[q.unit_id] for q in first].count(3) == 2
    best = {sub: queries.theme_quotes(tree, sub, limit=1).rows[0].unit_id for sub in (1, 3)}
    assert {q.unit_id for q in first[:2]} == set(best.values())
    pages = [q.unit_id for o in range(0, mentions, 7) for q in queries.theme_quotes(tree, checkout, limit=7, offset=o).rows]
    assert pages == [q.unit_id for q in quotes.rows]
    assert queries.theme_quotes(tree, checkout, ThemeFilter(segment="At Risk"), limit=500).total < mentions


def test_the_overviews_top_themes_are_parents_with_their_largest_subtheme(tree):
    top = queries.overview(tree).top_themes
    assert {t.level for t in top} == {"parent"}
    checkout = next(t for t in top if t.label == "cost at checkout")
    assert checkout.largest == THEMES[0].label and checkout.expandable


def test_themes_from_before_two_levels_are_all_first_level_leaves(legacy):
    tree = queries.theme_tree(legacy)
    assert tree.total == len(THEMES) == len(tree.nodes)
    assert all(n.subthemes == [] and n.theme.level == "sub" and not n.theme.expandable and not n.open
               for n in tree.nodes)
    assert [n.theme.id for n in tree.nodes] == [r.id for r in queries.list_themes(legacy).rows]
    assert queries.theme_detail(legacy, 1).subthemes == [] and queries.theme_detail(legacy, 1).parent is None
