"""Themes in two levels: parents over sub-themes, counts that add up, ids and edits that survive re-runs.

Synthetic brand: three families of feedback (shipping, fabric, price), each made of two distinct sub-topics that
share the family's words, so the HashingEmbedder draws six sub-themes in three pairs."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest
import spacy

from insight.analysis.cluster import ClusterParams
from insight.analysis.embed import HashingEmbedder
from insight.analysis.queries import theme_detail, theme_listing
from insight.analysis.theme_edits import merge_themes, rename_theme, split_theme
from insight.analysis.theme_tree import match_parents, parent_groups
from insight.analysis.themes import run_themes

PARAMS = ClusterParams(min_cluster_size=8, cluster_selection_method="eom", split_fraction=0)
FAMILIES = {
    "shipping": ("parcel shipping courier delivery", {"late": "arrived late week overdue slow",
                                                      "tracking": "tracking number never updated online"}),
    "fabric": ("fabric material cotton shirt", {"pilling": "pilled bobbles fuzz lint balls",
                                               "thin": "thin see through flimsy sheer"}),
    "price": ("price cost money expensive", {"discount": "discount code coupon checkout failed",
                                            "dearer": "cheaper elsewhere competitor store amazon"}),
}


def text_for(family: str, sub: str, rng: random.Random) -> str:
    shared, subs = FAMILIES[family]
    family_words, own = shared.split(), subs[sub].split()
    return " ".join(rng.sample(family_words, 3) + rng.sample(own, 4))


def seed(db, counts: dict[tuple[str, str], int], seed_value: int = 0, window: str = "2026-10-01",
         tag: str = "") -> dict[tuple[str, str], list[int]]:
    """One document and customer per unit; returns unit ids by (family, sub-topic)."""
    rng = random.Random(seed_value)
    ids: dict[tuple[str, str], list[int]] = {}
    for (family, sub), count in counts.items():
        for i in range(count):
            external = f"{tag}{window}-{family}-{sub}-{i}"
            customer = db.conn.execute("INSERT INTO customers (display_key, created_at) VALUES (?, '2026-10-01')", (external,)).lastrowid
            doc = db.conn.execute(
                """INSERT INTO documents (source, external_id, format, created_at, window_start, window_end,
                   customer_id, content_hash) VALUES ('review', ?, 'test', ?, ?, ?, ?, ?)""",
                (external, window + "T10:00:00+00:00", window, window[:8] + "28", customer,
                 hashlib.sha256(external.encode()).hexdigest()),
            ).lastrowid
            text = text_for(family, sub, rng)
            unit = db.conn.execute(
                "INSERT INTO units (document_id, position, kind, text, text_hash) VALUES (?, 0, 'review', ?, ?)",
                (doc, text, hashlib.sha256(text.encode()).hexdigest()),
            ).lastrowid
            ids.setdefault((family, sub), []).append(unit)
    db.conn.commit()
    return ids


ALL = {(family, sub): 20 for family, (_, subs) in FAMILIES.items() for sub in subs}


@pytest.fixture
def nlp():
    return spacy.blank("en")


@pytest.fixture
def embedder():
    return HashingEmbedder()


def sub_of(db, units: list[int]) -> int:
    marks = ",".join("?" * len(units))
    return db.execute(f"""SELECT theme_id FROM unit_themes WHERE unit_id IN ({marks}) AND theme_id IS NOT NULL
                          GROUP BY theme_id ORDER BY COUNT(*) DESC LIMIT 1""", units).fetchone()[0]


def parent_of(db, theme_id: int) -> int:
    return db.execute("SELECT parent_id FROM themes WHERE id = ?", [theme_id]).fetchone()[0]


def test_parent_groups_follow_families_of_centroids():
    rng = np.random.default_rng(0)
    families = rng.normal(size=(3, 32))
    subs = np.vstack([f + 0.35 * rng.normal(size=(3, 32)) for f in families])  # 3 families x 3 sub-themes
    groups = parent_groups(subs)
    assert sorted(set(groups.tolist())) == [0, 1, 2]
    assert [len(set(groups[i * 3:(i + 1) * 3].tolist())) for i in range(3)] == [1, 1, 1]
    assert parent_groups(subs[:3]).tolist() == [0, 1, 2]  # too few sub-themes to group: each its own parent


def test_no_parent_holds_most_of_the_scope_when_a_cut_in_range_avoids_it():
    rng = np.random.default_rng(1)
    dim = 48
    big = rng.normal(size=dim)
    halves = [big + 0.4 * rng.normal(size=dim) for _ in range(2)]  # one subject in two close halves
    smalls = [rng.normal(size=dim) for _ in range(5)]
    subs = np.vstack([h + 0.25 * rng.normal(size=(4, dim)) for h in halves]
                     + [f + 0.25 * rng.normal(size=(n, dim)) for f, n in zip(smalls, (4, 4, 4, 4, 3), strict=True)])
    sizes = [60] * 8 + [10] * 19  # the big subject's sub-themes hold 72% of the mentions
    point_subs = np.repeat(np.arange(len(subs)), sizes)
    points = subs[point_subs] + 0.2 * rng.normal(size=(len(point_subs), dim))
    groups = parent_groups(subs, points, point_subs)
    shares = np.bincount(groups[point_subs]) / len(point_subs)
    assert shares.max() <= 0.5
    assert len(set(groups[:4].tolist())) == 1 and len(set(groups[4:8].tolist())) == 1  # each half stays whole
    assert groups[0] != groups[4]
    starts = [8, 12, 16, 20, 24, 27]
    assert all(len(set(groups[a:b].tolist())) == 1 for a, b in zip(starts, starts[1:], strict=False))


def test_match_parents_keeps_ids_by_shared_sub_themes():
    old = {1: 10, 2: 10, 3: 20, 4: 20}
    # parent 0 keeps 1 and 2 (and gains a new sub 5); parent 1 holds 3 only: 4 left for a new parent 2
    new = [{1: 30, 2: 20, 5: 5}, {3: 25}, {4: 40}]
    assert match_parents(new, old) == {0: 10, 2: 20}


def test_every_sub_theme_has_one_parent_and_counts_add_up(db, embedder, nlp, clock):
    ids = seed(db, ALL)
    (summary,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    assert len(summary.themes) == 6
    families = {family: {parent_of(db, sub_of(db, ids[(family, sub)])) for sub in FAMILIES[family][1]}
                for family in FAMILIES}
    assert all(len(parents) == 1 for parents in families.values())  # both sub-topics under one parent
    assert len(set().union(*families.values())) == 3
    assert {p.id for p in summary.parents} == set().union(*families.values())
    for parent in summary.parents:
        assert sorted(parent.children) == sorted(t.id for t in summary.themes if t.parent_id == parent.id)
        assert parent.size == sum(t.size for t in summary.themes if t.id in parent.children)
        assert parent.label and parent.mentions == sum(t.mentions for t in summary.themes if t.id in parent.children)
    tree = theme_listing(db)
    assert [t.level for t in tree[:3]] == ["parent", "sub", "sub"] and tree[1].parent_id == tree[0].id


def test_a_customer_counts_once_per_parent_theme(db, embedder, nlp, clock):
    ids = seed(db, ALL)
    late, tracking = ids[("shipping", "late")], ids[("shipping", "tracking")]
    # Five customers also wrote a tracking complaint: two mentions, two sub-themes, one parent.
    doubles = []
    for unit in late[:5]:
        doc, customer = db.execute("SELECT d.id, d.customer_id FROM units u JOIN documents d ON d.id = u.document_id "
                                   "WHERE u.id = ?", [unit]).fetchone()
        text = text_for("shipping", "tracking", random.Random(unit))
        db.conn.execute("INSERT INTO units (document_id, position, kind, text, text_hash) VALUES (?, 1, 'review', ?, ?)",
                        (doc, text, hashlib.sha256(text.encode()).hexdigest()))
        doubles.append(customer)
    db.conn.commit()
    (summary,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    parent = parent_of(db, sub_of(db, late))
    assert parent == parent_of(db, sub_of(db, tracking))
    info = theme_detail(db, parent)
    children = [theme_detail(db, c.id) for c in info.subthemes]
    distinct = db.execute(
        """SELECT COUNT(DISTINCT d.customer_id) FROM unit_themes ut JOIN themes t ON t.id = ut.theme_id
           JOIN units u ON u.id = ut.unit_id JOIN documents d ON d.id = u.document_id WHERE t.parent_id = ?""",
        [parent]).fetchone()[0]
    assert info.customers == distinct == sum(c.customers for c in children) - len(doubles)
    assert info.size == sum(c.size for c in children) - len(doubles)


def test_ids_survive_a_rerun_where_a_sub_theme_grows_and_a_new_one_appears(db, embedder, nlp, clock):
    ids = seed(db, ALL)
    run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    subs = {key: sub_of(db, units) for key, units in ids.items()}
    parents = {key: parent_of(db, sub) for key, sub in subs.items()}
    FAMILIES["shipping"][1]["damaged"] = "box crushed broken dented damaged"
    try:
        more = seed(db, {("shipping", "late"): 20, ("shipping", "damaged"): 20}, seed_value=1, tag="b")
    finally:
        del FAMILIES["shipping"][1]["damaged"]
    (second,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    assert {key: sub_of(db, units) for key, units in ids.items()} == subs
    assert {key: parent_of(db, sub) for key, sub in subs.items()} == parents
    damaged = sub_of(db, more[("shipping", "damaged")])
    assert damaged not in subs.values()
    after = {t.id: t for t in second.themes}
    assert after[subs[("shipping", "late")]].size > 20 and after[damaged].change == "new"
    assert parent_of(db, damaged) == parents[("shipping", "late")]  # the new sub-theme joins its family
    assert {p.id for p in second.parents} >= set(parents.values())


def test_edits_at_both_levels_survive_a_rerun(db, embedder, nlp, clock):
    ids = seed(db, ALL)
    run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    shipping = parent_of(db, sub_of(db, ids[("shipping", "late")]))
    fabric = parent_of(db, sub_of(db, ids[("fabric", "thin")]))
    price = parent_of(db, sub_of(db, ids[("price", "discount")]))
    rename_theme(db, shipping, "Delivery problems", clock=clock)
    merge_themes(db, fabric, price, clock=clock)  # a researcher reads fabric and price as one "product value"
    assert theme_detail(db, fabric).size == 80 and theme_detail(db, price).status == "merged"
    with pytest.raises(ValueError, match="one level"):
        merge_themes(db, shipping, sub_of(db, ids[("price", "dearer")]), clock=clock)
    late = sub_of(db, ids[("shipping", "late")])
    rename_theme(db, late, "Arrived late", clock=clock)
    (again,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    labels = {p.id: p.label for p in again.parents}
    assert labels[shipping] == "Delivery problems" and price not in labels
    assert {parent_of(db, sub_of(db, ids[key])) for key in ids if key[0] in ("fabric", "price")} == {fabric}
    assert {t.id: t.label for t in again.themes}[late] == "Arrived late"
    parts = split_theme(db, fabric, k=2, clock=clock)  # and back apart, into two parents
    (third,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    assert fabric not in {p.id for p in third.parents}
    assert {parent_of(db, sub_of(db, ids[key])) for key in ids if key[0] in ("fabric", "price")} == set(parts)


def test_links_report_the_level_that_says_something():
    from insight.analysis.links import LinkRow, telling_level

    def row(theme_id: int, level: str, parent: int | None, customers: int) -> LinkRow:
        return LinkRow("Champions", theme_id, f"t{theme_id}", "review", customers, customers, 50, customers / 50,
                       1.0, 1.0, 1.0, False, level=level, parent_id=parent)

    rows = [row(1, "parent", None, 12), row(2, "sub", 1, 3), row(3, "sub", 1, 4),  # subs too small: the parent
            row(4, "parent", None, 20), row(5, "sub", 4, 15), row(6, "sub", 4, 2),  # a sharp sub-theme
            row(7, "sub", None, 6), row(8, "sub", None, 1)]  # themes from before two levels stand alone
    enough = telling_level(rows, lambda r: r.customers >= 5)
    assert [r.theme_id for r in enough] == [1, 5, 7]


def test_the_general_theme_is_its_own_parent_and_keeps_both_ids(db, embedder, nlp, clock):
    seed(db, ALL)
    for i, text in enumerate(["Love it!", "Great product", "Thank you so much", "Love it", "Amazing!"] * 3):
        doc = db.conn.execute(
            """INSERT INTO documents (source, external_id, format, created_at, window_start, window_end, content_hash)
               VALUES ('review', ?, 'test', '2026-10-02T10:00:00+00:00', '2026-10-01', '2026-10-28', ?)""",
            (f"praise-{i}", f"praise-{i}"),
        ).lastrowid
        db.conn.execute("INSERT INTO units (document_id, position, kind, text, text_hash) VALUES (?, 0, 'review', ?, ?)",
                        (doc, text, hashlib.sha256(text.encode()).hexdigest()))
    db.conn.commit()
    (first,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    general = [t for t in first.themes if t.kind == "general"]
    assert len(general) == 1
    parent = next(p for p in first.parents if general[0].id in p.children)
    assert parent.children == [general[0].id] and parent.kind == "general"
    (second,) = run_themes(db, embedder, nlp, params=PARAMS, clock=clock)
    assert not second.vanished and not second.vanished_parents
    assert {t.id for t in second.themes} == {t.id for t in first.themes}
    assert {p.id for p in second.parents} == {p.id for p in first.parents}
