"""Segment x theme links on small databases built row by row, with answers worked out by hand."""

from __future__ import annotations

import hashlib
import math

import pytest
import sqlite_utils
from scipy.stats.contingency import odds_ratio

from insight.analysis.links import compute_links, distinctiveness, over_index_test
from insight.analysis.theme_edits import merge_themes
from insight.core.window import Window

STOPPED = "survey: What almost stopped you from buying?"
HEARD = "How did you hear about us?"


class Seed:
    """Writes the rows other modules would (orders/RFM, importers, themes) straight into the tables."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.customers: dict[str, int] = {}
        self.runs: dict[str, int] = {}
        self.docs = 0

    def _exec(self, sql: str, params: list) -> int:
        cursor = self.db.conn.execute(sql, params)
        return int(cursor.lastrowid or 0)

    def customer(self, key: str) -> int:
        if key not in self.customers:
            self.customers[key] = self._exec(
                "INSERT INTO customers (display_key, created_at) VALUES (?, '2026-01-01')", [key]
            )
        return self.customers[key]

    def snapshot(self, as_of: str, scores: dict[str, tuple], currency: str = "USD") -> int:
        """scores: key -> (segment, lifecycle, recency_days, frequency, monetary)."""
        sid = self._exec(
            "INSERT INTO rfm_snapshots (as_of, created_at, currency, customers) VALUES (?, ?, ?, ?)",
            [as_of, as_of, currency, len(scores)],
        )
        for key, (segment, lifecycle, recency, frequency, monetary) in scores.items():
            self._exec(
                """INSERT INTO rfm_scores (snapshot_id, customer_id, recency_days, frequency, monetary,
                   r_score, f_score, m_score, segment, lifecycle) VALUES (?, ?, ?, ?, ?, 3, 3, 3, ?, ?)""",
                [sid, self.customer(key), recency, frequency, monetary, segment, lifecycle],
            )
        return sid

    def run(self, scope: str, model: str = "fake-model") -> int:
        if scope not in self.runs:
            self.runs[scope] = self._exec(
                """INSERT INTO theme_runs (scope, created_at, model, units, themes, unassigned, embedded, reused)
                   VALUES (?, '2026-11-24T00:00:00+00:00', ?, 0, 0, 0, 0, 0)""",
                [scope, model],
            )
        return self.runs[scope]

    def theme(self, scope: str, label: str, *, phrases: list[str] | None = None, user_label: str | None = None,
              status: str = "active", merged_into: int | None = None, kind: str = "topic") -> int:
        import json

        return self._exec(
            """INSERT INTO themes (scope, label, user_label, phrases, status, merged_into, first_run_id, last_run_id,
               kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [scope, label, user_label, json.dumps(phrases or []), status, merged_into, self.run(scope), self.run(scope),
             kind],
        )

    def doc(self, source: str, customer: str | None, units: list[tuple], *,
            scope: str | None = None, created_at: str = "2026-11-10T10:00:00+00:00", rating: float | None = None,
            attributes: list[tuple[str, str]] | None = None, window: tuple[str, str] | None = None) -> int:
        """units: (text, theme_id or None for unassigned, question[, sentiment]); every unit is themed in `scope`."""
        self.docs += 1
        customer_id = self.customer(customer) if customer else None
        start, end = window or (created_at[:7] + "-01", created_at[:7] + "-28")
        doc_id = self._exec(
            """INSERT INTO documents (source, external_id, format, customer_id, customer_key, created_at,
               window_start, window_end, rating, content_hash) VALUES (?, ?, 'test', ?, ?, ?, ?, ?, ?, ?)""",
            [source, f"{source}-{self.docs}", customer_id, f"email:{customer}" if customer else None, created_at,
             start, end, rating, str(self.docs)],
        )
        scope = scope or source
        for position, (text, theme_id, question, *sentiment) in enumerate(units):
            unit_id = self._exec(
                """INSERT INTO units (document_id, position, kind, question, text, text_hash, sentiment)
                   VALUES (?, ?, 'answer', ?, ?, ?, ?)""",
                [doc_id, position, question, text, hashlib.sha256(text.encode()).hexdigest(), *(sentiment or [None])],
            )
            self._exec(
                "INSERT INTO unit_themes (unit_id, scope, theme_id, run_id, similarity) VALUES (?, ?, ?, ?, ?)",
                [unit_id, scope, theme_id, self.run(scope), 0.9 - 0.01 * position],
            )
        for name, value in attributes or []:
            self._exec("INSERT INTO attributes (document_id, name, value) VALUES (?, ?, ?)", [doc_id, name, value])
        return doc_id

    def commit(self) -> None:
        self.db.conn.commit()


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """P(X >= a) for the hypergeometric distribution of the table's top-left cell, from first principles."""
    row, col, n = a + b, a + c, a + b + c + d
    return sum(math.comb(col, k) * math.comb(n - col, row - k) for k in range(a, min(row, col) + 1)) / math.comb(n, row)


