"""Quotes: a paged table of units with a preview of the highlighted one, and the quote actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from insight.analysis.queries import Quote, QuotePage
from insight.core.safe_text import printable
from tui.navigation import navigator
from tui.widgets.format import clip, customer, day
from tui.widgets.paged_table import Column, Page, PagedTable

QuoteFetch = Callable[[int, int], QuotePage]


def quote_page(page: QuotePage, width: int = 90) -> Page:
    return Page(
        [(str(q.unit_id), (q.source, day(q.created_at), clip(q.text, width), who(q)), q) for q in page.rows],
        page.total,
    )


def who(quote: Quote) -> str:
    return printable(customer(quote.customer_key))


def describe(quote: Quote) -> Text:
    """The full quote with where it came from, for the preview line."""
    text = Text()
    text.append(f"“{printable(quote.text)}”\n", style="italic")
    where = [quote.source, day(quote.created_at), who(quote)]
    if quote.question:
        where.append(f"Q: {printable(quote.question)}")
    if quote.title and quote.source in ("ticket", "review"):
        where.append(printable(quote.title))
    if quote.rating is not None:
        where.append(f"★ {quote.rating:.0f}")
    if quote.score is not None:
        where.append(f"score {quote.score:.2f}")
    text.append(" · ".join(w for w in where if w), style="dim")
    return text


NO_MATCH = Text("No quotes match.", style="dim")


def panel_title(title: str) -> Text:
    """A border title that may quote a theme label or a search: plain text, not markup."""
    return Text(printable(title))


class QuoteTable(PagedTable):
    pass


class QuotePanel(Vertical):
    """Paged quotes + preview. Enter opens the whole document; c copies the quote."""

    BINDINGS = [
        Binding("o", "open_document", "Open document"),
        Binding("c", "copy_quote", "Copy quote"),
    ]

    class Selected(Message):
        def __init__(self, quote: Quote) -> None:
            super().__init__()
            self.quote = quote

    def __init__(self, *, title: str = "Quotes", page_size: int = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.page_size = page_size
        self.showing: Any = None  # what the caller said these quotes are (to skip reloading the same ones)
        self.pending_title: str | None = None  # the title of quotes asked for, shown when they arrive
        self.focus_on_load = False
        self.focus_from: Widget | None = None
        self.previewing: Quote | Text | None = None  # what the preview line shows

    def compose(self) -> ComposeResult:
        table = QuoteTable(
            [Column("source", "source", 9), Column("date", "date", 10), Column("quote", "quote", 90),
             Column("who", "who", 32)],
            page_size=self.page_size,
        )
        table.border_title = panel_title(self.title)
        yield table
        yield Static("", classes="preview")

    @property
    def table(self) -> QuoteTable:
        return self.query_one(QuoteTable)

    def show(self, fetch: QuoteFetch | None, title: str | None = None, first: QuotePage | None = None, *,
             showing: Any = None, focus: bool = False) -> None:
        """Show quotes from `fetch`; `first` is its first page when the caller fetched it already.

        While a first page is being fetched the old quotes stay up, title and all, and the new ones replace
        them in one frame: drawing an emptied panel first cost a whole table render (~16 ms) racing the query
        for the processor, and a search took ~120 ms instead of ~70 (bench/tui_speed.py). `focus` moves the
        focus to the quotes in that same frame if there are any (moved before, the table was drawn twice)."""
        self.showing = showing if fetch is not None else None
        self.pending_title = title
        self.focus_on_load = focus
        self.focus_from = self.screen.focused  # the focus moves only if the user has not moved it since
        if fetch is None:
            self._retitle()
            self._preview(None)
        self.table.load(None if fetch is None else (lambda offset, limit: quote_page(fetch(offset, limit))),
                        None if first is None else quote_page(first))
        if first is not None:
            self._landed(first.total)  # now, in this frame: the Loaded message comes after it is drawn

    def leave_focus(self) -> None:
        """The user went on (typing other words, say): quotes still coming will not take the focus."""
        self.focus_on_load = False

    def _retitle(self) -> None:
        if self.pending_title is not None:
            self.table.border_title = panel_title(self.pending_title)
            self.pending_title = None

    def _landed(self, total: int) -> None:
        """A first page is in the table: its title, the focus if asked, the preview of the first quote."""
        self._retitle()
        if self.focus_on_load and total and self.screen.focused is self.focus_from:
            self.screen.set_focus(self.table)  # now: Widget.focus() waits for a later callback
        self.focus_on_load = False
        self._preview(self.table.current if total else NO_MATCH)

    def _preview(self, what: Quote | Text | None) -> None:
        """Redraw the preview only when it shows something else: each update costs a layout and a frame."""
        if what == self.previewing:
            return
        self.previewing = what
        content = describe(what) if isinstance(what, Quote) else what or ""
        self.query_one(".preview", Static).update(content)

    @property
    def current(self) -> Quote | None:
        return self.table.current

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._preview(self.table.current)

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        if event.first_page and not event.stale:  # (a page shown at once was landed already; this is its echo)
            self._landed(event.total)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_document()

    def action_open_document(self) -> None:
        quote = self.current
        if quote is not None:
            navigator(self).open_document(quote.document_id, quote.unit_id)

    def action_copy_quote(self) -> None:
        quote = self.current
        if quote is not None:
            navigator(self).copy_quote(quote)
