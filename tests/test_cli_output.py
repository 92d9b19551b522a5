"""What the CLI prints: every error one line (one JSON object with --json), customer text never markup or
terminal control."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from insight.cli import cli

HOSTILE = "[bold red]LOUD[/] and [/] \x1b]0;pwned\x07title \x1b[2J\x1b[Hcleared"


@pytest.mark.parametrize(
    "args",
    [
        ["import", "survey", "x.csv", "--window", "bad"],
        ["import", "ticket", "x.csv", "--map", "order"],
        ["segments", "--as-of", "2026-13-45"],
        ["themes", "show", "999"],
        ["brief", "--segment", "Nope"],
        ["forget", "nobody@example.com", "--yes"],
        ["nosuch"],
    ],
)
def test_every_error_is_one_json_object_with_json(tmp_path, args):
    """Old code printed nothing on stdout for usage errors and ClickExceptions (click's usage text on stderr)."""
    from insight.core.db import open_db

    open_db(tmp_path / "x.db").close()  # each error is its own, not a missing database
    base = ["--db", str(tmp_path / "x.db")]
    result = CliRunner().invoke(cli, base + args + ["--json"])
    assert result.exit_code != 0
    [line] = result.stdout.splitlines()
    payload = json.loads(line)
    assert payload["ok"] is False and payload["error"]
    human = CliRunner().invoke(cli, base + args)
    assert human.exit_code == result.exit_code and human.stdout == ""
    [message] = human.stderr.splitlines()
    assert message.startswith("error: ")


def test_a_file_name_with_markup_prints_as_typed(tmp_path):
    """Old code: Rich MarkupError on '[/]' (a folder 'x [' holding '] reviews.csv') after the file's rows were
    committed, so the user was told it failed though data was written."""
    for folder, name in (("unbalanced [", "] reviews.csv"), ("plain", "[bold red]x reviews.csv"),
                         ("plain", "\x1b[2Jreviews.csv")):
        path = tmp_path / folder / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("Review Title,Review Body,Rating\nNice,Lovely balm,5\n,,4\n")  # line 3 is rejected
        result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "import", "review", str(path), "--no-redact"])
        assert result.exit_code == 0, result.output
        shown = "".join(result.stdout.split())  # Rich wraps long lines: compare without white space
        assert "".join(f"rejected {str(path).replace(chr(27) + '[2J', '')}, line 3".split()) in shown
        assert "\x1b" not in result.stdout


def test_customer_text_is_shown_as_text(tmp_path):
    """Old code rendered '[bold red]…[/]' as markup, crashed on the unbalanced '[/]', and passed an OSC title
    sequence and a clear-screen straight to the terminal."""
    path = tmp_path / "reviews.csv"
    path.write_text(f'Review Title,Review Body,Rating,Reviewer Email\nHi,"{HOSTILE}",5,jo@example.com\n')
    db = ["--db", str(tmp_path / "x.db")]
    assert CliRunner().invoke(cli, db + ["import", "review", str(path), "--no-redact"]).exit_code == 0
    result = CliRunner().invoke(cli, db + ["customer", "jo@example.com"])
    assert result.exit_code == 0, result.output
    assert "[bold red]LOUD[/] and [/] titletitle" not in result.stdout  # sanity: the text is not garbled
    assert "[boldred]LOUD[/]and[/]titlecleared" in "".join(result.stdout.split())
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    as_json = CliRunner().invoke(cli, db + ["customer", "jo@example.com", "--json"])
    assert json.loads(as_json.stdout)["feedback"][0]["units"][0]["text"] == HOSTILE  # JSON keeps it, escaped


def test_themes_show_prints_quotes_as_text(tmp_path, monkeypatch):
    """Old code crashed (MarkupError) on a quote with '[/]'."""
    from insight.analysis.queries import Quote, ThemeDetail
    from insight.commands import themes
    from insight.core.db import open_db

    quote = Quote(1, 1, HOSTILE, "review", None, None, None, None, None, None, external_id="r1")
    info = ThemeDetail(id=3, label="pump [/] broke", generated_label="pump [/] broke", scope="review",
                       keywords=["pump"], phrases=["[b]pump"], size=4, share=0.1, mean_rating=None, change="new",
                       status="active", merged_into=None, trend=[], representative=[quote], sources=[])
    monkeypatch.setattr(themes, "theme_detail", lambda db, theme_id: info)
    open_db(tmp_path / "x.db").close()
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "themes", "show", "3"])
    assert result.exit_code == 0, result.output
    assert "#3 pump [/] broke" in result.stdout and "[bold red]LOUD[/]" in result.stdout
    assert "\x1b" not in result.stdout


def test_a_file_name_that_is_not_utf8_is_one_json_error(tmp_path):
    """Old code: UnicodeEncodeError, a traceback and no JSON."""
    import os

    path = Path(os.fsdecode(bytes(tmp_path) + b"/reviews-\xff.csv"))
    path.write_text("Review Title,Review Body\nNice,Lovely\n")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "import", "review", str(path), "--json"])
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and "file name is not valid UTF-8" in payload["failed"][0]["error"]
    assert "reviews-\\udcff.csv" in result.stdout  # the name, escaped


@pytest.mark.parametrize("args", [["import", "orders", "orders/shopify_orders.csv"],
                                  ["import", "survey", "surveys/typeform.csv"]])
def test_a_database_another_process_holds_is_one_line_naming_it(tmp_path, fixtures, monkeypatch, args):
    """Old code: 'sqlite3.OperationalError: database is locked' as an internal error (exit 70) or a traceback."""
    import sqlite3

    from insight.core.db import open_db

    db_path = tmp_path / "held.db"
    open_db(db_path).close()
    monkeypatch.setattr("insight.core.db.BUSY_TIMEOUT_MS", 50)  # the real wait is 60 s
    args = [*args[:2], str(fixtures / args[2])]
    holder = sqlite3.connect(db_path, timeout=0.05)
    holder.execute("BEGIN IMMEDIATE")  # another insight process writing
    try:
        as_json = CliRunner().invoke(cli, ["--db", str(db_path), *args, "--json"])
        human = CliRunner().invoke(cli, ["--db", str(db_path), *args])
    finally:
        holder.rollback()
        holder.close()
    assert as_json.exit_code == 1 and json.loads(as_json.stdout) == {
        "ok": False, "error": f"{db_path}: the database is locked by another insight process (an import?); "
                              "try again when it ends"}
    assert human.exit_code == 1 and human.stdout == ""
    [message] = human.stderr.splitlines()
    assert message.startswith("error: ") and str(db_path) in message and "another insight process" in message
