"""Textual's Footer, rebuilt only when the keys it shows change, and at most once per frame.

The stock Footer recomposes all its keys on every bindings signal: each time its screen is shown again and
each focus move, even when the keys are the same, and once per signal when several come before a frame (a
place shown for the first time: its screen resumes, then its table takes the focus). In bench/tui_speed.py
that was most of going back to a place (see README). This one compares the keys first, and a recompose
already asked for reads the keys as they are when it runs; everything else is the stock widget.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen) -> tuple[tuple[str, str, bool], ...]:
    """The keys a footer on `screen` shows: (key, description, enabled), in binding order."""
    return tuple((binding.key, binding.description, enabled)
                 for _node, binding, enabled, _tooltip in screen.active_bindings.values() if binding.show)


class KeyFooter(Footer):
    shown: tuple[tuple[str, str, bool], ...] | None = None  # the keys drawn now, or asked to be
    asked = False  # a recompose is scheduled: it reads the keys when it runs

    def bindings_changed(self, screen: Screen) -> None:
        keys = shown_keys(screen)
        if keys == self.shown:
            return
        if self.asked:
            self.shown = keys
            return
        super().bindings_changed(screen)
        if screen.app.app_focus and self.is_attached and screen is self.screen:  # the stock one recomposes then
            self.shown, self.asked = keys, True

    async def recompose(self) -> None:
        self.asked = False
        await super().recompose()
