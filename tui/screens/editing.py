"""Rename / merge / split from any screen that shows a theme: dialogs, then the edit in a worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from textual.app import App
from textual.notifications import SeverityLevel

from tui.data import DataSource
from tui.navigation import Navigator
from tui.screens.dialogs import MergeDialog, RenameDialog, SplitDialog


@dataclass(frozen=True)
class ThemeRef:
    id: int
    label: str
    scope: str
    level: str = "sub"  # a theme merges only with another of its level


class EditingScreen(Protocol):
    """What ThemeEditing needs of the screen it is mixed into (a PlaceScreen showing a theme)."""

    @property
    def app(self) -> App[object]: ...

    @property
    def nav(self) -> Navigator: ...

    @property
    def data(self) -> DataSource: ...

    def notify(self, message: str, *, severity: SeverityLevel, timeout: float | None) -> None: ...

    def current_theme(self) -> ThemeRef | None: ...

    def after_edit(self, message: str) -> None: ...

    def run_edit(self, work: Callable[[DataSource], str]) -> None: ...


class ThemeEditing:
    """Mixin for screens: subclasses say which theme is current and what to refresh after an edit."""

    def current_theme(self) -> ThemeRef | None:
        raise NotImplementedError

    def after_edit(self, message: str) -> None:
        raise NotImplementedError

    def run_edit(self: EditingScreen, work: Callable[[DataSource], str]) -> None:
        def done(message: str) -> None:
            self.nav.data_changed()
            self.after_edit(message)

        # Asked by the app, which is always there when the edit lands (the screen may have been closed).
        data = self.data
        self.nav.ask("edit", object(), lambda: work(data), done,
                     lambda exc: self.notify(f"Edit failed: {exc}", severity="error", timeout=10))

    def action_rename(self: EditingScreen) -> None:
        theme = self.current_theme()
        if theme is None:
            return

        def done(label: str | None) -> None:
            if label:
                def rename(data: DataSource) -> str:
                    data.rename_theme(theme.id, label)
                    return f"Renamed #{theme.id} to {label!r}"

                self.run_edit(rename)

        self.app.push_screen(RenameDialog(theme.id, theme.label), done)

    def action_merge(self: EditingScreen) -> None:
        theme = self.current_theme()
        if theme is None:
            return

        def done(other: int | None) -> None:
            if other is not None:
                def merge(data: DataSource) -> str:
                    data.merge_themes(theme.id, other)
                    return f"Merged #{other} into #{theme.id}"

                self.run_edit(merge)

        self.app.push_screen(MergeDialog(theme.id, theme.label, theme.scope, theme.level), done)

    def action_split(self: EditingScreen) -> None:
        theme = self.current_theme()
        if theme is None:
            return

        def done(k: int | None) -> None:
            if k:
                self.run_edit(
                    lambda data: f"Split #{theme.id} into " + ", ".join(f"#{i}" for i in data.split_theme(theme.id, k))
                )

        self.app.push_screen(SplitDialog(theme.id, theme.label), done)
