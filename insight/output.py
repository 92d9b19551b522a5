"""Command output: one JSON object on stdout with --json, rich text otherwise; progress goes to stderr.

Text that came from files (customer words, file names, labels) is printed with `plain()`/`plain_line()`:
without terminal control characters (insight.safe_text.printable) and never read as Rich markup, so
'[bold red]…[/]' in a quote prints as typed and an unbalanced '[/]' cannot crash the command.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from insight.core.safe_text import printable, printable_line

console = Console()
err_console = Console(stderr=True)


def plain(text: object, style: str = "") -> Text:
    """Text from a file or the database, safe to print: control characters stripped, no markup."""
    return Text(printable(str(text) if text is not None else ""), style=style)


def plain_line(text: object, style: str = "") -> Text:
    """`plain` on one line (a table cell, a file name)."""
    return Text(printable_line(str(text) if text is not None else ""), style=style)


def line(*parts: str | Text | tuple[str, str]) -> Text:
    """A line built from our own words (str, or (str, style)) and plain() pieces, none read as markup."""
    return Text.assemble(*parts)


# JSON on stdout must encode: a lone surrogate (a file name that is not valid UTF-8) or a C1 control is
# written as its \u escape (json.dumps already escapes C0 controls).
_UNSAFE_IN_JSON = re.compile("[\ud800-\udfff\x7f-\x9f]")


def to_json(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, ensure_ascii=False, default=str)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit(payload: dict[str, Any], as_json: bool, render: Callable[[Console], None]) -> None:
    """Print the payload as one JSON object, or let `render` draw it for a person."""
    if as_json:
        click.echo(to_json(payload))
    else:
        render(console)


def print_error(message: str, as_json: bool) -> None:
    """An error as one JSON object on stdout ({"ok": false, "error": ...}) or one plain line on stderr."""
    if as_json:
        click.echo(to_json({"ok": False, "error": message}))
    else:
        err_console.print(line(("error:", "red"), " ", plain_line(message)), soft_wrap=True)


@contextmanager
def progress_bar(description: str, total: int | None, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields `update(completed)`. Silent when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda completed: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(escape(printable_line(description)), total=total)  # a file name: not markup
        yield lambda completed: progress.update(task, completed=completed)


def fail(message: str) -> click.ClickException:
    return click.ClickException(message)
