"""Overview: what is in the database, segment sizes, top themes and what changed since the last window."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.widgets import Static

from insight.analysis import queries
from insight.core.safe_text import printable
from tui.screens.base import PlaceScreen
from tui.widgets.format import change, day, money, pct, spark


def empty_state(state: queries.DbState) -> Text:
    text = Text()
    text.append("This database is empty.\n\n", style="bold")
    text.append("insight works on your own exports. Start with:\n\n")
    for step in state.next_steps():
        text.append(f"   {step}\n", style="bold cyan")
    text.append("\nThen come back here: insight tui. Press ? for help, q to quit.")
    return text


def condense(rows: list[queries.SourceWindow], keep: int = 2) -> list[tuple[str, str, int, int, float]]:
    """Per source: its last `keep` windows, and everything older in one line (reviews span years)."""
    out: list[tuple[str, str, int, int, float]] = []
    for source in dict.fromkeys(r.source for r in rows):
        mine = sorted((r for r in rows if r.source == source), key=lambda r: r.window_start or "")
        older, recent = mine[:-keep], mine[-keep:]
        if older:
            units = sum(r.units for r in older)
            linked = sum(r.linked_units for r in older)
            out.append((source, f"earlier ({len(older)} windows)", sum(r.documents for r in older), units,
                        linked / units if units else 0.0))
        out.extend((source, r.window_start or "-", r.documents, r.units, r.linked_share) for r in recent)
    return out


def plain(text: str) -> Text:
    """A theme label or file name in a Rich table: neither markup ("[NAME]" would vanish) nor escapes."""
    return Text(printable(text))


def sources_table(rows: list[queries.SourceWindow]) -> Table:
    table = Table(title="Feedback by source and window", expand=True, title_justify="left")
    for name in ("source", "window", "documents", "mentions", "linked"):
        table.add_column(name, justify="left" if name in ("source", "window") else "right")
    for source, window, documents, units, linked in condense(rows):
        table.add_row(source, window, f"{documents:,}", f"{units:,}", pct(linked))
    return table


def segments_table(overview: queries.Overview) -> Table:
    as_of = f" (as of {overview.snapshot.as_of})" if overview.snapshot else ""
    table = Table(title=f"Segments{as_of}", expand=True, title_justify="left")
    for name in ("segment", "customers", "share", "revenue"):
        table.add_column(name, justify="left" if name == "segment" else "right")
    for row in overview.segments:
        table.add_row(row.segment, f"{row.customers:,}", pct(row.share), pct(row.revenue_share))
    if not overview.segments:
        table.add_row(Text("no RFM snapshot yet: run insight segments", style="dim"), "", "", "")
    return table


def top_theme(row: queries.ThemeRow) -> Text:
    """A parent theme with its largest sub-theme ("Shipping — largest: tracking not updating"), or how many it
    has when it is named after that one; a parent with one sub-theme, or a theme without, by its label alone."""
    text = plain(row.label)
    if row.expandable and row.largest:
        named_after = " ".join(row.largest.casefold().split()) == " ".join(row.label.casefold().split())
        text.append(printable(f" — {row.subthemes} sub-themes" if named_after else f" — largest: {row.largest}"),
                    style="dim")
    return text


def themes_table(overview: queries.Overview) -> Table:
    table = Table(title="Top themes", expand=True, title_justify="left")
    for name in ("theme", "docs", "share", "trend", "change"):
        # one line per theme, which takes the room the numbers leave: a long "largest: …" is cut, not wrapped
        # (the Themes screen has it whole)
        table.add_column(name, justify="left" if name in ("theme", "trend", "change") else "right", no_wrap=True,
                         overflow="ellipsis", ratio=1 if name == "theme" else None)
    for row in overview.top_themes:
        table.add_row(top_theme(row), f"{row.size:,}", pct(row.share), spark(row.trend), change(row.change))
    if not overview.top_themes:
        table.add_row(Text("no themes yet: run insight themes", style="dim"), "", "", "", "")
    return table


def changes_table(overview: queries.Overview) -> Table:
    title = "Since the last window"
    if overview.windows:
        title += f" ({overview.windows[0]} → {overview.windows[1]})"
    table = Table(title=title, expand=True, title_justify="left")
    for name in ("theme", "before", "now", "Δ"):
        table.add_column(name, justify="left" if name == "theme" else "right")
    for row in overview.changes:
        style = "green" if row.delta > 0 else "yellow"
        table.add_row(plain(row.label), pct(row.previous_share), pct(row.share),
                      Text(f"{row.delta * 100:+.1f} pt", style=style))
    if not overview.changes:
        table.add_row(Text("one window so far: trends need two", style="dim"), "", "", "")
    return table


def imports_table(rows: list[queries.ImportRow]) -> Table:
    table = Table(title="Last imports", expand=True, title_justify="left")
    for name in ("when", "kind", "file", "new", "updated", "rejected"):
        table.add_column(name, justify="left" if name in ("when", "kind", "file") else "right")
    for row in rows:
        table.add_row(day(row.imported_at), row.kind, plain(row.file_path.rsplit("/", 1)[-1]), money(row.imported),
                      money(row.updated), money(row.rejected))
    return table


class OverviewScreen(PlaceScreen):
    TITLE_TEXT = "Overview"
    AHEAD_AFTER = 0.5  # seconds after the first screen is drawn before the places are read ahead

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="overview"):
            yield Static("Loading…", id="overview-empty")
            with Grid(id="overview-grid"):
                yield Static(id="ov-sources", classes="panel")
                yield Static(id="ov-segments", classes="panel")
                yield Static(id="ov-themes", classes="panel")
                yield Static(id="ov-changes", classes="panel")
                yield Static(id="ov-imports", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#overview-grid").display = False
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.data_moved():
            self.refresh_data()

    def refresh_data(self) -> None:
        self.run_query(lambda: queries.overview(self.data.read()), self.show)

    def show(self, overview: queries.Overview) -> None:
        empty = self.query_one("#overview-empty", Static)
        grid = self.query_one("#overview-grid")
        if overview.state.empty:
            empty.update(empty_state(overview.state))
            empty.display, grid.display = True, False
            return
        state = overview.state
        summary = Text()
        summary.append(f"{state.documents:,} documents · {state.units:,} mentions · {state.orders:,} orders · ")
        summary.append(f"{state.snapshots} RFM snapshots · {state.themes} themes", style="")
        missing = [s for s in state.next_steps() if not s.startswith("or ")]
        if missing:
            summary.append("\nNext: " + " · ".join(missing), style="bold cyan")
        empty.update(summary)
        empty.display, grid.display = True, True
        self.query_one("#ov-sources", Static).update(sources_table(overview.sources))
        self.query_one("#ov-segments", Static).update(segments_table(overview))
        self.query_one("#ov-themes", Static).update(themes_table(overview))
        self.query_one("#ov-changes", Static).update(changes_table(overview))
        self.query_one("#ov-imports", Static).update(imports_table(overview.imports))
        # The places are read ahead once this frame is drawn and has been up a moment: started at once, their
        # thread held the interpreter while this first screen was drawn.
        self.call_after_refresh(self.set_timer, self.AHEAD_AFTER, self.nav.read_places_ahead)
