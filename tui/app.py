"""insight's terminal UI: one place per screen, keyboard first, reading through `insight.queries`."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from insight import queries
from tui.commands import InsightCommands
from tui.data import DataSource
from tui.screens.document import DocumentScreen
from tui.screens.help import HelpScreen
from tui.screens.overview import OverviewScreen
from tui.screens.search import SearchScreen
from tui.screens.segment_detail import SegmentDetailScreen
from tui.screens.segments import SegmentsScreen
from tui.screens.theme_detail import ThemeDetailScreen
from tui.screens.themes import ThemesScreen


class InsightApp(App):
    TITLE = "insight"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {InsightCommands}
    MODES = {"overview": OverviewScreen, "themes": ThemesScreen, "segments": SegmentsScreen, "search": SearchScreen}
    DEFAULT_MODE = "overview"
    BINDINGS = [
        Binding("1", "switch_mode('overview')", "Overview"),
        Binding("2", "switch_mode('themes')", "Themes"),
        Binding("3", "switch_mode('segments')", "Segments"),
        Binding("4", "switch_mode('search')", "Search"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, db_path: Path, *, briefs_dir: Path = Path("briefs")) -> None:
        super().__init__()
        self.data = DataSource(Path(db_path), briefs_dir)
        self.sub_title = str(db_path)
        self.data_version = 0  # bumped by edits: screens reload on resume only when it moved

    def data_changed(self) -> None:
        self.data_version += 1

    # ------------------------------------------------------------ navigation used by screens and the palette

    def open_theme(self, theme_id: int, filt: queries.ThemeFilter | None = None) -> None:
        self.push_screen(ThemeDetailScreen(theme_id, filt))

    def open_segment(self, segment: str, theme_id: int | None = None, tab: str = "themes") -> None:
        self.push_screen(SegmentDetailScreen(segment, theme_id, tab))

    def open_document(self, document_id: int, unit_id: int | None = None) -> None:
        self.push_screen(DocumentScreen(document_id, unit_id))

    def copy_quote(self, quote: queries.Quote) -> None:
        self.copy_to_clipboard(quote.text)
        self.notify(f"Copied: “{quote.text[:60]}”", timeout=3)

    def export_brief(self, segment: str) -> None:
        def work() -> None:
            try:
                path = self.data.export_brief(segment)
            except Exception as exc:  # noqa: BLE001 - shown to the user
                self.call_from_thread(self.notify, f"Brief not written: {exc}", severity="error", timeout=8)
                return
            self.call_from_thread(self.notify, f"Brief written to {path}", title="Exported", timeout=8)

        self.run_worker(work, thread=True, group="export", exit_on_error=False)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
