"""Customer text drawn by the TUI cannot act on the terminal: escape sequences and control characters are
removed before any widget draws it (an OSC in a survey answer set the window title, ESC[2J cleared it)."""

from __future__ import annotations

import io
import sqlite3

import pytest
from rich.console import Console
from textual.widgets import Static
from tui_snapshots.brand import build_small_brand, settle

from insight.analysis.queries import Quote, QuotePage, ThemeRow
from insight.core.safe_text import printable
from tui.app import InsightApp
from tui.screens.overview import themes_table
from tui.widgets.quotes import describe, quote_page

HOSTILE = "\x1b]0;pwned\x07Box came \x1b[2J\x1b[Hcrushed\x9b31m, \x07again\r\x00 [NAME] said\tso\nreally"
CLEAN = "Box came crushed, again\n [NAME] said\tso\nreally"  # a carriage return becomes a line break


def test_printable_strips_escape_sequences_and_controls_but_keeps_lines_and_tabs():
    assert printable(HOSTILE) == CLEAN
    assert printable("\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ and \x1b[38;5;196mred\x1b[0m") == "link and red"
    assert printable("café ✓ “quoted” — ok") == "café ✓ “quoted” — ok"
    assert printable("") == ""


def _quote(text: str) -> Quote:
    return Quote(1, 1, text, "survey", "2026-10-03T10:00:00+00:00", "Why?\x1b[2J", None, "t\x1b]2;x\x07", None,
                 "email:a\x1b[31m@example.com")


def test_quote_rows_and_preview_carry_no_escapes():
    preview = describe(_quote(HOSTILE)).plain
    assert "\x1b" not in preview and "\x07" not in preview and "Box came crushed" in preview
    (row,) = quote_page(QuotePage([_quote(HOSTILE)], 1, 0)).rows
    assert not any("\x1b" in cell or "\x9b" in cell for cell in row[1])


def test_overview_tables_show_labels_as_plain_text():
    theme = ThemeRow(1, "\x1b]0;t\x07[NAME] on the phone", "ticket", 3, 0.5, None, "new", "active", (1.0,))
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(themes_table(type("O", (), {"top_themes": [theme]})()))
    assert "[NAME] on the phone" in out.getvalue() and "\x1b" not in out.getvalue()


@pytest.mark.asyncio
async def test_the_document_screen_draws_a_hostile_answer_harmlessly(tmp_path):
    path = tmp_path / "brand.db"
    build_small_brand(path).conn.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE units SET text = ? WHERE id = 4", (HOSTILE,))
    conn.commit()
    conn.close()
    app = InsightApp(path, briefs_dir=tmp_path / "briefs")
    async with app.run_test(size=(160, 48)) as pilot:
        app.open_document(1, 4)
        await settle(pilot)
        drawn = [str(s.content) for s in app.screen.query(Static)]
        assert any("Box came crushed, again" in d for d in drawn)
        assert not any(c in d for d in drawn for c in ("\x1b", "\x07", "\x9b", "\x00"))