def known_answer(db: sqlite_utils.Database) -> dict[str, int]:
    """10 Champions and 20 At Risk customers answered; 8 of 10 Champions vs 2 of 20 At Risk named shipping.

    Every customer named exactly one theme (shipping or price). One At Risk customer talks a lot: 30 answers
    about price. A Champion answered TikTok to 'How did you hear about us?' 8 times in 10, At Risk 3 in 20.
    """
    seed = Seed(db)
    scores = {f"c{i}@x.com": ("Champions", "Active", 5, 6, 600.0) for i in range(10)}
    scores |= {f"r{i}@x.com": ("At Risk", "At Risk", 120, 3, 150.0) for i in range(20)}
    seed.snapshot("2026-11-24", scores)
    shipping = seed.theme(STOPPED, "shipping cost", phrases=["shipping was expensive"])
    price = seed.theme(STOPPED, "price")
    q = STOPPED.removeprefix("survey: ")
    for i in range(10):
        theme = shipping if i < 8 else price
        heard = "TikTok" if i < 8 else "Friend"
        seed.doc("survey", f"c{i}@x.com", [(f"champion answer {i}", theme, q)], scope=STOPPED,
                 attributes=[(HEARD, heard)])
    for i in range(20):
        theme = shipping if i < 2 else price
        heard = "TikTok" if i < 3 else "Friend"
        units = [(f"at risk answer {i} #{k}", theme, q) for k in range(30 if i == 19 else 1)]
        seed.doc("survey", f"r{i}@x.com", units, scope=STOPPED, attributes=[(HEARD, heard)])
    seed.commit()
    return {"shipping": shipping, "price": price}


def test_lift_and_fisher_on_a_known_answer(db):
    ids = known_answer(db)
    report = compute_links(db)
    row = next(r for r in report.rows if r.segment == "Champions" and r.theme_id == ids["shipping"])
    assert (row.customers, row.segment_customers, row.units) == (8, 10, 8)
    assert row.share == pytest.approx(0.8)
    assert row.overall_share == pytest.approx(10 / 30)
    assert row.lift == pytest.approx(0.8 / (10 / 30))  # 2.4
    # expected count for the top-left cell is 10*10/30 = 3.3 < 5, so Fisher's exact test is used
    assert row.test == "fisher"
    assert row.p_value == pytest.approx(fisher_greater(8, 2, 2, 18))
    assert row.significant
    at_risk = next(r for r in report.rows if r.segment == "At Risk" and r.theme_id == ids["shipping"])
    assert at_risk.lift == pytest.approx((2 / 20) / (10 / 30))
    assert not at_risk.significant
    assert report.significant_rows()[0].theme_id == ids["shipping"]


