"""RFM snapshots on a hand-checked order set (tests/fixtures/orders/shopify_orders.csv).

The expected scores below were worked out by hand from the fixture with the documented tie rule
score = 1 + floor(5 x customers with a strictly worse value / customers):

As of 2026-11-24 (8 customers scored; grace = test order only, hiro = zero-value only: not scored)
  customer  last order  days  orders  net     R  F  M  segment          lifecycle
  ana       2026-11-20     4     3    200.00  5  5  4  Champions        Active   (#1003 partly refunded: 80-30)
  jonas     2026-11-18     6     2    140.00  4  4  4  Loyal Customers  Active
  ben       2026-11-11    13     1     40.00  3  1  1  About to Sleep   Active   (22:30 -05:00 = 11-11 UTC)
  ines      2026-11-11    13     1     40.00  3  1  1  About to Sleep   Active   (ties ben on R, F and M)
  chloe     2026-09-15    70     2     85.00  2  4  3  At Risk          Active
  emeka     2026-07-15   132     1     45.00  2  1  2  Hibernating      At Risk  (#1009 fully refunded)
  dmitri    2026-03-01   268     1    300.00  1  1  5  Lost             Lapsed   (#1008 cancelled)
  fatima    2025-12-01   358     1     20.00  1  1  1  Lost             Lapsed
As of 2026-10-01 (6 customers; later orders ignored)
  ana 0d 2 orders 100 -> R5 F4 M4 Champions Active; chloe 16d 2 85 -> R4 F4 M3 Loyal Customers Active;
  emeka 78d 1 45 -> R3 F1 M1 About to Sleep Active; jonas 153d 1 70 -> R2 F1 M2 Hibernating At Risk;
  dmitri 214d 1 300 -> R1 F1 M5 Lost Lapsed; fatima 304d 1 20 -> R1 F1 M1 Lost Lapsed.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ingest.orders import import_orders
from insight.analysis.rfm import (
    LIFECYCLE_STAGES,
    SEGMENTS,
    CurrencyMixError,
    RfmConfig,
    RfmError,
    Transition,
    compute_snapshot,
    latest_snapshot,
    quintile_scores,
    transitions,
)
from insight.analysis.segment_map import SegmentMapError, load_segment_map
from insight.cli import cli

TODAY = date(2026, 11, 24)
PAST = date(2026, 10, 1)

EXPECTED_TODAY = {
    "ana@example.com": (4, 3, 200.0, 5, 5, 4, "Champions", "Active"),
    "jonas.k@example.com": (6, 2, 140.0, 4, 4, 4, "Loyal Customers", "Active"),
    "ben@example.com": (13, 1, 40.0, 3, 1, 1, "About to Sleep", "Active"),
    "ines@example.com": (13, 1, 40.0, 3, 1, 1, "About to Sleep", "Active"),
    "chloe@example.com": (70, 2, 85.0, 2, 4, 3, "At Risk", "Active"),
    "emeka@example.com": (132, 1, 45.0, 2, 1, 2, "Hibernating", "At Risk"),
    "dmitri@example.com": (268, 1, 300.0, 1, 1, 5, "Lost", "Lapsed"),
    "fatima@example.com": (358, 1, 20.0, 1, 1, 1, "Lost", "Lapsed"),
}
EXPECTED_PAST = {
    "ana@example.com": (0, 2, 100.0, 5, 4, 4, "Champions", "Active"),
    "chloe@example.com": (16, 2, 85.0, 4, 4, 3, "Loyal Customers", "Active"),
    "emeka@example.com": (78, 1, 45.0, 3, 1, 1, "About to Sleep", "Active"),
    "jonas.k@example.com": (153, 1, 70.0, 2, 1, 2, "Hibernating", "At Risk"),
    "dmitri@example.com": (214, 1, 300.0, 1, 1, 5, "Lost", "Lapsed"),
    "fatima@example.com": (304, 1, 20.0, 1, 1, 1, "Lost", "Lapsed"),
}


@pytest.fixture
def shop(db, fixtures: Path, clock):
    import_orders(db, fixtures / "orders" / "shopify_orders.csv", fmt=None, mapping={}, strict=False, progress=None,
                  clock=clock)
    return db


def scores(db, snapshot_id: int) -> dict[str, tuple]:
    return {
        key: (rec, freq, mon, r, f, m, seg, life)
        for key, rec, freq, mon, r, f, m, seg, life in db.execute(
            """SELECT c.display_key, s.recency_days, s.frequency, s.monetary, s.r_score, s.f_score, s.m_score,
                      s.segment, s.lifecycle
               FROM rfm_scores s JOIN customers c ON c.id = s.customer_id WHERE s.snapshot_id = ?""",
            [snapshot_id],
        )
    }


def customer_id(db, email: str) -> int:
    return db.execute("SELECT customer_id FROM customer_identifiers WHERE value = ?", [email]).fetchone()[0]


# --- the tie rule ----------------------------------------------------------------------------------


def test_quintiles_ties_share_a_score_and_one_order_customers_get_the_lowest():
    frequency = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 9])
    assert quintile_scores(frequency).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_quintiles_of_distinct_values_are_even_fifths():
    assert quintile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_quintiles_do_not_depend_on_row_order():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 20, size=500)
    order = rng.permutation(500)
    assert (quintile_scores(values)[order] == quintile_scores(values[order])).all()


# --- snapshots on the hand-checked set -------------------------------------------------------------


def test_snapshot_today_matches_hand_checked_scores(shop, clock):
    summary = compute_snapshot(shop, as_of=TODAY, clock=clock)
    assert scores(shop, summary.snapshot_id) == EXPECTED_TODAY
    assert (summary.customers, summary.currency, summary.orders_counted) == (8, "USD", 12)
    assert summary.orders_excluded == {"cancelled": 1, "fully_refunded": 1, "no_customer": 1, "test": 1, "zero_value": 1}
    assert summary.lifecycle == {"Active": 5, "At Risk": 1, "Lapsed": 2}
    assert list(summary.segments) == list(SEGMENTS)
    assert {k: v for k, v in summary.segments.items() if v} == {
        "Champions": 1, "Loyal Customers": 1, "About to Sleep": 2, "At Risk": 1, "Hibernating": 1, "Lost": 2}


def test_snapshot_as_of_the_past_ignores_later_orders(shop, clock):
    summary = compute_snapshot(shop, as_of=PAST, clock=clock)
    assert scores(shop, summary.snapshot_id) == EXPECTED_PAST
    assert summary.orders_excluded == {"fully_refunded": 1}


def test_default_as_of_is_the_clocks_today(shop, clock):
    summary = compute_snapshot(shop, clock=clock)  # clock: 2026-11-24T12:00
    assert summary.as_of == "2026-11-24"


def test_recomputing_a_date_replaces_that_snapshot(shop, clock):
    first = compute_snapshot(shop, as_of=TODAY, clock=clock)
    second = compute_snapshot(shop, as_of=TODAY, clock=clock)
    assert second.snapshot_id == first.snapshot_id and second.replaced and not first.replaced
    assert shop.execute("SELECT COUNT(*) FROM rfm_scores").fetchone()[0] == 8
    assert shop.execute("SELECT COUNT(*) FROM rfm_snapshots").fetchone()[0] == 1


def test_latest_snapshot(shop, clock):
    assert latest_snapshot(shop) is None
    compute_snapshot(shop, as_of=PAST, clock=clock)
    compute_snapshot(shop, as_of=TODAY, clock=clock)
    assert latest_snapshot(shop).as_of == "2026-11-24"
    assert latest_snapshot(shop, "2026-11-01").as_of == "2026-10-01"
    assert latest_snapshot(shop, "2026-09-01") is None
    assert latest_snapshot(shop).params["segment_map"]["lifecycle"] == {"active_days": 90, "lapsed_days": 180}


def test_transitions_between_two_snapshots(shop, clock):
    past = compute_snapshot(shop, as_of=PAST, clock=clock)
    today = compute_snapshot(shop, as_of=TODAY, clock=clock)
    ids = {email: customer_id(shop, email) for email in EXPECTED_TODAY}
    expected = sorted([
        Transition(ids["ben@example.com"], None, "About to Sleep", None, "Active"),
        Transition(ids["ines@example.com"], None, "About to Sleep", None, "Active"),
        Transition(ids["chloe@example.com"], "Loyal Customers", "At Risk", "Active", "Active"),
        Transition(ids["emeka@example.com"], "About to Sleep", "Hibernating", "Active", "At Risk"),
        Transition(ids["jonas.k@example.com"], "Hibernating", "Loyal Customers", "At Risk", "Active"),
    ], key=lambda t: t.customer_id)
    assert transitions(shop) == expected  # default: the last two snapshots
    assert transitions(shop, past.snapshot_id, today.snapshot_id) == expected
    backwards = transitions(shop, today.snapshot_id, past.snapshot_id)
    assert {(t.from_segment, t.to_segment) for t in backwards if t.to_segment is None} == {("About to Sleep", None)}


def test_transitions_need_two_snapshots(shop, clock):
    assert transitions(shop) == []
    compute_snapshot(shop, as_of=TODAY, clock=clock)
    assert transitions(shop) == []


def test_lifecycle_thresholds_are_configurable(shop, clock):
    summary = compute_snapshot(shop, as_of=TODAY, config=RfmConfig(active_days=60, lapsed_days=300), clock=clock)
    got = {k: v[-1] for k, v in scores(shop, summary.snapshot_id).items()}
    assert got["chloe@example.com"] == "At Risk"  # 70 days
    assert got["dmitri@example.com"] == "At Risk"  # 268 days
    assert got["fatima@example.com"] == "Lapsed"  # 358 days


def test_no_counted_orders_is_a_clear_error(db, clock):
    with pytest.raises(RfmError, match="import orders first"):
        compute_snapshot(db, as_of=TODAY, clock=clock)


# --- currencies --------------------------------------------------------------------------------------


def test_mixed_currencies_are_refused_without_a_rate(shop, fixtures, clock):
    import_orders(shop, fixtures / "orders" / "woocommerce_orders.csv", fmt=None, mapping={}, strict=False,
                  progress=None, clock=clock)
    with pytest.raises(CurrencyMixError) as info:
        compute_snapshot(shop, as_of=TODAY, clock=clock)
    assert "USD: 12 orders, EUR: 4 orders" in str(info.value) and "--rate EUR=RATE" in str(info.value)
    assert shop.execute("SELECT COUNT(*) FROM rfm_snapshots").fetchone()[0] == 0

    summary = compute_snapshot(shop, as_of=TODAY, config=RfmConfig(rates={"eur": 1.1}), clock=clock)
    emeka = scores(shop, summary.snapshot_id)["emeka@example.com"]
    assert emeka[:3] == (102, 2, pytest.approx(45.0 + 60.0 * 1.1))  # Shopify 45 USD + Woo 60 EUR net (08-14)
    assert latest_snapshot(shop).params["rates"] == {"USD": 1.0, "EUR": 1.1, "": 1.0}


# --- segment maps --------------------------------------------------------------------------------------


def test_default_map_uses_the_standard_names_and_covers_every_score():
    segment_map = load_segment_map(None)
    assert sorted(segment_map.names) == sorted(SEGMENTS)
    assert segment_map.segment(5, 5, 1) == "Champions"
    assert segment_map.segment(1, 5, 5) == "Can't Lose Them"
    assert segment_map.segment(3, 3, 3) == "Need Attention"
    assert LIFECYCLE_STAGES == ("Active", "At Risk", "Lapsed")


def test_user_map_with_catch_all_and_m(shop, tmp_path, clock):
    path = tmp_path / "mine.toml"
    path.write_text(
        'segments = [\n'
        '  { name = "Whales", m = "5" },\n'
        '  { name = "Regulars", f = "4-5" },\n'
        '  { name = "Everyone else" },\n'
        ']\n[lifecycle]\nactive_days = 30\nlapsed_days = 120\n',
        encoding="utf-8",
    )
    segment_map = load_segment_map(path)
    summary = compute_snapshot(shop, as_of=TODAY, config=RfmConfig(segment_map=segment_map), clock=clock)
    assert summary.segments == {"Whales": 1, "Regulars": 3, "Everyone else": 4}
    assert summary.lifecycle == {"Active": 4, "At Risk": 1, "Lapsed": 3}


@pytest.mark.parametrize("body,message", [
    ('segments = [{ name = "Only top", r = "5" }]', "no rule matches r=1 f=1 m=1"),
    ('segments = [{ name = "X", r = "6" }, { name = "Y" }]', 'r = \'6\' is not a score range'),
    ('segments = [{ name = "X", r = "4-2" }, { name = "Y" }]', "runs backwards"),
    ('segments = [{ name = "X", q = "1" }]', "unknown key(s) q"),
    ('segments = [{ name = 3 }]', "name = 3 is not text"),
    ('segments = [{ name = "X", description = ["a"] }]', "description = ['a'] is not text"),
    ('segments = [{ name = "Y" }]\n[lifecycle]\nactive_days = 200\nlapsed_days = 100', "active_days < lapsed_days"),
    ("segments = [", "not valid TOML"),
])
def test_bad_maps_are_refused_with_the_reason(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SegmentMapError) as info:
        load_segment_map(path)
    assert str(path) in str(info.value) and message in str(info.value)


# --- CLI -------------------------------------------------------------------------------------------------


def invoke(db_path, *args):
    result = CliRunner().invoke(cli, ["--db", str(db_path), *args])
    return result, (json.loads(result.output) if "--json" in args else None)


def test_cli_segments_json_with_members_and_transitions(shop, db_path):
    invoke(db_path, "segments", "--as-of", "2026-10-01", "--json")
    result, payload = invoke(db_path, "segments", "--as-of", "2026-11-24", "--json", "--members", "--transitions")
    assert result.exit_code == 0, result.output
    by_name = {s["name"]: s for s in payload["segments"]}
    assert list(by_name) == list(SEGMENTS)  # in map order, empty ones included
    assert by_name["Lost"]["customers"] == 2 and by_name["Lost"]["rule"] == "r 1, f 1-2"
    assert by_name["Lost"]["revenue_share"] == pytest.approx(320 / 870, abs=1e-4)
    assert payload["lifecycle"]["counts"] == {"Active": 5, "At Risk": 1, "Lapsed": 2}
    members = {m["key"]: (m["r"], m["f"], m["m"], m["segment"]) for m in payload["members"]}
    assert members == {k: (v[3], v[4], v[5], v[6]) for k, v in EXPECTED_TODAY.items()}
    moves = payload["transitions"]
    assert (moves["from"], moves["to"]) == ("2026-10-01", "2026-11-24")
    assert moves["lifecycle_summary"] == {"(new) -> Active": 2, "Active -> At Risk": 1, "At Risk -> Active": 1}
    assert {m["customer"] for m in moves["moves"]} == {
        "ben@example.com", "ines@example.com", "chloe@example.com", "emeka@example.com", "jonas.k@example.com"}


def test_cli_segments_refuses_mixed_currencies_in_json(shop, db_path, fixtures):
    invoke(db_path, "import", "orders", str(fixtures / "orders" / "woocommerce_orders.csv"), "--json")
    result, payload = invoke(db_path, "segments", "--as-of", "2026-11-24", "--json")
    assert result.exit_code == 1 and payload["ok"] is False and "EUR" in payload["error"]
    result, payload = invoke(db_path, "segments", "--as-of", "2026-11-24", "--rate", "EUR=1.1", "--json")
    assert result.exit_code == 0 and payload["snapshot"]["currency"] == "USD"


def test_cli_merge_two_customers(shop, db_path):
    result, payload = invoke(db_path, "segments", "--as-of", "2026-11-24", "--merge", "ben@example.com=ines@example.com",
                             "--json", "--members")
    assert result.exit_code == 0, result.output
    assert payload["merged"][0]["merged_customers"] is True
    merged = [m for m in payload["members"] if m["key"] in ("ben@example.com", "ines@example.com")]
    assert [(m["frequency"], m["monetary"]) for m in merged] == [(2, 80.0)]


def test_cli_customer_profile(shop, db_path):
    invoke(db_path, "segments", "--as-of", "2026-10-01", "--json")
    invoke(db_path, "segments", "--as-of", "2026-11-24", "--json")
    result, payload = invoke(db_path, "customer", "Ana@Example.com", "--json")
    assert result.exit_code == 0, result.output
    assert payload["key"] == "ana@example.com"
    assert payload["orders"]["total"] == 3 and payload["orders"]["net_revenue"] == {"USD": 200.0}
    assert [o["order"] for o in payload["orders"]["recent"]] == ["1001", "1002", "1003"]
    assert payload["current"]["segment"] == "Champions" and payload["current"]["as_of"] == "2026-11-24"
    assert [h["as_of"] for h in payload["history"]] == ["2026-10-01", "2026-11-24"]
    assert payload["feedback"] == []
    by_order, _ = invoke(db_path, "customer", "#1002")
    assert "ana@example.com" in by_order.output and "Champions" in by_order.output
    missing, payload = invoke(db_path, "customer", "nobody@example.com", "--json")
    assert missing.exit_code == 1 and payload["ok"] is False


def test_the_latest_scores_view_is_the_latest_snapshot_by_date_not_by_run(shop, clock):
    """latest_rfm_scores (what Datasette users and the TUI's segment filter read) follows latest_snapshot:
    a snapshot computed afterwards for an earlier date does not become 'the latest'."""
    today = compute_snapshot(shop, as_of=TODAY, clock=clock)
    compute_snapshot(shop, as_of=PAST, clock=clock)
    view = shop.execute("SELECT customer_id, segment FROM latest_rfm_scores ORDER BY customer_id").fetchall()
    table = shop.execute("SELECT customer_id, segment FROM rfm_scores WHERE snapshot_id = ? ORDER BY customer_id",
                         [latest_snapshot(shop).id]).fetchall()
    assert latest_snapshot(shop).id == today.snapshot_id and view == table and len(view) == today.customers
