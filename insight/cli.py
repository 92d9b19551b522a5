"""The `insight` command: a thin layer that parses options and calls library functions."""

from __future__ import annotations

from pathlib import Path

import click

from insight.commands import demo, imports, links, maintenance, segments, themes, tui
from insight.db import DB_ENV_VAR, DEFAULT_DB


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=DB_ENV_VAR,
    default=DEFAULT_DB,
    show_default=True,
    help=f"SQLite database file (or set ${DB_ENV_VAR}).",
)
@click.version_option(package_name="insight")
@click.pass_context
def cli(ctx: click.Context, db_path: Path) -> None:
    """insight: turn what customers say into themes, tied to what they do.

    \b
    Typical flow for a 30-day window:
      insight import orders orders_export.csv
      insight import survey typeform.csv --window 2026-10-01..2026-10-31
      insight segments                 # RFM snapshot as of today
      insight themes                   # embed + cluster feedback into themes
      insight links                    # which themes over-index in which segment
      insight brief --all --out briefs/
      insight tui                      # browse it all
    """
    ctx.obj = {"db_path": db_path}


# Each command module exposes COMMANDS; add a module here to add its commands.
for module in (imports, maintenance, demo, tui, links, themes, segments):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="insight")


if __name__ == "__main__":
    main()
