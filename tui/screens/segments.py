"""Segments: the RFM table and a segment x theme lift heat map; Enter opens a segment or a theme."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from insight import queries
from tui.screens.base import PlaceScreen
from tui.widgets.format import clip, lift, money, pct
from tui.widgets.table import Table

HEATMAP_THEMES = 100
THEME_WIDTH, SEGMENT_WIDTH = 28, 9


class SegmentsScreen(PlaceScreen):
    TITLE_TEXT = "Segments"
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next table", show=False),
        Binding("b", "open_brief", "Brief"),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="segments"):
            yield Static("", id="segments-empty", classes="empty")
            rfm = Table(id="rfm-table", cursor_type="row", zebra_stripes=True)
            rfm.border_title = "RFM segments"
            yield rfm
            heat = Table(id="heatmap", cursor_type="cell", zebra_stripes=False)
            heat.border_title = "Lift: segment x theme (* significant)"
            yield heat

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#segments-empty").display = False
        rfm = self.query_one("#rfm-table", DataTable)
        rfm.add_column("segment", key="segment", width=20)
        for label, key in (("customers", "customers"), ("share", "share"), ("revenue", "revenue"),
                           ("rev. share", "revenue_share"), ("recency (d)", "recency"), ("frequency", "frequency"),
                           ("monetary", "monetary")):
            rfm.add_column(label, key=key)
        self.run_query(lambda: (queries.latest_snapshot(self.data.read()), self.data.segment_rows()),
                       self.show_segments, group="rfm")
        self.query_one("#heatmap", DataTable).border_subtitle = "computing links…"
        self.run_query(self.data.links, self.show_heatmap, group="links")
        rfm.focus()

    def on_screen_resume(self) -> None:
        if self.data_moved():  # an edit changed the themes: the lifts are stale
            self.query_one("#heatmap", DataTable).border_subtitle = "computing links…"
            self.run_query(self.data.links, self.show_heatmap, group="links")

    def show_segments(self, result: tuple[queries.Snapshot | None, list[queries.SegmentRow]]) -> None:
        snapshot, rows = result
        table = self.query_one("#rfm-table", DataTable)
        table.clear()
        empty = self.query_one("#segments-empty", Static)
        empty.display = not rows
        if not rows:
            empty.update("No RFM snapshot yet. Import orders, then run: insight segments")
            return
        table.border_title = f"RFM segments as of {snapshot.as_of}" if snapshot else "RFM segments"
        for row in rows:
            table.add_row(row.segment, f"{row.customers:,}", pct(row.share), money(row.revenue), pct(row.revenue_share),
                          f"{row.recency_days:.0f}", f"{row.frequency:.1f}", money(row.monetary), key=row.segment)

    def show_heatmap(self, state) -> None:  # noqa: ANN001 - tui.data.LinkState
        table = self.query_one("#heatmap", DataTable)
        table.clear(columns=True)
        if state.report is None:
            table.border_subtitle = state.error or "no links"
            return
        matrix = queries.lift_matrix(state.report.rows, top=HEATMAP_THEMES)
        table.add_column("theme", key="theme", width=THEME_WIDTH)
        for segment in matrix.segments:
            table.add_column(clip(segment, SEGMENT_WIDTH), key=segment, width=SEGMENT_WIDTH)
        for theme_id, label in matrix.themes:
            cells = [matrix.cells.get((theme_id, s)) for s in matrix.segments]
            table.add_row(clip(label, THEME_WIDTH), *(lift(c.lift, c.significant) if c else lift(None, False) for c in cells),
                          key=str(theme_id))
        shown = len(matrix.themes)
        table.border_subtitle = f"{shown} themes, most over-indexed first" if shown else "no linked feedback yet"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "rfm-table" and event.row_key.value:
            self.app.prefetch_segment(event.row_key.value)  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "rfm-table" and event.row_key.value:
            self.app.open_segment(event.row_key.value)  # type: ignore[attr-defined]

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if event.data_table.id != "heatmap":
            return
        theme_id = int(event.cell_key.row_key.value)
        column = str(event.cell_key.column_key.value)
        if column == "theme":
            self.app.open_theme(theme_id)  # type: ignore[attr-defined]
        else:
            self.app.open_segment(column, theme_id)  # type: ignore[attr-defined]

    def action_open_brief(self) -> None:
        table = self.query_one("#rfm-table", DataTable)
        if table.row_count:
            segment = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.app.open_segment(segment, tab="brief")  # type: ignore[attr-defined]
