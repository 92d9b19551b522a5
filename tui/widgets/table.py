"""A DataTable that keeps its rendered cells when a style refresh changes nothing.

Textual refreshes every widget's styles when a screen is shown again, and DataTable answers each refresh by
throwing away all its rendered cells and lines. On a 160-column screen that re-render was most of the cost
of switching places (bench/tui_speed.py), so this table drops its caches only when a style it draws with
(its own, or a component's: cursor, hover, stripes, header) differs from the last render.

The comparison happens at render time: Textual updates component styles after it notifies the widget,
so a check in `notify_style_update` would see the old ones.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable


class Table(DataTable):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drawn_with: tuple[Style, ...] | None = None

    def _style_signature(self) -> tuple[Style, ...]:
        components = [self.get_component_rich_style(name) for name in sorted(self.COMPONENT_CLASSES)]
        return (self.rich_style, *components)

    def notify_style_update(self) -> None:
        Widget.notify_style_update(self)  # the widget's own style caches; rendered cells are checked below
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        signature = self._style_signature()
        if signature != self._drawn_with:
            self._drawn_with = signature
            self._clear_caches()
        return super().render_lines(crop)
