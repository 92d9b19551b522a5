"""What every place in the app shares: the header, the footer with its bindings, a data source."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Header

from insight.analysis import queries
from tui.asking import Asking
from tui.data import DataSource
from tui.navigation import Navigator, navigator
from tui.widgets.footer import KeyFooter
from tui.widgets.format import clip


def options_of(select_id: str, options: queries.FilterOptions | None) -> list[tuple[str, str]]:
    """A filter menu's (label, value) pairs, by the field its id ends with ("f-source": the sources); none
    until the options are read."""
    if options is None:
        return []
    field = select_id.rsplit("-", 1)[-1]
    values = {"source": options.sources, "question": options.questions, "window": options.windows,
              "segment": options.segments}[field]
    return [(clip(v, 60), v) for v in values]


class PlaceScreen(Asking, Screen):
    """A top-level place (Overview, Themes, Segments, Search) or a detail pushed on top of one."""

    TITLE_TEXT = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set here, not in on_mount: Textual runs every class's on_mount, the base's last, and a detail
        # screen that shows its data while mounting has already put its own title.
        self.sub_title = self.TITLE_TEXT

    @property
    def nav(self) -> Navigator:
        return navigator(self)

    @property
    def data(self) -> DataSource:
        return self.nav.data

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield KeyFooter(compact=True)  # one space between keys: a theme screen's 14 keys fit in 160 columns

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.seen_version = self.nav.data_version

    def data_moved(self) -> bool:
        """True once after an edit elsewhere changed the data this screen shows."""
        current = self.nav.data_version
        moved, self.seen_version = current != self.seen_version, current
        return moved

    def ask_links(self, then: Callable[[Any], None]) -> None:
        """The session's link report (seconds of CPU the first time), asked once this screen has drawn the
        frame it is drawing: its thread holding the interpreter slowed that frame, the first opening of a
        theme included (bench/tui_speed.py)."""
        self.call_after_refresh(self.run_query, self.data.links, then, group="links")

    def run_query(self, fn: Callable[[], Any], done: Callable[[Any], None], *, group: str = "query",
                  key: Any = None) -> None:
        """`fn()` in a worker thread, its result to `done`: only the latest query of the group lands."""
        self.ask(group, object() if key is None else key, fn, done)