def test_benjamini_hochberg_over_all_tests_of_the_report(db):
    known_answer(db)
    report = compute_links(db)
    tested = [*report.rows, *report.attribute_rows]
    ps = [r.p_value for r in tested]
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    m, running = len(ps), 1.0
    expected = [0.0] * m
    for rank in range(m, 0, -1):  # step-up: q_(i) = min over j >= i of p_(j) * m / j
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        expected[i] = running
    assert [r.q_value for r in tested] == pytest.approx(expected)
    assert all(r.q_value >= r.p_value for r in tested)


def test_customers_not_units_decide(db):
    ids = known_answer(db)
    report = compute_links(db)
    price = next(r for r in report.rows if r.segment == "At Risk" and r.theme_id == ids["price"])
    # 18 customers, one of whom wrote 30 answers: 47 units but still 18 customers
    assert (price.customers, price.units) == (18, 47)
    assert price.share == pytest.approx(18 / 20)
    assert price.lift == pytest.approx((18 / 20) / (20 / 30))


def test_one_talkative_customer_cannot_make_a_theme(db):
    seed = Seed(db)
    scores = {f"a{i}@x.com": ("Loyal Customers", "Active", 10, 4, 300.0) for i in range(15)}
    scores |= {f"b{i}@x.com": ("Hibernating", "Lapsed", 300, 1, 40.0) for i in range(15)}
    seed.snapshot("2026-11-24", scores)
    general = seed.theme("ticket", "order status")
    rant = seed.theme("ticket", "pump bottle leaked")
    for i in range(15):
        seed.doc("ticket", f"a{i}@x.com", [("where is my order", general, None)])
        seed.doc("ticket", f"b{i}@x.com", [("where is my order", general, None)])
    seed.doc("ticket", "a0@x.com", [(f"the pump leaked again {k}", rant, None) for k in range(40)])
    seed.commit()
    row = next(r for r in compute_links(db).rows if r.theme_id == rant and r.segment == "Loyal Customers")
    assert (row.units, row.customers) == (40, 1)
    assert row.p_value == pytest.approx(0.5)  # one customer of 30, 15 of whom are Loyal
    assert not row.significant


def test_chi_square_when_expected_counts_are_large():
    a, b, c, d = 60, 40, 30, 70
    result = over_index_test(a, b, c, d, min_expected=5.0)
    n = a + b + c + d
    chi2 = n * (abs(a * d - b * c) - n / 2) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert result.test == "chi2"
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(chi2 / 2)) / 2)
    under = over_index_test(c, d, a, b, min_expected=5.0)  # the same table seen from the other group
    assert under.p_value > 0.99
    assert over_index_test(3, 0, 0, 3).test == "fisher"
    assert over_index_test(3, 0, 0, 0).test == "none"  # a single group: nothing to compare


def test_attributes_crossed_with_segments(db):
    known_answer(db)
    report = compute_links(db)
    row = next(r for r in report.attribute_rows if r.segment == "Champions" and r.value == "TikTok")
    assert (row.name, row.customers, row.segment_customers) == (HEARD, 8, 10)
    assert row.lift == pytest.approx(0.8 / (11 / 30))
    assert row.p_value == pytest.approx(fisher_greater(8, 2, 3, 17))
    assert row.significant


def test_coverage_counts_anonymous_and_unscored_feedback(db):
    seed = Seed(db)
    seed.snapshot("2026-11-24", {"s@x.com": ("Champions", "Active", 3, 5, 500.0)})
    theme = seed.theme("review", "gentle on skin")
    seed.doc("review", "s@x.com", [("so gentle", theme, None)], rating=5)
    seed.doc("review", None, [("lovely", theme, None), ("gentle", None, None)], rating=4)
    seed.doc("ticket", "never-bought@x.com", [("question about ingredients", None, None)])
    seed.commit()
    cov = compute_links(db).coverage
    assert (cov.units, cov.linked, cov.scored, cov.anonymous, cov.not_scored) == (4, 2, 1, 2, 1)
    assert (cov.customers, cov.scored_customers, cov.themed) == (2, 1, 1)
    by_source = {s.source: (s.units, s.linked, s.scored) for s in cov.by_source}
    assert by_source == {"review": (3, 1, 1), "ticket": (1, 1, 0)}
    assert cov.linked_share == pytest.approx(0.5)


