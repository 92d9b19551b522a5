"""The TUI driven as a person would, with Textual's Pilot, on the fixed small brand."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Markdown, OptionList, Select, Static, TabbedContent
from tui_snapshots.brand import build_small_brand, settle

from tui.app import InsightApp
from tui.screens.document import DocumentScreen
from tui.screens.help import HelpScreen
from tui.screens.overview import OverviewScreen
from tui.screens.search import SearchScreen
from tui.screens.segment_detail import SegmentDetailScreen
from tui.screens.segments import SegmentsScreen
from tui.screens.theme_detail import ThemeDetailScreen
from tui.screens.themes import ThemesScreen, ThemeTable
from tui.widgets.quotes import QuotePanel

SIZE = (160, 48)


@pytest.fixture
def brand_path(tmp_path: Path) -> Path:
    path = tmp_path / "brand.db"
    build_small_brand(path).conn.close()
    return path


def make_app(path: Path, tmp_path: Path) -> InsightApp:
    return InsightApp(path, briefs_dir=tmp_path / "briefs")


def static_text(app: InsightApp, selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    title = getattr(content, "title", None)  # a rich Panel shows its title
    return title if isinstance(title, str) else str(content)


def theme_labels(app: InsightApp) -> list[str]:
    table = app.screen.query_one(ThemeTable)
    return [table.records[key.value].label for key in table.rows]


def db_rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.asyncio
async def test_empty_database_tells_a_new_user_what_to_run(tmp_path):
    from insight.core.db import open_db

    open_db(tmp_path / "new.db").conn.close()  # what `insight tui` finds after `insight import`, or migrates
    app = make_app(tmp_path / "new.db", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        text = static_text(app, "#overview-empty")
        assert "This database is empty" in text
        assert "insight import orders" in text and "insight themes" in text and "make demo" in text
        await pilot.press("2")
        await settle(pilot)
        assert "No themes yet" in static_text(app, "#themes-empty")


@pytest.mark.asyncio
async def test_navigate_to_a_theme_its_quotes_and_the_whole_document(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Top themes" in static_text(app, "#ov-themes")
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ThemesScreen)
        assert theme_labels(app)[0] == "shipping cost / delivery fee"
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ThemeDetailScreen)
        assert app.screen.detail.label == "merino wool / sustainable"
        assert app.screen.sub_title == f"Theme #{app.screen.detail.id}: merino wool / sustainable"
        assert "customers say" in static_text(app, "#theme-header")
        panel = app.screen.query_one(QuotePanel)
        assert panel.table.row_count == 23 and panel.table.total == 23
        first = panel.current
        assert first.text in static_text(app, ".preview")
        await pilot.press("c")
        assert app.clipboard == first.text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentScreen)
        target = app.screen.query_one(".target", Static)
        assert first.text in str(target.content)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ThemesScreen)


@pytest.mark.asyncio
async def test_transcript_opens_with_the_turn_in_context(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_document(1, 4)
        await settle(pilot)
        units = list(app.screen.query(".unit"))
        assert len(units) == 8  # interviewer turns shown for context
        [target] = app.screen.query(".target")
        assert db_rows(brand_path, "SELECT text FROM units WHERE id = 4")[0][0] in str(target.content)
        assert len(app.screen.query(".context")) == 4
        await pilot.press("n", "c")
        assert app.clipboard.startswith("Anything you would change?")


@pytest.mark.asyncio
async def test_filters_and_sorting_narrow_the_theme_list(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert len(theme_labels(app)) == 10
        app.screen.query_one("#f-source", Select).value = "review"
        await settle(pilot)
        assert set(theme_labels(app)) == {"fabric quality / holes", "fast delivery"}
        app.screen.query_one("#f-source", Select).clear()
        await settle(pilot)
        await pilot.press("slash", *"deliv")
        await settle(pilot)
        assert sorted(theme_labels(app)) == ["fast delivery", "shipping cost / delivery fee"]
        await pilot.press("ctrl+u", "enter")
        await settle(pilot)
        await pilot.press("s", "s")  # size -> share -> label (ascending)
        await settle(pilot)
        labels = theme_labels(app)
        assert labels == sorted(labels) and len(labels) == 10
        app.screen.query_one("#f-segment", Select).value = "At Risk"
        await settle(pilot)
        assert "fabric quality / holes" in theme_labels(app)
        assert "hiking comfort / blisters" not in theme_labels(app)


@pytest.mark.asyncio
async def test_rename_and_merge_from_the_theme_list(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+u", *"delivery costs", "enter")
        await settle(pilot)
        assert db_rows(brand_path, "SELECT user_label FROM themes WHERE id = 1") == [("delivery costs",)]
        assert theme_labels(app)[0] == "delivery costs"
        await pilot.press("m")
        await settle(pilot)
        options = app.screen.query_one(OptionList)
        assert options.option_count == 2  # the other themes of the same survey question
        await pilot.press(*"price", "down", "enter")
        await settle(pilot)
        assert db_rows(brand_path, "SELECT status, merged_into FROM themes WHERE id = 3") == [("merged", 1)]
        assert "price / too expensive" not in theme_labels(app)
        assert app.screen.query_one(ThemeTable).records["1"].size == 28 + 13


@pytest.mark.asyncio
async def test_split_from_the_theme_detail(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("enter")  # k = 2
        await settle(pilot)
        children = db_rows(brand_path, "SELECT id, size FROM themes WHERE id > 10 ORDER BY id")
        assert len(children) == 2 and sum(size for _, size in children) == 28
        assert "split" in static_text(app, "#theme-header")


@pytest.mark.asyncio
async def test_segments_heat_map_segment_detail_and_brief_export(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)
        rfm = app.screen.query_one("#rfm-table")
        assert rfm.row_count == 5
        heat = app.screen.query_one("#heatmap")
        assert heat.row_count == 10 and len(heat.columns) == 6
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SegmentDetailScreen)
        segment = app.screen.segment
        themes = app.screen.query_one("#segment-themes")
        assert themes.row_count > 0
        quotes = app.screen.query_one(QuotePanel)
        assert quotes.table.row_count > 0
        await pilot.press("b")
        await settle(pilot)
        brief = app.screen.query_one("#brief-md", Markdown)
        assert segment in brief.source
        await pilot.press("e")
        await settle(pilot)
        written = list((tmp_path / "briefs").glob("*.md"))
        assert len(written) == 1 and segment in written[0].read_text()


@pytest.mark.asyncio
async def test_search_full_text_then_similar_quotes(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"merino", "enter")
        await settle(pilot)
        panel = app.screen.query_one(QuotePanel)
        assert panel.table.row_count > 0
        assert all("merino" in q.text.lower() for q in panel.table.records.values())
        await pilot.press("f")
        await settle(pilot)
        assert panel.table.border_title.startswith("Similar to")
        assert panel.table.row_count > 0
        app.screen.query_one("#s-source", Select).value = "review"
        await pilot.press("slash", "ctrl+u", *"delivery", "enter")
        await settle(pilot)
        assert {q.source for q in panel.table.records.values()} == {"review"}


@pytest.mark.asyncio
async def test_help_and_command_palette(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Theme: fabric")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ThemeDetailScreen)
        assert app.screen.detail.label == "fabric quality / holes"


@pytest.mark.asyncio
async def test_the_list_pages_lazily(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        table = app.screen.query_one(QuotePanel).table
        table.page_size = 10
        table.reload()
        await settle(pilot)
        assert table.row_count == 10 and table.total == 28
        for _ in range(6):
            await pilot.press("down")
        await settle(pilot)
        assert table.row_count == 20


def test_overview_condenses_long_histories_per_source():
    from insight.analysis.queries import SourceWindow
    from tui.screens.overview import condense

    rows = [SourceWindow("review", f"2025-{m:02d}-01", 2, 10, 5) for m in range(1, 13)]
    rows.append(SourceWindow("survey", "2025-12-01", 1, 4, 4))
    condensed = condense(rows)
    assert condensed[0] == ("review", "earlier (10 windows)", 20, 100, 0.5)
    assert [r[1] for r in condensed[1:]] == ["2025-11-01", "2025-12-01", "2025-12-01"]


@pytest.mark.asyncio
async def test_a_reopened_theme_screen_shows_the_new_theme_from_the_top(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        first_screen = app.screen
        await pilot.press("down", "down", "escape")
        app.open_theme(2)
        await settle(pilot)
        assert app.screen is first_screen  # composed once, shown again
        assert app.screen.theme_id == 2 and app.screen.detail.id == 2
        assert f"#2 · {app.screen.detail.scope}" in static_text(app, "#theme-header")
        panel = app.screen.query_one(QuotePanel)
        theme_two = {r[0] for r in db_rows(brand_path, "SELECT unit_id FROM unit_themes WHERE theme_id = 2")}
        assert {q.unit_id for q in panel.table.records.values()} == theme_two
        assert panel.table.cursor_row == 0 and panel.table.has_focus


@pytest.mark.asyncio
async def test_a_theme_opened_from_a_segment_opened_from_that_theme_gets_its_own_screen(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        outer = app.screen
        app.open_segment("Champions")
        await settle(pilot)
        app.open_theme(2)
        await settle(pilot)
        assert app.screen is not outer and app.screen.detail.id == 2
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert app.screen is outer and outer.detail.id == 1


@pytest.mark.asyncio
async def test_the_footer_lists_the_focused_keys_and_a_click_presses_one(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        keys = {key.description: key for key in app.screen.query("Footer FooterKey")}
        assert {"Rename", "Segments", "Open", "Expand"} <= set(keys)
        await pilot.click(keys["Segments"])
        await settle(pilot)
        assert isinstance(app.screen, SegmentsScreen)


@pytest.mark.asyncio
async def test_the_footer_follows_the_focus_and_is_not_rebuilt_when_its_keys_stay_the_same(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)

        def described() -> set[str]:
            return {key.description for key in app.screen.query("Footer FooterKey")}

        assert "Open document" not in described()  # the search box has the focus
        await pilot.press(*"delivery", "enter")
        await settle(pilot)
        assert {"Open document", "Copy quote", "Similar quotes"} <= described()  # now the results have it
        keys = list(app.screen.query("Footer FooterKey"))
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert list(app.screen.query("Footer FooterKey")) == keys  # shown again, same keys: the same widgets


@pytest.mark.asyncio
async def test_a_table_redraws_its_cursor_when_focus_moves(brand_path, tmp_path):
    """The table keeps rendered cells across style refreshes; a focus change must still restyle the cursor."""
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(ThemeTable)

        def cursor_background() -> object:
            strip = table.render_line(table.header_height + table.cursor_row)
            return [s.style.bgcolor for s in strip if s.text.strip()][0]

        focused = cursor_background()
        assert focused == table.get_component_rich_style("datatable--cursor").bgcolor
        await pilot.press("slash")  # focus the filter input
        await settle(pilot)
        assert not table.has_focus
        blurred = cursor_background()
        assert blurred == table.get_component_rich_style("datatable--cursor").bgcolor
        assert blurred != focused


@pytest.mark.asyncio
async def test_a_reopened_segment_screen_shows_the_new_segment_and_its_brief(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        segments = [r[0] for r in db_rows(brand_path, "SELECT DISTINCT segment FROM rfm_scores ORDER BY segment")]
        first, second = segments[0], segments[1]
        app.open_segment(first)
        await settle(pilot)
        screen = app.screen
        assert static_text(app, "#segment-header").startswith(f"[b]{first}[/b]")
        assert app.screen.sub_title == f"Segment: {first}"
        await pilot.press("escape")
        app.open_segment(second, tab="brief")
        await settle(pilot)
        assert app.screen is screen and screen.segment == second
        assert static_text(app, "#segment-header").startswith(f"[b]{second}[/b]")
        assert screen.query_one(TabbedContent).active == "brief"
        assert second in screen.query_one("#brief-md", Markdown).source


def test_over_indexed_themes_rank_by_distinctiveness_and_need_five_customers():
    from types import SimpleNamespace as Row

    from tui.screens.segment_detail import few_customers, over_indexed

    def row(**fields):  # noqa: ANN003, ANN202
        return Row(**({"level": "sub", "parent_id": None} | fields))

    rows = [
        row(segment="Lost", theme_id=1, lift=7.2, customers=1, score=0.9, significant=False),
        row(segment="Lost", theme_id=2, lift=1.4, customers=17, score=2.1, significant=False),
        row(segment="Lost", theme_id=3, lift=1.2, customers=40, score=3.0, significant=True),
        row(segment="Lost", theme_id=4, lift=0.8, customers=30, score=-1.0, significant=False),  # under-indexed
        row(segment="Lost", theme_id=6, lift=9.7, customers=2, score=1.2, significant=True),  # Fisher's p alone
        row(segment="Champions", theme_id=5, lift=3.0, customers=20, score=4.0, significant=True),
    ]
    report = Row(rows=rows, min_support=5)
    assert [r.theme_id for r in over_indexed(report, "Lost")] == [3, 2]
    assert few_customers(report, "Lost") == 2
    # two levels: a parent is shown when none of its sub-themes qualifies on its own, else they stand for it
    family = [
        row(segment="Lost", theme_id=10, lift=1.5, customers=30, score=2.5, significant=True, level="parent"),
        row(segment="Lost", theme_id=11, lift=1.8, customers=12, score=2.2, significant=True, parent_id=10),
        row(segment="Lost", theme_id=20, lift=1.6, customers=25, score=2.4, significant=True, level="parent"),
        row(segment="Lost", theme_id=21, lift=2.0, customers=3, score=0.8, significant=False, parent_id=20),
    ]
    report = Row(rows=rows + family, min_support=5)
    assert [r.theme_id for r in over_indexed(report, "Lost")] == [3, 20, 11, 2]


@pytest.mark.asyncio
async def test_search_results_come_with_their_total(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press(*"delivery", "enter")
        await settle(pilot)
        table = app.screen.query_one(QuotePanel).table
        expected = db_rows(brand_path, "SELECT COUNT(*) FROM units_fts JOIN units u ON u.id = units_fts.rowid "
                                       "WHERE units_fts MATCH 'delivery' AND u.analyse = 1")[0][0]
        assert 0 < table.row_count and table.total == expected
        assert table.border_subtitle == f"{table.row_count:,} of {expected:,}"


@pytest.mark.asyncio
async def test_a_reopened_document_screen_shows_only_the_new_document(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_document(1, 4)
        await settle(pilot)
        screen = app.screen
        await pilot.press("escape")
        doc_id, unit_id, n_units = db_rows(
            brand_path, "SELECT document_id, MIN(id), COUNT(*) FROM units WHERE document_id != 1 "
                        "GROUP BY document_id ORDER BY COUNT(*), document_id LIMIT 1")[0]
        app.open_document(doc_id, unit_id)
        await settle(pilot)
        assert app.screen is screen and screen.doc.id == doc_id
        assert len(screen.query(".unit")) == n_units
        [target] = screen.query(".target")
        assert db_rows(brand_path, f"SELECT text FROM units WHERE id = {unit_id}")[0][0] in str(target.content)


@pytest.mark.asyncio
async def test_the_highlighted_segment_is_fetched_ahead_and_opens_from_it(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        rfm = app.screen.query_one("#rfm-table")
        segment = rfm.coordinate_to_cell_key(rfm.cursor_coordinate).row_key.value
        assert ("segment", segment, None) in app.prefetched
        opened = []
        app.open_with = lambda key, fetch, push: opened.append(key)  # the slow path must not be taken
        await pilot.press("enter")
        await settle(pilot)
        assert opened == [] and isinstance(app.screen, SegmentDetailScreen) and app.screen.segment == segment
        assert static_text(app, "#segment-header").startswith(f"[b]{segment}[/b]")


@pytest.mark.asyncio
async def test_only_the_latest_open_lands(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        app.open_theme(2)  # asked for before the first arrived: the first is stale
        await settle(pilot)
        assert [type(s).__name__ for s in app.screen_stack] == ["OverviewScreen", "ThemeDetailScreen"]
        assert app.screen.detail.id == 2


@pytest.mark.asyncio
async def test_a_reused_theme_screen_on_a_missing_theme_shows_nothing_of_the_last_one(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        await pilot.press("escape")
        app.open_theme(99999)
        await settle(pilot)
        assert "no longer exists" in static_text(app, "#theme-header")
        assert static_text(app, "#representative") == "" and app.screen.sub_title == "Theme #99999"


@pytest.mark.asyncio
async def test_search_focuses_its_results_when_they_arrive_and_stays_in_the_box_when_none_match(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press(*"delivery", "enter")
        await settle(pilot)
        panel = app.screen.query_one(QuotePanel)
        assert app.focused is panel.table and panel.table.border_title == "Quotes matching 'delivery', best first"
        assert panel.current is not None and panel.current.text in static_text(app, ".preview")
        await pilot.press("slash", "ctrl+u", *"zzzqqq", "enter")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#search-input")
        assert panel.table.row_count == 0 and "No quotes match" in static_text(app, ".preview")


@pytest.mark.asyncio
async def test_table_cells_are_plain_text_not_markup(tmp_path):
    from textual.app import App, ComposeResult

    from tui.widgets.table import Table

    class One(App):
        def compose(self) -> ComposeResult:
            yield Table()

    app = One()
    async with app.run_test() as pilot:
        table = app.query_one(Table)
        table.add_column("quote")
        table.add_row("closing [/] and [b]bold[/b] as typed")  # Rich markup would raise on the first
        await pilot.pause()
        assert table.get_row_at(0)[0].plain == "closing [/] and [b]bold[/b] as typed"


@pytest.mark.asyncio
async def test_a_segments_neighbouring_themes_quotes_are_fetched_ahead_and_are_the_right_ones(brand_path, tmp_path,
                                                                                            monkeypatch):
    from insight.analysis import queries

    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        themes = screen.query_one("#segment-themes")
        assert themes.row_count >= 2
        below = int(themes.coordinate_to_cell_key((1, 0)).row_key.value)
        assert below in screen.fetched_ahead
        import tui.screens.segment_detail as segment_detail

        def no_queries(*args):  # noqa: ANN002, ANN202 - from here quotes can only come from what was fetched
            def fetch(offset: int, limit: int):  # noqa: ANN202
                raise AssertionError("queried again")
            return fetch

        monkeypatch.setattr(segment_detail, "segment_quote_fetch", no_queries)
        await pilot.press("down")
        await pilot.pause()
        panel = screen.query_one(QuotePanel)
        expected = queries.theme_quotes(app.data.read(), below, queries.ThemeFilter(segment=screen.segment), limit=30)
        assert [q.unit_id for q in panel.table.records.values()] == [q.unit_id for q in expected.rows]
        assert panel.table.total == expected.total and panel.showing == (below, screen.segment)


@pytest.mark.asyncio
async def test_search_uses_the_page_fetched_while_typing_only_for_the_same_words_and_filters(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press(*"delivery")
        await pilot.pause(0.1)
        await settle(pilot)
        screen = app.screen
        assert screen.ahead is not None and screen.ahead[0] == "delivery"
        screen.query_one("#s-source", Select).value = "review"  # the filter changes after the page was fetched
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        panel = screen.query_one(QuotePanel)
        reviews = db_rows(brand_path, "SELECT COUNT(*) FROM units_fts JOIN units u ON u.id = units_fts.rowid "
                                      "JOIN documents d ON d.id = u.document_id WHERE units_fts MATCH 'delivery' "
                                      "AND u.analyse = 1 AND d.source = 'review'")[0][0]
        assert {q.source for q in panel.table.records.values()} == {"review"} and panel.table.total == reviews
        await pilot.press("slash", "ctrl+u", *"wash")
        await pilot.pause(0.1)
        await settle(pilot)
        assert screen.ahead is not None and screen.ahead[:2] == ("wash", screen.filter)
        await pilot.press("enter")
        await pilot.pause()  # no worker is needed: the page is shown from what was fetched ahead
        assert panel.table.border_title == "Quotes matching 'wash', best first" and panel.table.row_count == 5


@pytest.mark.asyncio
async def test_back_from_a_document_a_theme_keeps_what_an_edit_changed(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+u", *"delivery costs", "enter")
        await settle(pilot)
        assert static_text(app, "#theme-header").startswith("delivery costs")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, DocumentScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ThemeDetailScreen)
        assert static_text(app, "#theme-header").startswith("delivery costs")


def test_who_said_it_names_an_order_or_a_customer_id():
    from tui.widgets.format import customer

    assert customer("email:ana@example.com") == "ana@example.com"
    assert customer("order:6293") == "order #6293"
    assert customer("customer_id:42") == "customer 42"
    assert customer(None) == "anonymous"


@pytest.mark.asyncio
async def test_slow_results_do_not_take_the_focus_from_new_words_being_typed(brand_path, tmp_path, monkeypatch):
    import time

    from insight.analysis import queries

    real_search = queries.search_units

    def slow_search(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        time.sleep(0.3)
        return real_search(*args, **kwargs)

    monkeypatch.setattr(queries, "search_units", slow_search)
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press(*"delivery", "enter", "slash", "ctrl+u", "w", "a")
        await settle(pilot)
        box = app.screen.query_one("#search-input")
        assert app.focused is box and box.value == "wa"
        await pilot.press("s", "h", "enter")
        await settle(pilot)
        assert app.focused is app.screen.query_one(QuotePanel).table  # the search asked for now does


@pytest.mark.asyncio
async def test_a_quotes_title_stays_with_its_rows_when_the_next_page_fails(brand_path, tmp_path):
    from insight.analysis import queries

    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        panel = app.screen.query_one(QuotePanel)
        shown = queries.theme_quotes(app.data.read(), 2, limit=50)

        def fails(offset: int, limit: int) -> queries.QuotePage:
            raise RuntimeError("database is locked")

        panel.show(lambda offset, limit: shown, "theme 2 quotes", shown)
        panel.show(fails, "theme 3 quotes")  # before the first one's Loaded message is handled
        await settle(pilot)
        assert panel.table.border_title == "theme 2 quotes"
        assert [q.unit_id for q in panel.table.records.values()] == [q.unit_id for q in shown.rows]


@pytest.mark.asyncio
async def test_a_reload_for_the_theme_shown_before_does_not_land_on_the_next_one(brand_path, tmp_path, monkeypatch):
    import time

    import tui.screens.theme_detail as theme_detail

    real_fetch = theme_detail.fetch_theme_view

    def slow_for_theme_1(data, theme_id, *args):  # noqa: ANN001, ANN002, ANN202
        if theme_id == 1:
            time.sleep(0.3)
        return real_fetch(data, theme_id, *args)

    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_theme(1)
        await settle(pilot)
        screen = app.screen
        monkeypatch.setattr(theme_detail, "fetch_theme_view", slow_for_theme_1)
        screen.load()  # as after an edit: a reload of theme 1, slow
        await pilot.press("escape")
        app.open_theme(2)
        await settle(pilot)
        assert app.screen is screen and screen.theme_id == 2 and static_text(app, "#theme-header").split()[0] != ""
        assert screen.detail is not None and screen.detail.id == 2 and "#2 ·" in static_text(app, "#theme-header")


# ---------------------------------------------------------------- themes in two levels


@pytest.fixture
def tree_path(tmp_path: Path) -> Path:
    from tui_snapshots.brand import add_theme_tree

    path = tmp_path / "tree.db"
    build_small_brand(path).conn.close()
    add_theme_tree(path)
    return path


def shown_rows(app: InsightApp) -> list[tuple[str, str]]:
    """(theme cell as drawn, label) of every row, in order."""
    table = app.screen.query_one(ThemeTable)
    return [(table.get_row(row.key)[1].plain, table.records[row.key.value].label) for row in table.ordered_rows]


def current_label(app: InsightApp) -> str:
    return app.screen.query_one(ThemeTable).current.label


@pytest.mark.asyncio
async def test_a_parent_theme_opens_and_closes_its_subthemes_with_the_arrow_keys(tree_path, tmp_path):
    app = make_app(tree_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        parents = [r[0] for r in db_rows(tree_path, "SELECT label FROM themes WHERE level = 'parent' "
                                                    "AND status = 'active' ORDER BY size DESC, id")]
        assert [label for _, label in shown_rows(app)] == parents
        assert shown_rows(app)[0][0].startswith("▸ cost at checkout")
        await pilot.press("right")
        await settle(pilot)
        rows = shown_rows(app)
        assert len(rows) == len(parents) + 2
        assert rows[0][0].startswith("▾ cost at checkout")
        assert rows[1] == ("  ├ shipping cost / delivery fee", "shipping cost / delivery fee")
        assert rows[2] == ("  └ price / too expensive", "price / too expensive")
        assert current_label(app) == "cost at checkout"
        await pilot.press("right")  # into the open branch
        assert current_label(app) == "shipping cost / delivery fee"
        await pilot.press("left", "left")  # up to the parent, then close it
        await settle(pilot)
        assert [label for _, label in shown_rows(app)] == parents and current_label(app) == "cost at checkout"
        sizing = parents.index("sizing")
        await pilot.press(*["down"] * sizing, "right")  # one sub-theme: the parent is the whole story
        await settle(pilot)
        assert len(shown_rows(app)) == len(parents) and shown_rows(app)[sizing][0].startswith("  sizing")


@pytest.mark.asyncio
async def test_left_on_a_subtheme_goes_to_its_parent_and_enter_opens_either_level(tree_path, tmp_path):
    app = make_app(tree_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        delivery = [label for _, label in shown_rows(app)].index("product and delivery")
        await pilot.press(*["down"] * delivery, "right")
        await settle(pilot)
        await pilot.press("down", "down")
        assert current_label(app) == "fast delivery"
        assert "moved from shipping speed" in shown_rows(app)[delivery + 2][0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ThemeDetailScreen) and app.screen.detail.label == "fast delivery"
        header = static_text(app, "#theme-header")
        assert "sub-theme of “product and delivery”" in header and "moved from “shipping speed”" in header
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("left")
        assert current_label(app) == "product and delivery"
        assert len(shown_rows(app)) == len(set(label for _, label in shown_rows(app)))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.detail.label == "product and delivery" and app.screen.detail.level == "parent"
        listed = static_text(app, "#subthemes")
        assert "fabric quality / holes" in listed and "fast delivery" in listed
        panel = app.screen.query_one(QuotePanel)
        assert panel.table.total == db_rows(tree_path, "SELECT COUNT(*) FROM unit_themes WHERE theme_id IN (7, 8)")[0][0]


@pytest.mark.asyncio
async def test_an_open_branch_stays_open_when_the_list_is_sorted_again_and_pages_count_parents(tree_path, tmp_path):
    app = make_app(tree_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("right")
        await settle(pilot)
        await pilot.press("s", "s")  # size -> share -> label
        await settle(pilot)
        rows = shown_rows(app)
        at = [label for _, label in rows].index("cost at checkout")
        assert rows[at][0].startswith("▾") and rows[at + 1][1] == "price / too expensive"  # by label, too
        table = app.screen.query_one(ThemeTable)
        table.page_size = 2
        table.reload()
        await settle(pilot)
        for _ in range(12):
            await pilot.press("down")
            await settle(pilot)
        tops = [label for cell, label in shown_rows(app) if not cell.startswith("  ├") and not cell.startswith("  └")]
        assert sorted(tops) == tops and len(tops) == len(set(tops)) == table.total
        assert table.border_subtitle == f"{table.total} of {table.total}"


@pytest.mark.asyncio
async def test_a_branch_opened_stays_open_after_renaming_one_of_its_subthemes(tree_path, tmp_path):
    app = make_app(tree_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("right", "right")  # open the first parent, step onto its largest sub-theme
        await settle(pilot)
        assert current_label(app) == "shipping cost / delivery fee"
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+u", *"delivery costs", "enter")
        await settle(pilot)
        rows = shown_rows(app)
        assert rows[0][0].startswith("▾ cost at checkout") and rows[1] == ("  ├ delivery costs", "delivery costs")


@pytest.mark.asyncio
async def test_themes_from_before_two_levels_are_listed_as_they_were(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        before = shown_rows(app)
        assert len(before) == 10 and all(cell.startswith("  ") and cell[2] not in "├└" for cell, _ in before)
        await pilot.press("right", "down", "left")
        await settle(pilot)
        assert shown_rows(app) == before and current_label(app) == before[1][1]


@pytest.mark.asyncio
async def test_the_overview_names_each_parents_largest_subtheme(tree_path, tmp_path):
    app = make_app(tree_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = app.screen.query_one("#ov-themes", Static).content
        from rich.console import Console

        console = Console(width=160, record=True)
        console.print(text)
        drawn = console.export_text()
        assert "cost at checkout — largest: shipping cost / delivery fee" in drawn
        assert "sizing — largest" not in drawn  # a single sub-theme is not a finding of its own


@pytest.mark.asyncio
async def test_a_place_read_ahead_is_drawn_with_its_rows_and_filter_options_as_it_opens(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the Overview is drawn
        await pilot.pause(OverviewScreen.AHEAD_AFTER + 0.1)  # it has been up a moment: the places are read ahead
        await settle(pilot)
        assert {("place", "themes"), ("place", "segments"), ("place", "search")} <= set(app.prefetched)
        await pilot.press("2")
        await pilot.pause()  # the screen's mount, without waiting for any worker
        screen = app.screen
        assert isinstance(screen, ThemesScreen)
        table = screen.query_one(ThemeTable)
        assert table.row_count and table.wanted("page") is None  # the page read ahead: none asked for
        assert screen.query_one("#f-source", Select).query_one(OptionList).option_count > 1  # blank + sources
        assert ("place", "themes") not in app.prefetched  # used once
        await pilot.press("3")
        await pilot.pause()
        assert app.screen.query_one("#rfm-table").row_count


@pytest.mark.asyncio
async def test_a_place_not_read_ahead_opens_once_its_data_is_read(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause(OverviewScreen.AHEAD_AFTER + 0.1)
        await settle(pilot)
        app.prefetched.clear()  # as if 2 was pressed before the read-ahead answered
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ThemesScreen) and app.screen.query_one(ThemeTable).row_count
        app.prefetched.clear()
        app.action_place("search")
        app.action_place("overview")  # pressed before Search's data was read
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)  # the late answer did not open Search after the 1


@pytest.mark.asyncio
async def test_a_theme_change_still_restyles_a_place_opened_before(brand_path, tmp_path):
    app = make_app(brand_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(ThemeTable)
        before = table.styles.background
        await pilot.press("1")
        await settle(pilot)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await settle(pilot)
        await pilot.press("2")  # back to the place styled before the change
        await settle(pilot)
        after = table.styles.background
        assert after != before
        await pilot.press("3")  # a place first opened after the change is styled alike
        await settle(pilot)
        assert app.screen.query_one("#rfm-table").styles.background == after
