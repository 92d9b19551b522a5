"""Themes: a sortable, filterable, paged list; Enter opens a theme; r/m/x rename, merge, split."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Select, Static

from insight import queries
from tui.screens.base import PlaceScreen
from tui.screens.editing import ThemeEditing, ThemeRef
from tui.widgets.format import change, clip, feeling, pct, rating, spark
from tui.widgets.paged_table import Column, Page, PagedTable

SORT_ORDER = ("size", "share", "label", "rating", "change")
COLUMN_SORT = {"size": "size", "share": "share", "theme": "label", "rating": "rating", "change": "change",
               "scope": "scope", "id": "id"}


def theme_page(page: queries.ThemePage) -> Page:
    return Page(
        [
            (str(r.id), (str(r.id), clip(r.label + (" ·general" if r.kind == "general" else ""), 40),
                         clip(r.scope, 28), f"{r.size:,}", pct(r.share, 1), feeling(r.positive, r.negative),
                         spark(r.trend), rating(r.mean_rating), change(r.change)), r)
            for r in page.rows
        ],
        page.total,
    )


class ThemeTable(PagedTable):
    pass


class ThemesScreen(ThemeEditing, PlaceScreen):
    TITLE_TEXT = "Themes"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("d", "flip_direction", "Asc/desc", show=False),
        Binding("r", "rename", "Rename"),
        Binding("m", "merge", "Merge"),
        Binding("x", "split", "Split"),
        Binding("escape", "focus_table", "To list", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.filter = queries.ThemeFilter()
        self.sort = "size"
        self.descending = True

    def compose_body(self) -> ComposeResult:
        with Vertical(id="themes"):
            with Horizontal(id="theme-filters", classes="filters"):
                yield Select([], prompt="source: all", id="f-source", compact=True)
                yield Select([], prompt="question: all", id="f-question", compact=True)
                yield Select([], prompt="window: all", id="f-window", compact=True)
                yield Select([], prompt="segment: all", id="f-segment", compact=True)
                yield Input(placeholder="label contains…", id="f-text", compact=True)
            yield Static("", id="themes-empty", classes="empty")
            table = ThemeTable(
                [Column("#", "id", 4), Column("theme", "theme", 40), Column("scope", "scope", 28),
                 Column("docs", "size", 7), Column("share", "share", 6), Column("+ / -", "sentiment", 11),
                 Column("trend", "trend", 8),
                 Column("rating", "rating", 6), Column("change", "change", 10)],
                id="theme-table",
            )
            table.border_title = "Themes"
            yield table

    @property
    def table(self) -> ThemeTable:
        return self.query_one(ThemeTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#themes-empty").display = False
        self.run_query(lambda: queries.filter_options(self.data.read()), self.set_options, group="options")
        self.reload()
        self.table.focus()

    def set_options(self, options: queries.FilterOptions) -> None:
        self.query_one("#f-source", Select).set_options([(s, s) for s in options.sources])
        self.query_one("#f-question", Select).set_options([(clip(q, 60), q) for q in options.questions])
        self.query_one("#f-window", Select).set_options([(w, w) for w in options.windows])
        self.query_one("#f-segment", Select).set_options([(s, s) for s in options.segments])

    def reload(self) -> None:
        filt, sort, descending = self.filter, self.sort, self.descending
        self.table.border_title = f"Themes · sorted by {sort} {'↓' if descending else '↑'}"
        self.table.load(
            lambda offset, limit: theme_page(
                queries.list_themes(self.data.read(), filt, sort=sort, descending=descending, limit=limit, offset=offset)
            )
        )

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        if event.table is not self.table or not event.first_page:
            return
        empty = self.query_one("#themes-empty", Static)
        if event.total == 0:
            narrowed = self.filter != queries.ThemeFilter()
            empty.update(Text("No theme matches these filters." if narrowed else
                              "No themes yet. Import feedback, then run: insight themes", style="bold"))
        empty.display = event.total == 0

    def on_screen_resume(self) -> None:
        if self.data_moved():
            self.table.reload()

    # ------------------------------------------------------------ filters and sorting

    def on_select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        field = {"f-source": "source", "f-question": "question", "f-window": "window", "f-segment": "segment"}.get(
            event.select.id or ""
        )
        if field and getattr(self.filter, field) != value:
            self.filter = replace(self.filter, **{field: value})
            self.reload()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "f-text":
            text = event.value.strip() or None
            if text != self.filter.text:
                self.filter = replace(self.filter, text=text)
                self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        sort = COLUMN_SORT.get(str(event.column_key.value))
        if sort is None:
            return
        self.descending = not self.descending if sort == self.sort else sort not in ("label", "scope", "id")
        self.sort = sort
        self.reload()

    def action_cycle_sort(self) -> None:
        index = SORT_ORDER.index(self.sort) if self.sort in SORT_ORDER else -1
        self.sort = SORT_ORDER[(index + 1) % len(SORT_ORDER)]
        self.descending = self.sort != "label"
        self.reload()

    def action_flip_direction(self) -> None:
        self.descending = not self.descending
        self.reload()

    def action_focus_filter(self) -> None:
        self.query_one("#f-text", Input).focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    # ------------------------------------------------------------ opening and editing

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        row = self.table.current
        if row is not None:
            self.app.open_theme(row.id, self.filter)  # type: ignore[attr-defined]

    def current_theme(self) -> ThemeRef | None:
        row = self.table.current
        return ThemeRef(row.id, row.label, row.scope) if row else None

    def after_edit(self, message: str) -> None:
        self.notify(message)
        self.data_moved()
        self.table.reload()