def test_merged_themes_fold_into_the_survivor_and_user_labels_win(db):
    seed = Seed(db)
    seed.snapshot("2026-11-24", {f"c{i}@x.com": ("Champions", "Active", 3, 5, 500.0) for i in range(4)})
    keep = seed.theme("review", "texture", user_label="Silky texture")
    gone = seed.theme("review", "feel")
    seed.doc("review", "c0@x.com", [("silky", keep, None)])
    seed.doc("review", "c1@x.com", [("feels nice", gone, None)])
    seed.commit()
    merge_themes(db, keep, gone)
    rows = compute_links(db).rows
    assert [(r.theme_id, r.theme_label, r.customers) for r in rows] == [(keep, "Silky texture", 2)]


def test_as_of_picks_the_snapshot_and_transitions_show_what_movers_said(db):
    seed = Seed(db)
    before = {f"m{i}@x.com": ("Loyal Customers", "Active", 20, 4, 300.0) for i in range(5)}
    before |= {f"s{i}@x.com": ("Loyal Customers", "Active", 20, 4, 300.0) for i in range(5)}
    first = seed.snapshot("2026-10-25", before)
    after = {f"m{i}@x.com": ("At Risk", "At Risk", 100, 4, 300.0) for i in range(5)}
    after |= {f"s{i}@x.com": ("Loyal Customers", "Active", 10, 5, 340.0) for i in range(5)}
    second = seed.snapshot("2026-11-24", after)
    late = seed.theme("ticket", "late delivery")
    thanks = seed.theme("ticket", "thanks")
    for i in range(5):
        seed.doc("ticket", f"m{i}@x.com", [("still waiting", late if i < 3 else thanks, None)],
                 created_at="2026-11-02T09:00:00+00:00")
        seed.doc("ticket", f"s{i}@x.com", [("cheers", thanks, None)], created_at="2026-11-02T09:00:00+00:00")
    # said after the later snapshot: not "before moving"
    seed.doc("ticket", "m4@x.com", [("late again", late, None)], created_at="2026-11-30T09:00:00+00:00")
    seed.commit()

    report = compute_links(db)
    assert (report.snapshot_id, report.previous_snapshot_id) == (second, first)
    moves = {(t.from_segment, t.to_segment, t.theme_label): t for t in report.transition_themes}
    late_row = moves[("Loyal Customers", "At Risk", "late delivery")]
    assert (late_row.movers, late_row.movers_with_feedback, late_row.customers) == (5, 5, 3)
    assert late_row.share == pytest.approx(0.6)
    # the baseline: Loyal Customers who stayed Loyal (5 with feedback), none of whom mentioned late delivery
    assert (late_row.stayers_with_feedback, late_row.baseline_share) == (5, 0.0)
    thanks_row = moves[("Loyal Customers", "At Risk", "thanks")]
    assert (thanks_row.customers, thanks_row.baseline_share) == (2, 1.0)
    assert all(t.to_segment == "At Risk" for t in report.transition_themes)

    old = compute_links(db, as_of="2026-11-01")
    assert (old.snapshot_id, old.as_of, old.previous_snapshot_id) == (first, "2026-10-25", None)
    assert {r.segment for r in old.rows} == {"Loyal Customers"}
    assert old.transition_themes == []


