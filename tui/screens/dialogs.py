"""Small modal dialogs for the theme edits: rename, pick a theme to merge, split into k."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from insight.analysis import queries
from insight.core.safe_text import printable
from tui.navigation import navigator

T = TypeVar("T")


class ThemeDialog(ModalScreen[T]):
    """A modal about one theme; Escape dismisses it with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, theme_id: int, label: str) -> None:
        super().__init__()
        self.theme_id = theme_id
        self.label = label

    def action_cancel(self) -> None:
        self.dismiss(None)


class RenameDialog(ThemeDialog[str | None]):
    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Rename theme #{self.theme_id}", classes="dialog-title")
            yield Input(value=self.label, placeholder="new label", id="rename-input")
            yield Label("Enter to save · Esc to cancel", classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(value if value and value != self.label else None)


class MergeDialog(ThemeDialog[int | None]):
    """Pick the theme to fold into the current one (same scope first; type to filter)."""

    def __init__(self, theme_id: int, label: str, scope: str, level: str = "sub") -> None:
        super().__init__(theme_id, label)
        self.scope = scope
        self.level = level

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Text(f"Merge into #{self.theme_id} “{printable(self.label)}”: pick the theme to fold in"),
                        classes="dialog-title")
            yield Input(placeholder="type to filter themes in this scope", id="merge-filter")
            yield OptionList(id="merge-options")
            yield Label("↓ to the list, Enter to merge · Esc to cancel", classes="dim")

    def on_mount(self) -> None:
        self.refill("")

    def refill(self, text: str) -> None:
        data = navigator(self).data
        filt = queries.ThemeFilter(scope=self.scope, text=text or None, level=self.level)
        page = queries.list_themes(data.read(), filt, limit=50)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [Option(Text(f"#{r.id}  {printable(r.label)}  ({r.size:,} units)"), id=str(r.id))
             for r in page.rows if r.id != self.theme_id]
        )
        if options.option_count:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refill(event.value.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event) -> None:  # noqa: ANN001 - textual Key event
        if event.key == "down" and self.focused is self.query_one(Input):
            self.query_one(OptionList).focus()
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id)) if event.option.id else self.dismiss(None)


class SplitDialog(ThemeDialog[int | None]):
    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Split #{self.theme_id} “{printable(self.label)}” into how many themes?"),
                        classes="dialog-title")
            yield Input(value="2", id="split-k", type="integer")
            with Horizontal(classes="buttons"):
                yield Button("Split", variant="primary", id="split-ok")
                yield Button("Cancel", id="split-cancel")

    def _submit(self) -> None:
        value = self.query_one(Input).value.strip()
        k = int(value) if value.isdigit() else 0
        if k < 2:
            self.notify("Split into at least 2 themes", severity="warning")
            return
        self.dismiss(k)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "split-ok":
            self._submit()
        else:
            self.dismiss(None)
