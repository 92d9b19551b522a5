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


def _invoke(db_path, *args):
    import json

    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["--db", str(db_path), "import", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_import_exits_non_zero_when_a_file_with_records_gave_nothing(tmp_path):
    """Every import kind: all records rejected is a failure (exit 1, "ok": false); a re-import whose
    records are all duplicates is a success."""
    import csv
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    rows = list(csv.reader((fixtures / "orders" / "woocommerce_orders.csv").open(newline="", encoding="utf-8")))
    for row in rows[1:]:
        row[2] = "sometime"  # Order Date
    bad = tmp_path / "orders.csv"
    with bad.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    db_path = tmp_path / "insight.core.db"
    code, payload = _invoke(db_path, "orders", str(bad))
    assert code == 1 and payload["ok"] is False
    assert payload["failed"][0]["error"].startswith(f"{bad}: nothing imported: all 7 records rejected (first: line 2:")
    good = str(fixtures / "orders" / "woocommerce_orders.csv")
    assert _invoke(db_path, "orders", good)[0] == 0
    code, payload = _invoke(db_path, "orders", good)
    assert code == 0 and payload["ok"] is True and payload["totals"]["duplicates"] > 0


def test_nothing_imported_reasons():
    from ingest.errors import Rejected
    from ingest.model import ImportSummary
    from insight.commands.imports import nothing_imported

    def summary(rows, imported=0, duplicates=0, rejected=()):
        return ImportSummary("f.csv", "review", "csv", 1, rows, imported, 0, duplicates, list(rejected))

    assert nothing_imported(summary(0)) is None  # nothing to import is not a failure of the import
    assert nothing_imported(summary(3, imported=1, rejected=[Rejected("line 2", "bad")])) is None
    assert nothing_imported(summary(3, duplicates=3)) is None
    assert nothing_imported(summary(2, rejected=[Rejected("line 2", "rating 9 is not on a 1-5 scale")] * 2)) == (
        "f.csv: nothing imported: all 2 records rejected (first: line 2: rating 9 is not on a 1-5 scale)")
    assert nothing_imported(summary(4)) == "f.csv: nothing imported: none of its 4 records had content to store"
