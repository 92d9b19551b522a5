"""Search: full-text (FTS5) over every unit, or "similar to this quote" from cached embeddings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Select

from insight.analysis import queries
from tui.data import DataSource
from tui.screens.base import PlaceScreen, options_of
from tui.widgets.format import clip
from tui.widgets.quotes import QuoteFetch, QuotePanel


def search_fetch(data: DataSource, text: str, filt: queries.ThemeFilter) -> QuoteFetch:
    """Pages of a full-text search. The first page is counted in a second thread while the page is read
    (SQLite lets both run at once: a search answered ~10 ms sooner), later pages reuse that count."""
    counted: list[int] = []

    def fetch(offset: int, limit: int) -> queries.QuotePage:
        if counted:
            return queries.search_units(data.read(), text, filt, limit=limit, offset=offset, total=counted[0])
        with ThreadPoolExecutor(max_workers=1) as pool:
            total = pool.submit(lambda: queries.count_search(data.read(), text, filt))
            page = queries.search_units(data.read(), text, filt, limit=limit, offset=offset, total=0)
            counted.append(total.result())
        return replace(page, total=counted[0])

    return fetch


class SearchScreen(PlaceScreen):
    TITLE_TEXT = "Search"
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("f", "similar", "Similar quotes"),
        Binding("escape", "focus_results", "To results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = queries.ThemeFilter()
        self.text = ""
        self.similar_to: queries.Quote | None = None
        # The first page of what is typed in the box, fetched while the user types (see on_input_changed).
        self.ahead: tuple[str, queries.ThemeFilter, QuoteFetch, queries.QuotePage] | None = None
        self.ahead_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="search"):
            options = self.nav.first_data("search") or self.data.options_if_ready()
            self.have_options = options is not None
            with Horizontal(classes="filters"):
                yield Input(placeholder='search quotes: words, "a phrase", prefix*', id="search-input")
                for select_id, prompt in (("s-source", "source"), ("s-window", "window"), ("s-segment", "segment")):
                    yield Select(options_of(select_id, options), prompt=f"{prompt}: all", id=select_id, compact=True)
            yield QuotePanel(title="Type a search and press Enter", id="search-results")

    def on_mount(self) -> None:
        super().on_mount()
        if not self.have_options:
            self.run_query(self.data.filter_options, self.set_options, group="options")
        # Load the cached embeddings now, in the background, so "similar" answers at once later.
        self.run_worker(self.data.vector_index, thread=True, group="vectors", exit_on_error=False)
        self.set_focus(self.query_one("#search-input", Input))  # now, with the footer: focus() waits a callback

    @staticmethod
    def first_data(data: DataSource) -> queries.FilterOptions:
        return data.filter_options()

    def set_options(self, options: queries.FilterOptions) -> None:
        for select in self.query(Select):
            select.set_options(options_of(select.id or "", options))

    def search(self, text: str, *, focus_results: bool = False) -> None:
        self.text = text
        self.similar_to = None
        self.rerun(focus_results=focus_results)

    def rerun(self, *, focus_results: bool = False) -> None:
        panel = self.query_one(QuotePanel)
        filt = self.filter
        if self.similar_to is not None:
            quote = self.similar_to

            def similar(offset: int, limit: int) -> queries.QuotePage:
                index = self.data.vector_index()
                if index is None:
                    raise RuntimeError("no cached embeddings: run insight themes first")
                if offset:
                    return queries.QuotePage([], 0, offset)
                return queries.similar_units(self.data.read(), quote.unit_id, index, filt, limit=limit)

            panel.show(similar, f"Similar to “{clip(quote.text, 60)}”")
            return
        text = self.text
        if not text.strip():
            panel.show(None, "Type a search and press Enter")
            return
        fetch, first = search_fetch(self.data, text, filt), None
        if self.ahead is not None and self.ahead[:2] == (text, filt):
            fetch, first = self.ahead[2], self.ahead[3]
            self.ahead = None  # used once: the same words searched again later are searched again
        panel.show(fetch, f"Quotes matching {text!r}, best first", first, focus=focus_results)

    AHEAD_PAUSE = 0.05  # seconds after the last keystroke before the typed words are searched ahead

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search what is typed once typing pauses, without showing it: Enter then shows the results at once
        instead of after the query (~25 ms on 165,000 units; bench/tui_speed.py). A later keystroke or
        filter makes the page fetched ahead unused."""
        if event.input.id != "search-input":
            return
        self.query_one(QuotePanel).leave_focus()  # results of the words before must not take the focus
        self.ahead = None
        self.forget("prefetch")  # a page still coming is for the words before
        if self.ahead_timer is not None:
            self.ahead_timer.stop()
        text, filt, limit = event.value, self.filter, self.query_one(QuotePanel).page_size
        if not text.strip():
            return

        def work() -> tuple[str, queries.ThemeFilter, QuoteFetch, queries.QuotePage]:  # in a worker thread
            fetch = search_fetch(self.data, text, filt)
            return text, filt, fetch, fetch(0, limit)

        def keep(ahead: tuple[str, queries.ThemeFilter, QuoteFetch, queries.QuotePage]) -> None:
            self.ahead = ahead

        self.ahead_timer = self.set_timer(
            self.AHEAD_PAUSE, lambda: self.run_query(work, keep, group="prefetch", key=(text, filt)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The focus moves to the results when they arrive (with no match it stays here to try other words)."""
        if event.input.id == "search-input":
            self.search(event.value, focus_results=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        field = {"s-source": "source", "s-window": "window", "s-segment": "segment"}.get(event.select.id or "")
        if field and getattr(self.filter, field) != value:
            changes: dict[str, Any] = {field: value}  # a str field, named at run time
            self.filter = replace(self.filter, **changes)
            if self.text or self.similar_to:
                self.rerun()

    def action_similar(self) -> None:
        quote = self.query_one(QuotePanel).current
        if quote is None:
            self.notify("Highlight a quote first", severity="warning")
            return
        self.similar_to = quote
        self.rerun()

    def action_focus_search(self) -> None:
        self.query_one(QuotePanel).leave_focus()
        self.query_one("#search-input", Input).focus()

    def action_focus_results(self) -> None:
        self.query_one(QuotePanel).table.focus()
