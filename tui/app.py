"""insight's terminal UI: one place per screen, keyboard first, reading through `insight.analysis.queries`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from insight.analysis import queries
from tui.commands import InsightCommands
from tui.data import DataSource
from tui.idle_gc import IdleCollector
from tui.screens.document import DocumentScreen
from tui.screens.help import HelpScreen
from tui.screens.overview import OverviewScreen
from tui.screens.search import SearchScreen
from tui.screens.segment_detail import SegmentDetailScreen, SegmentView, fetch_segment_view
from tui.screens.segments import SegmentsScreen
from tui.screens.theme_detail import ThemeDetailScreen, ThemeView, fetch_theme_view, is_narrowed, list_filter
from tui.screens.themes import ThemesScreen


@dataclass
class Warm(Message):
    name: str  # a place (mode) to draw, or a detail screen ("theme", "segment", "document") to build


WARM_WAIT = 0.5  # seconds a warm-up waits for a screen to answer before it gives up


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

    def __init__(self, db_path: Path, *, briefs_dir: Path = Path("briefs"),
                 idle_gc: IdleCollector | None = None) -> None:
        super().__init__()
        self.idle_gc = idle_gc or IdleCollector()
        self.data = DataSource(Path(db_path), briefs_dir)
        self.sub_title = str(db_path)
        self.data_version = 0  # bumped by edits: screens reload on resume only when it moved
        self.prefetched: dict[tuple, Any] = {}  # views fetched ahead for the row under the cursor
        self.open_requests = 0  # counts detail screens asked for; only the latest one opens
        self.switching = False  # inside switch_mode (see delay_update)
        self.cold: list[str] = []  # screens built but not drawn yet (see on_warm)
        self.warming = False  # on_warm is readying one (the screen shown meanwhile is not the user's)

    async def on_mount(self) -> None:
        """Build every place before the first is shown, without drawing the others: a first visit otherwise
        spent 75-160 ms while Textual composed and styled the place (bench/tui_speed.py); here it costs the
        start-up about as much, once. Keys pressed meanwhile wait in the app's queue."""
        start = self.current_mode
        with self.batch_update():  # nothing is drawn until the first place is back
            for mode in self.MODES:
                if mode != start:
                    await self.switch_mode(mode)
            await self.switch_mode(start)
        self.freeze_heap()
        self.cold = [mode for mode in self.MODES if mode != start] + ["theme", "segment", "document"]
        self.idle_gc.start()
        self.idle_gc.touched()  # start-up's garbage goes at the first pause
        self.set_interval(0.1, self.on_pause, name="work done while the user pauses")

    def on_pause(self) -> None:
        """Work for the moments the user is reading: ready a screen not shown yet, else collect garbage."""
        if self.cold and self.idle_gc.idle_for(0.3) and self.on_a_place() and not self.loading():
            self.post_message(Warm(self.cold.pop(0)))
        else:
            self.idle_gc.tick()

    def loading(self) -> bool:
        """A worker is fetching what a screen shows (the embedding index for "similar" does not count: it
        takes seconds on a large database and no screen waits for it)."""
        return any(w.is_running and w.group != "vectors" for w in self.workers)

    def on_a_place(self) -> bool:
        """The app is running and showing a place, with nothing (a detail, a dialog, the palette) over it."""
        return self._running and not self._exit and not self._closing and len(self.screen_stack) == 1

    async def on_warm(self, message: Warm) -> None:
        """Ready a screen the user has not opened yet, unseen, while they pause (Textual drops the frames of
        a batch update). Keys pressed meanwhile wait in the app's queue, so none lands on it."""
        if not self.on_a_place():  # the user moved on, or the app is closing, since the pause was noticed
            return
        self.warming = True
        try:
            if message.name in self.MODES:
                await self.draw_place(message.name)
            else:
                await self.build_detail(message.name)
        finally:
            self.warming = False

    async def draw_place(self, mode: str) -> None:
        """Show a place with its data once, after it has handled its resume as on a real visit: its first
        visit otherwise drew every table for the first time, 90-115 ms against 35 later (bench/tui_speed.py).
        Waits are bounded: a screen that does not answer (the app closing) only skips the drawing."""
        back = self.current_mode
        with self.batch_update():
            self.switch_mode(mode)
            try:
                screen = self.screen
                resumed, drawn = asyncio.Event(), asyncio.Event()
                screen.call_later(resumed.set)  # behind the ScreenResume that switch_mode posted
                await asyncio.wait_for(resumed.wait(), WARM_WAIT)
                screen.refresh()
                screen.call_after_refresh(drawn.set)
                await asyncio.wait_for(drawn.wait(), WARM_WAIT)
            except TimeoutError:
                pass
            finally:
                if self.current_mode == mode and not self._exit:
                    self.switch_mode(back)

    async def build_detail(self, name: str) -> None:
        """Compose the theme, segment or document screen (on the largest theme, the first segment, that
        theme's first quote) and keep it installed: the first opening of each kind otherwise paid ~50 ms of
        composing and styling on top of a later one's (bench/tui_speed.py). Done in a pause, one screen at a
        time (a key pressed meanwhile waits ~70 ms at most), not at start-up, where it cost the first screen
        ~0.3 s."""
        if self.is_screen_installed(name):
            return
        screen = self.detail_sample(name)
        if screen is None:
            return
        with self.batch_update():
            self.install_screen(screen, name)
            await self.push_screen(screen)
            await self.pop_screen()
        self.freeze_heap()

    def detail_sample(self, name: str) -> Screen | None:
        data = self.data
        if name == "segment":
            segments = data.segment_rows()
            if not segments:
                return None
            view = fetch_segment_view(data, segments[0].segment, None)
            return SegmentDetailScreen(segments[0].segment, None, "themes", view)
        themes = queries.list_themes(data.read(), limit=1).rows
        if not themes:
            return None
        theme = fetch_theme_view(data, themes[0].id, queries.ThemeFilter(), False)
        if name == "theme":
            return ThemeDetailScreen(themes[0].id, None, theme)
        if not theme.quotes.rows:
            return None
        quote = theme.quotes.rows[0]
        return DocumentScreen(quote.document_id, quote.unit_id, queries.document(data.read(), quote.document_id))

    def on_unmount(self) -> None:
        self.idle_gc.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self.idle_gc.touched()
        await super().on_event(event)

    def switch_mode(self, mode: str) -> Any:
        """Switch places without Textual's 50 ms hold. Textual stops drawing for 50 ms after every mode
        switch (`App.delay_update`) to hide a place being built; every place here is built before the first
        is shown, and that hold was most of a switch (bench/tui_speed.py: ~100 ms for a bare Textual app).
        Drawing waits instead until the new place has handled its resume (its styles refreshed), so its
        first frame is already the finished one."""
        self.switching = True
        try:
            waiting = super().switch_mode(mode)
        finally:
            self.switching = False
        self._begin_batch()

        def end_batch() -> None:
            self._end_batch()
            if not self._batch_count:
                self.screen.refresh()

        self.screen.call_later(end_batch)  # queued behind the ScreenResume that switch_mode posted
        return waiting

    def delay_update(self, delay: float = 0.05) -> None:
        if not self.switching:
            super().delay_update(delay)

    def freeze_heap(self) -> None:
        """Move what is alive now (Textual's widgets and caches, the loaded data) out of the garbage
        collector's reach. A full collection walks every object and paused the UI for 40-125 ms in about one
        detail screen opening in eight (bench, with gc callbacks); frozen objects are skipped. Called once
        the places are built and again when a kind of detail screen is first built."""
        gc.freeze()

    def data_changed(self) -> None:
        self.data_version += 1
        self.prefetched.clear()

    # ------------------------------------------------------------ navigation used by screens and the palette

    def open_with(self, fetch: Callable[[], Any], push: Callable[[Any], None]) -> None:
        """Fetch a detail screen's data in a worker, then push the screen with it: the screen is composed,
        styled and drawn once, with its data, instead of once empty and again per query that arrives."""

        self.open_requests += 1
        request, origin = self.open_requests, self.screen

        def still_wanted(view: Any) -> None:
            # A newer open, or the user moving on while this one was fetched, makes this one stale.
            if request == self.open_requests and self.screen is origin:
                push(view)

        def work() -> None:
            try:
                view = fetch()
                self.call_from_thread(still_wanted, view)
            except Exception as exc:  # noqa: BLE001 - shown, never crashes the UI
                self.call_from_thread(self.notify, f"Could not open: {exc}", severity="error", timeout=8)

        self.run_worker(work, thread=True, group="open", exclusive=True, exit_on_error=False)

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
                self.call_after_refresh(self.freeze_heap)
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

        self.open_with(lambda: fetch_theme_view(self.data, theme_id, narrowed, is_narrowed(narrowed)), push)

    def prefetch_segment(self, segment: str) -> None:
        """Fetch the segment screen's data while its row is highlighted, so Enter shows it at once."""
        key = ("segment", segment, None)
        if key in self.prefetched:
            return

        version = self.data_version

        def keep(view: SegmentView) -> None:
            if version == self.data_version:  # an edit since makes it stale
                self.prefetched[key] = view

        def work() -> None:
            view = fetch_segment_view(self.data, segment, None)
            self.call_from_thread(keep, view)

        self.run_worker(work, thread=True, group="prefetch", exclusive=True, exit_on_error=False)

    def open_segment(self, segment: str, theme_id: int | None = None, tab: str = "themes") -> None:
        def push(view: SegmentView) -> None:
            self.show_detail("segment", lambda: SegmentDetailScreen(segment, theme_id, tab, view),
                             lambda screen: screen.retarget(segment, theme_id, tab, view))

        ready = self.prefetched.get(("segment", segment, theme_id))
        if ready is not None and (ready.links is not None or self.data.links_if_ready() is None):
            push(ready)
            return
        self.open_with(lambda: fetch_segment_view(self.data, segment, theme_id), push)

    def open_document(self, document_id: int, unit_id: int | None = None) -> None:
        def push(doc: queries.DocumentView | None) -> None:
            self.show_detail("document", lambda: DocumentScreen(document_id, unit_id, doc),
                             lambda screen: screen.retarget(document_id, unit_id, doc))

        self.open_with(lambda: queries.document(self.data.read(), document_id), push)

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
