"""The whole document behind a quote: every transcript turn or ticket message, the quote highlighted."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from insight import queries
from tui.screens.base import PlaceScreen
from tui.widgets.format import day


def document_header(doc: queries.DocumentView) -> Text:
    text = Text()
    text.append(f"{doc.source} · {doc.format}", style="bold")
    text.append(f" · {doc.title or doc.external_id}")
    text.append(f"\n{day(doc.created_at)} · {(doc.customer_key or 'anonymous').split(':', 1)[-1]}", style="dim")
    if doc.rating is not None:
        text.append(f" · ★ {doc.rating:.0f}", style="dim")
    shown = {k: v for k, v in doc.metadata.items() if isinstance(v, str | int | float | list) and k != "raw"}
    if shown:
        text.append("\n" + " · ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                      for k, v in list(shown.items())[:6]), style="dim")
    return text


def unit_text(unit: queries.DocUnit) -> Text:
    text = Text()
    label = unit.speaker or unit.role
    if unit.question:
        text.append(f"Q: {unit.question}\n", style="bold")
    elif label:
        stamp = f" [{unit.started_at}]" if unit.started_at else ""
        text.append(f"{label}{stamp}: ", style="bold")
    text.append(unit.text)
    return text


class DocumentScreen(PlaceScreen):
    TITLE_TEXT = "Document"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "copy_target", "Copy quote"),
        Binding("n", "jump(1)", "Next unit"),
        Binding("p", "jump(-1)", "Previous unit"),
    ]

    def __init__(self, document_id: int, unit_id: int | None = None) -> None:
        super().__init__()
        self.document_id = document_id
        self.unit_id = unit_id
        self.doc: queries.DocumentView | None = None
        self.position = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="doc-header")
        yield VerticalScroll(id="doc-body")

    def on_mount(self) -> None:
        super().on_mount()
        document_id = self.document_id
        self.run_query(lambda: queries.document(self.data.read(), document_id), self.show, group="document")

    def show(self, doc: queries.DocumentView | None) -> None:
        if doc is None:
            self.query_one("#doc-header", Static).update(Text("This document is no longer in the database.", style="red"))
            return
        self.doc = doc
        self.sub_title = f"{doc.source}: {doc.title or doc.external_id}"
        self.query_one("#doc-header", Static).update(document_header(doc))
        body = self.query_one("#doc-body", VerticalScroll)
        widgets = []
        for i, unit in enumerate(doc.units):
            classes = "unit" + ("" if unit.analyse else " context") + (" target" if unit.id == self.unit_id else "")
            widgets.append(Static(unit_text(unit), classes=classes, id=f"unit-{unit.id}"))
            if unit.id == self.unit_id:
                self.position = i
        body.mount_all(widgets)
        body.focus()
        self.call_after_refresh(self._scroll_to_target)

    def _scroll_to_target(self) -> None:
        if self.doc and self.doc.units:
            target = self.query_one(f"#unit-{self.doc.units[self.position].id}")
            self.query_one("#doc-body", VerticalScroll).scroll_to_center(target, animate=False)

    def action_jump(self, step: int) -> None:
        if not self.doc or not self.doc.units:
            return
        self.query_one(f"#unit-{self.doc.units[self.position].id}").remove_class("target")
        self.position = max(0, min(len(self.doc.units) - 1, self.position + step))
        self.query_one(f"#unit-{self.doc.units[self.position].id}").add_class("target")
        self._scroll_to_target()

    def action_copy_target(self) -> None:
        if self.doc and self.doc.units:
            unit = self.doc.units[self.position]
            self.app.copy_to_clipboard(unit.text)
            self.notify("Copied the highlighted passage")
