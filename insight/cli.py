"""The `insight` command: a thin layer that parses options and calls library functions."""

from __future__ import annotations

import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from insight.core.db import (
    DB_ENV_VAR,
    DEFAULT_DB,
    DatabaseUnavailable,
    database_error,
    default_db_path,
    is_locked,
)

# Command name -> the module that defines it (as a member of its COMMANDS list). Modules are imported only
# when their command runs, so `insight stats` does not pay for loading torch, spaCy and scipy.
COMMAND_MODULES: dict[str, str] = {
    "import": "insight.commands.imports",
    "segments": "insight.commands.segments",
    "customer": "insight.commands.segments",
    "themes": "insight.commands.themes",
    "links": "insight.commands.links",
    "brief": "insight.commands.links",
    "tui": "insight.commands.tui",
    "demo": "insight.commands.demo",
    "stats": "insight.commands.maintenance",
    "forget": "insight.commands.maintenance",
    "datasette-metadata": "insight.commands.maintenance",
    "sentiment": "insight.commands.sentiment",
}


# What `insight --help` lists, so listing the commands imports none of them (that took 3-7 s: spaCy, torch).
# tests/test_cli.py checks these against each command's own help.
COMMAND_SUMMARIES: dict[str, str] = {
    "brief": "Persona briefs: who a segment is, what they say, why they buy, what stops them.",
    "datasette-metadata": "Datasette's metadata.json for this database: tables, columns, search, facets.",
    "customer": "One customer: identifiers, orders, RFM scores and segment history, and their feedback.",
    "demo": "Import the bundled sample brand, compute everything, then browse it.",
    "forget": "Erase a customer with their orders and feedback.",
    "import": "Import feedback or orders from the files your tools export.",
    "links": "Which themes and survey answers over-index in which RFM segment.",
    "segments": "Compute an RFM snapshot and show its segments.",
    "sentiment": "Sentiment per mention: train a head on your own labelled sentences, or try it on a few texts.",
    "stats": "Row counts per table, and documents/units per source.",
    "themes": "Find the recurring themes in feedback, per survey question and source.",
    "tui": "Browse themes, quotes and segments; export persona briefs (keys: ? for help).",
}


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for --json (before a '--' that ends the options)."""
    args = list(args)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def error_message(exc: click.ClickException) -> str:
    """A click error on one line, naming the command ('insight segments: Invalid value for ...')."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        return f"{ctx.command_path}: {message} (see {ctx.command_path} --help)"
    return message


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and whose errors are one line (or, with
    --json, one JSON object on stdout): usage errors too, which click would print as usage text."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        from insight.output import print_error

        as_json = wants_json(argv)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            print_error(error_message(exc), as_json)
            sys.exit(exc.exit_code)
        except click.Abort:
            print_error("aborted", as_json)
            sys.exit(1)
        except Exception as exc:  # noqa: BLE001 - a bug: still one line / one JSON object, unless debugging
            if os.environ.get("INSIGHT_DEBUG"):
                raise
            print_error(f"internal error (a bug, please report it; INSIGHT_DEBUG=1 shows the traceback): "
                        f"{type(exc).__name__}: {exc}", as_json)
            sys.exit(70)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        """A database another process holds past the busy timeout (an import, `insight themes`) is one line
        naming it, from any command: SQLite's 'database is locked' is no bug of ours. So is a database that
        is missing or unusable (DatabaseUnavailable names the file)."""
        try:
            return super().invoke(ctx)
        except DatabaseUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
            path = (ctx.obj or {}).get("db_path") or default_db_path()
            raise click.ClickException(database_error(path, exc)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMAND_MODULES, *super().list_commands(ctx)})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMAND_SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMAND_MODULES:
            return super().get_command(ctx, name)
        module = importlib.import_module(COMMAND_MODULES[name])
        for command in module.COMMANDS:
            if command.name == name:
                return command
        raise RuntimeError(f"{COMMAND_MODULES[name]} does not define the command {name!r}")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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



def main() -> None:
    cli(prog_name="insight")


if __name__ == "__main__":
    main()
