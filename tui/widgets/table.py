"""A DataTable whose cells are plain text: customer words are never read as markup or escape sequences."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from insight.safe_text import printable


class Table(DataTable):
    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        """Cells are plain text, never Rich markup: a customer's "[/]" would otherwise crash the table and
        "[b]" restyle it; nor escape sequences, which would act on the terminal."""
        return super().add_row(*(Text(printable(cell), end="") if isinstance(cell, str) else cell for cell in cells),
                               **kwargs)
