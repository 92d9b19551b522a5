"""A DataTable that holds pages of rows loaded on demand in a worker: never the whole result set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.widgets import DataTable

from tui.asking import Asking
from tui.widgets.table import Table


@dataclass(frozen=True)
class Page:
    rows: list[tuple[str, Sequence[Any], Any]]  # (row key, cells, record)
    total: int


Fetch = Callable[[int, int], Page]  # (offset, limit) -> Page; runs in a worker thread


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    width: int | None = None


class PagedTable(Asking, Table):
    """Rows arrive a page at a time; moving the cursor near the end asks for the next page."""

    class Loaded(Message):
        def __init__(self, table: PagedTable, total: int, first_page: bool) -> None:
            super().__init__()
            self.table = table
            self.total = total
            self.first_page = first_page
            self.source = table.source  # the table has moved on to other rows when its own differs

        @property
        def stale(self) -> bool:
            return self.source != self.table.source

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, page_size: int = 100, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.columns_spec = list(columns)
        self.page_size = page_size
        self.records: dict[str, Any] = {}
        self.total: int | None = None
        self.fetch: Fetch | None = None
        self.source = 0  # counts the sources of rows loaded: a page asked for an older one is dropped

    def on_mount(self) -> None:
        for column in self.columns_spec:
            self.add_column(column.label, key=column.key, width=column.width)

    # ------------------------------------------------------------ loading

    def load(self, fetch: Fetch | None, first: Page | None = None) -> None:
        """Replace the source of rows and show its first page (`first`, when the caller already fetched it)."""
        self.fetch = fetch
        if first is None or fetch is None:
            self.reload()
            return
        self.source += 1
        self.forget("page")
        self.apply(0, first)

    def reload(self) -> None:
        self.source += 1
        self.total = None
        if self.fetch is None:
            self.forget("page")
            self.clear()
            self.records = {}
            self.border_subtitle = ""
            return
        self.request(0)

    def request(self, offset: int) -> None:
        fetch, limit = self.fetch, self.page_size
        assert fetch is not None
        self.ask("page", (self.source, offset), lambda: fetch(offset, limit), lambda page: self.apply(offset, page),
                 self.failed)

    def failed(self, error: Exception) -> None:
        self.border_subtitle = "error"
        self.notify(f"Could not load rows: {error}", severity="error", timeout=8)

    def apply(self, offset: int, page: Page) -> None:
        if offset == 0:
            self.clear()
            self.records = {}
        fresh = [(key, cells, record) for key, cells, record in page.rows if key not in self.records]
        for key, cells, record in fresh:
            self.records[key] = record
            self.add_row(*cells, key=key)
        self.total = page.total
        self.show_count()
        self.post_message(self.Loaded(self, page.total, offset == 0))

    def show_count(self) -> None:
        self.border_subtitle = f"{self.paged_rows:,} of {self.total:,}" if self.total else "none"

    @property
    def paged_rows(self) -> int:
        """Rows of the paged result loaded so far: the offset of the next page (a table that shows more
        rows than its pages hold, such as a tree's opened branches, counts only its own)."""
        return self.row_count

    @property
    def has_more(self) -> bool:
        return self.total is not None and self.paged_rows < self.total

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        near_end = event.cursor_row >= self.row_count - 5
        if event.data_table is self and near_end and self.has_more and self.wanted("page") is None:
            self.request(self.paged_rows)

    # ------------------------------------------------------------ the highlighted row

    @property
    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - cursor outside the rows
            return None

    @property
    def current(self) -> Any | None:
        key = self.current_key
        return self.records.get(key) if key is not None else None
