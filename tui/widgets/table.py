"""A DataTable whose cells are plain text, and which keeps its rendered cells when a style refresh changes
nothing.

Textual refreshes every widget's styles when a screen is shown again, and DataTable answers each refresh by
throwing away all its rendered cells and lines: on a 160-column screen that re-render was most of the cost
of going back to a place (bench/tui_speed.py). This table drops them only when a style it draws with (its
own, or a component's: cursor, hover, stripes, header) differs from the last render. The comparison
happens at render time: Textual updates component styles after it notifies the widget.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from insight.core.safe_text import printable


class Table(DataTable):
    drawn_with: tuple[Style, ...] | None = None  # the styles the cached cells were rendered with

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        """Cells are plain text, never Rich markup: a customer's "[/]" would otherwise crash the table and
        "[b]" restyle it; nor escape sequences, which would act on the terminal."""
        return super().add_row(*(Text(printable(cell), end="") if isinstance(cell, str) else cell for cell in cells),
                               **kwargs)

    def notify_style_update(self) -> None:
        Widget.notify_style_update(self)  # the widget's own style caches; the rendered cells are checked below
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        signature = (self.rich_style, *(self.get_component_rich_style(name) for name in sorted(self.COMPONENT_CLASSES)))
        if signature != self.drawn_with:
            self.drawn_with = signature
            DataTable.notify_style_update(self)  # DataTable's own answer: drop every rendered cell
        return super().render_lines(crop)
