"""The Segments screen's backtest bars and the segment screen's "What they buy" tab, driven with Pilot.

The backtest shop (orders only, Shopify export, default segment map): 200 one-order customers o0..o199,
customer oi ordering i + 1 days before the cut-off C = 2026-08-01, and 10 customers m0..m9 with two orders
(C - 40 and C - 1). The last counted order falls on C + 90, so C is the cut-off `insight segments validate`
takes by default (the 90-day horizon before the last order). At C, with 210 customers and the tie rule
score = 1 + floor(5 x share strictly worse): the m customers have F = 5 and R = 5 (Champions, 10: too few to
tell); the oi have F = 1 and recency k = i + 1, R = 1 + floor(5 (200 - k) / 210): k 1-32 R 5 (New Customers,
32), k 33-74 R 4 (Promising, 42), then About to Sleep, Hibernating and Lost (42 each). In (C, C + 90]:
o0..o23 buy again (24 of 32 New Customers: 75%), o32..o52 (21 of 42 Promising: 50%), m0..m4; nobody else.
"""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from test_affinity import brief_shop, shopify_csv
from test_tui import SIZE, make_app
from textual.widgets import DataTable, Static, TabbedContent
from tui_snapshots.brand import settle

from ingest.orders import import_orders
from insight.analysis import segment_validation
from insight.analysis.rfm import RfmConfig, compute_snapshot
from tui.data import DataSource
from tui.screens.segment_detail import SegmentDetailScreen
from tui.screens.segments import SegmentsScreen, backtest_cell
from tui.widgets.purchases import MIX_BAR, PurchasesPanel

CUTOFF = date(2026, 8, 1)


def day(offset: int) -> str:
    return (CUTOFF + timedelta(days=offset)).isoformat()


def history() -> dict[str, list[tuple[str, list[str]]]]:
    orders: dict[str, list[tuple[str, list[str]]]] = {}
    for i in range(200):
        orders[f"o{i}"] = [(day(-(i + 1)), ["SER-1"])]
        if i < 24 or 32 <= i < 53:
            orders[f"o{i}"].append((day(90 if i == 0 else 30), ["SER-1"]))
    for j in range(10):
        orders[f"m{j}"] = [(day(-40), ["MST-1"]), (day(-1), ["MST-1"])] + ([(day(30), ["MST-1"])] if j < 5 else [])
    return orders


@pytest.fixture
def backtest_shop(db, db_path, tmp_path, clock):
    import_orders(db, shopify_csv(tmp_path / "orders.csv", history()), fmt=None, mapping={}, strict=False,
                  progress=None, clock=clock)
    compute_snapshot(db, as_of=CUTOFF, config=RfmConfig(), clock=clock)  # its rows: the cut-off's segments
    return db


def cells(app) -> dict[str, str]:  # noqa: ANN001 - InsightApp
    table = app.screen.query_one("#rfm-table", DataTable)
    return {str(key.value): str(table.get_cell(key, "backtest")) for key in table.rows}


def caption(app) -> str:  # noqa: ANN001
    return str(app.screen.query_one("#rfm-table", DataTable).border_subtitle)


def outcomes(db) -> dict[str, segment_validation.SegmentOutcome]:  # noqa: ANN001
    """What `insight segments validate --cutoffs 1` computes, straight from insight.analysis.segment_validation."""
    found = segment_validation.validate_segments(db, cutoffs=1)
    return {o.name: o for o in found.cutoffs[0].maps[0].segments}


def drawn(cell: str) -> tuple[float, int, int, int]:
    """A bar cell read back: bar length in cells, the share and the interval (percent)."""
    match = re.fullmatch(r"([█▌]*) *(\d+)% (\d+)–(\d+)%", cell)
    assert match, cell
    blocks = match.group(1)
    return blocks.count("█") + 0.5 * blocks.count("▌"), int(match.group(2)), int(match.group(3)), int(match.group(4))


@pytest.mark.asyncio
async def test_each_segments_bar_is_what_the_backtest_computes(backtest_shop, db_path, tmp_path):
    expected = outcomes(backtest_shop)
    assert {n: (o.repurchased, o.customers) for n, o in expected.items() if o.customers} == {
        "Champions": (5, 10), "New Customers": (24, 32), "Promising": (21, 42), "About to Sleep": (0, 42),
        "Hibernating": (0, 42), "Lost": (0, 42)}  # the shop as the docstring works it out
    app = make_app(db_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)
        shown = cells(app)
        assert set(shown) == {n for n, o in expected.items() if o.customers}
        for name in ("New Customers", "Promising", "About to Sleep", "Hibernating", "Lost"):
            outcome = expected[name]
            blocks, share, low, high = drawn(shown[name])
            assert share == round(100 * outcome.repurchase)
            assert (low, high) == tuple(round(100 * x) for x in outcome.repurchase_ci)
            assert abs(blocks - outcome.repurchase * 12) <= 0.5  # one 0-100% scale, 12 cells wide
        assert drawn(shown["New Customers"])[1] == 75 and drawn(shown["Promising"])[1] == 50
        assert shown["Champions"] == "too few to tell: 10 at the cut-off"  # under 30: no bar
        assert f"at the cut-off {CUTOFF.isoformat()}" in caption(app) and "next 90 days" in caption(app)
        assert f"(to {day(90)})" in caption(app)