def test_window_and_scope_filters(db):
    known_answer(db)
    seed = Seed(db)
    seed.customers = {k: v for k, v in db.execute("SELECT display_key, id FROM customers")}
    october = seed.theme("review", "october only")
    seed.doc("review", "c0@x.com", [("autumn", october, None)], created_at="2026-10-05T10:00:00+00:00")
    seed.commit()
    assert {r.scope for r in compute_links(db).rows} == {STOPPED, "review"}
    november = compute_links(db, window="2026-11")
    assert {r.scope for r in november.rows} == {STOPPED}
    assert november.window == "2026-11-01..2026-11-30"
    only_reviews = compute_links(db, scope="review")
    assert {r.scope for r in only_reviews.rows} == {"review"}
    assert only_reviews.coverage.units == 1 and only_reviews.attribute_rows == []
    assert {r.scope for r in compute_links(db, scope="survey").rows} == {STOPPED}


def test_no_snapshot_yet_reports_coverage_and_says_so(db):
    seed = Seed(db)
    seed.doc("review", None, [("nice", None, None)])
    seed.commit()
    report = compute_links(db)
    assert report.snapshot_id is None and report.rows == []
    assert report.coverage.units == 1 and report.coverage.anonymous == 1
    assert "insight segments" in report.notes[0]


def test_parse_window_rejects_nonsense():
    assert Window.parse("2026-02").label == "2026-02-01..2026-02-28"
    assert Window.parse("2026-12").label == "2026-12-01..2026-12-31"
    with pytest.raises(ValueError, match="START..END"):
        Window.parse("last month")


def two_against_thirty(db: sqlite_utils.Database) -> dict[str, int]:
    """60 Lost and 300 Champions customers answered. "stings" was raised by 2 Lost customers and nobody else
    (lift 6); "slow delivery" by 30 of the 60 Lost and 60 of the 300 Champions (lift 2)."""
    seed = Seed(db)
    scores = {f"l{i}@x.com": ("Lost", "Lapsed", 400, 1, 30.0) for i in range(60)}
    scores |= {f"c{i}@x.com": ("Champions", "Active", 5, 6, 600.0) for i in range(300)}
    seed.snapshot("2026-11-24", scores)
    ids = {"stings": seed.theme("ticket", "stings"), "slow": seed.theme("ticket", "slow delivery"),
           "other": seed.theme("ticket", "other")}
    for i in range(60):
        theme = "stings" if i < 2 else "slow" if i < 32 else "other"
        seed.doc("ticket", f"l{i}@x.com", [(f"lost {i}", ids[theme], None)])
    for i in range(300):
        seed.doc("ticket", f"c{i}@x.com", [(f"champion {i}", ids["slow" if i < 60 else "other"], None)])
    seed.commit()
    return ids


def test_two_customers_with_a_huge_lift_do_not_outrank_thirty_with_a_moderate_one(db):
    ids = two_against_thirty(db)
    report = compute_links(db)
    rows = {r.theme_id: r for r in report.rows if r.segment == "Lost"}
    stings, slow = rows[ids["stings"]], rows[ids["slow"]]
    assert (stings.customers, slow.customers) == (2, 30)
    assert stings.lift == pytest.approx(6.0) and slow.lift == pytest.approx(2.0)  # raw lift would put stings first
    assert stings.p_value < 0.05  # and Fisher's test alone finds it unlikely by chance (p = 0.027)
    assert [r.theme_id for r in report.ranked("Lost")][:2] == [ids["slow"], ids["stings"]]
    assert slow.score > 2 * stings.score
    assert slow.over_indexed and not stings.over_indexed  # 2 customers: never over-indexed
    assert [r for r in report.over_indexed_rows() if r.segment == "Lost"] == [slow]


