"""The whole document behind a quote: every transcript turn or ticket message, the quote highlighted.

Each mention is a block of its own (so n/p step through them and the quoted one is highlighted); the
mentions of one passage follow each other without a gap, under one header.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from insight.analysis import queries
from insight.core.safe_text import printable
from tui.screens.base import PlaceScreen
from tui.widgets.format import customer, day


def document_header(doc: queries.DocumentView) -> Text:
    text = Text()
    text.append(f"{doc.source} · {doc.format}", style="bold")
    text.append(f" · {printable(doc.title or doc.external_id)}")
    text.append(f"\n{day(doc.created_at)} · {printable(customer(doc.customer_key))}", style="dim")
    if doc.rating is not None:
        text.append(f" · ★ {doc.rating:.0f}", style="dim")
    shown = {k: v for k, v in doc.metadata.items() if isinstance(v, str | int | float | list) and k != "raw"}
    if shown:
        text.append(printable("\n" + " · ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                                for k, v in list(shown.items())[:6])), style="dim")
    return text


def unit_text(unit: queries.DocUnit) -> Text:
    text = Text()
    label = unit.speaker or unit.role
    if unit.continued:
        pass  # the passage's header is on its first mention
    elif unit.question:
        text.append(f"Q: {printable(unit.question)}\n", style="bold")
    elif label:
        stamp = f" [{unit.started_at}]" if unit.started_at else ""
        text.append(printable(f"{label}{stamp}: "), style="bold")
    text.append(printable(unit.text))
    return text


class DocumentScreen(PlaceScreen):
    TITLE_TEXT = "Document"
    AUTO_FOCUS = "#doc-body"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "copy_target", "Copy quote"),
        Binding("n", "jump(1)", "Next mention"),
        Binding("p", "jump(-1)", "Previous mention"),
    ]

    def __init__(self, document_id: int, unit_id: int | None = None, doc: queries.DocumentView | None = None) -> None:
        super().__init__()
        self.document_id = document_id
        self.unit_id = unit_id
        self.doc: queries.DocumentView | None = None
        self.pending = doc  # fetched before the screen was shown (App.open_document)
        self.fresh = doc is not None  # a fetched target (or None: gone) waits to be shown on resume
        self.position = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="doc-header")
        yield VerticalScroll(id="doc-body")

    def on_mount(self) -> None:
        super().on_mount()
        if not self.fresh:
            document_id = self.document_id
            self.run_query(lambda: queries.document(self.data.read(), document_id), self.show, group="document")

    def retarget(self, document_id: int, unit_id: int | None, doc: queries.DocumentView | None) -> None:
        """Show another document in this (already composed) screen; it is drawn as the screen resumes."""
        self.document_id, self.unit_id, self.pending, self.fresh = document_id, unit_id, doc, True

    def on_screen_resume(self) -> None:
        if self.fresh:
            pending, self.pending, self.fresh = self.pending, None, False
            self.show(pending)

    def show(self, doc: queries.DocumentView | None) -> None:
        if doc is None:
            self.doc = None
            self.sub_title = "Document"
            self.query_one("#doc-header", Static).update(Text("This document is no longer in the database.", style="red"))
            self.query_one("#doc-body", VerticalScroll).remove_children()
            return
        self.doc = doc
        self.sub_title = printable(f"{doc.source}: {doc.title or doc.external_id}")
        self.position = next((i for i, unit in enumerate(doc.units) if unit.id == self.unit_id), 0)
        with self.app.batch_update():
            self.query_one("#doc-header", Static).update(document_header(doc))
            self._fill_body(doc)
        self.set_focus(self.query_one("#doc-body", VerticalScroll))
        self.refresh(layout=True)
        self.call_after_refresh(self._scroll_to_target)

    def _fill_body(self, doc: queries.DocumentView) -> None:
        """One Static per unit, reusing those of the document shown before (mounting widgets is the slow part)."""
        body = self.query_one("#doc-body", VerticalScroll)
        shown = list(body.query_children(Static))
        fresh = []
        for i, unit in enumerate(doc.units):
            classes = ("unit" + ("" if unit.analyse else " context") + (" continued" if unit.continued else "")
                       + (" target" if i == self.position else ""))
            if i < len(shown):
                shown[i].update(unit_text(unit))
                shown[i].set_classes(classes)
            else:
                fresh.append(Static(unit_text(unit), classes=classes))
        for extra in shown[len(doc.units):]:
            extra.remove()
        if fresh:
            body.mount_all(fresh)

    def _unit_widgets(self) -> list[Static]:
        return list(self.query_one("#doc-body", VerticalScroll).query_children(Static))

    def _scroll_to_target(self) -> None:
        widgets = self._unit_widgets()
        if self.doc and self.doc.units and self.position < len(widgets):
            self.query_one("#doc-body", VerticalScroll).scroll_to_center(widgets[self.position], animate=False)

    def action_jump(self, step: int) -> None:
        widgets = self._unit_widgets()
        if not self.doc or not self.doc.units or not widgets:
            return
        widgets[self.position].remove_class("target")
        self.position = max(0, min(len(self.doc.units) - 1, self.position + step))
        widgets[self.position].add_class("target")
        self._scroll_to_target()

    def action_copy_target(self) -> None:
        if self.doc and self.doc.units:
            unit = self.doc.units[self.position]
            self.app.copy_to_clipboard(unit.text)
            self.notify("Copied the highlighted passage")
