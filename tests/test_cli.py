"""The command line's own behaviour: listing commands stays cheap and matches the commands."""

import subprocess
import sys

import click

from insight.cli import COMMAND_MODULES, COMMAND_SUMMARIES, cli


def test_every_command_has_a_summary_that_matches_its_help():
    assert set(COMMAND_SUMMARIES) == set(COMMAND_MODULES)
    ctx = click.Context(cli)
    for name, summary in COMMAND_SUMMARIES.items():
        own = cli.get_command(ctx, name).get_short_help_str(limit=200)
        assert own.split()[:3] == summary.split()[:3], name


def test_listing_the_commands_imports_none_of_them():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from insight.cli import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0 and 'segments' in result.output, result.output\n"
        "print(sorted(m for m in sys.modules if m.startswith('insight.commands.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
