"""Segments: the RFM table with each segment's backtest, and a segment x theme lift heat map; Enter opens a
segment or a theme.

The backtest column is the share of a segment's customers who bought again in the horizon after a past
cut-off (`insight segments validate --cutoffs 1`: the cut-off is the horizon before the last counted order).
It takes seconds on a large shop, so the table is drawn first and the bars fill in from a worker; the result
is kept for the database state (tui.data.DataSource.backtest), so a later visit draws it at once.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from insight.analysis import queries
from insight.analysis.segment_validation import FEW_CUSTOMERS
from tui.data import Backtest, DataSource, LinkState
from tui.screens.base import PlaceScreen
from tui.widgets.format import bar, clip, lift, money, pct
from tui.widgets.table import Table

HEATMAP_THEMES = 100
THEME_WIDTH, SEGMENT_WIDTH = 28, 9
BACKTEST_BAR = 12  # cells for 100%: the bars compare segments on one scale
COMPUTING = Text("computing…", style="dim")


def backtest_cell(backtest: Backtest | None, segment: str) -> Text:
    """A segment's share who bought again after the cut-off as a bar on a 0-100% scale, with the share and
    its Wilson 95% interval; words instead of a bar where a bar would mislead."""
    if backtest is None:
        return COMPUTING
    if backtest.validation is None:
        return Text("no backtest", style="dim")
    outcome = backtest.outcome(segment)
    if outcome is None:
        return Text("not in the default map", style="dim")
    if outcome.customers == 0:
        return Text("none at the cut-off", style="dim")
    if outcome.customers < FEW_CUSTOMERS:
        return Text(f"too few to tell: {outcome.customers} at the cut-off", style="dim")
    low, high = outcome.repurchase_ci
    text = Text(f"{bar(outcome.repurchase, BACKTEST_BAR):<{BACKTEST_BAR}}", style="cyan")
    text.append(f" {pct(outcome.repurchase):>4}")
    text.append(f" {100 * low:.0f}–{pct(high)}", style="dim")
    return text


def backtest_caption(backtest: Backtest | None) -> str:
    """What the bars measure: which cut-off and horizon, or why there are none."""
    if backtest is None:
        return "bought again: computing the backtest…"
    cut = backtest.cutoff
    if cut is None or backtest.validation is None:
        return f"bought again: no backtest ({backtest.error})"
    days = backtest.validation.horizon_days
    caption = (f"bought again: share of a segment's customers at the cut-off {cut.as_of} who ordered in the next "
               f"{days} days (to {cut.horizon_end}), 95% interval")
    if not cut.complete:
        caption += " · the horizon runs past the last order: understated"
    return caption


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
        rfm.add_column("bought again (backtest)", key="backtest")
        self.backtest = self.data.backtest_if_ready()  # what the bars show
        start = self.nav.first_data("segments")  # read before the place was composed: drawn with it
        if start is not None:
            self.show_segments(start)
        else:
            self.run_query(lambda: self.first_data(self.data), self.show_segments, group="rfm")
        self.run_query(self.data.backtest, self.show_backtest, group="backtest")
        links = self.data.links_if_ready()
        if links is not None:
            self.show_heatmap(links)
        else:
            self.query_one("#heatmap", DataTable).border_subtitle = "computing links…"
            self.ask_links(self.show_heatmap)
        self.set_focus(rfm)  # now: Widget.focus() waits for a later callback, and the footer with it

    @staticmethod
    def first_data(data: DataSource) -> tuple[queries.Snapshot | None, list[queries.SegmentRow]]:
        return queries.latest_snapshot(data.read()), data.segment_rows()

    def on_screen_resume(self) -> None:
        # The bars stay as drawn; the check that the database is still the one they were computed for is a
        # query in a worker, and only a change recomputes them.
        self.run_query(self.data.backtest, self.show_backtest, group="backtest")
        if self.data_moved():  # an edit changed the themes: the lifts are stale
            self.query_one("#heatmap", DataTable).border_subtitle = "computing links…"
            self.ask_links(self.show_heatmap)

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
                          f"{row.recency_days:.0f}", f"{row.frequency:.1f}", money(row.monetary),
                          backtest_cell(self.backtest, row.segment), key=row.segment)
        table.border_subtitle = backtest_caption(self.backtest)

    def show_backtest(self, backtest: Backtest) -> None:
        if backtest is self.backtest and self.query_one("#rfm-table", DataTable).border_subtitle:
            return  # the same result already drawn: a revisit draws nothing new
        self.backtest = backtest
        table = self.query_one("#rfm-table", DataTable)
        if not table.row_count:
            return  # the rows are not drawn yet: they take the bars with them
        for key in table.rows:
            table.update_cell(key, "backtest", backtest_cell(backtest, str(key.value)), update_width=True)
        table.border_subtitle = backtest_caption(backtest)

    def show_heatmap(self, state: LinkState) -> None:
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
            self.nav.prefetch_segment(event.row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "rfm-table" and event.row_key.value:
            self.nav.open_segment(event.row_key.value)

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        if event.data_table.id != "heatmap":
            return
        theme_id = int(str(event.cell_key.row_key.value))
        column = str(event.cell_key.column_key.value)
        if column == "theme":
            self.nav.open_theme(theme_id)
        else:
            self.nav.open_segment(column, theme_id)

    def action_open_brief(self) -> None:
        table = self.query_one("#rfm-table", DataTable)
        if table.row_count:
            segment = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if segment:
                self.nav.open_segment(segment, tab="brief")
