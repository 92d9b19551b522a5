"""What every place in the app shares: the header, the footer with its bindings, a data source."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header

from tui.data import DataSource
from tui.widgets.footer import KeyBar


class PlaceScreen(Screen):
    """A top-level place (Overview, Themes, Segments, Search) or a detail pushed on top of one."""

    TITLE_TEXT = ""

    @property
    def data(self) -> DataSource:
        return self.app.data  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Textual re-applies all CSS to the whole app when it shows a screen whose CSS counter is behind the
        # app's (Textual PR 5211), and a new screen's counter stays behind until such a refresh happens while
        # it is mounted: each place paid two full CSS refreshes (~55 ms each) on its first two visits. A new
        # screen's widgets are styled from the current stylesheet as they mount, so it starts up to date; a
        # later theme change still moves the app's counter on and refreshes it.
        self._css_update_count = self.app._css_update_count
        # Set here, not in on_mount: Textual runs every class's on_mount, the base's last, and a detail
        # screen that shows its data while mounting has already put its own title.
        self.sub_title = self.TITLE_TEXT

    def on_mount(self) -> None:
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
