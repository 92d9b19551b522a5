"""What screens, widgets and the command palette may ask of the app (open a theme, a segment, a document,
export a brief, the data source): a Protocol, so they can call the app without importing it (tui.app imports
every screen). `tui.app` checks that InsightApp is one, so every call through `navigator()` is type-checked."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol, cast

from textual.dom import DOMNode

from insight.analysis import queries
from tui.data import DataSource


class Navigator(Protocol):
    data: DataSource
    data_version: int  # bumped by edits: screens reload on resume only when it moved

    def open_theme(self, theme_id: int, filt: queries.ThemeFilter | None = None) -> None: ...

    def open_segment(self, segment: str, theme_id: int | None = None, tab: str = "themes") -> None: ...

    def open_document(self, document_id: int, unit_id: int | None = None) -> None: ...

    def prefetch_segment(self, segment: str) -> None: ...

    def copy_quote(self, quote: queries.Quote) -> None: ...

    def export_brief(self, segment: str) -> None: ...

    def data_changed(self) -> None: ...

    def first_data(self, mode: str) -> Any | None: ...

    def read_places_ahead(self) -> None: ...

    def ask(self, topic: str, key: Hashable, fetch: Callable[[], Any], then: Callable[[Any], None],
            failed: Callable[[Exception], None] | None = None) -> None: ...

    def action_help(self) -> None: ...

    def switch_mode(self, mode: str) -> object: ...


def navigator(node: DOMNode) -> Navigator:
    """The app `node` runs in, as the navigator it is (the one app these screens run in is InsightApp)."""
    return cast(Navigator, node.app)
