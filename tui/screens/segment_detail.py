"""One segment: over-indexed themes with its customers' quotes, transitions, what it buys, and its brief."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.widget import Widget
from textual.widgets import DataTable, Markdown, Static, TabbedContent, TabPane, Tabs

from insight.analysis import queries
from insight.core.safe_text import printable
from tui.data import DataSource, LinkState, Purchases
from tui.screens.base import PlaceScreen
from tui.widgets.format import clip, lift, pct
from tui.widgets.purchases import PurchasesPanel
from tui.widgets.quotes import QuotePanel
from tui.widgets.table import Table

QUOTE_PAGE = 30
THEME_WIDTH = 38


def over_indexed(report: Any, segment: str) -> list[Any]:
    """The segment's themes with lift > 1 raised by at least the report's minimum support of its customers (an
    insight.analysis.links.LinkReport's rows), most distinctive first: by the shrunken log-odds z-score, so a lift of 9.7
    from two customers neither tops 1.4 from seventeen nor shows as over-indexed. Of a parent theme and its
    sub-themes, one level: the sub-themes that qualify, else the parent (insight.analysis.links.telling_level)."""
    from insight.analysis.links import telling_level  # loaded by the time there is a report

    support = getattr(report, "min_support", 5)
    rows = [r for r in report.rows if r.segment == segment and (r.lift or 0) > 1 and r.customers >= support]
    return sorted(telling_level(rows, lambda r: True), key=lambda r: (-r.score, -r.customers, -(r.lift or 0)))


def few_customers(report: Any, segment: str) -> int:
    """The segment's themes with lift > 1 left out of the list for resting on too few customers."""
    support = getattr(report, "min_support", 5)
    return sum(1 for r in report.rows if r.segment == segment and (r.lift or 0) > 1 and r.customers < support)


TRANSITION_LINES = 40


def transition_text(report: Any, segment: str) -> Text:
    """What customers who moved into or out of the segment raised before moving (insight.analysis.links.TransitionTheme)."""
    moves = [t for t in report.transition_themes if segment in (t.from_segment, t.to_segment)]
    moves.sort(key=lambda t: -t.customers)
    if not moves:
        return Text("No themes recorded for customers who moved.", style="dim")
    text = Text()
    for move in moves[:TRANSITION_LINES]:
        text.append(f"{move.from_segment} → {move.to_segment}: ", style="bold")
        text.append(f"“{printable(move.theme_label)}” raised by {move.customers:,} of {move.movers:,} movers before moving\n")
    if len(moves) > TRANSITION_LINES:
        text.append(f"… and {len(moves) - TRANSITION_LINES:,} more (insight links --json has them all)", style="dim")
    return text


def segment_quote_fetch(data: DataSource, theme_id: int, segment: str):  # noqa: ANN201 - a QuoteFetch
    filt = queries.ThemeFilter(segment=segment)
    return lambda offset, limit: queries.theme_quotes(data.read(), theme_id, filt, limit=limit, offset=offset)


@dataclass(frozen=True)
class SegmentView:
    """What the segment screen shows first, fetched in one worker so it is drawn in one pass."""

    row: queries.SegmentRow | None
    transitions: list[queries.MoveCount]
    links: LinkState | None  # None while the session's link report is still being computed
    quotes: queries.QuotePage | None  # the highlighted theme's quotes from this segment


def fetch_segment_view(data: DataSource, segment: str, focus_theme: int | None) -> SegmentView:
    row = next((r for r in data.segment_rows() if r.segment == segment), None)
    links = data.links_if_ready()
    quotes = None
    if links is not None and links.report is not None:
        themes = over_indexed(links.report, segment)
        if themes:
            shown = next((r for r in themes if r.theme_id == focus_theme), themes[0])
            quotes = segment_quote_fetch(data, shown.theme_id, segment)(0, QUOTE_PAGE)
    return SegmentView(row, data.transitions(segment), links, quotes)


class SegmentDetailScreen(PlaceScreen):
    TITLE_TEXT = "Segment"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "export_brief", "Export brief"),
        Binding("t", "show_tab('themes')", "Themes", show=False),
        Binding("v", "show_tab('transitions')", "Transitions", show=False),
        Binding("p", "show_tab('buys')", "What they buy"),
        Binding("b", "show_tab('brief')", "Brief"),
    ]

    def __init__(self, segment: str, theme_id: int | None = None, tab: str = "themes",
                 view: SegmentView | None = None) -> None:
        super().__init__()
        self.segment = segment
        self.focus_theme = theme_id
        self.initial_tab = tab
        self.brief_loaded = False
        self.buys_shown: tuple[str, Purchases] | None = None  # the segment and the result the tab holds
        self.view = view
        self.shown: SegmentView | None = None
        self.shown_brief: str | None = None  # the segment whose brief the Brief tab holds
        self.fetched_ahead: dict[int, queries.QuotePage] = {}  # first quote pages of the themes around the cursor

    def compose_body(self) -> ComposeResult:
        yield Static(f"[b]{self.segment}[/b]", id="segment-header")
        with TabbedContent(initial=self.initial_tab, id="segment-tabs"):
            with TabPane("Over-indexed themes", id="themes"):
                table = Table(id="segment-themes", cursor_type="row", zebra_stripes=True)
                table.border_title = "Themes this segment raises more than others"
                yield table
                yield QuotePanel(title="Quotes from this segment", id="segment-quotes", page_size=QUOTE_PAGE)
            with TabPane("Transitions", id="transitions"):
                moves = Table(id="transitions-table", cursor_type="row", zebra_stripes=True)
                moves.border_title = "Moves since the previous snapshot"
                yield moves
                yield Static("", id="transition-themes")
            # Empty until first shown (a PurchasesPanel then): its tables cost every opening of a segment
            # their styling while nobody looked at them.
            yield TabPane("What they buy", id="buys")
            with TabPane("Brief", id="brief"):
                with VerticalScroll(id="brief-scroll"):
                    # Empty until the tab is first shown: Markdown lays its blocks out as they mount, and on
                    # a hidden tab that cost the first opening of a segment one more layout and frame.
                    yield Markdown("", id="brief-md")

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#segment-themes", DataTable)
        table.add_column("theme", key="theme", width=THEME_WIDTH)
        for name in ("z", "lift", "customers", "of segment", "q", "mentions", "scope"):
            table.add_column(name, key=name)
        self.query_one("#transitions-table", DataTable).add_columns("from", "to", "customers")
        view, self.view = self.view, None
        if view is not None:
            self.apply(view)
        else:
            self.load()
        self.load_tab(self.initial_tab)
        self.set_focus(self.tab_focus())

    def retarget(self, segment: str, theme_id: int | None, tab: str, view: SegmentView) -> None:
        """Show another segment in this (already composed) screen; the view is applied as it resumes."""
        self.segment, self.focus_theme, self.initial_tab, self.view = segment, theme_id, tab, view
        self.brief_loaded = False
        self.shown = None
        for topic in ("detail", "quotes-ahead", "brief", "purchases"):
            self.forget(topic)  # answers still coming are the previous segment's

    def on_screen_resume(self) -> None:
        # A view is applied once: after an edit the screen reloads its own, and a later resume (back from a
        # theme) must not bring the one it was opened with back.
        view, self.view = self.view, None
        if view is not None:
            self.apply(view)
            self.query_one(TabbedContent).active = self.initial_tab
            self.load_tab(self.initial_tab)
            self.set_focus(self.tab_focus())  # now, not in a later callback: the first frame draws the focus
        elif self.data_moved():
            self.load()
            if self.query_one(TabbedContent).active == "buys":
                self.call_later(self.load_buys)

    def tab_focus(self) -> Widget:
        """What takes the keys on the tab shown (focusing a widget of a hidden tab switches to that tab)."""
        if self.initial_tab == "buys" and not self.query("#buys-mix"):
            return self.query_one(TabbedContent).query_one(Tabs)  # the tab's table is not mounted yet
        selector = {"themes": "#segment-themes", "transitions": "#transitions-table", "buys": "#buys-mix",
                    "brief": "#brief-scroll"}
        return self.query_one(selector.get(self.initial_tab, "#segment-themes"))

    def load(self) -> None:
        segment, focus = self.segment, self.focus_theme
        self.run_query(lambda: fetch_segment_view(self.data, segment, focus), self.apply, group="detail",
                       key=(segment, focus))

    def apply(self, view: SegmentView) -> None:
        self.shown = view
        self.fetched_ahead.clear()
        self.forget("quotes-ahead")  # pages fetched for the view shown before
        self.sub_title = f"Segment: {self.segment}"
        with self.app.batch_update():
            self.show_header(view.row)
            self.show_transitions(view.transitions)
            if view.links is not None:
                self.show_links(view.links, view.quotes)
            else:
                table = self.query_one("#segment-themes", DataTable)
                table.clear()
                table.border_subtitle = "computing links…"
                self.query_one(QuotePanel).show(None)
        if view.links is None:
            self.ask_links(self.show_links)
        self.refresh(layout=True)  # lay the new content out in the next frame, not one frame later

    def show_header(self, row: queries.SegmentRow | None) -> None:
        header = self.query_one("#segment-header", Static)
        if row is None:
            header.update(f"[b]{self.segment}[/b]: not in the latest snapshot")
            return
        header.update(
            f"[b]{row.segment}[/b]  {row.customers:,} customers ({pct(row.share)}) · {pct(row.revenue_share)} of revenue"
            f" · recency {row.recency_days:.0f} d · frequency {row.frequency:.1f} · monetary {row.monetary:,.0f}"
        )

    def show_links(self, state: LinkState, quotes: queries.QuotePage | None = None) -> None:
        table = self.query_one("#segment-themes", Table)
        table.clear()
        if state.report is None:
            table.border_subtitle = state.error or "no links"
            return
        rows = over_indexed(state.report, self.segment)
        for row in rows:
            parent = " · parent" if getattr(row, "level", "sub") == "parent" else ""
            label = Text(clip(row.theme_label, THEME_WIDTH - len(parent))).append(parent, style="dim")
            table.add_row(label, f"{row.score:.1f}", lift(row.lift, row.over_indexed), f"{row.customers:,}",
                          pct(row.share), f"{row.q_value:.2g}", f"{row.units:,}", row.scope, key=str(row.theme_id))
        support = getattr(state.report, "min_support", 5)
        few = few_customers(state.report, self.segment)
        left_out = f" · {few} on fewer than {support} customers not shown" if few else ""
        table.border_subtitle = (f"{len(rows)} theme{'' if len(rows) == 1 else 's'} with lift > 1, most distinctive (z) "
                                 f"first · * over-indexed (significant, {support}+ customers){left_out}" if rows else
                                 f"no theme with lift > 1 and {support}+ customers{left_out}")
        self._render_transition_themes(state.report)
        if rows:
            index = next((i for i, r in enumerate(rows) if r.theme_id == self.focus_theme), 0)
            table.move_cursor(row=index, animate=False)
            self.show_theme_quotes(rows[index].theme_id, rows[index].theme_label, quotes)
        else:
            self.query_one(QuotePanel).show(None)

    def _render_transition_themes(self, report: Any) -> None:
        self.query_one("#transition-themes", Static).update(transition_text(report, self.segment))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "segment-themes" and event.row_key.value:
            label = str(event.data_table.get_row(event.row_key)[0])
            self.show_theme_quotes(int(event.row_key.value), label)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "segment-themes" and event.row_key.value:
            self.nav.open_theme(int(event.row_key.value), queries.ThemeFilter(segment=self.segment))

    def show_theme_quotes(self, theme_id: int, label: str, first: queries.QuotePage | None = None) -> None:
        if first is None and self.query_one(QuotePanel).showing == (theme_id, self.segment):
            return  # the highlight landed on the theme already shown (a freshly fetched page is always shown)
        first = first or self.fetched_ahead.get(theme_id)
        self.query_one(QuotePanel).show(
            segment_quote_fetch(self.data, theme_id, self.segment), f"“{label}”: quotes from {self.segment}", first,
            showing=(theme_id, self.segment),
        )
        self.set_timer(0.1, self.fetch_neighbours_ahead)  # once these quotes are drawn: not racing them

    def fetch_neighbours_ahead(self) -> None:
        """Fetch the quotes of the themes above and below the cursor, so moving to one shows them at once
        (the query and its round trip were ~16 ms of a ~60 ms move; bench/tui_speed.py)."""
        if not self.is_attached:  # a timer that fired as the app closed
            return
        table = self.query_one("#segment-themes", DataTable)
        wanted = [table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
                  for row in (table.cursor_row - 1, table.cursor_row + 1) if 0 <= row < table.row_count]
        missing = [int(key) for key in wanted if key and int(key) not in self.fetched_ahead]
        if not missing:
            return
        segment = self.segment

        def work() -> dict[int, queries.QuotePage]:
            return {theme_id: segment_quote_fetch(self.data, theme_id, segment)(0, QUOTE_PAGE) for theme_id in missing}

        self.run_query(work, self.fetched_ahead.update, group="quotes-ahead", key=segment)

    def show_transitions(self, moves: list[queries.MoveCount]) -> None:
        table = self.query_one("#transitions-table", Table)
        table.clear()
        for move in moves:
            table.add_row(move.from_segment, move.to_segment, f"{move.customers:,}")
        table.border_subtitle = "" if moves else "no moves (needs two snapshots)"

    # ------------------------------------------------------------ tabs

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.load_tab(event.pane.id)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def load_tab(self, tab: str | None) -> None:
        """The Brief and What they buy tabs fetch their data when first shown, not with the screen."""
        if tab == "brief":
            self.load_brief()
        elif tab == "buys":
            self.call_later(self.load_buys)  # it mounts its panel the first time: awaited there

    # ------------------------------------------------------------ what they buy (insight.analysis.affinity)

    async def load_buys(self) -> None:
        """Draw the cached category mix at once when there is one, then check in a worker that it is still the
        database's (a change recomputes it; the tab says so meanwhile)."""
        segment = self.segment
        panels = self.query(PurchasesPanel)
        if panels:
            panel = panels.first()
        else:
            panel = PurchasesPanel(id="buys-panel")
            await self.query_one("#buys", TabPane).mount(panel)
        if self.query_one(TabbedContent).active == "buys":
            self.set_focus(panel.query_one("#buys-mix"))  # the keys scroll what the tab shows
        cached = self.data.purchases_if_ready()
        if cached is not None:
            self.show_buys(segment, cached)
        elif self.buys_shown is None or self.buys_shown[0] != segment:
            panel.computing()
        self.run_query(self.data.purchases, lambda found: self.show_buys(segment, found), group="purchases",
                       key=segment)

    def show_buys(self, segment: str, found: Purchases) -> None:
        if segment != self.segment or self.buys_shown == (segment, found):
            return  # asked for another segment, or already drawn
        self.buys_shown = (segment, found)
        self.query_one(PurchasesPanel).show(found.report, found.error, segment)

    # ------------------------------------------------------------ brief

    def load_brief(self) -> None:
        if self.brief_loaded:
            return
        self.brief_loaded = True
        self.query_one("#brief-md", Markdown).update("Loading the brief…")  # not another segment's brief
        self.shown_brief = None
        segment = self.segment

        def brief() -> str:
            try:
                return self.data.brief_markdown(segment)
            except Exception as exc:  # noqa: BLE001 - the tab says why there is no brief
                return f"*No brief for {segment}:* {exc}"

        self.run_query(brief, self.show_brief, group="brief", key=segment)

    def show_brief(self, markdown: str) -> None:
        self.shown_brief = self.segment
        self.query_one("#brief-md", Markdown).update(markdown)

    def action_export_brief(self) -> None:
        segment = self.segment
        self.notify(f"Writing the brief for {segment}…", timeout=2)
        self.run_query(lambda: self.data.export_brief(segment),
                       lambda path: self.notify(f"Brief written to {path}", title="Exported", timeout=8),
                       group="export")
