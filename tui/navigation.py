"""What screens and the command palette may ask of the app (open a theme, a segment, a document, export a
brief): a Protocol, so they can call the app without importing it (tui.app imports every screen)."""

from __future__ import annotations

from typing import Protocol

from insight.analysis import queries
from tui.data import DataSource


class Navigator(Protocol):
    data: DataSource

    def open_theme(self, theme_id: int, filt: queries.ThemeFilter | None = None) -> None: ...

    def open_segment(self, segment: str, theme_id: int | None = None, tab: str = "themes") -> None: ...

    def open_document(self, document_id: int, unit_id: int | None = None) -> None: ...

    def export_brief(self, segment: str) -> None: ...

    def action_help(self) -> None: ...

    def switch_mode(self, mode: str) -> object: ...
