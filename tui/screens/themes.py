"""Themes: a sortable, filterable, paged tree of parent themes and their sub-themes; → opens a parent's
branch and ← closes it, Enter opens a theme; r/m/x rename, merge, split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Select, Static

from insight.analysis import queries
from tui.data import DataSource
from tui.screens.base import PlaceScreen, options_of
from tui.screens.editing import ThemeEditing, ThemeRef
from tui.widgets.format import change, clip, feeling, pct, rating, spark
from tui.widgets.paged_table import Column, Fetch, Page, PagedTable

SORT_ORDER = ("size", "share", "label", "rating", "change")
COLUMN_SORT = {"size": "size", "share": "share", "theme": "label", "rating": "rating", "change": "change",
               "scope": "scope", "id": "id"}


THEME_WIDTH = 46
OPEN, CLOSED, LEAF = "▾ ", "▸ ", "  "  # a parent's branch shown, hidden; a theme without one
BRANCH, LAST = "  ├ ", "  └ "  # a sub-theme under its parent, the last one


def theme_cell(row: queries.ThemeRow, mark: str) -> Text:
    """The tree mark, then the label: a parent's in bold, a sub-theme's with the parent it moved from."""
    text = Text().append(mark, style="dim")
    label = row.label + (" ·general" if row.kind == "general" else "")
    room = THEME_WIDTH - len(mark)
    style = "bold" if row.level == "parent" else ""
    if row.moved_from is None:
        return text.append(clip(label, room), style=style)
    moved = f"moved from {row.moved_from[1]}"
    shown = clip(label, max(room - len(moved) - 3, room // 2))
    text.append(shown, style=style).append(" · ", style="dim")
    return text.append(clip(moved, max(room - len(shown) - 3, 1)), style="magenta")


def tree_rows(rows: Sequence[queries.ThemeRow]) -> list[tuple[str, Sequence[Any], Any]]:
    """Table rows for themes listed in tree order (each shown sub-theme right after its parent or a sibling):
    a sub-theme is drawn under its parent when that parent is listed, a parent marked open or closed."""
    listed = {r.id for r in rows}
    out: list[tuple[str, Sequence[Any], Any]] = []
    for i, r in enumerate(rows):
        after = rows[i + 1] if i + 1 < len(rows) else None
        under = r.parent_id is not None and r.parent_id in listed
        if under:
            mark = LAST if after is None or after.parent_id != r.parent_id else BRANCH
        else:
            mark = (OPEN if after is not None and after.parent_id == r.id else CLOSED) if r.expandable else LEAF
        cells = (str(r.id), theme_cell(r, mark), "" if under else clip(r.scope, 26), f"{r.size:,}",
                 f"{r.customers:,}", pct(r.share, 1), feeling(r.positive, r.negative), spark(r.trend),
                 rating(r.mean_rating), change(r.change))
        out.append((str(r.id), cells, r))
    return out


@dataclass(frozen=True)
class TreePage(Page):
    branches: dict[int, list[queries.ThemeRow]] = field(default_factory=dict)  # every parent's sub-themes


def theme_page(tree: queries.ThemeTree) -> TreePage:
    return TreePage(tree_rows([row for node in tree.nodes for row in node.shown]), tree.total,
                    {node.theme.id: node.subthemes for node in tree.nodes if node.subthemes})


PAGE = 100  # first-level themes per page


def page_fetch(data: DataSource, filt: queries.ThemeFilter, sort: str, descending: bool,
               expanded: frozenset[int]) -> Fetch:
    return lambda offset, limit: theme_page(queries.theme_tree(data.read(), filt, sort=sort, descending=descending,
                                                               limit=limit, offset=offset, expand=expanded))


@dataclass(frozen=True)
class ThemesStart:
    """What the Themes place shows first: the filter menus' options and the first page, largest first."""

    options: queries.FilterOptions
    page: TreePage