@pytest.mark.asyncio
async def test_the_table_is_drawn_before_the_backtest_and_a_revisit_reuses_it_until_the_orders_change(
        backtest_shop, db_path, tmp_path, monkeypatch):
    release, calls = threading.Event(), []
    real = segment_validation.validate_segments

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(kwargs)
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(segment_validation, "validate_segments", slow)
    app = make_app(db_path, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("3")
            table = app.screen.query_one("#rfm-table", DataTable)
            for _ in range(200):  # the segment rows come from their own worker, not held by the backtest
                if table.row_count:
                    break
                await pilot.pause(0.01)
            assert table.row_count and set(cells(app).values()) == {"computing…"}
            assert "computing" in caption(app)
            release.set()
            await settle(pilot)
            assert drawn(cells(app)["Promising"])[1] == 50 and len(calls) == 1
            assert calls[0]["cutoffs"] == 1  # the default cut-off, as `insight segments validate --cutoffs 1`
            await pilot.press("1", "3")
            await pilot.pause()
            assert drawn(cells(app)["Promising"])[1] == 50  # drawn at once on a revisit
            await settle(pilot)
            assert len(calls) == 1  # the database did not change: not computed again
            # o60 (Promising at the cut-off) orders in the horizon, written by another connection
            (o60,) = backtest_shop.execute("SELECT customer_id FROM customer_identifiers WHERE value = "
                                           "'o60@example.com'").fetchone()
            backtest_shop.conn.execute(
                """INSERT INTO orders (platform, order_number, customer_id, created_at, created_day, total,
                   net_revenue, content_hash) VALUES ('shopify', '9001', ?, ?, ?, 30, 30, 'h')""",
                [o60, f"{day(20)}T10:00:00+00:00", day(20)])
            backtest_shop.conn.commit()
            await pilot.press("1", "3")
            await settle(pilot)
            assert len(calls) == 2 and drawn(cells(app)["Promising"])[1] == round(100 * 22 / 42)
    finally:
        release.set()


def test_a_segment_empty_at_the_cut_off_or_unknown_to_the_map_gets_words_not_a_bar(backtest_shop, db_path):
    backtest = DataSource(db_path).backtest()
    assert str(backtest_cell(backtest, "Potential Loyalists")) == "none at the cut-off"
    assert str(backtest_cell(backtest, "VIP")) == "not in the default map"  # a snapshot made with another map
    assert str(backtest_cell(None, "Promising")) == "computing…"


@pytest.mark.asyncio
async def test_no_orders_before_the_cut_off_says_why_there_are_no_bars(db, db_path, tmp_path):
    brief_shop(db)  # orders 2026-06-01 .. 11-01; without those before October none is left before the cut-off
    db.conn.execute("DELETE FROM orders WHERE created_day < '2026-10-01'")
    db.conn.commit()
    app = make_app(db_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert set(cells(app).values()) == {"no backtest"}
        assert caption(app) == ("bought again: no backtest (no counted order on or before the cut-off 2026-08-03, 90 "
                                "days before the last one (2026-11-01): the order history is shorter than the horizon)")


def panel_rows(app, selector: str) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one(selector, DataTable)
    return [[" ".join(str(c).split()) for c in table.get_row(key)] for key in table.rows]


@pytest.mark.asyncio
async def test_what_they_buy_shows_the_category_mix_pairs_and_who_is_due(db, db_path, tmp_path, monkeypatch):
    from insight.analysis import affinity

    computed = []
    real = affinity.affinity_report
    monkeypatch.setattr(affinity, "affinity_report", lambda *a, **k: computed.append(1) or real(*a, **k))
    brief_shop(db)  # worked out in tests/test_affinity.py
    app = make_app(db_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_segment("Champions")
        await settle(pilot)
        assert isinstance(app.screen, SegmentDetailScreen) and not app.screen.query(PurchasesPanel)  # not yet
        assert computed == []  # opening a segment computes nothing it does not show
        await pilot.press("p")
        await settle(pilot)
        summary = str(app.screen.query_one("#buys-summary", Static).content)
        assert "19 of the 25 with order lines (76%; all customers 79%) only ever bought one category" in summary
        assert "most often Cleanser (13)" in summary
        assert "Due to reorder within 14 days: 12 of them" in summary
        assert "median 30 days between repeat orders" in summary
        full = "█" * MIX_BAR
        assert panel_rows(app, "#buys-mix") == [
            # line revenue: Cleanser 13 x 24 = 312, Serum 24 x 30 = 720, Moisturiser 6 x 34 = 204; of 1,236
            ["Cleanser", f"{full[:8]} 52%", f"{full[:7]} 45%", "13", "25%"],
            ["Serum", f"{full[:7]}▌ 48%", f"{full[:8]}▌ 55%", "12", "58%"],
            ["Moisturiser", f"{full[:3]}▌ 24%", f"{full[:3]} 21%", "6", "17%"],
        ]
        assert panel_rows(app, "#buys-pairs") == [
            ["Moisturiser + Serum", "6", "24%", "2.08", "100% of Moisturiser buyers · 50% of Serum buyers"]]
        assert app.focused is app.screen.query_one("#buys-mix")
        tabs = app.screen.query_one(TabbedContent)
        await pilot.press("t")
        await settle(pilot)
        assert tabs.active == "themes"  # the keys of the other tabs work from this one
        await pilot.press("p")
        await settle(pilot)
        assert tabs.active == "buys" and computed == [1]  # shown again from the session's result
        await pilot.press("b")
        await settle(pilot)
        assert tabs.active == "brief"
        assert "12 of them are due to reorder" in app.screen.query_one("#brief-md").source
        assert computed == [1]  # the brief reused it too
