"""`insight segments validate` on hand-built order histories whose answers are known.

The shop below has 200 one-order customers before the cut-off 2026-06-30, customer i (0..199) ordering
i + 1 days before it, so recency runs 1..200 and the R quintiles are exact fifths of 40: r 5 = recency
1-40, r 4 = 41-80, r 1-3 = 81-200. A map on R alone (RECENCY_MAP) names them Top / Next / Rest, so each
segment's members are known, and what they do in the 90 days after the cut-off is chosen per test.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ingest.orders import import_orders
from insight.analysis.rfm import RfmConfig, compute_snapshot
from insight.analysis.segment_map import load_segment_map, parse_segment_map
from insight.analysis.segment_validation import (
    compare_pairs,
    crossfit_rates,
    cutoff_dates,
    neighbour_pairs,
    predictor,
    validate_segments,
    wilson,
)
from insight.cli import cli

CUTOFF = date(2026, 6, 30)
CUSTOMERS = 200
RECENCY_MAP = """
segments = [
  { name = "Top", r = "5" },
  { name = "Next", r = "4" },
  { name = "Rest" },
]
"""
HEADER = "Name,Email,Financial Status,Currency,Total,Created at,Lineitem name\n"


def recency_map(tmp_path: Path, body: str = RECENCY_MAP) -> Path:
    path = tmp_path / "recency.toml"
    path.write_text(body, encoding="utf-8")
    return path


def shop_csv(path: Path, rebuy: dict[int, str], extra: list[tuple[str, date, str]] = ()) -> Path:
    """One order per customer before the cut-off; `rebuy` = customer -> status of an order 10 days after it;
    `extra` = (email, day, status) orders."""
    rows = []
    number = 1
    for i in range(CUSTOMERS):
        day = CUTOFF - timedelta(days=i + 1)
        rows.append(f"#{number},c{i}@shop.test,paid,USD,50.00,{day.isoformat()} 12:00:00 +0000,Tee")
        number += 1
        if i in rebuy:
            later = CUTOFF + timedelta(days=10)
            rows.append(f"#{number},c{i}@shop.test,{rebuy[i]},USD,30.00,{later.isoformat()} 12:00:00 +0000,Tee")
            number += 1
    # A newcomer's order long after the horizon: the history goes on (it is not scored at the cut-off).
    for email, day, status in [*extra, ("late@shop.test", CUTOFF + timedelta(days=140), "paid")]:
        rows.append(f"#{number},{email},{status},USD,25.00,{day.isoformat()} 12:00:00 +0000,Tee")
        number += 1
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def load(db, tmp_path: Path, clock, rebuy: dict[int, str], extra=()) -> None:
    import_orders(db, shop_csv(tmp_path / "orders.csv", rebuy, extra), fmt=None, mapping={}, strict=False,
                  progress=None, clock=clock)


def run(db, tmp_path: Path, **kwargs):
    maps = [load_segment_map(recency_map(tmp_path))]
    return validate_segments(db, as_of=CUTOFF, cutoffs=1, horizon_days=90, maps=maps, **kwargs)


def outcome(validation, name: str):
    return next(s for s in validation.cutoffs[0].maps[0].segments if s.name == name)


def pair(validation, a: str, b: str):
    return next(p for p in validation.cutoffs[0].maps[0].pairs if {p.a, p.b} == {a, b})


# --- known answers ---------------------------------------------------------------------------------------


def test_two_segments_that_behave_alike_are_suggested_for_merging(db, tmp_path, clock):
    # Top (0..39) and Next (40..79): every other customer buys again; Rest (80..199): nobody does.
    load(db, tmp_path, clock, {i: "paid" for i in range(0, 80, 2)})
    validation = run(db, tmp_path)
    top, nxt, rest = outcome(validation, "Top"), outcome(validation, "Next"), outcome(validation, "Rest")
    assert (top.customers, top.repurchased, nxt.customers, nxt.repurchased) == (40, 20, 40, 20)
    assert (rest.customers, rest.repurchased) == (120, 0)
    alike = pair(validation, "Top", "Next")
    assert (alike.a_repurchased, alike.a_customers, alike.b_repurchased, alike.b_customers) == (20, 40, 20, 40)
    assert alike.difference == 0 and alike.cohens_h == 0 and alike.p_value == pytest.approx(1.0)
    assert alike.mergeable
    apart = pair(validation, "Next", "Rest")
    assert not apart.mergeable and apart.p_adjusted < 1e-6 and abs(apart.cohens_h) > 1
    summary = {(p.a, p.b): p for p in validation.maps[0].pairs}
    assert summary[("Top", "Next")].suggest_merge and not summary[("Next", "Rest")].suggest_merge
    assert ("Top", "Rest") not in summary  # not neighbours on the grid: not tested


def test_a_segment_whose_customers_all_rebuy_has_repurchase_one_with_a_wilson_interval(db, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(40)})
    top = outcome(run(db, tmp_path), "Top")
    assert top.repurchase == 1.0
    low, high = top.repurchase_ci
    z2 = 1.959964 ** 2
    assert high == pytest.approx(1.0) and low == pytest.approx(40 / (40 + z2), abs=1e-4)  # Wilson at k = n
    assert top.orders_per_customer == 1.0 and top.orders_ci == (1.0, 1.0)
    assert top.revenue_per_customer == 30.0 and top.lapsed == 0


def test_a_perfectly_separating_segment_has_auc_one_and_beats_lifecycle_and_the_90_day_flag(db, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(40)})  # exactly the Top segment buys again
    predictors = {p.name: p for p in run(db, tmp_path).cutoffs[0].predictors}
    segments = next(p for name, p in predictors.items() if name.startswith("segments"))
    assert segments.auc == pytest.approx(1.0)
    # Top and Next (recency 1-80) are all Active and all bought in the last 90 days: both baselines mix them.
    assert predictors["lifecycle stage alone"].auc < 0.95
    assert predictors["bought in the last 90 days"].auc < 0.95
    assert segments.log_loss < predictors["bought in the last 90 days"].log_loss


def test_orders_excluded_from_rfm_are_no_repurchase(db, tmp_path, clock):
    # Top: 20 paid re-orders and 20 voided ones (cancelled: counts_for_rfm = 0).
    load(db, tmp_path, clock, {i: ("paid" if i % 2 else "voided") for i in range(40)})
    top = outcome(run(db, tmp_path), "Top")
    assert (top.customers, top.repurchased) == (40, 20)


def test_customers_first_seen_in_the_horizon_are_not_scored_and_later_orders_are_outside(db, tmp_path, clock):
    extra = [("newcomer@shop.test", CUTOFF + timedelta(days=5), "paid"),
             ("c0@shop.test", CUTOFF + timedelta(days=91), "paid")]  # the day after the horizon ends
    load(db, tmp_path, clock, {}, extra)
    validation = run(db, tmp_path)
    assert validation.cutoffs[0].customers == CUSTOMERS
    assert validation.cutoffs[0].repurchased == 0


def test_lapsed_share_uses_the_maps_lapsed_days_at_the_end_of_the_horizon(db, tmp_path, clock):
    load(db, tmp_path, clock, {})
    rest = outcome(run(db, tmp_path), "Rest")
    # Rest has recency 81..200; 90 days later those above 90 days (91..200) are past lapsed_days = 180.
    assert (rest.customers, rest.lapsed) == (120, 110)
    assert outcome(run(db, tmp_path), "Top").lapsed == 0


def test_the_backtest_scores_exactly_like_a_stored_snapshot(db, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(0, 200, 3)})
    summary = compute_snapshot(db, as_of=CUTOFF, config=RfmConfig(), clock=clock)
    validation = validate_segments(db, as_of=CUTOFF, cutoffs=1, horizon_days=90)
    assert {s.name: s.customers for s in validation.cutoffs[0].maps[0].segments} == summary.segments


def test_the_backtest_stores_no_snapshot(db, tmp_path, clock):
    load(db, tmp_path, clock, {})
    run(db, tmp_path)
    assert db.execute("SELECT COUNT(*) FROM rfm_snapshots").fetchone()[0] == 0


def test_repeated_cutoffs_are_averaged_so_one_month_cannot_mislead(db, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(0, 80, 2)})
    maps = [load_segment_map(recency_map(tmp_path))]
    validation = validate_segments(db, as_of=CUTOFF + timedelta(days=60), cutoffs=3, horizon_days=90, maps=maps)
    assert [c.as_of for c in validation.cutoffs] == ["2026-06-30", "2026-07-30", "2026-08-29"]
    shares = [next(s for s in c.maps[0].segments if s.name == "Top").repurchase for c in validation.cutoffs]
    top = next(s for s in validation.maps[0].segments if s.name == "Top")
    assert top.repurchase == pytest.approx(np.mean(shares)) and top.repurchase_range == (min(shares), max(shares))
    assert validation.notes  # the later horizons run past the last order: said so


# --- pieces ----------------------------------------------------------------------------------------------


def test_default_cutoffs_end_a_horizon_before_the_last_order_30_days_apart():
    assert cutoff_dates(date(2026, 11, 21), 90, 3) == [date(2026, 6, 24), date(2026, 7, 24), date(2026, 8, 23)]
    assert cutoff_dates(date(2026, 11, 21), 90, 2, as_of=date(2026, 5, 1)) == [date(2026, 4, 1), date(2026, 5, 1)]


def test_neighbours_on_the_default_r_x_f_grid():
    pairs = set(neighbour_pairs(load_segment_map(None)))
    assert ("Hibernating", "Lost") in pairs and ("Champions", "Loyal Customers") in pairs
    assert ("New Customers", "Promising") in pairs and ("Need Attention", "About to Sleep") in pairs
    assert ("Champions", "Lost") not in pairs and ("New Customers", "Lost") not in pairs


def test_neighbours_of_a_map_on_recency_alone(tmp_path):
    assert neighbour_pairs(load_segment_map(recency_map(tmp_path))) == [("Top", "Next"), ("Next", "Rest")]


def test_benjamini_hochberg_adjusts_the_pair_p_values():
    from insight.analysis.segment_validation import SegmentOutcome

    def seg(name, k, n):
        return SegmentOutcome(name, n, k, k / n, wilson(k, n), None, None, None, None, 0, 0.0, None)

    outcomes = [seg("A", 30, 100), seg("B", 50, 100), seg("C", 52, 100)]
    tests = compare_pairs(outcomes, [("A", "B"), ("B", "C")])
    raw = sorted(t.p_value for t in tests)
    adjusted = {t.b: t.p_adjusted for t in tests}
    assert adjusted["B"] == pytest.approx(raw[0] * 2) and adjusted["C"] == pytest.approx(raw[1])
    assert tests[0].cohens_h == pytest.approx(2 * math.asin(math.sqrt(0.3)) - 2 * math.asin(math.sqrt(0.5)))
    assert not tests[0].mergeable and tests[1].mergeable


def test_crossfit_scores_never_use_the_customers_own_outcome():
    groups = np.zeros(10, dtype=np.int64)
    bought = np.array([1] + [0] * 9, dtype=bool)
    scores = crossfit_rates(groups, bought, folds=10)
    # Leave-one-out: the buyer's score comes from nine non-buyers only, so it is the lowest.
    assert scores[0] == scores.min() and scores[0] < scores[1]


def test_auc_is_undefined_when_everyone_or_no_one_bought_again():
    assert predictor("x", np.array([0, 1, 1]), np.array([False, False, False])).auc is None


# --- CLI -------------------------------------------------------------------------------------------------


def invoke(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), *args])


def test_cli_json_is_one_object_with_both_maps_side_by_side(db, db_path, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(0, 80, 2)})
    result = invoke(db_path, "segments", "validate", "--as-of", CUTOFF.isoformat(), "--cutoffs", "2",
                    "--horizon", "90d", "--map", str(recency_map(tmp_path)), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)  # exactly one JSON object: json.loads refuses anything after it
    assert payload["ok"] is True and payload["horizon_days"] == 90
    assert [c["as_of"] for c in payload["cutoffs"]] == ["2026-05-31", "2026-06-30"]
    assert [m["map"] for m in payload["maps"]] == ["default map", "recency.toml"]
    assert [m["source"] for m in payload["maps"]] == ["default", str(recency_map(tmp_path))]
    assert [p["name"] for p in payload["predictors"]] == [
        "segments (default map, 11)", "segments (recency.toml, 3)", "lifecycle stage alone",
        "bought in the last 90 days"]
    later = {(p["a"], p["b"]): p["mergeable"] for p in payload["cutoffs"][1]["maps"][1]["pairs"]}
    assert later[("Top", "Next")] is True
    # A month earlier the cut-off moves the R fifths: Top rebuys ~1/2, Next ~1/4. Alike in one cut-off of two
    # is not enough for a merge.
    summary = {(p["a"], p["b"]): p for p in payload["maps"][1]["pairs"]}
    assert (summary[("Top", "Next")]["mergeable"], summary[("Top", "Next")]["tested"]) == (1, 2)
    assert summary[("Top", "Next")]["suggest_merge"] is False


def test_cli_table_and_html_page(db, db_path, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(0, 80, 2)})
    body = RECENCY_MAP.replace('"Top"', '"<b>Top & co</b>"')
    page = tmp_path / "backtest.html"
    result = invoke(db_path, "segments", "validate", "--as-of", CUTOFF.isoformat(), "--cutoffs", "1",
                    "--map", str(recency_map(tmp_path, body)), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "Bought again within 90 days" in result.stdout
    assert "Suggested merges (recency.toml): <b>Top & co</b> + Next" in result.stdout
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "<script" not in html and "http" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "&lt;b&gt;Top &amp; co&lt;/b&gt;" in html and "<b>Top" not in html
    assert "merge (1/1)" in html


def test_cli_errors_are_one_line(db, db_path, tmp_path):
    result = invoke(db_path, "segments", "validate", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["ok"] is False
    assert "no orders" in json.loads(result.stdout)["error"]
    result = invoke(db_path, "segments", "validate", "--horizon", "soon", "--json")
    assert result.exit_code != 0 and "--horizon" in json.loads(result.stdout)["error"]


def test_cli_refuses_cutoffs_before_any_order(db, db_path, tmp_path, clock):
    load(db, tmp_path, clock, {})
    result = invoke(db_path, "segments", "validate", "--as-of", "2025-01-01", "--json")
    assert result.exit_code == 1 and "cut-off" in json.loads(result.stdout)["error"]


def test_cli_refuses_a_cutoff_after_the_last_order_and_a_missing_map(db, db_path, tmp_path, clock):
    load(db, tmp_path, clock, {})
    after = (CUTOFF + timedelta(days=140)).isoformat()  # the day of the last order
    result = invoke(db_path, "segments", "validate", "--as-of", after, "--json")
    assert result.exit_code == 1 and "nothing after it to measure" in json.loads(result.stdout)["error"]
    result = invoke(db_path, "segments", "validate", "--map", str(tmp_path / "nope.toml"))
    assert result.exit_code == 1 and "nope.toml: segment map not found" in result.stderr
    assert "Traceback" not in result.output


def test_segments_without_a_subcommand_still_computes_a_snapshot(db, db_path, tmp_path, clock):
    load(db, tmp_path, clock, {})
    result = invoke(db_path, "segments", "--as-of", CUTOFF.isoformat(), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["snapshot"]["customers"] == CUSTOMERS


def test_parse_segment_map_is_the_same_format_as_segments_map(tmp_path):
    import tomllib

    assert parse_segment_map(tomllib.loads(RECENCY_MAP), "x").names == ["Top", "Next", "Rest"]


def test_mean_interval_bootstrap_and_normal_agree_on_large_samples():
    from insight.analysis.segment_validation import BOOTSTRAP_MAX, mean_interval

    rng = np.random.default_rng(1)
    values = rng.exponential(50.0, size=BOOTSTRAP_MAX)
    low, high = mean_interval(values, np.random.default_rng(2))
    assert low < values.mean() < high
    big_low, big_high = mean_interval(np.concatenate([values, values[:1]]), np.random.default_rng(2))  # normal
    assert big_low == pytest.approx(low, rel=0.02) and big_high == pytest.approx(high, rel=0.02)
    assert mean_interval(np.array([3.0]), rng) is None


def test_segments_are_compared_with_each_baseline_per_cutoff(db, tmp_path, clock):
    load(db, tmp_path, clock, {i: "paid" for i in range(40)})
    comparisons = {c.baseline: c for c in run(db, tmp_path).comparisons}
    assert set(comparisons) == {"lifecycle stage alone", "bought in the last 90 days"}
    flag = comparisons["bought in the last 90 days"]
    assert flag.compared == 1 and flag.better_in == 1
    assert flag.auc_gain == pytest.approx(flag.per_cutoff[0]) and flag.auc_gain > 0


def test_html_chart_draws_one_bar_per_segment_and_cutoff_scaled_to_the_share(db, tmp_path, clock):
    from insight.analysis.segment_validation_html import BAR_WIDTH, outcome_chart
    from insight.commands.segments_validate import payload

    load(db, tmp_path, clock, {i: "paid" for i in range(0, 80, 2)})  # Top 1/2, Next 1/2, Rest 0
    svg = outcome_chart(payload(run(db, tmp_path), None), 0)
    bars = re.findall(r'<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="\d+" fill="[^"]+"><title>', svg)
    assert [float(w) for w in bars] == [BAR_WIDTH / 2, BAR_WIDTH / 2, 0.0]
    assert svg.count("<line") == 5 + 3  # five grid lines, one interval whisker per bar


def test_horizon_orders_in_another_currency_need_a_rate(db, db_path, tmp_path, clock):
    load(db, tmp_path, clock, {}, [("c0@shop.test", CUTOFF + timedelta(days=3), "paid")])
    db.execute("UPDATE orders SET currency = 'CAD' WHERE created_day = ?", [(CUTOFF + timedelta(days=3)).isoformat()])
    db.conn.commit()
    args = ("segments", "validate", "--as-of", CUTOFF.isoformat(), "--cutoffs", "1", "--map",
            str(recency_map(tmp_path)), "--json")
    result = invoke(db_path, *args)
    assert result.exit_code == 1 and "--rate CAD=RATE" in json.loads(result.stdout)["error"]
    payload = json.loads(invoke(db_path, *args, "--rate", "CAD=0.5").stdout)
    top = payload["cutoffs"][0]["maps"][1]["segments"][0]
    assert (top["name"], top["repurchased"], top["revenue_per_customer"]) == ("Top", 1, round(25 * 0.5 / 40, 2))