class ThemeTable(PagedTable):
    """The themes in tree order: pages of first-level themes, with the branches opened in between."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),
        Binding("right", "screen.expand", "Expand"),
        Binding("left", "screen.collapse", "Collapse"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.branches: dict[int, list[queries.ThemeRow]] = {}  # the loaded parents' sub-themes, open or not

    def apply(self, offset: int, page: Page) -> None:
        if isinstance(page, TreePage):
            self.branches = ({} if offset == 0 else self.branches) | page.branches
        super().apply(offset, page)

    @property
    def listed(self) -> list[queries.ThemeRow]:
        """The rows in the order they are shown."""
        return [self.records[str(row.key.value)] for row in self.ordered_rows]

    def under(self, row: queries.ThemeRow) -> bool:
        """The row is drawn as a sub-theme, inside its parent's open branch."""
        return row.parent_id is not None and str(row.parent_id) in self.records

    def is_open(self, row: queries.ThemeRow) -> bool:
        return any(r.parent_id == row.id for r in self.records.values())

    @property
    def paged_rows(self) -> int:
        return sum(1 for r in self.records.values() if not self.under(r))

    def relist(self, rows: list[queries.ThemeRow], cursor: int) -> None:
        """Show these rows (a branch opened or closed) keeping the view where it was, the cursor on `cursor`."""
        scrolled = self.scroll_y
        self.clear()
        self.records = {}
        for key, cells, record in tree_rows(rows):
            self.records[key] = record
            self.add_row(*cells, key=key)
        self.scroll_to(y=scrolled, animate=False, immediate=True)
        self.move_cursor(row=self.get_row_index(str(cursor)), animate=False)
        self.show_count()

    def open_branch(self, parent: int, subthemes: list[queries.ThemeRow]) -> None:
        rows = [r for r in self.listed if r.parent_id != parent or not self.under(r)]
        at = next(i for i, r in enumerate(rows) if r.id == parent) + 1
        self.relist(rows[:at] + subthemes + rows[at:], parent)

    def close_branch(self, parent: int) -> None:
        self.relist([r for r in self.listed if r.parent_id != parent or not self.under(r)], parent)


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
        self.expanded: set[int] = set()  # parents whose sub-themes the user opened
        self.start: ThemesStart | None = None  # read before the place was composed: shown as it mounts

    @staticmethod
    def first_data(data: DataSource) -> ThemesStart:
        page = page_fetch(data, queries.ThemeFilter(), "size", True, frozenset())(0, PAGE)
        assert isinstance(page, TreePage)
        return ThemesStart(data.filter_options(), page)

    def compose_body(self) -> ComposeResult:
        self.start = self.nav.first_data("themes")
        options = self.start.options if self.start else self.data.options_if_ready()
        self.have_options = options is not None
        with Vertical(id="themes"):
            with Horizontal(id="theme-filters", classes="filters"):
                for select_id, prompt in (("f-source", "source"), ("f-question", "question"), ("f-window", "window"),
                                          ("f-segment", "segment")):
                    yield Select(options_of(select_id, options), prompt=f"{prompt}: all", id=select_id, compact=True)
                yield Input(placeholder="label contains…", id="f-text", compact=True)
            yield Static("", id="themes-empty", classes="empty")
            table = ThemeTable(
                [Column("#", "id", 4), Column("theme", "theme", THEME_WIDTH), Column("scope", "scope", 26),
                 Column("docs", "size", 6), Column("cust.", "customers", 6), Column("share", "share", 6),
                 Column("+ / -", "sentiment", 11), Column("trend", "trend", 8),
                 Column("rating", "rating", 6), Column("change", "change", 10)],
                id="theme-table", page_size=PAGE,
            )
            table.border_title = "Themes"
            yield table

    @property
    def table(self) -> ThemeTable:
        return self.query_one(ThemeTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#themes-empty").display = False
        start, self.start = self.start, None
        if not self.have_options:
            self.run_query(self.data.filter_options, self.set_options, group="options")
        self.reload(start.page if start else None)
        self.set_focus(self.table)  # now: Widget.focus() waits for a later callback, and the footer with it

    def set_options(self, options: queries.FilterOptions) -> None:
        for select in self.query(Select):
            select.set_options(options_of(select.id or "", options))

    def reload(self, first: TreePage | None = None) -> None:
        sort, descending = self.sort, self.descending
        self.table.border_title = f"Themes · sorted by {sort} {'↓' if descending else '↑'}"
        self.table.load(page_fetch(self.data, self.filter, sort, descending, frozenset(self.expanded)), first)
        if first is not None:
            self.show_empty(first.total)

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        if event.table is self.table and event.first_page:
            self.show_empty(event.total)

    def show_empty(self, total: int) -> None:
        empty = self.query_one("#themes-empty", Static)
        if total == 0:
            narrowed = self.filter != queries.ThemeFilter()
            empty.update(Text("No theme matches these filters." if narrowed else
                              "No themes yet. Import feedback, then run: insight themes", style="bold"))
        empty.display = total == 0

    def on_screen_resume(self) -> None:
        if self.data_moved():
            self.reload()

    # ------------------------------------------------------------ filters and sorting

    def on_select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else str(event.value)
        field = {"f-source": "source", "f-question": "question", "f-window": "window", "f-segment": "segment"}.get(
            event.select.id or ""
        )
        if field and getattr(self.filter, field) != value:
            changes: dict[str, Any] = {field: value}  # a str field, named at run time
            self.filter = replace(self.filter, **changes)
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

    # ------------------------------------------------------------ the tree

    def action_expand(self) -> None:
        """Open the highlighted parent's branch (→ again steps into it). Its sub-themes came with its page."""
        table, row = self.table, self.table.current
        if row is None or table.under(row) or row.id not in table.branches:
            return
        if table.is_open(row):
            table.move_cursor(row=table.cursor_row + 1)
            return
        self.expanded.add(row.id)
        table.open_branch(row.id, table.branches[row.id])

    def action_collapse(self) -> None:
        """Close the highlighted parent's branch; on a sub-theme, go up to its parent."""
        table, row = self.table, self.table.current
        if row is None:
            return
        if table.under(row):
            table.move_cursor(row=table.get_row_index(str(row.parent_id)))
        elif table.is_open(row):
            self.expanded.discard(row.id)
            table.close_branch(row.id)

    # ------------------------------------------------------------ opening and editing

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        row = self.table.current
        if row is not None:
            self.nav.open_theme(row.id, self.filter)

    def current_theme(self) -> ThemeRef | None:
        row = self.table.current
        return ThemeRef(row.id, row.label, row.scope, row.level) if row else None

    def after_edit(self, message: str) -> None:
        self.notify(message)
        self.data_moved()
        self.reload()
