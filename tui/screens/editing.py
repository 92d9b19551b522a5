"""Rename / merge / split from any screen that shows a theme: dialogs, then the edit in a worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.data import DataSource
from tui.screens.dialogs import MergeDialog, RenameDialog, SplitDialog

if TYPE_CHECKING:
    from tui.screens.base import PlaceScreen


@dataclass(frozen=True)
class ThemeRef:
    id: int
    label: str
    scope: str
    level: str = "sub"  # a theme merges only with another of its level


class ThemeEditing:
    """Mixin for screens: subclasses say which theme is current and what to refresh after an edit."""

    def current_theme(self) -> ThemeRef | None:
        raise NotImplementedError

    def after_edit(self, message: str) -> None:
        raise NotImplementedError

    def _run_edit(self, work: Callable[[DataSource], str]) -> None:
        screen: PlaceScreen = self  # type: ignore[assignment]

        def done(message: str) -> None:
            screen.app.data_changed()  # type: ignore[attr-defined]
            self.after_edit(message)

        # Asked by the app, which is always there when the edit lands (the screen may have been closed).
        screen.app.ask("edit", object(), lambda: work(screen.data), done,  # type: ignore[attr-defined]
                   lambda exc: screen.notify(f"Edit failed: {exc}", severity="error", timeout=10))

    def action_rename(self) -> None:
        theme = self.current_theme()
        if theme is None:
            return

        def done(label: str | None) -> None:
            if label:
                def rename(data: DataSource) -> str:
                    data.rename_theme(theme.id, label)
                    return f"Renamed #{theme.id} to {label!r}"

                self._run_edit(rename)

        self.app.push_screen(RenameDialog(theme.id, theme.label), done)  # type: ignore[attr-defined]

    def action_merge(self) -> None:
        theme = self.current_theme()
        if theme is None:
            return

        def done(other: int | None) -> None:
            if other is not None:
                def merge(data: DataSource) -> str:
                    data.merge_themes(theme.id, other)
                    return f"Merged #{other} into #{theme.id}"

                self._run_edit(merge)

        self.app.push_screen(MergeDialog(theme.id, theme.label, theme.scope, theme.level), done)  # type: ignore[attr-defined]

    def action_split(self) -> None:
        theme = self.current_theme()
        if theme is None:
            return

        def done(k: int | None) -> None:
            if k:
                self._run_edit(
                    lambda data: f"Split #{theme.id} into " + ", ".join(f"#{i}" for i in data.split_theme(theme.id, k))
                )

        self.app.push_screen(SplitDialog(theme.id, theme.label), done)  # type: ignore[attr-defined]
