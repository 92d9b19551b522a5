"""The key bar at the bottom of every place: the keys the focused widget answers to, each one clickable.

Textual's Footer builds one widget per key and rebuilds them all on every bindings signal (each screen
shown, each focus move). In bench/tui_speed.py that cost 50-90 ms on every screen opened, half of the
100 ms a navigation key may take, so the bar is one Static whose text is rebuilt only when the keys
change. A click on a key presses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Static


@dataclass(frozen=True)
class ShownKey:
    key: str
    display: str
    description: str
    enabled: bool


def shown_keys(screen: Screen) -> tuple[ShownKey, ...]:
    """The keys to show, one per action (the first key bound to it), in binding order; the palette last."""
    app = screen.app
    active = screen.active_bindings
    seen: set[str] = set()
    keys: list[ShownKey] = []
    for _node, binding, enabled, _tooltip in active.values():
        if not binding.show or binding.action in seen:
            continue
        seen.add(binding.action)
        keys.append(ShownKey(binding.key, app.get_key_display(binding), binding.description, enabled))
    palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
    if palette is not None:
        _node, binding, enabled, _tooltip = palette
        keys.append(ShownKey(binding.key, app.get_key_display(binding), "Commands", enabled))
    return tuple(keys)


def key_markup(keys: tuple[ShownKey, ...]) -> Content:
    parts = []
    for key in keys:
        style = "" if key.enabled else " dim"
        press = f"app.simulate_key({key.key!r})"
        parts.append(
            f"[@click={press}][bold $footer-key-foreground{style}] {escape(key.display)} [/]"
            f"[$footer-description-foreground{style}]{escape(key.description)}[/][/] "
        )
    return Content.from_markup("".join(parts))


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self) -> None:
        super().__init__("")
        self.shown: tuple[ShownKey, ...] | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        keys = shown_keys(screen)
        if keys != self.shown:
            self.shown = keys
            self.update(key_markup(keys))
