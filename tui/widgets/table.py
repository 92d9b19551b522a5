"""A DataTable that keeps its rendered cells when a style refresh changes nothing.

Textual refreshes every widget's styles when a screen is shown again, and DataTable answers each refresh by
throwing away all its rendered cells and lines. On a 160-column screen that re-render was most of the cost
of switching places (bench/tui_speed.py), so this table drops its caches only when a style it draws with
(its own, or a component's: cursor, hover, stripes, header) differs from the last render.

The comparison happens at render time: Textual updates component styles after it notifies the widget,
so a check in `notify_style_update` would see the old ones.

Likewise a Resize event can arrive after the frame was already drawn at the new size; DataTable would
still invalidate every line for it, and the next visit to the screen redrew the whole table (~130 ms for
the segment x theme heat map). A Resize to the size last drawn is ignored.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from insight.core.safe_text import printable


class Table(DataTable):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_with: tuple[Style, ...] | None = None
        self._drawn_size: tuple[Size, Size] | None = None

    def _style_signature(self) -> tuple[Style, ...]:
        components = [self.get_component_rich_style(name) for name in sorted(self.COMPONENT_CLASSES)]
        return (self.rich_style, *components)

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        """Cells are plain text, never Rich markup: a customer's "[/]" would otherwise crash the table and
        "[b]" restyle it; nor escape sequences, which would act on the terminal."""
        return super().add_row(*(Text(printable(cell), end="") if isinstance(cell, str) else cell for cell in cells),
                               **kwargs)

    def notify_style_update(self) -> None:
        Widget.notify_style_update(self)  # the widget's own style caches; rendered cells are checked below
        self.refresh()

    def _on_resize(self, event: events.Resize) -> None:
        if (event.size, event.virtual_size) == self._drawn_size:
            event.prevent_default()  # DataTable's handler would invalidate lines drawn at this very size

    def settle_size(self) -> None:
        """Measure rows added since the last frame now, not when the app is next idle: DataTable defers it,
        so a page of new rows was drawn once, then again with its scrollbar and again with the cursor
        scrolled into view (three frames, ~30 ms more per search; bench/tui_speed.py)."""
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)

    def render_lines(self, crop: Region) -> list[Strip]:
        signature = self._style_signature()
        if signature != self._drawn_with:
            self._drawn_with = signature
            self._clear_caches()
        self._drawn_size = (self.outer_size, self.size)  # as a Resize event carries them
        return super().render_lines(crop)
