"""One segment: over-indexed themes with its customers' quotes, transitions, and its persona brief."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Markdown, Static, TabbedContent, TabPane

from insight import queries
from tui.screens.base import PlaceScreen
from tui.widgets.format import lift, pct
from tui.widgets.quotes import QuotePanel
from tui.widgets.table import Table


class SegmentDetailScreen(PlaceScreen):
    TITLE_TEXT = "Segment"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("e", "export_brief", "Export brief"),
        Binding("t", "show_tab('themes')", "Themes", show=False),
        Binding("v", "show_tab('transitions')", "Transitions", show=False),
        Binding("b", "show_tab('brief')", "Brief"),
    ]

    def __init__(self, segment: str, theme_id: int | None = None, tab: str = "themes") -> None:
        super().__init__()
        self.segment = segment
        self.focus_theme = theme_id
        self.initial_tab = tab
        self.brief_loaded = False

    def compose_body(self) -> ComposeResult:
        yield Static(f"[b]{self.segment}[/b]", id="segment-header")
        with TabbedContent(initial=self.initial_tab, id="segment-tabs"):
            with TabPane("Over-indexed themes", id="themes"):
                table = Table(id="segment-themes", cursor_type="row", zebra_stripes=True)
                table.border_title = "Themes this segment raises more than others"
                yield table
                yield QuotePanel(title="Quotes from this segment", id="segment-quotes", page_size=30)
            with TabPane("Transitions", id="transitions"):
                moves = Table(id="transitions-table", cursor_type="row", zebra_stripes=True)
                moves.border_title = "Moves since the previous snapshot"
                yield moves
                yield Static("", id="transition-themes")
            with TabPane("Brief", id="brief"):
                with VerticalScroll(id="brief-scroll"):
                    yield Markdown("Loading the brief…", id="brief-md")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = f"Segment: {self.segment}"
        table = self.query_one("#segment-themes", DataTable)
        table.add_column("theme", key="theme", width=38)
        for name in ("lift", "customers", "of segment", "units", "scope"):
            table.add_column(name, key=name)
        self.query_one("#transitions-table", DataTable).add_columns("from", "to", "customers")
        segment = self.segment
        self.run_query(lambda: queries.segment_table(self.data.read()), self.show_header, group="header")
        self.run_query(lambda: queries.segment_transitions(self.data.read(), segment), self.show_transitions,
                       group="transitions")
        table.border_subtitle = "computing links…"
        self.run_query(self.data.links, self.show_links, group="links")
        if self.initial_tab == "brief":
            self.load_brief()
        table.focus()

    def show_header(self, rows: list[queries.SegmentRow]) -> None:
        row = next((r for r in rows if r.segment == self.segment), None)
        if row is None:
            self.query_one("#segment-header", Static).update(f"[b]{self.segment}[/b]: not in the latest snapshot")
            return
        self.query_one("#segment-header", Static).update(
            f"[b]{row.segment}[/b]  {row.customers:,} customers ({pct(row.share)}) · {pct(row.revenue_share)} of revenue"
            f" · recency {row.recency_days:.0f} d · frequency {row.frequency:.1f} · monetary {row.monetary:,.0f}"
        )

    def show_links(self, state) -> None:  # noqa: ANN001 - tui.data.LinkState
        table = self.query_one("#segment-themes", DataTable)
        table.clear()
        if state.report is None:
            table.border_subtitle = state.error or "no links"
            return
        rows = sorted((r for r in state.report.rows if r.segment == self.segment and (r.lift or 0) > 1),
                      key=lambda r: (not r.significant, -(r.lift or 0)))
        for row in rows:
            table.add_row(row.theme_label, lift(row.lift, row.significant), f"{row.customers:,}", pct(row.share),
                          f"{row.units:,}", row.scope, key=str(row.theme_id))
        table.border_subtitle = f"{len(rows)} themes over-index (lift > 1), * significant" if rows else \
            "no theme over-indexes in this segment"
        self._render_transition_themes(state.report)
        if rows:
            index = next((i for i, r in enumerate(rows) if r.theme_id == self.focus_theme), 0)
            table.move_cursor(row=index)
            self.show_theme_quotes(rows[index].theme_id, rows[index].theme_label)

    def _render_transition_themes(self, report) -> None:  # noqa: ANN001 - insight.links.LinkReport
        lines = []
        for item in getattr(report, "transition_themes", []) or []:
            from_segment = getattr(item, "from_segment", None)
            to_segment = getattr(item, "to_segment", None)
            if self.segment not in (from_segment, to_segment):
                continue
            label = getattr(item, "theme_label", None) or getattr(item, "label", "")
            customers = getattr(item, "customers", "")
            movers = getattr(item, "movers", None)
            of = f" of {movers}" if movers else ""
            lines.append(f"{from_segment} → {to_segment}: “{label}” raised by {customers}{of} movers before moving")
        self.query_one("#transition-themes", Static).update(
            "\n".join(lines) if lines else "No themes recorded for customers who moved."
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "segment-themes" and event.row_key.value:
            label = str(event.data_table.get_row(event.row_key)[0])
            self.show_theme_quotes(int(event.row_key.value), label)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "segment-themes" and event.row_key.value:
            self.app.open_theme(int(event.row_key.value), queries.ThemeFilter(segment=self.segment))  # type: ignore[attr-defined]

    def show_theme_quotes(self, theme_id: int, label: str) -> None:
        filt = queries.ThemeFilter(segment=self.segment)
        self.query_one(QuotePanel).show(
            lambda offset, limit: queries.theme_quotes(self.data.read(), theme_id, filt, limit=limit, offset=offset),
            f"“{label}”: quotes from {self.segment}",
        )

    def show_transitions(self, moves: list[queries.Transition]) -> None:
        table = self.query_one("#transitions-table", DataTable)
        table.clear()
        for move in moves:
            table.add_row(move.from_segment, move.to_segment, f"{move.customers:,}")
        table.border_subtitle = "" if moves else "no moves (needs two snapshots)"

    # ------------------------------------------------------------ brief

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "brief":
            self.load_brief()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def load_brief(self) -> None:
        if self.brief_loaded:
            return
        self.brief_loaded = True
        segment = self.segment

        def brief() -> str:
            try:
                return self.data.brief_markdown(segment)
            except Exception as exc:  # noqa: BLE001 - the tab says why there is no brief
                return f"*No brief for {segment}:* {exc}"

        self.run_query(brief, self.show_brief, group="brief")

    def show_brief(self, markdown: str) -> None:
        self.query_one("#brief-md", Markdown).update(markdown)

    def action_export_brief(self) -> None:
        segment = self.segment
        self.notify(f"Writing the brief for {segment}…", timeout=2)
        self.run_query(lambda: self.data.export_brief(segment),
                       lambda path: self.notify(f"Brief written to {path}", title="Exported", timeout=8),
                       group="export")