def test_distinctiveness_is_monroe_et_al_log_odds_with_an_informative_prior():
    a, b, c, d = 30, 30, 60, 240
    # prior 0: the plain log odds ratio, with Woolf's standard error
    plain = distinctiveness(a, b, c, d, prior=0)
    assert plain.log_odds == pytest.approx(math.log(odds_ratio([[a, b], [c, d]], kind="sample").statistic))
    assert plain.z == pytest.approx(plain.log_odds / math.sqrt(1 / a + 1 / b + 1 / c + 1 / d))
    # prior 10: 10 pseudo-customers per group split by the pooled share 90/360, i.e. 2.5 "raised" + 7.5 "not"
    shrunk = distinctiveness(a, b, c, d, prior=10)
    delta = math.log(32.5 / 37.5) - math.log(62.5 / 247.5)
    assert shrunk.log_odds == pytest.approx(delta)
    assert shrunk.z == pytest.approx(delta / math.sqrt(1 / 32.5 + 1 / 37.5 + 1 / 62.5 + 1 / 247.5))
    assert 0 < shrunk.log_odds < plain.log_odds  # shrunk towards "no difference"
    # nobody else raised it: the plain log odds is infinite, the shrunken one is finite and modest
    assert distinctiveness(2, 58, 0, 300).z < 1.5
    haldane = distinctiveness(2, 58, 0, 300, prior=0)  # no prior: half a customer added to each cell instead
    assert haldane.log_odds == pytest.approx(math.log((2.5 * 300.5) / (58.5 * 0.5)))
    assert distinctiveness(0, 10, 0, 10) == distinctiveness(3, 0, 0, 0)  # nothing to compare: 0, 0
    assert distinctiveness(0, 10, 0, 10).z == 0


def test_nothing_under_the_minimum_support_is_over_indexed(db):
    seed = Seed(db)
    scores = {f"a{i}@x.com": ("Champions", "Active", 5, 6, 600.0) for i in range(6)}
    scores |= {f"b{i}@x.com": ("Hibernating", "Lapsed", 300, 1, 40.0) for i in range(100)}
    seed.snapshot("2026-11-24", scores)
    niche, common = seed.theme("review", "refill pods"), seed.theme("review", "texture")
    for i in range(6):
        seed.doc("review", f"a{i}@x.com", [("pods", niche if i < 4 else common, None)])
    for i in range(100):
        seed.doc("review", f"b{i}@x.com", [("texture", common, None)])
    seed.commit()
    row = next(r for r in compute_links(db).rows if r.theme_id == niche and r.segment == "Champions")
    assert row.customers == 4 and row.significant  # 4 of 6 vs 0 of 100: a tiny p-value
    assert not row.over_indexed
    assert [r for r in compute_links(db).over_indexed_rows() if r.segment == "Champions"] == []
    lower = compute_links(db, min_support=4)
    assert [r.theme_id for r in lower.over_indexed_rows() if r.segment == "Champions"] == [niche]
    with pytest.raises(ValueError, match="min support 0"):
        compute_links(db, min_support=0)


def test_a_customer_counts_once_per_theme_however_many_mentions_with_sentiment(db):
    seed = Seed(db)
    seed.snapshot("2026-11-24", {f"c{i}@x.com": ("Champions", "Active", 3, 5, 500.0) for i in range(3)})
    gentle = seed.theme("review", "gentle on skin")
    praise = seed.theme("review", "love it", kind="general")
    seed.doc("review", "c0@x.com", [("So gentle.", gentle, None, "positive"), ("No sting at all.", gentle, None, "positive"),
                                    ("Shame the jar cracked.", gentle, None, "negative"), ("Love it!", praise, None,
                                                                                           "positive")])
    seed.doc("review", "c0@x.com", [("Gentle again.", gentle, None, "neutral")])
    seed.doc("review", "c1@x.com", [("Gentle enough.", gentle, None)])  # sentiment not scored
    seed.commit()
    report = compute_links(db)
    row = next(r for r in report.rows if r.theme_id == gentle)
    assert (row.customers, row.documents, row.units) == (2, 3, 5)
    assert (row.positive, row.neutral, row.negative) == (2, 1, 1)
    assert (row.positive_customers, row.negative_customers) == (1, 1)
    assert next(r for r in report.rows if r.theme_id == praise).kind == "general"
    assert report.coverage.with_sentiment == 5
