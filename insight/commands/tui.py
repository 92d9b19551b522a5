"""`insight tui`: browse themes, quotes and segments in the terminal."""

from __future__ import annotations

from pathlib import Path

import click

from insight.commands.common import db_from_context
from insight.core.db import open_existing


def run_tui(db_path: Path, briefs_dir: Path = Path("briefs")) -> None:
    """Open the terminal UI on `db_path` (also called by `insight demo`)."""
    from tui.app import InsightApp

    InsightApp(Path(db_path), briefs_dir=briefs_dir).run()


@click.command("tui")
@click.option("--briefs", "briefs_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("briefs"),
              show_default=True, help="Where exported persona briefs are written.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Database to open (same as the global --db).")
@click.pass_context
def tui(ctx: click.Context, briefs_dir: Path, db_path: Path | None) -> None:
    """Browse themes, quotes and segments; export persona briefs (keys: ? for help)."""
    path = db_path or db_from_context(ctx)
    # The TUI only reads (mode=ro connections, which never create or migrate a file): a missing file is an
    # error here, and an old schema is migrated by a writer once, before any reader starts.
    open_existing(path).conn.close()
    run_tui(path, briefs_dir)


COMMANDS = [tui]
