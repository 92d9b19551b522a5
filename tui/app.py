"""insight's terminal UI: one place per screen, keyboard first, reading through `insight.analysis.queries`."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from insight.analysis import queries
from tui.asking import Asking
from tui.commands import InsightCommands
from tui.data import DataSource
from tui.navigation import Navigator
from tui.screens.document import DocumentScreen
from tui.screens.editing import EditingScreen
from tui.screens.help import HelpScreen
from tui.screens.overview import OverviewScreen
from tui.screens.search import SearchScreen
from tui.screens.segment_detail import SegmentDetailScreen, SegmentView, fetch_segment_view
from tui.screens.segments import SegmentsScreen
from tui.screens.theme_detail import ThemeDetailScreen, ThemeView, fetch_theme_view, is_narrowed, list_filter
from tui.screens.themes import ThemesScreen


class InsightApp(Asking, App):
    TITLE = "insight"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {InsightCommands}
    MODES = {"overview": OverviewScreen, "themes": ThemesScreen, "segments": SegmentsScreen, "search": SearchScreen}
    DEFAULT_MODE = "overview"
    BINDINGS = [
        Binding("1", "place('overview')", "Overview"),
        Binding("2", "place('themes')", "Themes"),
        Binding("3", "place('segments')", "Segments"),
        Binding("4", "place('search')", "Search"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, db_path: Path, *, briefs_dir: Path = Path("briefs")) -> None:
        super().__init__()
        self.data = DataSource(Path(db_path), briefs_dir)
        self.sub_title = str(db_path)
        self.data_version = 0  # bumped by edits: screens reload on resume only when it moved
        self.prefetched: dict[tuple, Any] = {}  # views fetched ahead for the row under the cursor
        self.styled_with: tuple[Any, ...] | None = None  # the theme the app's styles were last refreshed for

    # ------------------------------------------------------------ garbage collection when the user pauses

    QUIET = 1.0  # seconds without a key or a click before a full garbage collection may run

    def on_mount(self) -> None:
        """CPython's full (generation 2) collections walk every widget, cached row and loaded page: on the
        bench's database 35 of them ran in one walk, each pausing the app for up to 1.1 s (12-18 s in all;
        bench/tui_speed.py). While the app runs they are done only when the user has paused; the young
        generations are collected as usual."""
        self.thresholds = gc.get_threshold()
        gc.set_threshold(self.thresholds[0], self.thresholds[1], 1_000_000_000)  # never reached
        self.last_input, self.collected = time.monotonic(), False
        self.set_interval(0.25, self.collect_if_paused)

    def on_unmount(self) -> None:
        gc.set_threshold(*self.thresholds)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self.last_input, self.collected = time.monotonic(), False
        await super().on_event(event)

    def collect_if_paused(self) -> None:
        if not self.collected and time.monotonic() - self.last_input >= self.QUIET:
            self.collected = True
            gc.collect()

    def delay_update(self, delay: float = 0.05) -> None:
        """No hold after a mode switch. Textual stops drawing for 50 ms after every `switch_mode` (and after
        a command chosen in the palette) to hide a place being composed; a place here draws its first frame
        whole (its data arrives in one message), so the hold was only a wait: going to the Overview took 62 ms with it, 32 without, on
        a busier machine (bench/tui_speed.py, medians)."""

    def refresh_css(self, animate: bool = True) -> None:
        """Restyle everything only when the theme changed. Textual also calls this the first time each place
        (mode) is shown, although nothing changed: each such call parsed the whole stylesheet again and
        restyled every widget of the app (twice per new place: 28-68 ms of each first visit,
        bench/tui_speed.py). A new place's widgets are styled anyway as they are mounted."""
        styled = (self.theme, self.ansi_theme, tuple(self.get_css_variables().items()))
        if styled != self.styled_with:
            self.styled_with = styled
            super().refresh_css(animate)

    def data_changed(self) -> None:
        self.data_version += 1
        self.prefetched.clear()
        self.forget("prefetch")  # a view fetched before the edit is stale
        self.forget("places-ahead")

    # ------------------------------------------------------------ navigation used by screens and the palette

    PLACE_DATA: dict[str, Callable[[DataSource], Any]] = {
        "themes": ThemesScreen.first_data, "segments": SegmentsScreen.first_data, "search": SearchScreen.first_data,
    }  # what a place shows first, read before it is composed (the Overview reads its own)

    def visited(self, mode: str) -> bool:
        try:
            return bool(self.get_screen_stack(mode))
        except KeyError:
            return False

    def action_place(self, mode: str) -> None:
        """Show a place. The first time, its data is read first (or was read ahead, see `read_places_ahead`),
        so the place is composed, styled and drawn once, with it: drawn empty first, then again per answer,
        the first visit of Themes took 290-550 ms (bench/tui_speed.py)."""
        fetch = self.PLACE_DATA.get(mode)
        if fetch is None or self.visited(mode) or ("place", mode) in self.prefetched:
            self.forget("place")  # a place asked for before this key must not open after it
            self.switch_mode(mode)
            return

        def land(first: Any) -> None:
            self.prefetched[("place", mode)] = first
            self.switch_mode(mode)

        self.ask("place", mode, lambda: fetch(self.data), land)

    def read_places_ahead(self) -> None:
        """Read what the places not visited yet show first, and the Segments' backtest, while the user reads
        the Overview (~170 ms of queries on the bench database, seconds of backtest on a large shop; nothing is
        drawn)."""
        wanted = [mode for mode in self.PLACE_DATA if not self.visited(mode)]

        def fetch() -> dict[tuple, Any]:
            found = {("place", mode): self.PLACE_DATA[mode](self.data) for mode in wanted}
            self.data.backtest()  # kept by the data source: Segments then draws its bars with its rows
            return found

        def keep(found: dict[tuple, Any]) -> None:
            self.prefetched.update({key: value for key, value in found.items() if not self.visited(key[1])})

        self.ask("places-ahead", "places", fetch, keep)  # its own topic: a segment fetched ahead is not stale

    def first_data(self, mode: str) -> Any | None:
        """The data read ahead for the place `mode`, once (None: the place reads its own)."""
        return self.prefetched.pop(("place", mode), None)

    def open_with(self, key: tuple, fetch: Callable[[], Any], push: Callable[[Any], None]) -> None:
        """Fetch a detail screen's data in a worker, then push the screen with it: the screen is composed,
        styled and drawn once, with its data, instead of once empty and again per query that arrives. Only the
        latest open lands, and only on the screen it was asked from."""
        origin = self.screen

        def land(view: Any) -> None:
            if self.screen is origin:  # the user has not moved on while it was fetched
                push(view)

        self.ask("open", (*key, id(origin)), fetch, land)

    def reusable(self, name: str) -> Screen | None:
        """The installed detail screen called `name`, unless it is already open somewhere (a theme opened
        from a segment opened from a theme): reusing one keeps its widgets composed and styled, which was
        most of the cost of opening a detail (bench/tui_speed.py)."""
        if not self.is_screen_installed(name):
            return None
        screen = self.get_screen(name)
        return None if any(screen in stack for stack in self.screen_stacks()) else screen

    def show_detail(self, name: str, make: Callable[[], Screen], retarget: Callable[[Any], None]) -> None:
        """Push the installed detail screen `name`, retargeted, or a new one (installed when it is the first)."""
        screen = self.reusable(name)
        if screen is None:
            screen = make()
            if not self.is_screen_installed(name):
                self.install_screen(screen, name)
        else:
            retarget(screen)
        self.push_screen(screen)

    def screen_stacks(self) -> list[list[Screen]]:
        stacks = []
        for mode in self.MODES:
            try:
                stacks.append(self.get_screen_stack(mode))
            except KeyError:  # a place not visited yet has no stack
                continue
        return stacks

    def open_theme(self, theme_id: int, filt: queries.ThemeFilter | None = None) -> None:
        narrowed = list_filter(filt)

        def push(view: ThemeView) -> None:
            self.show_detail("theme", lambda: ThemeDetailScreen(theme_id, filt, view),
                             lambda screen: screen.retarget(theme_id, filt, view))

        self.open_with(("theme", theme_id, narrowed),
                       lambda: fetch_theme_view(self.data, theme_id, narrowed, is_narrowed(narrowed)), push)

    def prefetch_segment(self, segment: str) -> None:
        """Fetch the segment screen's data while its row is highlighted, so Enter shows it at once."""
        key = ("segment", segment, None)
        if key in self.prefetched:
            return

        self.ask("prefetch", key, lambda: fetch_segment_view(self.data, segment, None),
                 lambda view: self.prefetched.__setitem__(key, view))

    def open_segment(self, segment: str, theme_id: int | None = None, tab: str = "themes") -> None:
        def push(view: SegmentView) -> None:
            self.show_detail("segment", lambda: SegmentDetailScreen(segment, theme_id, tab, view),
                             lambda screen: screen.retarget(segment, theme_id, tab, view))

        ready = self.prefetched.get(("segment", segment, theme_id))
        if ready is not None and (ready.links is not None or self.data.links_if_ready() is None):
            push(ready)
            return
        self.open_with(("segment", segment, theme_id, tab), lambda: fetch_segment_view(self.data, segment, theme_id), push)

    def open_document(self, document_id: int, unit_id: int | None = None) -> None:
        def push(doc: queries.DocumentView | None) -> None:
            self.show_detail("document", lambda: DocumentScreen(document_id, unit_id, doc),
                             lambda screen: screen.retarget(document_id, unit_id, doc))

        self.open_with(("document", document_id, unit_id), lambda: queries.document(self.data.read(), document_id), push)

    def copy_quote(self, quote: queries.Quote) -> None:
        self.copy_to_clipboard(quote.text)
        self.notify(f"Copied: “{quote.text[:60]}”", timeout=3)

    def export_brief(self, segment: str) -> None:
        self.ask("export", segment, lambda: self.data.export_brief(segment),
                 lambda path: self.notify(f"Brief written to {path}", title="Exported", timeout=8),
                 lambda exc: self.notify(f"Brief not written: {exc}", severity="error", timeout=8))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def typed_as(app: InsightApp, themes: ThemesScreen, theme: ThemeDetailScreen) -> tuple[Navigator, EditingScreen,
                                                                                      EditingScreen]:
    """Never called: mypy checks here that InsightApp is the Navigator screens and the palette talk to, and
    that the screens editing themes are what ThemeEditing's methods expect of them."""
    return app, themes, theme
