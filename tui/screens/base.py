"""What every place in the app shares: the header, the footer with its bindings, a data source."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header

from tui.data import DataSource


class PlaceScreen(Screen):
    """A top-level place (Overview, Themes, Segments, Search) or a detail pushed on top of one."""

    TITLE_TEXT = ""

    @property
    def data(self) -> DataSource:
        return self.app.data  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.sub_title = self.TITLE_TEXT
        self.seen_version = self.app.data_version  # type: ignore[attr-defined]

    def data_moved(self) -> bool:
        """True once after an edit elsewhere changed the data this screen shows."""
        current = self.app.data_version  # type: ignore[attr-defined]
        moved, self.seen_version = current != self.seen_version, current
        return moved

    def run_query(self, fn: Any, done: Any, *, group: str = "query") -> None:
        """Run `fn()` in a worker thread and hand its result to `done` on the UI thread."""

        def work() -> None:
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - shown, never crashes the UI
                self.app.call_from_thread(self.notify, f"{exc}", severity="error", timeout=8)
                return
            self.app.call_from_thread(done, result)

        self.run_worker(work, thread=True, group=group, exclusive=True, exit_on_error=False)
