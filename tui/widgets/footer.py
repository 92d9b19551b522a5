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
    spare: bool = False  # an app-wide key (places, quit) the bar may drop when it is too narrow

    @property
    def width(self) -> int:
        return len(self.display) + len(self.description) + 3


KEPT_APP_KEYS = {"question_mark"}  # help stays: it lists every key, the dropped ones too


def shown_keys(screen: Screen) -> tuple[ShownKey, ...]:
    """The keys to show, one per action (the first key bound to it), in binding order; the palette last."""
    app = screen.app
    active = screen.active_bindings
    seen: set[str] = set()
    keys: list[ShownKey] = []
    for node, binding, enabled, _tooltip in active.values():
        if not binding.show or binding.action in seen:
            continue
        seen.add(binding.action)
        spare = node is app and binding.key not in KEPT_APP_KEYS
        keys.append(ShownKey(binding.key, app.get_key_display(binding), binding.description, enabled, spare))
    palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
    if palette is not None:
        _node, binding, enabled, _tooltip = palette
        keys.append(ShownKey(binding.key, app.get_key_display(binding), "Commands", enabled))
    return tuple(keys)


def fit(keys: tuple[ShownKey, ...], width: int) -> tuple[ShownKey, ...]:
    """The keys that fit in `width` cells: the app-wide ones go first, the last of them first, so a detail
    screen's own keys and the command palette stay readable ("^p Com…" was cut on the theme screen)."""
    kept = list(keys)
    spare = [key for key in keys if key.spare]
    while sum(key.width for key in kept) > width and spare:
        kept.remove(spare.pop())
    return tuple(kept)


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
        self.keys: tuple[ShownKey, ...] = ()  # the focused widget's keys
        self.shown: tuple[ShownKey, ...] | None = None  # those that fit

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        self.keys = shown_keys(screen)
        self.show_fitting()

    def on_resize(self) -> None:
        self.show_fitting()

    def show_fitting(self) -> None:
        keys = fit(self.keys, self.size.width or self.app.size.width)
        if keys != self.shown:
            self.shown = keys
            self.update(key_markup(keys))
