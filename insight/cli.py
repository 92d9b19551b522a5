"""The `insight` command: a thin layer that parses options and calls library functions."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from insight.db import DB_ENV_VAR, DEFAULT_DB

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
    "sentiment": "insight.commands.sentiment",
}


# What `insight --help` lists, so listing the commands imports none of them (that took 3-7 s: spaCy, torch).
# tests/test_cli.py checks these against each command's own help.
COMMAND_SUMMARIES: dict[str, str] = {
    "brief": "Persona briefs: who a segment is, what they say, why they buy, what stops them.",
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


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

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
